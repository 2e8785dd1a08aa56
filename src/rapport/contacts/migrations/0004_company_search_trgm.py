"""PostgreSQL: trigram indexes for company name/domain search (ICONTAINS uses UPPER(...))."""

from django.db import migrations

FORWARD = [
    "CREATE INDEX IF NOT EXISTS company_name_upper_trgm ON contacts_company "
    "USING gin (UPPER(name) gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS company_domain_upper_trgm ON contacts_company "
    "USING gin (UPPER(domain) gin_trgm_ops)",
]
BACKWARD = ["DROP INDEX IF EXISTS company_name_upper_trgm",
            "DROP INDEX IF EXISTS company_domain_upper_trgm"]


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for sql in FORWARD:
            schema_editor.execute(sql)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for sql in BACKWARD:
            schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("contacts", "0003_name_words")]
    operations = [migrations.RunPython(forward, backward)]
