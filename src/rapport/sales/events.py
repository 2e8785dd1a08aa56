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


# --- sequences (nurturing) ---------------------------------------------------------------------
# On the lead's timeline (entity "lead"); the step's email itself has its own ``email.*``
# events (``outbound_email``), which the lead page shows beside these.

SEQUENCE_ENROLLED = EventKind("sequence.enrolled", "Enrolled in a sequence",
                              f"{T}sequence_enrolled.html")
SEQUENCE_STEP_DONE = EventKind("sequence.step_done", "Sequence step done",
                               f"{T}sequence_step_done.html")
SEQUENCE_STOPPED = EventKind("sequence.stopped", "Sequence stopped", f"{T}sequence_stopped.html")
SEQUENCE_COMPLETED = EventKind("sequence.completed", "Sequence finished",
                               f"{T}sequence_stopped.html")
SEQUENCE_KINDS = [SEQUENCE_ENROLLED, SEQUENCE_STEP_DONE, SEQUENCE_STOPPED, SEQUENCE_COMPLETED]
KINDS += SEQUENCE_KINDS


def _sequence_event(kind: EventKind, *, lead_id: int, actor_id: int | None,
                    shown: Snapshot) -> NewEvent:
    return NewEvent(kind=kind.name, entity_type="lead", entity_id=lead_id, actor_id=actor_id,
                    after=shown)


def sequence_enrolled(**kwargs: Any) -> NewEvent:
    return _sequence_event(SEQUENCE_ENROLLED, **kwargs)


def sequence_step_done(**kwargs: Any) -> NewEvent:
    return _sequence_event(SEQUENCE_STEP_DONE, **kwargs)


def sequence_stopped(**kwargs: Any) -> NewEvent:
    return _sequence_event(SEQUENCE_STOPPED, **kwargs)


def sequence_completed(**kwargs: Any) -> NewEvent:
    return _sequence_event(SEQUENCE_COMPLETED, **kwargs)


# --- capture: double opt-in ----------------------------------------------------------------------

LEAD_OPT_IN_CONFIRMED = EventKind("lead.opt_in_confirmed", "Lead confirmed by email",
                                  f"{T}lead_opt_in_confirmed.html")
KINDS += [LEAD_OPT_IN_CONFIRMED]


def lead_opt_in_confirmed(*, lead_id: int, shown: Snapshot) -> NewEvent:
    """The person clicked the link mailed to them (no actor: nobody was logged in)."""
    return NewEvent(kind=LEAD_OPT_IN_CONFIRMED.name, entity_type="lead", entity_id=lead_id,
                    actor_id=None, after=shown)


# --- pipeline: deal moves, wins, losses and changes (issue 10, pipeline) -----------------------

DEAL_MOVED = EventKind("deal.moved", "Deal moved", f"{T}deal_moved.html")
DEAL_WON = EventKind("deal.won", "Deal won", f"{T}deal_won.html")
DEAL_LOST = EventKind("deal.lost", "Deal lost", f"{T}deal_lost.html")
DEAL_UPDATED = EventKind("deal.updated", "Deal changed", f"{T}deal_updated.html")
DEAL_DELETED = EventKind("deal.deleted", "Deal deleted", f"{T}deal_deleted.html")
KINDS += [DEAL_MOVED, DEAL_WON, DEAL_LOST, DEAL_UPDATED, DEAL_DELETED]


def deal_moved(*, deal_id: int, actor_id: int, contact_id: int | None, before: Snapshot,
               after: Snapshot) -> NewEvent:
    """From one stage to another (``before``/``after`` name the stages and probabilities;
    ``after`` also holds the deal's name, amount and the days it spent in the old stage)."""
    kind = (DEAL_WON if after.get("won") else DEAL_LOST if after.get("lost") else DEAL_MOVED)
    return NewEvent(kind=kind.name, entity_type="deal", entity_id=deal_id,
                    contact_id=contact_id, actor_id=actor_id, before=before, after=after)


def deal_updated(*, deal_id: int, actor_id: int, contact_id: int | None, before: Snapshot,
                 after: Snapshot) -> NewEvent:
    return NewEvent(kind=DEAL_UPDATED.name, entity_type="deal", entity_id=deal_id,
                    contact_id=contact_id, actor_id=actor_id, before=before, after=after)


def deal_deleted(*, deal_id: int, actor_id: int, contact_id: int | None,
                 shown: Snapshot) -> NewEvent:
    return NewEvent(kind=DEAL_DELETED.name, entity_type="deal", entity_id=deal_id,
                    contact_id=contact_id, actor_id=actor_id, before=shown)


# --- first response (territory branch) ---------------------------------------------------------

LEAD_CONTACTED = EventKind("lead.contacted", "Lead contacted", f"{T}lead_contacted.html")
LEAD_RESPONSE_MISSED = EventKind("lead.first_response_missed", "First response missed",
                                 f"{T}lead_response_missed.html")
KINDS += [LEAD_CONTACTED, LEAD_RESPONSE_MISSED]


def lead_contacted(*, lead_id: int, actor_id: int, channel: str, note: str,
                   first_touch: bool) -> NewEvent:
    """The owner (or a colleague) called, emailed or met the lead."""
    return NewEvent(kind=LEAD_CONTACTED.name, entity_type="lead", entity_id=lead_id,
                    actor_id=actor_id, after={"channel": channel, "note": note,
                                              "first_touch": first_touch})


def lead_first_response_missed(*, lead_id: int, owner_id: int | None, minutes: int,
                               reassigned_to: int | None, manager_id: int | None,
                               names: dict[int, str]) -> NewEvent:
    """Nobody touched the lead in time (recorded by the sweep: no actor)."""
    return NewEvent(kind=LEAD_RESPONSE_MISSED.name, entity_type="lead", entity_id=lead_id,
                    actor_id=None, after={
                        "owner_id": owner_id, "owner_name": names.get(owner_id or 0, ""),
                        "minutes": minutes, "reassigned_to": reassigned_to,
                        "reassigned_name": names.get(reassigned_to or 0, ""),
                        "manager_id": manager_id,
                        "manager_name": names.get(manager_id or 0, "")})
