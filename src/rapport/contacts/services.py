"""Writes for people, companies, tags, custom fields and saved views.

Every write validates everything first (all field errors together), changes the database in
one transaction, and records an event with what changed.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from rapport.contacts.models import (
    COMPANY_SIZES,
    FIELD_TYPES,
    LIFECYCLE_STAGES,
    OBJECT_TYPES,
    Company,
    CompanyTag,
    Contact,
    ContactTag,
    CustomFieldDefinition,
    NameWord,
    SavedView,
    Tag,
)
from rapport.core.errors import NotFound, PermissionDenied, ValidationFailed, VersionConflict
from rapport.core.events import NewEvent, diff, record_event, record_events
from rapport.core.permissions import can
from rapport.core.validation import (
    has_control_characters,
    normalise_email,
    normalise_phone,
    phone_search_forms,
)

CONTACT_TEXT_FIELDS = {
    "first_name": 100, "last_name": 100, "job_title": 150, "source": 100,
    "email_opt_in_source": 100, "notes": 20000,
}
CONTACT_FIELDS = (
    "first_name", "last_name", "emails", "phones", "addresses", "job_title", "company_id",
    "owner_id", "tags", "lifecycle_stage", "source", "email_opt_in", "email_opt_in_source",
    "do_not_call", "notes", "preferences", "custom_fields",
)
COMPANY_TEXT_FIELDS = {"name": 200, "domain": 200, "industry": 100, "address": 2000}
COMPANY_FIELDS = ("name", "domain", "industry", "size", "address", "owner_id", "tags",
                  "custom_fields")
MAX_TAGS = 50
NAME_VOCABULARY_CACHE_KEY = "contacts:name-vocabulary"
MAX_LIST_ITEMS = 20


# --- helpers shared by people and companies -------------------------------------------------

def fold(text: str) -> str:
    """Lower-case without accents, so "Zoë" is found by "zoe"."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()


def build_search_text(*, first_name: str, last_name: str, emails: Iterable[str],
                      phones: Iterable[str], company_name: str = "") -> str:
    parts = [f"{first_name} {last_name}".strip(), *emails]
    for phone in phones:
        parts.extend(phone_search_forms(phone))
    if company_name:
        parts.append(company_name)
    return fold(" | ".join(p for p in parts if p))


def name_words(*names: str) -> set[str]:
    """The folded words of names, as typo-tolerant search knows them."""
    return {w for name in names for w in fold(name).replace("-", " ").split() if 2 <= len(w) <= 100}


def _remember_name_words(*names: str) -> None:
    words = name_words(*names)
    if words:
        NameWord.objects.bulk_create([NameWord(word=w) for w in words], ignore_conflicts=True)
        _forget_cached_vocabulary()


def _forget_cached_vocabulary() -> None:
    # This process sees new names at once; other processes within a minute (the cache's life).
    from django.core.cache import cache

    cache.delete(NAME_VOCABULARY_CACHE_KEY)


def name_vocabulary_rebuild(*, contact_model=None, word_model=None, batch: int = 5000) -> int:
    """Fill the name vocabulary from every contact (after bulk loads that bypass services)."""
    contact_model = contact_model or Contact
    word_model = word_model or NameWord
    words: set[str] = set()
    for column in ("first_name", "last_name"):
        for value in contact_model.objects.values_list(column, flat=True).distinct().iterator(
                chunk_size=batch):
            words |= name_words(value)
    existing = set(word_model.objects.values_list("word", flat=True))
    new = sorted(words - existing)
    for start in range(0, len(new), batch):
        word_model.objects.bulk_create([word_model(word=w) for w in new[start:start + batch]],
                                       ignore_conflicts=True)
    _forget_cached_vocabulary()
    return len(new)


def _clean_text(data: dict, errors: dict, limits: dict[str, int], cleaned: dict) -> None:
    for field, limit in limits.items():
        if field not in data:
            continue
        value = data[field]
        if value is None:
            value = ""
        if not isinstance(value, str):
            errors[field] = "must be text"
            continue
        value = value.strip()
        if has_control_characters(value):
            errors[field] = "contains control characters (such as NUL); remove them"
            continue
        if len(value) > limit:
            errors[field] = f"must be at most {limit} characters (got {len(value)})"
            continue
        cleaned[field] = value


