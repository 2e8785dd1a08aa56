"""The events dataio records: one kind constant and one builder per kind.

An import's records bring their own events (an orders import records ``order.placed`` for
each order); these say who started, cancelled or finished which import, for the audit log.
"""

from __future__ import annotations

from typing import Any

from rapport.core.events import EventKind, NewEvent

IMPORT_STARTED = EventKind("import.started", "Import started")
IMPORT_QUEUED = EventKind("import.queued", "Import queued")
IMPORT_CANCELLED = EventKind("import.cancelled", "Import cancelled")
IMPORT_FINISHED = EventKind("import.finished", "Import finished")
KINDS = [IMPORT_STARTED, IMPORT_QUEUED, IMPORT_CANCELLED, IMPORT_FINISHED]


def import_started(*, job_id: int, actor_id: int, snapshot: dict[str, Any]) -> NewEvent:
    return NewEvent(kind=IMPORT_STARTED.name, entity_type="import", entity_id=job_id,
                    actor_id=actor_id, after=snapshot)


def import_queued(*, job_id: int, actor_id: int | None) -> NewEvent:
    """A job to run: the app's subscriber enqueues its task when this commits. No actor:
    the sweeper queued it again after its worker stopped."""
    return NewEvent(kind=IMPORT_QUEUED.name, entity_type="import", entity_id=job_id,
                    actor_id=actor_id)


def import_cancelled(*, job_id: int, actor_id: int) -> NewEvent:
    return NewEvent(kind=IMPORT_CANCELLED.name, entity_type="import", entity_id=job_id,
                    actor_id=actor_id)


def import_finished(*, job_id: int, actor_id: int, report: dict[str, Any]) -> NewEvent:
    return NewEvent(kind=IMPORT_FINISHED.name, entity_type="import", entity_id=job_id,
                    actor_id=actor_id, after=report)
