"""/api/v1/search: the one search box, as an API."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from rapport.core.api_schemas import ERRORS
from rapport.core.registry import SearchHit
from rapport.core.search import search_everything

router = Router(tags=["search"])


class SearchOut(Schema):
    results: list[SearchHit]


class SearchParams(Schema):
    q: str = Field(..., max_length=200, description="name, email, phone (any format) or company")
    limit: int = Field(20, ge=1, le=50)


@router.get("/search", response={200: SearchOut, **ERRORS})
def search(request: HttpRequest, params: Query[SearchParams]):
    return {"results": search_everything(user=request.user, q=params.q, limit=params.limit)}