def _clean_list(values: Any, field: str, normalise, one: str, many: str,
                errors: dict) -> list[str] | None:
    """Normalise each item (``emails.2``-style errors), dropping duplicates; None if invalid."""
    values = values or []
    if not isinstance(values, list) or len(values) > MAX_LIST_ITEMS:
        errors[field] = f"must be a list of at most {MAX_LIST_ITEMS} {many}"
        return None
    out: list[str] = []
    for i, value in enumerate(values):
        if not isinstance(value, str) or not value.strip():
            errors[f"{field}.{i}"] = f"must be {one}"
            continue
        try:
            item = normalise(value, field=f"{field}.{i}")
        except ValidationFailed as error:
            errors.update({k: v[0] for k, v in error.errors.items()})
            continue
        if item not in out:
            out.append(item)
    return out


def _clean_tags(value: Any, errors: dict) -> list[str] | None:
    if not isinstance(value, list) or not all(isinstance(t, str) for t in value):
        errors["tags"] = "must be a list of tag names"
        return None
    tags = sorted({t.strip().lower() for t in value if t.strip()})
    if len(tags) > MAX_TAGS:
        errors["tags"] = f"at most {MAX_TAGS} tags"
        return None
    if any(has_control_characters(t) for t in tags):
        errors["tags"] = "tag names cannot contain control characters"
        return None
    too_long = [t for t in tags if len(t) > 50]
    if too_long:
        errors["tags"] = f"tag names are at most 50 characters: {too_long[0][:60]!r}"
        return None
    return tags


def _clean_owner(value: Any, errors: dict) -> int | None:
    from rapport.accounts.models import User

    if value in (None, ""):
        return None
    try:
        owner_id = int(value)
    except (TypeError, ValueError):
        errors["owner_id"] = "must be a user id"
        return None
    if not User.objects.filter(id=owner_id, is_active=True).exists():
        errors["owner_id"] = f"no active user with id {owner_id}"
        return None
    return owner_id


def clean_custom_fields(object_type: str, value: Any, errors: dict, *,
                        partial_base: dict | None = None) -> dict | None:
    """Check custom field values against their definitions; returns the merged, typed dict."""
    if not isinstance(value, dict):
        errors["custom_fields"] = "must be an object of field key to value"
        return None
    definitions = {d.key: d for d in CustomFieldDefinition.objects.filter(object_type=object_type)}
    merged = dict(partial_base or {})
    for key, raw in value.items():
        name = f"custom_fields.{key}"
        definition = definitions.get(key)
        if definition is None:
            errors[name] = f"no custom field {key!r} is defined for {object_type}s"
            continue
        if raw in (None, ""):
            merged.pop(key, None)
            continue
        try:
            merged[key] = coerce_custom_value(definition, raw)
        except ValueError as error:
            errors[name] = str(error)
    for key, definition in definitions.items():
        if definition.required and merged.get(key) in (None, ""):
            errors.setdefault(f"custom_fields.{key}", f"{definition.label} is required")
    return merged


def coerce_custom_value(definition: CustomFieldDefinition, raw: Any) -> Any:
    kind = definition.field_type
    if kind == "text":
        text = str(raw).strip()
        if has_control_characters(text):
            raise ValueError("contains control characters (such as NUL)")
        if len(text) > 1000:
            raise ValueError("must be at most 1000 characters")
        return text
    if kind == "number":
        if isinstance(raw, bool):
            raise ValueError("must be a number")
        try:
            number = Decimal(str(raw).strip())
        except InvalidOperation:
            raise ValueError(f"{raw!r} is not a number") from None
        if not number.is_finite():
            raise ValueError("must be a finite number")
        return int(number) if number == number.to_integral_value() else float(number)
    if kind == "date":
        try:
            return dt.date.fromisoformat(str(raw).strip()).isoformat()
        except ValueError:
            raise ValueError(f"{raw!r} is not a date (use YYYY-MM-DD)") from None
    if kind == "boolean":
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text in ("true", "1", "yes", "on"):
            return True
        if text in ("false", "0", "no", "off"):
            return False
        raise ValueError(f"{raw!r} is not yes or no")
    if kind == "choice":
        text = str(raw).strip()
        if text not in definition.choices:
            raise ValueError(f"{text!r} is not one of {', '.join(definition.choices)}")
        return text
    raise ValueError(f"unknown field type {kind}")


def _tag_ids(names: list[str]) -> list[int]:
    if not names:
        return []
    Tag.objects.bulk_create([Tag(name=n) for n in names], ignore_conflicts=True)
    return list(Tag.objects.filter(name__in=names).values_list("id", flat=True))


