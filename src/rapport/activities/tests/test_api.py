"""/api/v1/interactions and /api/v1/tasks: CRUD, filters, cursors, errors naming fields."""

import pytest

from rapport.activities.models import Interaction
from rapport.contacts import services as contact_services

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(sales_a):
    return [contact_services.contact_create(actor=sales_a, data={"first_name": name})
            for name in ("Anna", "Ben")]


def test_log_filter_and_page_through_interactions(sales_a, api_as, people):
    api = api_as(sales_a)
    anna, ben = people
    for n in range(5):
        response = api.post("/interactions", {"type": "call" if n % 2 else "email",
                                              "contact_id": anna.id, "subject": f"#{n}",
                                              "occurred_at": f"2026-05-0{n + 1}T10:00"})
        assert response.status_code == 201, response.json()
    api.post("/interactions", {"type": "note", "contact_id": ben.id, "body": "Hello " * 100})
    emails = api.get("/interactions", contact_id=anna.id, type="email").json()
    assert [i["subject"] for i in emails["items"]] == ["#4", "#2", "#0"]
    seen, cursor = [], None
    while True:
        page = api.get("/interactions", contact_id=anna.id, limit=2,
                       **({"cursor": cursor} if cursor else {})).json()
        seen += [i["subject"] for i in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == ["#4", "#3", "#2", "#1", "#0"]
    dated = api.get("/interactions", since="2026-05-02", until="2026-05-03").json()
    assert [i["subject"] for i in dated["items"]] == ["#2", "#1"]
    note = api.get("/interactions", contact_id=ben.id).json()["items"][0]
    assert note["headline"] == "Note"
    assert note["excerpt"].startswith("Hello Hello") and len(note["excerpt"]) <= 300


def test_every_interaction_carries_its_headline_and_excerpt(sales_a, api_as, people):
    api = api_as(sales_a)
    call = api.post("/interactions", {"type": "call", "contact_id": people[0].id,
                                      "direction": "inbound", "duration_seconds": 125,
                                      "outcome": "Wants a cake for Saturday"}).json()
    assert (call["headline"], call["excerpt"]) == ("Call (inbound, 2 min)",
                                                   "Wants a cake for Saturday")
    fetched = api.get(f"/interactions/{call['id']}").json()
    assert fetched["subject"] == "" and fetched["version"] == 1


def test_bad_requests_name_the_field(sales_a, api_as, people):
    api = api_as(sales_a)
    cases = [
        ({"type": "fax", "contact_id": people[0].id}, "type"),
        ({"type": "call"}, "contact_id"),
        ({"type": "call", "contact_id": people[0].id, "duration_seconds": "long"},
         "duration_seconds"),
        ({"type": "call", "contact_id": people[0].id, "to_addresses": ["x" * 300]},
         "to_addresses.0"),
    ]
    for body, field in cases:
        response = api.post("/interactions", body)
        assert response.status_code == 422, body
        assert field in response.json()["errors"], response.json()
    assert api.get("/interactions", type="fax").status_code == 422
    assert api.get("/interactions", cursor="forged").json()["errors"] == {
        "cursor": ["is not a cursor this server issued"]}
    assert api.post("/interactions", {"type": "call", "contact_id": 10**12}).status_code == 404
    assert Interaction.objects.count() == 0


def test_edit_and_delete_an_interaction(sales_a, sales_b, api_as, people):
    api = api_as(sales_a)
    made = api.post("/interactions", {"type": "note", "contact_id": people[0].id,
                                      "body": "first"}).json()
    changed = api.patch(f"/interactions/{made['id']}", {"version": 1, "body": "second"})
    assert changed.status_code == 200 and changed.json()["version"] == 2
    stale = api.patch(f"/interactions/{made['id']}", {"version": 1, "body": "third"})
    assert stale.status_code == 409 and stale.json()["current"]["body"] == "second"
    assert api_as(sales_b).get(f"/interactions/{made['id']}").status_code == 404
    assert api_as(sales_b).delete(f"/interactions/{made['id']}").status_code == 404
    assert api.delete(f"/interactions/{made['id']}").status_code == 204
    assert api.get(f"/interactions/{made['id']}").status_code == 404


def test_tasks_crud_complete_and_filters(sales_a, sales_a2, api_as, people):
    api = api_as(sales_a)
    made = api.post("/tasks", {"title": "Send the quote", "due_at": "2026-06-12T10:00",
                               "contact_id": people[0].id, "priority": "high",
                               "recurrence": "weekly"})
    assert made.status_code == 201, made.json()
    task = made.json()
    assert (task["priority"], task["status"], task["assignee_id"]) == ("high", "open",
                                                                       sales_a.id)
    api.post("/tasks", {"title": "Sara's", "due_at": "2026-06-11", "all_day": True,
                        "assignee_id": sales_a2.id})
    mine = api.get("/tasks", assignee="me").json()["items"]
    assert [t["title"] for t in mine] == ["Send the quote"]
    everyone = api.get("/tasks").json()["items"]
    assert [t["title"] for t in everyone] == ["Sara's", "Send the quote"]
    done = api.post(f"/tasks/{task['id']}/complete").json()
    assert done["status"] == "done"
    following = api.get("/tasks", assignee="me").json()["items"]
    assert len(following) == 1 and following[0]["due_at"] > task["due_at"]
    assert [t["id"] for t in api.get("/tasks", status="done").json()["items"]] == [task["id"]]
    reopened = api.post(f"/tasks/{task['id']}/reopen").json()
    assert reopened["status"] == "open"
    patched = api.patch(f"/tasks/{task['id']}", {"version": reopened["version"],
                                                 "title": "Send the new quote"})
    assert patched.json()["title"] == "Send the new quote"
    bad = api.patch(f"/tasks/{task['id']}", {"version": patched.json()["version"],
                                             "priority": "urgent"})
    assert bad.status_code == 422 and "priority" in bad.json()["errors"]
    assert api.post("/tasks", {"title": "", "due_at": "2026-06-12"}).json()["errors"] == {
        "title": ["is required"]}
    assert api.get("/tasks", status="sleeping").status_code == 422
    assert api.delete(f"/tasks/{task['id']}").status_code == 204
    assert api.get(f"/tasks/{task['id']}").status_code == 404
