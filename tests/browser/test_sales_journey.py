"""The whole sales journey in a real Chromium, as issue 10 tells it: a visitor fills the public
web form on a plain HTML page; the lead arrives assigned to the right rep by territory, with its
score and the reasons; the rep converts it, drags the deal across two stages on the board, marks
it won, and the goal attainment on the board and the forecast page move with it."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.browser.support import DESKTOP, login, make_user, shot


@pytest.fixture
def shop(transactional_db):
    from rapport.sales import services

    owner = make_user("olivia@bakery.example.com", "owner", first_name="Olivia",
                      last_name="Baker")
    sam = make_user("sam@bakery.example.com", "sales", team="north", first_name="Sam",
                    last_name="Berg")
    make_user("bob@bakery.example.com", "sales", team="south", first_name="Bob",
              last_name="Hale")
    nordics = services.territory_create(actor=owner, data={
        "name": "Nordics", "countries": ["SE", "NO", "DK"], "member_ids": [sam.id]})
    services.assignment_rule_create(actor=owner, data={
        "name": "Nordic leads", "territory_id": nordics.id, "method": "round_robin"})
    services.scoring_rule_create(actor=owner, data={
        "field": "country", "operator": "one_of", "value": "SE, NO, DK", "points": 30})
    services.scoring_rule_create(actor=owner, data={
        "field": "message", "operator": "contains", "value": "wholesale", "points": 15})
    month = timezone.localdate().replace(day=1)
    services.goal_create(actor=owner, data={
        "period": "month", "starts_on": month.isoformat(), "amount": "10000",
        "currency": "USD", "user_id": sam.id})
    form = services.web_form_create(actor=owner, data={
        "name": "Wholesale enquiry", "fields": ["name", "email", "country", "company_name",
                                                "message"],
        "required": ["name", "email"]})
    return owner, sam, nordics, form


def _column(page, stage_name):
    return page.locator(".board-column", has=page.get_by_role("heading", name=re.compile(
        f"^{stage_name} ")))


def _card(page, name):
    return page.locator(".deal-card", has_text=name)


def test_form_to_won_deal_moves_the_goal(page, browser, server, shop, tmp_path):
    owner, sam, nordics, form = shop

    # The owner copies the form's snippet into the bakery's own (plain HTML) page.
    login(page, server, "olivia@bakery.example.com")
    page.goto(f"{server}/settings/web-forms/")
    snippet = page.locator("textarea.snippet").first.input_value()
    site = tmp_path / "bakery-site.html"
    site.write_text("<!doctype html><html><head><meta charset='utf-8'><title>Alder Bakery"
                    f"</title></head><body><h1>Order wholesale</h1>{snippet}</body></html>")
    visitor = browser.new_context(java_script_enabled=False).new_page()
    visitor.goto(site.as_uri())
    visitor.get_by_label("Name").fill("Anna Lind")
    visitor.get_by_label("Email").fill("anna@lind-cafe.se")
    visitor.get_by_label("Company").fill("Lind Café")
    visitor.get_by_label("Country").fill("SE")
    visitor.get_by_label("Message").fill("Wholesale bread for two cafés, please")
    visitor.get_by_role("button", name="Send").click()
    expect(visitor.locator("h1")).to_have_text("Thank you")
    visitor.context.close()
    page.context.clear_cookies()

    # Sam, the Nordics rep, finds it assigned to him by the territory, with its score.
    login(page, server, "sam@bakery.example.com")
    page.goto(f"{server}/leads/?owner=me")
    page.get_by_role("link", name="Anna Lind").click()
    expect(page.locator("#owner")).to_contain_text("Sam Berg")
    expect(page.locator("#owner")).to_contain_text("Nordic leads")
    expect(page.locator("#score")).to_contain_text("Score 45")
    expect(page.locator("#score")).to_contain_text("country is one of SE, NO, DK: +30 points")
    expect(page.locator("#score")).to_contain_text("message contains wholesale: +15 points")
    shot(page, "sales-journey-lead")

    # Converted: a contact, a company and a deal in the default pipeline.
    page.get_by_label("Amount").fill("1800")
    page.get_by_role("button", name="Convert").click()
    page.wait_for_url(re.compile(r"/deals/\d+/$"))
    expect(page.locator("h1")).to_contain_text("Lind Café")

    # The board: this month's goal is untouched; drag the deal across two stages.
    page.goto(f"{server}/deals/board/")
    attainment = page.locator(".attainment")
    expect(attainment).to_contain_text("won 0 of 10,000 USD")
    _card(page, "Lind Café").locator(".deal-name").drag_to(
        _column(page, "Qualified").locator(".board-cards"))
    expect(page.locator("#board-status")).to_contain_text("Moved Lind Café to Qualified")
    _card(page, "Lind Café").locator(".deal-name").drag_to(
        _column(page, "Proposal").locator(".board-cards"))
    expect(page.locator("#board-status")).to_contain_text("Moved Lind Café to Proposal")
    page.reload()
    expect(_column(page, "Proposal").locator(".deal-card")).to_contain_text(["Lind Café"])
    shot(page, "sales-journey-board")

    # Won on the deal page: the stage history shows the way it came.
    _card(page, "Lind Café").get_by_role("link", name="Lind Café").click()
    page.get_by_role("button", name="Mark won").click()
    expect(page.locator(".messages")).to_contain_text("Marked won")
    expect(page.locator("#history")).to_contain_text("Qualified")
    expect(page.locator("#history")).to_contain_text("Proposal")

    # The goal moved, on the board and on the forecast page.
    page.goto(f"{server}/deals/board/")
    expect(page.locator(".attainment")).to_contain_text("won 1,800 of 10,000 USD")
    page.goto(f"{server}/deals/forecast/")
    expect(page.locator(".attainment")).to_contain_text("won 1,800 of 10,000 USD")
    expect(page.locator(".attainment")).to_contain_text("18%")
    shot(page, "sales-journey-forecast")
    assert page.evaluate("document.documentElement.scrollWidth") <= DESKTOP["width"]

    from rapport.sales.models import Deal, Lead

    lead = Lead.objects.get(email="anna@lind-cafe.se")
    deal = Deal.objects.get(id=lead.converted_deal_id)
    assert (deal.owner_id, deal.territory_id, deal.stage.is_won) == (sam.id, nordics.id, True)
    assert deal.closed_at is not None and deal.closed_at > timezone.now() - dt.timedelta(hours=1)
