"""Logging conversations with customers (and the follow-up task they may bring)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.utils import timezone

from rapport.activities import events
from rapport.activities.inputs import InteractionChanges, InteractionInput
from rapport.activities.models import Interaction
from rapport.activities.selectors import can_change_interaction, can_log_for, headline
from rapport.activities.services._common import changes_since
from rapport.activities.services.tasks import task_create
from rapport.contacts.selectors import company_get, contact_get
from rapport.core.errors import NotFound, PermissionDenied, ValidationFailed
from rapport.core.events import NewEvent, diff, record_events
from rapport.core.inputs import parse
from rapport.core.permissions import get_for

# What an interaction's timeline entry shows (events hold it; the timeline reads no other
# table). Long texts are cut: the interaction itself keeps them whole.
SHOWN_FIELDS = ("type", "direction", "subject", "outcome", "duration_seconds", "location",
                "ends_at", "channel", "attendees", "sentiment")
SHOWN_BODY = 500
EDITABLE = tuple(name for name in InteractionInput.model_fields if name != "follow_up")


def shown(interaction: Interaction) -> dict[str, Any]:
    body = interaction.body or interaction.summary
    return {
        **{name: getattr(interaction, name) for name in SHOWN_FIELDS},
        "headline": headline(interaction),
        "body": body if len(body) <= SHOWN_BODY else body[: SHOWN_BODY - 1] + "…",
    }


def snapshot(interaction: Interaction) -> dict[str, Any]:
    """Every field a write may set, as the input shape names them."""
    return {name: getattr(interaction, name) for name in EDITABLE}


def _company_id(actor: Any, company_id: int | None, contact: Any) -> int | None:
    if company_id is None:
        return contact.company_id
    try:
        return company_get(user=actor, company_id=company_id).id
    except NotFound:
        raise ValidationFailed({"company_id": f"no company with id {company_id}"}) from None


@transaction.atomic
def interaction_log(*, actor: Any, data: InteractionInput | Mapping[str, Any]) -> Interaction:
    """Record a conversation on its person's timeline (and their company's page). With
    ``follow_up``, also create that task for the actor, linked to it."""
    entry = parse(InteractionInput, data)
    contact = contact_get(user=actor, contact_id=entry.contact_id)
    if not can_log_for(actor, contact):
        raise PermissionDenied("you may not log conversations with this contact")
    fields = entry.model_dump(include=set(EDITABLE))
    fields.update(contact_id=contact.id, company_id=_company_id(actor, entry.company_id, contact),
                  occurred_at=entry.occurred_at or timezone.now())
    interaction = Interaction.objects.create(author_id=actor.id, **fields)
    record_events([events.interaction_logged(
        interaction_id=interaction.id, contact_id=contact.id, actor_id=actor.id,
        occurred_at=interaction.occurred_at, shown=shown(interaction))])
    if entry.follow_up is not None:
        try:
            task_create(actor=actor, data={
                **entry.follow_up.model_dump(), "contact_id": contact.id,
                "interaction_id": interaction.id})
        except ValidationFailed as failure:
            raise ValidationFailed({f"follow_up.{k}": v for k, v in failure.errors.items()}) \
                from None
    return interaction


def _for_change(actor: Any, interaction_id: int) -> Interaction:
    interaction = get_for(actor, "view", Interaction.objects.filter(
        deleted_at__isnull=True, contact__deleted_at__isnull=True), interaction_id,
        noun="interaction")
    if not can_change_interaction(actor, interaction):
        raise PermissionDenied("you may not change this interaction")
    return interaction


@transaction.atomic
def interaction_update(*, actor: Any, interaction_id: int, version: int | None,
                       changes: InteractionChanges | Mapping[str, Any]) -> Interaction:
    """Change some fields (``version`` is the one read; a stale one is 409). The whole record
    is checked again as it will be, so a change cannot break what the input shape promises."""
    interaction = _for_change(actor, interaction_id)
    before = snapshot(interaction)
    given = changes_since(interaction, before, version, InteractionChanges, changes,
                          required=("type", "contact_id", "occurred_at"))
    if given.pop("follow_up", None) is not None:
        raise ValidationFailed({"follow_up": "only when logging; create the task instead"})
    merged = parse(InteractionInput, {**before, **{k: v for k, v in given.items()}})
    if merged.contact_id != interaction.contact_id:
        contact = contact_get(user=actor, contact_id=merged.contact_id)
        if not can_log_for(actor, contact):
            raise PermissionDenied("you may not log conversations with this contact")
        if "company_id" not in given:
            merged.company_id = contact.company_id
    elif "company_id" in given and merged.company_id is not None:
        merged.company_id = _company_id(actor, merged.company_id, interaction.contact)
    after = merged.model_dump(include=set(EDITABLE))
    changed_before, changed_after = diff(before, after)
    if not changed_after:
        return interaction
    for name, value in changed_after.items():
        setattr(interaction, name, value)
    interaction.version += 1
    interaction.save()
    record_events([events.interaction_updated(
        interaction_id=interaction.id, contact_id=interaction.contact_id, actor_id=actor.id,
        before=_short(changed_before), after=_short(changed_after))])
    return interaction


def _short(values: dict[str, Any]) -> dict[str, Any]:
    return {k: (v[:SHOWN_BODY] + "…" if isinstance(v, str) and len(v) > SHOWN_BODY else v)
            for k, v in values.items()}


@transaction.atomic
def interaction_delete(*, actor: Any, interaction_id: int) -> None:
    """Soft delete: gone from lists and pages; its timeline entry says it was deleted."""
    interaction = _for_change(actor, interaction_id)
    interaction.deleted_at = timezone.now()
    interaction.version += 1
    interaction.save(update_fields=["deleted_at", "version", "updated_at"])
    deleted: NewEvent = events.interaction_deleted(
        interaction_id=interaction.id, contact_id=interaction.contact_id, actor_id=actor.id,
        shown={"type": interaction.type, "headline": headline(interaction)})
    record_events([deleted])
