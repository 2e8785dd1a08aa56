"""Leads in a real Chromium: the owner makes a web form and copies its snippet, a visitor fills
it on a plain HTML page (file://, no Rapport around it), the lead arrives assigned by territory
with its score and reasons, and its rep converts it; pages at desktop and phone width with
nothing scrolling sideways."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.support import PHONE, login, make_user, shot


@pytest.fixture
def team(transactional_db):
    from rapport.sales import services

    owner = make_user("olivia@bakery.example.com", "owner", first_name="Olivia",
                      last_name="Baker")
    sam = make_user("sam@bakery.example.com", "sales", team="nordics", first_name="Sam",
                    last_name="Berg")
    bob = make_user("bob@bakery.example.com", "sales", team="uk", first_name="Bob",
                    last_name="Hale")
    services.scoring_rule_create(actor=owner, data={
        "field": "country", "operator": "one_of", "value": "SE, NO, DK", "points": 30})
    services.scoring_rule_create(actor=owner, data={
        "field": "free_mail", "operator": "is_empty", "points": 20})
    services.scoring_rule_create(actor=owner, data={
        "field": "message", "operator": "contains", "value": "wholesale", "points": 15})
    services.assignment_rule_create(actor=owner, data={
        "name": "Nordics", "countries": "SE, NO, DK", "method": "round_robin",
        "team_id": sam.team_id})
    services.assignment_rule_create(actor=owner, data={
        "name": "UK", "countries": "GB", "method": "round_robin", "team_id": bob.team_id})
    return owner, sam, bob


def _wide(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


def test_a_web_form_lead_is_assigned_scored_and_converted(page, browser, server, team,
                                                         tmp_path):
    owner, sam, bob = team
    login(page, server, "olivia@bakery.example.com")
    page.goto(f"{server}/settings/web-forms/")
    page.get_by_label("Name", exact=True).fill("Wholesale enquiry")
    for field in ("Phone", "Company", "Country", "Message"):
        page.get_by_label(f"{field} on the form").check()
    page.get_by_label("Name required").check()
    page.get_by_role("button", name="Make the form").click()
    expect(page.locator(".messages")).to_contain_text("copy its snippet")
    snippet = page.locator("textarea.snippet").first.input_value()
    assert "<script" not in snippet and 'method="post"' in snippet
    shot(page, "leads-web-form-settings")

    site = tmp_path / "bakery-site.html"
    site.write_text(f"<!doctype html><html><head><meta charset='utf-8'><title>Alder Bakery"
                    f"</title></head><body><h1>Order wholesale</h1>{snippet}</body></html>")
    visitor = browser.new_context(java_script_enabled=False).new_page()
    visitor.goto(site.as_uri())
    visitor.get_by_label("Name").fill("Anna Lind")
    visitor.get_by_label("Email").fill("anna@lind-cafe.se")
    visitor.get_by_label("Phone").fill("+46 70 123 45 67")
    visitor.get_by_label("Company").fill("Lind Café")
    visitor.get_by_label("Country").fill("SE")
    visitor.get_by_label("Message").fill("Wholesale bread for two cafés, please")
    shot(visitor, "leads-plain-page-form")
    visitor.get_by_role("button", name="Send").click()
    expect(visitor.locator("h1")).to_have_text("Thank you")
    visitor.context.close()

    page.goto(f"{server}/leads/")
    expect(page.locator("table.list")).to_contain_text("Anna Lind")
    expect(page.locator("table.list")).to_contain_text("Sam Berg")
    shot(page, "leads-list-desktop")

    page.context.clear_cookies()
    login(page, server, "sam@bakery.example.com")
    page.goto(f"{server}/leads/?owner=me")
    page.get_by_role("link", name="Anna Lind").click()
    expect(page.locator("#score")).to_contain_text("Score 65 · grade A")
    expect(page.locator("#score")).to_contain_text("country is one of SE, NO, DK: +30 points")
    expect(page.locator("#score")).to_contain_text("message contains wholesale: +15 points")
    expect(page.locator("#owner")).to_contain_text("Sam Berg")
    expect(page.locator("#owner")).to_contain_text("Nordics (round robin)")
    expect(page.locator("body")).to_contain_text("mobile, SE")
    shot(page, "leads-detail-desktop")
    assert _wide(page) <= 1280

    with browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True,
                             has_touch=True) as phone_context:
        phone = phone_context.new_page()
        login(phone, server, "sam@bakery.example.com")
        for url, name in ((f"{server}/leads/", "leads-list-phone"),
                          (page.url, "leads-detail-phone")):
            phone.goto(url)
            shot(phone, name)
            assert _wide(phone) <= PHONE["width"], name

    page.get_by_label("Amount").fill("1800")
    page.get_by_role("button", name="Convert").click()
    page.wait_for_url(re.compile(r"/deals/\d+/$"))
    expect(page.locator("h1")).to_have_text("Lind Café")
    expect(page.locator("body")).to_contain_text("1,800.00 USD")
    expect(page.locator("body")).to_contain_text("Anna Lind")
    shot(page, "leads-converted-deal")
    page.go_back()
    page.reload()
    expect(page.locator(".notice")).to_contain_text("Converted")
    expect(page.get_by_role("button", name="Convert")).to_have_count(0)


def test_sales_settings_pages_fit_a_phone(browser, server, team):
    with browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True,
                             has_touch=True) as context:
        phone = context.new_page()
        login(phone, server, "olivia@bakery.example.com")
        for path, name in (("/settings/web-forms/", "leads-forms-phone"),
                           ("/settings/lead-scoring/", "leads-scoring-phone"),
                           ("/settings/lead-assignment/", "leads-assignment-phone")):
            phone.goto(f"{server}{path}")
            shot(phone, name)
            assert _wide(phone) <= PHONE["width"], name
