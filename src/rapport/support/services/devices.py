"""Machines that open tickets: customers' devices, the rules that turn what they report into
tickets, and the one way a report comes in (:func:`machine_event_record`).

Every report is logged (``MachineEvent``). The first active rule (by position) whose event type
matches and whose condition holds opens a ticket for the device's contact — unless the ticket
that rule opened for that device is still open: then the report is added to it as a system
message. The device's row is locked while a report is handled, so two reports at once never
open two tickets.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from rapport.contacts import selectors as contacts
from rapport.core.errors import NotFound, PermissionDenied, ValidationFailed
from rapport.core.events import record_events
from rapport.core.inputs import parse
from rapport.core.permissions import can
from rapport.support import events, selectors
from rapport.support.inputs import (
    DeviceInput,
    DevicePatch,
    EventRuleInput,
    EventRulePatch,
    MachineEventInput,
    plain_message,
)
from rapport.support.models import (
    OPEN_STATUSES,
    Channel,
    Device,
    EventAction,
    EventRule,
    MachineEvent,
    MessageKind,
    Ticket,
    TicketMessage,
)
from rapport.support.services.tickets import ticket_open

VALUE_SHOWN = 80  # characters of one payload value in a subject
MISSING = "?"  # what a placeholder the event does not fill shows
DESCRIPTION_LIMIT = 20000  # Ticket.description's max_length
SUBJECT_LIMIT = 200  # Ticket.subject's max_length
BODY_LIMIT = 100000  # TicketMessage.body's max_length


def _require(actor: Any, permission: str, what: str) -> None:
    if not can(actor, permission):
        raise PermissionDenied(f"you may not {what}")


# --- devices ---------------------------------------------------------------------------------


def _device_shown(device: Device) -> dict[str, Any]:
    return {"device_id": device.device_id, "name": device.name, "contact_id": device.contact_id}


def _check_contact(actor: Any, contact_id: int) -> None:
    try:
        contacts.contact_get(user=actor, contact_id=contact_id)
    except NotFound:
        raise ValidationFailed({"contact_id": f"no contact with id {contact_id} that you may "
                                              "see"}) from None


def _save_device(device: Device) -> None:
    try:
        with transaction.atomic():
            device.save()
    except IntegrityError:
        raise ValidationFailed({"device_id": f"{device.device_id} is already registered"}) \
            from None


def _device_id_free(device_id: str, *, but: int | None = None) -> None:
    taken = Device.objects.filter(device_id=device_id)
    if but is not None:
        taken = taken.exclude(pk=but)
    if taken.exists():
        raise ValidationFailed({"device_id": f"{device_id} is already registered"})


@transaction.atomic
def device_create(*, actor: Any, data: DeviceInput | Mapping[str, Any]) -> Device:
    """Register a customer's device under the id it reports with."""
    _require(actor, "devices.change", "register devices")
    entry = parse(DeviceInput, data)
    _check_contact(actor, entry.contact_id)
    _device_id_free(entry.device_id)
    device = Device(device_id=entry.device_id, name=entry.name, contact_id=entry.contact_id)
    _save_device(device)
    record_events([events.device_changed(device_id=device.id, contact_id=device.contact_id,
                                         actor_id=actor.id, before=None,
                                         after=_device_shown(device))])
    return device


def _locked_device(actor: Any, device_pk: int) -> Device:
    device = (selectors.visible_devices(actor).select_for_update().filter(pk=device_pk)
              .first())
    if device is None:
        raise NotFound(f"no device with id {device_pk}")
    _require(actor, "devices.change", "change devices")
    return device


@transaction.atomic
def device_update(*, actor: Any, device_pk: int,
                  changes: DevicePatch | Mapping[str, Any]) -> Device:
    """Rename it, change the id it reports with or the contact who owns it."""
    device = _locked_device(actor, device_pk)
    given = parse(DevicePatch, changes).model_dump(exclude_unset=True, exclude_none=True)
    before = _device_shown(device)
    if "contact_id" in given:
        _check_contact(actor, given["contact_id"])
    if "device_id" in given:
        _device_id_free(given["device_id"], but=device.pk)
    for name, value in given.items():
        setattr(device, name, value)
    _save_device(device)
    after = _device_shown(device)
    if after != before:
        record_events([events.device_changed(device_id=device.id, contact_id=device.contact_id,
                                             actor_id=actor.id, before=before, after=after)])
    return device


@transaction.atomic
def device_delete(*, actor: Any, device_pk: int) -> None:
    """Remove it and its event log (its tickets stay, without the device)."""
    device = _locked_device(actor, device_pk)
    record_events([events.device_changed(device_id=device.id, contact_id=device.contact_id,
                                         actor_id=actor.id, before=_device_shown(device),
                                         after=None)])
    device.delete()


