"""The outgoing mail server's overrides, made on the settings page (owners: settings.change)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import transaction

from rapport.activities import events
from rapport.activities.inputs import OutgoingMailInput
from rapport.activities.models import OutgoingMail
from rapport.core.events import diff, record_events
from rapport.core.inputs import parse
from rapport.core.permissions import require

FIELDS = tuple(OutgoingMailInput.model_fields)


@transaction.atomic
def outgoing_mail_update(*, actor: Any, data: OutgoingMailInput | Mapping[str, Any]
                         ) -> OutgoingMail:
    """Save the overrides (empty fields: the environment's value). Never a password."""
    require(actor, "settings.change", message="only the owner changes the mail server")
    values = parse(OutgoingMailInput, data).model_dump()
    row = OutgoingMail.objects.select_for_update().order_by("id").first() or OutgoingMail()
    before = {name: getattr(row, name) for name in FIELDS}
    changed_before, changed_after = diff(before, values)
    if row.pk is not None and not changed_after:
        return row
    for name, value in values.items():
        setattr(row, name, value)
    row.updated_by_id = actor.id
    row.save()
    record_events([events.outgoing_mail_changed(settings_id=row.id, actor_id=actor.id,
                                                before=changed_before, after=changed_after)])
    return row
