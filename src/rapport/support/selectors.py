"""Reads of the help desk, always through ``Model.objects.restrict(user, action)``."""

from __future__ import annotations

from typing import Any

from rapport.core.errors import NotFound
from rapport.support.models import REFERENCE_OFFSET, Ticket


def visible_tickets(user: Any, action: str = "view"):
    return Ticket.objects.restrict(user, action).filter(deleted_at__isnull=True)


def ticket_get(*, user: Any, ticket_id: int, action: str = "view") -> Ticket:
    ticket = (visible_tickets(user, action).select_related("contact", "assignee")
              .filter(id=ticket_id).first())
    if ticket is None:
        raise NotFound(f"no ticket with id {ticket_id}")
    return ticket


def ticket_id_of(reference: str) -> int | None:
    """``T-10234`` → the ticket's id (None if it is not a reference)."""
    reference = reference.strip().upper()
    if not reference.startswith("T-") or not reference[2:].isdigit():
        return None
    number = int(reference[2:]) - REFERENCE_OFFSET
    return number if number >= 1 else None


# --- events: devices, event rules and what machines reported ---------------------------------

from django.db.models import Q  # noqa: E402

from rapport.contacts import selectors as _contacts  # noqa: E402
from rapport.core.pagination import Page, id_param, keyset, page_limit, page_of  # noqa: E402
from rapport.core.permissions import can  # noqa: E402
from rapport.support.models import Device, EventRule, MachineEvent  # noqa: E402


def visible_devices(user: Any):
    """The devices of the contacts ``user`` sees (none without ``devices.view``)."""
    if not can(user, "devices.view"):
        return Device.objects.none()
    return Device.objects.filter(contact__in=_contacts.visible_contacts(user).values("id"))


def device_list(*, user: Any, params: dict[str, Any] | None = None) -> Page:
    """Devices, newest first; ``contact_id`` keeps one customer's, ``q`` matches id or name."""
    params = {k: v for k, v in (params or {}).items() if v not in (None, "")}
    queryset = visible_devices(user).select_related("contact")
    contact_id = id_param(params, "contact_id", "a contact's id")
    if contact_id is not None:
        queryset = queryset.filter(contact_id=contact_id)
    if params.get("q"):
        q = str(params["q"]).strip()[:100]
        queryset = queryset.filter(Q(device_id__icontains=q) | Q(name__icontains=q))
    fields = ("id",)
    return page_of(keyset(queryset, fields, True, params.get("cursor")), fields,
                   page_limit(params), params)


def device_get(*, user: Any, device_pk: int) -> Device:
    device = visible_devices(user).select_related("contact").filter(pk=device_pk).first()
    if device is None:
        raise NotFound(f"no device with id {device_pk}")
    return device


def event_rules(*, user: Any) -> list[EventRule]:
    """Every rule in the order they are tried (none without ``event_rules.view``)."""
    if not can(user, "event_rules.view"):
        return []
    return list(EventRule.objects.order_by("position", "id"))


def event_rule_get(*, user: Any, rule_id: int) -> EventRule:
    rule = (EventRule.objects.filter(pk=rule_id).first()
            if can(user, "event_rules.view") else None)
    if rule is None:
        raise NotFound(f"no event rule with id {rule_id}")
    return rule


def machine_event_list(*, user: Any, params: dict[str, Any] | None = None) -> Page:
    """What devices reported, newest first; ``device`` (a device's id number) keeps one's."""
    params = {k: v for k, v in (params or {}).items() if v not in (None, "")}
    queryset = (MachineEvent.objects
                .filter(device__in=visible_devices(user).values("id"))
                .select_related("device", "rule", "ticket"))
    device = id_param(params, "device", "a device's id number")
    if device is not None:
        queryset = queryset.filter(device_id=device)
    fields = ("id",)
    return page_of(keyset(queryset, fields, True, params.get("cursor")), fields,
                   page_limit(params), params)
