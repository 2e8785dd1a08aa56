"""The SLA settings in a real Chromium: the owner sets the business hours (time zone, Swedish
holidays, a Saturday morning, a closed day) and changes a policy; bad input is shown on the
field; both pages fit a phone."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.support import DESKTOP, PHONE, login, shot


@pytest.fixture
def desk(owner):
    from rapport.support.services import sla

    sla.sla_policies_seed()
    return owner


def _wide(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


def test_the_owner_sets_business_hours_and_a_policy(page, phone, server, desk):
    from rapport.support.models import ClosedDay, DeskSettings, SlaPolicy

    login(page, server, "olivia@bakery.example.com")
    page.goto(f"{server}/settings/")
    page.get_by_role("link", name="Business hours").click()
    page.get_by_label("Time zone").fill("Europe/Stockholm")
    page.get_by_label("Public holidays of").select_option("SE")
    page.get_by_label("Saturday").fill("10:00-13:00")
    page.get_by_label("Closed days").fill("2026-12-24 Christmas Eve")
    page.get_by_role("button", name="Save business hours").click()
    expect(page.locator(".messages")).to_contain_text("Business hours saved")
    expect(page.get_by_role("heading", name="Next public holidays")).to_be_visible()
    row = DeskSettings.objects.get()
    assert (row.time_zone, row.holiday_country) == ("Europe/Stockholm", "SE")
    assert row.business_hours["sat"] == [["10:00", "13:00"]]
    assert ClosedDay.objects.get().name == "Christmas Eve"
    shot(page, "sla-business-hours-desktop")
    assert _wide(page) <= DESKTOP["width"]

    # A typo is shown on its field and nothing changes.
    page.get_by_label("Monday").fill("9 to 5")
    page.get_by_role("button", name="Save business hours").click()
    expect(page.locator("p.error")).to_contain_text("mon: each span is a start and an end")
    assert DeskSettings.objects.get().business_hours["mon"] == [["09:00", "17:00"]]

    page.goto(f"{server}/settings/sla-policies/")
    normal = page.locator("tr", has_text="normal").filter(has_text="standard")
    expect(normal).to_contain_text("1d")  # 8 business hours
    expect(normal).to_contain_text("5d")
    page.get_by_role("link", name="Edit the normal standard policy").click()
    page.get_by_label("First response").fill("6h")
    page.get_by_role("button", name="Save policy").click()
    expect(page.locator(".messages")).to_contain_text("Policy saved")
    assert SlaPolicy.objects.get(priority="normal", tier="standard").first_response_minutes \
        == 360
    # The premium "low" policy goes: premium customers then get the standard one.
    page.get_by_role("link", name="Edit the low premium policy").click()
    page.get_by_role("button", name="Delete the low premium policy").click()
    expect(page.locator(".messages")).to_contain_text("Policy deleted")
    assert not SlaPolicy.objects.filter(priority="low", tier="premium").exists()
    page.get_by_label("First response").fill("soon")
    page.get_by_role("button", name="Add policy").click()
    expect(page.locator("p.error").first).to_contain_text("must be minutes")
    shot(page, "sla-policies-desktop")
    assert _wide(page) <= DESKTOP["width"]

    login(phone, server, "olivia@bakery.example.com")
    for path, name in (("/settings/business-hours/", "sla-business-hours-phone"),
                       ("/settings/sla-policies/", "sla-policies-phone")):
        phone.goto(f"{server}{path}")
        shot(phone, name)
        assert _wide(phone) <= PHONE["width"], name


def test_the_sla_settings_are_not_for_agents(page, server, desk):
    from tests.browser.support import make_user

    make_user("ada@bakery.example.com", "support", team="desk")
    login(page, server, "ada@bakery.example.com")
    assert page.goto(f"{server}/settings/sla-policies/").status == 403
    assert page.goto(f"{server}/settings/business-hours/").status == 403