# --- subjects: ``{device}``, ``{type}`` and payload fields, filled in safely -----------------

# ``{{`` and ``}}`` are literal braces; ``{name}`` a placeholder; a lone brace is an error.
_PIECE = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]*(\.[A-Za-z0-9_-]+)*\Z")
TEMPLATE_HELP = ("placeholders are {device}, {device_id}, {type} or a payload field such as "
                 "{coolant_level} (dots reach into nested objects: {coolant.level}); write {{ "
                 "and }} for braces")


def template_error(template: str) -> str | None:
    """Why ``template`` is not a subject template (None if it is)."""
    for match in _PIECE.finditer(template):
        piece = match.group(0)
        if piece in ("{{", "}}"):
            continue
        if match.group(1) is None or not _NAME.match(match.group(1)):
            return f"{piece!r} is not a placeholder: {TEMPLATE_HELP}"
    return None


def _lookup(payload: Mapping[str, Any], path: str) -> Any:
    """The value at a dotted path: keys of objects, indexes of lists; nothing else (no
    attribute of any Python object is ever read)."""
    value: Any = payload
    for part in path.split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return _ABSENT
    return value


_ABSENT = object()


def _as_text(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))
    return str(value)


def _shown_value(value: Any) -> str:
    text = " ".join(plain_message(_as_text(value)).split())
    return text if len(text) <= VALUE_SHOWN else text[: VALUE_SHOWN - 1] + "…"


def render_subject(template: str, *, device: Device, event_type: str,
                   payload: Mapping[str, Any]) -> str:
    """The template with its placeholders filled: values as plain text (tags dropped), each
    at most 80 characters; a field the event lacks shows ``?``."""
    known = {"device": device.name or device.device_id, "device_id": device.device_id,
             "type": event_type}
    out: list[str] = []
    last = 0
    for match in _PIECE.finditer(template):
        out.append(template[last:match.start()])
        last = match.end()
        piece, name = match.group(0), match.group(1)
        if piece in ("{{", "}}"):
            out.append(piece[0])
        elif name is None or not _NAME.match(name):
            out.append(piece)  # rules are checked when saved; an old one shows it as written
        elif name in known:
            out.append(_shown_value(known[name]))
        else:
            value = _lookup(payload, name)
            out.append(MISSING if value is _ABSENT else _shown_value(value))
    out.append(template[last:])
    subject = " ".join(plain_message("".join(out)).split())
    if not subject:  # nothing left once tags were dropped
        subject = f"{event_type} from {device.name or device.device_id}"
    return subject if len(subject) <= SUBJECT_LIMIT else subject[: SUBJECT_LIMIT - 1] + "…"


# --- conditions ------------------------------------------------------------------------------

_NUMBER = re.compile(r"\s*[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?\s*\Z")


def _number(value: Any) -> float | None:
    """A number, or text that is one ("12", "-3.5"); never a boolean."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, str) and _NUMBER.match(value):
        return float(value)
    return None


def _equal(given: Any, wanted: str) -> bool:
    a, b = _number(given), _number(wanted)
    if a is not None and b is not None:
        return a == b
    return _as_text(given).casefold() == wanted.strip().casefold()


def condition_holds(rule: EventRule, payload: Mapping[str, Any]) -> bool:
    """``payload[field] operator value``; numbers compare as numbers, text without case. A
    field the payload lacks never matches (whatever the operator)."""
    if not rule.field:
        return True
    given = _lookup(payload, rule.field)
    if given is _ABSENT:
        return False
    if rule.operator == "eq":
        return _equal(given, rule.value)
    if rule.operator == "ne":
        return not _equal(given, rule.value)
    if rule.operator in ("lt", "gt"):
        a, b = _number(given), _number(rule.value)
        if a is None or b is None:
            return False
        return a < b if rule.operator == "lt" else a > b
    if rule.operator == "contains":
        wanted = rule.value.strip().casefold()
        if isinstance(given, list):
            return any(_equal(item, rule.value) for item in given)
        if isinstance(given, dict):
            return any(key.casefold() == wanted for key in given)
        return wanted in _as_text(given).casefold()
    return False


def matching_rule(rules: list[EventRule], *, event_type: str,
                  payload: Mapping[str, Any]) -> EventRule | None:
    """The first active rule for this event type whose condition holds."""
    for rule in rules:
        if rule.active and rule.event_type == event_type and condition_holds(rule, payload):
            return rule
    return None


# --- event rules -----------------------------------------------------------------------------

RULE_FIELDS = ("name", "event_type", "field", "operator", "value", "subject", "category",
               "priority", "active")


def _rule_shown(rule: EventRule) -> dict[str, Any]:
    return {**{name: getattr(rule, name) for name in RULE_FIELDS}, "position": rule.position}


def _check_rule(entry: EventRuleInput) -> dict[str, Any]:
    """The rule's fields once they hold together, else ValidationFailed naming the field."""
    values = entry.model_dump()
    errors: dict[str, str] = {}
    if values["field"] and not values["operator"]:
        errors["operator"] = "choose how the field is compared (eq, ne, lt, gt, contains)"
    if values["operator"] and not values["field"]:
        errors["field"] = "name the payload field the condition reads"
    if values["operator"] in ("lt", "gt") and _number(values["value"]) is None:
        errors["value"] = "must be a number to compare with less or greater than"
    if values["operator"] == "contains" and not values["value"]:
        errors["value"] = "give the text to look for"
    problem = template_error(values["subject"])
    if problem:
        errors["subject"] = problem
    if errors:
        raise ValidationFailed(errors)
    if not values["field"]:
        values["value"] = ""
    values["priority"] = str(values["priority"])
    return values


