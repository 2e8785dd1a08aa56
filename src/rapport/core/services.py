"""Cross-app housekeeping services."""

from __future__ import annotations

import datetime as dt
import logging

from django.apps import apps
from django.conf import settings
from django.db import transaction
from django.db.models import Max, ProtectedError
from django.utils import timezone

from rapport.core.events import (
    AUDIT_ERASED,
    RECORD_PURGED,
    SYSTEM_HEARTBEAT,
    record_event,
    seal_pending,
)
from rapport.core.models import Event

logger = logging.getLogger(__name__)


def purge_expired_deletions() -> int:
    """Hard-delete soft-deleted records past the restore window; records one event for each."""
    cutoff = timezone.now() - dt.timedelta(days=settings.RAPPORT_SOFT_DELETE_DAYS)
    purged = 0
    for model in apps.get_models():
        if not any(f.name == "deleted_at" for f in model._meta.get_fields()):
            continue
        expired = list(model._default_manager.filter(deleted_at__lt=cutoff)
                       .values_list("id", flat=True))
        for object_id in expired:
            try:
                with transaction.atomic():
                    deleted, _ = model._default_manager.filter(id=object_id,
                                                      deleted_at__lt=cutoff).delete()
                    if deleted:
                        record_event(kind=RECORD_PURGED.name,
                                     entity_type=str(model._meta.model_name), entity_id=object_id)
                        purged += 1
            except ProtectedError:
                # Other records (e.g. orders, which are the business's books) still point at
                # it; it stays hidden rather than breaking them.
                logger.info("kept %s %s: still referenced", model._meta.model_name, object_id)
    return purged


def heartbeat(*, note: str = "") -> str:
    record_event(kind=SYSTEM_HEARTBEAT.name, entity_type="system", entity_id=0,
                 after={"note": note})
    return f"ok {note}".strip()


# The tables whose query plans depend on statistics (people lists and search).
STATISTICS_TABLES = ("contacts_contact", "contacts_contacttag", "contacts_tag", "contacts_company")


def refresh_statistics() -> list[str]:
    """Exact planner statistics for the people tables.

    SQLite without them (or with sampled ones) picks the stage or deleted-at index for a list
    page and sorts a third of a million rows (1.2 s instead of 1 ms at a million people).
    """
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("PRAGMA analysis_limit = 0")
        for table in STATISTICS_TABLES:
            cursor.execute(f'ANALYZE "{table}"')
    return list(STATISTICS_TABLES)


def erase_subject(*, contact_id: int, actor_id: int | None = None) -> int:
    """Erase a person's personal values from the audit log; returns how many events lost them.

    Their events keep their place in the chain and their commitments, so ``rapport audit
    verify`` still passes; the values and salts are gone (a salt-less commitment cannot be
    tested against a guess). The erasure is itself an event (``audit.erased``), which verify
    requires for every blanked event.
    """
    with transaction.atomic():
        personal = (Event.objects.filter(contact_id=contact_id, salt__isnull=False)
                    .exclude(kind=AUDIT_ERASED.name))
        through = personal.aggregate(newest=Max("id"))["newest"]
        erased = personal.update(before=None, after=None, salt=None)
        record_event(kind=AUDIT_ERASED.name, entity_type="contact", entity_id=contact_id,
                     contact_id=contact_id, actor_id=actor_id,
                     after={"contact_id": contact_id, "events": erased,
                            "through_event_id": through or 0})
    return erased


def seal_audit_log() -> int:
    return seal_pending(wait=True)


def write_audit_anchor() -> str:
    from rapport.core.audit import write_anchor

    anchor = write_anchor(only_if_moved=True)
    return str(anchor.path) if anchor else "unchanged since the last anchor"
