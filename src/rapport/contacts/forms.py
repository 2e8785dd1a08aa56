"""Turning posted HTML forms into the dicts services take (and back, to re-show them)."""

from __future__ import annotations

from typing import Any

from rapport.contacts.models import Company, CustomFieldDefinition


def split_lines(text: str) -> list[str]:
    return [part.strip() for part in text.replace(",", "\n").splitlines() if part.strip()]


def custom_values(post, definitions: list[CustomFieldDefinition]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for definition in definitions:
        name = f"cf_{definition.key}"
        if definition.field_type == "boolean":
            values[definition.key] = post.get(name) == "on"
        else:
            values[definition.key] = post.get(name, "")
    return values


def contact_data_from_post(post, definitions: list[CustomFieldDefinition],
                           find_company) -> tuple[dict, dict]:
    """Returns (data for the service, errors found while reading the form itself)."""
    errors: dict[str, list[str]] = {}
    company_name = post.get("company", "").strip()
    company_id = None
    if company_name:
        company_id = find_company(company_name)
        if company_id is None:
            errors["company_id"] = [f"no company named {company_name!r}; create it first"]
    data = {
        "first_name": post.get("first_name", ""),
        "last_name": post.get("last_name", ""),
        "emails": split_lines(post.get("emails", "")),
        "phones": [p.strip() for p in post.get("phones", "").splitlines() if p.strip()],
        "addresses": [a.strip() for a in post.get("addresses", "").split("\n\n") if a.strip()],
        "job_title": post.get("job_title", ""),
        "company_id": company_id,
        "owner_id": post.get("owner_id") or None,
        "tags": split_lines(post.get("tags", "")),
        "lifecycle_stage": post.get("lifecycle_stage", "lead"),
        "source": post.get("source", ""),
        "email_opt_in": post.get("email_opt_in") == "on",
        "email_opt_in_source": post.get("email_opt_in_source", ""),
        "do_not_call": post.get("do_not_call") == "on",
        "notes": post.get("notes", ""),
        "custom_fields": custom_values(post, definitions),
    }
    return data, errors


def contact_form_values(contact=None, post=None) -> dict[str, Any]:
    """What the form shows: what the user typed if there was a POST, else the record."""
    if post is not None:
        values = {k: post.get(k, "") for k in post}
        values["email_opt_in"] = post.get("email_opt_in") == "on"
        values["do_not_call"] = post.get("do_not_call") == "on"
        return values
    if contact is None:
        return {"lifecycle_stage": "lead"}
    values = {
        "first_name": contact.first_name, "last_name": contact.last_name,
        "emails": "\n".join(contact.emails), "phones": "\n".join(contact.phones),
        "addresses": "\n\n".join(contact.addresses), "job_title": contact.job_title,
        "company": contact.shown_company.name if contact.shown_company else "",
        "owner_id": str(contact.owner_id or ""), "tags": ", ".join(t.name for t in
                                                                  contact.tags.all()),
        "lifecycle_stage": contact.lifecycle_stage, "source": contact.source,
        "email_opt_in": contact.email_opt_in, "email_opt_in_source": contact.email_opt_in_source,
        "do_not_call": contact.do_not_call, "notes": contact.notes,
        "version": contact.version,
    }
    for key, value in contact.custom_fields.items():
        values[f"cf_{key}"] = value
    return values


def company_data_from_post(post, definitions: list[CustomFieldDefinition]) -> dict:
    return {
        "name": post.get("name", ""), "domain": post.get("domain", ""),
        "industry": post.get("industry", ""), "size": post.get("size", ""),
        "address": post.get("address", ""), "owner_id": post.get("owner_id") or None,
        "tags": split_lines(post.get("tags", "")),
        "custom_fields": custom_values(post, definitions),
    }


def company_form_values(company: Company | None = None, post=None) -> dict[str, Any]:
    if post is not None:
        return {k: post.get(k, "") for k in post}
    if company is None:
        return {}
    values = {
        "name": company.name, "domain": company.domain, "industry": company.industry,
        "size": company.size, "address": company.address, "owner_id": str(company.owner_id or ""),
        "tags": ", ".join(t.name for t in company.tags.all()), "version": company.version,
    }
    for key, value in company.custom_fields.items():
        values[f"cf_{key}"] = value
    return values


def custom_field_data_from_post(post) -> dict[str, Any]:
    return {
        "object_type": post.get("object_type", ""), "key": post.get("key", ""),
        "label": post.get("label", ""), "field_type": post.get("field_type", ""),
        "choices": [c for c in post.get("choices", "").split(",") if c.strip()],
        "required": post.get("required") == "on",
    }
