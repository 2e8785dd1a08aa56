"""The chat assistant on a business's own website, in a real Chromium: a plain page served from
a second local origin (a tiny http.server, listed in the allowed origins) carries the one
script tag; a visitor asks a question and gets the right article quoted and linked, asks
something unknown and gets "I don't know", leaves name and email and a ticket exists with the
whole transcript (and a lead). The same page under a host name that is not allowed shows the
refusal. At desktop and at 390 px, nothing scrolling sideways."""

from __future__ import annotations

import http.server
import re
import threading

import pytest
from playwright.sync_api import expect

from tests.browser.support import make_user, shot

SHOP_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Mill Street Bakery</title>
<style>body {{ font-family: Georgia, serif; margin: 0; padding: 24px; }}</style>
</head><body>
<h1>Mill Street Bakery</h1>
<p>Cakes for every day and every wedding, baked at 12 Mill Street since 1987.</p>
<p>Order online, collect at the shop or have it delivered within 40 km.</p>
<script src="{rapport}/w/widget.js" defer></script>
</body></html>
"""


@pytest.fixture
def shop_site(server):
    """The business's own website: another origin than Rapport's."""
    page = SHOP_PAGE.format(rapport=server).encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - the standard library's name
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, *args):
            pass

    site = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=site.serve_forever, daemon=True)
    thread.start()
    yield site.server_address[1]
    site.shutdown()
    site.server_close()


@pytest.fixture
def bakery(transactional_db, shop_site):
    from django.core.cache import cache

    from rapport.support.models import DeskSettings
    from rapport.support.services import assistant
    from rapport.support.tests.assistant_kb import build, close_tickets

    cache.clear()
    owner = make_user("olivia@bakery.example.com", "owner", first_name="Olivia",
                      last_name="Baker")
    build(owner)
    close_tickets(owner)
    assistant.intent_train()
    DeskSettings.objects.all().delete()  # (opening the closed tickets made the default row)
    DeskSettings.objects.create(widget_origins=[f"http://127.0.0.1:{shop_site}"],
                                widget_greeting="Hello from Mill Street! Ask me anything.")
    yield f"http://127.0.0.1:{shop_site}/"
    cache.clear()


def _wide(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


def _ask(page, text: str):
    page.get_by_label("Your question").fill(text)
    page.get_by_role("button", name="Send", exact=True).click()


def test_a_visitor_gets_the_article_then_i_dont_know_then_a_person(page, bakery):
    from rapport.sales.models import Lead
    from rapport.support.models import ChatMessage, Ticket

    page.goto(bakery)
    launcher = page.get_by_role("button", name="Questions? Ask us")
    expect(launcher).to_have_attribute("aria-expanded", "false")
    launcher.click()
    chat = page.get_by_role("dialog", name="Chat with our assistant")
    expect(chat).to_be_visible()
    expect(chat.get_by_text("Hello from Mill Street! Ask me anything.")).to_be_visible()
    expect(page.get_by_label("Your question")).to_be_focused()

    _ask(page, "Where is my order?")
    answer = chat.locator(".rapport-chat-answer").last
    expect(answer.locator("blockquote")).to_contain_text("tracking link by email")
    link = answer.get_by_role("link", name="Read “Tracking your order”")
    expect(link).to_have_attribute("href", re.compile(r"/help/tracking-your-order/$"))
    helpful = answer.get_by_role("button", name="Helpful", exact=True)
    helpful.click()
    expect(helpful).to_have_attribute("aria-pressed", "true")
    shot(page, "assistant-widget-answer-desktop")

    _ask(page, "Do you repair bicycles?")
    expect(chat.locator(".rapport-chat-unknown").last).to_contain_text("I don't know")
    expect(page.get_by_label("Name")).to_be_visible()
    assert _wide(page) <= 1280
    shot(page, "assistant-widget-unknown-desktop")

    page.get_by_label("Name").fill("Nina Berg")
    page.get_by_label("Email").fill("nina@example.org")
    page.get_by_role("button", name="Send to a person").click()
    expect(chat).to_contain_text("A person will answer you by email at nina@example.org")
    shot(page, "assistant-widget-handover-desktop")

    ticket = Ticket.objects.get(channel="chat")
    expect(chat).to_contain_text(ticket.reference)
    assert "Where is my order?" in ticket.description
    assert "“Tracking your order” (/help/tracking-your-order/)" in ticket.description
    assert "Do you repair bicycles?" in ticket.description and "I don't know" in ticket.description
    assert "visitor: helpful" in ticket.description
    assert ticket.requester_email == "nina@example.org"
    assert Lead.objects.get(email="nina@example.org").source == "chatbot"
    assert ChatMessage.objects.filter(feedback=1).count() == 1


def test_on_a_phone_nothing_scrolls_sideways(phone, bakery):
    phone.goto(bakery)
    phone.get_by_role("button", name="Questions? Ask us").click()
    chat = phone.get_by_role("dialog", name="Chat with our assistant")
    expect(chat).to_be_visible()
    _ask(phone, "I want to cancel my order")
    expect(chat.locator(".rapport-chat-answer blockquote").last).to_contain_text(
        "cancel an order free of charge")
    _ask(phone, "What is the meaning of life?")
    expect(chat.locator(".rapport-chat-unknown").last).to_contain_text("I don't know")
    box = chat.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390
    assert _wide(phone) <= 390
    shot(phone, "assistant-widget-phone", full_page=False)


def test_a_site_that_is_not_allowed_is_refused(page, bakery):
    from rapport.support.models import ChatConversation

    other = bakery.replace("127.0.0.1", "localhost")  # the same page, another origin
    page.goto(other)
    page.get_by_role("button", name="Questions? Ask us").click()
    refusal = page.get_by_role("alert")
    expect(refusal).to_contain_text(f"This site ({other.rstrip('/')}) is not allowed to use "
                                    "the assistant")
    shot(page, "assistant-widget-refused-desktop")
    assert not ChatConversation.objects.exists()


def test_staff_write_and_publish_and_the_help_centre_works_without_javascript(page, browser,
                                                                             bakery, server):
    from tests.browser.support import login, open_nav

    login(page, server, "olivia@bakery.example.com")
    open_nav(page, "Knowledge base", group="Help desk")
    expect(page.get_by_role("heading", name="Knowledge base")).to_be_visible()
    page.get_by_role("link", name="New article").click()
    page.get_by_role("button", name="Save and publish").click()
    expect(page.get_by_text("Please fix the fields marked below")).to_be_visible()
    page.locator("input[name=title]").fill("Birthday candles")
    page.locator("select[name=category_id]").select_option(label="Cakes and allergies")
    page.locator("textarea[name=body]").fill("Every birthday cake comes with six candles.\n\n"
                                   "Ask for more in the order notes.")
    page.get_by_role("button", name="Save and publish").click()
    expect(page.locator(".messages")).to_contain_text("Published.")
    assert _wide(page) <= 1280
    shot(page, "kb-list-desktop")
    page.goto(f"{server}/settings/assistant/")
    expect(page.get_by_label("HTML snippet")).to_have_value(
        f'<script src="{server}/w/widget.js" defer></script>')
    shot(page, "assistant-settings-desktop")

    # A visitor with JavaScript off, on a phone: the help centre, search and a vote.
    context = browser.new_context(viewport={"width": 390, "height": 844},
                                  java_script_enabled=False, is_mobile=True)
    visitor = context.new_page()
    visitor.goto(f"{server}/help/")
    expect(visitor.get_by_role("heading", name="Cakes and allergies")).to_be_visible()
    visitor.get_by_label("Search the help centre").fill("how many candles")
    visitor.get_by_role("button", name="Search").click()
    visitor.get_by_role("link", name="Birthday candles").click()
    expect(visitor.get_by_role("heading", name="Birthday candles")).to_be_visible()
    visitor.get_by_role("button", name="Yes").click()
    expect(visitor.get_by_role("status")).to_contain_text("you said “yes”")
    visitor.get_by_role("button", name="No").click()
    expect(visitor.get_by_role("status")).to_contain_text("you said “no”")
    assert _wide(visitor) <= 390
    shot(visitor, "help-article-phone")
    visitor.goto(f"{server}/help/")
    assert _wide(visitor) <= 390
    shot(visitor, "help-centre-phone")
    context.close()
    from rapport.support.models import Article

    article = Article.objects.get(slug="birthday-candles")
    assert (article.helpful_yes, article.helpful_no) == (0, 1)
