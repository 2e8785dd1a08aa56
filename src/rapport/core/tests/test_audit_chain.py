"""The sealed, erasable, anchored audit chain (docs/audit.md): tampering of every kind, erasure,
anchors against truncation, writers that do not wait on one another, and old chains converted.
"""

import json
import os
import stat
import threading
import time

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, connections, transaction

from rapport.contacts import services as contacts
from rapport.core.events import GENESIS, event_digest, record_event, seal_pending, verify_chain
from rapport.core.models import AuditHead, Event


@pytest.fixture
def anchors(settings, tmp_path, monkeypatch):
    monkeypatch.delenv("RAPPORT_AUDIT_KEY", raising=False)
    settings.RAPPORT_AUDIT_KEY_FILE = tmp_path / "key" / "audit_key"
    settings.RAPPORT_AUDIT_ANCHOR_DIR = tmp_path / "anchors"
    return tmp_path


@pytest.fixture
def history(owner):
    ann = contacts.contact_create(actor=owner, data={"first_name": "Ann", "last_name": "Ditto",
                                                     "emails": ["ann.ditto@example.com"]})
    for title in ("Baker", "Chef", "Owner"):
        ann.refresh_from_db()
        contacts.contact_update(actor=owner, contact_id=ann.id, version=ann.version,
                                changes={"job_title": title})
    contacts.contact_note_add(actor=owner, contact_id=ann.id, text="allergic to sesame")
    seal_pending()
    return list(Event.objects.order_by("seq"))


def _swap_seq(a: Event, b: Event) -> None:
    Event.objects.filter(id=a.id).update(seq=-1)
    Event.objects.filter(id=b.id).update(seq=a.seq)
    Event.objects.filter(id=a.id).update(seq=b.seq)


# --- the chain covers commitments, not values ------------------------------------------------

@pytest.mark.django_db
def test_the_chain_hashes_a_commitment_never_the_personal_values(history):
    event = next(e for e in history if e.kind == "contact.created")
    assert event.after["first_name"] == "Ann"
    assert event.salt and len(event.payload_hash) == 64
    assert [e.seq for e in history] == list(range(1, len(history) + 1))
    # The link is computable from non-personal fields and the commitment alone.
    previous = history[event.seq - 2].hash if event.seq > 1 else GENESIS
    assert event.prev_hash == previous
    assert event.hash == event_digest(
        previous, seq=event.seq, occurred_at=event.occurred_at, actor_id=event.actor_id,
        kind=event.kind,
        entity_type=event.entity_type, entity_id=event.entity_id, contact_id=event.contact_id,
        payload_hash=event.payload_hash)


@pytest.mark.django_db
def test_an_edited_value_or_field_is_caught(history):
    Event.objects.filter(id=history[2].id).update(after={"job_title": "Forged"})
    report = verify_chain()
    assert (report.ok, report.broken_event_id) == (False, history[2].id)
    assert "edited" in report.reason
    Event.objects.filter(id=history[2].id).update(after=history[2].after,
                                                  actor_id=None)
    report = verify_chain()
    assert (report.ok, report.broken_event_id) == (False, history[2].id)


@pytest.mark.django_db
def test_a_deleted_entry_is_caught(history):
    Event.objects.filter(id=history[1].id).delete()
    report = verify_chain()
    assert (report.ok, report.broken_event_id) == (False, history[2].id)
    assert "missing" in report.reason


@pytest.mark.django_db
def test_reordered_entries_are_caught(history):
    _swap_seq(history[1], history[2])
    report = verify_chain()
    assert (report.ok, report.broken_event_id) == (False, history[2].id)


