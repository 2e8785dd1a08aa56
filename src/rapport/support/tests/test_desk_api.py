"""/api/v1/tickets: list with filters and cursor paging, get, open (201), change with a version
(409 when stale), replies, notes, merge, close; 422s name the field, invisible is 404."""

from __future__ import annotations

import pytest

from rapport.core.models import Event
from rapport.support import services
from rapport.support.models import Survey, Ticket, TicketMessage

pytestmark = pytest.mark.django_db


def test_open_get_change_reply_note_close(api_as, owner, agent, smtp_server):
    client = api_as(agent)
    answer = client.post("/tickets", {"subject": "Invoice wrong", "email": "kim@example.org",
                                      "description": "Charged twice", "category": "Billing",
                                      "priority": "high"})
    assert answer.status_code == 201, answer.json()
    body = answer.json()
    ticket_id = body["id"]
    assert body["reference"] == f"T-{10000 + ticket_id}"
    assert (body["channel"], body["status"], body["assignee_id"]) == ("api", "new", agent.id)
    assert [m["kind"] for m in body["messages"]] == ["customer", "system"]  # + acknowledgement
    got = client.get(f"/tickets/{ticket_id}").json()
    assert got["messages"][0]["body"] == "Charged twice"
    answer = client.patch(f"/tickets/{ticket_id}", {"version": 1, "priority": "urgent",
                                                    "status": "waiting"})
    assert answer.status_code == 200 and answer.json()["version"] == 2
    stale = client.patch(f"/tickets/{ticket_id}", {"version": 1, "priority": "low"})
    assert stale.status_code == 409
    assert client.get(f"/tickets/{ticket_id}").json()["priority"] == "urgent"
    reply = client.post(f"/tickets/{ticket_id}/replies", {"body": "Refunded."})
    assert reply.status_code == 201 and reply.json()["kind"] == "reply"
    note = client.post(f"/tickets/{ticket_id}/notes", {"body": "Checked with the bank"})
    assert note.status_code == 201 and note.json()["kind"] == "note"
    version = client.get(f"/tickets/{ticket_id}").json()["version"]
    assert version == 3  # the first reply stamped first_responded_at
    closed = client.post(f"/tickets/{ticket_id}/close", {"version": version})
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    assert Survey.objects.filter(ticket_id=ticket_id).exists()


def test_bad_input_names_the_field_and_changes_nothing(api_as, agent, ticket):
    client = api_as(agent)
    for body, field in (({"subject": "", "email": "a@example.org"}, "subject"),
                        ({"subject": "Hi", "email": "nope"}, "email"),
                        ({"subject": "Hi", "email": "a@example.org", "priority": "x"},
                         "priority"),
                        ({"subject": "Hi", "email": "a@example.org", "colour": "red"},
                         "colour")):
        answer = client.post("/tickets", body)
        assert answer.status_code == 422, answer.json()
        assert any(field in key for key in answer.json()["errors"]), answer.json()
    assert Ticket.objects.count() == 1
    for body, field in (({"version": 1, "status": "gone"}, "status"),
                        ({"version": 1, "assignee_id": 0}, "assignee_id"),
                        ({"priority": "low"}, "version")):
        answer = client.patch(f"/tickets/{ticket.id}", body)
        assert answer.status_code == 422, answer.json()
        assert any(field in key for key in answer.json()["errors"]), answer.json()
    answer = client.post(f"/tickets/{ticket.id}/replies", {"body": ""})
    assert answer.status_code == 422 and "body" in answer.json()["errors"]
    answer = client.post(f"/tickets/{ticket.id}/merge", {"version": 1, "into_id": ticket.id})
    assert answer.status_code == 422 and "into_id" in answer.json()["errors"]
    ticket.refresh_from_db()
    assert ticket.version == 1 and not TicketMessage.objects.filter(kind="reply").exists()
    answer = client.get("/tickets", status="whenever")
    assert answer.status_code == 422 and "status" in answer.json()["errors"]
    answer = client.get("/tickets", cursor="forged")
    assert answer.status_code == 422 and "cursor" in answer.json()["errors"]


def test_a_rep_sees_only_the_teams_tickets(api_as, owner, agent, sales_a, sales_b):
    services.agent_profile_save(actor=owner, user_id=sales_a.id, data={"skills": ["wine"]})
    mine = services.ticket_open(actor=owner, data={"subject": "Wine list", "category": "wine",
                                                   "email": "w@example.org"}).ticket
    assert mine.assignee_id == sales_a.id
    other = services.ticket_open(actor=owner, data={"subject": "Bread",
                                                    "email": "b@example.org"}).ticket
    rep_b = api_as(sales_b)
    assert rep_b.get(f"/tickets/{mine.id}").status_code == 404
    assert rep_b.get("/tickets").json()["items"] == []
    rep_a = api_as(sales_a)
    assert [t["id"] for t in rep_a.get("/tickets").json()["items"]] == [mine.id]
    assert rep_a.get(f"/tickets/{other.id}").status_code == 404


def test_filters_views_and_cursor_paging(api_as, owner, agent, agent2):
    for i in range(7):
        services.ticket_open(actor=owner, data={
            "subject": f"Request {i}", "email": f"c{i}@example.org",
            "priority": "high" if i % 2 else "normal", "channel": "phone" if i < 2 else "web"})
    client = api_as(agent)
    seen, cursor = [], None
    while True:
        page = client.get("/tickets", limit=3, **({"cursor": cursor} if cursor else {})).json()
        seen += [t["id"] for t in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == sorted(seen, reverse=True) and len(seen) == 7
    mine = client.get("/tickets", view="mine").json()["items"]
    assert mine and all(t["assignee_id"] == agent.id for t in mine)
    assert len(client.get("/tickets", assignee="me").json()["items"]) == len(mine)
    assert all(t["priority"] == "high" for t in
               client.get("/tickets", priority="high").json()["items"])
    assert len(client.get("/tickets", channel="phone").json()["items"]) == 2
    first = Ticket.objects.order_by("id").first()
    assert [t["id"] for t in client.get("/tickets", q=first.reference).json()["items"]] \
        == [first.id]
    assert len(client.get("/tickets", q="Request 3").json()["items"]) == 1
    Ticket.objects.filter(id=first.id).update(sla_state="breached")
    assert [t["id"] for t in client.get("/tickets", view="at_risk").json()["items"]] \
        == [first.id]
    Ticket.objects.filter(id=first.id).update(assignee=None)
    assert [t["id"] for t in client.get("/tickets", view="unassigned").json()["items"]] \
        == [first.id]
    assert client.get("/tickets", view="everything").status_code == 422


def test_merge_through_the_api(api_as, agent, ticket):
    dup = services.ticket_open(actor=agent, data={"subject": "Same", "email":
                                                  "nina@example.org"}).ticket
    answer = api_as(agent).post(f"/tickets/{dup.id}/merge", {"version": dup.version,
                                                             "into_id": ticket.id})
    assert answer.status_code == 200 and answer.json()["id"] == ticket.id
    assert Event.objects.filter(kind="ticket.merged", entity_id=dup.id).exists()