# --- people ------------------------------------------------------------------------------------

def clean_contact(data: dict[str, Any], *, current: Contact | None = None) -> dict[str, Any]:
    """Validate and normalise contact fields; raise ValidationFailed naming every bad field."""
    errors: dict[str, str] = {}
    unknown = sorted(set(data) - set(CONTACT_FIELDS))
    for field in unknown:
        errors[field] = "unknown field"
    cleaned: dict[str, Any] = {}
    _clean_text(data, errors, CONTACT_TEXT_FIELDS, cleaned)

    for field, normalise, one, many in (
        ("emails", normalise_email, "an email address", "email addresses"),
        ("phones", normalise_phone, "a phone number", "phone numbers"),
    ):
        if field in data:
            normalised = _clean_list(data[field], field, normalise, one, many, errors)
            if normalised is not None:
                cleaned[field] = normalised
    if "addresses" in data:
        addresses = data["addresses"] or []
        if not isinstance(addresses, list) or len(addresses) > MAX_LIST_ITEMS or not all(
            isinstance(a, str) and len(a) <= 500 and not has_control_characters(a)
            for a in addresses
        ):
            errors["addresses"] = "must be a list of addresses (text, at most 500 characters)"
        else:
            cleaned["addresses"] = [a.strip() for a in addresses if a.strip()]
    if "preferences" in data:
        prefs = data["preferences"] or []
        if not isinstance(prefs, list) or len(prefs) > 100 or not all(
            isinstance(p, str) and len(p) <= 500 and not has_control_characters(p)
            for p in prefs
        ):
            errors["preferences"] = "must be a list of facts (text, at most 500 characters)"
        else:
            cleaned["preferences"] = [p.strip() for p in prefs if p.strip()]
    if "lifecycle_stage" in data:
        stage = data["lifecycle_stage"]
        if stage not in LIFECYCLE_STAGES:
            errors["lifecycle_stage"] = f"must be one of {', '.join(LIFECYCLE_STAGES)}"
        else:
            cleaned["lifecycle_stage"] = stage
    for flag in ("email_opt_in", "do_not_call"):
        if flag in data:
            if not isinstance(data[flag], bool):
                errors[flag] = "must be true or false"
            else:
                cleaned[flag] = data[flag]
    if "company_id" in data:
        company_id = data["company_id"]
        if company_id in (None, ""):
            cleaned["company_id"] = None
        else:
            try:
                company_id = int(company_id)
            except (TypeError, ValueError):
                errors["company_id"] = "must be a company id"
            else:
                if not Company.objects.filter(id=company_id, deleted_at__isnull=True).exists():
                    errors["company_id"] = f"no company with id {company_id}"
                else:
                    cleaned["company_id"] = company_id
    if "owner_id" in data:
        owner_id = _clean_owner(data["owner_id"], errors)
        if "owner_id" not in errors:
            cleaned["owner_id"] = owner_id
    if "tags" in data:
        tags = _clean_tags(data["tags"], errors)
        if tags is not None:
            cleaned["tags"] = tags
    if "custom_fields" in data or current is None:
        merged = clean_custom_fields(
            "contact", data.get("custom_fields") or {}, errors,
            partial_base=current.custom_fields if current else None,
        )
        if merged is not None:
            cleaned["custom_fields"] = merged

    first = cleaned.get("first_name", current.first_name if current else "")
    last = cleaned.get("last_name", current.last_name if current else "")
    if not first and not last and "first_name" not in errors and "last_name" not in errors:
        errors["first_name"] = "a contact needs a first or last name"
    if errors:
        raise ValidationFailed(errors)
    return cleaned


def contact_snapshot(contact: Contact, tags: list[str] | None = None) -> dict[str, Any]:
    if tags is None:
        tags = sorted(contact.tags.values_list("name", flat=True))
    return {
        "first_name": contact.first_name, "last_name": contact.last_name,
        "emails": list(contact.emails), "phones": list(contact.phones),
        "addresses": list(contact.addresses), "job_title": contact.job_title,
        "company_id": contact.company_id, "owner_id": contact.owner_id, "tags": tags,
        "lifecycle_stage": contact.lifecycle_stage, "source": contact.source,
        "email_opt_in": contact.email_opt_in,
        "email_opt_in_at": contact.email_opt_in_at.isoformat() if contact.email_opt_in_at else None,
        "email_opt_in_source": contact.email_opt_in_source,
        "do_not_call": contact.do_not_call, "notes": contact.notes,
        "preferences": list(contact.preferences), "custom_fields": dict(contact.custom_fields),
        "version": contact.version,
    }


