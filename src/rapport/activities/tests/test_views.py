"""The pages: quick logging on the contact page, the follow-up offer, My day as the landing page
of sales and support, the bell, the company page, the calendar feed and meeting files."""

import datetime as dt

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from icalendar import Calendar

from rapport.activities import events, services
from rapport.activities.models import Interaction, Task
from rapport.activities.services.interactions import shown
from rapport.core.events import record_events

pytestmark = pytest.mark.django_db


def test_a_call_is_two_clicks_and_one_text_box_from_the_contact_page(sales_a, web_as, anna):
    web = web_as(sales_a)
    page = web.get(f"/contacts/{anna.id}/").content.decode()
    assert "☎ Call" in page and 'name="outcome"' in page
    response = web.post(f"/contacts/{anna.id}/log/", {
        "type": "call", "direction": "outbound", "outcome": "Left a message"})
    assert response.status_code == 302 and response.url == f"/contacts/{anna.id}/"
    page = web.get(response.url).content.decode()
    assert "Call logged." in page and "Left a message" in page  # on the timeline
    call = Interaction.objects.get()
    assert (call.type, call.direction, call.author_id) == ("call", "outbound", sales_a.id)


def test_the_outcome_offers_the_task_and_the_log_creates_it(settings, sales_a, web_as, anna):
    web = web_as(sales_a)
    hint = web.get("/interactions/follow-up/", {"outcome": "call back Friday 10am",
                                                "name": "Anna"}).content.decode()
    assert "Also create a task: <strong>Call back — Anna</strong>" in hint
    assert 'name="follow_up_due"' in hint
    assert web.get("/interactions/follow-up/", {"outcome": "all good"}).content.strip() == b""
    due = (timezone.localtime() + dt.timedelta(days=2)).replace(hour=10, minute=0)
    web.post(f"/contacts/{anna.id}/log/", {
        "type": "call", "outcome": "call back Friday 10am", "follow_up": "on",
        "follow_up_title": "Call back — Anna", "follow_up_all_day": "0",
        "follow_up_due": due.strftime("%Y-%m-%dT%H:%M")})
    task = Task.objects.get()
    assert (task.title, task.contact_id, task.due_at) == ("Call back — Anna", anna.id,
                                                           due.replace(second=0, microsecond=0))
    assert task.interaction_id == Interaction.objects.get().id


def test_a_bad_quick_log_says_why_and_saves_nothing(sales_a, web_as, anna):
    response = web_as(sales_a).post(f"/contacts/{anna.id}/log/", {
        "type": "call", "outcome": "x" * 501}, follow=True)
    assert "must be at most 500 characters" in response.content.decode()
    assert not Interaction.objects.exists()


def test_the_full_form_shows_errors_by_field(sales_a, web_as, anna):
    web = web_as(sales_a)
    response = web.post(f"/contacts/{anna.id}/interactions/new/", {
        "type": "meeting", "occurred_at": "2026-05-01T10:00", "ends_at": "2026-05-01T09:00",
        "location": "Alder Café", "attendees": "anna@alder.example.com, Sam"})
    assert response.status_code == 422
    assert "must not be before the start" in response.content.decode()
    response = web.post(f"/contacts/{anna.id}/interactions/new/", {
        "type": "meeting", "occurred_at": "2026-05-01T10:00", "ends_at": "2026-05-01T11:00",
        "location": "Alder Café", "attendees": "anna@alder.example.com, Sam",
        "subject": "Tasting"})
    assert response.status_code == 302
    meeting = Interaction.objects.get()
    assert meeting.attendees == ["anna@alder.example.com", "Sam"]
    ics = web.get(f"/interactions/{meeting.id}/meeting.ics")
    assert ics["Content-Type"].startswith("text/calendar")
    event = Calendar.from_ical(ics.content).walk("VEVENT")[0]
    assert (str(event["SUMMARY"]), str(event["LOCATION"])) == ("Tasting", "Alder Café")
    assert event.decoded("DTEND") - event.decoded("DTSTART") == dt.timedelta(hours=1)
    assert str(event["ATTENDEE"]) == "mailto:anna@alder.example.com"  # "Sam" has no address
    edit = web.post(f"/interactions/{meeting.id}/edit/", {
        "version": "1", "type": "meeting", "occurred_at": "2026-05-01T10:00",
        "ends_at": "2026-05-01T11:30", "location": "Alder Café", "subject": "Tasting"})
    assert edit.status_code == 302
    stale = web.post(f"/interactions/{meeting.id}/edit/", {
        "version": "1", "type": "meeting", "occurred_at": "2026-05-01T10:00"})
    assert stale.status_code == 409


