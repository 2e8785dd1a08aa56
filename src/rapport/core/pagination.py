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
from django.db import connections
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
           cursor: str | None, *, lead: tuple[str, ...] = ()) -> QuerySet:
    """Order by ``fields`` (the last one unique, e.g. ``id``) and, given a cursor, keep only
    the rows after it.

    ``lead`` names columns the query holds constant (``owner_id`` in one owner's list): they
    lead the ORDER BY too, which changes no row's place but leaves only the (owner, ...)
    index able to give the order, so no planner can prefer walking another one.
    """
    if cursor:
        values = _typed(queryset, fields, decode_cursor(cursor, len(fields)))
        after = TupleLessThan if descending else TupleGreaterThan
        queryset = queryset.filter(after(Tuple(*(F(name) for name in fields)), values))
    return queryset.order_by(*[f"-{f}" if descending else f for f in (*lead, *fields)])


def page_of(queryset: QuerySet, fields: tuple[str, ...], limit: int,
            filters: dict | None = None) -> Page:
    """Fetch one page (one query, plus prefetches) and the cursor for the next."""
    rows = list(queryset[: limit + 1])
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = encode_cursor([getattr(rows[-1], f) for f in fields])
    return Page(items=rows, next_cursor=next_cursor, filters=filters or {})


def merged_page(branches: list[QuerySet], fields: tuple[str, ...], descending: bool,
                cursor: str | None, limit: int, *, load: Any, lead: tuple[str, ...] = (),
                filters: dict | None = None) -> Page:
    """One page across several lists each already in order (one per owner, say).

    Each branch reads at most ``limit + 1`` rows through its own index, in one UNION ALL
    statement; ``load(ids)`` then fetches the chosen rows in full. However big a branch is,
    the page costs the same two queries (a team's list without sorting 300,000 rows).
    """
    if not branches:
        return Page(items=[], next_cursor=None, filters=filters or {})
    parts: list[str] = []
    params: list[Any] = []
    for branch in branches:
        sql, branch_params = (keyset(branch, fields, descending, cursor, lead=lead)
                              .values_list(*fields)[: limit + 1].query.sql_with_params())
        # Django compiled it; the values are bound parameters.
        parts.append(f"SELECT * FROM ({sql}) AS branch_{len(parts)}")  # noqa: S608
        params.extend(branch_params)
    direction = "DESC" if descending else "ASC"
    order = ", ".join(f"{i} {direction}" for i in range(1, len(fields) + 1))
    with connections[branches[0].db].cursor() as db_cursor:
        db_cursor.execute(f"{' UNION ALL '.join(parts)} ORDER BY {order} LIMIT %s",  # noqa: S608
                          [*params, limit + 1])
        keys = db_cursor.fetchall()
    ids = [key[-1] for key in keys[:limit]]
    by_id = {row.pk: row for row in load(ids)}
    items = [by_id[i] for i in ids if i in by_id]
    # The cursor from the loaded row, whose values are typed (raw rows hold text on SQLite).
    next_cursor = (encode_cursor([getattr(items[-1], f) for f in fields])
                   if len(keys) > limit and items else None)
    return Page(items=items, next_cursor=next_cursor, filters=filters or {})


def page_limit(params: dict[str, Any]) -> int:
    try:
        limit = min(int(params.get("limit", PAGE_SIZE)), MAX_PAGE_SIZE)
    except (TypeError, ValueError):
        raise ValidationFailed({"limit": "must be a number"}) from None
    if limit < 1:
        raise ValidationFailed({"limit": "must be at least 1"})
    return limit


def id_param(params: dict[str, Any], name: str, what: str) -> int | None:
    """A record id given as a list filter (``?stage=3``): None when absent, 422 naming the
    filter when it is not a positive id a database column can hold."""
    if params.get(name) in (None, ""):
        return None
    try:
        value = int(params[name])
    except (TypeError, ValueError):
        raise ValidationFailed({name: f"must be {what}"}) from None
    if not 0 < value < 2**63:
        raise ValidationFailed({name: f"must be {what}"})
    return value

