"""The learned lead score in a real Chromium: before there are enough outcomes the lead page
and Settings → Lead scoring say why there is no score; the owner presses Train now, and the
lead page shows the chance of converting beside the rule points with its reasons in plain
words, at desktop and phone width with nothing scrolling sideways."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.support import PHONE, login, make_user, shot


def _wide(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


@pytest.fixture
def business(transactional_db):
    from rapport.sales.models import Lead
    from rapport.sales.tests import planted

    owner = make_user("olivia@bakery.example.com", "owner", first_name="Olivia",
                      last_name="Baker")
    sam = make_user("sam@bakery.example.com", "sales", team="nordics", first_name="Sam",
                    last_name="Berg")
    planted.make_leads(20, seed=40)  # too few outcomes for a model
    lead = Lead.objects.create(name="Anna Lind", email="anna@lind-cafe.se", owner=sam,
                               source="referral", company_size="51-200",
                               utm_campaign="spring-menu", country="SE")
    return owner, sam, lead


def test_the_lead_page_shows_the_learned_chance_and_why(page, browser, server, business):
    from rapport.sales.tests import planted

    owner, sam, lead = business
    login(page, server, "olivia@bakery.example.com")
    page.goto(f"{server}/leads/{lead.id}/")
    expect(page.locator("#ml-score")).to_contain_text(
        "No learned score yet: once you have at least 30 converted and 30 disqualified leads")
    page.goto(f"{server}/settings/lead-scoring/")
    page.get_by_role("button", name="Train now").click(timeout=120_000)  # trains: seconds
    expect(page.locator("#learned")).to_contain_text(
        "Not trained yet: needs at least 30 converted and 30 disqualified leads; you have")
    page.goto(f"{server}/leads/{lead.id}/")
    expect(page.locator("#ml-score")).to_contain_text(
        "No learned score yet: the model needs at least 30 converted and 30 disqualified "
        "leads; you have")
    shot(page, "lead-ml-declined-desktop")
    page.goto(f"{server}/settings/lead-scoring/")

    planted.make_leads(600, seed=41, start_id=1_000)  # now enough outcomes
    page.get_by_role("button", name="Train now").click(timeout=120_000)  # trains: seconds
    expect(page.locator(".messages")).to_contain_text("Scored 1 open leads", timeout=120_000)
    expect(page.locator("#learned")).to_contain_text("ROC AUC")
    expect(page.locator("table.reliability")).to_be_visible()
    shot(page, "lead-ml-settings-desktop")
    assert _wide(page) <= 1280

    page.context.clear_cookies()
    login(page, server, "sam@bakery.example.com")
    page.goto(f"{server}/leads/{lead.id}/")
    card = page.locator("#ml-score")
    expect(card.locator("h2")).to_contain_text("Chance of converting")
    expect(card).to_contain_text("came from referral: +")
    expect(card).to_contain_text("points of chance")
    assert 3 <= card.locator(".ml-factors li").count() <= 4
    expect(page.locator("#score")).to_contain_text("Score 0 · grade D")  # the rules, beside it
    shot(page, "lead-ml-detail-desktop")
    assert _wide(page) <= 1280

    with browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True,
                             has_touch=True) as context:
        phone = context.new_page()
        login(phone, server, "sam@bakery.example.com")
        phone.goto(f"{server}/leads/{lead.id}/")
        expect(phone.locator("#ml-score")).to_contain_text("came from referral")
        shot(phone, "lead-ml-detail-phone")
        assert _wide(phone) <= PHONE["width"]
        phone.context.clear_cookies()
        login(phone, server, "olivia@bakery.example.com")
        phone.goto(f"{server}/settings/lead-scoring/")
        shot(phone, "lead-ml-settings-phone")
        assert _wide(phone) <= PHONE["width"]
