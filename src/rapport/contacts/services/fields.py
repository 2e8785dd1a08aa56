"""Writes for custom field definitions (an owner-role setting)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import transaction

from rapport.contacts import events
from rapport.contacts.inputs import CustomFieldChanges, CustomFieldInput
from rapport.contacts.models import CustomFieldDefinition, FieldType
from rapport.contacts.services._common import given
from rapport.core.errors import NotFound, ValidationFailed, VersionConflict
from rapport.core.events import diff, record_events
from rapport.core.inputs import parse
from rapport.core.permissions import require

SETTINGS_MESSAGE = "only an owner-role user may change settings"


@transaction.atomic
def custom_field_define(*, actor: Any,
                        data: CustomFieldInput | Mapping[str, Any]) -> CustomFieldDefinition:
    require(actor, "settings.change", message=SETTINGS_MESSAGE)
    field = parse(CustomFieldInput, data)
    errors: dict[str, str] = {}
    if field.field_type == FieldType.CHOICE and not field.choices:
        errors["choices"] = "a choice field needs at least one choice"
    if CustomFieldDefinition.objects.filter(object_type=field.object_type,
                                            key=field.key).exists():
        errors["key"] = f"{field.object_type} already has a custom field {field.key!r}"
    if errors:
        raise ValidationFailed(errors)
    definition = CustomFieldDefinition.objects.create(
        object_type=field.object_type, key=field.key, label=field.label,
        field_type=field.field_type,
        choices=field.choices if field.field_type == FieldType.CHOICE else [],
        required=field.required,
    )
    record_events([events.custom_field_created(
        definition_id=definition.id, actor_id=actor.id,
        snapshot={"object_type": str(field.object_type), "key": field.key, "label": field.label,
                  "field_type": str(field.field_type), "choices": definition.choices,
                  "required": field.required})])
    return definition


@transaction.atomic
def custom_field_update(*, actor: Any, definition_id: int, version: int,
                        changes: CustomFieldChanges | Mapping[str, Any]) -> CustomFieldDefinition:
    """Change a field's label, choices or whether it is required (its key and type stay)."""
    require(actor, "settings.change", message=SETTINGS_MESSAGE)
    definition = CustomFieldDefinition.objects.select_for_update().filter(
        id=definition_id).first()
    if definition is None:
        raise NotFound(f"no custom field with id {definition_id}")
    before = {"label": definition.label, "choices": definition.choices,
              "required": definition.required}
    if version != definition.version:
        raise VersionConflict(current={**before, "version": definition.version},
                              current_version=definition.version, given_version=version)
    try:
        fields = given(parse(CustomFieldChanges, changes), CustomFieldChanges)
    except ValidationFailed as failure:
        raise ValidationFailed({key: (["cannot be changed (only label, choices and required "
                                       "can)"] if messages == ["unknown field"] else messages)
                                for key, messages in failure.errors.items()}) from None
    errors: dict[str, str] = {}
    if fields.get("label") is not None:
        definition.label = fields["label"]
    if fields.get("choices") is not None:
        if definition.field_type != FieldType.CHOICE:
            errors["choices"] = "only choice fields have choices"
        elif not fields["choices"]:
            errors["choices"] = "a choice field needs at least one choice"
        else:
            definition.choices = fields["choices"]
    if fields.get("required") is not None:
        definition.required = fields["required"]
    if errors:
        raise ValidationFailed(errors)
    after = {"label": definition.label, "choices": definition.choices,
             "required": definition.required}
    changed_before, changed_after = diff(before, after)
    if changed_after:
        definition.version += 1
        definition.save()
        record_events([events.custom_field_updated(definition_id=definition.id,
                                                   actor_id=actor.id, before=changed_before,
                                                   after=changed_after)])
    return definition


@transaction.atomic
def custom_field_delete(*, actor: Any, definition_id: int) -> None:
    require(actor, "settings.change", message=SETTINGS_MESSAGE)
    definition = CustomFieldDefinition.objects.filter(id=definition_id).first()
    if definition is None:
        raise NotFound(f"no custom field with id {definition_id}")
    definition.delete()
    record_events([events.custom_field_deleted(definition_id=definition_id, actor_id=actor.id,
                                               object_type=definition.object_type,
                                               key=definition.key)])
