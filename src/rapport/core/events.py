"""Writing events and keeping the audit chain tamper-evident (see docs/audit.md).

Every service that changes data calls :func:`record_events` inside its transaction. The row goes
in *unsealed*: no lock, no read of the chain head, so writers never wait on one another. Its
personal values (``before``/``after``) sit beside a salted commitment to them
(``payload_hash`` = SHA-256 of ``[salt, before, after]``); erasing a person blanks the values
and the salt and keeps the commitment.

The chain is built by :func:`seal_pending`, right after each commit (and every minute by the
worker): under one lock (a PostgreSQL advisory lock; SQLite's write lock) it gives the unsealed
rows, in id order, the next ``seq`` and ``hash`` = SHA-256 of the previous hash, the seq, the
event's non-personal fields and its commitment. :func:`verify_chain` streams the sealed rows in
seq order and finds the first edited, removed, reordered or inserted one.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import secrets
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.utils import timezone

from rapport.core.bulk import insert_rows
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
AUDIT_ERASED = EventKind("audit.erased", "Personal data erased from the audit log")
AUDIT_RESEALED = EventKind("audit.resealed", "Audit log converted to the sealed format")


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


def canonical_json(value: Any) -> str:
    """The one serialisation every digest uses (sorted keys, compact, UTF-8)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def new_salt() -> str:
    return secrets.token_hex(16)


def payload_commitment(salt: str, before: Any, after: Any) -> str:
    """Salted SHA-256 of an event's personal values: binds them without revealing them.

    Without the salt (erased with the values) nobody can test a guess against it.
    """
    return hashlib.sha256(canonical_json([salt, before, after]).encode()).hexdigest()


def event_digest(prev_hash: str, *, seq: int, occurred_at: dt.datetime, actor_id: int | None,
                 kind: str, entity_type: str, entity_id: int, contact_id: int | None,
                 payload_hash: str) -> str:
    """The chain link: SHA-256 of the previous hash, the seq, the non-personal fields and the
    payload commitment (never the personal values themselves)."""
    body = canonical_json([
        prev_hash, seq, occurred_at.astimezone(dt.UTC).isoformat(timespec="microseconds"),
        actor_id, kind, entity_type, entity_id, contact_id, payload_hash,
    ])
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


EVENT_COLUMNS = ("occurred_at", "actor_id", "kind", "entity_type", "entity_id", "contact_id",
                 "before", "after", "salt", "payload_hash", "seq", "prev_hash", "hash")


def _followed_kinds() -> frozenset[str] | None:
    """The kinds some subscriber follows (None: every kind)."""
    kinds: set[str] = set()
    for wanted, _ in _subscribers:
        if wanted is None:
            return None
        kinds |= wanted
    return frozenset(kinds)


def _insert(rows: list[tuple], followed: list[Event], kinds: frozenset[str] | None) -> None:
    """Plain multi-row INSERTs (no ORM compile per event); ``Event`` rows are made, with their
    ids, only for the kinds a subscriber follows after the commit."""
    wanted = [row for row in rows if kinds is None or row[2] in kinds]
    ids = dict(insert_rows(Event, EVENT_COLUMNS, rows,
                           returning=("salt", "id") if wanted else ()))
    for row in wanted:  # the salt is new and random: it tells each inserted row's id
        event = Event(**dict(zip(EVENT_COLUMNS, row, strict=True)))
        event.id = ids[row[8]]
        followed.append(event)


