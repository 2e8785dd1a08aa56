"""Sequences in a real Chromium: the owner makes a two-step sequence on its page, a rep enrols
a lead from the lead page and sees where it is; the pages at desktop and phone width with
nothing scrolling sideways."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.support import PHONE, login, make_user, shot


@pytest.fixture
def setup(transactional_db):
    from rapport.activities import services as activities
    from rapport.sales import services

    owner = make_user("olivia@bakery.example.com", "owner", first_name="Olivia",
                      last_name="Baker")
    sam = make_user("sam@bakery.example.com", "sales", team="nordics", first_name="Sam",
                    last_name="Berg")
    activities.email_template_create(actor=owner, data={
        "name": "Welcome", "subject": "Welcome, {{ contact.first_name | default('there') }}",
        "body": "Hi {{ contact.first_name | default('there') }}, thanks for asking."})
    services.assignment_rule_create(actor=owner, data={
        "name": "Sam", "method": "user", "user_id": sam.id})
    lead = services.lead_capture(actor=owner, data={
        "name": "Anna Lind", "email": "anna@lind-cafe.se", "company_name": "Lind Café"}).lead
    return owner, sam, lead


def _wide(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


def test_make_a_sequence_and_enrol_a_lead(page, browser, server, setup):
    owner, sam, lead = setup
    login(page, server, "olivia@bakery.example.com")
    page.goto(f"{server}/sequences/")
    expect(page.locator("#sequences")).to_contain_text("No sequences yet")
    page.get_by_role("link", name="New sequence").click()
    page.get_by_label("Name", exact=True).fill("Welcome")
    # A task step without its title first: refused beside its row, nothing saved.
    page.locator('select[name="step-0-kind"]').select_option("email")
    page.locator('select[name="step-0-template_id"]').select_option(label="Welcome")
    page.locator('select[name="step-1-kind"]').select_option("task")
    page.locator('input[name="step-1-wait_days"]').fill("2")
    page.get_by_role("button", name="Save sequence").click()
    expect(page.locator("#steps .error")).to_contain_text("is required for a task step")
    shot(page, "sequences-edit-error-desktop")
    assert _wide(page) <= 1280
    page.locator('input[name="step-1-task_title"]').fill("Call Anna about a tasting")
    page.get_by_role("button", name="Save sequence").click()
    expect(page.locator(".messages")).to_contain_text("Sequence Welcome saved")
    expect(page.locator("#sequences")).to_contain_text("Welcome")
    shot(page, "sequences-list-desktop")
    assert _wide(page) <= 1280

    page.context.clear_cookies()
    login(page, server, "sam@bakery.example.com")
    page.goto(f"{server}/leads/{lead.id}/")
    expect(page.locator("#sequences")).to_contain_text("Not in any sequence")
    page.locator("#enrol").get_by_label("Sequence").select_option(label="Welcome")
    page.get_by_role("button", name="Enrol in sequence").click()
    expect(page.locator(".messages")).to_contain_text("Enrolled in Welcome")
    expect(page.locator("#sequences")).to_contain_text("step 1 of 2 (send an email) next at")
    expect(page.locator("#timeline")).to_contain_text("Enrolled in the sequence Welcome")
    shot(page, "sequences-lead-enrolled-desktop")
    assert _wide(page) <= 1280

    with browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True,
                             has_touch=True) as phone_context:
        phone = phone_context.new_page()
        login(phone, server, "olivia@bakery.example.com")
        from rapport.sales.models import Sequence

        sequence_id = Sequence.objects.get().id
        for path, name in (("/sequences/", "sequences-list-phone"),
                           ("/sequences/new/", "sequences-new-phone"),
                           (f"/sequences/{sequence_id}/", "sequences-edit-phone"),
                           (f"/leads/{lead.id}/", "sequences-lead-phone")):
            phone.goto(f"{server}{path}")
            shot(phone, name)
            assert _wide(phone) <= PHONE["width"], name
        expect(phone.locator("#sequences")).to_contain_text("step 1 of 2")

    page.get_by_role("button", name="Take out").click()
    expect(page.locator("#sequences")).to_contain_text("taken out by Sam Berg")
