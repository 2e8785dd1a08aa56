"""The shape of every write to leads, rules, forms and deals: the API takes these as its request
bodies, the pages fill them from their forms and the services take them (limits read from the
model columns, choices from their ``TextChoices``)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any, Literal

import phonenumbers
from pydantic import AfterValidator, BeforeValidator, Field, ValidationInfo, field_validator

from rapport.contacts.inputs import CompanySize
from rapport.core.inputs import Input, Text, partial, with_version
from rapport.core.validation import email_value, phone_value
from rapport.sales.models import (
    AssignmentMethod,
    AssignmentRule,
    Deal,
    DealLine,
    GoalPeriod,
    Grade,
    Lead,
    LeadStatus,
    Operator,
    Pipeline,
    ScoringField,
    Sequence,
    SequenceStep,
    Stage,
    StepKind,
    Territory,
    WebForm,
)

RecordId = Annotated[int, Field(ge=1, le=2**63 - 1)]
COUNTRIES = frozenset(phonenumbers.SUPPORTED_REGIONS)
# What a web form may ask; the order is the order on the form.
FORM_FIELDS = {"name": "Name", "email": "Email", "phone": "Phone", "company_name": "Company",
               "website": "Website", "job_title": "Job title", "country": "Country",
               "postcode": "Postcode", "industry": "Industry",
               "company_size": "Company size", "product_interest": "Interested in",
               "message": "Message"}
UTM_FIELDS = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")
VALUELESS = (Operator.IS_SET, Operator.IS_EMPTY)


def _blank_is_none(value: Any) -> Any:
    return None if isinstance(value, str) and not value.strip() else value


def _country(value: str) -> str:
    value = value.strip().upper()
    if value and value not in COUNTRIES:
        raise ValueError(f"{value!r} is not a country code like SE, GB or US")
    return value


def _email(value: str) -> str:
    return email_value(value) if value else ""


def _website(value: str) -> str:
    value = value.strip()
    if value and ("." not in value or " " in value):
        raise ValueError(f"{value!r} is not a web address like example.com")
    return value


def _list(value: Any) -> Any:
    """Lists may be typed as text: "SE, NO; DK"."""
    if isinstance(value, str):
        return [part.strip() for part in value.replace(";", ",").split(",") if part.strip()]
    return value


def _text(model: type, field: str, *, required: bool = False) -> Any:
    return Annotated[str, Text.of(model, field, min_length=1 if required else 0)]


Country = Annotated[str, Text(2), AfterValidator(_country)]
def _size(value: str) -> str:
    if value and value not in CompanySize.values:
        raise ValueError(f"must be one of {', '.join(CompanySize.values)}")
    return value


Size = Annotated[str, Text(16), AfterValidator(_size)]


class LeadInput(Input):
    """A lead as it is captured (API, web form, import): an email or a phone is required."""

    name: _text(Lead, "name") = ""  # type: ignore[valid-type]
    email: Annotated[str, Text.of(Lead, "email"), AfterValidator(_email)] = ""
    country: Country = ""
    phone: _text(Lead, "phone") = ""  # type: ignore[valid-type]
    company_name: _text(Lead, "company_name") = ""  # type: ignore[valid-type]
    website: Annotated[str, Text.of(Lead, "website"), AfterValidator(_website)] = ""
    job_title: _text(Lead, "job_title") = ""  # type: ignore[valid-type]
    postcode: _text(Lead, "postcode") = ""  # type: ignore[valid-type]
    industry: _text(Lead, "industry") = ""  # type: ignore[valid-type]
    company_size: Size = ""
    message: Annotated[str, Text(5000)] = ""
    source: _text(Lead, "source") = ""  # type: ignore[valid-type]
    product_interest: _text(Lead, "product_interest") = ""  # type: ignore[valid-type]
    utm_source: _text(Lead, "utm_source") = ""  # type: ignore[valid-type]
    utm_medium: _text(Lead, "utm_medium") = ""  # type: ignore[valid-type]
    utm_campaign: _text(Lead, "utm_campaign") = ""  # type: ignore[valid-type]
    utm_term: _text(Lead, "utm_term") = ""  # type: ignore[valid-type]
    utm_content: _text(Lead, "utm_content") = ""  # type: ignore[valid-type]

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str, info: ValidationInfo) -> str:
        """E.164, read in the lead's country when it gave one."""
        if not value:
            return ""
        return phone_value(value, region=(info.data.get("country") or None))


