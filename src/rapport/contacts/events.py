"""The events contacts records: one kind constant and one builder per kind.

Kinds with a ``timeline`` partial show on the person's timeline (the partial gets the event as
``e``, with ``e.changes`` for edits).
"""

from __future__ import annotations

from typing import Any

from rapport.core.events import EventKind, NewEvent

CONTACT_CREATED = EventKind("contact.created", "Contact created",
                            "contacts/timeline/contact_created.html")
CONTACT_UPDATED = EventKind("contact.updated", "Contact edited",
                            "contacts/timeline/contact_updated.html")
CONTACT_DELETED = EventKind("contact.deleted", "Contact deleted",
                            "contacts/timeline/contact_deleted.html")
CONTACT_RESTORED = EventKind("contact.restored", "Contact restored",
                             "contacts/timeline/contact_restored.html")
NOTE_ADDED = EventKind("note.added", "Note", "contacts/timeline/note_added.html")
COMPANY_CREATED = EventKind("company.created", "Company created")
COMPANY_UPDATED = EventKind("company.updated", "Company edited")
COMPANY_DELETED = EventKind("company.deleted", "Company deleted")
COMPANY_RESTORED = EventKind("company.restored", "Company restored")
CUSTOM_FIELD_CREATED = EventKind("custom_field.created", "Custom field added")
CUSTOM_FIELD_UPDATED = EventKind("custom_field.updated", "Custom field changed")
CUSTOM_FIELD_DELETED = EventKind("custom_field.deleted", "Custom field removed")
TAG_CREATED = EventKind("tag.created", "Tag created")
TAG_RENAMED = EventKind("tag.renamed", "Tag renamed")
TAG_DELETED = EventKind("tag.deleted", "Tag deleted")

KINDS = [CONTACT_CREATED, CONTACT_UPDATED, CONTACT_DELETED, CONTACT_RESTORED, NOTE_ADDED,
         COMPANY_CREATED, COMPANY_UPDATED, COMPANY_DELETED, COMPANY_RESTORED,
         CUSTOM_FIELD_CREATED, CUSTOM_FIELD_UPDATED, CUSTOM_FIELD_DELETED,
         TAG_CREATED, TAG_RENAMED, TAG_DELETED]

Snapshot = dict[str, Any]


def contact_created(*, contact_id: int, actor_id: int | None, snapshot: Snapshot) -> NewEvent:
    return NewEvent(kind=CONTACT_CREATED.name, entity_type="contact", entity_id=contact_id,
                    contact_id=contact_id, actor_id=actor_id, after=snapshot)


def contact_updated(*, contact_id: int, actor_id: int | None, before: Snapshot,
                    after: Snapshot) -> NewEvent:
    return NewEvent(kind=CONTACT_UPDATED.name, entity_type="contact", entity_id=contact_id,
                    contact_id=contact_id, actor_id=actor_id, before=before, after=after)


def contact_deleted(*, contact_id: int, actor_id: int | None) -> NewEvent:
    return NewEvent(kind=CONTACT_DELETED.name, entity_type="contact", entity_id=contact_id,
                    contact_id=contact_id, actor_id=actor_id)


def contact_restored(*, contact_id: int, actor_id: int | None) -> NewEvent:
    return NewEvent(kind=CONTACT_RESTORED.name, entity_type="contact", entity_id=contact_id,
                    contact_id=contact_id, actor_id=actor_id)


def note_added(*, contact_id: int, actor_id: int | None, text: str) -> NewEvent:
    return NewEvent(kind=NOTE_ADDED.name, entity_type="contact", entity_id=contact_id,
                    contact_id=contact_id, actor_id=actor_id, after={"text": text})


def company_created(*, company_id: int, actor_id: int | None, snapshot: Snapshot) -> NewEvent:
    return NewEvent(kind=COMPANY_CREATED.name, entity_type="company", entity_id=company_id,
                    actor_id=actor_id, after=snapshot)


def company_updated(*, company_id: int, actor_id: int | None, before: Snapshot,
                    after: Snapshot) -> NewEvent:
    return NewEvent(kind=COMPANY_UPDATED.name, entity_type="company", entity_id=company_id,
                    actor_id=actor_id, before=before, after=after)


def company_deleted(*, company_id: int, actor_id: int | None) -> NewEvent:
    return NewEvent(kind=COMPANY_DELETED.name, entity_type="company", entity_id=company_id,
                    actor_id=actor_id)


def company_restored(*, company_id: int, actor_id: int | None) -> NewEvent:
    return NewEvent(kind=COMPANY_RESTORED.name, entity_type="company", entity_id=company_id,
                    actor_id=actor_id)


def custom_field_created(*, definition_id: int, actor_id: int, snapshot: Snapshot) -> NewEvent:
    return NewEvent(kind=CUSTOM_FIELD_CREATED.name, entity_type="custom_field",
                    entity_id=definition_id, actor_id=actor_id, after=snapshot)


def custom_field_updated(*, definition_id: int, actor_id: int, before: Snapshot,
                         after: Snapshot) -> NewEvent:
    return NewEvent(kind=CUSTOM_FIELD_UPDATED.name, entity_type="custom_field",
                    entity_id=definition_id, actor_id=actor_id, before=before, after=after)


def custom_field_deleted(*, definition_id: int, actor_id: int, object_type: str,
                         key: str) -> NewEvent:
    return NewEvent(kind=CUSTOM_FIELD_DELETED.name, entity_type="custom_field",
                    entity_id=definition_id, actor_id=actor_id,
                    before={"object_type": object_type, "key": key})


def tag_created(*, tag_id: int, actor_id: int | None, name: str) -> NewEvent:
    return NewEvent(kind=TAG_CREATED.name, entity_type="tag", entity_id=tag_id,
                    actor_id=actor_id, after={"name": name})


def tag_renamed(*, tag_id: int, actor_id: int, before: str, after: str) -> NewEvent:
    return NewEvent(kind=TAG_RENAMED.name, entity_type="tag", entity_id=tag_id,
                    actor_id=actor_id, before={"name": before}, after={"name": after})


def tag_deleted(*, tag_id: int, actor_id: int, name: str, used_by: int) -> NewEvent:
    return NewEvent(kind=TAG_DELETED.name, entity_type="tag", entity_id=tag_id,
                    actor_id=actor_id, before={"name": name, "used_by": used_by})
