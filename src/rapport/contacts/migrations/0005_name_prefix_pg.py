"""PostgreSQL: pattern indexes so "names starting with ..." (ISTARTSWITH) avoid a scan."""

from django.db import migrations

from rapport.core.migration_ops import vendor_sql

FORWARD = [
    "CREATE INDEX IF NOT EXISTS contact_last_name_upper_pattern ON contacts_contact "
    "(UPPER(last_name::text) text_pattern_ops)",
    "CREATE INDEX IF NOT EXISTS contact_first_name_upper_pattern ON contacts_contact "
    "(UPPER(first_name::text) text_pattern_ops)",
]
BACKWARD = ["DROP INDEX IF EXISTS contact_last_name_upper_pattern",
            "DROP INDEX IF EXISTS contact_first_name_upper_pattern"]


class Migration(migrations.Migration):
    dependencies = [("contacts", "0004_company_search_trgm")]
    operations = [vendor_sql("postgresql", FORWARD, BACKWARD)]
