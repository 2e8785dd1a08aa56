"""The events the help desk records: one kind constant and one builder per kind.

A ticket's events carry its contact (``contact_id``), so the customer's timeline shows their
requests, replies and surveys; what a timeline shows is in ``after`` (``reference``,
``subject`` and what changed).
"""

from __future__ import annotations

from typing import Any

from rapport.core.events import EventKind, NewEvent

T = "support/timeline/"
TICKET_OPENED = EventKind("ticket.opened", "Ticket opened", f"{T}ticket_opened.html")
TICKET_MESSAGE = EventKind("ticket.message", "Ticket message", f"{T}ticket_message.html")
TICKET_REPLIED = EventKind("ticket.replied", "Ticket answered", f"{T}ticket_replied.html")
TICKET_NOTE = EventKind("ticket.note", "Ticket note")  # internal: no timeline entry
TICKET_UPDATED = EventKind("ticket.updated", "Ticket changed", f"{T}ticket_updated.html")
TICKET_STATUS = EventKind("ticket.status_changed", "Ticket status changed",
                          f"{T}ticket_status.html")
TICKET_ASSIGNED = EventKind("ticket.assigned", "Ticket assigned", f"{T}ticket_assigned.html")
TICKET_MERGED = EventKind("ticket.merged", "Ticket merged", f"{T}ticket_merged.html")
TICKET_SLA = EventKind("ticket.sla", "Ticket SLA", f"{T}ticket_sla.html")
SURVEY_ANSWERED = EventKind("survey.answered", "Satisfaction survey answered",
                            f"{T}survey_answered.html")
CHAT_CONVERSATION = EventKind("chat.conversation", "Chat with the assistant",
                              f"{T}chat_conversation.html")
ARTICLE_CHANGED = EventKind("article.changed", "Help article changed")
DESK_SETTINGS_CHANGED = EventKind("desk_settings.changed", "Help desk settings changed")

KINDS = [TICKET_OPENED, TICKET_MESSAGE, TICKET_REPLIED, TICKET_NOTE, TICKET_UPDATED,
         TICKET_STATUS, TICKET_ASSIGNED, TICKET_MERGED, TICKET_SLA, SURVEY_ANSWERED,
         CHAT_CONVERSATION, ARTICLE_CHANGED, DESK_SETTINGS_CHANGED]

Snapshot = dict[str, Any]


def _ticket(kind: EventKind, *, ticket_id: int, contact_id: int | None, actor_id: int | None,
            after: Snapshot, before: Snapshot | None = None) -> NewEvent:
    return NewEvent(kind=kind.name, entity_type="ticket", entity_id=ticket_id,
                    contact_id=contact_id, actor_id=actor_id, before=before, after=after)


def ticket_opened(*, ticket_id: int, contact_id: int, actor_id: int | None,
                  shown: Snapshot) -> NewEvent:
    """``shown``: reference, subject, channel, priority, category."""
    return _ticket(TICKET_OPENED, ticket_id=ticket_id, contact_id=contact_id, actor_id=actor_id,
                   after=shown)


def ticket_message(*, ticket_id: int, contact_id: int, actor_id: int | None,
                   shown: Snapshot) -> NewEvent:
    """A customer's message on an existing ticket (``shown``: reference, subject, excerpt,
    reopened)."""
    return _ticket(TICKET_MESSAGE, ticket_id=ticket_id, contact_id=contact_id,
                   actor_id=actor_id, after=shown)


def ticket_replied(*, ticket_id: int, contact_id: int, actor_id: int | None,
                   shown: Snapshot) -> NewEvent:
    return _ticket(TICKET_REPLIED, ticket_id=ticket_id, contact_id=contact_id,
                   actor_id=actor_id, after=shown)


def ticket_note(*, ticket_id: int, contact_id: int, actor_id: int | None,
                shown: Snapshot) -> NewEvent:
    return _ticket(TICKET_NOTE, ticket_id=ticket_id, contact_id=None, actor_id=actor_id,
                   after={**shown, "contact_id": contact_id})


def ticket_updated(*, ticket_id: int, contact_id: int, actor_id: int | None,
                   before: Snapshot, after: Snapshot) -> NewEvent:
    return _ticket(TICKET_UPDATED, ticket_id=ticket_id, contact_id=contact_id,
                   actor_id=actor_id, before=before, after=after)


def ticket_status_changed(*, ticket_id: int, contact_id: int, actor_id: int | None,
                          reference: str, subject: str, before: str, after: str) -> NewEvent:
    return _ticket(TICKET_STATUS, ticket_id=ticket_id, contact_id=contact_id,
                   actor_id=actor_id, before={"status": before},
                   after={"status": after, "reference": reference, "subject": subject})