class LeadUpdate(Input):
    """What a person changes on a lead's page (or ``PATCH``)."""

    name: _text(Lead, "name") = ""  # type: ignore[valid-type]
    email: Annotated[str, Text.of(Lead, "email"), AfterValidator(_email)] = ""
    country: Country = ""
    phone: _text(Lead, "phone") = ""  # type: ignore[valid-type]
    company_name: _text(Lead, "company_name") = ""  # type: ignore[valid-type]
    website: Annotated[str, Text.of(Lead, "website"), AfterValidator(_website)] = ""
    job_title: _text(Lead, "job_title") = ""  # type: ignore[valid-type]
    postcode: _text(Lead, "postcode") = ""  # type: ignore[valid-type]
    industry: _text(Lead, "industry") = ""  # type: ignore[valid-type]
    company_size: Size = ""
    source: _text(Lead, "source") = ""  # type: ignore[valid-type]
    product_interest: _text(Lead, "product_interest") = ""  # type: ignore[valid-type]
    status: Literal[LeadStatus.NEW, LeadStatus.WORKING, LeadStatus.QUALIFIED,
                    LeadStatus.DISQUALIFIED] = LeadStatus.NEW
    owner_id: RecordId | None = None

    _phone = field_validator("phone")(LeadInput._phone.__func__)  # type: ignore[attr-defined]


if TYPE_CHECKING:
    LeadChanges = LeadUpdate
else:
    LeadChanges = with_version(partial(LeadUpdate, "LeadChangesBase"), "LeadChanges")


class ConvertInput(Input):
    """Turning a lead into a contact, a company (when it names one) and a deal."""

    create_deal: bool = True
    deal_name: _text(Deal, "name") = ""  # type: ignore[valid-type]
    amount: Annotated[Decimal, Field(ge=0, max_digits=14, decimal_places=2)] = Decimal("0")
    currency: Annotated[str, Text(3), AfterValidator(lambda v: v.upper())] = ""
    expected_close: Annotated[dt.date | None, BeforeValidator(_blank_is_none)] = None
    pipeline_id: RecordId | None = None
    version: Annotated[int | None, Field(ge=1)] = Field(
        None, description="the lead's version you last read; a stale one gets 409")


class DealLineInput(Input):
    """A product from the catalogue (its price unless ``unit_price`` is given), or a free-text
    line with a ``description`` and a ``unit_price``."""

    product_id: Annotated[RecordId | None, BeforeValidator(_blank_is_none)] = None
    description: _text(DealLine, "description") = ""  # type: ignore[valid-type]
    quantity: Annotated[Decimal, Field(gt=0, max_digits=12, decimal_places=3)] = Decimal("1")
    unit_price: Annotated[Annotated[Decimal, Field(ge=0, max_digits=14, decimal_places=2)]
                          | None, BeforeValidator(_blank_is_none)] = Field(
        None, description="required for a line without a product")


class DealInput(Input):
    name: _text(Deal, "name", required=True)  # type: ignore[valid-type]
    amount: Annotated[Decimal, Field(ge=0, max_digits=14, decimal_places=2)] = Decimal("0")
    currency: Annotated[str, Text(3), AfterValidator(lambda v: v.upper())] = ""
    expected_close: Annotated[dt.date | None, BeforeValidator(_blank_is_none)] = None
    pipeline_id: RecordId | None = None
    stage_id: RecordId | None = None
    contact_id: RecordId | None = None
    company_id: RecordId | None = None
    owner_id: RecordId | None = Field(None, description="defaults to you")
    lead_id: RecordId | None = None
    territory_id: Annotated[RecordId | None, BeforeValidator(_blank_is_none)] = None
    next_step: _text(Deal, "next_step") = ""  # type: ignore[valid-type]
    lines: Annotated[list[DealLineInput], Field(max_length=200)] = Field(
        [], description="products from the catalogue; when given, the amount is their total")


