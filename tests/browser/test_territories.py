"""Territories and lead assignment in a real Chromium: the owner adds two overlapping
territories, reads which one wins, reorders them, then makes a territory assignment rule with
product lines and a first-response time; pages at desktop and phone width with nothing
scrolling sideways."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.support import DESKTOP, PHONE, login, make_user, shot


@pytest.fixture
def people(transactional_db):
    owner = make_user("olivia@bakery.example.com", "owner", first_name="Olivia",
                      last_name="Baker")
    sam = make_user("sam@bakery.example.com", "sales", team="nordics", first_name="Sam",
                    last_name="Berg")
    sara = make_user("sara@bakery.example.com", "sales", team="nordics", first_name="Sara",
                     last_name="Lund")
    mia = make_user("mia@bakery.example.com", "manager", team="nordics", first_name="Mia",
                    last_name="Holm")
    return owner, sam, sara, mia


def _wide(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


def _add_territory(page, name, countries, postcodes, members, manager=None):
    form = page.locator("form.card")
    form.get_by_label("Name").fill(name)
    form.get_by_label("Countries").fill(countries)
    form.get_by_label("Postcodes starting with").fill(postcodes)
    for member in members:
        form.locator("fieldset", has_text="Members").get_by_label(member).check()
    if manager:
        form.get_by_label("Manager").select_option(label=manager)
    page.get_by_role("button", name="Add territory").click()
    expect(page.locator(".messages")).to_contain_text(f"Territory {name} added")


def test_territories_overlap_reorder_and_feed_an_assignment_rule(page, browser, server,
                                                                  people):
    login(page, server, "olivia@bakery.example.com")
    page.goto(f"{server}/settings/")
    page.get_by_role("link", name="Territories").click()
    expect(page.locator("h1")).to_have_text("Territories")
    _add_territory(page, "Nordics", "SE, NO, DK", "", ["Sam Berg", "Sara Lund"],
                   manager="Mia Holm")
    _add_territory(page, "Sweden-North", "SE", "9", ["Sara Lund"])
    table = page.locator("#territories")
    expect(table).to_contain_text(
        "Nordics (position 1) wins over Sweden-North for leads in SE with postcode 9…")
    expect(table).to_contain_text("managed by Mia Holm")
    shot(page, "territories-desktop")
    assert _wide(page) <= DESKTOP["width"]

    page.get_by_role("button", name="Move Sweden-North up").click()
    expect(page.locator(".messages")).to_contain_text("Sweden-North is now number 1")
    expect(table).to_contain_text(
        "Sweden-North (position 1) wins over Nordics for leads in SE with postcode 9…")
    expect(table.locator("tbody tr").first).to_contain_text("Sweden-North")

    bad = page.locator("form.card")
    bad.get_by_label("Name").fill("Mars")
    bad.get_by_label("Countries").fill("MA, XX")
    page.get_by_role("button", name="Add territory").click()
    expect(page.locator("form.card")).to_contain_text("'XX' is not a country code")
    expect(table.locator("tbody tr")).to_have_count(2)

    page.get_by_role("link", name="Sweden-North").click()
    expect(page.locator("#overlaps")).to_contain_text("wins over Nordics")
    page.get_by_label("Postcodes starting with").fill("9, 8")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".messages")).to_contain_text("Territory Sweden-North saved")
    expect(table).to_contain_text("postcode 9…, 8…")

    page.goto(f"{server}/settings/lead-assignment/")
    form = page.locator("form.card")
    form.get_by_label("Name").fill("Nordic ovens")
    form.get_by_label("Product lines").fill("ovens, mixers")
    form.get_by_label("Territory").select_option(label="Nordics")
    form.get_by_label("First response").fill("30")
    page.get_by_role("button", name="Add rule").click()
    expect(page.locator(".messages")).to_contain_text("Rule Nordic ovens added")
    rules = page.locator("table.list").first
    expect(rules).to_contain_text("interested in ovens, mixers; in territory Nordics")
    expect(rules).to_contain_text("answer within 30 min, else the next rep")
    expect(rules).to_contain_text("members of Nordics")
    shot(page, "assignment-territory-desktop")
    assert _wide(page) <= DESKTOP["width"]

    with browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True,
                             has_touch=True) as context:
        phone = context.new_page()
        login(phone, server, "olivia@bakery.example.com")
        for path, name in (("/settings/territories/", "territories-phone"),
                           ("/settings/lead-assignment/", "assignment-territory-phone")):
            phone.goto(f"{server}{path}")
            shot(phone, name)
            assert _wide(phone) <= PHONE["width"], name
        phone.goto(f"{server}/settings/territories/")
        phone.get_by_role("link", name="Nordics").click()
        expect(phone.locator("#overlaps")).to_contain_text("Sweden-North (position 1) wins")
        shot(phone, "territory-edit-phone")
        assert _wide(phone) <= PHONE["width"]


def test_territory_settings_are_not_for_reps(page, server, people):
    login(page, server, "sam@bakery.example.com")
    answer = page.goto(f"{server}/settings/territories/")
    assert answer.status == 403
