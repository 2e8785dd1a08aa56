"""Tickets in the one search box: by reference (T-10234), subject or requester's address."""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.urls import reverse

from rapport.core.registry import SearchHit
from rapport.support.models import REFERENCE_OFFSET, Ticket


def tickets(*, user: Any, q: str, limit: int) -> list[SearchHit]:
    q = q.strip()[:200]
    number = q.upper().removeprefix("T-")
    ticket_id = int(number) - REFERENCE_OFFSET if q.upper().startswith("T-") and \
        number.isdigit() and len(number) < 15 and int(number) > REFERENCE_OFFSET else None
    found = Ticket.objects.restrict(user, "view").filter(deleted_at__isnull=True)
    found = found.filter(id=ticket_id) if ticket_id is not None else found.filter(
        Q(subject__icontains=q) | Q(requester_email__icontains=q.lower()))
    return [SearchHit(type="ticket", id=t.id, title=f"{t.reference} {t.subject}",
                      subtitle=" · ".join(p for p in (f"ticket ({t.get_status_display()})",
                                                      t.requester_email) if p),
                      url=reverse("ticket_detail", args=[t.id]),
                      score=1.0 if ticket_id is not None else 0.5)
            for t in found.order_by("-created_at", "-id")[:limit]]
