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
from rapport.support.models import Channel, Priority, Status, Ticket, TicketMessage

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



# --- desk: replies, notes, changes, merges, links, surveys, agents and saved views ---

Version = Annotated[int, Field(ge=1, le=2**31 - 1)]
Time = Annotated[str, Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")]
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class TicketMessageInput(Input):
    """A public reply (mailed to the requester, threaded) or an internal note (never
    mailed)."""

    body: Annotated[str, Text(50_000, min_length=1), AfterValidator(plain_message)]


class TicketChanges(Input):
    """What an agent changes on a ticket (only what is given), read at ``version``."""

    version: Version | None = None
    category: Annotated[str, Text.of(Ticket, "category")] | None = None
    priority: Priority | None = None
    status: Status | None = None
    assignee_id: Annotated[RecordId | None, BeforeValidator(_blank_is_none)] = None
    deal_id: Annotated[RecordId | None, BeforeValidator(_blank_is_none)] = None


class TicketMergeInput(Input):
    """Merge this ticket (the duplicate, at ``version``) into ``into_id``."""

    version: Version | None = None
    into_id: RecordId


class TicketCloseInput(Input):
    version: Version | None = None


class SurveyAnswerInput(Input):
    score: Annotated[int, Field(ge=1, le=5)]
    comment: Annotated[str, Text(2000), AfterValidator(plain_message)] | None = None


def _hours(value: Any) -> dict[str, list[list[str]]]:
    """``{"mon": [["09:00", "17:00"]], ...}`` checked: known days, start before end."""
    if value in (None, "", {}):
        return {}
    if not isinstance(value, dict):
        raise ValueError("must map days (mon … sun) to [start, end] pairs")
    out: dict[str, list[list[str]]] = {}
    for day, spans in value.items():
        if day not in DAYS:
            raise ValueError(f"{day!r} is not a day: use {', '.join(DAYS)}")
        if not isinstance(spans, list):
            raise ValueError(f"{day}: must be a list of [start, end] pairs")
        out[day] = []
        for span in spans:
            if (not isinstance(span, list | tuple) or len(span) != 2
                    or not all(isinstance(t, str) and len(t) == 5 and t[2] == ":"
                               and t[:2].isdigit() and t[3:].isdigit()
                               and int(t[:2]) < 24 and int(t[3:]) < 60 for t in span)):
                raise ValueError(f"{day}: each span is [\"HH:MM\", \"HH:MM\"]")
            if span[0] >= span[1]:
                raise ValueError(f"{day}: {span[0]}–{span[1]} ends before it starts")
            out[day].append([span[0], span[1]])
    return out


def _skills(value: Any) -> list[str]:
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, list | tuple):
        raise ValueError("must be a list of categories")
    skills = []
    for item in value:
        item = " ".join(str(item).split())
        if len(item) > 100:
            raise ValueError("each category is at most 100 characters")
        if item and item.lower() not in {s.lower() for s in skills}:
            skills.append(item)
    if len(skills) > 50:
        raise ValueError("at most 50 categories")
    return skills


class AgentProfileInput(Input):
    """An agent's skills (the categories they take), whether they take tickets now, and
    their own working hours (empty: the business's)."""

    skills: Annotated[list[str], BeforeValidator(_skills)] = Field(default_factory=list)
    accepts_tickets: bool = True
    working_hours: Annotated[dict[str, list[list[str]]], BeforeValidator(_hours)] = Field(
        default_factory=dict)


class TicketViewInput(Input):
    name: Annotated[str, Text(100, min_length=1)]
    query: Annotated[str, Text(1000)] = ""


class SupportRequestInput(Input):
    """The public support form (``/help/request/``)."""

    name: Annotated[str, Text(200), AfterValidator(plain_message)] = ""
    email: Annotated[str, Text(254, min_length=1), AfterValidator(_email)]
    subject: Annotated[str, Text.of(Ticket, "subject", min_length=1),
                       AfterValidator(plain_message)]
    description: Annotated[str, Text(20000, min_length=1), AfterValidator(plain_message)]
# --- end desk ---
# --- events: devices, event rules and what machines report -----------------------------------
# --- sla: business hours and SLA policies ------------------------------------------------------

import datetime as _dt  # noqa: E402
import re as _re  # noqa: E402
import zoneinfo as _zoneinfo  # noqa: E402

import holidays as _holidays  # noqa: E402

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
# --- events: devices, event rules and what machines report -----------------------------------

import json as _json  # noqa: E402
import math as _math  # noqa: E402
import re as _re  # noqa: E402
from typing import Literal  # noqa: E402

from rapport.core.inputs import plain_text  # noqa: E402
from rapport.support.models import (  # noqa: E402
    Device,
    EventRule,
    MachineEvent,
)

PAYLOAD_MAX_BYTES = 16 * 1024
PAYLOAD_MAX_DEPTH = 5  # the payload object is level 1

