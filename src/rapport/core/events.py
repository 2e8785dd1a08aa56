"""Writing events and keeping the audit chain tamper-evident.

Every service that changes data calls :func:`record_event` inside its transaction. Each event
stores the SHA-256 of its own content plus the previous event's hash, so editing or deleting
any row breaks the chain from that point on; :func:`verify_chain` finds the first broken link.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from rapport.core.models import AuditHead, Event

GENESIS = "0" * 64

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class EventKind:
    """A kind of event an app records, declared in that app's ``events.py``.

    ``timeline`` is the template partial that shows one such event on a timeline (it gets the
    event as ``e``); kinds without one are not shown on timelines.
    """

    name: str
    label: str
    timeline: str | None = None


# Core's own kinds. Every app declares its kinds like these, in its events.py.
RECORD_PURGED = EventKind("record.purged", "Removed for good after the restore window")
SYSTEM_HEARTBEAT = EventKind("system.heartbeat", "Background worker heartbeat")


Handler = Callable[[Sequence[Any]], None]
_subscribers: list[tuple[frozenset[str] | None, Handler]] = []


def subscribe(kinds: Iterable[str] | None, handler: Handler) -> None:
    """Call ``handler(events)`` after each commit that recorded events of these kinds.

    ``kinds=None`` means every kind. Handlers run after the transaction commits (never for a
    write that rolled back) and get the committed ``Event`` rows of their kinds, in order.
    """
    _subscribers.append((None if kinds is None else frozenset(kinds), handler))


def _dispatch(rows: Sequence[Event]) -> None:
    for kinds, handler in list(_subscribers):
        mine = [row for row in rows if kinds is None or row.kind in kinds]
        if not mine:
            continue
        try:
            handler(mine)
        except Exception:  # the write has committed; a failing follower must not undo it
            logger.exception("event subscriber %r failed", handler)


def _fan_out_after_commit(rows: Sequence[Event]) -> None:
    if _subscribers and rows:
        transaction.on_commit(lambda: _dispatch(rows))


def to_json_value(value: Any) -> Any:
    """The value as it will read back from a JSON column (dates become ISO strings)."""
    if value is None:
        return None
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


def event_digest(prev_hash: str, *, occurred_at: dt.datetime, actor_id: int | None,
                 kind: str, entity_type: str, entity_id: int, contact_id: int | None,
                 before: Any, after: Any) -> str:
    """SHA-256 of an event's content chained to the previous hash (bulk loaders reuse it)."""
    body = json.dumps(
        [
            prev_hash,
            occurred_at.astimezone(dt.UTC).isoformat(timespec="microseconds"),
            actor_id,
            kind,
            entity_type,
            entity_id,
            contact_id,
            before,
            after,
        ],
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(body.encode()).hexdigest()


@dataclass(frozen=True, kw_only=True)
class NewEvent:
    kind: str
    entity_type: str
    entity_id: int
    actor_id: int | None = None
    contact_id: int | None = None
    before: Any = None
    after: Any = None
    occurred_at: dt.datetime | None = None


def lock_chain_head() -> AuditHead:
    """Lock the chain head row for this transaction, creating it on first use."""
    head = AuditHead.objects.select_for_update().filter(id=1).first()
    if head is None:
        AuditHead.objects.bulk_create(
            [AuditHead(id=1, last_hash=GENESIS, count=0)], ignore_conflicts=True
        )
        head = AuditHead.objects.select_for_update().get(id=1)
    return head


def _insert(rows: list[Event], followed: list[Event]) -> None:
    Event.objects.bulk_create(rows)
    if _subscribers:  # keep the rows only when someone follows them after the commit
        followed.extend(rows)


def record_events(new_events: Iterable[NewEvent], *, batch_size: int = 5000) -> int:
    """Append events to the chain in order; returns how many were written."""
    with transaction.atomic():
        head = lock_chain_head()
        prev = head.last_hash
        rows: list[Event] = []
        written_rows: list[Event] = []
        written = 0
        now = timezone.now()
        for item in new_events:
            occurred_at = item.occurred_at or now
            before, after = to_json_value(item.before), to_json_value(item.after)
            digest = event_digest(
                prev, occurred_at=occurred_at, actor_id=item.actor_id, kind=item.kind,
                entity_type=item.entity_type, entity_id=item.entity_id,
                contact_id=item.contact_id, before=before, after=after,
            )
            rows.append(
                Event(
                    occurred_at=occurred_at, actor_id=item.actor_id, kind=item.kind,
                    entity_type=item.entity_type, entity_id=item.entity_id,
                    contact_id=item.contact_id, before=before, after=after,
                    prev_hash=prev, hash=digest,
                )
            )
            prev = digest
            if len(rows) >= batch_size:
                _insert(rows, written_rows)
                written += len(rows)
                rows = []
        if rows:
            _insert(rows, written_rows)
            written += len(rows)
        if written:
            AuditHead.objects.filter(id=1).update(last_hash=prev, count=head.count + written)
        _fan_out_after_commit(written_rows)
        return written


def record_event(*, kind: str, entity_type: str, entity_id: int, actor_id: int | None = None,
                 contact_id: int | None = None, before: Any = None, after: Any = None) -> None:
    record_events([
        NewEvent(kind=kind, entity_type=entity_type, entity_id=entity_id, actor_id=actor_id,
                 contact_id=contact_id, before=before, after=after)
    ])


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    checked: int
    broken_event_id: int | None = None
    reason: str = ""


def verify_chain(*, chunk: int = 10000) -> ChainReport:
    """Walk the whole chain in id order and report the first event whose link is broken."""
    prev = GENESIS
    checked = 0
    last_id = 0
    fields = ("id", "occurred_at", "actor_id", "kind", "entity_type", "entity_id",
              "contact_id", "before", "after", "prev_hash", "hash")
    while True:
        rows = list(
            Event.objects.filter(id__gt=last_id).order_by("id").values_list(*fields)[:chunk]
        )
        if not rows:
            break
        for (event_id, occurred_at, actor_id, kind, entity_type, entity_id, contact_id,
             before, after, prev_hash, digest) in rows:
            if prev_hash != prev:
                return ChainReport(False, checked, event_id,
                                   "its previous-hash does not match the entry before it "
                                   "(an entry was removed or reordered)")
            expected = event_digest(prev, occurred_at=occurred_at, actor_id=actor_id, kind=kind,
                               entity_type=entity_type, entity_id=entity_id,
                               contact_id=contact_id, before=before, after=after)
            if expected != digest:
                return ChainReport(False, checked, event_id,
                                   "its content does not match its hash (it was edited)")
            prev = digest
            checked += 1
            last_id = event_id
    head = AuditHead.objects.filter(id=1).first()
    if head is not None and head.last_hash != prev:
        return ChainReport(False, checked, None,
                           "the newest entries are missing (the chain head does not match)")
    return ChainReport(True, checked)


def diff(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict, dict]:
    """Only the fields that changed, as (before, after) dicts."""
    keys = [k for k in after if before.get(k) != after.get(k)]
    return {k: before.get(k) for k in keys}, {k: after[k] for k in keys}