def _rule_changed(actor: Any, rule: EventRule, before: dict | None, after: dict | None) -> None:
    record_events([events.event_rule_changed(rule_id=rule.id, actor_id=actor.id, before=before,
                                             after=after)])


@transaction.atomic
def event_rule_create(*, actor: Any, data: EventRuleInput | Mapping[str, Any]) -> EventRule:
    """A new rule, tried after the existing ones."""
    _require(actor, "event_rules.change", "change event rules")
    values = _check_rule(parse(EventRuleInput, data))
    # Locked: two rules added at once get different positions.
    last = EventRule.objects.select_for_update().order_by("-position").first()
    rule = EventRule.objects.create(position=(last.position + 1) if last else 1, **values)
    _rule_changed(actor, rule, None, _rule_shown(rule))
    return rule


def _locked_rule(actor: Any, rule_id: int) -> EventRule:
    _require(actor, "event_rules.change", "change event rules")
    rule = EventRule.objects.select_for_update().filter(pk=rule_id).first()
    if rule is None:
        raise NotFound(f"no event rule with id {rule_id}")
    return rule


@transaction.atomic
def event_rule_update(*, actor: Any, rule_id: int,
                      changes: EventRulePatch | Mapping[str, Any]) -> EventRule:
    """Change some of its fields (those left out stay); ``position`` moves it there."""
    rule = _locked_rule(actor, rule_id)
    before = _rule_shown(rule)
    given = parse(EventRulePatch, changes).model_dump(exclude_unset=True, exclude_none=True)
    position = given.pop("position", None)
    current = {name: before[name] for name in RULE_FIELDS}
    values = _check_rule(parse(EventRuleInput, {**current, **given}))
    for name, value in values.items():
        setattr(rule, name, value)
    rule.save()
    if position is not None and position != rule.position:
        _move(rule, position)
    after = _rule_shown(rule)
    if after != before:
        _rule_changed(actor, rule, before, after)
    return rule


def _move(rule: EventRule, position: int) -> None:
    """Put ``rule`` at ``position`` (1 = tried first), renumbering the others 1, 2, 3…"""
    others = list(EventRule.objects.select_for_update().exclude(pk=rule.pk)
                  .order_by("position", "id"))
    position = max(1, min(position, len(others) + 1))
    others.insert(position - 1, rule)
    for number, item in enumerate(others, start=1):
        if item.position != number:
            item.position = number
            item.save(update_fields=["position"])


@transaction.atomic
def event_rule_move(*, actor: Any, rule_id: int, direction: str) -> EventRule:
    """One place up (tried sooner) or down."""
    rule = _locked_rule(actor, rule_id)
    if direction not in ("up", "down"):
        raise ValidationFailed({"direction": "must be up or down"})
    before = _rule_shown(rule)
    ordered = list(EventRule.objects.order_by("position", "id").values_list("id", flat=True))
    place = ordered.index(rule.id) + 1
    _move(rule, place - 1 if direction == "up" else place + 1)
    rule.refresh_from_db()
    if rule.position != before["position"]:
        _rule_changed(actor, rule, before, _rule_shown(rule))
    return rule


@transaction.atomic
def event_rule_delete(*, actor: Any, rule_id: int) -> None:
    """Remove it (the events it matched stay in the log; their tickets stay open)."""
    rule = _locked_rule(actor, rule_id)
    _rule_changed(actor, rule, _rule_shown(rule), None)
    rule.delete()


