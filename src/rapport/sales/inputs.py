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
    Lead,
    LeadStatus,
    Operator,
    ScoringField,
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

    @field_validator("required")
    @classmethod
    def _required_on_form(cls, value: list[str], info: ValidationInfo) -> list[str]:
        missing = [v for v in value if v not in (info.data.get("fields") or [])]
        if missing:
            raise ValueError(f"{', '.join(missing)} must be on the form to be required")
        return value


__all__ = ["AssignmentRuleInput", "ConvertInput", "DealInput", "FORM_FIELDS", "LeadChanges",
           "LeadInput", "LeadUpdate", "ScoringRuleInput", "UTM_FIELDS", "WebFormInput"]


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
