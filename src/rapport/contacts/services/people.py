"""Writes for people: create, edit, remember, note, delete and restore, one or many at a time.

Every write validates everything first (all field errors together), changes the database in
one transaction, and records an event with what changed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from rapport.contacts import events, search
from rapport.contacts.inputs import (
    BulkAssignInput,
    BulkDeleteInput,
    BulkTagInput,
    ContactChanges,
    ContactInput,
    NoteInput,
    PreferenceInput,
)
from rapport.contacts.models import Company, Contact, ContactTag
from rapport.contacts.services._common import (
    changed_fields,
    check_owner,
    clean_custom_fields,
    given,
    require_version,
    restore_deleted,
    tag_ids,
)
from rapport.core.errors import PermissionDenied, ValidationFailed
from rapport.core.events import record_events
from rapport.core.inputs import parse
from rapport.core.permissions import get_for


def contact_snapshot(contact: Contact, tags: list[str] | None = None) -> dict[str, Any]:
    if tags is None:
        tags = sorted(contact.tags.values_list("name", flat=True))
    return {
        "first_name": contact.first_name, "last_name": contact.last_name,
        "emails": list(contact.emails), "phones": list(contact.phones),
        "addresses": list(contact.addresses), "job_title": contact.job_title,
        "company_id": contact.company_id, "owner_id": contact.owner_id, "tags": tags,
        "lifecycle_stage": str(contact.lifecycle_stage), "source": contact.source,
        "email_opt_in": contact.email_opt_in,
        "email_opt_in_at": contact.email_opt_in_at.isoformat() if contact.email_opt_in_at else None,
        "email_opt_in_source": contact.email_opt_in_source,
        "do_not_call": contact.do_not_call, "notes": contact.notes,
        "preferences": list(contact.preferences), "custom_fields": dict(contact.custom_fields),
        "version": contact.version,
    }


def _check_links(actor: Any, fields: dict[str, Any], errors: dict[str, str], *,
                 current: Contact | None) -> None:
    """The company must be one the actor can see; the owner one they may hand records to."""
    company_id = fields.get("company_id")
    if "company_id" in fields and company_id is not None and company_id != (
            current.company_id if current else None):
        visible = Company.objects.restrict(actor, "view").filter(id=company_id,
                                                                  deleted_at__isnull=True)
        if not visible.exists():
            errors["company_id"] = f"no company with id {company_id}"
    if "owner_id" in fields and (current is None or fields["owner_id"] != current.owner_id):
        check_owner(actor, "contacts", fields["owner_id"], errors)


def _apply(contact: Contact, fields: dict[str, Any]) -> None:
    for name, value in fields.items():
        if name != "tags":
            setattr(contact, name, value)
    if "emails" in fields:
        contact.primary_email = fields["emails"][0] if fields["emails"] else ""
    if fields.get("email_opt_in") is True and not contact.email_opt_in_at:
        contact.email_opt_in_at = timezone.now()
    if fields.get("email_opt_in") is False:
        contact.email_opt_in_at = None


def _set_tags(contact: Contact, names: list[str]) -> None:
    ContactTag.objects.filter(contact=contact).delete()
    ContactTag.objects.bulk_create([ContactTag(contact=contact, tag_id=t) for t in tag_ids(names)])


def _require_name(contact: Contact, errors: dict[str, str]) -> None:
    if not contact.first_name and not contact.last_name and not (
            {"first_name", "last_name"} & set(errors)):
        errors["first_name"] = "a contact needs a first or last name"


@transaction.atomic
def contact_create(*, actor: Any, data: ContactInput | Mapping[str, Any]) -> Contact:
    """Add a person; they belong to ``actor`` unless ``owner_id`` names someone else."""
    fields = parse(ContactInput, data).model_dump()
    if fields["owner_id"] is None:
        fields["owner_id"] = actor.id if actor else None
    errors: dict[str, str] = {}
    if actor is not None:
        _check_links(actor, fields, errors, current=None)
    fields["custom_fields"] = clean_custom_fields("contact", fields["custom_fields"], errors)
    contact = Contact()
    _apply(contact, fields)
    _require_name(contact, errors)
    if errors:
        raise ValidationFailed(errors)
    contact.search_text = search.contact_search_text(contact)
    contact.save()
    search.remember_name_words(contact.first_name, contact.last_name)
    if fields["tags"]:
        _set_tags(contact, fields["tags"])
    record_events([events.contact_created(
        contact_id=contact.id, actor_id=actor.id if actor else None,
        snapshot=contact_snapshot(contact, fields["tags"]))])
    return contact


@transaction.atomic
def contact_update(*, actor: Any, contact_id: int, version: int | None,
                   changes: ContactChanges | Mapping[str, Any]) -> Contact:
    """Change some fields. ``version`` is the one the caller read; a stale one raises 409."""
    contact = get_for(actor, "change", Contact.objects.filter(deleted_at__isnull=True),
                      contact_id, noun="contact")
    before = contact_snapshot(contact)
    require_version(contact, version, before)
    fields = given(parse(ContactChanges, changes), ContactInput)
    errors: dict[str, str] = {}
    _check_links(actor, fields, errors, current=contact)
    if "custom_fields" in fields:
        fields["custom_fields"] = clean_custom_fields(
            "contact", fields["custom_fields"], errors, base=contact.custom_fields)
    _apply(contact, fields)
    _require_name(contact, errors)
    if errors:
        raise ValidationFailed(errors)
    if fields.get("tags") is not None and fields["tags"] != before["tags"]:
        _set_tags(contact, fields["tags"])
    after = contact_snapshot(contact, fields.get("tags", before["tags"]))
    changed_before, changed_after = changed_fields(before, after)
    if not changed_after:
        return contact
    contact.version += 1
    contact.search_text = search.contact_search_text(contact)
    contact.save()
    if "first_name" in changed_after or "last_name" in changed_after:
        search.remember_name_words(contact.first_name, contact.last_name)
    record_events([events.contact_updated(contact_id=contact.id, actor_id=actor.id,
                                          before=changed_before, after=changed_after)])
    return contact


@transaction.atomic
def contact_add_preference(*, actor: Any, contact_id: int, text: str) -> Contact:
    """Remember a fact about the person ("usual order: rye, no sesame")."""
    try:
        fact = parse(PreferenceInput, {"text": text}).text
    except ValidationFailed as failure:
        raise ValidationFailed({"preference": failure.errors["text"]}) from None
    contact = get_for(actor, "change", Contact.objects.filter(deleted_at__isnull=True),
                      contact_id, noun="contact")
    return contact_update(actor=actor, contact_id=contact_id, version=contact.version,
                          changes={"preferences": [*contact.preferences, fact]})


@transaction.atomic
def contact_note_add(*, actor: Any, contact_id: int, text: str) -> None:
    """A note on the person's timeline; anyone who can see them may add one."""
    try:
        note = parse(NoteInput, {"text": text}).text
    except ValidationFailed as failure:
        raise ValidationFailed({"note": failure.errors["text"]}) from None
    contact = get_for(actor, "view", Contact.objects.filter(deleted_at__isnull=True),
                      contact_id, noun="contact")
    record_events([events.note_added(contact_id=contact.id, actor_id=actor.id, text=note)])