def record_events(new_events: Iterable[NewEvent], *, batch_size: int = 5000) -> int:
    """Write events in the caller's transaction; returns how many were written.

    Nothing here waits for another writer. When no one else holds the seal lock, the events
    go in already sealed (after any committed unsealed ones); otherwise they go in unsealed and
    are sealed right after the commit (:func:`seal_pending`), by this writer or by whoever
    holds the lock then. On SQLite, whose transactions hold the one write lock anyway, they are
    always sealed on the way in.
    """
    with transaction.atomic():
        rows: list[tuple] = []
        written_rows: list[Event] = []
        kinds = _followed_kinds()
        written = 0
        now = timezone.now()
        chain: list | None = None  # [seq, hash] of the newest link while we hold the lock
        locked = False
        for item in new_events:
            if not written and not rows:
                locked = take_seal_lock(wait=False, in_write=True)
                if locked:
                    chain = list(_seal_locked()[1:])
            before, after = to_json_value(item.before), to_json_value(item.after)
            salt = new_salt()
            occurred_at = item.occurred_at or now
            payload_hash = payload_commitment(salt, before, after)
            seq = prev_hash = link = None
            if chain is not None:
                chain[0] += 1
                seq, prev_hash = chain[0], chain[1]
                link = chain[1] = event_digest(
                    chain[1], seq=seq, occurred_at=occurred_at, actor_id=item.actor_id,
                    kind=item.kind, entity_type=item.entity_type, entity_id=item.entity_id,
                    contact_id=item.contact_id, payload_hash=payload_hash)
            rows.append((occurred_at, item.actor_id, item.kind, item.entity_type,
                         item.entity_id, item.contact_id, before, after, salt, payload_hash,
                         seq, prev_hash, link))
            if len(rows) >= batch_size:
                _insert(rows, written_rows, kinds)
                written += len(rows)
                rows = []
        if rows:
            _insert(rows, written_rows, kinds)
            written += len(rows)
        if written:
            if chain is not None:
                AuditHead.objects.filter(id=1).update(count=chain[0], last_hash=chain[1])
            if not _seals_inline():
                transaction.on_commit(partial(_seal_after_commit, sealed_inline=locked))
        _fan_out_after_commit(written_rows)
        return written


def record_event(*, kind: str, entity_type: str, entity_id: int, actor_id: int | None = None,
                 contact_id: int | None = None, before: Any = None, after: Any = None) -> None:
    record_events([
        NewEvent(kind=kind, entity_type=entity_type, entity_id=entity_id, actor_id=actor_id,
                 contact_id=contact_id, before=before, after=after)
    ])


# --- sealing ---------------------------------------------------------------------------------

# The PostgreSQL advisory lock of whoever seals; writers only ever try it ("Rapport Audit Seal"
# as a 63-bit number).
SEAL_LOCK_KEY = 0x5261_7070_6F72_7453
SEAL_BATCH = 5000
_SEAL_FIELDS = ("id", "occurred_at", "actor_id", "kind", "entity_type", "entity_id",
                "contact_id", "payload_hash")


def _seals_inline() -> bool:
    """SQLite writers hold the database's only write lock for the whole transaction, so they
    always seal on the way in and nothing is left for after the commit."""
    return connection.vendor == "sqlite"


def chain_head() -> AuditHead:
    """The head row (seq and hash of the newest sealed event), created on first use."""
    head = AuditHead.objects.filter(id=1).first()
    if head is None:
        AuditHead.objects.bulk_create([AuditHead(id=1, last_hash=GENESIS, count=0)],
                                      ignore_conflicts=True)
        head = AuditHead.objects.get(id=1)
    return head


def take_seal_lock(*, wait: bool, in_write: bool = False) -> bool:
    """Take the sealers' lock until this transaction ends; False if another holds it.

    On PostgreSQL an advisory lock, which writers only ever *try* (``wait=False``): nobody
    waits for it but the sealing jobs (verify, anchor, seed, the worker). Elsewhere the
    transaction's own write lock (SQLite's IMMEDIATE transactions) is the lock.
    """
    if connection.vendor != "postgresql":
        return True
    take = "pg_advisory_xact_lock(%s) IS NULL" if wait else "pg_try_advisory_xact_lock(%s)"
    # A seal of its own is re-derived from the committed rows if a crash loses it, so its
    # commit need not wait for the disk (the writes it seals did); anchors force seals to disk
    # first. A write keeps its durable commit. One round trip either way.
    sync = "'on'" if in_write else "set_config('synchronous_commit', 'off', true)"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {sync}, {take}", [SEAL_LOCK_KEY])
        return wait or bool(cursor.fetchone()[1])