class ScoringRuleInput(Input):
    field: ScoringField
    operator: Operator
    value: Annotated[str, Text(200)] = Field("", validate_default=True)
    points: Annotated[int, Field(ge=-1000, le=1000)]

    @field_validator("value")
    @classmethod
    def _needs_value(cls, value: str, info: ValidationInfo) -> str:
        if not value and info.data.get("operator") not in (None, *VALUELESS):
            raise ValueError("is required for this operator")
        return value


Codes = Annotated[list[Annotated[str, Text(20, min_length=1)]], BeforeValidator(_list),
                  Field(max_length=200)]


def _lower_unique(values: list[str]) -> list[str]:
    return list(dict.fromkeys(v.strip().lower() for v in values))


# Free-text names (industries, regions, product lines), matched without regard to case.
Lines = Annotated[list[Annotated[str, Text(100, min_length=1)]], BeforeValidator(_list),
                  Field(max_length=100), AfterValidator(_lower_unique)]


def _countries(values: list[str]) -> list[str]:
    return list(dict.fromkeys(_country(v) for v in values))


class AssignmentRuleInput(Input):
    name: _text(AssignmentRule, "name", required=True)  # type: ignore[valid-type]
    countries: Annotated[Codes, AfterValidator(_countries)] = []
    postcode_prefixes: Codes = []
    industries: Annotated[list[Annotated[str, Text(100, min_length=1)]],
                          BeforeValidator(_list), Field(max_length=100),
                          AfterValidator(lambda v: list(dict.fromkeys(i.lower() for i in v)))] = []
    company_sizes: Annotated[list[CompanySize], BeforeValidator(_list)] = []
    # A lead's product interest must be one of these (skill routing); empty: any.
    product_lines: Lines = []
    method: AssignmentMethod
    # The territory's rules pick the leads and its members share them (instead of a team's).
    territory_id: Annotated[RecordId | None, BeforeValidator(_blank_is_none)] = None
    team_id: Annotated[RecordId | None, BeforeValidator(_blank_is_none)] = Field(
        None, validate_default=True)
    user_id: Annotated[RecordId | None, BeforeValidator(_blank_is_none)] = Field(
        None, validate_default=True)
    cap: Annotated[Annotated[int, Field(ge=1, le=100000)] | None,
                   BeforeValidator(_blank_is_none)] = None
    first_response_minutes: Annotated[Annotated[int, Field(ge=1, le=60 * 24 * 30)] | None,
                                      BeforeValidator(_blank_is_none)] = Field(
        None, description="untouched this many minutes after assignment: handed to the next "
                          "rep and the manager told; empty: never")

    @field_validator("team_id")
    @classmethod
    def _team(cls, value: int | None, info: ValidationInfo) -> int | None:
        if value is None and info.data.get("territory_id") is None and \
                info.data.get("method") in (AssignmentMethod.ROUND_ROBIN,
                                            AssignmentMethod.LEAST_LOADED):
            raise ValueError("is required (or a territory): whose members share these leads")
        return value

    @field_validator("user_id")
    @classmethod
    def _user(cls, value: int | None, info: ValidationInfo) -> int | None:
        if value is None and info.data.get("method") == AssignmentMethod.USER:
            raise ValueError("is required: who gets these leads")
        return value


def _form_fields(values: list[str]) -> list[str]:
    unknown = [v for v in values if v not in FORM_FIELDS]
    if unknown:
        raise ValueError(f"unknown fields {', '.join(unknown)}; choose from "
                         f"{', '.join(FORM_FIELDS)}")
    return list(dict.fromkeys(values))


def _redirect(value: str) -> str:
    if value and not value.startswith(("https://", "http://")):
        raise ValueError("must start with https:// or http://")
    return value


FormFields = Annotated[list[str], BeforeValidator(_list), Field(max_length=len(FORM_FIELDS)),
                       AfterValidator(_form_fields)]


