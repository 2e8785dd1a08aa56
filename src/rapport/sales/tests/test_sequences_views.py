"""The Sequences pages and the lead page's enrol box, through Django's test client."""

from __future__ import annotations

import pytest

from rapport.activities import services as activities
from rapport.sales import services
from rapport.sales.models import Enrollment, Sequence

pytestmark = pytest.mark.django_db


@pytest.fixture
def template(owner):
    return activities.email_template_create(actor=owner, data={
        "name": "Welcome", "subject": "Hello", "body": "Hi there"})


def _form(template, **extra):
    return {"name": "Welcome", "active": "on", "stop_on_reply": "on", "step_rows": "4",
            "step-0-kind": "email", "step-0-template_id": str(template.id),
            "step-1-kind": "", "step-1-task_title": "ignored: no kind",
            "step-2-kind": "task", "step-2-wait_days": "2", "step-2-task_title": "Call them",
            **extra}


def test_a_sequence_is_made_on_its_page_with_blank_rows_skipped(web_as, owner, template):
    client = web_as(owner)
    assert client.get("/sequences/new/").status_code == 200
    answer = client.post("/sequences/new/", _form(template))
    assert answer.status_code == 302
    sequence = Sequence.objects.get()
    assert [(s.position, s.kind, s.wait_days, s.task_title)
            for s in sequence.steps.order_by("position")] == [
        (1, "email", 0, ""), (2, "task", 2, "Call them")]
    assert (sequence.stop_on_reply, sequence.stop_on_meeting) == (True, False)
    listing = client.get("/sequences/").content.decode()
    assert "Welcome" in listing
    edit = client.get(f"/sequences/{sequence.id}/").content.decode()
    assert 'value="Call them"' in edit


def test_a_bad_step_is_shown_beside_its_row_and_nothing_is_saved(web_as, owner, template):
    answer = web_as(owner).post("/sequences/new/", _form(
        template, **{"step-2-task_title": "", "step-0-template_id": ""}))
    assert answer.status_code == 422
    page = answer.content.decode()
    assert "is required for an email step" in page
    assert "is required for a task step" in page
    assert not Sequence.objects.exists()


def test_a_rep_sees_sequences_but_not_the_editor(web_as, owner, sales_a, template):
    services.sequence_create(actor=owner, data={
        "name": "Welcome", "steps": [{"kind": "email", "template_id": template.id}]})
    client = web_as(sales_a)
    assert "Welcome" in client.get("/sequences/").content.decode()
    assert client.get("/sequences/new/").status_code == 403


def test_enrol_from_the_lead_page(web_as, owner, sales_a, template):
    services.assignment_rule_create(actor=owner, data={
        "name": "Sam", "method": "user", "user_id": sales_a.id})
    lead = services.lead_capture(actor=owner, data={"email": "anna@lind-cafe.se"}).lead
    sequence = services.sequence_create(actor=owner, data={
        "name": "Welcome", "steps": [{"kind": "email", "template_id": template.id,
                                      "wait_days": 1}]})
    client = web_as(sales_a)
    page = client.get(f"/leads/{lead.id}/").content.decode()
    assert "Enrol in sequence" in page and "Not in any sequence" in page
    client.post(f"/leads/{lead.id}/enrol/", {"sequence_id": sequence.id})
    assert Enrollment.objects.get().status == "active"
    page = client.get(f"/leads/{lead.id}/").content.decode()
    assert "step 1 of 1 (send an email) next at" in page
    again = client.post(f"/leads/{lead.id}/enrol/", {"sequence_id": sequence.id}, follow=True)
    assert "already in the sequence Welcome" in again.content.decode()
    client.post(f"/leads/{lead.id}/unenrol/", {"sequence_id": sequence.id})
    page = client.get(f"/leads/{lead.id}/").content.decode()
    assert "taken out by" in page