def _refresh_search_text(contact: Contact) -> None:
    company_name = ""
    if contact.company_id:
        company_name = (
            Company.objects.filter(id=contact.company_id).values_list("name", flat=True).first()
            or ""
        )
    contact.search_text = build_search_text(
        first_name=contact.first_name, last_name=contact.last_name, emails=contact.emails,
        phones=contact.phones, company_name=company_name,
    )


def _apply_contact_fields(contact: Contact, cleaned: dict[str, Any]) -> None:
    for field, value in cleaned.items():
        if field != "tags":
            setattr(contact, field, value)
    if "emails" in cleaned:
        contact.primary_email = cleaned["emails"][0] if cleaned["emails"] else ""
    if cleaned.get("email_opt_in") is True and not contact.email_opt_in_at:
        contact.email_opt_in_at = timezone.now()
    if cleaned.get("email_opt_in") is False:
        contact.email_opt_in_at = None


def _set_contact_tags(contact: Contact, names: list[str]) -> None:
    ContactTag.objects.filter(contact=contact).delete()
    ContactTag.objects.bulk_create([ContactTag(contact=contact, tag_id=t) for t in _tag_ids(names)])


@transaction.atomic
def contact_create(*, actor, data: dict[str, Any]) -> Contact:
    data = dict(data)
    if data.get("owner_id") is None:
        data["owner_id"] = actor.id if actor else None
    cleaned = clean_contact(data)
    contact = Contact()
    _apply_contact_fields(contact, cleaned)
    _refresh_search_text(contact)
    contact.save()
    _remember_name_words(contact.first_name, contact.last_name)
    tags = cleaned.get("tags", [])
    if tags:
        _set_contact_tags(contact, tags)
    record_event(kind="contact.created", entity_type="contact", entity_id=contact.id,
                 contact_id=contact.id, actor_id=actor.id if actor else None,
                 after=contact_snapshot(contact, tags))
    return contact


def _get_for(actor, model, object_id: int, action: str):
    try:
        obj = model.objects.select_for_update().get(id=object_id, deleted_at__isnull=True)
    except model.DoesNotExist:
        raise NotFound(f"no {model.__name__.lower()} with id {object_id}") from None
    if not can(actor, "view", obj.owner_id):
        raise NotFound(f"no {model.__name__.lower()} with id {object_id}")
    if not can(actor, action, obj.owner_id):
        raise PermissionDenied(f"you may not {action} this {model.__name__.lower()}")
    return obj


def _require_version(obj, version: int | None, snapshot: dict[str, Any]) -> None:
    """Optimistic locking: the caller must send the version they read, and it must be current."""
    if version is None:
        raise ValidationFailed({"version": "is required (the version you last read)"})
    if version != obj.version:
        raise VersionConflict(current=snapshot, current_version=obj.version,
                              given_version=version)


def _changed_fields(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict, dict]:
    return diff({k: v for k, v in before.items() if k != "version"},
                {k: v for k, v in after.items() if k != "version"})


@transaction.atomic
def contact_update(*, actor, contact_id: int, version: int | None,
                   changes: dict[str, Any]) -> Contact:
    """Change some fields. ``version`` is the one the caller read; a stale one raises 409."""
    contact = _get_for(actor, Contact, contact_id, "change")
    before = contact_snapshot(contact)
    _require_version(contact, version, before)
    cleaned = clean_contact(changes, current=contact)
    if "owner_id" in cleaned and cleaned["owner_id"] != contact.owner_id:
        if not can(actor, "change", cleaned["owner_id"]) and actor.role != "owner":
            raise ValidationFailed({"owner_id": "you may not hand records to that user"})
    _apply_contact_fields(contact, cleaned)
    if cleaned.get("tags") is not None and cleaned["tags"] != before["tags"]:
        _set_contact_tags(contact, cleaned["tags"])
    after = contact_snapshot(contact, cleaned.get("tags", before["tags"]))
    changed_before, changed_after = _changed_fields(before, after)
    if not changed_after:
        return contact
    contact.version += 1
    _refresh_search_text(contact)
    contact.save()
    if "first_name" in changed_after or "last_name" in changed_after:
        _remember_name_words(contact.first_name, contact.last_name)
    record_event(kind="contact.updated", entity_type="contact", entity_id=contact.id,
                 contact_id=contact.id, actor_id=actor.id, before=changed_before,
                 after=changed_after)
    return contact


