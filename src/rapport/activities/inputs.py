"""The shape of every write to interactions and tasks: the API, the forms and the services
take these, so a limit or a choice is declared once (limits read from the model columns)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated, Any, Literal

import nh3
from django.utils import timezone
from pydantic import AfterValidator, BeforeValidator, Field, ValidationInfo, field_validator

from rapport.activities.dates import business_zone
from rapport.activities.models import (
    Direction,
    EmailTemplate,
    Interaction,
    InteractionType,
    Mailbox,
    OutboundEmail,
    OutgoingMail,
    Priority,
    Recurrence,
    Sentiment,
    Task,
)
from rapport.core.inputs import Input, Text, partial, plain_text, with_version

RecordId = Annotated[int, Field(ge=1, le=2**63 - 1)]
MAX_ADDRESSES = 100
MAX_FUTURE = dt.timedelta(days=1)  # a call or a note has happened; a meeting may be planned
MAX_REMIND_BEFORE = 7 * 24 * 60
PRIORITY_NAMES = {label: value for value, label in Priority.choices}


def _blank_is_none(value: Any) -> Any:
    return None if isinstance(value, str) and not value.strip() else value


def aware(value: dt.datetime) -> dt.datetime:
    """A moment: naive ones are read in the business's time zone."""
    if timezone.is_naive(value):
        value = value.replace(tzinfo=business_zone())
    if not 1900 <= value.year <= 2200:
        raise ValueError("must be between the years 1900 and 2200")
    return value


def _sanitised_html(value: str) -> str:
    """Email HTML as it may be shown: nh3 keeps formatting and drops scripts and handlers."""
    return nh3.clean(value) if value else ""


def _priority(value: Any) -> Any:
    if isinstance(value, str) and not value.isdigit():
        name = value.strip().lower() or "normal"
        if name not in PRIORITY_NAMES:
            raise ValueError(f"must be one of {', '.join(PRIORITY_NAMES)}")
        return PRIORITY_NAMES[name]
    return value


def _addresses(value: Any) -> Any:
    if isinstance(value, str):
        return [part.strip() for part in value.replace(";", ",").split(",") if part.strip()]
    return value


Moment = Annotated[dt.datetime, BeforeValidator(_blank_is_none), AfterValidator(aware)]
OptionalMoment = Annotated[dt.datetime | None, BeforeValidator(_blank_is_none),
                           AfterValidator(lambda v: None if v is None else aware(v))]
Address = Annotated[str, Text(254, min_length=1)]
Addresses = Annotated[list[Address], BeforeValidator(_addresses),
                      Field(max_length=MAX_ADDRESSES)]
PriorityValue = Annotated[int, BeforeValidator(_priority), Field(ge=1, le=3)]
Minutes = Annotated[Annotated[int, Field(ge=0, le=MAX_REMIND_BEFORE)] | None,
                    BeforeValidator(_blank_is_none)]


def _text(field: str, *, model: type = Interaction, required: bool = False) -> Any:
    return Annotated[str, Text.of(model, field, min_length=1 if required else 0)]


class FollowUpInput(Input):
    """A task to create with the interaction (the offer made by "call back Friday 10am")."""

    title: _text("title", model=Task, required=True)  # type: ignore[valid-type]
    due_at: Moment
    all_day: bool = False


