"""The help desk in a real Chromium: a customer asks through the public support form; the
support agent lands on the ticket list, opens the ticket, replies and closes it; the reply and
the satisfaction survey go out through a real SMTP server (aiosmtpd), and the survey's link
records the score and a comment. Every desk page at desktop and at 390 px without sideways
scrolling."""

from __future__ import annotations

import email
import email.policy
import re

import pytest
from aiosmtpd.controller import Controller
from playwright.sync_api import expect

from tests.browser.support import DESKTOP, PHONE, login, make_user, shot


def width(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


@pytest.fixture
def sink(transactional_db):
    from rapport.activities.models import OutgoingMail
    from rapport.activities.tests.test_outbound import Inbox, _free_port

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    OutgoingMail.objects.create(host="127.0.0.1", port=controller.port,
                                from_email="help@bakery.example.com",
                                business_name="Alder Bakery")
    yield inbox
    controller.stop()


def mails(inbox):
    from rapport.activities.services import send_pending_emails

    send_pending_emails()  # the worker's sweep
    return [email.message_from_bytes(m.original_content, policy=email.policy.default)
            for m in inbox.messages]


@pytest.fixture
def desk(transactional_db):
    owner = make_user("olivia@bakery.example.com", "owner", first_name="Olivia",
                      last_name="Baker")
    ada = make_user("ada@bakery.example.com", "support", first_name="Ada", last_name="Lind")
    return owner, ada


def test_agent_answers_closes_and_the_customer_rates(page, browser, server, desk, sink):
    from rapport.support.models import Survey, Ticket

    # The customer asks through the public form (no login).
    page.goto(f"{server}/help/request/")
    page.get_by_label("Your name").fill("Nina Berg")
    page.get_by_label("Your email *").fill("nina@example.org")
    page.get_by_label("Subject *").fill("Cake arrived squashed")
    page.get_by_label("How can we help? *").fill("The box was crushed <b>badly</b>.")
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_role("heading", name="Thank you")).to_be_visible()
    ticket = Ticket.objects.get()
    expect(page.get_by_text(ticket.reference)).to_be_visible()
    [ack] = mails(sink)
    assert ack["Subject"] == f"[{ticket.reference}] Cake arrived squashed"

    # The agent logs in and lands on the ticket list.
    login(page, server, "ada@bakery.example.com")
    expect(page).to_have_url(re.compile(r"/tickets/$"))
    expect(page.get_by_role("heading", name="Tickets")).to_be_visible()
    page.get_by_role("link", name="Mine").click()
    row = page.get_by_role("row", name=re.compile("Cake arrived squashed"))
    expect(row).to_contain_text("Ada Lind")
    shot(page, "helpdesk-list-desktop")
    assert width(page) <= DESKTOP["width"]
    row.get_by_role("link", name=ticket.reference).click()

    # The ticket's page: the customer's message, then a public reply.
    expect(page.get_by_role("heading", name=re.compile(ticket.reference))).to_be_visible()
    expect(page.locator(".msg-customer")).to_contain_text("The box was crushed badly.")
    page.get_by_role("textbox", name="Message").fill("So sorry! A new cake is on its way today.")
    page.get_by_role("button", name="Send", exact=True).click()
    expect(page.locator(".msg-reply")).to_contain_text("A new cake is on its way")
    page.get_by_label("Internal note").check()
    page.get_by_role("textbox", name="Message").fill("Courier crushed it; claim filed.")
    page.get_by_role("button", name="Send", exact=True).click()
    expect(page.locator(".msg-note")).to_contain_text("claim filed")
    shot(page, "helpdesk-ticket-desktop")
    assert width(page) <= DESKTOP["width"]
    reply = mails(sink)[-1]
    assert reply["In-Reply-To"] == ack["Message-ID"]
    assert "A new cake is on its way today." in reply.get_content()

    # Close it: the survey goes out.
    page.get_by_role("button", name="Close and send the survey").click()
    expect(page.get_by_text("The satisfaction survey is on its way")).to_be_visible()
    expect(page.locator("h1 .status")).to_have_text("closed")
    survey_mail = mails(sink)[-1]
    assert survey_mail["Subject"] == f"[{ticket.reference}] How did we do?"
    link = re.search(r"(http://\S+/s/[\w-]+/5/)", survey_mail.get_content()).group(1)

    # The customer clicks "5" in the email, then leaves a comment.
    customer = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True).new_page()
    customer.goto(link)
    expect(customer.get_by_role("heading", name="Thank you for your answer")).to_be_visible()
    expect(customer.get_by_text("5 of 5")).to_be_visible()
    customer.get_by_label(re.compile("comment")).fill("Quick and kind. <script>x()</script>")
    customer.get_by_role("button", name="Send the comment").click()
    expect(customer.get_by_text("Your comment is saved")).to_be_visible()
    shot(customer, "helpdesk-survey-phone")
    assert width(customer) <= PHONE["width"]
    survey = Survey.objects.get()
    assert (survey.score, survey.comment) == (5, "Quick and kind.")
    customer.context.close()


def test_every_desk_page_fits_a_phone(phone, server, desk, sink):
    from rapport.contacts import services as contact_services
    from rapport.support import services

    owner, ada = desk
    person = contact_services.contact_create(actor=owner, data={
        "first_name": "Margaret", "last_name": "Lane-Fairweather",
        "emails": ["margaret.lane-fairweather@a-rather-long-domain.example.org"]})
    opened = services.ticket_open(actor=owner, data={
        "subject": "A very long subject line about an order that never arrived at the shop",
        "contact_id": person.id, "description": "x" * 300 + " https://example.org/" + "y" * 80,
        "priority": "urgent", "category": "Delivery"}).ticket
    login(phone, server, "olivia@bakery.example.com")
    for path, name in (("/tickets/", "list"), (f"/tickets/{opened.id}/", "ticket"),
                       ("/tickets/new/", "new"), ("/settings/help-desk-agents/", "agents"),
                       (f"/contacts/{person.id}/", "contact"), ("/help/request/", "form")):
        phone.goto(f"{server}{path}")
        shot(phone, f"helpdesk-{name}-phone")
        assert width(phone) <= PHONE["width"], (path, width(phone))
    # The agent logs a call from the phone.
    phone.goto(f"{server}/tickets/new/")
    phone.get_by_label("Caller's email").fill("lee@example.org")
    phone.get_by_label("Subject").fill("Called about a refund")
    phone.get_by_role("button", name="Open the ticket").click()
    expect(phone.get_by_role("heading", name=re.compile("Called about a refund"))).to_be_visible()
    assert width(phone) <= PHONE["width"]
