"""The shape of every write to people, companies, custom fields, tags and saved views.

The API takes these as its request bodies, the pages fill them from their forms, and the
services take them: a field's type, limit and choices are declared here once, from the models.
What needs the database (custom field values, whether a company or owner may be used) is
checked by the services.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, StringConstraints

from rapport.contacts.models import (
    Company,
    CompanySize,
    Contact,
    CustomFieldDefinition,
    FieldType,
    LifecycleStage,
    ObjectType,
    SavedView,
    Tag,
)
from rapport.core.inputs import Input, items, partial, text, text_of, with_version
from rapport.core.validation import email_value, phone_value

MAX_LIST_ITEMS = 20
MAX_TAGS = 50
MAX_BULK = 1000

RecordId = Annotated[int, Field(ge=1, le=2**63 - 1)]
Email = Annotated[str, AfterValidator(email_value)]
Phone = Annotated[str, AfterValidator(phone_value)]
TagName = text_of(Tag, "name", min_length=1)


def _distinct(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


def _tag_names(values: list[str]) -> list[str]:
    return sorted({value.lower() for value in values if value})


def _domain(value: str) -> str:
    domain = value.lower().removeprefix("https://").removeprefix("http://")
    domain = domain.removeprefix("www.").rstrip("/")
    if domain and ("." not in domain or " " in domain):
        raise ValueError(f"{domain!r} is not a web domain like example.com")
    return domain


def _field_key(value: str) -> str:
    if not re.fullmatch(r"[a-z][a-z0-9_]{0,49}", value):
        raise ValueError("must start with a letter and use only a-z, 0-9 and _ (max 50)")
    return value


Emails = Annotated[items(Email, MAX_LIST_ITEMS), AfterValidator(_distinct)]
Phones = Annotated[items(Phone, MAX_LIST_ITEMS), AfterValidator(_distinct)]
Tags = Annotated[items(TagName, MAX_TAGS), AfterValidator(_tag_names)]
Lines = Annotated[items(text(500), MAX_LIST_ITEMS), AfterValidator(lambda v: [x for x in v if x])]
Facts = Annotated[items(text(500), 100), AfterValidator(lambda v: [x for x in v if x])]
Domain = Annotated[text_of(Company, "domain"), AfterValidator(_domain)]


class ContactInput(Input):
    """A person as the business knows them."""

    first_name: text_of(Contact, "first_name") = ""  # type: ignore[valid-type]
    last_name: text_of(Contact, "last_name") = ""  # type: ignore[valid-type]
    emails: Emails = []
    phones: Phones = []
    addresses: Lines = []
    job_title: text_of(Contact, "job_title") = ""  # type: ignore[valid-type]
    company_id: RecordId | None = None
    owner_id: RecordId | None = Field(None, description="defaults to you")
    tags: Tags = []
    lifecycle_stage: LifecycleStage = LifecycleStage.LEAD
    source: text_of(Contact, "source") = ""  # type: ignore[valid-type]
    email_opt_in: bool = False
    email_opt_in_source: text_of(Contact, "email_opt_in_source") = ""  # type: ignore[valid-type]
    do_not_call: bool = False
    notes: text(20000) = ""  # type: ignore[valid-type]
    preferences: Facts = []
    custom_fields: dict[str, Any] = Field(default_factory=dict)


ContactChanges = partial(ContactInput, "ContactChanges")
ContactPatch = with_version(ContactChanges, "ContactPatch")


class CompanyInput(Input):
    name: text_of(Company, "name", min_length=1)  # type: ignore[valid-type]
    domain: Domain = ""
    industry: text_of(Company, "industry") = ""  # type: ignore[valid-type]
    size: CompanySize | Literal[""] = ""
    address: text_of(Company, "address") = ""  # type: ignore[valid-type]
    owner_id: RecordId | None = Field(None, description="defaults to you")
    tags: Tags = []
    custom_fields: dict[str, Any] = Field(default_factory=dict)


CompanyChanges = partial(CompanyInput, "CompanyChanges")
CompanyPatch = with_version(CompanyChanges, "CompanyPatch")

Choices = Annotated[items(text(100, min_length=1), 100), AfterValidator(_distinct)]


class CustomFieldInput(Input):
    object_type: ObjectType
    key: Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True),
                   AfterValidator(_field_key)] = Field(
        ..., description="start with a letter; a-z, 0-9 and _ (at most 50)")
    label: text_of(CustomFieldDefinition, "label", min_length=1)  # type: ignore[valid-type]
    field_type: FieldType
    choices: Choices = []
    required: bool = False


class CustomFieldChanges(Input):
    """Only the label, the choices and whether it is required can change (not key or type)."""

    label: text_of(CustomFieldDefinition, "label", min_length=1) | None = None  # type: ignore[valid-type]
    choices: Choices | None = None
    required: bool | None = None


CustomFieldPatch = with_version(CustomFieldChanges, "CustomFieldPatch")


class TagInput(Input):
    name: TagName  # type: ignore[valid-type]


class NoteInput(Input):
    text: text(10000, min_length=1)  # type: ignore[valid-type]


class PreferenceInput(Input):
    text: text(500, min_length=1)  # type: ignore[valid-type]


class SavedViewInput(Input):
    name: text_of(SavedView, "name", min_length=1)  # type: ignore[valid-type]
    query: text_of(SavedView, "query") = ""  # type: ignore[valid-type]
    object_type: ObjectType = ObjectType.CONTACT


BulkIds = Annotated[list[RecordId], Field(min_length=1, max_length=MAX_BULK)]


class BulkTagInput(Input):
    ids: BulkIds
    tag: TagName  # type: ignore[valid-type]


class BulkAssignInput(Input):
    ids: BulkIds
    owner_id: RecordId | None = None


class BulkDeleteInput(Input):
    ids: BulkIds
