"""/api/v1/sequences and /api/v1/leads/{id}/enrol: CRUD with cursor pagination, enrolment,
and bad input answered 422 naming the field with nothing changed."""

from __future__ import annotations

import pytest

from rapport.activities import services as activities
from rapport.sales import services
from rapport.sales.models import Enrollment, Sequence

pytestmark = pytest.mark.django_db


@pytest.fixture
def template(owner):
    return activities.email_template_create(actor=owner, data={
        "name": "Welcome", "subject": "Hello",
        "body": "Hi {{ contact.first_name | default('there') }}"})


@pytest.fixture
def lead(owner, sales_a):
    services.assignment_rule_create(actor=owner, data={
        "name": "Sam", "method": "user", "user_id": sales_a.id})
    return services.lead_capture(actor=owner, data={"name": "Anna Lind",
                                                    "email": "anna@lind-cafe.se"}).lead


def _body(template, name="Welcome"):
    return {"name": name, "steps": [
        {"kind": "email", "template_id": template.id},
        {"kind": "task", "wait_days": 2, "task_title": "Call them"}]}


def test_sequences_crud_with_cursor_pagination(api_as, owner, template):
    api = api_as(owner)
    made = api.post("/sequences", _body(template))
    assert made.status_code == 201, made.content
    body = made.json()
    assert [(s["position"], s["kind"], s["wait_days"]) for s in body["steps"]] == [
        (1, "email", 0), (2, "task", 2)]
    assert body["steps"][0]["template_id"] == template.id
    for name in ("Second", "Third"):
        assert api.post("/sequences", _body(template, name)).status_code == 201
    first = api.get("/sequences", limit=2).json()
    assert [s["name"] for s in first["items"]] == ["Third", "Second"]
    rest = api.get("/sequences", limit=2, cursor=first["next_cursor"]).json()
    assert [s["name"] for s in rest["items"]] == ["Welcome"] and rest["next_cursor"] is None

    changed = api.patch(f"/sequences/{body['id']}", {"name": "Welcome 2", "auto_enrol": True,
                                                      "auto_grades": ["A", "B"]})
    assert changed.status_code == 200, changed.content
    assert (changed.json()["name"], changed.json()["auto_grades"]) == ("Welcome 2", ["A", "B"])
    assert len(changed.json()["steps"]) == 2  # steps left out stay as they are
    assert api.delete(f"/sequences/{body['id']}").status_code == 204
    assert api.get(f"/sequences/{body['id']}").status_code == 404


@pytest.mark.parametrize(("steps", "field"), [
    ([{"kind": "email"}], "steps.0.template_id"),
    ([{"kind": "task"}], "steps.0.task_title"),
    ([{"kind": "email", "template_id": 987654}], "steps.0.template_id"),
    ([], "steps"),
])
def test_bad_sequences_are_422_naming_the_field(api_as, owner, steps, field):
    answer = api_as(owner).post("/sequences", {"name": "Bad", "steps": steps})
    assert answer.status_code == 422
    assert field in answer.json()["errors"], answer.json()
    assert not Sequence.objects.exists()


def test_a_bad_change_changes_nothing(api_as, owner, template):
    api = api_as(owner)
    made = api.post("/sequences", _body(template)).json()
    answer = api.patch(f"/sequences/{made['id']}", {
        "name": "Renamed", "steps": [{"kind": "task", "task_title": "ok"}, {"kind": "email"}]})
    assert answer.status_code == 422 and "steps.1.template_id" in answer.json()["errors"]
    again = api.get(f"/sequences/{made['id']}").json()
    assert again["name"] == "Welcome" and len(again["steps"]) == 2


def test_sales_reps_read_sequences_but_do_not_make_them(api_as, owner, sales_a, template):
    api_as(owner).post("/sequences", _body(template))
    rep = api_as(sales_a)
    assert rep.post("/sequences", _body(template, "Mine")).status_code == 403
    assert [s["name"] for s in rep.get("/sequences").json()["items"]] == ["Welcome"]
    assert Sequence.objects.count() == 1


def test_enrol_a_lead_by_the_api(api_as, owner, sales_a, template, lead):
    made = api_as(owner).post("/sequences", _body(template)).json()
    rep = api_as(sales_a)
    answer = rep.post(f"/leads/{lead.id}/enrol", {"sequence_id": made["id"]})
    assert answer.status_code == 201, answer.content
    assert (answer.json()["status"], answer.json()["next_position"]) == ("active", 1)
    twice = rep.post(f"/leads/{lead.id}/enrol", {"sequence_id": made["id"]})
    assert twice.status_code == 422 and list(twice.json()["errors"]) == ["sequence_id"]
    assert Enrollment.objects.count() == 1
    listed = rep.get(f"/leads/{lead.id}/enrollments").json()
    assert [e["sequence_id"] for e in listed] == [made["id"]]
    out = rep.post(f"/leads/{lead.id}/unenrol", {"sequence_id": made["id"]})
    assert out.status_code == 200 and out.json()["status"] == "stopped"
    assert out.json()["stop_reason"].startswith("taken out by")


@pytest.mark.parametrize(("body", "field"), [
    ({}, "sequence_id"), ({"sequence_id": "x"}, "sequence_id"),
    ({"sequence_id": 987654}, "sequence_id"), ({"sequence_id": 1, "extra": 1}, "extra"),
])
def test_bad_enrolments_are_422(api_as, owner, lead, body, field):
    answer = api_as(owner).post(f"/leads/{lead.id}/enrol", body)
    assert answer.status_code == 422 and field in answer.json()["errors"], answer.json()
    assert not Enrollment.objects.exists()


def test_a_lead_without_an_email_cannot_join_a_sequence_that_sends_one(api_as, owner,
                                                                       template):
    phone_only = services.lead_capture(actor=owner, data={"phone": "+46701234567"}).lead
    made = api_as(owner).post("/sequences", _body(template)).json()
    answer = api_as(owner).post(f"/leads/{phone_only.id}/enrol", {"sequence_id": made["id"]})
    assert answer.status_code == 422 and list(answer.json()["errors"]) == ["email"]


def test_the_web_form_condition_is_set_and_cleared(api_as, owner, template):
    form = services.web_form_create(actor=owner, data={"name": "Contact us",
                                                       "fields": ["email"]})
    api = api_as(owner)
    made = api.post("/sequences", {**_body(template), "auto_enrol": True,
                                   "auto_web_form_id": form.id}).json()
    assert made["auto_web_form_id"] == form.id
    bad = api.patch(f"/sequences/{made['id']}", {"auto_web_form_id": 987654})
    assert bad.status_code == 422 and list(bad.json()["errors"]) == ["auto_web_form_id"]
    cleared = api.patch(f"/sequences/{made['id']}", {"auto_web_form_id": None}).json()
    assert cleared["auto_web_form_id"] is None and cleared["auto_enrol"] is True
