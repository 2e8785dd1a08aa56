"""The events sales records: one kind constant and one builder per kind.

A lead's events are about no contact yet (``contact_id`` None): the lead page shows them by
``entity``. Its conversion is recorded with the new contact, so the person's timeline starts
with where they came from. What a timeline shows is in ``after``.
"""

from __future__ import annotations

from typing import Any

from rapport.core.events import EventKind, NewEvent

T = "sales/timeline/"
LEAD_CAPTURED = EventKind("lead.captured", "Lead captured", f"{T}lead_captured.html")
LEAD_RESUBMITTED = EventKind("lead.resubmitted", "Lead submitted again",
                             f"{T}lead_resubmitted.html")
LEAD_UPDATED = EventKind("lead.updated", "Lead changed", f"{T}lead_updated.html")
LEAD_ASSIGNED = EventKind("lead.assigned", "Lead assigned", f"{T}lead_assigned.html")
LEAD_CONVERTED = EventKind("lead.converted", "Converted from a lead", f"{T}lead_converted.html")
DEAL_CREATED = EventKind("deal.created", "Deal opened", f"{T}deal_created.html")
SALES_SETTINGS_CHANGED = EventKind("sales_settings.changed", "Sales settings changed")

KINDS = [LEAD_CAPTURED, LEAD_RESUBMITTED, LEAD_UPDATED, LEAD_ASSIGNED, LEAD_CONVERTED,
         DEAL_CREATED, SALES_SETTINGS_CHANGED]

Snapshot = dict[str, Any]


def lead_captured(*, lead_id: int, actor_id: int | None, shown: Snapshot) -> NewEvent:
    return NewEvent(kind=LEAD_CAPTURED.name, entity_type="lead", entity_id=lead_id,
                    actor_id=actor_id, after=shown)


def lead_resubmitted(*, lead_id: int, actor_id: int | None, before: Snapshot,
                     after: Snapshot) -> NewEvent:
    return NewEvent(kind=LEAD_RESUBMITTED.name, entity_type="lead", entity_id=lead_id,
                    actor_id=actor_id, before=before, after=after)


def lead_updated(*, lead_id: int, actor_id: int | None, before: Snapshot,
                 after: Snapshot) -> NewEvent:
    return NewEvent(kind=LEAD_UPDATED.name, entity_type="lead", entity_id=lead_id,
                    actor_id=actor_id, before=before, after=after)


def lead_assigned(*, lead_id: int, actor_id: int | None, owner_id: int | None, rule: str,
                  reason: str) -> NewEvent:
    return NewEvent(kind=LEAD_ASSIGNED.name, entity_type="lead", entity_id=lead_id,
                    actor_id=actor_id, after={"owner_id": owner_id, "rule": rule,
                                              "reason": reason})


def lead_converted(*, lead_id: int, actor_id: int, contact_id: int, shown: Snapshot) -> NewEvent:
    return NewEvent(kind=LEAD_CONVERTED.name, entity_type="lead", entity_id=lead_id,
                    contact_id=contact_id, actor_id=actor_id, after=shown)


def deal_created(*, deal_id: int, actor_id: int, contact_id: int | None,
                 shown: Snapshot) -> NewEvent:
    return NewEvent(kind=DEAL_CREATED.name, entity_type="deal", entity_id=deal_id,
                    contact_id=contact_id, actor_id=actor_id, after=shown)


def sales_settings_changed(*, actor_id: int, what: str, entity_id: int,
                           before: Snapshot | None, after: Snapshot | None) -> NewEvent:
    """Audit only: a scoring rule, assignment rule or web form added, changed or removed."""
    return NewEvent(kind=SALES_SETTINGS_CHANGED.name, entity_type=what, entity_id=entity_id,
                    actor_id=actor_id, before=before, after=after)


# --- capture: double opt-in ----------------------------------------------------------------------

LEAD_OPT_IN_CONFIRMED = EventKind("lead.opt_in_confirmed", "Lead confirmed by email",
                                  f"{T}lead_opt_in_confirmed.html")
KINDS += [LEAD_OPT_IN_CONFIRMED]


def lead_opt_in_confirmed(*, lead_id: int, shown: Snapshot) -> NewEvent:
    """The person clicked the link mailed to them (no actor: nobody was logged in)."""
    return NewEvent(kind=LEAD_OPT_IN_CONFIRMED.name, entity_type="lead", entity_id=lead_id,
                    actor_id=None, after=shown)


# --- capture: a deal's past stage moves --------------------------------------------------------

DEAL_HISTORY_LOADED = EventKind("deal.history_loaded", "Deal's past stage moves recorded")
KINDS += [DEAL_HISTORY_LOADED]


def deal_history_loaded(*, deal_id: int, actor_id: int, contact_id: int | None,
                        shown: Snapshot) -> NewEvent:
    """Audit: past moves written at once (each is in the deal's stage history)."""
    return NewEvent(kind=DEAL_HISTORY_LOADED.name, entity_type="deal", entity_id=deal_id,
                    contact_id=contact_id, actor_id=actor_id, after=shown)