def ticket_assigned(*, ticket_id: int, contact_id: int, actor_id: int | None, reference: str,
                    assignee_id: int | None, assignee_name: str, rule: str,
                    reason: str) -> NewEvent:
    return _ticket(TICKET_ASSIGNED, ticket_id=ticket_id, contact_id=contact_id,
                   actor_id=actor_id,
                   after={"reference": reference, "assignee_id": assignee_id,
                          "assignee_name": assignee_name, "rule": rule, "reason": reason})


def ticket_merged(*, ticket_id: int, contact_id: int, actor_id: int | None, reference: str,
                  into_id: int, into_reference: str) -> NewEvent:
    return _ticket(TICKET_MERGED, ticket_id=ticket_id, contact_id=contact_id, actor_id=actor_id,
                   after={"reference": reference, "into_id": into_id,
                          "into_reference": into_reference})


def ticket_sla(*, ticket_id: int, contact_id: int, reference: str, state: str, target: str,
               due: str, escalated_to: str = "") -> NewEvent:
    """The SLA check moved a ticket to ``state`` (at_risk, breached) on ``target``
    (first_response, resolution)."""
    return _ticket(TICKET_SLA, ticket_id=ticket_id, contact_id=contact_id, actor_id=None,
                   after={"reference": reference, "state": state, "target": target,
                          "due": due, "escalated_to": escalated_to})


def survey_answered(*, ticket_id: int, contact_id: int, reference: str, score: int,
                    comment: str) -> NewEvent:
    return _ticket(SURVEY_ANSWERED, ticket_id=ticket_id, contact_id=contact_id, actor_id=None,
                   after={"reference": reference, "score": score, "comment": comment})


def chat_conversation(*, conversation_id: int, contact_id: int, shown: Snapshot) -> NewEvent:
    """A conversation with the assistant reached the contact's timeline (``shown``: messages
    count, first question, ticket reference if handed over)."""
    return NewEvent(kind=CHAT_CONVERSATION.name, entity_type="chat", entity_id=conversation_id,
                    contact_id=contact_id, actor_id=None, after=shown)


def article_changed(*, article_id: int, actor_id: int, before: Snapshot | None,
                    after: Snapshot | None) -> NewEvent:
    return NewEvent(kind=ARTICLE_CHANGED.name, entity_type="article", entity_id=article_id,
                    actor_id=actor_id, before=before, after=after)


def desk_settings_changed(*, actor_id: int, what: str, before: Snapshot | None,
                          after: Snapshot | None) -> NewEvent:
    return NewEvent(kind=DESK_SETTINGS_CHANGED.name, entity_type="desk_settings", entity_id=0,
                    actor_id=actor_id, before=before, after={"what": what, **(after or {})})


# --- events: devices, event rules and what machines reported ---------------------------------

DEVICE_CHANGED = EventKind("device.changed", "Device changed",
                           "support/devices/timeline_device.html")
EVENT_RULE_CHANGED = EventKind("event_rule.changed", "Event rule changed")
# A machine reported again while its ticket is open: a system message was added to it.
TICKET_MACHINE_EVENT = EventKind("ticket.machine_event", "Machine reported again")

KINDS += [DEVICE_CHANGED, EVENT_RULE_CHANGED, TICKET_MACHINE_EVENT]


def device_changed(*, device_id: int, contact_id: int, actor_id: int | None,
                   before: Snapshot | None, after: Snapshot | None) -> NewEvent:
    """A device registered (``before`` None), changed, or removed (``after`` None)."""
    return NewEvent(kind=DEVICE_CHANGED.name, entity_type="device", entity_id=device_id,
                    contact_id=contact_id, actor_id=actor_id, before=before, after=after)


def event_rule_changed(*, rule_id: int, actor_id: int | None, before: Snapshot | None,
                       after: Snapshot | None) -> NewEvent:
    return NewEvent(kind=EVENT_RULE_CHANGED.name, entity_type="event_rule", entity_id=rule_id,
                    actor_id=actor_id, before=before, after=after)


def ticket_machine_event(*, ticket_id: int, contact_id: int | None, actor_id: int | None,
                         shown: Snapshot) -> NewEvent:
    """``shown``: reference, device, event type, machine event id. Recorded without the
    contact, so a chatty machine does not flood the timeline."""
    return _ticket(TICKET_MACHINE_EVENT, ticket_id=ticket_id, contact_id=contact_id,
                   actor_id=actor_id, after=shown)
