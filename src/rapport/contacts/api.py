"""/api/v1/ endpoints for contacts, companies, custom fields and tags."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from rapport.contacts import selectors, services
from rapport.contacts.inputs import (
    CompanyInput,
    CompanyPatch,
    ContactInput,
    ContactPatch,
    CustomFieldInput,
    CustomFieldPatch,
    TagInput,
)
from rapport.contacts.models import Company, Contact, LifecycleStage
from rapport.core.api_schemas import ERRORS, WRITE_ERRORS

router = Router(tags=["contacts"])

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
        names = getattr(obj, "tag_names", None)  # a list's page has them already
        return names if names is not None else [t.name for t in obj.tags.all()]


class ContactPage(Schema):
    items: list[ContactOut]
    next_cursor: str | None


class ContactFilters(Schema):
    owner: str | None = Field(None, pattern=r"^(me|none|[0-9]{1,18})$",
                              description="a user id, 'me' or 'none'")
    tag: str | None = None
    stage: LifecycleStage | None = None
    company: int | None = Field(None, ge=1, le=2**63 - 1)  # larger ids overflow the database
    sort: Literal["name", "-name", "created", "-created", "-updated"] = "name"
    cursor: str | None = None
    limit: int = Field(50, ge=1, le=200)


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
        names = getattr(obj, "tag_names", None)  # a list's page has them already
        return names if names is not None else [t.name for t in obj.tags.all()]


class CompanyPage(Schema):
    items: list[CompanyOut]
    next_cursor: str | None


class CustomFieldOut(Schema):
    id: int
    version: int
    object_type: str
    key: str
    label: str
    field_type: str
    choices: list[str]
    required: bool


class TagOut(Schema):
    id: int
    name: str


@router.get("/contacts", response={200: ContactPage, **ERRORS})
def list_contacts(request: HttpRequest, filters: Query[ContactFilters]):
    page = selectors.contact_list(user=request.user, params=filters.model_dump())
    return {"items": page.items, "next_cursor": page.next_cursor}


@router.post("/contacts", response={201: ContactOut, **ERRORS})
def create_contact(request: HttpRequest, payload: ContactInput):
    contact = services.contact_create(actor=request.user, data=payload)
    return Status(201, selectors.contact_get(user=request.user, contact_id=contact.id))


@router.get("/contacts/{int:contact_id}", response={200: ContactOut, **ERRORS})
def get_contact(request: HttpRequest, contact_id: int):
    return selectors.contact_get(user=request.user, contact_id=contact_id)


@router.patch("/contacts/{int:contact_id}", response={200: ContactOut, **WRITE_ERRORS})
def update_contact(request: HttpRequest, contact_id: int, payload: ContactPatch):
    services.contact_update(actor=request.user, contact_id=contact_id, version=payload.version,
                            changes=payload)
    return selectors.contact_get(user=request.user, contact_id=contact_id)


@router.delete("/contacts/{int:contact_id}", response={204: None, **ERRORS})
def delete_contact(request: HttpRequest, contact_id: int):
    services.contact_delete(actor=request.user, contact_id=contact_id)
    return Status(204, None)


@router.post("/contacts/{int:contact_id}/restore", response={200: ContactOut, **ERRORS})
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
def create_company(request: HttpRequest, payload: CompanyInput):
    company = services.company_create(actor=request.user, data=payload)
    return Status(201, selectors.company_get(user=request.user, company_id=company.id))


@router.get("/companies/{int:company_id}", response={200: CompanyOut, **ERRORS})
def get_company(request: HttpRequest, company_id: int):
    return selectors.company_get(user=request.user, company_id=company_id)


@router.patch("/companies/{int:company_id}", response={200: CompanyOut, **WRITE_ERRORS})
def update_company(request: HttpRequest, company_id: int, payload: CompanyPatch):
    services.company_update(actor=request.user, company_id=company_id, version=payload.version,
                            changes=payload)
    return selectors.company_get(user=request.user, company_id=company_id)


@router.delete("/companies/{int:company_id}", response={204: None, **ERRORS})
def delete_company(request: HttpRequest, company_id: int):
    services.company_delete(actor=request.user, company_id=company_id)
    return Status(204, None)


@router.post("/companies/{int:company_id}/restore", response={200: CompanyOut, **ERRORS})
def restore_company(request: HttpRequest, company_id: int):
    services.company_restore(actor=request.user, company_id=company_id)
    return selectors.company_get(user=request.user, company_id=company_id)


@router.get("/custom-fields", response={200: list[CustomFieldOut], **ERRORS})
def list_custom_fields(request: HttpRequest,
                       object_type: Literal["contact", "company"] | None = None):
    return list(selectors.custom_field_list(object_type=object_type))


@router.post("/custom-fields", response={201: CustomFieldOut, **ERRORS})
def create_custom_field(request: HttpRequest, payload: CustomFieldInput):
    return Status(201, services.custom_field_define(actor=request.user, data=payload))


@router.patch("/custom-fields/{int:definition_id}", response={200: CustomFieldOut, **WRITE_ERRORS})
def update_custom_field(request: HttpRequest, definition_id: int, payload: CustomFieldPatch):
    return services.custom_field_update(actor=request.user, definition_id=definition_id,
                                        version=payload.version, changes=payload)


@router.delete("/custom-fields/{int:definition_id}", response={204: None, **ERRORS})
def delete_custom_field(request: HttpRequest, definition_id: int):
    services.custom_field_delete(actor=request.user, definition_id=definition_id)
    return Status(204, None)


@router.get("/tags", response={200: list[TagOut], **ERRORS})
def list_tags(request: HttpRequest):
    return list(selectors.tag_list())


@router.post("/tags", response={201: TagOut, **ERRORS})
def create_tag(request: HttpRequest, payload: TagInput):
    return Status(201, services.tag_create(actor=request.user, name=payload.name))


@router.patch("/tags/{int:tag_id}", response={200: TagOut, **ERRORS})
def rename_tag(request: HttpRequest, tag_id: int, payload: TagInput):
    return services.tag_rename(actor=request.user, tag_id=tag_id, name=payload.name)


@router.delete("/tags/{int:tag_id}", response={204: None, **ERRORS})
def delete_tag(request: HttpRequest, tag_id: int):
    services.tag_delete(actor=request.user, tag_id=tag_id)
    return Status(204, None)