def test_others_get_404_and_403(sales_a, sales_a2, sales_b, web_as, anna):
    call = services.interaction_log(actor=sales_a, data={"type": "call", "contact_id": anna.id})
    assert web_as(sales_b).get(f"/interactions/{call.id}/").status_code == 404
    assert web_as(sales_b).post(f"/contacts/{anna.id}/log/", {"type": "note",
                                                              "body": "x"}).status_code == 404
    assert web_as(sales_a2).get(f"/interactions/{call.id}/").status_code == 200
    assert web_as(sales_a2).post(f"/interactions/{call.id}/delete/").status_code == 403
    assert Interaction.objects.filter(deleted_at__isnull=True).count() == 1


def test_sales_land_on_my_day_others_on_home(owner, sales_a, web_as):
    # (The support role lands on the help desk's ticket list: support/tests/test_desk_views.py.)
    assert web_as(sales_a).get("/").url == "/my-day/"
    home = web_as(owner).get("/")
    assert home.status_code == 200 and "Your day" in home.content.decode()


def test_my_day_ticks_tasks_off_and_logs_them(sales_a, web_as, anna):
    web = web_as(sales_a)
    now = timezone.localtime()
    overdue = services.task_create(actor=sales_a, data={
        "title": "Chase the invoice", "due_at": (now - dt.timedelta(days=2)).isoformat(),
        "contact_id": anna.id})
    page = web.get("/my-day/").content.decode()
    assert "Chase the invoice" in page and 'id="overdue"' in page
    web.post(f"/tasks/{overdue.id}/done/", {"next": "/my-day/"})
    page = web.get("/my-day/").content.decode()
    assert 'class="task prio-normal done"' in page  # done today: still there, faded
    timeline = web.get(f"/contacts/{anna.id}/").content.decode()
    assert "✓ Done: Chase the invoice" in timeline


def test_task_form_round_trip(sales_a, web_as, anna):
    web = web_as(sales_a)
    form = web.get(f"/tasks/new/?contact_id={anna.id}&title=Quote").content.decode()
    assert 'value="Quote"' in form and "Anna Berg" in form
    bad = web.post("/tasks/new/", {"title": "", "due_date": "", "priority": "normal",
                                   "contact_id": str(anna.id)})
    assert bad.status_code == 422 and "is required" in bad.content.decode()
    good = web.post("/tasks/new/", {"title": "Quote", "due_date": "2026-06-12",
                                    "due_time": "", "priority": "high", "recurrence": "weekly",
                                    "remind_before": "60", "contact_id": str(anna.id),
                                    "assignee_id": str(sales_a.id)})
    assert good.status_code == 302
    task = Task.objects.get()
    assert (task.all_day, task.priority, task.recurrence, task.remind_before) == (
        True, 3, "weekly", 60)
    listed = web.get("/tasks/?assignee=me").content.decode()
    assert "Quote" in listed


def test_the_bell_counts_by_htmx(sales_a, web_as):
    web = web_as(sales_a)
    page = web.get("/contacts/").content.decode()
    assert 'hx-get="/reminders/bell/"' in page  # every page's top bar, by the registry
    assert "count" not in web.get("/reminders/bell/").content.decode()
    services.task_create(actor=sales_a, data={
        "title": "Soon", "due_at": (timezone.now() + dt.timedelta(minutes=5)).isoformat()})
    assert '<span class="count"' in web.get("/reminders/bell/").content.decode()
    web.post("/reminders/")
    assert "count" not in web.get("/reminders/bell/").content.decode()


def test_the_company_page_shows_its_peoples_conversations(sales_a, web_as, anna):
    services.interaction_log(actor=sales_a, data={"type": "call", "contact_id": anna.id,
                                                  "outcome": "Standing order confirmed"})
    page = web_as(sales_a).get(f"/companies/{anna.company_id}/").content.decode()
    assert "Conversations with Alder Café" in page and "Standing order confirmed" in page
    listed = web_as(sales_a).get(f"/interactions/?company={anna.company_id}").content.decode()
    assert "Standing order confirmed" in listed


