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
