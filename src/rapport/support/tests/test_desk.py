"""Working tickets: replies mailed in the thread through a real SMTP server, notes never
mailed, status history, manual assignment, merging, deals, closing with a one-click survey,
reopening by the customer, and assignment by rules at open."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client

from rapport.activities.models import OutboundEmail
from rapport.core.errors import NotFound, PermissionDenied, ValidationFailed, VersionConflict
from rapport.core.models import Event
from rapport.sales import services as sales
from rapport.support import services
from rapport.support.models import (
    AgentProfile,
    AssignmentLog,
    DeskSettings,
    MessageKind,
    StatusChange,
    Survey,
    Ticket,
    TicketMessage,
)
from rapport.support.tests.desk_fixtures import delivered

pytestmark = pytest.mark.django_db

NOON = dt.datetime(2026, 12, 2, 12, 0, tzinfo=dt.UTC)  # a Wednesday


def kinds(ticket_id: int) -> list[str]:
    return list(Event.objects.filter(entity_type="ticket", entity_id=ticket_id)
                .order_by("id").values_list("kind", flat=True))


def test_a_reply_is_mailed_in_the_thread_and_opens_the_ticket(ticket, agent, smtp_server):
    assert ticket.status == "new" and ticket.first_responded_at is None
    services.acknowledge(ticket=ticket)
    ticket.refresh_from_db()
    reply = services.ticket_reply(actor=agent, ticket_id=ticket.id,
                                  data={"body": "Sorry! A new cake is on its way."})
    ticket.refresh_from_db()
    assert (ticket.status, ticket.version) == ("open", 2)
    assert ticket.first_responded_at is not None
    assert reply.kind == MessageKind.REPLY and reply.outbound_email_id
    assert [(c.from_status, c.to_status) for c in StatusChange.objects.filter(ticket=ticket)
            .order_by("id")] == [("", "new"), ("new", "open")]
    assert "ticket.replied" in kinds(ticket.id) and "ticket.status_changed" in kinds(ticket.id)
    ack, sent = delivered(smtp_server)
    assert ack["Subject"] == f"[{ticket.reference}] Cake arrived squashed"
    assert ticket.reference in ack.get_content()
    assert sent["To"] == "nina@example.org"
    assert sent["Subject"] == f"[{ticket.reference}] Cake arrived squashed"
    # Threaded: it answers the customer's first message (none here: the acknowledgement).
    assert sent["In-Reply-To"] == ack["Message-ID"]
    assert ack["Message-ID"] in sent["References"]
    assert "A new cake is on its way." in sent.get_content()
    # A second reply keeps the first response time.
    first = ticket.first_responded_at
    services.ticket_reply(actor=agent, ticket_id=ticket.id, data={"body": "Tracking: 123"})
    ticket.refresh_from_db()
    assert ticket.first_responded_at == first


def test_a_note_is_never_mailed(ticket, agent, smtp_server):
    before = OutboundEmail.objects.count()
    note = services.ticket_note(actor=agent, ticket_id=ticket.id,
                                data={"body": "Customer called, <b>angry</b>."})
    assert note.kind == MessageKind.NOTE and note.body == "Customer called, angry."
    assert OutboundEmail.objects.count() == before
    assert delivered(smtp_server) == []
    ticket.refresh_from_db()
    assert ticket.status == "new" and ticket.first_responded_at is None
    note_event = Event.objects.get(kind="ticket.note")
    assert note_event.contact_id is None  # internal: not on the customer's timeline


def test_status_changes_are_recorded_and_stamped(ticket, agent):
    ticket = services.ticket_update(actor=agent, ticket_id=ticket.id, version=1,
                                    changes={"status": "waiting", "priority": "high",
                                             "category": "Delivery"})
    assert (ticket.status, ticket.priority, ticket.category) == ("waiting", "high", "Delivery")
    ticket = services.ticket_update(actor=agent, ticket_id=ticket.id, version=ticket.version,
                                    changes={"status": "resolved"})
    assert ticket.resolved_at is not None and ticket.closed_at is None
    ticket = services.ticket_update(actor=agent, ticket_id=ticket.id, version=ticket.version,
                                    changes={"status": "open"})
    assert ticket.resolved_at is None and ticket.reopened_count == 1
    assert [c.to_status for c in StatusChange.objects.filter(ticket=ticket).order_by("id")] \
        == ["new", "waiting", "resolved", "open"]
    updated = Event.objects.get(kind="ticket.updated")
    assert updated.before == {"priority": "normal", "category": ""}
    assert updated.after["priority"] == "high"


def test_a_stale_version_is_a_conflict_and_bad_input_names_the_field(ticket, agent):
    services.ticket_update(actor=agent, ticket_id=ticket.id, version=1,
                           changes={"priority": "high"})
    with pytest.raises(VersionConflict) as clash:
        services.ticket_update(actor=agent, ticket_id=ticket.id, version=1,
                               changes={"priority": "low"})
    assert clash.value.current["priority"] == "high"
    for changes, field in (({"priority": "whenever"}, "priority"),
                           ({"status": "gone"}, "status"),
                           ({"assignee_id": 999999}, "assignee_id"),
                           ({"deal_id": 999999}, "deal_id"),
                           ({"category": "x" * 101}, "category")):
        with pytest.raises(ValidationFailed) as failure:
            services.ticket_update(actor=agent, ticket_id=ticket.id, version=2, changes=changes)
        assert field in failure.value.errors
    with pytest.raises(ValidationFailed) as failure:
        services.ticket_update(actor=agent, ticket_id=ticket.id, version=None,
                               changes={"priority": "low"})
    assert "version" in failure.value.errors
    with pytest.raises(ValidationFailed) as failure:
        services.ticket_reply(actor=agent, ticket_id=ticket.id, data={"body": "  "})
    assert "body" in failure.value.errors
    ticket.refresh_from_db()
    assert (ticket.priority, ticket.version) == ("high", 2)


def test_manual_reassignment_is_logged_with_who_did_it(ticket, agent, agent2, sales_a, owner):
    ticket = services.ticket_assign(actor=agent, ticket_id=ticket.id,
                                    version=ticket.version, assignee_id=agent2.id)
    assert ticket.assignee_id == agent2.id
    log = AssignmentLog.objects.filter(ticket=ticket).latest("id")
    assert (log.rule, log.actor_id) == ("manual", agent.id)
    assert "handed it to" in log.reason and agent2.display_name in log.reason
    event = Event.objects.filter(kind="ticket.assigned").latest("id")
    assert event.after["assignee_id"] == agent2.id and event.after["rule"] == "manual"
    with pytest.raises(ValidationFailed) as failure:  # not an agent
        services.ticket_assign(actor=agent, ticket_id=ticket.id, version=ticket.version,
                               assignee_id=sales_a.id)
    assert "assignee_id" in failure.value.errors
    with pytest.raises((NotFound, PermissionDenied)):  # a rep may not hand tickets around
        services.ticket_assign(actor=sales_a, ticket_id=ticket.id, version=ticket.version,
                               assignee_id=agent.id)


def test_merging_moves_the_messages_and_closes_the_duplicate(ticket, agent, smtp_server):
    dup = services.ticket_open(actor=agent, data={
        "subject": "Squashed cake again", "description": "Also: the candles were missing.",
        "email": "nina@example.org"}).ticket
    survivor = services.ticket_merge(actor=agent, ticket_id=dup.id,
                                     data={"version": dup.version, "into_id": ticket.id})
    dup.refresh_from_db()
    assert survivor.id == ticket.id
    assert (dup.status, dup.merged_into_id) == ("closed", ticket.id) and dup.closed_at
    bodies = list(TicketMessage.objects.filter(ticket=ticket).values_list("body", flat=True))
    assert "Also: the candles were missing." in bodies
    assert any("was merged into this ticket" in b for b in bodies)
    assert not Survey.objects.filter(ticket=dup).exists()  # a merge is not a close to survey
    assert "ticket.merged" in kinds(dup.id)
    ticket.refresh_from_db()
    for data, field in (({"version": dup.version, "into_id": ticket.id}, "ticket"),
                        ({"version": ticket.version, "into_id": ticket.id}, "into_id"),
                        ({"version": ticket.version, "into_id": dup.id}, "into_id"),
                        ({"version": ticket.version, "into_id": 99999}, "into_id")):
        source = dup.id if field == "ticket" else ticket.id
        with pytest.raises(ValidationFailed) as failure:
            services.ticket_merge(actor=agent, ticket_id=source, data=data)
        assert field in failure.value.errors
    with pytest.raises(ValidationFailed):  # a merged ticket takes no replies
        services.ticket_reply(actor=agent, ticket_id=dup.id, data={"body": "Hi"})


def test_a_ticket_links_to_a_deal_the_agent_may_see(ticket, owner, agent):
    deal = sales.deal_create(actor=owner, data={"name": "Wedding cakes", "amount": "900"})
    ticket = services.ticket_link_deal(actor=owner, ticket_id=ticket.id, version=1,
                                       deal_id=deal.id)
    assert ticket.deal_id == deal.id
    assert Event.objects.get(kind="ticket.updated").after["deal_name"] == "Wedding cakes"
    # The support role sees no deals: a deal it cannot see is not one to link.
    other = sales.deal_create(actor=owner, data={"name": "Birthday cakes", "amount": "90"})
    with pytest.raises(ValidationFailed) as failure:
        services.ticket_link_deal(actor=agent, ticket_id=ticket.id, version=2,
                                  deal_id=other.id)
    assert "deal_id" in failure.value.errors
    ticket = services.ticket_link_deal(actor=owner, ticket_id=ticket.id, version=2,
                                       deal_id=None)
    assert ticket.deal_id is None


def test_closing_mails_a_one_click_survey_and_the_score_is_recorded(ticket, agent,
                                                                      smtp_server):
    ticket = services.ticket_close(actor=agent, ticket_id=ticket.id, version=1,
                                   site="http://desk.example")
    assert ticket.status == "closed" and ticket.closed_at and ticket.resolved_at
    [mail] = delivered(smtp_server)
    assert mail["Subject"] == f"[{ticket.reference}] How did we do?"
    links = re.findall(r"http://desk\.example(/s/[\w-]+/(\d)/)", mail.get_content())
    assert sorted(score for _, score in links) == ["1", "2", "3", "4", "5"]
    path = dict((score, p) for p, score in links)["4"]
    client = Client()
    page = client.get(path)
    assert page.status_code == 200 and b"comment" in page.content
    survey = Survey.objects.get(ticket=ticket)
    assert survey.score == 4 and survey.answered_at
    # Answering again (another score, a comment) updates the same survey.
    answer = client.post(dict((s, p) for p, s in links)["2"], {"comment": "<i>Slow</i>"})
    assert answer.status_code == 200
    survey.refresh_from_db()
    assert (survey.score, survey.comment) == (2, "Slow")
    assert Event.objects.filter(kind="survey.answered").count() == 2
    assert client.get("/s/not-a-token/3/").status_code == 404
    assert client.get(f"/s/{survey.token}/9/").status_code == 404


def test_a_customer_reply_reopens_a_closed_ticket(ticket, agent):
    ticket = services.ticket_close(actor=agent, ticket_id=ticket.id, version=1)
    received = services.ticket_receive(ticket_id=ticket.id, body="It is still squashed!")
    assert received.reopened
    ticket.refresh_from_db()
    assert (ticket.status, ticket.reopened_count, ticket.closed_at) == ("open", 1, None)
    assert Event.objects.filter(kind="ticket.message").latest("id").after["reopened"] is True
    # Waiting on the customer: their answer makes it open again, not a reopen.
    ticket = services.ticket_update(actor=agent, ticket_id=ticket.id, version=ticket.version,
                                    changes={"status": "waiting"})
    assert not services.ticket_receive(ticket_id=ticket.id, body="Here it is").reopened
    ticket.refresh_from_db()
    assert (ticket.status, ticket.reopened_count) == ("open", 1)


# --- assignment by rules ----------------------------------------------------------------------

def open_one(actor, category="", now=NOON):
    return services.ticket_open(actor=actor, now=now, data={
        "subject": "Help", "email": "c@example.org", "category": category}).ticket


def test_the_agent_with_the_skill_gets_the_ticket(owner, agent, agent2):
    services.agent_profile_save(actor=owner, user_id=agent2.id,
                                data={"skills": ["Billing"], "accepts_tickets": True})
    billing = open_one(owner, "billing")
    assert billing.assignee_id == agent2.id
    log = AssignmentLog.objects.get(ticket=billing)
    assert log.rule == "skill" and "has the skill 'billing'" in log.reason
    # Without a skill match: the least loaded (agent has none, agent2 one).
    other = open_one(owner, "Delivery")
    assert other.assignee_id == agent.id
    assert "least loaded" in AssignmentLog.objects.get(ticket=other).reason
    assert Event.objects.filter(kind="ticket.assigned", entity_id=other.id).exists()


def test_least_loaded_spreads_tickets_evenly(owner, agent, agent2):
    got = [open_one(owner).assignee_id for _ in range(6)]
    assert sorted(got) == sorted([agent.id, agent2.id] * 3)


def test_working_hours_and_not_accepting_leave_agents_out(owner, agent, agent2):
    DeskSettings.objects.create(time_zone="Europe/Stockholm",
                                business_hours={d: [["09:00", "17:00"]] for d in
                                                ("mon", "tue", "wed", "thu", "fri")})
    services.agent_profile_save(actor=owner, user_id=agent.id,
                                data={"accepts_tickets": False})
    assert open_one(owner).assignee_id == agent2.id  # 13:00 in Stockholm, a Wednesday
    evening = dt.datetime(2026, 12, 2, 19, 0, tzinfo=dt.UTC)  # 20:00 there
    late = open_one(owner, now=evening)
    assert late.assignee_id is None
    log = AssignmentLog.objects.get(ticket=late)
    assert log.rule == "nobody available" and "outside working hours" in log.reason \
        and "not taking tickets" in log.reason
    # An agent's own hours win over the business's.
    services.agent_profile_save(actor=owner, user_id=agent2.id, data={
        "working_hours": {"wed": [["18:00", "23:00"]]}})
    assert open_one(owner, now=evening).assignee_id == agent2.id


def test_agent_profiles_check_their_input(owner, agent, sales_a):
    for data, field in (({"working_hours": {"monday": [["09:00", "17:00"]]}}, "working_hours"),
                        ({"working_hours": {"mon": [["17:00", "09:00"]]}}, "working_hours"),
                        ({"working_hours": {"mon": [["9", "17"]]}}, "working_hours"),
                        ({"skills": ["x" * 101]}, "skills"),
                        ({"accepts_tickets": "perhaps"}, "accepts_tickets")):
        with pytest.raises(ValidationFailed) as failure:
            services.agent_profile_save(actor=owner, user_id=agent.id, data=data)
        assert field in failure.value.errors, failure.value.errors
    with pytest.raises(PermissionDenied):
        services.agent_profile_save(actor=sales_a, user_id=agent.id, data={})
    assert not AgentProfile.objects.exists()
    profile = services.agent_profile_save(actor=owner, user_id=agent.id,
                                          data={"skills": "Billing, delivery, billing"})
    assert profile.skills == ["Billing", "delivery"]


def test_without_agents_a_ticket_stays_unassigned_and_says_so(owner):
    ticket = open_one(owner)
    assert ticket.assignee_id is None
    assert "no agents" in AssignmentLog.objects.get(ticket=ticket).reason
    assert Ticket.objects.get(id=ticket.id).assignee_id is None