class WebFormInput(Input):
    name: _text(WebForm, "name", required=True)  # type: ignore[valid-type]
    fields: Annotated[FormFields, Field(min_length=1)]
    required: FormFields = []
    source: _text(WebForm, "source") = "web form"  # type: ignore[valid-type]
    redirect_url: Annotated[str, Text.of(WebForm, "redirect_url"), AfterValidator(_redirect)] = ""
    # Mail each new person a link to confirm; their lead is assigned once they click it.
    double_opt_in: bool = False

    @field_validator("double_opt_in")
    @classmethod
    def _opt_in_needs_email(cls, value: bool, info: ValidationInfo) -> bool:
        if value and "email" not in (info.data.get("required") or []):
            raise ValueError("needs the email field on the form and required: the link is "
                             "mailed there")
        return value

    @field_validator("required")
    @classmethod
    def _required_on_form(cls, value: list[str], info: ValidationInfo) -> list[str]:
        missing = [v for v in value if v not in (info.data.get("fields") or [])]
        if missing:
            raise ValueError(f"{', '.join(missing)} must be on the form to be required")
        return value


__all__ = ["AssignmentRuleInput", "ConvertInput", "DealInput", "EnrolInput", "FORM_FIELDS",
           "LeadChanges", "LeadInput", "LeadUpdate", "ScoringRuleInput", "SequenceChanges",
           "SequenceInput", "SequenceStepInput", "UTM_FIELDS", "WebFormInput"]


# --- sequences (nurturing) ---------------------------------------------------------------------

MAX_STEPS = 50


class SequenceStepInput(Input):
    """One step: an email (a saved template) or a task (its title), ``wait_days`` after the
    step before it (after enrolment, for the first)."""

    kind: StepKind
    wait_days: Annotated[int, Field(ge=0, le=365)] = 0
    template_id: Annotated[RecordId | None, BeforeValidator(_blank_is_none)] = Field(
        None, validate_default=True, description="the email template (email steps)")
    task_title: _text(SequenceStep, "task_title") = Field(  # type: ignore[valid-type]
        "", validate_default=True, description="the task's title (task steps)")

    @field_validator("template_id")
    @classmethod
    def _template_for_email(cls, value: int | None, info: ValidationInfo) -> int | None:
        if info.data.get("kind") == StepKind.EMAIL and value is None:
            raise ValueError("is required for an email step: the template to send")
        return value if info.data.get("kind") == StepKind.EMAIL else None

    @field_validator("task_title")
    @classmethod
    def _title_for_task(cls, value: str, info: ValidationInfo) -> str:
        if info.data.get("kind") == StepKind.TASK and not value:
            raise ValueError("is required for a task step: what the owner is to do")
        return value if info.data.get("kind") == StepKind.TASK else ""


def _grades(value: Any) -> Any:
    """Grades as a list or as text: "A, B" or "AB"."""
    if isinstance(value, str):
        value = [ch for ch in value.upper() if ch.isalnum()]
    return value


class SequenceInput(Input):
    name: _text(Sequence, "name", required=True)  # type: ignore[valid-type]
    active: bool = True
    stop_on_reply: bool = True
    stop_on_meeting: bool = True
    stop_on_convert: bool = True
    auto_enrol: bool = Field(False, description="enrol each new lead that matches the "
                                                "auto_ conditions (none: every new lead)")
    auto_source: _text(Sequence, "auto_source") = ""  # type: ignore[valid-type]
    auto_web_form_id: Annotated[RecordId | None, BeforeValidator(_blank_is_none)] = None
    auto_grades: Annotated[list[Grade], BeforeValidator(_grades), Field(max_length=4),
                           AfterValidator(lambda v: sorted(set(v)))] = []
    steps: Annotated[list[SequenceStepInput], Field(min_length=1, max_length=MAX_STEPS)]


if TYPE_CHECKING:
    SequenceChanges = SequenceInput
else:
    SequenceChanges = partial(SequenceInput, "SequenceChanges")