@pytest.mark.django_db
def test_an_inserted_entry_is_caught_even_with_a_well_formed_link(history):
    # Make room at seq 3 and insert an entry correctly linked to entry 2.
    for event in reversed(history[2:]):
        Event.objects.filter(id=event.id).update(seq=event.seq + 1)
    AuditHead.objects.filter(id=1).update(count=len(history) + 1)
    forged = dict(occurred_at=history[1].occurred_at, actor_id=None, kind="note.added",
                  entity_type="contact", entity_id=history[-1].entity_id,
                  contact_id=history[-1].contact_id, payload_hash="f" * 64)
    digest = event_digest(history[1].hash, seq=3, **forged)
    Event.objects.create(**forged, seq=3, prev_hash=history[1].hash, hash=digest, salt=None)
    report = verify_chain()
    assert (report.ok, report.broken_event_id) == (False, history[2].id)


@pytest.mark.django_db
def test_an_entry_past_the_head_is_caught(history):
    last = history[-1]
    Event.objects.create(occurred_at=last.occurred_at, kind="note.added", entity_type="contact",
                         entity_id=1, seq=last.seq + 1, prev_hash=last.hash, hash="e" * 64,
                         payload_hash="f" * 64, salt="0" * 32)
    report = verify_chain()
    assert not report.ok and "inserted" in report.reason


# --- erasure -----------------------------------------------------------------------------------

def _raw_rows(contact_id: int) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT kind, before, after, salt, payload_hash, hash FROM core_event "
                       "WHERE contact_id = %s ORDER BY id", [contact_id])
        return cursor.fetchall()


@pytest.mark.django_db
def test_erasing_a_person_keeps_the_chain_verifiable_and_removes_the_values(history, owner,
                                                                           web_as, capsys):
    from rapport.core.services import erase_subject

    ann_id = history[-1].contact_id
    bob = contacts.contact_create(actor=owner, data={"first_name": "Bob"})
    assert verify_chain().ok
    erased = erase_subject(contact_id=ann_id, actor_id=owner.id)
    assert erased == len([e for e in history if e.contact_id == ann_id])

    report = verify_chain()
    assert report.ok and report.erased == erased
    call_command("audit", "verify")
    assert f"{erased} erased" in capsys.readouterr().out
    rows = _raw_rows(ann_id)
    blanked = [r for r in rows if r[0] != "audit.erased"]
    assert blanked and all(r[1:4] == (None, None, None) for r in blanked)
    assert all(len(r[4]) == 64 and r[5] for r in blanked)  # commitments and links stay
    with connection.cursor() as cursor:
        for secret in ("Ditto", "ann.ditto@example.com", "sesame"):
            cursor.execute("SELECT count(*) FROM core_event WHERE CAST(after AS TEXT) LIKE %s "
                           "OR CAST(before AS TEXT) LIKE %s", [f"%{secret}%"] * 2)
            assert cursor.fetchone()[0] == 0, secret
    erasure = Event.objects.get(kind="audit.erased")
    assert erasure.contact_id == ann_id and erasure.actor_id == owner.id
    assert erasure.after["events"] == erased and erasure.seq == report.head_seq
    # Bob's history is untouched.
    assert Event.objects.get(contact_id=bob.id, kind="contact.created").after["first_name"] == "Bob"
    # The timeline shows what happened, with the values erased.
    timeline = web_as(owner).get(f"/contacts/{ann_id}/timeline/").content.decode()
    assert timeline.count("details erased") == erased
    assert "Personal data erased from the audit log" in timeline
    assert "sesame" not in timeline and "Chef" not in timeline


@pytest.mark.django_db
def test_blanking_values_without_an_erasure_event_is_caught(history):
    target = history[2]
    Event.objects.filter(id=target.id).update(before=None, after=None, salt=None)
    report = verify_chain()
    assert (report.ok, report.broken_event_id) == (False, target.id)
    assert "without an erasure" in report.reason


@pytest.mark.django_db
def test_erase_command(history, capsys):
    ann_id = history[-1].contact_id
    call_command("audit", "erase", "--contact", str(ann_id))
    assert f"of contact {ann_id}" in capsys.readouterr().out
    call_command("audit", "verify")


