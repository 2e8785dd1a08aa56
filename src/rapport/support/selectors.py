"""Reads of the help desk, always through ``Model.objects.restrict(user, action)``."""

from __future__ import annotations

from typing import Any

from rapport.core.errors import NotFound, ValidationFailed
from rapport.core.pagination import id_param, keyset, page_limit, page_of
from rapport.support.models import (
    CHANNELS,
    OPEN_STATUSES,
    PRIORITIES,
    REFERENCE_OFFSET,
    STATUSES,
    AssignmentLog,
    StatusChange,
    Ticket,
    TicketMessage,
    TicketView,
)


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


# --- desk: the ticket list, a ticket's thread and log, saved views, contact panel, search ---

TICKET_VIEWS = {"mine": "Mine", "unassigned": "Unassigned", "at_risk": "At risk"}
AT_RISK_STATES = ("at_risk", "breached")


def _ticket_params(params: dict[str, Any] | None) -> dict[str, Any]:
    return {k: v for k, v in (params or {}).items() if v not in (None, "")}


def ticket_list(*, user: Any, params: dict[str, Any] | None = None):
    """Newest tickets first, one keyset page. Filters: status (a status or ``active``: new,
    open and waiting), assignee (``me``, ``none`` or a user id), priority, category,
    channel, q (reference, subject or requester's address), view (``mine``,
    ``unassigned``, ``at_risk``: SLA at risk or breached, open tickets only)."""
    params = _ticket_params(params)
    limit = page_limit(params)
    queryset = visible_tickets(user).select_related("contact", "assignee")
    lead: tuple[str, ...] = ()
    view = params.get("view")
    if view:
        if view not in TICKET_VIEWS:
            raise ValidationFailed({"view": f"must be one of {', '.join(TICKET_VIEWS)}"})
        if view == "mine":
            params.setdefault("assignee", "me")
        elif view == "unassigned":
            params.setdefault("assignee", "none")
        else:
            queryset = queryset.filter(sla_state__in=AT_RISK_STATES)
        params.setdefault("status", "active")
    status = params.get("status")
    if status:
        if status == "active":
            queryset = queryset.filter(status__in=OPEN_STATUSES)
        elif status not in STATUSES:
            raise ValidationFailed({"status": f"must be one of active, {', '.join(STATUSES)}"})
        else:
            queryset = queryset.filter(status=status)
    assignee = params.get("assignee")
    if assignee == "none":
        queryset = queryset.filter(assignee__isnull=True)
    elif assignee == "me":
        queryset, lead = queryset.filter(assignee_id=user.id), ("assignee_id",)
    elif assignee:
        assignee_id = id_param(params, "assignee", "a user id, me or none")
        queryset, lead = queryset.filter(assignee_id=assignee_id), ("assignee_id",)
    for name, allowed in (("priority", PRIORITIES), ("channel", CHANNELS)):
        value = params.get(name)
        if value:
            if value not in allowed:
                raise ValidationFailed({name: f"must be one of {', '.join(allowed)}"})
            queryset = queryset.filter(**{name: value})
    if params.get("category"):
        queryset = queryset.filter(category=str(params["category"])[:100])
    if params.get("q"):
        q = str(params["q"]).strip()[:200]
        ticket_id = ticket_id_of(q)
        if ticket_id is not None:
            queryset = queryset.filter(id=ticket_id)
        else:
            queryset = queryset.filter(subject__icontains=q) | queryset.filter(
                requester_email__icontains=q.lower())
    fields = ("created_at", "id")
    return page_of(keyset(queryset, fields, True, params.get("cursor"), lead=lead), fields,
                   limit, params)


def ticket_thread(*, ticket_id: int, limit: int = 500) -> list[Any]:
    """The ticket's messages in order (load the ticket first: that is the check)."""
    return list(TicketMessage.objects.filter(ticket_id=ticket_id).select_related("author")
                .order_by("created_at", "id")[:limit])


def ticket_assignments(*, ticket_id: int, limit: int = 50) -> list[Any]:
    return list(AssignmentLog.objects.filter(ticket_id=ticket_id)
                .select_related("assignee", "actor").order_by("-id")[:limit])


def ticket_statuses(*, ticket_id: int, limit: int = 100) -> list[Any]:
    return list(StatusChange.objects.filter(ticket_id=ticket_id).select_related("actor")
                .order_by("at", "id")[:limit])


def ticket_categories(*, user: Any, limit: int = 100) -> list[str]:
    return list(visible_tickets(user).exclude(category="").order_by("category")
                .values_list("category", flat=True).distinct()[:limit])


def saved_views(*, user: Any) -> list[Any]:
    return list(TicketView.objects.filter(user=user).order_by("name"))


def contact_tickets(*, user: Any, contact_id: int, limit: int = 10) -> list[Ticket]:
    return list(visible_tickets(user).filter(contact_id=contact_id)
                .select_related("assignee").order_by("-created_at", "-id")[:limit])


# --- end desk ---
