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
