"""Migration helpers for SQL that only one database vendor understands."""

from __future__ import annotations

from django.db import migrations


def vendor_sql(vendor: str, forward: list[str], backward: list[str]) -> migrations.RunPython:
    """Run ``forward`` (undo with ``backward``) on ``vendor`` only; a no-op elsewhere."""

    def run(statements):
        def apply(apps, schema_editor):
            if schema_editor.connection.vendor == vendor:
                for sql in statements:
                    schema_editor.execute(sql)

        return apply

    return migrations.RunPython(run(forward), run(backward))


def drop_single_column_indexes(table: str, columns: list[str]) -> migrations.RunPython:
    """Drop the plain one-column indexes on these columns (what ``db_index=True`` and foreign
    keys create, under generated names), found by looking at the database.

    For migrations that drop such indexes as a database operation beside an ``AlterField``
    state change: on SQLite an ``AlterField`` rebuilds the whole table (minutes at a million
    rows) and loses the search triggers on it; dropping an index does neither.
    """

    def forward(apps, schema_editor):
        connection = schema_editor.connection
        with connection.cursor() as cursor:
            found = connection.introspection.get_constraints(cursor, table)
        for name, info in found.items():
            if (info["index"] and not info["unique"] and not info["primary_key"]
                    and info["columns"] in ([column] for column in columns)
                    and info.get("type") in (None, "idx", "btree")):
                schema_editor.execute(schema_editor.sql_delete_index % {
                    "table": schema_editor.quote_name(table),
                    "name": schema_editor.quote_name(name)})

    return migrations.RunPython(forward, migrations.RunPython.noop)
