"""Round robin under concurrent submissions, with real transactions (PostgreSQL: SQLite
serialises every writer anyway)."""

import threading
from collections import Counter

import pytest
from django.db import connection, connections

from rapport.sales import services
from rapport.sales.models import AssignmentLog, RoundRobinCursor
from rapport.testing import make_user

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL"),
]

LEADS = 24
THREADS = 8


def test_round_robin_is_fair_when_leads_arrive_at_once():
    owner = make_user("olivia@bakery.example.com", "owner")
    reps = [make_user(f"rep{i}@bakery.example.com", "sales", team="north") for i in range(3)]
    rule = services.assignment_rule_create(actor=owner, data={
        "name": "Everyone", "method": "round_robin", "team_id": reps[0].team_id})
    start = threading.Barrier(THREADS)
    errors: list[BaseException] = []

    def submit(worker: int) -> None:
        try:
            start.wait()
            for i in range(worker, LEADS, THREADS):
                services.lead_capture(actor=None, data={"email": f"p{i}@firm{i}.example"})
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=submit, args=(w,)) for w in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    owners = Counter(AssignmentLog.objects.values_list("owner_id", flat=True))
    assert owners == {rep.id: LEADS // 3 for rep in reps}
    assert RoundRobinCursor.objects.get(rule=rule).turns == LEADS


def _at_once(work, count: int) -> list[BaseException]:
    """Run ``work(worker)`` in ``count`` threads released together; the errors they raised."""
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


def test_territory_round_robin_is_fair_when_leads_arrive_at_once():
    owner = make_user("olivia@bakery.example.com", "owner")
    reps = [make_user(f"rep{i}@bakery.example.com", "sales", team=f"t{i}") for i in range(3)]
    outsider = make_user("out@bakery.example.com", "sales", team="t0")
    territory = services.territory_create(actor=owner, data={
        "name": "Nordics", "countries": "SE", "member_ids": [r.id for r in reps]})
    rule = services.assignment_rule_create(actor=owner, data={
        "name": "Nordics desk", "method": "round_robin", "territory_id": territory.id})

    def submit(worker: int) -> None:
        for i in range(worker, LEADS, THREADS):
            services.lead_capture(actor=None, data={"email": f"p{i}@firm{i}.se",
                                                    "country": "SE"})

    assert not _at_once(submit, THREADS)
    owners = Counter(AssignmentLog.objects.values_list("owner_id", flat=True))
    assert owners == {rep.id: LEADS // 3 for rep in reps} and outsider.id not in owners
    assert RoundRobinCursor.objects.get(rule=rule).turns == LEADS


def test_two_first_response_sweeps_at_once_hand_each_lead_on_once():
    import datetime as dt

    from rapport.activities.models import Task
    from rapport.sales.models import Lead

    owner = make_user("olivia@bakery.example.com", "owner")
    manager = make_user("mia@bakery.example.com", "manager", team="north")
    reps = [make_user(f"rep{i}@bakery.example.com", "sales", team="north") for i in range(3)]
    territory = services.territory_create(actor=owner, data={
        "name": "Nordics", "countries": "SE", "member_ids": [r.id for r in reps],
        "manager_id": manager.id})
    services.assignment_rule_create(actor=owner, data={
        "name": "Nordics desk", "method": "round_robin", "territory_id": territory.id,
        "first_response_minutes": 30})
    leads = [services.lead_capture(actor=None, data={"email": f"p{i}@firm{i}.se",
                                                     "country": "SE"}).lead for i in range(12)]
    late = max(lead.respond_by for lead in leads) + dt.timedelta(minutes=1)
    handed: list[int] = []
    assert not _at_once(lambda _w: handed.append(services.first_response_sweep(now=late)), 4)
    assert sum(handed) == 12
    assert all(lead.reassignments == 1 for lead in Lead.objects.all())
    assert AssignmentLog.objects.count() == 24
    assert Task.objects.filter(assignee=manager).count() == 12
    for lead in leads:
        first, second = AssignmentLog.objects.filter(lead=lead).order_by("id")
        assert first.owner_id != second.owner_id
