"""Writes for people, companies, custom fields, tags and saved views, one module per concern."""

from rapport.contacts.services.companies import (
    company_create,
    company_delete,
    company_restore,
    company_snapshot,
    company_update,
)
from rapport.contacts.services.fields import (
    custom_field_define,
    custom_field_delete,
    custom_field_update,
)
from rapport.contacts.services.people import (
    contact_add_preference,
    contact_create,
    contact_delete,
    contact_note_add,
    contact_restore,
    contact_snapshot,
    contact_update,
    contacts_bulk_assign,
    contacts_bulk_delete,
    contacts_bulk_tag,
)
from rapport.contacts.services.saved_views import saved_view_create, saved_view_delete
from rapport.contacts.services.tags import tag_create, tag_delete, tag_rename

__all__ = [
    "company_create", "company_delete", "company_restore", "company_snapshot", "company_update",
    "contact_add_preference", "contact_create", "contact_delete", "contact_note_add",
    "contact_restore", "contact_snapshot", "contact_update", "contacts_bulk_assign",
    "contacts_bulk_delete", "contacts_bulk_tag", "custom_field_define", "custom_field_delete",
    "custom_field_update", "saved_view_create", "saved_view_delete", "tag_create", "tag_delete",
    "tag_rename",
]
