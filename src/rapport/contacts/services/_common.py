"""What the contacts services share: version checks, diffs, tags, owners, custom fields."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.utils import timezone

from rapport.accounts.selectors import active_user_exists
from rapport.contacts.models import CustomFieldDefinition, Tag
from rapport.core.errors import NotFound, PermissionDenied, ValidationFailed, VersionConflict
from rapport.core.events import diff
from rapport.core.permissions import can


def require_version(obj: Any, version: int | None, snapshot: dict[str, Any]) -> None:
    """Optimistic locking: the caller must send the version they read, and it must be current."""
    if version is None:
        raise ValidationFailed({"version": "is required (the version you last read)"})
    if version != obj.version:
        raise VersionConflict(current=snapshot, current_version=obj.version,
                              given_version=version)


def changed_fields(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict, dict]:
    return diff({k: v for k, v in before.items() if k != "version"},
                {k: v for k, v in after.items() if k != "version"})


def tag_ids(names: list[str]) -> list[int]:
    if not names:
        return []
    Tag.objects.bulk_create([Tag(name=n) for n in names], ignore_conflicts=True)
    return list(Tag.objects.filter(name__in=names).values_list("id", flat=True))


def check_owner(actor: Any, resource: str, owner_id: int | None, errors: dict[str, str]) -> None:
    """Records go only to active users the actor may hand ``resource`` records to.

    One rule for every path (create, edit, bulk assign, forms, API): "<resource>.assign".
    """
    if owner_id is not None and not active_user_exists(user_id=owner_id):
        errors["owner_id"] = f"no active user with id {owner_id}"
    elif not can(actor, f"{resource}.assign", owner_id=owner_id):
        errors["owner_id"] = ("you may not hand records to that user" if owner_id is not None
                              else "you may not leave records without an owner")


def clean_custom_fields(object_type: str, values: Mapping[str, Any], errors: dict[str, str], *,
                        base: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Check values against their definitions; returns ``base`` with them merged and typed.

    An empty value removes the field; required fields must end up with a value.
    """
    definitions = {d.key: d for d in CustomFieldDefinition.objects.filter(object_type=object_type)}
    merged = dict(base or {})
    for key, raw in values.items():
        name = f"custom_fields.{key}"
        definition = definitions.get(key)
        if definition is None:
            errors[name] = f"no custom field {key!r} is defined for {object_type}s"
            continue
        if raw in (None, ""):
            merged.pop(key, None)
            continue
        try:
            merged[key] = definition.coerce(raw)
        except ValueError as error:
            errors[name] = str(error)
    for key, definition in definitions.items():
        if definition.required and merged.get(key) in (None, ""):
            errors.setdefault(f"custom_fields.{key}", f"{definition.label} is required")
    return merged


def given(changes: Any, shape: Any) -> dict[str, Any]:
    """The fields of ``shape`` a change sets; an explicit null means the field's empty default.

    Anything else the change carries (the ``version`` of a PATCH body) is not a field.
    """
    out = {}
    for name, value in changes.model_dump(exclude_unset=True).items():
        info = shape.model_fields.get(name)
        if info is None:
            continue
        if value is None and not info.is_required():
            value = info.get_default(call_default_factory=True)
        out[name] = value
    return out


def restore_deleted(*, actor: Any, queryset: Any, object_id: int, noun: str) -> Any:
    """Bring back a soft-deleted record within the restore window (people and companies)."""
    obj = queryset.filter(deleted_at__isnull=False).select_for_update().filter(
        id=object_id).first()
    if obj is None:
        raise NotFound(f"no deleted {noun} with id {object_id}")
    if not can(actor, f"{obj.policy.resource}.restore", obj):
        raise PermissionDenied(f"only the {noun}'s owner or an owner-role user may restore it")
    limit = timezone.now() - dt.timedelta(days=settings.RAPPORT_SOFT_DELETE_DAYS)
    if obj.deleted_at < limit:
        raise ValidationFailed({"deleted_at": "deleted more than 30 days ago; cannot restore"})
    obj.deleted_at = None
    obj.version += 1
    obj.save(update_fields=["deleted_at", "version", "updated_at"])
    return obj
