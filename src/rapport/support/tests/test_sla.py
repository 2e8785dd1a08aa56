"""SLA timers and the check, with a frozen clock (every moment passed in as ``now``)."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from rapport.activities.models import Reminder, Task
from rapport.activities.selectors import bell_count
from rapport.contacts import services as contact_services
from rapport.core.events import record_events
from rapport.core.models import Event
from rapport.support import events, services
from rapport.support.models import SlaPolicy, StatusChange, Ticket
from rapport.support.services import sla
from rapport.testing import make_user

pytestmark = pytest.mark.django_db
STOCKHOLM = ZoneInfo("Europe/Stockholm")


def local(*args):
    return dt.datetime(*args, tzinfo=STOCKHOLM)


@pytest.fixture
def desk(owner):
    """Stockholm hours 09–17 Monday to Friday, Swedish holidays, the default policies."""
    sla.sla_policies_seed()
    sla.business_hours_set(actor=owner, data={"time_zone": "Europe/Stockholm",
                                              "holiday_country": "SE"})
    return owner


@pytest.fixture
def agent(db):
    return make_user("ada@bakery.example.com", "support", team="desk")


@pytest.fixture
def boss(db):
    return make_user("bea@bakery.example.com", "manager", team="desk")


@pytest.fixture
def opened(django_capture_on_commit_callbacks):
    def open_ticket(actor, at, *, priority="normal", email="nina@example.org", assignee=None,
                    contact_id=None):
        data = {"subject": "Cake arrived squashed", "priority": priority}
        data.update({"contact_id": contact_id} if contact_id else {"email": email})
        with django_capture_on_commit_callbacks(execute=True):
            ticket = services.ticket_open(actor=actor, data=data, now=at).ticket
        if assignee is not None:
            Ticket.objects.filter(id=ticket.id).update(assignee=assignee)
        ticket.refresh_from_db()
        return ticket
    return open_ticket


@pytest.fixture
def status(django_capture_on_commit_callbacks):
    """What the desk does on a status change (its contract): the field, the StatusChange row
    and the ``ticket.status_changed`` event, in one transaction."""
    def change(ticket, to, at, actor, **fields):
        ticket.refresh_from_db()
        with django_capture_on_commit_callbacks(execute=True):
            Ticket.objects.filter(id=ticket.id).update(status=to, **fields)
            StatusChange.objects.create(ticket=ticket, from_status=ticket.status, to_status=to,
                                        actor=actor, at=at)
            record_events([events.ticket_status_changed(
                ticket_id=ticket.id, contact_id=ticket.contact_id, actor_id=actor.id,
                reference=ticket.reference, subject=ticket.subject, before=ticket.status,
                after=to)])
        ticket.refresh_from_db()
        return ticket
    return change


def test_a_new_ticket_gets_its_policy_and_due_times_in_business_time(desk, opened, agent):
    ticket = opened(agent, local(2026, 12, 7, 16))  # Monday 16:00, normal: 8 h / 5 d
    assert (ticket.sla_state, ticket.tier) == ("ok", "standard")
    assert ticket.sla_policy == SlaPolicy.objects.get(priority="normal", tier="standard")
    assert ticket.first_response_due == local(2026, 12, 8, 16)
    assert ticket.resolution_due == local(2026, 12, 14, 16)


def test_a_tagged_customer_is_premium_and_gets_the_premium_policy(desk, opened, agent, owner):
    contact = contact_services.contact_create(actor=owner, data={
        "first_name": "Vera", "emails": ["vera@example.org"], "tags": ["VIP"]})
    ticket = opened(agent, local(2026, 12, 7, 10), contact_id=contact.id, priority="urgent")
    assert ticket.tier == "premium"
    assert (ticket.sla_policy.priority, ticket.sla_policy.tier) == ("urgent", "premium")
    assert ticket.first_response_due == local(2026, 12, 7, 10, 30)
    # Without a premium policy for the priority, the standard one applies.
    SlaPolicy.objects.filter(tier="premium", priority="low").delete()
    low = opened(agent, local(2026, 12, 7, 10), contact_id=contact.id, priority="low")
    assert (low.tier, low.sla_policy.tier) == ("premium", "standard")


def test_a_breach_across_a_weekend_and_a_holiday_escalates_at_the_right_moment(
        desk, opened, agent, boss):
    # Thursday 24 December 16:30, high (first response 4 h): 30 min on Thursday; Friday the
    # 25th is Christmas Day, then the weekend: due Monday 28 December 12:30.
    ticket = opened(agent, local(2026, 12, 24, 16, 30), priority="high", assignee=agent)
    assert ticket.first_response_due == local(2026, 12, 28, 12, 30)
    for moment in (local(2026, 12, 25, 12), local(2026, 12, 27, 23, 59),
                   local(2026, 12, 28, 11, 41)):
        result = sla.sla_check(now=moment)
        assert (result.at_risk, result.breached) == (0, 0), moment
    # At risk once 80 % of the 4 h are used: 48 min left, Monday 11:42.
    risky = local(2026, 12, 28, 11, 42)
    result = sla.sla_check(now=risky)
    assert result.at_risk == 1 and result.notified == {agent.id: [ticket.id]}
    ticket.refresh_from_db()
    assert (ticket.sla_state, ticket.at_risk_notified_at) == ("at_risk", risky)
    task = Task.objects.get(assignee=agent)
    assert task.title == f"SLA at risk: {ticket.reference} Cake arrived squashed: first " \
                         "response due Mon 28 Dec 2026 12:30 (Europe/Stockholm)"
    assert Reminder.objects.get(task=task).remind_at == risky
    assert bell_count(user=agent, now=risky) == 1
    assert sla.sla_check(now=risky + dt.timedelta(minutes=10)).at_risk == 0  # told once
    # A minute before the due: still not breached; at the due: breached and escalated.
    assert sla.sla_check(now=local(2026, 12, 28, 12, 29)).breached == 0
    due = local(2026, 12, 28, 12, 30)
    result = sla.sla_check(now=due)
    assert result.breached == 1 and result.escalated == {boss.id: [ticket.id]}
    ticket.refresh_from_db()
    assert (ticket.sla_state, ticket.priority) == ("breached", "urgent")
    assert ticket.breached_at == due and ticket.escalated_at == due
    escalation = Task.objects.get(assignee=boss)
    assert escalation.get_priority_display().lower() == "high"
    assert "priority raised to urgent" in escalation.notes
    assert bell_count(user=boss, now=due) == 1
    sla_events = Event.objects.filter(kind="ticket.sla", entity_id=ticket.id).order_by("id")
    assert [(e.after["state"], e.after["target"]) for e in sla_events] == [
        ("at_risk", "first_response"), ("breached", "first_response")]
    assert sla_events.last().after["escalated_to"] == boss.display_name
    raised = Event.objects.get(kind="ticket.updated", entity_id=ticket.id)
    assert (raised.before, raised.after["priority"]) == ({"priority": "high"}, "urgent")
    # Nothing twice, however often the check runs.
    assert sla.sla_check(now=due + dt.timedelta(hours=3)).breached == 0
    assert Task.objects.count() == 2


def test_without_a_country_the_holiday_counts_and_it_breaches_on_christmas_day(
        owner, opened, agent):
    sla.sla_policies_seed()
    sla.business_hours_set(actor=owner, data={"time_zone": "Europe/Stockholm"})
    ticket = opened(agent, local(2026, 12, 24, 16, 30), priority="high")
    assert ticket.first_response_due == local(2026, 12, 25, 12, 30)


def test_an_unassigned_breach_still_escalates_to_the_owner(desk, opened, agent):
    ticket = opened(agent, local(2026, 12, 7, 9), priority="urgent")  # 1 h / 8 h
    result = sla.sla_check(now=local(2026, 12, 7, 10))
    assert result.escalated == {desk.id: [ticket.id]}
    ticket.refresh_from_db()
    assert ticket.priority == "urgent" and ticket.sla_state == "breached"  # not beyond urgent
    assert Task.objects.get(assignee=desk).title.startswith("SLA breached")


def test_waiting_on_the_customer_pauses_the_resolution_clock(desk, opened, agent, status):
    ticket = opened(agent, local(2026, 12, 7, 9))  # Monday 09:00, normal: 5 d resolution
    assert ticket.resolution_due == local(2026, 12, 11, 17)
    ticket = status(ticket, "open", local(2026, 12, 7, 9, 30), agent,
                    first_responded_at=local(2026, 12, 7, 9, 30))
    ticket = status(ticket, "waiting", local(2026, 12, 7, 10), agent)
    assert ticket.paused_at == local(2026, 12, 7, 10)
    # Paused, the resolution never breaches, however long the customer takes.
    result = sla.sla_check(now=local(2026, 12, 14, 12))
    assert (result.at_risk, result.breached) == (0, 0)
    # The customer answers on Monday the 14th at 12:00: 5 business days and 2 hours paused
    # (Mon 10–17, Tue–Fri, Mon 9–12 = 7 + 32 + 3 = 42 h).
    ticket = status(ticket, "open", local(2026, 12, 14, 12), agent)
    assert ticket.paused_at is None and ticket.paused_seconds == 42 * 3600
    # 39 h were left (1 h ran before the pause): Monday 12:00 + 39 h is Monday 21st 11:00.
    assert ticket.resolution_due == local(2026, 12, 21, 11)
    # Waiting again for an afternoon: pauses add up.
    ticket = status(ticket, "waiting", local(2026, 12, 15, 14), agent)
    ticket = status(ticket, "open", local(2026, 12, 16, 9), agent)
    assert ticket.paused_seconds == 45 * 3600
    assert ticket.resolution_due == local(2026, 12, 21, 14)
    assert sla.sla_check(now=local(2026, 12, 21, 13, 59)).breached == 0
    assert sla.sla_check(now=local(2026, 12, 21, 14)).breached == 1


def test_the_first_response_clock_does_not_pause(desk, opened, agent, status):
    ticket = opened(agent, local(2026, 12, 7, 9), priority="urgent")  # first response 1 h
    ticket = status(ticket, "waiting", local(2026, 12, 7, 9, 10), agent)
    result = sla.sla_check(now=local(2026, 12, 7, 10))
    assert result.breached == 1
    assert Event.objects.get(kind="ticket.sla", entity_id=ticket.id,
                             after__state="breached").after["target"] == "first_response"


def test_met_targets_are_met_and_a_late_finish_is_recorded(desk, opened, agent, status):
    ticket = opened(agent, local(2026, 12, 7, 9))
    ticket = status(ticket, "open", local(2026, 12, 7, 10), agent,
                    first_responded_at=local(2026, 12, 7, 10))
    ticket = status(ticket, "resolved", local(2026, 12, 8, 10), agent,
                    resolved_at=local(2026, 12, 8, 10))
    assert ticket.sla_state == "met"
    # Waiting just before resolving does not count: resolved late, but on time without it.
    late = opened(agent, local(2026, 12, 7, 9), priority="urgent")  # 1 h / 8 h
    late = status(late, "open", local(2026, 12, 7, 9, 30), agent,
                  first_responded_at=local(2026, 12, 7, 9, 30))
    late = status(late, "waiting", local(2026, 12, 7, 12), agent)
    late = status(late, "resolved", local(2026, 12, 9, 12), agent,
                  resolved_at=local(2026, 12, 9, 12))
    assert late.sla_state == "met"
    # Resolved past its due before the check saw it: breached, and said so on the timeline.
    missed = opened(agent, local(2026, 12, 7, 9), priority="urgent")
    missed = status(missed, "open", local(2026, 12, 7, 9, 30), agent,
                    first_responded_at=local(2026, 12, 7, 9, 30))
    missed = status(missed, "resolved", local(2026, 12, 8, 9, 30), agent,
                    resolved_at=local(2026, 12, 8, 9, 30))
    assert missed.sla_state == "breached" and missed.breached_at == local(2026, 12, 7, 17)
    assert Event.objects.filter(kind="ticket.sla", entity_id=missed.id).exists()


def test_the_check_settles_what_the_subscriber_missed(desk, opened, agent):
    ticket = opened(agent, local(2026, 12, 7, 9))
    # As if the subscriber had failed: no timers; the desk resolved it.
    Ticket.objects.filter(id=ticket.id).update(
        sla_policy=None, sla_state="", first_response_due=None, resolution_due=None)
    result = sla.sla_check(now=local(2026, 12, 7, 9, 5))
    ticket.refresh_from_db()
    assert result.started == 1 and ticket.sla_state == "ok" and ticket.resolution_due
    Ticket.objects.filter(id=ticket.id).update(status="resolved",
                                               first_responded_at=local(2026, 12, 7, 9, 30),
                                               resolved_at=local(2026, 12, 7, 11))
    StatusChange.objects.create(ticket=ticket, from_status="new", to_status="resolved",
                                at=local(2026, 12, 7, 11))
    assert sla.sla_check(now=local(2026, 12, 7, 11, 1)).settled == 1
    ticket.refresh_from_db()
    assert ticket.sla_state == "met"


def test_a_priority_change_recomputes_from_the_new_policy(desk, opened, agent,
                                                          django_capture_on_commit_callbacks):
    ticket = opened(agent, local(2026, 12, 7, 9), priority="low")
    assert ticket.first_response_due == local(2026, 12, 8, 17)
    with django_capture_on_commit_callbacks(execute=True):
        Ticket.objects.filter(id=ticket.id).update(priority="urgent")
        record_events([events.ticket_updated(
            ticket_id=ticket.id, contact_id=ticket.contact_id, actor_id=agent.id,
            before={"priority": "low"}, after={"reference": ticket.reference,
                                               "priority": "urgent"})])
    ticket.refresh_from_db()
    assert ticket.sla_policy.priority == "urgent"
    assert ticket.first_response_due == local(2026, 12, 7, 10)
    assert ticket.resolution_due == local(2026, 12, 7, 17)


def test_answered_in_time_goes_back_on_track(desk, opened, agent, status):
    ticket = opened(agent, local(2026, 12, 7, 9), priority="urgent", assignee=agent)
    assert sla.sla_check(now=local(2026, 12, 7, 9, 50)).at_risk == 1
    status(ticket, "open", local(2026, 12, 7, 9, 55), agent,
           first_responded_at=local(2026, 12, 7, 9, 55))
    result = sla.sla_check(now=local(2026, 12, 7, 10))
    ticket.refresh_from_db()
    assert result.back_on_track == 1 and ticket.sla_state == "ok"
    # The resolution target (8 h) then comes at risk on its own: told again, for it.
    result = sla.sla_check(now=local(2026, 12, 7, 15, 30))
    assert result.at_risk == 1
    assert "resolution due" in Task.objects.filter(assignee=agent).order_by("-id")[0].title


def test_the_timers_partial_says_what_is_left_in_business_time(desk, opened, agent, status):
    from django.template.loader import render_to_string

    ticket = opened(agent, local(2026, 12, 7, 14, 50))  # normal: first response 8 h
    timers = sla.timers_of(ticket, now=local(2026, 12, 8, 12))
    # Monday 14:50 + 8 h = Tuesday 14:50; from Tuesday 12:00 that is 2 h 50 min.
    assert [t.words for t in timers] == ["2 h 50 min left (business time)",
                                        "34 h 50 min left (business time)"]
    html = render_to_string("support/sla/_ticket_timers.html", {"ticket": ticket})
    assert "on track" in html and "(business time)" in html  # left or overdue: real clock
    assert "due <time" in html and "Tue 08 Dec, 14:50" in html
    ticket = status(ticket, "waiting", local(2026, 12, 8, 12), agent)
    words = [t.words for t in sla.timers_of(ticket, now=local(2026, 12, 9, 16))]
    assert words == ["overdue by 9 h 10 min (business time)",
                     "paused while waiting on the customer"]


def test_a_clock_change_over_the_weekend_moves_the_due_by_real_time(desk, opened, agent):
    # Friday 23 October 2026 16:00 (summer time), high: 4 h = 1 h on Friday and 3 h on
    # Monday. The clocks went back on Sunday, so Monday 12:00 is 11:00 UTC, not 10:00.
    ticket = opened(agent, local(2026, 10, 23, 16), priority="high")
    assert ticket.first_response_due == dt.datetime(2026, 10, 26, 11, tzinfo=dt.UTC)
    assert sla.sla_check(now=dt.datetime(2026, 10, 26, 10, 59, tzinfo=dt.UTC)).breached == 0
    assert sla.sla_check(now=dt.datetime(2026, 10, 26, 11, tzinfo=dt.UTC)).breached == 1


def test_after_an_outage_the_check_moves_a_bounded_number_per_run(desk, opened, agent, boss):
    tickets = [opened(agent, local(2026, 12, 7, 9), priority="urgent", assignee=agent,
                      email=f"c{i}@example.org") for i in range(5)]
    late = local(2026, 12, 7, 12)
    first = sla.sla_check(now=late, limit=2)
    assert (first.breached, first.at_risk, first.more) == (2, 0, True)
    second = sla.sla_check(now=late, limit=2)
    third = sla.sla_check(now=late, limit=2)
    assert (second.breached, third.breached, third.more) == (2, 1, False)
    assert set(Ticket.objects.values_list("sla_state", flat=True)) == {"breached"}
    # Nobody was told "at risk" about a ticket already past its due.
    assert not Task.objects.filter(assignee=agent).exists()
    assert len(tickets) == sum(len(ids) for r in (first, second, third)
                               for ids in r.escalated.values())
