"""The shape of every write to the help desk: the API takes these as request bodies, the pages
fill them from forms and the services take them (limits from the model columns, choices from
their ``TextChoices``)."""

from __future__ import annotations

import datetime as dt
import html
from typing import Annotated, Any

import nh3
from pydantic import AfterValidator, BeforeValidator, Field, ValidationInfo, field_validator

from rapport.core.inputs import Input, Text
from rapport.core.validation import email_value
from rapport.support.models import Channel, Priority, Ticket, TicketMessage

RecordId = Annotated[int, Field(ge=1, le=2**63 - 1)]


def plain_message(value: str) -> str:
    """What a customer or agent wrote, as plain text: tags and what scripts and styles hold are
    dropped (a message may arrive as HTML from a mail client or a pasted page), entities read."""
    if not value:
        return ""
    if "<" not in value and "&" not in value:
        return value.strip()
    cleaned = nh3.clean(value, tags=set(), clean_content_tags={"script", "style"})
    return html.unescape(cleaned).strip()


def _email(value: str) -> str:
    return email_value(value) if value else ""


def _blank_is_none(value: Any) -> Any:
    return None if isinstance(value, str) and not value.strip() else value


MessageBody = Annotated[str, Text.of(TicketMessage, "body"), AfterValidator(plain_message)]


class TicketOpenInput(Input):
    """A new request from any channel. The requester is ``contact_id`` or, by ``email``, the
    person with that address (made if unknown)."""

    subject: Annotated[str, Text.of(Ticket, "subject", min_length=1),
                       AfterValidator(plain_message)]
    description: Annotated[str, Text.of(Ticket, "description"),
                           AfterValidator(plain_message)] = ""
    channel: Channel = Channel.API
    contact_id: Annotated[RecordId | None, BeforeValidator(_blank_is_none)] = None
    email: Annotated[str, Text(254), AfterValidator(_email)] = ""
    name: Annotated[str, Text(200), AfterValidator(plain_message)] = ""
    category: Annotated[str, Text.of(Ticket, "category")] = ""
    priority: Priority = Priority.NORMAL



# --- ai: the reports' date range ---
REPORT_MAX_DAYS = 731


class ReportRangeInput(Input):
    """The reports' dates (``since``/``until``, both included); empty: the last 12 weeks."""

    since: Annotated[dt.date | None, BeforeValidator(_blank_is_none)] = None
    until: Annotated[dt.date | None, BeforeValidator(_blank_is_none)] = None

    @field_validator("until")
    @classmethod
    def _after_since(cls, value: dt.date | None, info: ValidationInfo) -> dt.date | None:
        since = info.data.get("since")
        if value is not None and since is not None:
            if value < since:
                raise ValueError("must not be before since")
            if (value - since).days >= REPORT_MAX_DAYS:
                raise ValueError(f"the range may span at most {REPORT_MAX_DAYS} days")
        return value
