"""/api/v1/articles: the knowledge base's articles and FAQ entries (list, create, read,
change with the version you read — a stale one gets 409 — and delete), and its categories."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from rapport.core.api_schemas import ERRORS, WRITE_ERRORS
from rapport.core.inputs import Text
from rapport.support import selectors, services
from rapport.support.inputs import ArticleCategoryInput, ArticleInput, ArticlePatch

router = Router(tags=["knowledge base"])


class ArticleOut(Schema):
    id: int
    title: str
    slug: str
    body: str
    category_id: int | None
    status: str
    is_faq: bool
    published_at: dt.datetime | None
    helpful_yes: int
    helpful_no: int
    url: str
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime

    @staticmethod
    def resolve_url(obj) -> str:
        return f"/help/{obj.slug}/"


class ArticlePage(Schema):
    items: list[ArticleOut]
    next_cursor: str | None


class ArticleFilters(Schema):
    status: Annotated[str, Text(16)] | None = Field(None, description="draft or published")
    category: int | None = Field(None, description="a category id")
    faq: bool | None = Field(None, description="FAQ entries only (true) or articles (false)")
    q: Annotated[str, Text(200)] | None = Field(None, description="part of the title or slug")
    cursor: str | None = None
    limit: int = Field(50, ge=1, le=200)


class CategoryOut(Schema):
    id: int
    name: str
    slug: str


@router.get("/articles", response={200: ArticlePage, **ERRORS})
def list_articles(request: HttpRequest, filters: Query[ArticleFilters]):
    params = filters.model_dump()
    if params.get("faq") is not None:
        params["faq"] = "1" if params["faq"] else "0"
    page = selectors.article_list(user=request.user, params=params)
    return {"items": page.items, "next_cursor": page.next_cursor}


@router.post("/articles", response={201: ArticleOut, **ERRORS})
def create_article(request: HttpRequest, payload: ArticleInput):
    return Status(201, services.article_create(actor=request.user, data=payload))


@router.get("/articles/{int:article_id}", response={200: ArticleOut, **ERRORS})
def get_article(request: HttpRequest, article_id: int):
    return selectors.article_get(user=request.user, article_id=article_id)


@router.patch("/articles/{int:article_id}", response={200: ArticleOut, **WRITE_ERRORS})
def update_article(request: HttpRequest, article_id: int, payload: ArticlePatch):
    changes = payload.model_dump(exclude_unset=True)
    changes.pop("version", None)
    return services.article_update(actor=request.user, article_id=article_id,
                                   version=payload.version, changes=changes)


@router.delete("/articles/{int:article_id}", response={204: None, **ERRORS})
def delete_article(request: HttpRequest, article_id: int):
    services.article_delete(actor=request.user, article_id=article_id)
    return Status(204, None)


@router.get("/article-categories", response={200: list[CategoryOut], **ERRORS})
def list_categories(request: HttpRequest):
    return selectors.article_categories()


@router.post("/article-categories", response={201: CategoryOut, **ERRORS})
def create_category(request: HttpRequest, payload: ArticleCategoryInput):
    return Status(201, services.category_create(actor=request.user, data=payload))
