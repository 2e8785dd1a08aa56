"""Saved email templates: checked when saved (syntax and variables, with the line), versioned
and soft-deleted like every record people edit."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.utils import timezone

from rapport.activities import events, merge
from rapport.activities.inputs import EmailTemplateChanges, EmailTemplateInput
from rapport.activities.models import EmailTemplate
from rapport.activities.services._common import changes_since
from rapport.core.errors import PermissionDenied, ValidationFailed
from rapport.core.events import diff, record_events
from rapport.core.inputs import parse
from rapport.core.permissions import can, get_for

FIELDS = ("name", "subject", "body")
TEMPLATED = ("subject", "body")


def checked(values: Mapping[str, Any], fields: tuple[str, ...] = TEMPLATED) -> None:
    """422 naming each field whose template is broken or names an unknown variable (with its
    line), checked against a sample person who has every value."""
    errors = {}
    for field in fields:
        if values.get(field):
            try:
                merge.check(values[field])
            except merge.TemplateProblem as problem:
                errors[field] = str(problem)
    if errors:
        raise ValidationFailed(errors)


def snapshot(template: EmailTemplate) -> dict[str, Any]:
    return {name: getattr(template, name) for name in FIELDS}


def _shown(values: Mapping[str, Any]) -> dict[str, Any]:
    return {k: (v[:300] + "…" if isinstance(v, str) and len(v) > 300 else v)
            for k, v in values.items()}


@transaction.atomic
def email_template_create(*, actor: Any,
                          data: EmailTemplateInput | Mapping[str, Any]) -> EmailTemplate:
    if not can(actor, "email_templates.add", owner_id=actor.id):
        raise PermissionDenied("you may not make email templates")
    values = parse(EmailTemplateInput, data).model_dump()
    checked(values)
    template = EmailTemplate.objects.create(owner_id=actor.id, **values)
    record_events([events.email_template_created(template_id=template.id, actor_id=actor.id,
                                                 shown=_shown(values))])
    return template


def _for(actor: Any, action: str, template_id: int) -> EmailTemplate:
    return get_for(actor, action, EmailTemplate.objects.filter(deleted_at__isnull=True),
                   template_id, noun="email template")


@transaction.atomic
def email_template_update(*, actor: Any, template_id: int, version: int | None,
                          changes: EmailTemplateChanges | Mapping[str, Any]) -> EmailTemplate:
    template = _for(actor, "change", template_id)
    before = snapshot(template)
    given = changes_since(template, before, version, EmailTemplateChanges, changes,
                          required=FIELDS)
    after = parse(EmailTemplateInput, {**before, **given}).model_dump()
    checked(after, tuple(name for name in TEMPLATED if name in given))
    changed_before, changed_after = diff(before, after)
    if not changed_after:
        return template
    for name, value in changed_after.items():
        setattr(template, name, value)
    template.version += 1
    template.save()
    record_events([events.email_template_updated(
        template_id=template.id, actor_id=actor.id, before=_shown(changed_before),
        after=_shown(changed_after))])
    return template


@transaction.atomic
def email_template_delete(*, actor: Any, template_id: int) -> None:
    template = _for(actor, "delete", template_id)
    template.deleted_at = timezone.now()
    template.version += 1
    template.save(update_fields=["deleted_at", "version", "updated_at"])
    record_events([events.email_template_deleted(template_id=template.id, actor_id=actor.id,
                                                 shown={"name": template.name})])