@transaction.atomic
def contact_add_preference(*, actor, contact_id: int, text: str) -> Contact:
    contact = _get_for(actor, Contact, contact_id, "change")
    text = (text or "").strip()
    if not text:
        raise ValidationFailed({"preference": "write the fact to remember"})
    if has_control_characters(text):
        raise ValidationFailed({"preference": "contains control characters (such as NUL)"})
    if len(text) > 500:
        raise ValidationFailed({"preference": "must be at most 500 characters"})
    return contact_update(actor=actor, contact_id=contact_id, version=contact.version,
                          changes={"preferences": [*contact.preferences, text]})


@transaction.atomic
def contact_note_add(*, actor, contact_id: int, text: str) -> None:
    contact = _get_for(actor, Contact, contact_id, "view")
    text = (text or "").strip()
    if not text:
        raise ValidationFailed({"note": "write something"})
    if has_control_characters(text):
        raise ValidationFailed({"note": "contains control characters (such as NUL)"})
    if len(text) > 10000:
        raise ValidationFailed({"note": "must be at most 10000 characters"})
    record_event(kind="note.added", entity_type="contact", entity_id=contact.id,
                 contact_id=contact.id, actor_id=actor.id, after={"text": text})


@transaction.atomic
def contact_delete(*, actor, contact_id: int) -> None:
    """Soft delete: hidden everywhere, restorable for 30 days."""
    contact = _get_for(actor, Contact, contact_id, "delete")
    contact.deleted_at = timezone.now()
    contact.version += 1
    contact.save(update_fields=["deleted_at", "version", "updated_at"])
    record_event(kind="contact.deleted", entity_type="contact", entity_id=contact.id,
                 contact_id=contact.id, actor_id=actor.id)


def _restore(*, actor, model, object_id: int):
    from django.conf import settings

    name = model.__name__.lower()
    try:
        obj = model.objects.select_for_update().get(id=object_id, deleted_at__isnull=False)
    except model.DoesNotExist:
        raise NotFound(f"no deleted {name} with id {object_id}") from None
    if not (actor.role == "owner" or obj.owner_id == actor.id):
        raise PermissionDenied(f"only the {name}'s owner or an owner-role user may restore it")
    limit = timezone.now() - dt.timedelta(days=settings.RAPPORT_SOFT_DELETE_DAYS)
    if obj.deleted_at < limit:
        raise ValidationFailed({"deleted_at": "deleted more than 30 days ago; cannot restore"})
    obj.deleted_at = None
    obj.version += 1
    obj.save(update_fields=["deleted_at", "version", "updated_at"])
    record_event(kind=f"{name}.restored", entity_type=name, entity_id=obj.id,
                 contact_id=obj.id if model is Contact else None, actor_id=actor.id)
    return obj


@transaction.atomic
def contact_restore(*, actor, contact_id: int) -> Contact:
    return _restore(actor=actor, model=Contact, object_id=contact_id)


@transaction.atomic
def company_restore(*, actor, company_id: int) -> Company:
    return _restore(actor=actor, model=Company, object_id=company_id)


def _bulk_targets(actor, contact_ids: list[int], action: str) -> list[Contact]:
    if not contact_ids:
        raise ValidationFailed({"ids": "choose at least one contact"})
    if len(contact_ids) > 1000:
        raise ValidationFailed({"ids": "at most 1000 contacts at a time"})
    contacts = list(Contact.objects.select_for_update().filter(id__in=contact_ids,
                                                                deleted_at__isnull=True))
    allowed = [c for c in contacts if can(actor, action, c.owner_id)]
    if len(allowed) != len(set(contact_ids)):
        raise PermissionDenied(
            f"you may not {action} {len(set(contact_ids)) - len(allowed)} of the chosen contacts"
        )
    return allowed


@transaction.atomic
def contacts_bulk_tag(*, actor, contact_ids: list[int], tag: str) -> int:
    errors: dict[str, str] = {}
    names = _clean_tags([tag], errors)
    if errors or not names:
        raise ValidationFailed(errors or {"tag": "write a tag name"})
    contacts = _bulk_targets(actor, contact_ids, "change")
    tag_id = _tag_ids(names)[0]
    ContactTag.objects.bulk_create([ContactTag(contact=c, tag_id=tag_id) for c in contacts],
                                   ignore_conflicts=True)
    Contact.objects.filter(id__in=[c.id for c in contacts]).update(version=F("version") + 1,
                                                                   updated_at=timezone.now())
    record_events(
        NewEvent(kind="contact.updated", entity_type="contact", entity_id=c.id,
                 contact_id=c.id, actor_id=actor.id, before={}, after={"tag_added": names[0]})
        for c in contacts
    )
    return len(contacts)


