"""Two SLA checks at once, with real transactions (PostgreSQL: SQLite serialises every
writer anyway): each ticket is told and escalated once."""

import datetime as dt
import threading
from zoneinfo import ZoneInfo

import pytest
from django.db import connection, connections

from rapport.activities.models import Task
from rapport.core.models import Event
from rapport.support import services
from rapport.support.models import Ticket
from rapport.support.services import sla
from rapport.testing import make_user

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL"),
]
STOCKHOLM = ZoneInfo("Europe/Stockholm")


def _at_once(work, count: int) -> list[BaseException]:
    start = threading.Barrier(count)
    errors: list[BaseException] = []

    def run(worker: int) -> None:
        try:
            start.wait()
            work(worker)
        except BaseException as error:  # noqa: BLE001 - reported by the caller
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(w,)) for w in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


def test_two_checks_at_once_tell_and_escalate_each_ticket_once():
    owner = make_user("olivia@bakery.example.com", "owner")
    agents = [make_user(f"agent{i}@bakery.example.com", "support", team="desk")
              for i in range(3)]
    boss = make_user("bea@bakery.example.com", "manager", team="desk")
    sla.sla_policies_seed()
    sla.business_hours_set(actor=owner, data={"time_zone": "Europe/Stockholm"})
    opened_at = dt.datetime(2026, 12, 7, 9, tzinfo=STOCKHOLM)
    cal = sla.business_calendar(fresh=True)
    ids = []
    for i in range(30):
        ticket = services.ticket_open(actor=owner, now=opened_at, data={
            "subject": f"Request {i}", "email": f"c{i}@example.org",
            "priority": "urgent" if i % 2 else "high"}).ticket
        Ticket.objects.filter(id=ticket.id).update(assignee=agents[i % 3])
        sla.sla_sync(ticket_id=ticket.id, choose_tier=True, cal=cal)
        ids.append(ticket.id)
    # 09:50: the urgent ones (1 h) are at risk; the high ones (4 h) are not yet.
    results = []
    assert not _at_once(lambda _w: results.append(
        sla.sla_check(now=dt.datetime(2026, 12, 7, 9, 50, tzinfo=STOCKHOLM))), 4)
    assert sum(r.at_risk for r in results) == 15
    told = sorted(t for r in results for ids_ in r.notified.values() for t in ids_)
    assert told == sorted(ids[1::2])
    # 13:00: everything is breached; escalated once each, priorities raised once.
    results = []
    assert not _at_once(lambda _w: results.append(
        sla.sla_check(now=dt.datetime(2026, 12, 7, 13, tzinfo=STOCKHOLM))), 4)
    assert sum(r.breached for r in results) == 30
    assert Event.objects.filter(kind="ticket.sla", after__state="breached").count() == 30
    assert Event.objects.filter(kind="ticket.updated").count() == 15  # high → urgent
    assert set(Ticket.objects.values_list("priority", flat=True)) == {"urgent"}
    escalations = Task.objects.filter(assignee=boss)
    assert sum(t.notes.count("\n") + 1 for t in escalations) == 30
