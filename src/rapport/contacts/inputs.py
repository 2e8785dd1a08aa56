"""The shape of every write to people, companies, custom fields, tags and saved views.

The API takes these as its request bodies, the pages fill them from their forms, and the
services take them: a field's type, limit and choices are declared here once, from the models.
What needs the database (custom field values, whether a company or owner may be used) is
checked by the services.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Annotated, Any, Literal

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
from rapport.core.inputs import Input, Text, partial, with_version
from rapport.core.validation import email_value, phone_value

MAX_LIST_ITEMS = 20
MAX_TAGS = 50
MAX_BULK = 1000


def _distinct(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


def _tag_names(values: list[str]) -> list[str]:
    return sorted({value.lower() for value in values if value})


def _filled(values: list[str]) -> list[str]:
    return [value for value in values if value]


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


RecordId = Annotated[int, Field(ge=1, le=2**63 - 1)]
Email = Annotated[str, AfterValidator(email_value)]
Phone = Annotated[str, AfterValidator(phone_value)]
TagName = Annotated[str, Text.of(Tag, "name", min_length=1)]
Emails = Annotated[list[Email], Field(max_length=MAX_LIST_ITEMS), AfterValidator(_distinct)]
Phones = Annotated[list[Phone], Field(max_length=MAX_LIST_ITEMS), AfterValidator(_distinct)]
Tags = Annotated[list[TagName], Field(max_length=MAX_TAGS), AfterValidator(_tag_names)]
Lines = Annotated[list[Annotated[str, Text(500)]], Field(max_length=MAX_LIST_ITEMS),
                  AfterValidator(_filled)]
Facts = Annotated[list[Annotated[str, Text(500)]], Field(max_length=100),
                  AfterValidator(_filled)]
Domain = Annotated[str, Text.of(Company, "domain"), AfterValidator(_domain)]
Choices = Annotated[list[Annotated[str, Text(100, min_length=1)]], Field(max_length=100),
                    AfterValidator(_distinct)]


class ContactInput(Input):
    """A person as the business knows them."""

    first_name: Annotated[str, Text.of(Contact, "first_name")] = ""
    last_name: Annotated[str, Text.of(Contact, "last_name")] = ""
    emails: Emails = []
    phones: Phones = []
    addresses: Lines = []
    job_title: Annotated[str, Text.of(Contact, "job_title")] = ""
    company_id: RecordId | None = None
    owner_id: RecordId | None = Field(None, description="defaults to you")
    tags: Tags = []
    lifecycle_stage: LifecycleStage = LifecycleStage.LEAD
    source: Annotated[str, Text.of(Contact, "source")] = ""
    email_opt_in: bool = False
    email_opt_in_source: Annotated[str, Text.of(Contact, "email_opt_in_source")] = ""
    do_not_call: bool = False
    notes: Annotated[str, Text(20000)] = ""
    preferences: Facts = []
    custom_fields: dict[str, Any] = Field(default_factory=dict)


class CompanyInput(Input):
    name: Annotated[str, Text.of(Company, "name", min_length=1)]
    domain: Domain = ""
    industry: Annotated[str, Text.of(Company, "industry")] = ""
    size: CompanySize | Literal[""] = ""
    address: Annotated[str, Text.of(Company, "address")] = ""
    owner_id: RecordId | None = Field(None, description="defaults to you")
    tags: Tags = []
    custom_fields: dict[str, Any] = Field(default_factory=dict)


class CustomFieldInput(Input):
    object_type: ObjectType
    key: Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True),
                   AfterValidator(_field_key)] = Field(
        ..., description="start with a letter; a-z, 0-9 and _ (at most 50)")
    label: Annotated[str, Text.of(CustomFieldDefinition, "label", min_length=1)]
    field_type: FieldType
    choices: Choices = []
    required: bool = False


class CustomFieldChanges(Input):
    """Only the label, the choices and whether it is required can change (not key or type)."""

    label: Annotated[str, Text.of(CustomFieldDefinition, "label", min_length=1)] | None = None
    choices: Choices | None = None
    required: bool | None = None


class TagInput(Input):
    name: TagName


class NoteInput(Input):
    text: Annotated[str, Text(10000, min_length=1)]


class PreferenceInput(Input):
    text: Annotated[str, Text(500, min_length=1)]


class SavedViewInput(Input):
    name: Annotated[str, Text.of(SavedView, "name", min_length=1)]
    query: Annotated[str, Text.of(SavedView, "query")] = ""
    object_type: ObjectType = ObjectType.CONTACT


BulkIds = Annotated[list[RecordId], Field(min_length=1, max_length=MAX_BULK)]


class BulkTagInput(Input):
    ids: BulkIds
    tag: TagName


class BulkAssignInput(Input):
    ids: BulkIds
    owner_id: RecordId | None = None


class BulkDeleteInput(Input):
    ids: BulkIds


# A change has the fields of the full shape, each of which may be left out; a PATCH body adds
# the version the caller read.
if TYPE_CHECKING:
    ContactChanges = ContactInput
    ContactPatch = ContactInput
    CompanyChanges = CompanyInput
    CompanyPatch = CompanyInput
    CustomFieldPatch = CustomFieldChanges
else:
    ContactChanges = partial(ContactInput, "ContactChanges")
    ContactPatch = with_version(ContactChanges, "ContactPatch")
    CompanyChanges = partial(CompanyInput, "CompanyChanges")
    CompanyPatch = with_version(CompanyChanges, "CompanyPatch")
    CustomFieldPatch = with_version(CustomFieldChanges, "CustomFieldPatch")
