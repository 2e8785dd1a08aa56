"""The help desk's Reports page and the assist panel in a real Chromium: the weekly trend charts
draw (plotly.js served by Rapport, under its content security policy), the tables and the CSV
download, a bad date range named; the assist panel shows the similar ticket, the article and a
suggested reply that "Use this reply" puts into the ticket page's reply box; at desktop and at
390 px nothing scrolls sideways."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from playwright.sync_api import expect

from tests.browser.support import SCREENSHOTS, login, make_user, open_nav, shot


@pytest.fixture
def desk(owner):
    from django.utils import timezone

    from rapport.support import services
    from rapport.support.models import (
        Article,
        ArticleStatus,
        MessageKind,
        Survey,
        Ticket,
        TicketMessage,
    )

    ada = make_user("ada@bakery.example.com", "support", first_name="Ada", last_name="Lovelace")
    ben = make_user("ben@bakery.example.com", "support", first_name="Ben", last_name="Okafor")
    now = timezone.now().replace(hour=9, minute=0, second=0, microsecond=0)
    rows = [  # weeks ago, agent, category, channel, first response h, resolved h, sla, score
        (5, ada, "delivery", "email", 1, 20, "met", 5), (5, ben, "billing", "web", 3, 30,
                                                          "breached", 2),
        (4, ada, "delivery", "chat", 2, 8, "met", 4), (3, ben, "account", "email", 6, 50,
                                                       "breached", None),
        (3, ada, "billing", "phone", 1, 5, "met", 5), (2, ada, "delivery", "email", 2, 12,
                                                       "met", 4),
        (1, ben, "delivery", "web", 4, None, "", None), (1, ada, "account", "email", 1, 3,
                                                         "met", 5),
    ]
    for i, (weeks, agent, category, channel, first_h, resolved_h, sla, score) in \
            enumerate(rows):
        created = now - dt.timedelta(weeks=weeks)
        ticket = services.ticket_open(actor=owner, data={
            "subject": f"Question {i} about {category}", "email": f"c{i}@example.org",
            "channel": channel, "category": category}).ticket
        Ticket.objects.filter(id=ticket.id).update(
            assignee=agent, created_at=created, sla_state=sla,
            first_responded_at=created + dt.timedelta(hours=first_h),
            resolved_at=created + dt.timedelta(hours=resolved_h) if resolved_h else None,
            status="closed" if resolved_h else "open", reopened_count=1 if i == 2 else 0)
        if score:
            Survey.objects.create(ticket_id=ticket.id, token=f"s{i}", score=score,
                                  sent_at=created, answered_at=created)
    old = services.ticket_open(actor=owner, data={
        "subject": "Parcel never arrived, tracking stuck", "email": "tom@example.org",
        "description": "My parcel tracking has not moved for a week."}).ticket
    Ticket.objects.filter(id=old.id).update(status="resolved", resolved_at=now, assignee=ada)
    TicketMessage.objects.create(
        ticket=old, kind=MessageKind.REPLY, author=ada, created_at=now,
        body="Hello Tom,\n\nWe have sent a new cake by express courier.\n\nBest regards,\nAda")
    Article.objects.create(
        title="Where is my order?", slug="where-is-my-order", status=ArticleStatus.PUBLISHED,
        published_at=now,
        body="Orders leave the bakery the day after you order.\n\nTracking numbers are emailed "
             "when the parcel leaves. If the tracking has not moved for three days, write to "
             "us and we send a replacement cake at once.")
    new = services.ticket_open(actor=owner, data={
        "subject": "Parcel tracking not moving", "name": "Nina Berg",
        "email": "nina@example.org",
        "description": "The tracking of my parcel has not moved for four days!"}).ticket
    return ada, new


def _patient(page) -> None:
    """plotly.js is 4.8 MB to parse and draw three charts with on a busy shared machine."""
    page.set_default_timeout(30_000)
    page.set_default_navigation_timeout(30_000)


def _wide(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


def test_the_reports_page_draws_its_charts_and_downloads_the_csv(page, server, desk):
    _patient(page)
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    login(page, server, "olivia@bakery.example.com")
    open_nav(page, "Reports", group="Help desk")
    expect(page.locator("h1")).to_have_text("Help desk reports")
    for chart in ("volume", "times", "quality"):
        expect(page.locator(f"#chart-{chart} .main-svg").first).to_be_visible(timeout=30_000)
    expect(page.locator("#chart-times .legend")).to_contain_text("First response, median")
    agents = page.locator('table[data-group="agent"]')
    expect(agents).to_contain_text("Ada Lovelace")
    expect(agents).to_contain_text("Ben Okafor")
    expect(page.locator('table[data-group="channel"]')).to_contain_text("web form")
    expect(page.locator(".stats")).to_contain_text("10 tickets")
    assert _wide(page) <= 1280
    shot(page, "helpdesk-reports-desktop")
    assert not [e for e in errors if "Content Security Policy" in e or "plotly" in e.lower()], \
        errors

    with page.expect_download() as download:
        page.get_by_role("link", name="Download CSV").click()
    text = open(download.value.path(), encoding="utf-8").read()
    assert text.startswith("group,name,tickets,") and "Ada Lovelace" in text

    page.get_by_label("From").fill("2026-12-10")
    page.get_by_label("To").fill("2026-12-01")
    page.get_by_role("button", name="Show").click()
    expect(page.locator(".error")).to_contain_text("must not be before since")


def test_the_reports_fit_a_phone(phone, server, desk):
    _patient(phone)
    login(phone, server, "olivia@bakery.example.com")
    phone.goto(f"{server}/tickets/reports/")
    expect(phone.locator("#chart-volume .main-svg").first).to_be_visible(timeout=30_000)
    expect(phone.locator('table[data-group="agent"]')).to_contain_text("Ada Lovelace")
    assert _wide(phone) <= 390
    shot(phone, "helpdesk-reports-phone")
    phone.locator('table[data-group="agent"]').screenshot(
        path=str(SCREENSHOTS / "helpdesk-reports-phone-agents.png"))


def test_the_assist_panel_suggests_a_reply_that_goes_into_the_reply_box(page, phone, server,
                                                                          desk):
    ada, ticket = desk
    login(page, server, "ada@bakery.example.com")
    page.goto(f"{server}/tickets/{ticket.id}/assist/")
    panel = page.locator("#assist-panel")
    expect(panel).to_contain_text("Parcel never arrived, tracking stuck")
    expect(panel).to_contain_text("Where is my order?")
    expect(panel).to_contain_text("Tickets before: none, this is their first.")
    suggestion = page.locator("#assist-reply")
    expect(suggestion).to_have_value(
        re.compile(r"^Hello Nina,[\s\S]*Tracking numbers are emailed[\s\S]*"
                                 r"Best regards,\nAda Lovelace$"))
    # Without the ticket page's reply box, the button selects the text to copy.
    page.get_by_role("button", name="Use this reply").click()
    expect(panel).to_contain_text("Open the ticket page to reply")
    assert _wide(page) <= 1280
    shot(page, "helpdesk-assist-desktop")
    # The desk's ticket page has <form id="reply-form"> with <textarea name="body">: the
    # agent edits the suggestion, and the button puts it there.
    page.evaluate("""() => { const f = document.createElement('form'); f.id = 'reply-form';
        f.innerHTML = '<textarea name="body"></textarea>'; document.body.append(f); }""")
    suggestion.fill(suggestion.input_value().replace("Thank you", "Many thanks"))
    page.get_by_role("button", name="Use this reply").click()
    reply = page.locator("#reply-form [name=body]")
    expect(reply).to_have_value(re.compile(r"^Hello Nina,\n\nMany thanks"))
    expect(reply).to_be_focused()

    login(phone, server, "ada@bakery.example.com")
    phone.goto(f"{server}/tickets/{ticket.id}/assist/")
    expect(phone.locator("#assist-panel")).to_contain_text("Where is my order?")
    assert _wide(phone) <= 390
    shot(phone, "helpdesk-assist-phone")