# "" = no condition; eq, ne, lt, gt, contains (the model's RuleOperator).
Operator = Literal["", "eq", "ne", "lt", "gt", "contains"]

_TOKEN = _re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/-]*\Z")
_PATH = _re.compile(r"[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*\Z")


def _token(value: str) -> str:
    """A device id or an event type: what machines send and rules match exactly."""
    if value and not _TOKEN.match(value):
        raise ValueError("use letters, digits and . _ - : / only (no spaces), starting with a "
                         "letter or digit")
    return value


def _path(value: str) -> str:
    if value and not _PATH.match(value):
        raise ValueError("a payload field's name, with dots into nested objects "
                         "(coolant.level); letters, digits, _ and - only")
    return value


def _payload_value(value: Any, depth: int, where: str) -> None:
    if isinstance(value, dict):
        if depth > PAYLOAD_MAX_DEPTH:
            raise ValueError(f"is nested deeper than {PAYLOAD_MAX_DEPTH} levels (at {where})")
        for key, item in value.items():
            if not isinstance(key, str):
                raise ValueError(f"has a key that is not text (at {where or 'the top'})")
            try:
                plain_text(key)
            except ValueError as error:
                raise ValueError(f"key {key[:40]!r} {error}") from None
            _payload_value(item, depth + 1, f"{where}.{key}" if where else key)
    elif isinstance(value, list):
        if depth > PAYLOAD_MAX_DEPTH:
            raise ValueError(f"is nested deeper than {PAYLOAD_MAX_DEPTH} levels (at {where})")
        for index, item in enumerate(value):
            _payload_value(item, depth + 1, f"{where}.{index}")
    elif isinstance(value, str):
        try:
            plain_text(value)
        except ValueError as error:
            raise ValueError(f"{where}: {error}") from None
    elif isinstance(value, float) and not _math.isfinite(value):
        raise ValueError(f"{where}: numbers must be finite (no NaN or Infinity)")
    elif value is not None and not isinstance(value, bool | int | float):
        raise ValueError(f"{where}: only JSON values are allowed")


def event_payload(value: Any) -> dict[str, Any]:
    """A machine's payload: a JSON object of at most 16 KB, nested at most 5 levels, holding
    only what a database stores (no NUL, no NaN). Strings are kept as sent: every page escapes
    them and tickets get them as plain text."""
    if not isinstance(value, dict):
        raise ValueError('must be a JSON object, like {"coolant_level": 12}')
    _payload_value(value, 1, "")
    size = len(_json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode())
    if size > PAYLOAD_MAX_BYTES:
        raise ValueError(f"must be at most {PAYLOAD_MAX_BYTES // 1024} KB of JSON "
                         f"(got {size} bytes)")
    return value


def _aware(value: _dt.datetime | None) -> _dt.datetime | None:
    """A time without a zone is taken as UTC (what machines mostly send)."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=_dt.UTC)
    return value


DeviceKey = Annotated[str, Text.of(Device, "device_id", min_length=1), AfterValidator(_token)]
EventType = Annotated[str, Text.of(MachineEvent, "event_type", min_length=1),
                      AfterValidator(_token)]


class DeviceInput(Input):
    """A customer's machine: the id it reports with, a name people know it by, its owner."""

    device_id: DeviceKey
    name: Annotated[str, Text.of(Device, "name"), AfterValidator(plain_message)] = ""
    contact_id: RecordId


class DevicePatch(Input):
    device_id: DeviceKey | None = None
    name: Annotated[str, Text.of(Device, "name"), AfterValidator(plain_message)] | None = None
    contact_id: RecordId | None = None


class EventRuleInput(Input):
    """``event_type`` (and, if ``field`` is given, ``payload[field] operator value``) opens a
    ticket titled ``subject`` (``{device}``, ``{type}`` and ``{payload_field}`` are filled
    in)."""

    name: Annotated[str, Text.of(EventRule, "name", min_length=1),
                    AfterValidator(plain_message)]
    event_type: Annotated[str, Text.of(EventRule, "event_type", min_length=1),
                          AfterValidator(_token)]
    field: Annotated[str, Text.of(EventRule, "field"), AfterValidator(_path)] = ""
    operator: Operator = ""
    value: Annotated[str, Text.of(EventRule, "value")] = ""
    subject: Annotated[str, Text.of(EventRule, "subject", min_length=1),
                       AfterValidator(plain_message)]
    category: Annotated[str, Text.of(EventRule, "category"),
                        AfterValidator(plain_message)] = ""
    priority: Priority = Priority.NORMAL
    active: bool = True


