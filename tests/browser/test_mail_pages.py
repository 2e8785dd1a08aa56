"""Captured email in a real Chromium: a forwarded message on the person's timeline and its page
(sanitised HTML, attachments, the thread), and the "Email in" settings page where the owner sets
the IMAP mailbox; both at desktop and phone width (nothing scrolls sideways)."""

from __future__ import annotations

from email.message import EmailMessage

import pytest
from playwright.sync_api import expect

from tests.browser.support import PHONE, login, make_user, shot


@pytest.fixture
def owner(transactional_db):
    return make_user("olive@bakery.example.com", "owner", first_name="Olive", last_name="Baker")


@pytest.fixture
def margaret(owner):
    from rapport.contacts import services

    return services.contact_create(actor=owner, data={
        "first_name": "Margaret", "last_name": "Lane", "emails": ["margaret@lane.example"]})


def _forwarded(margaret):
    from rapport.activities import services

    first = EmailMessage()
    first["From"], first["To"] = "Margaret Lane <margaret@lane.example>", "orders@bakery.example"
    first["Subject"], first["Message-ID"] = "Wedding cake for 12 June", "<w1@lane.example>"
    first.set_content("Could you make a three-tier lemon cake for 80 guests?")
    services.mail_ingest(raw=first.as_bytes(), source="smtp")
    reply = EmailMessage()
    reply["From"], reply["To"] = "Margaret Lane <margaret@lane.example>", "orders@bakery.example"
    reply["Subject"], reply["Message-ID"] = "Re: Wedding cake for 12 June", "<w2@lane.example>"
    reply["In-Reply-To"] = reply["References"] = "<w1@lane.example>"
    reply.set_content("Here is the design we like.")
    reply.add_alternative(
        "<p>Here is the <b>design</b> we like — a very long line without spaces: "
        + "lemon" * 60 + '<script>alert("x")</script>'
        '<img src="https://tracker.example/pixel.gif" width="1" height="1"></p>'
        "<table><tr><td>Tier</td><td>Flavour</td></tr><tr><td>1</td><td>Lemon</td></tr></table>",
        subtype="html")
    reply.add_attachment(b"%PDF-1.4 design", maintype="application", subtype="pdf",
                         filename="cake-design.pdf")
    result = services.mail_ingest(raw=reply.as_bytes(), source="smtp")
    return result.interaction_ids[0]


def test_a_forwarded_email_on_the_timeline_and_its_page(page, browser, server, owner,
                                                        margaret):
    interaction_id = _forwarded(margaret)
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    login(page, server, "olive@bakery.example.com")
    page.goto(f"{server}/contacts/{margaret.id}/")
    expect(page.locator("body")).to_contain_text("Re: Wedding cake for 12 June")
    page.goto(f"{server}/interactions/{interaction_id}/")
    expect(page.locator(".email-html b")).to_have_text("design")
    expect(page.get_by_role("link", name="cake-design.pdf")).to_be_visible()
    expect(page.get_by_role("link", name="Wedding cake for 12 June")).to_be_visible()
    assert page.locator(".email-html img, .email-html script").count() == 0
    shot(page, "mail-email-desktop")
    with page.expect_download() as download:
        page.get_by_role("link", name="cake-design.pdf").click()
    assert download.value.suggested_filename == "cake-design.pdf"
    assert dialogs == []  # the script never ran

    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True,
                                  has_touch=True, locale="en-GB")
    phone = context.new_page()
    try:
        login(phone, server, "olive@bakery.example.com")
        phone.goto(f"{server}/interactions/{interaction_id}/")
        shot(phone, "mail-email-phone")
        assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    finally:
        context.close()


def test_the_owner_sets_the_mailbox_on_the_email_in_page(page, browser, server, owner):
    from rapport.activities import services
    from rapport.activities.models import Mailbox

    services.mail_ingest(raw=b"From: robot@spam.example\r\nAuto-Submitted: auto-replied\r\n"
                             b"Subject: Out of office\r\n\r\nI am away", source="smtp")
    login(page, server, "olive@bakery.example.com")
    page.goto(f"{server}/settings/")
    page.get_by_role("link", name="Email in").click()
    expect(page.locator("h1")).to_have_text("Email in")
    expect(page.locator("table")).to_contain_text("automatic message")
    page.get_by_label("Server", exact=True).fill("imap.bakery.example")
    page.get_by_label("Port").fill("not a port")
    page.get_by_label("User name").fill("orders@bakery.example")
    page.get_by_label("Password").fill("app-password-1")
    page.get_by_role("button", name="Save mailbox").click()
    expect(page.locator(".error").first).to_contain_text("nothing was saved")
    assert not Mailbox.objects.exists()
    page.get_by_label("Port").fill("993")
    page.get_by_label("Password").fill("app-password-1")
    page.get_by_role("button", name="Save mailbox").click()
    expect(page.locator("body")).to_contain_text("Mailbox saved")
    assert Mailbox.objects.get().username == "orders@bakery.example"
    assert "app-password-1" not in page.content()
    shot(page, "mail-settings-desktop")

    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True,
                                  has_touch=True, locale="en-GB")
    phone = context.new_page()
    try:
        login(phone, server, "olive@bakery.example.com")
        phone.goto(f"{server}/settings/mail/")
        shot(phone, "mail-settings-phone")
        assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    finally:
        context.close()
