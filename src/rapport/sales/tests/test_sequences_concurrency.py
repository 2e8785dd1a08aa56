"""Two sequence workers at once, with real transactions (PostgreSQL: its row locks with SKIP
LOCKED are what keep them apart; SQLite serialises every writer anyway)."""

import datetime as dt
import threading

import pytest
from django.db import connection, connections

from rapport.activities import services as activities
from rapport.activities.models import OutboundEmail, Task
from rapport.sales import services
from rapport.sales.models import Enrollment, StepRun
from rapport.testing import make_user

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL"),
]

LEADS = 30
WORKERS = 4
T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def test_workers_running_at_once_do_each_step_once():
    owner = make_user("olivia@bakery.example.com", "owner")
    rep = make_user("rep@bakery.example.com", "sales", team="north")
    services.assignment_rule_create(actor=owner, data={
        "name": "Rep", "method": "user", "user_id": rep.id})
    template = activities.email_template_create(actor=owner, data={
        "name": "Hi", "subject": "Hi", "body": "Hello {{ contact.name | default('there') }}"})
    sequence = services.sequence_create(actor=owner, data={"name": "Two", "steps": [
        {"kind": "email", "template_id": template.id},
        {"kind": "task", "wait_days": 1, "task_title": "Call"}]})
    for i in range(LEADS):
        lead = services.lead_capture(actor=owner, data={"email": f"p{i}@firm{i}.example"}).lead
        services.lead_enrol(actor=owner, lead_id=lead.id, data={"sequence_id": sequence.id},
                            now=T0)

    for now in (T0, T0 + dt.timedelta(days=1)):
        start = threading.Barrier(WORKERS)
        done: list[int] = []
        errors: list[BaseException] = []

        def work(now=now, start=start, done=done, errors=errors) -> None:
            try:
                start.wait()
                done.append(services.sequences_run_due(now=now))
            except BaseException as error:  # noqa: BLE001 - reported below
                errors.append(error)
            finally:
                connections.close_all()

        threads = [threading.Thread(target=work) for _ in range(WORKERS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert not errors, errors
        assert sum(done) == LEADS  # between them, each step exactly once

    assert OutboundEmail.objects.count() == LEADS
    assert len(set(OutboundEmail.objects.values_list("to_address", flat=True))) == LEADS
    assert Task.objects.count() == LEADS
    assert StepRun.objects.count() == 2 * LEADS
    assert set(Enrollment.objects.values_list("status", flat=True)) == {"completed"}
