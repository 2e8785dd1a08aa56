"""Writes for tickets, the knowledge base, the assistant and the desk's settings: keyword-only,
one typed input, one transaction, events recorded. Split by what they change; import them
from here."""

from rapport.support.services.tickets import (
    Opened,
    excerpt,
    requester,
    shown,
    support_actor,
    ticket_open,
)

__all__ = ["Opened", "excerpt", "requester", "shown", "support_actor", "ticket_open"]
