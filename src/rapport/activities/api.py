"""/api/v1/ endpoints for interactions and tasks: parse, call one service or selector, answer.

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
from rapport.activities.inputs import InteractionInput, InteractionPatch, TaskInput, TaskPatch
from rapport.activities.models import Interaction, Priority, Task
from rapport.core.api_schemas import ERRORS, WRITE_ERRORS

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
    since: dt.date | None = Field(None, description="on or after this (local) day")
    until: dt.date | None = Field(None, description="on or before this (local) day")
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
    due_before: dt.date | None = Field(None, description="due on or before this day")
    due_after: dt.date | None = Field(None, description="due on or after this day")
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