class InteractionInput(Input):
    """A conversation with a customer. ``occurred_at`` defaults to now; the company, to the
    person's. The email and transcript fields are for the email and transcription work (and
    for importers); people logging by hand leave them out."""

    type: InteractionType
    contact_id: RecordId
    company_id: RecordId | None = Field(None, description="defaults to the person's company")
    occurred_at: OptionalMoment = Field(None, description="when it happened (a meeting: its "
                                        "start); defaults to now")
    direction: Direction = Direction.NONE
    subject: _text("subject") = ""  # type: ignore[valid-type]
    body: _text("body") = Field("", description="notes, or the email's text")  # type: ignore[valid-type]
    outcome: _text("outcome") = ""  # type: ignore[valid-type]
    duration_seconds: Annotated[Annotated[int, Field(ge=0, le=24 * 3600)] | None,
                                BeforeValidator(_blank_is_none)] = None
    ends_at: OptionalMoment = None
    location: _text("location") = ""  # type: ignore[valid-type]
    attendees: Annotated[list[Annotated[str, Text(254, min_length=1)]],
                         BeforeValidator(_addresses), Field(max_length=MAX_ADDRESSES)] = []
    channel: _text("channel") = Field("", description="for messages: sms, chat, whatsapp…")  # type: ignore[valid-type]
    body_html: Annotated[str, Text.of(Interaction, "body_html"),
                         AfterValidator(_sanitised_html)] = Field(
        "", description="the email's HTML; sanitised (nh3) before it is stored")
    message_id: _text("message_id") = ""  # type: ignore[valid-type]
    in_reply_to: _text("in_reply_to") = ""  # type: ignore[valid-type]
    references: _text("references") = ""  # type: ignore[valid-type]
    from_address: _text("from_address") = ""  # type: ignore[valid-type]
    to_addresses: Addresses = []
    cc_addresses: Addresses = []
    transcript: _text("transcript") = ""  # type: ignore[valid-type]
    summary: _text("summary") = ""  # type: ignore[valid-type]
    sentiment: Sentiment = Sentiment.NONE
    recording_ref: _text("recording_ref") = ""  # type: ignore[valid-type]
    follow_up: FollowUpInput | None = Field(None, description="also create this task, "
                                            "assigned to you and linked to the interaction")

    @field_validator("occurred_at")
    @classmethod
    def _happened(cls, value: dt.datetime | None, info: ValidationInfo) -> dt.datetime | None:
        if value is not None and info.data.get("type") != InteractionType.MEETING and \
                value > timezone.now() + MAX_FUTURE:
            raise ValueError("is in the future (only meetings may be planned)")
        return value

    @field_validator("ends_at")
    @classmethod
    def _after_start(cls, value: dt.datetime | None, info: ValidationInfo) -> dt.datetime | None:
        start = info.data.get("occurred_at") or timezone.now()
        if value is not None and value < start:
            raise ValueError("must not be before the start")
        return value


if TYPE_CHECKING:  # a change has the fields of the full shape, each may be left out
    InteractionChanges = InteractionInput
    InteractionPatch = InteractionInput
else:
    InteractionChanges = partial(InteractionInput, "InteractionChanges")
    InteractionPatch = with_version(InteractionChanges, "InteractionPatch")


class TaskInput(Input):
    """A task. ``all_day`` tasks are due on the local day of ``due_at``; the assignee defaults
    to whoever creates it; ``remind_before`` is in minutes (empty: no reminder)."""

    title: _text("title", model=Task, required=True)  # type: ignore[valid-type]
    notes: _text("notes", model=Task) = ""  # type: ignore[valid-type]
    due_at: Moment
    all_day: bool = False
    assignee_id: RecordId | None = Field(None, description="defaults to you")
    priority: PriorityValue = Field(Priority.NORMAL, description="low, normal or high")
    contact_id: RecordId | None = None
    company_id: RecordId | None = None
    interaction_id: RecordId | None = None
    recurrence: Recurrence = Recurrence.NONE
    remind_before: Minutes = Field(15, description="minutes before it is due; null: none")

    @field_validator("title", "notes")
    @classmethod
    def _plain(cls, value: str) -> str:
        return plain_text(value)


if TYPE_CHECKING:
    TaskChanges = TaskInput
    TaskPatch = TaskInput
else:
    TaskChanges = partial(TaskInput, "TaskChanges")
    TaskPatch = with_version(TaskChanges, "TaskPatch")


class MailboxInput(Input):
    """The IMAP mailbox to poll. A blank password keeps the stored one."""

    host: Annotated[str, Text.of(Mailbox, "host", min_length=1)]
    port: Annotated[int, Field(ge=1, le=65535)] = 993
    security: Literal["ssl", "starttls", "none"] = "ssl"
    username: Annotated[str, Text.of(Mailbox, "username", min_length=1)]
    password: Annotated[str, Text.of(Mailbox, "password")] = ""
    folder: Annotated[str, Text.of(Mailbox, "folder", min_length=1)] = "INBOX"
    enabled: bool = True
