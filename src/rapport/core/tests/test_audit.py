import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from rapport.contacts import services
from rapport.core.events import seal_pending, verify_chain
from rapport.core.models import Event

pytestmark = pytest.mark.django_db


@pytest.fixture
def history(owner):
    contact = services.contact_create(actor=owner, data={"first_name": "Ann"})
    for title in ("Baker", "Chef", "Owner"):
        contact.refresh_from_db()
        services.contact_update(actor=owner, contact_id=contact.id, version=contact.version,
                                changes={"job_title": title})
    seal_pending()  # what the commit would have done (tests never commit)
    return list(Event.objects.order_by("id"))


def test_verify_reports_ok(history, capsys):
    call_command("audit", "verify")
    assert capsys.readouterr().out.strip() == f"OK: {len(history)} entries, chain intact"


def test_an_edited_entry_is_the_first_broken_link(history):
    target = history[-2]
    Event.objects.filter(id=target.id).update(after={"job_title": "Forged"})
    report = verify_chain()
    assert (report.ok, report.broken_event_id) == (False, target.id)
    assert "edited" in report.reason
    with pytest.raises(CommandError, match=f"entry {target.id}"):
        call_command("audit", "verify")


def test_a_removed_entry_breaks_the_chain(history):
    Event.objects.filter(id=history[2].id).delete()
    report = verify_chain()
    assert (report.ok, report.broken_event_id) == (False, history[3].id)


def test_removing_the_newest_entry_is_detected(history):
    Event.objects.filter(id=history[-1].id).delete()
    report = verify_chain()
    assert not report.ok
    assert "head" in report.reason


def test_events_record_actor_time_before_after(history, owner):
    last = history[-1]
    assert last.actor_id == owner.id
    assert last.before == {"job_title": "Chef"}
    assert last.after == {"job_title": "Owner"}
    assert last.occurred_at is not None


def test_refresh_statistics_analyzes_the_people_tables(db):
    from django.db import connection

    from rapport.core.services import STATISTICS_TABLES, refresh_statistics

    assert refresh_statistics() == list(STATISTICS_TABLES)
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'")
            assert cursor.fetchone()[0] == 1