class EnrolInput(Input):
    sequence_id: RecordId


# --- capture: CSV import of leads -----------------------------------------------------------------

class LeadsImportOptions(Input):
    """The leads import's own option: the source of rows without a ``source`` cell."""

    default_source: _text(Lead, "source", required=True) = Field(  # type: ignore[valid-type]
        "import", title="Source for rows without one")


__all__ += ["LeadsImportOptions"]


# --- pipeline: pipelines, stages, deal changes, lines and moves (issue 10, pipeline) -------------

STAGE_KINDS = ("open", "won", "lost")


class StageInput(Input):
    """A stage of a pipeline: ``open`` stages are the columns deals work through; a pipeline has
    exactly one ``won`` and one ``lost`` stage. A won stage is 100 % likely, a lost one 0 %."""

    name: _text(Stage, "name", required=True)  # type: ignore[valid-type]
    probability: Annotated[Annotated[int, Field(ge=0, le=100)] | None,
                           BeforeValidator(_blank_is_none)] = Field(
        None, description="percent; won 100, lost 0, required for an open stage")
    kind: Literal["open", "won", "lost"] = "open"
    position: Annotated[Annotated[int, Field(ge=1, le=1000)] | None,
                        BeforeValidator(_blank_is_none)] = Field(
        None, description="1 = first column; omitted: before the won and lost stages")


class PipelineInput(Input):
    name: _text(Pipeline, "name", required=True)  # type: ignore[valid-type]
    is_default: bool = False
    stages: Annotated[list[StageInput] | None, Field(max_length=30)] = Field(
        None, description="omitted: New, Qualified, Proposal, Negotiation, Won, Lost")


class PipelineUpdate(Input):
    name: _text(Pipeline, "name", required=True)  # type: ignore[valid-type]
    is_default: bool = False


if TYPE_CHECKING:
    PipelineChanges = PipelineUpdate
    StageChanges = StageInput
else:
    PipelineChanges = partial(PipelineUpdate, "PipelineChanges")
    StageChanges = partial(StageInput, "StageChanges")


class DealLinesInput(Input):
    """The deal's lines as a whole (replacing the ones it had); an empty list removes them and
    the deal's amount is typed by hand again."""

    lines: Annotated[list[DealLineInput], Field(max_length=200)]
    version: int = Field(..., ge=1, description="the deal's version you last read")


class DealUpdate(Input):
    """What a person changes on a deal's page (or ``PATCH``); the stage changes by a move."""

    name: _text(Deal, "name", required=True)  # type: ignore[valid-type]
    amount: Annotated[Decimal, Field(ge=0, max_digits=14, decimal_places=2)] = Decimal("0")
    currency: Annotated[str, Text(3, min_length=3), AfterValidator(lambda v: v.upper())] = "USD"
    expected_close: Annotated[dt.date | None, BeforeValidator(_blank_is_none)] = None
    owner_id: Annotated[RecordId | None, BeforeValidator(_blank_is_none)] = None
    contact_id: Annotated[RecordId | None, BeforeValidator(_blank_is_none)] = None
    company_id: Annotated[RecordId | None, BeforeValidator(_blank_is_none)] = None
    territory_id: Annotated[RecordId | None, BeforeValidator(_blank_is_none)] = None
    next_step: _text(Deal, "next_step") = ""  # type: ignore[valid-type]


if TYPE_CHECKING:
    DealChanges = DealUpdate
else:
    DealChanges = with_version(partial(DealUpdate, "DealChangesBase"), "DealChanges")


class DealMoveInput(Input):
    stage_id: RecordId
    version: int = Field(..., ge=1, description="the deal's version you last read; stale: 409")
    lost_reason: _text(Deal, "lost_reason") = Field(  # type: ignore[valid-type]
        "", description="required when the stage is the lost one")


__all__ += [  # pipeline
           "DealChanges", "DealLineInput", "DealLinesInput", "DealMoveInput", "DealUpdate",
           "PipelineChanges", "PipelineInput", "PipelineUpdate", "STAGE_KINDS", "StageChanges",
           "StageInput"]