class EmailTemplateInput(Input):
    """A saved email. ``subject`` and ``body`` are templates: ``{{ contact.first_name |
    default("there") }}``, ``{{ last_order.date }}``, ``{{ user.first_name }}``,
    ``{{ business.name }}`` (docs/email.md lists every variable). An unknown variable or
    broken syntax is refused (422 naming the field, with the line)."""

    name: _text("name", model=EmailTemplate, required=True)  # type: ignore[valid-type]
    subject: _text("subject", model=EmailTemplate, required=True)  # type: ignore[valid-type]
    body: Annotated[str, Text(20_000, min_length=1)]


if TYPE_CHECKING:
    EmailTemplateChanges = EmailTemplateInput
    EmailTemplatePatch = EmailTemplateInput
else:
    EmailTemplateChanges = partial(EmailTemplateInput, "EmailTemplateChanges")
    EmailTemplatePatch = with_version(EmailTemplateChanges, "EmailTemplatePatch")


class EmailSendInput(Input):
    """An email to one person, sent by the worker. Give a ``template_id``, or the
    ``subject`` and ``body`` (templates too, rendered the same way); either overrides the
    template's. It goes to ``to`` (one of the person's addresses) or their primary address."""

    contact_id: RecordId
    template_id: RecordId | None = None
    subject: _text("subject", model=OutboundEmail) = Field(  # type: ignore[valid-type]
        "", description="a template; empty: the template's")
    body: Annotated[str, Text(20_000)] = Field("", description="a template; empty: the "
                                                               "template's")
    to: Annotated[str, Text.of(OutboundEmail, "to_address")] = Field(
        "", description="one of the person's addresses; empty: their primary one")


class TransactionalEmailInput(Input):
    """A system email to an address that is nobody's contact yet (a confirmation link):
    plain text, as given (no template), sent by the worker through the same ledger."""

    to: Annotated[str, Text.of(OutboundEmail, "to_address", min_length=1)]
    subject: _text("subject", model=OutboundEmail, required=True)  # type: ignore[valid-type]
    body: Annotated[str, Text(20_000, min_length=1)]


class OutgoingMailInput(Input):
    """The outgoing mail server, as the settings page overrides it (empty: the environment's).
    No password here: it comes from ``EMAIL_HOST_PASSWORD`` only."""

    host: Annotated[str, Text.of(OutgoingMail, "host")] = ""
    port: Annotated[Annotated[int, Field(ge=1, le=65535)] | None,
                    BeforeValidator(_blank_is_none)] = None
    username: Annotated[str, Text.of(OutgoingMail, "username")] = ""
    use_tls: bool = False
    use_ssl: bool = False
    from_email: Annotated[str, Text.of(OutgoingMail, "from_email")] = ""
    business_name: Annotated[str, Text.of(OutgoingMail, "business_name")] = ""

    @field_validator("use_ssl")
    @classmethod
    def _one_of(cls, value: bool, info: ValidationInfo) -> bool:
        if value and info.data.get("use_tls"):
            raise ValueError("use either STARTTLS or SSL, not both")
        return value


class CallUploadInput(Input):
    """A recorded call to log: whose (``contact_id``, or the caller's ``phone`` in any
    format) and how it went; the recording itself is the ``recording`` file."""

    contact_id: RecordId | None = Field(None, description="the person; or give phone")
    phone: Annotated[str, Text(40)] = Field("", description="the other side's number, in any "
                                            "format (found among your contacts' phones)")
    direction: Direction = Field(Direction.INBOUND, description="inbound: they called")
    occurred_at: OptionalMoment = Field(None, description="when the call was; defaults to now")
    outcome: _text("outcome") = ""  # type: ignore[valid-type]

    @field_validator("occurred_at")
    @classmethod
    def _happened(cls, value: dt.datetime | None) -> dt.datetime | None:
        if value is not None and value > timezone.now() + MAX_FUTURE:
            raise ValueError("is in the future")
        return value