def test_the_interaction_list_filters_by_type_person_and_date(sales_a, web_as, anna):
    for n, kind in enumerate(("call", "email", "note")):
        services.interaction_log(actor=sales_a, data={
            "type": kind, "contact_id": anna.id, "subject": f"{kind} subject",
            "occurred_at": f"2026-05-0{n + 1}T10:00"})
    web = web_as(sales_a)
    page = web.get("/interactions/", {"type": "email"}).content.decode()
    assert "email subject" in page and "call subject" not in page
    page = web.get("/interactions/", {"contact": anna.id, "since": "2026-05-02",
                                      "until": "2026-05-02"}).content.decode()
    assert "email subject" in page and "note subject" not in page
    bad = web.get("/interactions/", {"since": "May"}).content.decode()
    assert "must be a date" in bad


def test_the_calendar_feed_is_read_back_by_icalendar(sales_a, web_as, anna):
    services.task_create(actor=sales_a, data={"title": "Quote", "due_at": "2026-06-12T10:00",
                                              "contact_id": anna.id})
    services.task_create(actor=sales_a, data={"title": "Order flour", "due_at": "2026-06-13",
                                              "all_day": True})
    services.interaction_log(actor=sales_a, data={
        "type": "meeting", "contact_id": anna.id, "subject": "Tasting",
        "occurred_at": (timezone.now() + dt.timedelta(days=3)).isoformat(),
        "location": "Alder Café"})
    web = web_as(sales_a)
    page = web.post("/settings/calendar/", {"action": "create"}).content.decode()
    url = page.split('<pre id="feed-url">')[1].split("</pre>")[0]
    path = url.removeprefix("http://testserver")
    feed = Client().get(path)  # no session: the address is the key
    assert feed.status_code == 200 and feed["Content-Type"].startswith("text/calendar")
    calendar = Calendar.from_ical(feed.content)
    assert str(calendar["PRODID"]) == "-//Rapport//Rapport CRM//EN"
    items = {str(e["SUMMARY"]): e for e in calendar.walk("VEVENT")}
    assert set(items) == {"☐ Quote", "☐ Order flour", "Tasting"}
    assert items["☐ Quote"].decoded("DTSTART") == dt.datetime(2026, 6, 12, 10, 0,
                                                                tzinfo=dt.UTC)
    assert items["☐ Order flour"].decoded("DTSTART") == dt.date(2026, 6, 13)
    assert str(items["Tasting"]["LOCATION"]) == "Alder Café"
    assert len({str(e["UID"]) for e in items.values()}) == 3
    web.post("/settings/calendar/", {"action": "revoke"})
    assert Client().get(path).status_code == 404
    assert Client().get("/calendar/rcal_guess.ics").status_code == 404


def test_the_contact_page_costs_the_same_with_2000_interactions(sales_a, web_as, anna):
    web = web_as(sales_a)

    def cost() -> int:
        web.get(f"/contacts/{anna.id}/")
        with CaptureQueriesContext(connection) as captured:
            assert web.get(f"/contacts/{anna.id}/").status_code == 200
        return len(captured.captured_queries)

    services.interaction_log(actor=sales_a, data={"type": "call", "contact_id": anna.id})
    services.task_create(actor=sales_a, data={"title": "T", "due_at": "2026-06-12",
                                              "contact_id": anna.id})
    few = cost()
    start = timezone.now() - dt.timedelta(days=400)
    calls = Interaction.objects.bulk_create([
        Interaction(type="call", contact_id=anna.id, company_id=anna.company_id,
                    author_id=sales_a.id, occurred_at=start + dt.timedelta(hours=n),
                    outcome=f"call {n}") for n in range(2000)])
    record_events(events.interaction_logged(interaction_id=c.id, contact_id=anna.id,
                                            actor_id=sales_a.id, occurred_at=c.occurred_at,
                                            shown=shown(c)) for c in calls)
    for n in range(20):
        services.task_create(actor=sales_a, data={"title": f"T{n}", "due_at": "2026-06-12",
                                                  "contact_id": anna.id})
    assert cost() == few