@transaction.atomic
def contact_delete(*, actor: Any, contact_id: int) -> None:
    """Soft delete: hidden everywhere, restorable for 30 days."""
    contact = get_for(actor, "delete", Contact.objects.filter(deleted_at__isnull=True),
                      contact_id, noun="contact")
    contact.deleted_at = timezone.now()
    contact.version += 1
    contact.save(update_fields=["deleted_at", "version", "updated_at"])
    record_events([events.contact_deleted(contact_id=contact.id, actor_id=actor.id)])


@transaction.atomic
def contact_restore(*, actor: Any, contact_id: int) -> Contact:
    contact = restore_deleted(actor=actor, queryset=Contact.objects.all(), object_id=contact_id,
                              noun="contact")
    record_events([events.contact_restored(contact_id=contact.id, actor_id=actor.id)])
    return contact


def _bulk_targets(actor: Any, contact_ids: list[int], action: str) -> list[Contact]:
    """The chosen people, locked; all or nothing: one that may not be changed stops the lot."""
    wanted = set(contact_ids)
    contacts = list(Contact.objects.restrict(actor, action).select_for_update()
                    .filter(id__in=wanted, deleted_at__isnull=True))
    if len(contacts) != len(wanted):
        raise PermissionDenied(
            f"you may not {action} {len(wanted) - len(contacts)} of the chosen contacts")
    return contacts


def _bulk_input(shape: Any, data: dict[str, Any]) -> Any:
    try:
        return parse(shape, data)
    except ValidationFailed as failure:
        if any(key == "ids" or key.startswith("ids.") for key in failure.errors):
            raise ValidationFailed({"ids": ["choose between 1 and 1000 contacts"]}) from None
        raise


@transaction.atomic
def contacts_bulk_tag(*, actor: Any, contact_ids: list[int], tag: str) -> int:
    chosen = _bulk_input(BulkTagInput, {"ids": contact_ids, "tag": tag})
    contacts = _bulk_targets(actor, chosen.ids, "change")
    tag_id = tag_ids([chosen.tag.lower()])[0]
    ContactTag.objects.bulk_create([ContactTag(contact=c, tag_id=tag_id) for c in contacts],
                                   ignore_conflicts=True)
    Contact.objects.filter(id__in=[c.id for c in contacts]).update(version=F("version") + 1,
                                                                   updated_at=timezone.now())
    record_events(events.contact_updated(contact_id=c.id, actor_id=actor.id, before={},
                                         after={"tag_added": chosen.tag.lower()})
                  for c in contacts)
    return len(contacts)


@transaction.atomic
def contacts_bulk_assign(*, actor: Any, contact_ids: list[int], owner_id: Any) -> int:
    chosen = _bulk_input(BulkAssignInput, {"ids": contact_ids, "owner_id": owner_id or None})
    errors: dict[str, str] = {}
    check_owner(actor, "contacts", chosen.owner_id, errors)
    if errors:
        raise ValidationFailed(errors)
    contacts = _bulk_targets(actor, chosen.ids, "change")
    Contact.objects.filter(id__in=[c.id for c in contacts]).update(
        owner_id=chosen.owner_id, version=F("version") + 1, updated_at=timezone.now())
    record_events(events.contact_updated(contact_id=c.id, actor_id=actor.id,
                                         before={"owner_id": c.owner_id},
                                         after={"owner_id": chosen.owner_id})
                  for c in contacts)
    return len(contacts)


@transaction.atomic
def contacts_bulk_delete(*, actor: Any, contact_ids: list[int]) -> int:
    chosen = _bulk_input(BulkDeleteInput, {"ids": contact_ids})
    contacts = _bulk_targets(actor, chosen.ids, "delete")
    Contact.objects.filter(id__in=[c.id for c in contacts]).update(
        deleted_at=timezone.now(), version=F("version") + 1)
    record_events(events.contact_deleted(contact_id=c.id, actor_id=actor.id) for c in contacts)
    return len(contacts)
