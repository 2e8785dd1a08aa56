"""/api/v1/ endpoints for contacts, companies, custom fields, tags and search."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from rapport.contacts import selectors, services
from rapport.contacts.models import Company, Contact
from rapport.core.api_schemas import ERRORS, WRITE_ERRORS, Strict

router = Router(tags=["contacts"])

Stage = Literal["subscriber", "lead", "opportunity", "customer", "former_customer"]


class ContactIn(Strict):
    first_name: str = Field("", max_length=100)
    last_name: str = Field("", max_length=100)
    emails: list[str] = Field(default_factory=list, max_length=20)
    phones: list[str] = Field(default_factory=list, max_length=20)
    addresses: list[str] = Field(default_factory=list, max_length=20)
    job_title: str = Field("", max_length=150)
    company_id: int | None = None
    owner_id: int | None = None
    tags: list[str] = Field(default_factory=list, max_length=50)
    lifecycle_stage: Stage = "lead"
    source: str = Field("", max_length=100)
    email_opt_in: bool = False
    email_opt_in_source: str = Field("", max_length=100)
    do_not_call: bool = False
    notes: str = Field("", max_length=20000)
    preferences: list[str] = Field(default_factory=list, max_length=100)
    custom_fields: dict[str, Any] = Field(default_factory=dict)


class ContactPatch(Strict):
    version: int = Field(..., description="the version you last read; a stale one gets 409")
    first_name: str | None = Field(None, max_length=100)
    last_name: str | None = Field(None, max_length=100)
    emails: list[str] | None = Field(None, max_length=20)
    phones: list[str] | None = Field(None, max_length=20)
    addresses: list[str] | None = Field(None, max_length=20)
    job_title: str | None = Field(None, max_length=150)
    company_id: int | None = None
    owner_id: int | None = None
    tags: list[str] | None = Field(None, max_length=50)
    lifecycle_stage: Stage | None = None
    source: str | None = Field(None, max_length=100)
    email_opt_in: bool | None = None
    email_opt_in_source: str | None = Field(None, max_length=100)
    do_not_call: bool | None = None
    notes: str | None = Field(None, max_length=20000)
    preferences: list[str] | None = Field(None, max_length=100)
    custom_fields: dict[str, Any] | None = None


class ContactOut(Schema):
    id: int
    first_name: str
    last_name: str
    emails: list[str]
    phones: list[str]
    addresses: list[str]
    company_id: int | None
    job_title: str
    owner_id: int | None
    tags: list[str]
    lifecycle_stage: str
    source: str
    email_opt_in: bool
    email_opt_in_at: dt.datetime | None
    email_opt_in_source: str
    do_not_call: bool
    notes: str
    preferences: list[str]
    custom_fields: dict[str, Any]
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime

    @staticmethod
    def resolve_tags(obj: Contact) -> list[str]:
        return [t.name for t in obj.tags.all()]


class ContactPage(Schema):
    items: list[ContactOut]
    next_cursor: str | None


class ContactFilters(Schema):
    owner: str | None = Field(None, pattern=r"^(me|none|[0-9]{1,18})$",
                              description="a user id, 'me' or 'none'")
    tag: str | None = None
    stage: Stage | None = None
    company: int | None = Field(None, ge=1, le=2**63 - 1)  # larger ids overflow the database
    sort: Literal["name", "-name", "created", "-created", "-updated"] = "name"
    cursor: str | None = None
    limit: int = Field(50, ge=1, le=200)


class CompanyIn(Strict):
    name: str = Field(..., min_length=1, max_length=200)
    domain: str = Field("", max_length=200)
    industry: str = Field("", max_length=100)
    size: Literal["", "1-10", "11-50", "51-200", "201-1000", "1000+"] = ""
    address: str = Field("", max_length=2000)
    owner_id: int | None = None
    tags: list[str] = Field(default_factory=list, max_length=50)
    custom_fields: dict[str, Any] = Field(default_factory=dict)


class CompanyPatch(Strict):
    version: int
    name: str | None = Field(None, min_length=1, max_length=200)
    domain: str | None = Field(None, max_length=200)
    industry: str | None = Field(None, max_length=100)
    size: Literal["", "1-10", "11-50", "51-200", "201-1000", "1000+"] | None = None
    address: str | None = Field(None, max_length=2000)
    owner_id: int | None = None
    tags: list[str] | None = Field(None, max_length=50)
    custom_fields: dict[str, Any] | None = None


class CompanyOut(Schema):
    id: int
    name: str
    domain: str
    industry: str
    size: str
    address: str
    owner_id: int | None
    tags: list[str]
    custom_fields: dict[str, Any]
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime

    @staticmethod
    def resolve_tags(obj: Company) -> list[str]:
        return [t.name for t in obj.tags.all()]


class CompanyPage(Schema):
    items: list[CompanyOut]
    next_cursor: str | None


class CustomFieldIn(Strict):
    object_type: Literal["contact", "company"]
    key: str = Field(..., min_length=1, max_length=50)
    label: str = Field(..., min_length=1, max_length=100)
    field_type: Literal["text", "number", "date", "choice", "boolean"]
    choices: list[str] = Field(default_factory=list, max_length=100)
    required: bool = False


class CustomFieldPatch(Strict):
    version: int
    label: str | None = Field(None, min_length=1, max_length=100)
    choices: list[str] | None = Field(None, max_length=100)
    required: bool | None = None


class CustomFieldOut(Schema):
    id: int
    version: int
    object_type: str
    key: str
    label: str
    field_type: str
    choices: list[str]
    required: bool


class TagIn(Strict):
    name: str = Field(..., min_length=1, max_length=50)


class TagOut(Schema):
    id: int
    name: str


class SearchHitOut(Schema):
    type: str
    id: int
    title: str
    subtitle: str
    url: str
    score: float


class SearchOut(Schema):
    results: list[SearchHitOut]


def _patch_changes(payload: Schema) -> tuple[int, dict[str, Any]]:
    changes = payload.model_dump(exclude_unset=True)
    return changes.pop("version"), changes


@router.get("/contacts", response={200: ContactPage, **ERRORS})
def list_contacts(request: HttpRequest, filters: Query[ContactFilters]):
    page = selectors.contact_list(user=request.user, params=filters.model_dump())
    return {"items": page.items, "next_cursor": page.next_cursor}


@router.post("/contacts", response={201: ContactOut, **ERRORS})
def create_contact(request: HttpRequest, payload: ContactIn):
    contact = services.contact_create(actor=request.user, data=payload.model_dump())
    return Status(201, selectors.contact_get(user=request.user, contact_id=contact.id))


@router.get("/contacts/{contact_id}", response={200: ContactOut, **ERRORS})
def get_contact(request: HttpRequest, contact_id: int):
    return selectors.contact_get(user=request.user, contact_id=contact_id)


@router.patch("/contacts/{contact_id}", response={200: ContactOut, **WRITE_ERRORS})
def update_contact(request: HttpRequest, contact_id: int, payload: ContactPatch):
    version, changes = _patch_changes(payload)
    services.contact_update(actor=request.user, contact_id=contact_id, version=version,
                            changes=changes)
    return selectors.contact_get(user=request.user, contact_id=contact_id)


@router.delete("/contacts/{contact_id}", response={204: None, **ERRORS})
def delete_contact(request: HttpRequest, contact_id: int):
    services.contact_delete(actor=request.user, contact_id=contact_id)
    return Status(204, None)


@router.post("/contacts/{contact_id}/restore", response={200: ContactOut, **ERRORS})
def restore_contact(request: HttpRequest, contact_id: int):
    services.contact_restore(actor=request.user, contact_id=contact_id)
    return selectors.contact_get(user=request.user, contact_id=contact_id)


@router.get("/companies", response={200: CompanyPage, **ERRORS})
def list_companies(request: HttpRequest, q: str | None = None, tag: str | None = None,
                   cursor: str | None = None):
    page = selectors.company_list(user=request.user, params={"q": q, "tag": tag,
                                                             "cursor": cursor})
    return {"items": page.items, "next_cursor": page.next_cursor}


@router.post("/companies", response={201: CompanyOut, **ERRORS})
def create_company(request: HttpRequest, payload: CompanyIn):
    company = services.company_create(actor=request.user, data=payload.model_dump())
    return Status(201, selectors.company_get(user=request.user, company_id=company.id))


@router.get("/companies/{company_id}", response={200: CompanyOut, **ERRORS})
def get_company(request: HttpRequest, company_id: int):
    return selectors.company_get(user=request.user, company_id=company_id)


@router.patch("/companies/{company_id}", response={200: CompanyOut, **WRITE_ERRORS})
def update_company(request: HttpRequest, company_id: int, payload: CompanyPatch):
    version, changes = _patch_changes(payload)
    services.company_update(actor=request.user, company_id=company_id, version=version,
                            changes=changes)
    return selectors.company_get(user=request.user, company_id=company_id)


@router.delete("/companies/{company_id}", response={204: None, **ERRORS})
def delete_company(request: HttpRequest, company_id: int):
    services.company_delete(actor=request.user, company_id=company_id)
    return Status(204, None)


@router.post("/companies/{company_id}/restore", response={200: CompanyOut, **ERRORS})
def restore_company(request: HttpRequest, company_id: int):
    services.company_restore(actor=request.user, company_id=company_id)
    return selectors.company_get(user=request.user, company_id=company_id)


@router.get("/custom-fields", response={200: list[CustomFieldOut], **ERRORS})
def list_custom_fields(request: HttpRequest,
                       object_type: Literal["contact", "company"] | None = None):
    return list(selectors.custom_field_list(object_type=object_type))


@router.post("/custom-fields", response={201: CustomFieldOut, **ERRORS})
def create_custom_field(request: HttpRequest, payload: CustomFieldIn):
    return Status(201, services.custom_field_define(actor=request.user, **payload.model_dump()))


@router.patch("/custom-fields/{definition_id}", response={200: CustomFieldOut, **WRITE_ERRORS})
def update_custom_field(request: HttpRequest, definition_id: int, payload: CustomFieldPatch):
    version, changes = _patch_changes(payload)
    return services.custom_field_update(actor=request.user, definition_id=definition_id,
                                        version=version, changes=changes)


@router.delete("/custom-fields/{definition_id}", response={204: None, **ERRORS})
def delete_custom_field(request: HttpRequest, definition_id: int):
    services.custom_field_delete(actor=request.user, definition_id=definition_id)
    return Status(204, None)


@router.get("/tags", response={200: list[TagOut], **ERRORS})
def list_tags(request: HttpRequest):
    return list(selectors.tag_list())


@router.post("/tags", response={201: TagOut, **ERRORS})
def create_tag(request: HttpRequest, payload: TagIn):
    return Status(201, services.tag_create(actor=request.user, name=payload.name))


class SearchParams(Schema):
    q: str = Field(..., max_length=200, description="name, email, phone (any format) or company")
    limit: int = Field(20, ge=1, le=50)


@router.patch("/tags/{tag_id}", response={200: TagOut, **ERRORS})
def rename_tag(request: HttpRequest, tag_id: int, payload: TagIn):
    return services.tag_rename(actor=request.user, tag_id=tag_id, name=payload.name)


@router.delete("/tags/{tag_id}", response={204: None, **ERRORS})
def delete_tag(request: HttpRequest, tag_id: int):
    services.tag_delete(actor=request.user, tag_id=tag_id)
    return Status(204, None)


@router.get("/search", response={200: SearchOut, **ERRORS})
def search(request: HttpRequest, params: Query[SearchParams]):
    return {"results": selectors.search(user=request.user, q=params.q, limit=params.limit)}
