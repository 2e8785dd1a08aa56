"""Keyset (cursor) pagination shared by every list: no OFFSET, stable under inserts.

A page after a cursor is ``WHERE (a, b, id) > (?, ?, ?) ORDER BY a, b, id LIMIT n``: a
row-value comparison, which both SQLite and PostgreSQL answer by seeking the index straight to
the cursor (the equivalent ``a > ? OR (a = ? AND b > ?) …`` made SQLite walk the index from
its start, 100-230 ms for a cursor in the middle of a million people).

Cursors are signed (HMAC with the secret key): a forged or edited cursor is a 422 naming
``cursor``, never a query with values nobody issued.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.core import signing
from django.core.exceptions import ValidationError
from django.db.models import F, QuerySet
from django.db.models.fields.tuple_lookups import Tuple, TupleGreaterThan, TupleLessThan

from rapport.core.errors import ValidationFailed

PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
CURSOR_SALT = "rapport.pagination.cursor"
NOT_OURS = "is not a cursor this server issued"


@dataclass
class Page:
    items: list[Any]
    next_cursor: str | None
    filters: dict[str, Any] = field(default_factory=dict)


def encode_cursor(values: list[Any]) -> str:
    """An opaque, signed cursor: the sort values of the last row."""
    return signing.dumps([v.isoformat() if hasattr(v, "isoformat") else v for v in values],
                         salt=CURSOR_SALT, compress=True)


def decode_cursor(cursor: str, size: int) -> list[Any]:
    """The values inside a cursor this server issued; ValidationFailed naming ``cursor``."""
    try:
        values = signing.loads(cursor, salt=CURSOR_SALT)
    except (signing.BadSignature, ValueError, TypeError):
        raise ValidationFailed({"cursor": NOT_OURS}) from None
    if not isinstance(values, list) or len(values) != size:
        raise ValidationFailed({"cursor": NOT_OURS})
    return values


def _typed(queryset: QuerySet, fields: tuple[str, ...], values: list[Any]) -> list[Any]:
    """Each value as its column's type (a cursor is JSON: dates come back as text)."""
    out = []
    for name, value in zip(fields, values, strict=True):
        model_field = queryset.model._meta.get_field(name)
        try:
            out.append(model_field.to_python(value))
        except ValidationError:
            raise ValidationFailed({"cursor": NOT_OURS}) from None
        if out[-1] is None:
            raise ValidationFailed({"cursor": NOT_OURS})
    return out


def keyset(queryset: QuerySet, fields: tuple[str, ...], descending: bool,
           cursor: str | None) -> QuerySet:
    """Order by ``fields`` (the last one unique, e.g. ``id``) and, given a cursor, keep only
    the rows after it."""
    if cursor:
        values = _typed(queryset, fields, decode_cursor(cursor, len(fields)))
        after = TupleLessThan if descending else TupleGreaterThan
        queryset = queryset.filter(after(Tuple(*(F(name) for name in fields)), values))
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
