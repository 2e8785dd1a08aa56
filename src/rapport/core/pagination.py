"""Keyset (cursor) pagination shared by every list: no OFFSET, stable under inserts."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q, QuerySet

from rapport.core.errors import ValidationFailed

PAGE_SIZE = 50
MAX_PAGE_SIZE = 200


@dataclass
class Page:
    items: list[Any]
    next_cursor: str | None
    filters: dict[str, Any] = field(default_factory=dict)


def encode_cursor(values: list[Any]) -> str:
    """An opaque cursor: the sort values of the last row, as base64 JSON."""
    raw = json.dumps([v.isoformat() if hasattr(v, "isoformat") else v for v in values])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, size: int) -> list[Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, json.JSONDecodeError):
        raise ValidationFailed({"cursor": "is not a cursor this server issued"}) from None
    if not isinstance(values, list) or len(values) != size:
        raise ValidationFailed({"cursor": "is not a cursor this server issued"})
    return values


def keyset(queryset: QuerySet, fields: tuple[str, ...], descending: bool,
           cursor: str | None) -> QuerySet:
    """Order by ``fields`` and, given a cursor, keep only the rows after it."""
    if cursor:
        values = decode_cursor(cursor, len(fields))
        op = "lt" if descending else "gt"
        condition = Q()
        for i, name in enumerate(fields):
            prefix = {fields[j]: values[j] for j in range(i)}
            condition |= Q(**prefix, **{f"{name}__{op}": values[i]})
        queryset = queryset.filter(condition)
    return queryset.order_by(*[f"-{f}" if descending else f for f in fields])


def page_of(queryset: QuerySet, fields: tuple[str, ...], limit: int,
            filters: dict | None = None) -> Page:
    """Fetch one page (one query, plus prefetches) and the cursor for the next."""
    rows = list(queryset[: limit + 1])
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = encode_cursor([getattr(rows[-1], f) for f in fields])
    return Page(items=rows, next_cursor=next_cursor, filters=filters or {})


def page_limit(params: dict[str, Any]) -> int:
    try:
        limit = min(int(params.get("limit", PAGE_SIZE)), MAX_PAGE_SIZE)
    except (TypeError, ValueError):
        raise ValidationFailed({"limit": "must be a number"}) from None
    if limit < 1:
        raise ValidationFailed({"limit": "must be at least 1"})
    return limit
