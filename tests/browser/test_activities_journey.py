"""Activities in a real Chromium: log a call, create a task from it, see it in My day,
complete it, and see both on the person's timeline; the same pages at phone width."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.support import PHONE, login, make_user, shot


def _page_width(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


@pytest.fixture
def sam(transactional_db):
    return make_user("sam@bakery.example.com", "sales", first_name="Sam", last_name="Reed")


@pytest.fixture
def anna(sam):
    from rapport.contacts import services

    cafe = services.company_create(actor=sam, data={"name": "Alder Street Café"})
    return services.contact_create(actor=sam, data={
        "first_name": "Anna", "last_name": "Berg", "company_id": cafe.id,
        "phones": ["+1 503 555 0142"]})


def test_log_a_call_make_a_task_of_it_and_complete_it(page, server, sam, anna):
    # Sales land on My day.
    login(page, server, "sam@bakery.example.com")
    expect(page).to_have_url(f"{server}/my-day/")
    expect(page.locator("h1")).to_contain_text("My day")

    # Two clicks and one text box: open "Call", type the outcome, log it. The outcome names
    # a time, so the form offers the follow-up task, which one more tick accepts.
    page.goto(f"{server}/contacts/{anna.id}/")
    page.locator("#log summary", has_text="Call").click()
    outcome = page.get_by_label("Outcome")
    outcome.press_sequentially("wants 2 more cases; call back Friday 10am", delay=15)
    offer = page.locator(".offer")
    expect(offer).to_contain_text("Also create a task: Call back")
    expect(offer).to_contain_text("10:00")
    shot(page, "activities-log-call-offer", full_page=False)
    offer.get_by_role("checkbox").check()
    page.get_by_role("button", name="Log call").click()
    expect(page.locator(".messages")).to_contain_text("Call logged. Task created.")
    timeline = page.locator("#timeline")
    expect(timeline).to_contain_text("wants 2 more cases; call back Friday 10am")
    expect(timeline).to_contain_text("Task: Call back — Anna")
    expect(page.locator("#log .tasks")).to_contain_text("Call back — Anna")

    # My day shows it under Upcoming (Friday is within the week, never today).
    page.get_by_role("link", name="My day").first.click()
    task = page.locator("#upcoming li", has_text="Call back — Anna")
    expect(task).to_be_visible()
    expect(task).to_contain_text("Anna Berg")
    shot(page, "activities-my-day")
    task.get_by_role("button", name=re.compile("Complete")).click()
    expect(page.locator(".messages")).to_contain_text("Done: Call back — Anna.")
    done = page.locator("#today li.done", has_text="Call back — Anna")
    expect(done).to_be_visible()  # done today: still there, faded
    assert float(done.evaluate("e => getComputedStyle(e).opacity")) < 1
    shot(page, "activities-my-day-done")

    # Both the call and the completed task are on Anna's timeline.
    page.goto(f"{server}/contacts/{anna.id}/")
    expect(timeline).to_contain_text("✓ Done: Call back — Anna")
    expect(timeline).to_contain_text("Call (outbound)")
    expect(page.locator("#log .tasks")).to_contain_text("None.")
    shot(page, "activities-contact-timeline")

    # The company page shows its people's conversations; the list filters by type.
    page.goto(f"{server}/companies/{anna.company_id}/")
    expect(page.locator("#company-activity")).to_contain_text("wants 2 more cases")
    page.goto(f"{server}/interactions/?type=call")
    expect(page.locator("table.list")).to_contain_text("Anna Berg")
    shot(page, "activities-interaction-list")


def test_the_bell_and_the_pages_at_phone_width(browser, server, sam, anna):
    from django.utils import timezone

    from rapport.activities import services

    services.task_create(actor=sam, data={
        "title": "Bring samples to the café", "contact_id": anna.id,
        "due_at": (timezone.now() + timezone.timedelta(minutes=10)).isoformat()})
    services.interaction_log(actor=sam, data={
        "type": "meeting", "contact_id": anna.id, "subject": "Tasting of the new pastries",
        "occurred_at": timezone.now().isoformat(), "location": "Alder Street Café",
        "ends_at": (timezone.now() + timezone.timedelta(hours=1)).isoformat()})
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True,
                                  has_touch=True, locale="en-GB")
    phone = context.new_page()
    phone.set_default_timeout(5_000)
    try:
        login(phone, server, "sam@bakery.example.com")
        bell = phone.locator(".bell")
        expect(bell.locator(".count")).to_have_text("1")  # loaded by htmx
        shot(phone, "activities-phone-my-day")
        assert _page_width(phone) <= PHONE["width"]
        for path, name in ((f"/contacts/{anna.id}/", "contact"), ("/interactions/", "list"),
                           ("/tasks/new/", "task-form"), ("/reminders/", "reminders"),
                           ("/settings/calendar/", "calendar")):
            phone.goto(f"{server}{path}")
            if name == "contact":
                phone.locator("#log summary", has_text="Call").click()
            shot(phone, f"activities-phone-{name}")
            assert _page_width(phone) <= PHONE["width"], path
        phone.goto(f"{server}/reminders/")
        expect(phone.locator("ul.tasks")).to_contain_text("Bring samples to the café")
        phone.get_by_role("button", name="Mark all as seen").click()
        expect(phone.locator(".bell")).not_to_contain_text("1")
    finally:
        context.close()
