"""The whole help-desk journey as issue 11 tells it, in a real Chromium: a visitor on the
bakery's own plain web page asks the chat widget a question and gets the right article; asks
something the knowledge base does not cover and gets "I don't know"; leaves an email. The
support agent opens the new ticket with the whole transcript and a suggested reply, sends it
(threaded email through a real SMTP server), closes the ticket, and the satisfaction survey
goes out."""

from __future__ import annotations

import email
import email.policy
import re

import pytest
from playwright.sync_api import expect

from tests.browser.support import DESKTOP, login, make_user, shot
from tests.browser.test_assistant_widget import SHOP_PAGE, shop_site  # noqa: F401 - fixture
from tests.browser.test_helpdesk_journey import sink  # noqa: F401 - fixture


def _sent(inbox):
    from rapport.activities.services import send_pending_emails

    send_pending_emails()  # what the worker's sweep does
    return [email.message_from_bytes(m.original_content, policy=email.policy.default)
            for m in inbox.messages]


@pytest.fixture
def bakery(transactional_db, shop_site, sink):  # noqa: F811 - the fixtures above
    from django.core.cache import cache

    from rapport.support.services import assistant
    from rapport.support.tests.assistant_kb import build, close_tickets

    assert SHOP_PAGE  # the page the widget is embedded in (test_assistant_widget)
    cache.clear()
    owner = make_user("olivia@bakery.example.com", "owner", first_name="Olivia",
                      last_name="Baker")
    make_user("ada@bakery.example.com", "support", first_name="Ada", last_name="Lind")
    build(owner)
    close_tickets(owner)
    assistant.intent_train()
    from rapport.support import services

    services.assistant_settings_update(actor=owner, data={
        "widget_origins": [f"http://127.0.0.1:{shop_site}"], "widget_greeting": ""})
    yield f"http://127.0.0.1:{shop_site}/", sink
    cache.clear()


def test_widget_question_to_answered_closed_and_surveyed_ticket(page, browser, server, bakery):
    from rapport.support.models import Survey, Ticket

    site, inbox = bakery
    # The visitor, on the bakery's own website.
    visitor = browser.new_context(viewport=DESKTOP).new_page()
    visitor.goto(site)
    visitor.get_by_role("button", name="Questions? Ask us").click()
    chat = visitor.get_by_role("dialog", name="Chat with our assistant")
    visitor.get_by_label("Your question").fill("Where is my order?")
    visitor.get_by_role("button", name="Send", exact=True).click()
    answer = chat.locator(".rapport-chat-answer").last
    expect(answer.get_by_role("link", name="Read “Tracking your order”")).to_be_visible()
    visitor.get_by_label("Your question").fill("Do you repair bicycles?")
    visitor.get_by_role("button", name="Send", exact=True).click()
    expect(chat.locator(".rapport-chat-unknown").last).to_contain_text("I don't know")
    visitor.get_by_label("Name").fill("Nina Berg")
    visitor.get_by_label("Email").fill("nina@example.org")
    visitor.get_by_role("button", name="Send to a person").click()
    expect(chat).to_contain_text("A person will answer you by email at nina@example.org")
    shot(visitor, "support-journey-widget")
    visitor.context.close()
    ticket = Ticket.objects.get(channel="chat")

    # The agent: the ticket list is her home page; the new ticket is on it.
    login(page, server, "ada@bakery.example.com")
    expect(page).to_have_url(re.compile(r"/tickets/"))
    page.goto(f"{server}/tickets/")
    page.get_by_role("link", name=ticket.reference).first.click()
    expect(page.get_by_role("heading", name=re.compile(ticket.reference))).to_be_visible()
    thread = page.locator("#thread")
    expect(thread).to_contain_text("Where is my order?")  # the whole transcript
    expect(thread).to_contain_text("Do you repair bicycles?")
    # Beside it, a suggested reply to edit; "Use this reply" puts it in the reply box.
    suggestion = page.locator("#assist-reply")
    expect(suggestion).to_have_value(re.compile(r"^Hello Nina"))
    page.get_by_role("button", name="Use this reply").click()
    box = page.locator("#reply-form [name=body]")
    expect(box).to_have_value(re.compile(r"^Hello Nina"))
    box.fill(box.input_value() + "\n\nWe don't repair bicycles, sorry!")
    shot(page, "support-journey-ticket")
    page.get_by_role("button", name="Send", exact=True).click()
    expect(page.locator(".msg-reply")).to_contain_text("We don't repair bicycles")
    reply = next(m for m in _sent(inbox) if "repair bicycles" in m.get_content())
    assert reply["To"] == "nina@example.org"
    assert ticket.reference in reply["Subject"]

    # Closing sends the satisfaction survey.
    page.get_by_role("button", name="Close and send the survey").click()
    expect(page.get_by_text("The satisfaction survey is on its way")).to_be_visible()
    survey_mail = _sent(inbox)[-1]
    assert survey_mail["To"] == "nina@example.org"
    assert survey_mail["Subject"] == f"[{ticket.reference}] How did we do?"
    assert re.search(r"/s/[\w-]+/5/", survey_mail.get_content())
    assert Survey.objects.filter(ticket=ticket).count() == 1
