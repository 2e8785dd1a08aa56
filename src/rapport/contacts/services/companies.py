"""Writes for companies: create, edit, delete and restore."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.utils import timezone

from rapport.contacts import events, search
from rapport.contacts.inputs import CompanyChanges, CompanyInput
from rapport.contacts.models import Company, CompanyTag
from rapport.contacts.services._common import (
    changed_fields,
    check_owner,
    clean_custom_fields,
    given,
    require_version,
    restore_deleted,
    tag_ids,
)
from rapport.core.errors import ValidationFailed
from rapport.core.events import record_events
from rapport.core.inputs import parse
from rapport.core.permissions import get_for


def company_snapshot(company: Company, tags: list[str] | None = None) -> dict[str, Any]:
    if tags is None:
        tags = sorted(company.tags.values_list("name", flat=True))
    return {
        "name": company.name, "domain": company.domain, "industry": company.industry,
        "size": str(company.size), "address": company.address, "owner_id": company.owner_id,
        "tags": tags, "custom_fields": dict(company.custom_fields), "version": company.version,
    }


def _set_tags(company: Company, names: list[str]) -> None:
    CompanyTag.objects.filter(company=company).delete()
    CompanyTag.objects.bulk_create([CompanyTag(company=company, tag_id=t) for t in tag_ids(names)])


def _live() -> Any:
    return Company.objects.filter(deleted_at__isnull=True)


@transaction.atomic
def company_create(*, actor: Any, data: CompanyInput | Mapping[str, Any]) -> Company:
    fields = parse(CompanyInput, data).model_dump()
    if fields["owner_id"] is None:
        fields["owner_id"] = actor.id if actor else None
    errors: dict[str, str] = {}
    if actor is not None and fields["owner_id"] != actor.id:
        check_owner(actor, "companies", fields["owner_id"], errors)
    fields["custom_fields"] = clean_custom_fields("company", fields["custom_fields"], errors)
    if errors:
        raise ValidationFailed(errors)
    tags = fields.pop("tags")
    company = Company(**fields)
    company.save()
    if tags:
        _set_tags(company, tags)
    record_events([events.company_created(company_id=company.id,
                                          actor_id=actor.id if actor else None,
                                          snapshot=company_snapshot(company, tags))])
    return company


@transaction.atomic
def company_update(*, actor: Any, company_id: int, version: int | None,
                   changes: CompanyChanges | Mapping[str, Any]) -> Company:
    company = get_for(actor, "change", _live(), company_id, noun="company")
    before = company_snapshot(company)
    require_version(company, version, before)
    fields = given(parse(CompanyChanges, changes), CompanyInput)
    errors: dict[str, str] = {}
    if "name" in fields and not fields["name"]:
        errors["name"] = "is required"
    if "owner_id" in fields and fields["owner_id"] != company.owner_id:
        check_owner(actor, "companies", fields["owner_id"], errors)
    if "custom_fields" in fields:
        fields["custom_fields"] = clean_custom_fields(
            "company", fields["custom_fields"], errors, base=company.custom_fields)
    if errors:
        raise ValidationFailed(errors)
    for name, value in fields.items():
        if name != "tags":
            setattr(company, name, value)
    if fields.get("tags") is not None and fields["tags"] != before["tags"]:
        _set_tags(company, fields["tags"])
    after = company_snapshot(company, fields.get("tags", before["tags"]))
    changed_before, changed_after = changed_fields(before, after)
    if not changed_after:
        return company
    company.version += 1
    company.save()
    if "name" in changed_after:
        search.company_renamed(company_id=company.id, old_name=before["name"],
                               new_name=company.name)
    record_events([events.company_updated(company_id=company.id, actor_id=actor.id,
                                          before=changed_before, after=changed_after)])
    return company


@transaction.atomic
def company_delete(*, actor: Any, company_id: int) -> None:
    company = get_for(actor, "delete", _live(), company_id, noun="company")
    company.deleted_at = timezone.now()
    company.version += 1
    company.save(update_fields=["deleted_at", "version", "updated_at"])
    record_events([events.company_deleted(company_id=company.id, actor_id=actor.id)])


@transaction.atomic
def company_restore(*, actor: Any, company_id: int) -> Company:
    company = restore_deleted(actor=actor, queryset=Company.objects.all(), object_id=company_id,
                              noun="company")
    record_events([events.company_restored(company_id=company.id, actor_id=actor.id)])
    return company
