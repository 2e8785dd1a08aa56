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
