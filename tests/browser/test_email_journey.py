"""Email in a real Chromium: from a contact's page, pick a template, see the preview filled in
for the person, send it; the timeline shows it queued, then (after the worker) sent. The same
page at phone width, without sideways scrolling."""

from __future__ import annotations

import pytest
from django.core import mail
from playwright.sync_api import expect

from tests.browser.support import PHONE, login, make_user, shot

TEMPLATE = {"name": "Your pre-order is ready", "subject": "Your pre-order is ready",
            "body": "Hi {{ contact.first_name | default(\"there\") }},\n\nYour order is boxed "
                    "and waiting at the counter.\n{% if contact.preferences %}As you asked: "
                    "{{ contact.preferences | join(\"; \") }}.\n{% endif %}\n"
                    "See you soon,\n{{ user.first_name }}"}


def _page_width(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


@pytest.fixture
def sam(transactional_db):
    return make_user("sam@bakery.example.com", "sales", first_name="Sam", last_name="Reed")


@pytest.fixture
def anna(sam):
    from rapport.activities import services as activities
    from rapport.contacts import services

    activities.email_template_create(actor=sam, data=TEMPLATE)
    return services.contact_create(actor=sam, data={
        "first_name": "Anna", "last_name": "Berg", "emails": ["anna@alder.example.com"],
        "preferences": ["no sesame", "sliced"]})


def test_email_a_customer_from_a_template(page, server, sam, anna):
    login(page, server, "sam@bakery.example.com")
    page.goto(f"{server}/contacts/{anna.id}/")
    page.get_by_role("link", name="✉ Email").click()
    expect(page.locator("h1")).to_contain_text("Email Anna Berg")

    page.get_by_label("Template").select_option(label="Your pre-order is ready")
    expect(page.get_by_label("Subject")).to_have_value("Your pre-order is ready")
    preview = page.locator("#preview")
    expect(preview).to_contain_text("Hi Anna,")
    expect(preview).to_contain_text("As you asked: no sesame; sliced.")
    expect(preview).to_contain_text("See you soon,\nSam")
    shot(page, "email-compose-desktop")

    # A typo in a placeholder shows in the preview with its line, and nothing can go.
    body = page.get_by_label("Message")
    body.press("End")
    body.press("Control+End")
    body.type("\n{{ contact.nickname }}")
    expect(preview).to_contain_text("unknown variable 'contact.nickname'")
    shot(page, "email-compose-error", full_page=False)
    body.press("Control+End")
    for _ in range(len("\n{{ contact.nickname }}")):
        body.press("Backspace")
    expect(preview).to_contain_text("See you soon,\nSam")

    page.get_by_role("button", name="Send").click()
    expect(page.locator(".messages")).to_contain_text("queued")
    timeline = page.locator("#timeline")
    expect(timeline).to_contain_text("Email queued")
    expect(page.locator("#log .outbound")).to_contain_text("queued")

    from rapport.activities import services

    assert services.send_pending_emails() == 1  # the worker's sweep
    assert [m.to for m in mail.outbox] == [["anna@alder.example.com"]]
    page.reload()
    expect(timeline).to_contain_text("Your pre-order is ready")
    expect(page.locator("#log .outbound")).to_have_count(0)
    shot(page, "email-contact-timeline-sent")


def test_compose_at_phone_width(browser, server, sam, anna):
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True,
                                  has_touch=True, locale="en-GB")
    phone = context.new_page()
    phone.set_default_timeout(5_000)
    try:
        login(phone, server, "sam@bakery.example.com")
        phone.goto(f"{server}/contacts/{anna.id}/email/")
        phone.get_by_label("Template").select_option(label="Your pre-order is ready")
        expect(phone.locator("#preview")).to_contain_text("Hi Anna,")
        shot(phone, "email-compose-phone")
        assert _page_width(phone) <= PHONE["width"]
        phone.goto(f"{server}/settings/email-templates/")
        assert _page_width(phone) <= PHONE["width"]
    finally:
        context.close()