@transaction.atomic
def contacts_bulk_assign(*, actor, contact_ids: list[int], owner_id: Any) -> int:
    errors: dict[str, str] = {}
    new_owner = _clean_owner(owner_id, errors)
    if errors:
        raise ValidationFailed(errors)
    contacts = _bulk_targets(actor, contact_ids, "change")
    Contact.objects.filter(id__in=[c.id for c in contacts]).update(
        owner_id=new_owner, version=F("version") + 1, updated_at=timezone.now()
    )
    record_events(
        NewEvent(kind="contact.updated", entity_type="contact", entity_id=c.id,
                 contact_id=c.id, actor_id=actor.id, before={"owner_id": c.owner_id},
                 after={"owner_id": new_owner})
        for c in contacts
    )
    return len(contacts)


@transaction.atomic
def contacts_bulk_delete(*, actor, contact_ids: list[int]) -> int:
    contacts = _bulk_targets(actor, contact_ids, "delete")
    Contact.objects.filter(id__in=[c.id for c in contacts]).update(
        deleted_at=timezone.now(), version=F("version") + 1
    )
    record_events(
        NewEvent(kind="contact.deleted", entity_type="contact", entity_id=c.id,
                 contact_id=c.id, actor_id=actor.id)
        for c in contacts
    )
    return len(contacts)



# --- companies ---------------------------------------------------------------------------------

def clean_company(data: dict[str, Any], *, current: Company | None = None) -> dict[str, Any]:
    errors: dict[str, str] = {}
    for field in sorted(set(data) - set(COMPANY_FIELDS)):
        errors[field] = "unknown field"
    cleaned: dict[str, Any] = {}
    _clean_text(data, errors, COMPANY_TEXT_FIELDS, cleaned)
    if "domain" in cleaned:
        cleaned["domain"] = cleaned["domain"].lower().removeprefix("https://").removeprefix(
            "http://").removeprefix("www.").rstrip("/")
        if cleaned["domain"] and ("." not in cleaned["domain"] or " " in cleaned["domain"]):
            errors["domain"] = f"{cleaned['domain']!r} is not a web domain like example.com"
    if "size" in data:
        if data["size"] not in ("", None, *COMPANY_SIZES):
            errors["size"] = f"must be one of {', '.join(COMPANY_SIZES)}"
        else:
            cleaned["size"] = data["size"] or ""
    if "owner_id" in data:
        owner_id = _clean_owner(data["owner_id"], errors)
        if "owner_id" not in errors:
            cleaned["owner_id"] = owner_id
    if "tags" in data:
        tags = _clean_tags(data["tags"], errors)
        if tags is not None:
            cleaned["tags"] = tags
    if "custom_fields" in data or current is None:
        merged = clean_custom_fields("company", data.get("custom_fields") or {}, errors,
                                     partial_base=current.custom_fields if current else None)
        if merged is not None:
            cleaned["custom_fields"] = merged
    name = cleaned.get("name", current.name if current else "")
    if not name and "name" not in errors:
        errors["name"] = "a company needs a name"
    if errors:
        raise ValidationFailed(errors)
    return cleaned


def company_snapshot(company: Company, tags: list[str] | None = None) -> dict[str, Any]:
    if tags is None:
        tags = sorted(company.tags.values_list("name", flat=True))
    return {
        "name": company.name, "domain": company.domain, "industry": company.industry,
        "size": company.size, "address": company.address, "owner_id": company.owner_id,
        "tags": tags, "custom_fields": dict(company.custom_fields), "version": company.version,
    }


def _set_company_tags(company: Company, names: list[str]) -> None:
    CompanyTag.objects.filter(company=company).delete()
    CompanyTag.objects.bulk_create([CompanyTag(company=company, tag_id=t) for t in _tag_ids(names)])


