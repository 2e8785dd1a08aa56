"""/api/v1/tickets: list (filters, cursor paging), get, open, change, reply, note, merge, close.

Each endpoint parses, calls one service or selector and answers with a schema. Bad input is a
422 naming the field, a ticket you may not see a 404, a stale ``version`` a 409 with the
ticket as it now is.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from rapport.core.api_schemas import ERRORS, WRITE_ERRORS
from rapport.core.inputs import Text
from rapport.support import selectors, services
from rapport.support.inputs import (
    TicketChanges,
    TicketCloseInput,
    TicketMergeInput,
    TicketMessageInput,
    TicketOpenInput,
)
from rapport.support.models import Ticket, TicketMessage
from rapport.support.services.mail import open_and_acknowledge

router = Router(tags=["tickets"])


class TicketOut(Schema):
    id: int
    reference: str
    subject: str
    description: str
    contact_id: int
    requester_email: str
    channel: str
    category: str
    priority: str
    status: str
    tier: str
    assignee_id: int | None
    deal_id: int | None
    merged_into_id: int | None
    sla_state: str
    first_response_due: dt.datetime | None
    resolution_due: dt.datetime | None
    first_responded_at: dt.datetime | None
    resolved_at: dt.datetime | None
    closed_at: dt.datetime | None
    reopened_count: int
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime

    @staticmethod
    def resolve_reference(obj: Ticket) -> str:
        return obj.reference


class TicketPage(Schema):
    items: list[TicketOut]
    next_cursor: str | None


class MessageOut(Schema):
    id: int
    ticket_id: int
    kind: str
    author_id: int | None
    body: str
    channel: str
    message_id: str
    created_at: dt.datetime


class TicketDetailOut(TicketOut):
    messages: list[MessageOut]

    @staticmethod
    def resolve_messages(obj: Ticket) -> list[TicketMessage]:
        return selectors.ticket_thread(ticket_id=obj.id)


class TicketFilters(Schema):
    status: Annotated[str, Text(16)] | None = Field(
        None, description="a status, or active (new, open and waiting)")
    assignee: Annotated[str, Text(20)] | None = Field(None, description="me, none or a user id")
    priority: Annotated[str, Text(16)] | None = None
    category: Annotated[str, Text(100)] | None = None
    channel: Annotated[str, Text(16)] | None = None
    q: Annotated[str, Text(200)] | None = Field(
        None, description="a reference (T-10234), or part of the subject or requester's email")
    view: Annotated[str, Text(16)] | None = Field(None, description="mine, unassigned, at_risk")
    cursor: str | None = None
    limit: int = Field(50, ge=1, le=200)


@router.get("/tickets", response={200: TicketPage, **ERRORS})
def list_tickets(request: HttpRequest, filters: Query[TicketFilters]):
    page = selectors.ticket_list(user=request.user, params=filters.model_dump())
    return {"items": page.items, "next_cursor": page.next_cursor}


@router.post("/tickets", response={201: TicketDetailOut, **ERRORS})
def open_ticket(request: HttpRequest, payload: TicketOpenInput):
    """Open a ticket (channel ``api`` unless given); the requester is acknowledged by email."""
    opened = open_and_acknowledge(actor=request.user, data=payload.model_dump())
    return Status(201, selectors.ticket_get(user=request.user, ticket_id=opened.ticket.id))


@router.get("/tickets/{int:ticket_id}", response={200: TicketDetailOut, **ERRORS})
def get_ticket(request: HttpRequest, ticket_id: int):
    return selectors.ticket_get(user=request.user, ticket_id=ticket_id)


@router.patch("/tickets/{int:ticket_id}", response={200: TicketOut, **WRITE_ERRORS})
def update_ticket(request: HttpRequest, ticket_id: int, payload: TicketChanges):
    """Change category, priority, status, assignee_id or deal_id, with the ``version`` you
    read. Status ``closed`` mails the satisfaction survey."""
    services.ticket_update(actor=request.user, ticket_id=ticket_id, version=payload.version,
                           changes=payload, site=request.build_absolute_uri("/"))
    return selectors.ticket_get(user=request.user, ticket_id=ticket_id)


@router.post("/tickets/{int:ticket_id}/replies", response={201: MessageOut, **WRITE_ERRORS})
def reply(request: HttpRequest, ticket_id: int, payload: TicketMessageInput):
    """A public reply, mailed to the requester in the ticket's thread."""
    return Status(201, services.ticket_reply(actor=request.user, ticket_id=ticket_id,
                                             data=payload))


@router.post("/tickets/{int:ticket_id}/notes", response={201: MessageOut, **WRITE_ERRORS})
def note(request: HttpRequest, ticket_id: int, payload: TicketMessageInput):
    """An internal note (never mailed)."""
    return Status(201, services.ticket_note(actor=request.user, ticket_id=ticket_id,
                                            data=payload))


@router.post("/tickets/{int:ticket_id}/merge", response={200: TicketOut, **WRITE_ERRORS})
def merge(request: HttpRequest, ticket_id: int, payload: TicketMergeInput):
    """Merge this ticket (a duplicate, at ``version``) into ``into_id``; answers with the
    surviving ticket."""
    return services.ticket_merge(actor=request.user, ticket_id=ticket_id, data=payload)


@router.post("/tickets/{int:ticket_id}/close", response={200: TicketOut, **WRITE_ERRORS})
def close(request: HttpRequest, ticket_id: int, payload: TicketCloseInput):
    """Close it (at ``version``) and mail the one-click satisfaction survey."""
    services.ticket_close(actor=request.user, ticket_id=ticket_id, version=payload.version,
                          site=request.build_absolute_uri("/"))
    return selectors.ticket_get(user=request.user, ticket_id=ticket_id)
