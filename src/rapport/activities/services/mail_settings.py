"""The outgoing mail server's overrides, made on the settings page (owners: settings.change)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import transaction

from rapport.activities import events
from rapport.activities.inputs import MailSettingsInput
from rapport.activities.models import MailSettings
from rapport.core.events import diff, record_events
from rapport.core.inputs import parse
from rapport.core.permissions import require

FIELDS = tuple(MailSettingsInput.model_fields)


@transaction.atomic
def mail_settings_update(*, actor: Any, data: MailSettingsInput | Mapping[str, Any]
                         ) -> MailSettings:
    """Save the overrides (empty fields: the environment's value). Never a password."""
    require(actor, "settings.change", message="only the owner changes the mail server")
    values = parse(MailSettingsInput, data).model_dump()
    row = MailSettings.objects.select_for_update().order_by("id").first() or MailSettings()
    before = {name: getattr(row, name) for name in FIELDS}
    changed_before, changed_after = diff(before, values)
    if row.pk is not None and not changed_after:
        return row
    for name, value in values.items():
        setattr(row, name, value)
    row.updated_by_id = actor.id
    row.save()
    record_events([events.mail_settings_changed(settings_id=row.id, actor_id=actor.id,
                                                before=changed_before, after=changed_after)])
    return row