def _seal_locked(*, batch: int = SEAL_BATCH) -> tuple[int, int, str]:
    """Seal every unsealed event in id order (the caller holds the seal lock).

    Returns how many, and the seq and hash of the head after them.
    """
    head: AuditHead | None = None
    seq, prev = 0, GENESIS
    sealed = 0
    table = connection.ops.quote_name(Event._meta.db_table)
    while True:
        rows = list(Event.objects.filter(seq__isnull=True).order_by("id")
                    .values_list(*_SEAL_FIELDS)[:batch])
        if not rows:
            break
        if head is None:
            head = chain_head()
            seq, prev = head.count, head.last_hash
        updates = []
        for (event_id, occurred_at, actor_id, kind, entity_type, entity_id, contact_id,
             payload_hash) in rows:
            seq += 1
            digest = event_digest(prev, seq=seq, occurred_at=occurred_at, actor_id=actor_id,
                                  kind=kind, entity_type=entity_type, entity_id=entity_id,
                                  contact_id=contact_id, payload_hash=payload_hash)
            updates.append((seq, prev, digest, event_id))
            prev = digest
        with connection.cursor() as cursor:
            cursor.executemany(
                f"UPDATE {table} SET seq = %s, prev_hash = %s, hash = %s "  # noqa: S608
                "WHERE id = %s", updates)
        sealed += len(rows)
        if len(rows) < batch:
            break
    if sealed:
        AuditHead.objects.filter(id=1).update(last_hash=prev, count=seq)
    else:
        head = chain_head()
        seq, prev = head.count, head.last_hash
    return sealed, seq, prev


def seal_pending(*, wait: bool = True, rounds: int = 5) -> int:
    """Seal the committed events that are not in the chain yet; returns how many.

    With ``wait=False`` (after each commit) it gives up when another sealer holds the lock:
    that sealer looks for unsealed rows again after releasing it, so no committed row is left
    behind while writes go on, and the worker's periodic run seals whatever a quiet moment left.
    """
    sealed = 0
    for _ in range(rounds):
        with transaction.atomic():
            if not take_seal_lock(wait=wait):
                return sealed
            sealed += _seal_locked()[0]
        if _seals_inline() or not Event.objects.filter(seq__isnull=True).exists():
            break
    return sealed


def _seal_after_commit(*, sealed_inline: bool) -> None:
    try:
        # A writer that sealed inline held the lock until its commit: it looks for rows that
        # others left unsealed meanwhile (they did not wait for it).
        if sealed_inline and not Event.objects.filter(seq__isnull=True).exists():
            return
        seal_pending(wait=False)
    except Exception:  # the write has committed; the worker's periodic run seals it later
        logger.exception("sealing the audit log after a commit failed")


# --- verification ----------------------------------------------------------------------------

@dataclass(frozen=True)
class ChainReport:
    ok: bool
    checked: int
    broken_event_id: int | None = None
    reason: str = ""
    head_seq: int = 0
    head_hash: str = GENESIS
    erased: int = 0
    pending: int = 0


@dataclass(frozen=True)
class AnchorPoint:
    """A (seq, hash) the chain must still contain, read from a signed anchor file."""

    seq: int
    hash: str
    name: str = "anchor"