class EventRulePatch(Input):
    name: Annotated[str, Text.of(EventRule, "name", min_length=1),
                    AfterValidator(plain_message)] | None = None
    event_type: Annotated[str, Text.of(EventRule, "event_type", min_length=1),
                          AfterValidator(_token)] | None = None
    field: Annotated[str, Text.of(EventRule, "field"), AfterValidator(_path)] | None = None
    operator: Operator | None = None
    value: Annotated[str, Text.of(EventRule, "value")] | None = None
    subject: Annotated[str, Text.of(EventRule, "subject", min_length=1),
                       AfterValidator(plain_message)] | None = None
    category: Annotated[str, Text.of(EventRule, "category"),
                        AfterValidator(plain_message)] | None = None
    priority: Priority | None = None
    active: bool | None = None
    position: Annotated[int, Field(ge=1, le=100000)] | None = None


class MachineEventInput(Input):
    """What a machine reports: ``POST /api/v1/events``."""

    device_id: DeviceKey
    type: EventType
    payload: Annotated[Any, AfterValidator(event_payload)] = Field(
        default_factory=dict, json_schema_extra={"type": "object"},
        description="a JSON object of at most 16 KB, nested at most 5 levels")
    occurred_at: Annotated[_dt.datetime | None, AfterValidator(_aware)] = None
# --- assistant: knowledge base, help-centre votes, the chat widget and its settings ---

from typing import TYPE_CHECKING, Literal  # noqa: E402

from rapport.core.inputs import partial, with_version  # noqa: E402
from rapport.support.models import (  # noqa: E402
    Article,
    ArticleCategory,
    ArticleStatus,
    ChatConversation,
    ChatMessage,
)


class ArticleCategoryInput(Input):
    name: Annotated[str, Text.of(ArticleCategory, "name", min_length=1)]


class ArticleInput(Input):
    """A help article or an FAQ entry (``is_faq``: the title is the question). ``slug`` is
    made from the title when left out; ``category_id`` is one of the knowledge base's."""

    title: Annotated[str, Text.of(Article, "title", min_length=1),
                     AfterValidator(plain_message)]
    body: Annotated[str, Text.of(Article, "body", min_length=1)]
    slug: Annotated[str, Text.of(Article, "slug"), Field(pattern=r"^[-a-z0-9]*$")] = ""
    category_id: Annotated[RecordId | None, BeforeValidator(_blank_is_none)] = None
    status: ArticleStatus = ArticleStatus.DRAFT
    is_faq: bool = False


if TYPE_CHECKING:
    ArticleChanges = ArticleInput
    ArticlePatch = ArticleInput
else:
    ArticleChanges = partial(ArticleInput, "ArticleChanges")
    ArticlePatch = with_version(ArticleChanges, "ArticlePatch")

# What a visitor may send the assistant: one message at most this long (the column's limit).
CHAT_MESSAGE_LIMIT = ChatMessage._meta.get_field("text").max_length
VisitorKey = Annotated[str, Text(64, min_length=8), Field(pattern=r"^[-_A-Za-z0-9]+$")]


class ChatStartInput(Input):
    visitor: VisitorKey
    page_url: Annotated[str, Text.of(ChatConversation, "page_url")] = ""


class ChatMessageInput(Input):
    token: Annotated[str, Text(64, min_length=8)]
    text: Annotated[str, Text(CHAT_MESSAGE_LIMIT or 4000), AfterValidator(plain_message)]


class ChatFeedbackInput(Input):
    token: Annotated[str, Text(64, min_length=8)]
    message_id: RecordId
    value: Literal[1, -1]


class ChatHandoverInput(Input):
    token: Annotated[str, Text(64, min_length=8)]
    name: Annotated[str, Text.of(ChatConversation, "name", min_length=1),
                    AfterValidator(plain_message)]
    email: Annotated[str, Text(254, min_length=3), AfterValidator(_email)]


def _origins(value: Any) -> list[str]:
    if isinstance(value, str):
        value = value.split()
    return [str(v).strip() for v in value if str(v).strip()]


def _origin_list(values: list[str]) -> list[str]:
    from urllib.parse import urlsplit

    seen: list[str] = []
    for value in values:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.path not in (
                "", "/") or parts.query or parts.fragment:
            raise ValueError(f"{value!r} is not an origin like https://shop.example "
                             "(scheme and host, optional port, no path)")
        origin = f"{parts.scheme}://{parts.netloc.lower()}"
        if origin not in seen:
            seen.append(origin)
    if len(seen) > 50:
        raise ValueError("at most 50 origins")
    return seen


class AssistantSettingsInput(Input):
    """The widget's allowed sites (origins, one per line in the form) and its greeting."""

    widget_origins: Annotated[list[Annotated[str, Text(200)]], BeforeValidator(_origins),
                              AfterValidator(_origin_list)] = Field(default_factory=list)
    widget_greeting: Annotated[str, Text.of(DeskSettings, "widget_greeting"),
                               AfterValidator(plain_message)] = ""


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