@transaction.atomic
def company_create(*, actor, data: dict[str, Any]) -> Company:
    data = dict(data)
    if data.get("owner_id") is None:
        data["owner_id"] = actor.id if actor else None
    cleaned = clean_company(data)
    company = Company(**{k: v for k, v in cleaned.items() if k != "tags"})
    company.save()
    if cleaned.get("tags"):
        _set_company_tags(company, cleaned["tags"])
    record_event(kind="company.created", entity_type="company", entity_id=company.id,
                 actor_id=actor.id if actor else None,
                 after=company_snapshot(company, cleaned.get("tags", [])))
    return company


@transaction.atomic
def company_update(*, actor, company_id: int, version: int | None,
                   changes: dict[str, Any]) -> Company:
    company = _get_for(actor, Company, company_id, "change")
    before = company_snapshot(company)
    _require_version(company, version, before)
    cleaned = clean_company(changes, current=company)
    for field, value in cleaned.items():
        if field != "tags":
            setattr(company, field, value)
    if cleaned.get("tags") is not None and cleaned["tags"] != before["tags"]:
        _set_company_tags(company, cleaned["tags"])
    after = company_snapshot(company, cleaned.get("tags", before["tags"]))
    changed_before, changed_after = _changed_fields(before, after)
    if not changed_after:
        return company
    company.version += 1
    company.save()
    if "name" in changed_after:
        for contact in Contact.objects.filter(company=company).iterator(chunk_size=500):
            _refresh_search_text(contact)
            Contact.objects.filter(id=contact.id).update(search_text=contact.search_text)
    record_event(kind="company.updated", entity_type="company", entity_id=company.id,
                 actor_id=actor.id, before=changed_before, after=changed_after)
    return company


@transaction.atomic
def company_delete(*, actor, company_id: int) -> None:
    company = _get_for(actor, Company, company_id, "delete")
    company.deleted_at = timezone.now()
    company.version += 1
    company.save(update_fields=["deleted_at", "version", "updated_at"])
    record_event(kind="company.deleted", entity_type="company", entity_id=company.id,
                 actor_id=actor.id)


# --- custom fields, tags, saved views -------------------------------------------------------

def _require_settings(actor) -> None:
    if not can(actor, "settings", None):
        raise PermissionDenied("only an owner-role user may change settings")


@transaction.atomic
def custom_field_define(*, actor, object_type: str, key: str, label: str, field_type: str,
                        choices: list[str] | None = None,
                        required: bool = False) -> CustomFieldDefinition:
    _require_settings(actor)
    errors: dict[str, str] = {}
    import re

    if object_type not in OBJECT_TYPES:
        errors["object_type"] = f"must be one of {', '.join(OBJECT_TYPES)}"
    key = (key or "").strip().lower()
    if not re.fullmatch(r"[a-z][a-z0-9_]{0,49}", key):
        errors["key"] = "must start with a letter and use only a-z, 0-9 and _ (max 50)"
    label = (label or "").strip()
    if not label or len(label) > 100:
        errors["label"] = "must be 1 to 100 characters"
    if field_type not in FIELD_TYPES:
        errors["field_type"] = f"must be one of {', '.join(FIELD_TYPES)}"
    options = [str(c).strip() for c in (choices or []) if str(c).strip()]
    if field_type == "choice" and not options:
        errors["choices"] = "a choice field needs at least one choice"
    if not errors and CustomFieldDefinition.objects.filter(object_type=object_type,
                                                           key=key).exists():
        errors["key"] = f"{object_type} already has a custom field {key!r}"
    if errors:
        raise ValidationFailed(errors)
    definition = CustomFieldDefinition.objects.create(
        object_type=object_type, key=key, label=label, field_type=field_type,
        choices=options if field_type == "choice" else [], required=required,
    )
    record_event(kind="custom_field.created", entity_type="custom_field",
                 entity_id=definition.id, actor_id=actor.id,
                 after={"object_type": object_type, "key": key, "label": label,
                        "field_type": field_type, "choices": definition.choices,
                        "required": required})
    return definition


