"""/api/v1/ endpoints for interactions, tasks, email templates and emails to customers: parse,
call one service or selector, answer.

Every interaction carries a ``headline`` (its subject, or what it was: "Call (outbound,
5 min)") and an ``excerpt`` (its summary, outcome or notes), whatever its type.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from django.http import HttpRequest
from ninja import Field, File, Form, Query, Router, Schema, Status
from ninja.files import UploadedFile

from rapport.activities import selectors, services
from rapport.activities.inputs import (
    EmailSendInput,
    EmailTemplateInput,
    EmailTemplatePatch,
    InteractionInput,
    InteractionPatch,
    TaskInput,
    TaskPatch,
)
from rapport.activities.models import Interaction, Priority, Task
from rapport.core.api_schemas import ERRORS, WRITE_ERRORS, Day
from rapport.core.errors import ValidationFailed

router = Router(tags=["activities"])
PRIORITY_NAMES = dict(Priority.choices)


class InteractionOut(Schema):
    id: int
    type: str
    direction: str
    contact_id: int
    company_id: int | None
    author_id: int | None
    occurred_at: dt.datetime
    ends_at: dt.datetime | None
    headline: str = Field(..., description="the subject, or what it was")
    excerpt: str = Field(..., description="the summary, outcome or notes, shortened")
    subject: str
    body: str
    outcome: str
    duration_seconds: int | None
    location: str
    attendees: list[str]
    channel: str
    body_html: str
    message_id: str
    in_reply_to: str
    references: str
    from_address: str
    to_addresses: list[str]
    cc_addresses: list[str]
    transcript: str
    summary: str
    sentiment: str
    recording_ref: str
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime

    @staticmethod
    def resolve_headline(obj: Interaction) -> str:
        return selectors.headline(obj)

    @staticmethod
    def resolve_excerpt(obj: Interaction) -> str:
        return selectors.summary_text(obj)


class InteractionPage(Schema):
    items: list[InteractionOut]
    next_cursor: str | None


class InteractionFilters(Schema):
    contact_id: int | None = Field(None, description="the person")
    company_id: int | None = None
    type: Literal["call", "email", "meeting", "note", "message"] | None = None
    author: str | None = Field(None, max_length=20, description="'me' or a user id")
    since: Day | None = Field(None, description="on or after this (local) day")
    until: Day | None = Field(None, description="on or before this (local) day")
    cursor: str | None = None
    limit: int = Field(50, ge=1, le=200)


class TaskOut(Schema):
    id: int
    title: str
    notes: str
    due_at: dt.datetime
    all_day: bool
    status: str = Field(..., description="open or done")
    assignee_id: int
    created_by_id: int | None
    priority: str
    contact_id: int | None
    company_id: int | None
    interaction_id: int | None
    recurrence: str
    remind_before: int | None
    completed_at: dt.datetime | None
    completed_by_id: int | None
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime

    @staticmethod
    def resolve_status(obj: Task) -> str:
        return "done" if obj.completed_at else "open"

    @staticmethod
    def resolve_priority(obj: Task) -> str:
        return PRIORITY_NAMES[obj.priority]


class TaskPage(Schema):
    items: list[TaskOut]
    next_cursor: str | None


class TaskFilters(Schema):
    status: Literal["open", "done", "all"] = "open"
    assignee: str | None = Field(None, max_length=20, description="'me' or a user id")
    contact_id: int | None = None
    due_before: Day | None = Field(None, description="due on or before this day")
    due_after: Day | None = Field(None, description="due on or after this day")
    cursor: str | None = None
    limit: int = Field(50, ge=1, le=200)


# --- interactions ------------------------------------------------------------------------------

@router.get("/interactions", response={200: InteractionPage, **ERRORS})
def list_interactions(request: HttpRequest, filters: Query[InteractionFilters]):
    page = selectors.interaction_list(user=request.user, params=filters.model_dump())
    return {"items": page.items, "next_cursor": page.next_cursor}


@router.post("/interactions", response={201: InteractionOut, **ERRORS})
def log_interaction(request: HttpRequest, payload: InteractionInput):
    """Log a call, email, meeting, note or message. ``follow_up`` also creates a task."""
    return Status(201, services.interaction_log(actor=request.user, data=payload))


class CallOut(Schema):
    id: int = Field(..., description="the logged call (GET /interactions/{id})")
    contact_id: int
    transcription: str = Field(..., description="pending (queued for the worker), done, "
                               "unavailable (not installed or turned off) or failed")
    note: str = Field(..., description="why it is not transcribed, when it is not")


@router.post("/calls/transcribe", response={202: CallOut, **ERRORS})
def transcribe_call(request: HttpRequest, recording: File[UploadedFile | None] = None,
                    contact_id: Form[int | None] = None, phone: Form[str] = "",
                    direction: Form[str] = "inbound", occurred_at: Form[str] = "",
                    outcome: Form[str] = ""):
    """Upload a call's recording (multipart): the call is logged at once with the person
    (``contact_id``, or ``phone``: the caller's number in any format) and answers 202; a
    worker transcribes it and fills ``transcript``, ``summary`` and ``sentiment``. Without
    the ``voice`` extra the call is logged and ``transcription`` is ``unavailable``."""
    data = {"contact_id": contact_id, "phone": phone, "direction": direction,
            "occurred_at": occurred_at or None, "outcome": outcome}
    call = services.call_upload(actor=request.user, file=recording, data=data)
    recording_row = selectors.call_recording(interaction=call)
    return Status(202, {"id": call.id, "contact_id": call.contact_id,
                        "transcription": recording_row.status if recording_row else "",
                        "note": recording_row.note if recording_row else ""})


@router.get("/interactions/{interaction_id}", response={200: InteractionOut, **ERRORS})
def get_interaction(request: HttpRequest, interaction_id: int):
    return selectors.interaction_get(user=request.user, interaction_id=interaction_id)


@router.patch("/interactions/{interaction_id}", response={200: InteractionOut, **WRITE_ERRORS})
def update_interaction(request: HttpRequest, interaction_id: int, payload: InteractionPatch):
    return services.interaction_update(actor=request.user, interaction_id=interaction_id,
                                       version=payload.version,
                                       changes=payload)


@router.delete("/interactions/{interaction_id}", response={204: None, **ERRORS})
def delete_interaction(request: HttpRequest, interaction_id: int):
    services.interaction_delete(actor=request.user, interaction_id=interaction_id)
    return Status(204, None)


# --- tasks -------------------------------------------------------------------------------------

@router.get("/tasks", response={200: TaskPage, **ERRORS})
def list_tasks(request: HttpRequest, filters: Query[TaskFilters]):
    page = selectors.task_list(user=request.user, params=filters.model_dump())
    return {"items": page.items, "next_cursor": page.next_cursor}


@router.post("/tasks", response={201: TaskOut, **ERRORS})
def create_task(request: HttpRequest, payload: TaskInput):
    return Status(201, services.task_create(actor=request.user, data=payload))


@router.get("/tasks/{task_id}", response={200: TaskOut, **ERRORS})
def get_task(request: HttpRequest, task_id: int):
    return selectors.task_get(user=request.user, task_id=task_id)


@router.patch("/tasks/{task_id}", response={200: TaskOut, **WRITE_ERRORS})
def update_task(request: HttpRequest, task_id: int, payload: TaskPatch):
    return services.task_update(actor=request.user, task_id=task_id, version=payload.version,
                                changes=payload)


@router.post("/tasks/{task_id}/complete", response={200: TaskOut, **ERRORS})
def complete_task(request: HttpRequest, task_id: int):
    """Done (logged on the person's timeline); a repeating task gets its next occurrence."""
    return services.task_complete(actor=request.user, task_id=task_id)


@router.post("/tasks/{task_id}/reopen", response={200: TaskOut, **ERRORS})
def reopen_task(request: HttpRequest, task_id: int):
    return services.task_reopen(actor=request.user, task_id=task_id)


@router.delete("/tasks/{task_id}", response={204: None, **ERRORS})
def delete_task(request: HttpRequest, task_id: int):
    services.task_delete(actor=request.user, task_id=task_id)
    return Status(204, None)


# --- captured mail -----------------------------------------------------------------------------

class IngestedOut(Schema):
    status: Literal["stored", "duplicate"]
    message_id: str = Field(..., description="its Message-ID, without angle brackets")
    key: str = Field(..., description="what tells copies apart: the Message-ID, else a hash")
    interaction_ids: list[int] = Field(..., description="one per person it was logged for")
    created_contact_ids: list[int] = Field(..., description="people made for unknown senders")
    problems: list[str] = Field(..., description="what was worked around reading it")


@router.post("/mail/ingest", response={201: IngestedOut, 200: IngestedOut, **ERRORS},
             openapi_extra={"requestBody": {"required": True, "content": {
                 "message/rfc822": {"schema": {"type": "string", "format": "binary"}}}}})
def ingest_mail(request: HttpRequest):
    """Capture one email, sent as the raw RFC 822 message (``Content-Type: message/rfc822``):
    logged on the timeline of everyone in From/To/Cc you may log for, 201; the same message
    again is 200 ``duplicate``; one nobody known is in (or a loop) is 422 with the reason."""
    content_type = request.content_type or ""
    if content_type != "message/rfc822":
        raise ValidationFailed({"body": "send the raw message with Content-Type: "
                                        "message/rfc822"})
    if not request.body.strip():
        raise ValidationFailed({"body": "is empty"})
    result = services.mail_ingest(raw=request.body, source="api", actor=request.user)
    if result.status == "rejected":
        raise ValidationFailed({"body": result.reason})
    return Status(201 if result.status == "stored" else 200, result)
# --- email templates ---------------------------------------------------------------------------

class EmailTemplateOut(Schema):
    id: int
    name: str
    subject: str
    body: str
    owner_id: int | None
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime


class EmailTemplatePage(Schema):
    items: list[EmailTemplateOut]
    next_cursor: str | None


class EmailTemplateFilters(Schema):
    q: str | None = Field(None, max_length=150, pattern=r"^[^\x00-\x1f\x7f]*$",
                          description="in the name")
    owner: str | None = Field(None, max_length=20, description="'me' or a user id")
    cursor: str | None = None
    limit: int = Field(50, ge=1, le=200)


@router.get("/email-templates", response={200: EmailTemplatePage, **ERRORS})
def list_email_templates(request: HttpRequest, filters: Query[EmailTemplateFilters]):
    page = selectors.email_template_list(user=request.user, params=filters.model_dump())
    return {"items": page.items, "next_cursor": page.next_cursor}


@router.post("/email-templates", response={201: EmailTemplateOut, **ERRORS})
def create_email_template(request: HttpRequest, payload: EmailTemplateInput):
    """A template with an unknown variable or broken syntax is 422 naming the field
    (``subject`` or ``body``), with the line and the variable."""
    return Status(201, services.email_template_create(actor=request.user, data=payload))


@router.get("/email-templates/{template_id}", response={200: EmailTemplateOut, **ERRORS})
def get_email_template(request: HttpRequest, template_id: int):
    return selectors.email_template_get(user=request.user, template_id=template_id)


@router.patch("/email-templates/{template_id}",
              response={200: EmailTemplateOut, **WRITE_ERRORS})
def update_email_template(request: HttpRequest, template_id: int, payload: EmailTemplatePatch):
    return services.email_template_update(actor=request.user, template_id=template_id,
                                          version=payload.version, changes=payload)


@router.delete("/email-templates/{template_id}", response={204: None, **ERRORS})
def delete_email_template(request: HttpRequest, template_id: int):
    services.email_template_delete(actor=request.user, template_id=template_id)
    return Status(204, None)


# --- emails to customers -----------------------------------------------------------------------

class OutboundEmailOut(Schema):
    id: int
    contact_id: int
    author_id: int | None
    template_id: int | None
    from_address: str
    to_address: str
    subject: str
    body: str
    message_id: str
    status: str = Field(..., description="queued, sending, sent, uncertain (may have been "
                                         "sent: never resent by itself) or failed")
    attempts: int
    last_error: str
    sent_at: dt.datetime | None
    interaction_id: int | None = Field(None, description="the conversation logged once sent")
    created_at: dt.datetime


class OutboundEmailPage(Schema):
    items: list[OutboundEmailOut]
    next_cursor: str | None


class OutboundEmailFilters(Schema):
    contact_id: int | None = Field(None, ge=1, le=2**63 - 1)
    status: Literal["queued", "sending", "sent", "uncertain", "failed"] | None = None
    cursor: str | None = None
    limit: int = Field(50, ge=1, le=200)


class PreviewOut(Schema):
    to: str
    from_address: str
    subject: str
    body: str


@router.post("/emails/send", response={202: OutboundEmailOut, **ERRORS})
def send_email(request: HttpRequest, payload: EmailSendInput):
    """Render the template for the person and queue the email; the worker sends it (at most
    once; see docs/email.md). A template that cannot be rendered for them is 422 naming
    ``subject`` or ``body`` with the line, and nothing is queued."""
    return Status(202, services.email_send(actor=request.user, data=payload))


@router.post("/emails/preview", response={200: PreviewOut, **ERRORS})
def preview_email(request: HttpRequest, payload: EmailSendInput):
    """The email as ``/emails/send`` would queue it; nothing is saved."""
    draft = services.email_render(actor=request.user, data=payload)
    return {"to": draft.to, "from_address": draft.from_address, "subject": draft.subject,
            "body": draft.body}


@router.get("/emails", response={200: OutboundEmailPage, **ERRORS})
def list_emails(request: HttpRequest, filters: Query[OutboundEmailFilters]):
    page = selectors.outbound_email_list(user=request.user, params=filters.model_dump())
    return {"items": page.items, "next_cursor": page.next_cursor}


@router.get("/emails/{email_id}", response={200: OutboundEmailOut, **ERRORS})
def get_email(request: HttpRequest, email_id: int):
    return selectors.outbound_email_get(user=request.user, email_id=email_id)


@router.post("/emails/{email_id}/requeue", response={202: OutboundEmailOut, **ERRORS})
def requeue_email(request: HttpRequest, email_id: int):
    """Send again an email that may have been sent (``uncertain``) or was not (``failed``),
    with the same Message-ID."""
    return Status(202, services.email_requeue(actor=request.user, email_id=email_id))
