"""Two identical machine events at the same moment open one ticket (PostgreSQL: real threads,
each with its own connection and transaction)."""

import threading

import pytest
from django.db import connection

from rapport.contacts import services as contact_services
from rapport.support import services
from rapport.support.models import MachineEvent, MessageKind, Ticket, TicketMessage
from rapport.testing import ApiClient

REPORTS = 6


@pytest.mark.django_db(transaction=True)
def test_identical_events_at_once_open_one_ticket(owner):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite lets one writer in at a time: the race needs PostgreSQL")
    cafe = contact_services.contact_create(actor=owner, data={
        "first_name": "Lena", "emails": ["lena@cafe.example.org"]})
    services.device_create(actor=owner, data={"device_id": "fridge-0042",
                                              "contact_id": cafe.id})
    services.event_rule_create(actor=owner, data={
        "name": "Low coolant", "event_type": "coolant.low", "subject": "Low coolant"})
    clients = [ApiClient(owner) for _ in range(REPORTS)]
    barrier = threading.Barrier(REPORTS)
    answers: list[dict] = []

    def post(api):
        barrier.wait()
        try:
            answer = api.post("/events", {"device_id": "fridge-0042", "type": "coolant.low",
                                          "payload": {"level": 4}})
            answers.append({"status": answer.status_code, **answer.json()})
        finally:
            connection.close()

    threads = [threading.Thread(target=post, args=(api,)) for api in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [a["status"] for a in answers] == [201] * REPORTS, answers
    assert sorted(a["action"] for a in answers) == ["appended"] * (REPORTS - 1) + ["opened"]
    ticket = Ticket.objects.get()
    assert {a["ticket_id"] for a in answers} == {ticket.id}
    assert MachineEvent.objects.count() == REPORTS
    assert TicketMessage.objects.filter(ticket=ticket, kind=MessageKind.SYSTEM).count() == (
        REPORTS - 1)
