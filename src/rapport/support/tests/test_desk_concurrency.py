"""Least-loaded assignment when tickets are opened at once, with real transactions
(PostgreSQL: SQLite serialises every writer anyway)."""

import threading
from collections import Counter

import pytest
from django.db import connection, connections

from rapport.support import services
from rapport.support.models import AssignmentLog, Ticket
from rapport.testing import make_user

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL"),
]

TICKETS = 24
THREADS = 8


def test_least_loaded_stays_fair_when_tickets_arrive_at_once():
    owner = make_user("olivia@bakery.example.com", "owner")
    agents = [make_user(f"agent{i}@bakery.example.com", "support") for i in range(3)]
    start = threading.Barrier(THREADS)
    errors: list[BaseException] = []

    def open_some(worker: int) -> None:
        try:
            start.wait()
            for i in range(worker, TICKETS, THREADS):
                services.ticket_open(actor=owner, data={
                    "subject": f"Request {i}", "email": f"c{i}@example.org"})
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=open_some, args=(w,)) for w in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    assert Ticket.objects.count() == TICKETS
    load = Counter(Ticket.objects.values_list("assignee_id", flat=True))
    assert load == {agent.id: TICKETS // 3 for agent in agents}
    assert AssignmentLog.objects.filter(rule="least loaded").count() == TICKETS