# --- territories (territory branch) ------------------------------------------------------------

def _postcodes(values: list[str]) -> list[str]:
    return list(dict.fromkeys(v.replace(" ", "").upper() for v in values if v.strip()))


class TerritoryInput(Input):
    """A territory: its rules (each left empty matches any lead), who works it, who runs it."""

    name: _text(Territory, "name", required=True)  # type: ignore[valid-type]
    countries: Annotated[Codes, AfterValidator(_countries)] = []
    regions: Lines = []
    postcode_prefixes: Annotated[Codes, AfterValidator(_postcodes)] = []
    industries: Lines = []
    company_sizes: Annotated[list[CompanySize], BeforeValidator(_list)] = []
    member_ids: Annotated[list[RecordId], BeforeValidator(_list), Field(max_length=500)] = []
    manager_id: Annotated[RecordId | None, BeforeValidator(_blank_is_none)] = None


if TYPE_CHECKING:
    TerritoryChanges = TerritoryInput
else:
    TerritoryChanges = partial(TerritoryInput, "TerritoryChanges")

if TYPE_CHECKING:
    AssignmentRuleChanges = AssignmentRuleInput
else:
    AssignmentRuleChanges = partial(AssignmentRuleInput, "AssignmentRuleChanges")

__all__ += ["AssignmentRuleChanges", "TerritoryChanges", "TerritoryInput"]


class LeadContactInput(Input):
    """A call, email, meeting or message with a lead, logged on its page: its owner's first
    one is the lead's first response."""

    channel: Literal["call", "email", "meeting", "message"]
    note: Annotated[str, Text(500)] = ""


__all__ += ["LeadContactInput"]


# --- goals (forecast) --------------------------------------------------------------------------

QUARTER_MONTHS = (1, 4, 7, 10)
GOAL_TARGETS = ("user_id", "team_id", "territory_id")
GoalAmount = Annotated[Decimal, Field(ge=0, max_digits=14, decimal_places=2),
                       AfterValidator(lambda v: v.quantize(Decimal("0.01")))]


class GoalInput(Input):
    """A revenue goal: a month or quarter, from its first day, for a rep, a team, a territory
    or (none of them) the whole business."""

    period: GoalPeriod
    starts_on: dt.date = Field(description="the first day of the month or quarter")
    amount: GoalAmount
    currency: Annotated[str, Text(3, min_length=3),
                        AfterValidator(lambda v: v.upper())] = "USD"
    user_id: Annotated[RecordId | None, BeforeValidator(_blank_is_none)] = None
    team_id: Annotated[RecordId | None, BeforeValidator(_blank_is_none)] = None
    territory_id: Annotated[RecordId | None, BeforeValidator(_blank_is_none)] = Field(
        None, validate_default=True)

    @field_validator("starts_on")
    @classmethod
    def _first_day(cls, value: dt.date, info: ValidationInfo) -> dt.date:
        return goal_start_checked(info.data.get("period"), value)

    @field_validator("territory_id")
    @classmethod
    def _one_target(cls, value: int | None, info: ValidationInfo) -> int | None:
        given = [name for name in GOAL_TARGETS[:2] if info.data.get(name) is not None]
        if value is not None:
            given.append("territory_id")
        if len(given) > 1:
            raise ValueError(f"a goal is for one of a rep, a team or a territory; got "
                             f"{' and '.join(given)}")
        return value


def goal_start_checked(period: Any, value: dt.date) -> dt.date:
    """``value`` if it is the first day of its month (or of its quarter), else ValueError."""
    if value.day != 1:
        raise ValueError("must be the first day of a month")
    if period == GoalPeriod.QUARTER and value.month not in QUARTER_MONTHS:
        raise ValueError("must be the first day of a quarter (1 January, April, July or "
                         "October)")
    return value


class GoalUpdate(Input):
    """What may change on a goal: its amount and currency (a different period or target is
    another goal)."""

    amount: GoalAmount | None = None
    currency: Annotated[str, Text(3, min_length=3),
                        AfterValidator(lambda v: v.upper())] | None = None
