"""SQLite: an FTS5 trigram index over company names and domains, kept by triggers.

Company search used ``LIKE '%q%'`` over every company (about 50 ms at 50,000 companies);
PostgreSQL has trigram GIN indexes for the same (migration 0004). Note for later migrations:
SQLite rebuilds a table to alter a column, which drops these triggers; recreate them after.
"""

from django.db import migrations

from rapport.core.migration_ops import vendor_sql

FORWARD = [
    "CREATE VIRTUAL TABLE company_fts USING fts5(name, domain, content='contacts_company', "
    "content_rowid='id', tokenize='trigram')",
    "CREATE TRIGGER company_fts_ai AFTER INSERT ON contacts_company BEGIN "
    "INSERT INTO company_fts(rowid, name, domain) VALUES (new.id, new.name, new.domain); END",
    "CREATE TRIGGER company_fts_ad AFTER DELETE ON contacts_company BEGIN "
    "INSERT INTO company_fts(company_fts, rowid, name, domain) "
    "VALUES ('delete', old.id, old.name, old.domain); END",
    "CREATE TRIGGER company_fts_au AFTER UPDATE OF name, domain ON contacts_company BEGIN "
    "INSERT INTO company_fts(company_fts, rowid, name, domain) "
    "VALUES ('delete', old.id, old.name, old.domain); "
    "INSERT INTO company_fts(rowid, name, domain) VALUES (new.id, new.name, new.domain); END",
    "INSERT INTO company_fts(company_fts) VALUES ('rebuild')",
]
BACKWARD = [
    "DROP TRIGGER IF EXISTS company_fts_au",
    "DROP TRIGGER IF EXISTS company_fts_ad",
    "DROP TRIGGER IF EXISTS company_fts_ai",
    "DROP TABLE IF EXISTS company_fts",
]


class Migration(migrations.Migration):
    dependencies = [("contacts", "0006_choices_from_models")]
    operations = [vendor_sql("sqlite", FORWARD, BACKWARD)]
