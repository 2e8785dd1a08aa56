"""Plain multi-row INSERTs for bulk writers (imports, the demo): no per-row ORM compile.

``QuerySet.bulk_create`` builds every row through the query compiler (a model instance, then
``pre_save`` and ``get_db_prep_save`` for each field); at tens of thousands of rows that costs
more than the database's own work. A bulk service that has already checked its values passes
them here as tuples in column order, and they go out as ``INSERT ... VALUES (...), (...)``
statements as large as the database allows.

Values must already be what the column holds (ints, str, Decimal, aware datetimes, JSON-able
data): only datetimes, decimals and JSON are adapted for the database, as Django would.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from django.db import connection, models

# At most this many rows per statement (PostgreSQL takes up to 65,535 parameters; SQLite its
# compiled-in limit, 32,766 here, which ``max_query_params`` reports).
MAX_ROWS_PER_STATEMENT = 2000


def _adapter(field: models.Field) -> Callable[[Any], Any] | None:
    """How a column's values become query parameters (None: as they are)."""
    ops = connection.ops
    if isinstance(field, models.JSONField):
        return lambda value: field.get_db_prep_save(value, connection)
    if isinstance(field, models.DecimalField):
        return lambda value: ops.adapt_decimalfield_value(value, field.max_digits,
                                                          field.decimal_places)
    if not isinstance(field, models.DateTimeField):
        return None
    # Bulk rows repeat the same moments over and over: adapt each one once.
    seen: dict[Any, Any] = {}

    def adapt(value: Any) -> Any:
        try:
            return seen[value]
        except KeyError:
            seen[value] = prepared = ops.adapt_datetimefield_value(value)
            return prepared

    return adapt


def insert_rows(model: type[models.Model], columns: Sequence[str],
                rows: Iterable[Sequence[Any]], *, skip_conflicts_on: str | None = None,
                returning: Sequence[str] = ()) -> list[tuple]:
    """Insert ``rows`` (tuples in ``columns`` order) into ``model``'s table.

    ``skip_conflicts_on`` names a unique column: rows that would repeat a value already there
    are left out (``ON CONFLICT DO NOTHING``) instead of failing the transaction.
    ``returning`` lists columns to read back from the rows actually inserted (in no promised
    order: return a key with the id when the caller must match them up).
    """
    meta = model._meta
    fields: list[Any] = [meta.get_field(name) for name in columns]
    quote = connection.ops.quote_name
    names = ", ".join(quote(field.column) for field in fields)
    tail = ""
    if skip_conflicts_on:
        conflict: Any = meta.get_field(skip_conflicts_on)
        tail += f" ON CONFLICT ({quote(conflict.column)}) DO NOTHING"
    if returning:
        back: list[Any] = [meta.get_field(name) for name in returning]
        tail += " RETURNING " + ", ".join(quote(field.column) for field in back)
    adapters = [_adapter(field) for field in fields]
    limit = connection.features.max_query_params or 65535
    per_statement = max(1, min(MAX_ROWS_PER_STATEMENT, limit // len(fields)))
    one_row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    found: list[tuple] = []
    pending: list[Any] = []
    count = 0

    def flush() -> None:
        nonlocal pending, count
        if not count:
            return
        # Table and column names come from the model, never from input.
        sql = (f"INSERT INTO {quote(meta.db_table)} ({names}) VALUES "  # noqa: S608
               + ", ".join([one_row] * count) + tail)
        with connection.cursor() as cursor:
            cursor.execute(sql, pending)
            if returning:
                found.extend(cursor.fetchall())
        pending, count = [], 0

    adapted = [(i, adapt) for i, adapt in enumerate(adapters) if adapt is not None]
    for row in rows:
        if len(row) != len(fields):
            raise ValueError(f"a row of {len(row)} values for {len(fields)} columns")
        if adapted:
            row = list(row)
            for i, adapt in adapted:
                row[i] = adapt(row[i])
        pending.extend(row)
        count += 1
        if count >= per_statement:
            flush()
    flush()
    return found
