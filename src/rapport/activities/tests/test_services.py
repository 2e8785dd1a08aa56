"""Writes: conversations and tasks, their events, permissions and bad input."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from rapport.activities import selectors, services
from rapport.activities.models import Interaction, Reminder, Task
from rapport.contacts import selectors as contact_selectors
from rapport.contacts import services as contact_services
from rapport.core.errors import NotFound, PermissionDenied, ValidationFailed, VersionConflict
from rapport.core.models import Event
from rapport.testing import make_user

pytestmark = pytest.mark.django_db


def timeline_kinds(user, contact):
    page = contact_selectors.contact_timeline(user=user, contact_id=contact.id)
    return [e.kind for e in page.items]


def test_a_call_lands_on_the_timeline_with_its_follow_up_task(sales_a, anna):
    due = timezone.now() + dt.timedelta(days=2)
    call = services.interaction_log(actor=sales_a, data={
        "type": "call", "contact_id": anna.id, "direction": "outbound",
        "outcome": "wants 2 more cases; call back Friday 10am", "duration_seconds": 300,
        "follow_up": {"title": "Call back Anna", "due_at": due.isoformat()}})
    assert call.company_id == anna.company_id  # the person's company, for its page
    assert call.author_id == sales_a.id
    task = Task.objects.get(interaction=call)
    assert (task.title, task.contact_id, task.assignee_id) == ("Call back Anna", anna.id,
                                                               sales_a.id)
    assert timeline_kinds(sales_a, anna)[:2] == ["task.created", "interaction.logged"]
    logged = Event.objects.get(kind="interaction.logged")
    assert logged.after["headline"] == "Call (outbound, 5 min)"
    assert logged.after["outcome"] == "wants 2 more cases; call back Friday 10am"
    assert logged.occurred_at == call.occurred_at


def test_bad_input_names_the_field_and_changes_nothing(sales_a, anna):
    before = (Interaction.objects.count(), Task.objects.count(), Event.objects.count())
    cases = [
        ({"type": "fax", "contact_id": anna.id}, "type"),
        ({"type": "call", "contact_id": anna.id, "outcome": "x" * 501}, "outcome"),
        ({"type": "call", "contact_id": anna.id, "duration_seconds": -1}, "duration_seconds"),
        ({"type": "note", "contact_id": anna.id, "body": "a\x00b"}, "body"),
        ({"type": "call", "contact_id": anna.id,
          "occurred_at": (timezone.now() + dt.timedelta(days=3)).isoformat()}, "occurred_at"),
        ({"type": "meeting", "contact_id": anna.id, "occurred_at": "2026-05-01T10:00",
          "ends_at": "2026-05-01T09:00"}, "ends_at"),
        ({"type": "call", "contact_id": anna.id, "company_id": 999999}, "company_id"),
        ({"type": "call", "contact_id": anna.id, "follow_up": {"title": "", "due_at": "x"}},
         "follow_up.title"),
        ({"type": "call", "contact_id": anna.id, "shoe_size": 9}, "shoe_size"),
    ]
    for data, field in cases:
        with pytest.raises(ValidationFailed) as failure:
            services.interaction_log(actor=sales_a, data=data)
        assert field in failure.value.errors, (field, failure.value.errors)
    assert (Interaction.objects.count(), Task.objects.count(), Event.objects.count()) == before


def test_a_failed_follow_up_rolls_the_call_back(sales_a, anna, sales_b):
    with pytest.raises(ValidationFailed) as failure:
        services.interaction_log(actor=sales_a, data={
            "type": "call", "contact_id": anna.id,
            "follow_up": {"title": "x" * 201, "due_at": "2026-06-12T10:00"}})
    assert list(failure.value.errors) == ["follow_up.title"]
    assert Interaction.objects.count() == 0


def test_who_sees_and_logs_what(sales_a, sales_a2, sales_b, manager_a, owner, anna):
    call = services.interaction_log(actor=sales_a, data={"type": "call", "contact_id": anna.id})
    # The same team sees it and may log their own; the other team cannot even see the person.
    assert selectors.interaction_get(user=sales_a2, interaction_id=call.id).id == call.id
    services.interaction_log(actor=sales_a2, data={"type": "note", "contact_id": anna.id,
                                                   "body": "Sara met her at the market"})
    with pytest.raises(NotFound):
        selectors.interaction_get(user=sales_b, interaction_id=call.id)
    with pytest.raises(NotFound):
        services.interaction_log(actor=sales_b, data={"type": "call", "contact_id": anna.id})
    # Changing counts from who logged it: a teammate may not, the manager and owner may.
    with pytest.raises(PermissionDenied):
        services.interaction_update(actor=sales_a2, interaction_id=call.id, version=1,
                                    changes={"outcome": "hijacked"})
    services.interaction_update(actor=manager_a, interaction_id=call.id, version=1,
                                changes={"outcome": "left a message"})
    with pytest.raises(VersionConflict):
        services.interaction_update(actor=owner, interaction_id=call.id, version=1,
                                    changes={"outcome": "late"})
    listed = selectors.interaction_list(user=sales_b, params={}).items
    assert listed == []
    support = make_user("lena@bakery.example.com", "support")
    assert len(selectors.interaction_list(user=support, params={}).items) == 2


def test_editing_checks_the_whole_record_again(sales_a, anna):
    meeting = services.interaction_log(actor=sales_a, data={
        "type": "meeting", "contact_id": anna.id, "occurred_at": "2026-05-01T10:00",
        "ends_at": "2026-05-01T11:00", "location": "Alder Café"})
    with pytest.raises(ValidationFailed) as failure:
        services.interaction_update(actor=sales_a, interaction_id=meeting.id, version=1,
                                    changes={"occurred_at": "2026-05-01T12:00"})
    assert list(failure.value.errors) == ["ends_at"]
    with pytest.raises(ValidationFailed) as failure:
        services.interaction_update(actor=sales_a, interaction_id=meeting.id, version=1,
                                    changes={"type": None})
    assert failure.value.errors == {"type": ["is required"]}
    saved = services.interaction_update(actor=sales_a, interaction_id=meeting.id, version=1,
                                        changes={"subject": "Tasting"})
    assert (saved.version, saved.subject) == (2, "Tasting")
    edit = Event.objects.get(kind="interaction.updated")
    assert (edit.before, edit.after) == ({"subject": ""}, {"subject": "Tasting"})
    services.interaction_delete(actor=sales_a, interaction_id=meeting.id)
    with pytest.raises(NotFound):
        selectors.interaction_get(user=sales_a, interaction_id=meeting.id)
    assert timeline_kinds(sales_a, anna)[0] == "interaction.deleted"


def test_email_html_is_sanitised_and_threading_kept(sales_a, anna):
    email = services.interaction_log(actor=sales_a, data={
        "type": "email", "contact_id": anna.id, "direction": "inbound",
        "subject": "Re: wholesale prices", "body": "Thanks!",
        "body_html": '<p onclick="x()">Thanks!<script>alert(1)</script></p>',
        "message_id": "<abc@mail.example.com>", "in_reply_to": "<xyz@bakery.example.com>",
        "from_address": "anna@alder.example.com", "to_addresses": "sam@bakery.example.com"})
    assert email.body_html == "<p>Thanks!</p>"
    assert email.to_addresses == ["sam@bakery.example.com"]
    assert selectors.headline(email) == "Re: wholesale prices"


def test_tasks_complete_onto_the_timeline_and_repeat(sales_a, anna):
    zone = ZoneInfo("UTC")
    task = services.task_create(actor=sales_a, data={
        "title": "Check the standing order", "due_at": "2026-03-31T10:00", "contact_id": anna.id,
        "recurrence": "monthly", "priority": "high"})
    assert (task.priority, task.company_id) == (3, anna.company_id)
    now = dt.datetime(2026, 4, 2, 9, 0, tzinfo=zone)
    services.task_complete(actor=sales_a, task_id=task.id, now=now)
    services.task_complete(actor=sales_a, task_id=task.id, now=now)  # once is enough
    following = Task.objects.exclude(id=task.id).get()
    # The 31st of a month without one is its last day; the next after now is 30 April.
    assert following.due_at == dt.datetime(2026, 4, 30, 10, 0, tzinfo=zone)
    assert following.completed_at is None
    assert sorted(timeline_kinds(sales_a, anna)) == ["contact.created", "task.completed",
                                                     "task.created", "task.created"]
    assert Event.objects.filter(kind="task.completed").count() == 1


def test_next_due_keeps_the_wall_clock_across_daylight_saving(settings):
    settings.TIME_ZONE = "Europe/Berlin"
    berlin = ZoneInfo("Europe/Berlin")
    due = dt.datetime(2026, 3, 28, 10, 0, tzinfo=berlin)  # the day before clocks go forward
    after = services.next_due(due, "daily", after=due)
    assert after == dt.datetime(2026, 3, 29, 10, 0, tzinfo=berlin)
    assert after.utcoffset() == dt.timedelta(hours=2)
    assert services.next_due(due, "weekly", after=due + dt.timedelta(days=10)) == \
        dt.datetime(2026, 4, 11, 10, 0, tzinfo=berlin)


def test_task_permissions_and_assigning(sales_a, sales_a2, sales_b, manager_a, anna):
    task = services.task_create(actor=sales_a, data={"title": "Quote", "due_at": "2026-06-12"})
    assert task.assignee_id == sales_a.id
    # Teammates see it but only its assignee (and the manager) change it.
    assert selectors.task_get(user=sales_a2, task_id=task.id).id == task.id
    with pytest.raises(PermissionDenied):
        services.task_complete(actor=sales_a2, task_id=task.id)
    with pytest.raises(NotFound):
        services.task_complete(actor=sales_b, task_id=task.id)
    services.task_update(actor=manager_a, task_id=task.id, version=1,
                         changes={"assignee_id": sales_a2.id})
    with pytest.raises(PermissionDenied):  # the other team is out of reach
        services.task_create(actor=sales_a, data={"title": "x", "due_at": "2026-06-12",
                                                  "assignee_id": sales_b.id})
    with pytest.raises(ValidationFailed) as failure:
        services.task_create(actor=sales_a, data={"title": "x", "due_at": "2026-06-12",
                                                  "assignee_id": 999999})
    assert list(failure.value.errors) == ["assignee_id"]
    with pytest.raises(ValidationFailed) as failure:  # a person they cannot see
        bob_customer = contact_services.contact_create(actor=sales_b, data={"first_name": "Bo"})
        services.task_create(actor=sales_a, data={"title": "x", "due_at": "2026-06-12",
                                                  "contact_id": bob_customer.id})
    assert list(failure.value.errors) == ["contact_id"]


def test_all_day_tasks_are_due_at_the_days_start(settings, sales_a):
    settings.TIME_ZONE = "America/Los_Angeles"
    task = services.task_create(actor=sales_a, data={
        "title": "Order flour", "due_at": "2026-06-12T17:45", "all_day": True})
    local = task.due_at.astimezone(ZoneInfo("America/Los_Angeles"))
    assert (local.date(), local.hour, local.minute) == (dt.date(2026, 6, 12), 0, 0)
    reminder = Reminder.objects.get(task=task)
    assert reminder.remind_at.astimezone(ZoneInfo("America/Los_Angeles")).hour == 7  # 8:00 - 15'


def test_one_reminder_follows_the_task(sales_a, sales_a2):
    task = services.task_create(actor=sales_a, data={
        "title": "Call Anna", "due_at": "2026-06-12T10:00", "remind_before": 60})
    reminder = Reminder.objects.get()
    assert (reminder.user_id, reminder.remind_at) == (
        sales_a.id, task.due_at - dt.timedelta(hours=1))
    task = services.task_update(actor=sales_a, task_id=task.id, version=1, changes={
        "due_at": "2026-06-13T10:00", "assignee_id": sales_a2.id})
    assert list(Reminder.objects.values_list("user_id", "due_at")) == [(sales_a2.id, task.due_at)]
    services.task_update(actor=sales_a2, task_id=task.id, version=2,
                         changes={"remind_before": None})
    assert not Reminder.objects.exists()


def test_the_bell_counts_reminders_that_have_come(sales_a):
    soon = timezone.now() + dt.timedelta(minutes=10)
    services.task_create(actor=sales_a, data={"title": "A", "due_at": soon.isoformat()})
    later = services.task_create(actor=sales_a, data={
        "title": "B", "due_at": (soon + dt.timedelta(days=2)).isoformat()})
    assert selectors.bell_count(user=sales_a) == 1
    assert selectors.bell_count(user=sales_a, now=soon + dt.timedelta(days=2)) == 2
    services.task_complete(actor=sales_a, task_id=later.id)
    assert selectors.bell_count(user=sales_a, now=soon + dt.timedelta(days=2)) == 1
    assert services.reminders_mark_seen(actor=sales_a) == 1
    assert selectors.bell_count(user=sales_a) == 0


def test_my_day_sorts_the_users_tasks(settings, sales_a, sales_a2):
    settings.TIME_ZONE = "UTC"
    now = dt.datetime(2026, 6, 10, 12, 0, tzinfo=dt.UTC)
    for title, due in [("late", "2026-06-09T10:00"), ("today", "2026-06-10T16:00"),
                       ("soon", "2026-06-12T09:00"), ("far", "2026-07-30T09:00")]:
        services.task_create(actor=sales_a, data={"title": title, "due_at": due})
    done = services.task_create(actor=sales_a, data={"title": "done", "due_at": "2026-06-10"})
    services.task_complete(actor=sales_a, task_id=done.id, now=now)
    services.task_create(actor=sales_a2, data={"title": "not mine", "due_at": "2026-06-10"})
    day = selectors.my_day(user=sales_a, now=now)
    assert [t.title for t in day.overdue] == ["late"]
    assert [t.title for t in day.due_today] == ["today"]
    assert [t.title for t in day.done_today] == ["done"]
    assert [t.title for t in day.upcoming] == ["soon"]


def test_follow_up_offer_names_the_person(settings):
    settings.TIME_ZONE = "UTC"
    now = dt.datetime(2026, 6, 10, 12, 0, tzinfo=dt.UTC)
    offer = selectors.follow_up_offer(text="call back Friday 10am", contact_name="Anna", now=now)
    assert (offer.title, offer.due_at, offer.all_day) == (
        "Call back — Anna", dt.datetime(2026, 6, 12, 10, 0, tzinfo=ZoneInfo("UTC")), False)
    assert selectors.follow_up_offer(text="in 2 days", contact_name="Anna", now=now).title == \
        "Follow up with Anna"
    assert selectors.follow_up_offer(text="lovely chat", contact_name="Anna", now=now) is None


def test_calendar_feed_tokens_are_hashed_and_revocable(sales_a):
    issued = services.calendar_feed_create(actor=sales_a)
    assert issued.raw not in str(list(issued.feed.__class__.objects.values()))
    assert selectors.feed_owner(raw_token=issued.raw) == sales_a
    again = services.calendar_feed_create(actor=sales_a)
    assert selectors.feed_owner(raw_token=issued.raw) is None
    services.calendar_feed_revoke(actor=sales_a)
    assert selectors.feed_owner(raw_token=again.raw) is None
    with pytest.raises(NotFound):
        services.calendar_feed_revoke(actor=sales_a)