# --- anchors -----------------------------------------------------------------------------------

@pytest.mark.django_db
def test_delete_newest_and_rewind_the_head_passes_verify_but_not_the_anchor(history, anchors,
                                                                           capsys):
    call_command("audit", "anchor")
    files = list((anchors / "anchors").glob("*.json"))
    assert len(files) == 1
    anchor = json.loads(files[0].read_text())
    assert (anchor["seq"], anchor["hash"]) == (history[-1].seq, history[-1].hash)
    key = anchors / "key" / "audit_key"
    assert stat.S_IMODE(os.stat(key).st_mode) == 0o600
    call_command("audit", "verify", "--anchor", str(files[0]))
    assert "1 anchor(s) hold" in capsys.readouterr().out

    # The two plain SQL statements of the report.
    newest, previous = history[-1], history[-2]
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM core_event WHERE id = %s", [newest.id])
        cursor.execute("UPDATE core_audithead SET last_hash = %s, count = count - 1",
                       [previous.hash])
    assert verify_chain().ok  # the chain alone cannot tell
    with pytest.raises(CommandError, match="removed"):
        call_command("audit", "verify", "--anchor", str(files[0]))


@pytest.mark.django_db
def test_a_rewritten_anchored_entry_is_caught(history, anchors):
    from rapport.core.audit import write_anchor

    anchor = write_anchor()
    assert anchor is not None
    # Rewrite everything from entry 2 consistently (possible: the chain itself is unkeyed).
    prev = history[0].hash
    for event in history[1:]:
        digest = event_digest(prev, seq=event.seq, occurred_at=event.occurred_at, actor_id=None,
                              kind=event.kind, entity_type=event.entity_type,
                              entity_id=event.entity_id, contact_id=event.contact_id,
                              payload_hash=event.payload_hash)
        Event.objects.filter(id=event.id).update(actor_id=None, prev_hash=prev, hash=digest)
        prev = digest
    AuditHead.objects.filter(id=1).update(last_hash=prev)
    assert verify_chain().ok
    report = verify_chain(anchors=[anchor.point()])
    assert not report.ok and "rewritten" in report.reason


@pytest.mark.django_db
def test_a_forged_anchor_is_refused(history, anchors):
    from rapport.core.audit import write_anchor

    anchor = write_anchor()
    assert anchor is not None
    path = anchor.path
    data = json.loads(path.read_text())
    data["seq"] -= 2
    path.write_text(json.dumps(data))
    with pytest.raises(CommandError, match="signature"):
        call_command("audit", "verify", "--anchor", str(path))


@pytest.mark.django_db
def test_the_key_can_come_from_the_environment(history, anchors, monkeypatch):
    from rapport.core.audit import read_anchor, write_anchor

    monkeypatch.setenv("RAPPORT_AUDIT_KEY", "a secret from the vault")
    anchor = write_anchor()
    assert anchor is not None
    path = anchor.path
    assert not (anchors / "key" / "audit_key").exists()
    assert read_anchor(path).seq == history[-1].seq
    monkeypatch.setenv("RAPPORT_AUDIT_KEY", "another key")
    with pytest.raises(Exception, match="signature"):
        read_anchor(path)


# --- concurrency (PostgreSQL: real transactions on separate connections) ----------------------

def _postgresql_only():
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers by design (one write lock); the test database "
                    "of SQLite is in memory, shared by threads")