@transaction.atomic
def custom_field_update(*, actor, definition_id: int, version: int,
                        changes: dict) -> CustomFieldDefinition:
    """Change a field's label, choices or whether it is required (its key and type stay)."""
    _require_settings(actor)
    definition = CustomFieldDefinition.objects.select_for_update().filter(
        id=definition_id).first()
    if definition is None:
        raise NotFound(f"no custom field with id {definition_id}")
    before = {"label": definition.label, "choices": definition.choices,
              "required": definition.required}
    if version != definition.version:
        raise VersionConflict(current={**before, "version": definition.version},
                              current_version=definition.version, given_version=version)
    errors: dict[str, str] = {}
    for field in sorted(set(changes) - {"label", "choices", "required"}):
        errors[field] = "cannot be changed (only label, choices and required can)"
    if "label" in changes:
        label = (changes["label"] or "").strip()
        if not label or len(label) > 100 or has_control_characters(label):
            errors["label"] = "must be 1 to 100 characters"
        else:
            definition.label = label
    if "choices" in changes:
        options = [str(c).strip() for c in (changes["choices"] or []) if str(c).strip()]
        if definition.field_type != "choice":
            errors["choices"] = "only choice fields have choices"
        elif not options:
            errors["choices"] = "a choice field needs at least one choice"
        else:
            definition.choices = options
    if "required" in changes:
        if not isinstance(changes["required"], bool):
            errors["required"] = "must be true or false"
        else:
            definition.required = changes["required"]
    if errors:
        raise ValidationFailed(errors)
    after = {"label": definition.label, "choices": definition.choices,
             "required": definition.required}
    changed_before, changed_after = diff(before, after)
    if changed_after:
        definition.version += 1
        definition.save()
        record_event(kind="custom_field.updated", entity_type="custom_field",
                     entity_id=definition.id, actor_id=actor.id, before=changed_before,
                     after=changed_after)
    return definition


@transaction.atomic
def custom_field_delete(*, actor, definition_id: int) -> None:
    _require_settings(actor)
    definition = CustomFieldDefinition.objects.filter(id=definition_id).first()
    if definition is None:
        raise NotFound(f"no custom field with id {definition_id}")
    definition.delete()
    record_event(kind="custom_field.deleted", entity_type="custom_field",
                 entity_id=definition_id, actor_id=actor.id,
                 before={"object_type": definition.object_type, "key": definition.key})


@transaction.atomic
def tag_create(*, actor, name: str) -> Tag:
    errors: dict[str, str] = {}
    names = _clean_tags([name], errors)
    if errors or not names:
        raise ValidationFailed({"name": errors.get("tags", "write a tag name")})
    tag, created = Tag.objects.get_or_create(name=names[0])
    if created:
        record_event(kind="tag.created", entity_type="tag", entity_id=tag.id,
                     actor_id=actor.id, after={"name": tag.name})
    return tag


@transaction.atomic
def tag_rename(*, actor, tag_id: int, name: str) -> Tag:
    """Rename a tag everywhere it is used (an owner-role setting: tags are shared)."""
    _require_settings(actor)
    errors: dict[str, str] = {}
    names = _clean_tags([name], errors)
    if errors or not names:
        raise ValidationFailed({"name": errors.get("tags", "write a tag name")})
    tag = Tag.objects.select_for_update().filter(id=tag_id).first()
    if tag is None:
        raise NotFound(f"no tag with id {tag_id}")
    if Tag.objects.filter(name=names[0]).exclude(id=tag_id).exists():
        raise ValidationFailed({"name": f"a tag named {names[0]!r} already exists"})
    before = tag.name
    tag.name = names[0]
    tag.save(update_fields=["name"])
    record_event(kind="tag.renamed", entity_type="tag", entity_id=tag.id, actor_id=actor.id,
                 before={"name": before}, after={"name": tag.name})
    return tag


@transaction.atomic
def tag_delete(*, actor, tag_id: int) -> None:
    """Remove a tag from every contact and company (an owner-role setting)."""
    _require_settings(actor)
    tag = Tag.objects.filter(id=tag_id).first()
    if tag is None:
        raise NotFound(f"no tag with id {tag_id}")
    used = ContactTag.objects.filter(tag=tag).count() + CompanyTag.objects.filter(tag=tag).count()
    tag.delete()
    record_event(kind="tag.deleted", entity_type="tag", entity_id=tag_id, actor_id=actor.id,
                 before={"name": tag.name, "used_by": used})


@transaction.atomic
def saved_view_create(*, actor, name: str, query: str, object_type: str = "contact") -> SavedView:
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise ValidationFailed({"name": "must be 1 to 100 characters"})
    if len(query) > 1000:
        raise ValidationFailed({"query": "too long"})
    view, _ = SavedView.objects.update_or_create(
        user=actor, object_type=object_type, name=name, defaults={"query": query.lstrip("?")}
    )
    return view


@transaction.atomic
def saved_view_delete(*, actor, view_id: int) -> None:
    deleted, _ = SavedView.objects.filter(id=view_id, user=actor).delete()
    if not deleted:
        raise NotFound("no such saved view")
