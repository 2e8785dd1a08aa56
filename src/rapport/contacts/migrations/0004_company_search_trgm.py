"""PostgreSQL: trigram indexes for company name/domain search (ICONTAINS uses UPPER(...))."""

from django.db import migrations

from rapport.core.migration_ops import vendor_sql

FORWARD = [
    "CREATE INDEX IF NOT EXISTS company_name_upper_trgm ON contacts_company "
    "USING gin (UPPER(name) gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS company_domain_upper_trgm ON contacts_company "
    "USING gin (UPPER(domain) gin_trgm_ops)",
]
BACKWARD = ["DROP INDEX IF EXISTS company_name_upper_trgm",
            "DROP INDEX IF EXISTS company_domain_upper_trgm"]


class Migration(migrations.Migration):
    dependencies = [("contacts", "0003_name_words")]
    operations = [vendor_sql("postgresql", FORWARD, BACKWARD)]