# --- what machines report --------------------------------------------------------------------


@dataclass
class Reported:
    """What one report did: ``action`` is opened, appended or logged."""

    event: MachineEvent
    action: str
    rule: EventRule | None = None
    ticket: Ticket | None = None


def _payload_lines(payload: Mapping[str, Any], prefix: str = "") -> list[str]:
    lines: list[str] = []
    for key, value in payload.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            lines.extend(_payload_lines(value, f"{name}."))
        else:
            lines.append(f"{plain_message(name)}: {plain_message(_as_text(value))}")
    return lines


def event_text(*, device: Device, event_type: str, payload: Mapping[str, Any],
               at: dt.datetime) -> str:
    """A report as plain text, for a ticket's description or a system message."""
    head = (f"{device.name or device.device_id} ({device.device_id}) reported {event_type} "
            f"at {at.astimezone(dt.UTC):%Y-%m-%d %H:%M:%S} UTC.")
    text = "\n".join([head, *_payload_lines(payload)])
    return text if len(text) <= DESCRIPTION_LIMIT else text[: DESCRIPTION_LIMIT - 1] + "…"


def ticket_system_message(*, ticket: Ticket, body: str, now: dt.datetime | None = None,
                          channel: str = Channel.DEVICE) -> TicketMessage:
    """An automatic entry on a ticket's thread (no author, never mailed)."""
    return TicketMessage.objects.create(
        ticket=ticket, kind=MessageKind.SYSTEM, body=plain_message(body)[:BODY_LIMIT],
        channel=channel, created_at=now or timezone.now())


def _open_ticket_of(device: Device, rule: EventRule) -> Ticket | None:
    """The ticket ``rule`` opened for ``device``, if it is still open."""
    opened = MachineEvent.objects.filter(device=device, rule=rule,
                                         action=EventAction.OPENED).values("ticket_id")
    return (Ticket.objects.filter(id__in=opened, device=device, status__in=OPEN_STATUSES,
                                  deleted_at__isnull=True).order_by("-id").first())


def machine_event_record(*, actor: Any, data: MachineEventInput | Mapping[str, Any],
                         now: dt.datetime | None = None) -> Reported:
    """Log what a device reported and act on it by the first matching rule.

    ``actor`` is who the maker posts as: they must be allowed to open tickets and to see the
    device's contact (an unknown or unseen device is NotFound naming ``device_id``).
    """
    entry = parse(MachineEventInput, data)
    if not can(actor, "tickets.add"):
        raise PermissionDenied("you may not open tickets, so you may not report machine events")
    now = now or timezone.now()
    with transaction.atomic():
        # The device's row is the lock: reports of one device are handled one at a time, so
        # the second of two identical reports finds the ticket the first opened.
        device = (selectors.visible_devices(actor).select_for_update()
                  .filter(device_id=entry.device_id).first())
        if device is None:
            raise NotFound(f"device_id: no device {entry.device_id!r} is registered")
        rule = matching_rule(list(EventRule.objects.filter(active=True)
                                  .order_by("position", "id")),
                             event_type=entry.type, payload=entry.payload)
        event = MachineEvent.objects.create(device=device, event_type=entry.type,
                                            payload=entry.payload, rule=rule, received_at=now,
                                            occurred_at=entry.occurred_at)
        reported = Reported(event=event, action=EventAction.LOGGED, rule=rule)
        if rule is not None:
            text = event_text(device=device, event_type=entry.type, payload=entry.payload,
                              at=entry.occurred_at or now)
            ticket = _open_ticket_of(device, rule)
            if ticket is not None:
                ticket_system_message(ticket=ticket, body=text, now=now)
                # Off the contact's timeline (a machine may report every minute; the ticket
                # is there already), kept in the audit log under the ticket.
                record_events([events.ticket_machine_event(
                    ticket_id=ticket.id, contact_id=None, actor_id=actor.id,
                    shown={"reference": ticket.reference, "device": device.device_id,
                           "type": entry.type, "machine_event_id": event.id})])
                reported.action = EventAction.APPENDED
            else:
                ticket = ticket_open(actor=actor, now=now, device=device, data={
                    "subject": render_subject(rule.subject, device=device,
                                              event_type=entry.type, payload=entry.payload),
                    "description": text, "contact_id": device.contact_id,
                    "channel": Channel.DEVICE, "category": rule.category,
                    "priority": rule.priority}).ticket
                reported.action = EventAction.OPENED
            reported.ticket = ticket
            event.ticket = ticket
            event.action = reported.action
            event.save(update_fields=["ticket", "action"])
    return reported
