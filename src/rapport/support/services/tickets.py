"""Opening a ticket: the one way in for every channel (email, web form, chat, phone, API,
machine events). The requester is found by contact id or email, made if unknown; the ticket,
its first message and its first status are written in one transaction with their events."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from rapport.accounts import selectors as accounts
from rapport.contacts import selectors as contacts
from rapport.contacts import services as contact_services
from rapport.core.errors import PermissionDenied, ValidationFailed
from rapport.core.events import record_events
from rapport.core.inputs import parse
from rapport.core.permissions import can
from rapport.support import events
from rapport.support.inputs import TicketOpenInput
from rapport.support.models import (
    MessageKind,
    StatusChange,
    Ticket,
    TicketMessage,
)
from rapport.support.services.assignment import assign_by_rules  # desk

EXCERPT = 140


def support_actor() -> Any:
    """Who tickets from outside (email, forms, the assistant, machines) are opened as:
    ``RAPPORT_SUPPORT_USER``, else the first user who may change every ticket (the owner)."""
    name = getattr(settings, "RAPPORT_SUPPORT_USER", "")
    if name:
        user = accounts.user_by_name(username=name)
        if user is None:
            raise ValidationFailed({"RAPPORT_SUPPORT_USER": f"no active user {name!r}"})
        return user
    user = accounts.first_user_with(permission="tickets.change")
    if user is None:
        raise ValidationFailed({"RAPPORT_SUPPORT_USER": "no user may receive tickets: create "
                                "an owner first"})
    return user


def excerpt(text: str, limit: int = EXCERPT) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def shown(ticket: Ticket) -> dict[str, Any]:
    """What a timeline shows of a ticket."""
    return {"reference": ticket.reference, "subject": ticket.subject,
            "channel": ticket.channel, "priority": ticket.priority,
            "category": ticket.category, "status": ticket.status}


@dataclass
class Opened:
    ticket: Ticket
    message: TicketMessage
    contact_created: bool


def _split_name(name: str, email: str) -> tuple[str, str]:
    name = " ".join(name.split())
    if not name:
        name = email.split("@", 1)[0].replace(".", " ").replace("_", " ").title()
    first, _, last = name.partition(" ")
    return first[:100] or email[:100], last[:100]


def requester(*, actor: Any, contact_id: int | None, email: str, name: str,
              source: str) -> tuple[Any, bool]:
    """The contact a request comes from: by id (the actor must see them), else the person
    with this address, else a new contact (``source`` says where they came from)."""
    if contact_id is not None:
        return contacts.contact_get(user=actor, contact_id=contact_id), False
    found = contacts.contacts_by_email(user=actor, emails=[email])
    if email in found:
        return contacts.contact_get(user=actor, contact_id=found[email]["id"]), False
    if contacts.known_emails(emails=[email]):
        raise PermissionDenied(f"{email} belongs to a contact you may not see")
    first, last = _split_name(name, email)
    contact = contact_services.contact_create(actor=actor, data={
        "first_name": first, "last_name": last, "emails": [email], "source": source})
    return contact, True


def ticket_open(*, actor: Any, data: TicketOpenInput | Mapping[str, Any],
                now: dt.datetime | None = None, **links: Any) -> Opened:
    """A new ticket from any channel, with the request as its first message.

    ``links`` sets where it came from, when not a person: ``conversation`` (the assistant's
    chat), ``device`` (a machine's event), ``thread_message_id``/``message_id``/
    ``mail_message_id`` (the email it came in).
    """
    entry = parse(TicketOpenInput, data)
    if entry.contact_id is None and not entry.email:
        raise ValidationFailed({"email": "give the requester's email (or contact_id)"})
    if not can(actor, "tickets.add"):
        raise PermissionDenied("you may not open tickets")
    now = now or timezone.now()
    message_id = links.pop("message_id", "")
    mail_message_id = links.pop("mail_message_id", None)
    assign = links.pop("assign", True)  # desk: False leaves it to the caller (tests, imports)
    with transaction.atomic():
        contact, created = requester(actor=actor, contact_id=entry.contact_id,
                                     email=entry.email, name=entry.name,
                                     source=f"support {entry.channel}")
        ticket = Ticket.objects.create(
            subject=entry.subject, description=entry.description, contact_id=contact.id,
            requester_email=entry.email or (contact.primary_email or ""),
            channel=entry.channel, category=entry.category, priority=entry.priority,
            last_customer_message_at=now, **links)
        message = TicketMessage.objects.create(
            ticket=ticket, kind=MessageKind.CUSTOMER, body=entry.description or entry.subject,
            channel=entry.channel, message_id=message_id, mail_message_id=mail_message_id,
            created_at=now)
        StatusChange.objects.create(ticket=ticket, from_status="", to_status=ticket.status,
                                    actor=actor, at=now)
        opened = [events.ticket_opened(ticket_id=ticket.id, contact_id=contact.id,
                                       actor_id=actor.id, shown=shown(ticket))]
        # --- desk: assignment by rules at open (services/assignment.py) ---
        if assign:
            opened.append(assign_by_rules(ticket=ticket, actor=actor, now=now))
        # --- end desk ---
        record_events(opened)
    return Opened(ticket=ticket, message=message, contact_created=created)
