"""The shape of every write to the help desk: the API takes these as request bodies, the pages
fill them from forms and the services take them (limits from the model columns, choices from
their ``TextChoices``)."""

from __future__ import annotations

import html
from typing import Annotated, Any

import nh3
from pydantic import AfterValidator, BeforeValidator, Field

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



# --- sla: business hours and SLA policies ------------------------------------------------------

import datetime as _dt  # noqa: E402
import re as _re  # noqa: E402
import zoneinfo as _zoneinfo  # noqa: E402

import holidays as _holidays  # noqa: E402
from pydantic import field_validator  # noqa: E402

from rapport.support.models import ClosedDay, DeskSettings, SlaPolicy, Tier  # noqa: E402

# A policy's target may be up to a year of business minutes.
MAX_TARGET_MINUTES = 366 * 24 * 60
_DURATION_PART = _re.compile(r"(\d+(?:\.\d+)?)\s*(d|days?|h|hours?|hrs?|m|mins?|minutes?)\b")


def business_minutes(value: Any) -> Any:
    """A target as typed: a number of minutes (``90``) or words (``"1h 30m"``, ``"2d"``,
    ``"4 hours"``). A business day is 8 business hours. Anything else is left for the int
    check to refuse."""
    if isinstance(value, str):
        text = value.strip().lower()
        if text.isdigit():
            return int(text)
        parts = _DURATION_PART.findall(text)
        if parts and not _DURATION_PART.sub("", text).strip(" ,and"):
            per = {"d": 480, "h": 60, "m": 1}
            return round(sum(float(n) * per[unit[0]] for n, unit in parts))
        if text:
            raise ValueError("must be minutes (90) or a duration such as 4h, 1h 30m or 2d")
    return value


TargetMinutes = Annotated[int, BeforeValidator(business_minutes),
                          Field(ge=1, le=MAX_TARGET_MINUTES)]


class SlaPolicyInput(Input):
    """Targets for one priority and customer tier, in business minutes (or ``"4h"``, ``"2d"``:
    a business day is 8 business hours); at risk from ``at_risk_percent`` of the target. The
    service checks what spans fields (resolution not before the first response)."""

    name: Annotated[str, Text.of(SlaPolicy, "name")] = ""
    priority: Priority
    tier: Tier = Tier.STANDARD
    first_response_minutes: TargetMinutes
    resolution_minutes: TargetMinutes
    at_risk_percent: Annotated[int, Field(ge=1, le=99)] = 80
    active: bool = True


class ClosedDayInput(Input):
    day: _dt.date
    name: Annotated[str, Text.of(ClosedDay, "name")] = ""


def _time_zone(value: str) -> str:
    try:
        _zoneinfo.ZoneInfo(value)
    except (_zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{value!r} is not a time zone (e.g. Europe/Stockholm)") from None
    return value


class BusinessHoursInput(Input):
    """The business calendar SLAs are counted in: time zone, public holidays of a country
    (ISO 3166 code, optional subdivision), weekly hours and the business's own closed days.
    The service checks the weekly hours and what spans fields (the subdivision of the
    country, days listed once)."""

    time_zone: Annotated[str, Text.of(DeskSettings, "time_zone", min_length=1),
                         AfterValidator(_time_zone)]
    holiday_country: Annotated[str, Text.of(DeskSettings, "holiday_country")] = ""
    holiday_subdivision: Annotated[str, Text.of(DeskSettings, "holiday_subdivision")] = ""
    # {"mon": [["09:00", "17:00"]], ...} or, as a form sends it, {"mon": "09:00-12:00,
    # 13:00-17:00"}; the service checks the spans. None: Monday–Friday 09:00–17:00.
    hours: dict[str, list[list[str]] | str] | None = None
    closed_days: list[ClosedDayInput] = Field(default_factory=list, max_length=1000)

    @field_validator("holiday_country")
    @classmethod
    def _country(cls, value: str) -> str:
        value = value.upper()
        if value and (len(value) != 2 or value not in _holidays.list_supported_countries()):
            raise ValueError(f"{value!r} is not a country the holidays package knows "
                             "(two letters, e.g. SE, DE, GB, US)")
        return value