@pytest.mark.django_db(transaction=True)
def test_a_write_does_not_wait_for_another_open_write():
    _postgresql_only()
    inside, release = threading.Event(), threading.Event()

    def slow_writer():
        try:
            with transaction.atomic():
                record_event(kind="note.added", entity_type="contact", entity_id=1,
                             after={"text": "slow"})
                inside.set()
                release.wait(20)
        finally:
            connections.close_all()

    thread = threading.Thread(target=slow_writer)
    thread.start()
    try:
        assert inside.wait(20)
        began = time.monotonic()
        record_event(kind="note.added", entity_type="contact", entity_id=2,
                     after={"text": "fast"})
        waited = time.monotonic() - began
    finally:
        release.set()
        thread.join(30)
    assert waited < 2, f"the second write waited {waited:.1f}s for the first"
    report = verify_chain()
    assert report.ok and report.checked == 2


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_give_one_verifiable_chain_without_gaps(owner):
    _postgresql_only()
    threads_n, each = 8, 12
    errors: list[BaseException] = []
    start = threading.Barrier(threads_n)

    def writer(n: int):
        try:
            start.wait(10)
            for i in range(each):
                contacts.contact_create(actor=owner, data={"first_name": f"W{n}",
                                                           "last_name": f"No {i}"})
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connections.close_all()

    before = Event.objects.count()
    threads = [threading.Thread(target=writer, args=(n,)) for n in range(threads_n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not errors, errors
    total = Event.objects.count()
    assert total == before + threads_n * each
    # Sealed right after their commits, by the writers themselves.
    assert Event.objects.filter(seq__isnull=True).count() <= 1
    report = verify_chain()
    assert report.ok, report.reason
    assert report.checked == total and report.pending == 0
    seqs = list(Event.objects.order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, total + 1))


# --- old chains are converted by the migration ------------------------------------------------

def _old_digest(prev, at, actor, kind, entity_type, entity_id, contact_id, before, after):
    import datetime as dt
    import hashlib

    body = json.dumps([prev, at.astimezone(dt.UTC).isoformat(timespec="microseconds"), actor,
                       kind, entity_type, entity_id, contact_id, before, after],
                      sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(body.encode()).hexdigest()


@pytest.mark.parametrize("tampered", [False, True])
@pytest.mark.django_db(transaction=True)
def test_the_migration_converts_an_old_chain_and_records_how_it_found_it(tampered):
    import datetime as dt

    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    executor.migrate([("core", "0002_drop_occurred_at_index")])
    state = executor.loader.project_state(("core", "0002_drop_occurred_at_index"))
    OldEvent = state.apps.get_model("core", "Event")
    OldHead = state.apps.get_model("core", "AuditHead")
    prev = GENESIS
    at = dt.datetime(2025, 3, 1, 9, 30, tzinfo=dt.UTC)
    for i, after in enumerate([{"first_name": "Old"}, {"text": "née Zoë"}, {"job_title": "x"}]):
        kind = "contact.created" if i == 0 else "note.added"
        digest = _old_digest(prev, at, None, kind, "contact", 7, 7, None, after)
        OldEvent.objects.create(occurred_at=at, kind=kind, entity_type="contact", entity_id=7,
                                contact_id=7, after=after, prev_hash=prev, hash=digest)
        prev = digest
    OldHead.objects.create(id=1, last_hash=prev, count=3)
    if tampered:
        OldEvent.objects.filter(kind="contact.created").update(after={"first_name": "Forged"})

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    report = verify_chain()
    assert report.ok and report.checked == 4
    resealed = Event.objects.get(kind="audit.resealed")
    assert resealed.seq == 4 and resealed.after["previous_head"] == prev
    first = Event.objects.get(kind="contact.created").id
    assert resealed.after["previous_chain"] == (f"broken at event {first}" if tampered
                                                else "intact")
    assert Event.objects.get(seq=2).after == {"text": "née Zoë"}


@pytest.mark.django_db
def test_the_hourly_anchor_is_written_only_when_the_chain_moved(history, anchors, owner):
    from rapport.core.services import write_audit_anchor

    first = write_audit_anchor()
    assert first.endswith(".json")
    assert write_audit_anchor() == "unchanged since the last anchor"
    contacts.contact_create(actor=owner, data={"first_name": "New"})
    assert write_audit_anchor().endswith(".json")
    assert len(list((anchors / "anchors").glob("*.json"))) == 2