def verify_chain(*, chunk: int = 10000, seal: bool = True,
                 anchors: Sequence[AnchorPoint] = ()) -> ChainReport:
    """Stream the sealed chain in seq order (O(n), ``chunk`` rows in memory) and report the
    first broken link; with ``anchors``, also that each anchored (seq, hash) is still there.

    ``seal`` first seals what has committed unsealed (what the worker would do anyway). The
    chain is checked up to the head read at the start, so sealing going on meanwhile is fine.
    """
    if seal:
        seal_pending(wait=True)
    head = AuditHead.objects.filter(id=1).first()
    end_seq, head_hash = (head.count, head.last_hash) if head else (0, GENESIS)
    by_seq = {a.seq: a for a in anchors}
    fields = ("id", "seq", "occurred_at", "actor_id", "kind", "entity_type", "entity_id",
              "contact_id", "before", "after", "salt", "payload_hash", "prev_hash", "hash")
    prev, seq_expected, erased = GENESIS, 0, 0
    erased_upto: dict[int | None, int] = {}  # contact -> newest erased event id
    erasure_covers: dict[int, int] = {}  # contact -> newest event id an erasure event covers

    def broken(event_id: int | None, reason: str) -> ChainReport:
        return ChainReport(False, seq_expected - 1 if event_id else seq_expected, event_id,
                           reason, end_seq, head_hash, erased)

    while seq_expected < end_seq:
        rows = list(Event.objects.filter(seq__gt=seq_expected, seq__lte=end_seq)
                    .order_by("seq").values_list(*fields)[:chunk])
        if not rows:
            break
        for (event_id, seq, occurred_at, actor_id, kind, entity_type, entity_id, contact_id,
             before, after, salt, payload_hash, prev_hash, digest) in rows:
            seq_expected += 1
            if seq != seq_expected:
                return broken(event_id, f"entries {seq_expected}..{seq - 1} before it are "
                                        "missing (removed)")
            if prev_hash != prev:
                return broken(event_id, "its previous-hash does not match the entry before it "
                                        "(an entry was removed, inserted or reordered)")
            expected = event_digest(prev, seq=seq, occurred_at=occurred_at, actor_id=actor_id,
                                    kind=kind, entity_type=entity_type, entity_id=entity_id,
                                    contact_id=contact_id, payload_hash=payload_hash)
            if expected != digest:
                return broken(event_id, "its content does not match its hash (it was edited)")
            if salt is None:
                erased += 1
                if before is not None or after is not None:
                    return broken(event_id, "it is marked erased but still holds values")
                erased_upto[contact_id] = max(event_id, erased_upto.get(contact_id, 0))
            elif payload_commitment(salt, before, after) != payload_hash:
                return broken(event_id, "its values do not match their commitment (edited)")
            if kind == AUDIT_ERASED.name and isinstance(after, dict):
                subject, through = after.get("contact_id"), after.get("through_event_id") or 0
                if isinstance(subject, int) and isinstance(through, int):
                    erasure_covers[subject] = max(through, erasure_covers.get(subject, 0))
            anchor = by_seq.get(seq)
            if anchor is not None and anchor.hash != digest:
                return broken(event_id, f"{anchor.name} says entry {seq} had hash "
                                        f"{anchor.hash[:12]}…, it now has {digest[:12]}… "
                                        "(rewritten)")
            prev = digest
    if seq_expected != end_seq or prev != head_hash:
        return broken(None, f"the newest entries are missing (the chain head says {end_seq} "
                            f"entries ending in {head_hash[:12]}…, {seq_expected} were found)")
    for anchor in anchors:
        if anchor.seq > end_seq:
            return broken(None, f"{anchor.name} says the chain reached entry {anchor.seq}; it "
                                f"now ends at {end_seq} (entries were removed and the head "
                                "rewound)")
    for contact_id, newest in erased_upto.items():
        if contact_id is None or erasure_covers.get(contact_id, 0) < newest:
            return broken(newest, "its values were blanked without an erasure event "
                                  f"({AUDIT_ERASED.name}) for contact {contact_id}")
    now = AuditHead.objects.filter(id=1).values_list("count", flat=True).first() or 0
    if now == end_seq and Event.objects.filter(seq__gt=end_seq).exists():
        return broken(None, "entries beyond the chain head were inserted")
    pending = Event.objects.filter(seq__isnull=True).count()
    return ChainReport(True, seq_expected, head_seq=end_seq, head_hash=head_hash,
                       erased=erased, pending=pending)


def diff(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict, dict]:
    """Only the fields that changed, as (before, after) dicts."""
    keys = [k for k in after if before.get(k) != after.get(k)]
    return {k: before.get(k) for k in keys}, {k: after[k] for k in keys}
