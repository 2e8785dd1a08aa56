"""The desk's pages: the ticket list as the support role's home with its views, a ticket's page
(thread kinds, reply box, controls, 409 on a stale form), logging a call, the agents' settings,
the contact page's panel and the global search."""

from __future__ import annotations

import pytest

from rapport.contacts import services as contact_services
from rapport.support import services
from rapport.support.models import AgentProfile, Ticket, TicketMessage, TicketView

pytestmark = pytest.mark.django_db


def test_the_ticket_list_is_the_support_roles_home(web_as, agent, sales_a, ticket):
    page = web_as(agent).get("/", follow=True)
    assert page.redirect_chain[-1][0] == "/tickets/"
    assert ticket.reference.encode() in page.content
    assert b"Mine" in page.content and b"Unassigned" in page.content and b"At risk" in page.content
    # A sales rep keeps My day.
    assert web_as(sales_a).get("/").url != "/tickets/"


def test_views_filters_and_saved_views(web_as, agent, ticket):
    client = web_as(agent)
    link = f'href="/tickets/{ticket.id}/"'.encode()
    assert link in client.get("/tickets/?view=mine").content
    assert link not in client.get("/tickets/?view=unassigned").content
    bad = client.get("/tickets/?priority=whenever")
    assert bad.status_code == 200 and b"must be one of" in bad.content
    client.post("/tickets/views/", {"name": "Web, high", "query": "channel=web&priority=high"})
    view = TicketView.objects.get(user=agent)
    assert view.query == "channel=web&priority=high"
    assert b"Web, high" in client.get("/tickets/").content
    client.post(f"/tickets/views/{view.id}/delete/")
    assert not TicketView.objects.exists()


def test_the_ticket_page_shows_the_thread_and_takes_replies_and_notes(web_as, agent, ticket,
                                                                      smtp_server):
    client = web_as(agent)
    page = client.get(f"/tickets/{ticket.id}/")
    assert page.status_code == 200
    assert b"The box was crushed." in page.content and b"msg-customer" in page.content
    assert b'href="/contacts/' in page.content  # the requester's contact link
    answer = client.post(f"/tickets/{ticket.id}/messages/", {"kind": "reply",
                                                             "body": "A new cake is coming"})
    assert answer.status_code == 302
    client.post(f"/tickets/{ticket.id}/messages/", {"kind": "note", "body": "Courier's fault"})
    page = client.get(f"/tickets/{ticket.id}/").content
    assert b"msg-reply" in page and b"msg-note" in page and b"internal" in page
    empty = client.post(f"/tickets/{ticket.id}/messages/", {"kind": "reply", "body": ""})
    assert empty.status_code == 422 and b"is required" in empty.content
    assert TicketMessage.objects.filter(kind__in=("reply", "note")).count() == 2


def test_controls_save_with_the_version_and_a_stale_form_is_a_409(web_as, agent, agent2,
                                                                   ticket, smtp_server):
    client = web_as(agent)
    answer = client.post(f"/tickets/{ticket.id}/edit/", {
        "version": 1, "status": "open", "priority": "high", "category": "Delivery",
        "assignee_id": agent2.id, "deal_id": ""})
    assert answer.status_code == 302
    ticket.refresh_from_db()
    assert (ticket.status, ticket.priority, ticket.assignee_id) == ("open", "high", agent2.id)
    stale = client.post(f"/tickets/{ticket.id}/edit/", {"version": 1, "priority": "low"})
    assert stale.status_code == 409 and b"someone changed this ticket" in stale.content
    closed = client.post(f"/tickets/{ticket.id}/close/", {"version": ticket.version})
    assert closed.status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == "closed"


def test_merge_from_the_page_takes_a_reference(web_as, agent, ticket):
    dup = services.ticket_open(actor=agent, data={"subject": "Again", "email":
                                                  "nina@example.org"}).ticket
    client = web_as(agent)
    answer = client.post(f"/tickets/{dup.id}/merge/", {"version": dup.version,
                                                       "into": ticket.reference})
    assert answer.status_code == 302 and answer.url == f"/tickets/{ticket.id}/"
    bad = client.post(f"/tickets/{ticket.id}/merge/", {"version": 2, "into": "T-1"})
    assert bad.status_code == 422 and b"into_id" not in bad.content.split(b"<main")[0]


def test_logging_a_call_opens_a_phone_ticket(web_as, agent, owner, smtp_server):
    client = web_as(agent)
    assert client.get("/tickets/new/").status_code == 200
    bad = client.post("/tickets/new/", {"subject": "", "email": "x"})
    assert bad.status_code == 422 and not Ticket.objects.exists()
    answer = client.post("/tickets/new/", {"subject": "Called about a refund",
                                           "email": "lee@example.org", "name": "Lee Park",
                                           "description": "Wants money back", "priority": "high"})
    ticket = Ticket.objects.get()
    assert answer.url == f"/tickets/{ticket.id}/"
    assert (ticket.channel, ticket.priority, ticket.contact.last_name) == ("phone", "high",
                                                                           "Park")
    # From a contact's page: the contact is the requester.
    person = contact_services.contact_create(actor=owner, data={
        "first_name": "Ann", "emails": ["ann@example.org"]})
    page = client.get(f"/contacts/{person.id}/")
    assert b"Log a call as a ticket" in page.content
    client.post(f"/tickets/new/?contact_id={person.id}", {"subject": "Hello",
                                                          "contact_id": person.id})
    made = Ticket.objects.get(subject="Hello")
    assert made.contact_id == person.id
    page = client.get(f"/contacts/{person.id}/")
    assert made.reference.encode() in page.content  # the contact page's tickets panel


def test_agents_settings(web_as, owner, agent, sales_a):
    client = web_as(owner)
    page = client.get("/settings/help-desk-agents/")
    assert page.status_code == 200 and agent.display_name.encode() in page.content
    answer = client.post("/settings/help-desk-agents/", {
        "user_id": agent.id, "skills": "Billing, Delivery", "accepts_tickets": "on",
        "working_hours": "mon 09:00-17:00; tue 09:00-12:00, 13:00-17:00"})
    assert answer.status_code == 302
    profile = AgentProfile.objects.get(user=agent)
    assert profile.skills == ["Billing", "Delivery"]
    assert profile.working_hours == {"mon": [["09:00", "17:00"]],
                                     "tue": [["09:00", "12:00"], ["13:00", "17:00"]]}
    bad = client.post("/settings/help-desk-agents/", {"user_id": agent.id,
                                                      "working_hours": "mon 17:00-09:00"})
    assert bad.status_code == 422 and b"ends before it starts" in bad.content
    assert web_as(sales_a).get("/settings/help-desk-agents/").status_code == 403
    assert b"Help desk agents" in client.get("/settings/").content


def test_tickets_in_the_global_search(web_as, agent, ticket):
    client = web_as(agent)
    found = client.get("/search/", {"q": ticket.reference}).content
    assert ticket.reference.encode() in found and f"/tickets/{ticket.id}/".encode() in found
    assert b"Cake arrived" in client.get("/search/", {"q": "squashed"}).content
