"""Double opt-in in a real Chromium: the owner ticks the box on the web form settings page, a
visitor sends the form and is told to check their email, the emailed link confirms the lead
(assigned then), a second click says it is done, and a bad link is a clear 404 page; at desktop
and at 390 px with nothing scrolling sideways."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.support import login, make_user, shot


@pytest.fixture
def shop(transactional_db):
    from rapport.sales import services

    owner = make_user("olivia@bakery.example.com", "owner", first_name="Olivia",
                      last_name="Baker")
    sam = make_user("sam@bakery.example.com", "sales", team="shop", first_name="Sam",
                    last_name="Berg")
    services.assignment_rule_create(actor=owner, data={
        "name": "Everyone", "method": "round_robin", "team_id": sam.team_id})
    return owner, sam


def _wide(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


def _make_form(page, server):
    page.goto(f"{server}/settings/web-forms/")
    page.get_by_label("Name", exact=True).fill("Wedding cakes")
    page.get_by_label("Message on the form").check()
    page.get_by_label("Double opt-in").check()
    page.get_by_role("button", name="Make the form").click()
    expect(page.locator(".messages")).to_contain_text("copy its snippet")
    expect(page.locator(".web-form .badge")).to_have_text("double opt-in")


def test_double_opt_in_from_the_settings_box_to_the_confirmed_lead(page, server, shop):
    from rapport.activities.models import OutboundEmail
    from rapport.sales.models import Lead

    owner, sam = shop
    login(page, server, "olivia@bakery.example.com")
    # Ticking it without a required email is refused, naming the box.
    page.goto(f"{server}/settings/web-forms/")
    page.get_by_label("Name", exact=True).fill("Call me back")
    page.get_by_label("Email required").uncheck()
    page.get_by_label("Double opt-in").check()
    page.get_by_role("button", name="Make the form").click()
    expect(page.get_by_text("needs the email field on the form and required")).to_be_visible()
    _make_form(page, server)
    assert _wide(page) <= 1280
    shot(page, "opt-in-settings-desktop")

    key = page.locator(".web-form a", has_text="Open the hosted form").get_attribute("href")
    visitor = page.context.browser.new_context(viewport={"width": 1280, "height": 800})
    public = visitor.new_page()
    public.goto(f"{server}{key}")
    public.get_by_label("Name").fill("Anna Berg")
    public.get_by_label("Email").fill("anna@alder-cafe.example.net")
    public.get_by_label("Message").fill("Three tiers, lemon, for 90 guests")
    public.get_by_role("button", name="Send").click()
    expect(public.locator("h1")).to_have_text("Thank you")
    expect(public.get_by_text("We sent you an email with a link")).to_be_visible()
    lead = Lead.objects.get()
    assert (lead.opt_in, lead.owner_id) == ("pending", None)
    assert OutboundEmail.objects.get().to_address == "anna@alder-cafe.example.net"

    public.goto(f"{server}/f/confirm/{lead.opt_in_token}/")
    expect(public.locator("h1")).to_have_text("Thank you for confirming")
    shot(public, "opt-in-confirmed-desktop")
    lead.refresh_from_db()
    assert (lead.opt_in, lead.owner_id) == ("confirmed", sam.id)
    public.reload()
    expect(public.locator("h1")).to_have_text("Already confirmed")
    answer = public.goto(f"{server}/f/confirm/not-a-real-token/")
    assert answer.status == 404
    expect(public.locator("h1")).to_have_text("This link is not valid")
    shot(public, "opt-in-bad-link-desktop")
    visitor.close()

    page.goto(f"{server}/leads/{lead.id}/")
    expect(page.get_by_text("Confirmed by email:")).to_be_visible()
    expect(page.get_by_text("confirmed by email 20")).to_be_visible()


def test_the_settings_box_and_the_confirm_page_at_390_px(phone, server, shop):
    from rapport.sales import services
    from rapport.sales.models import Lead

    login(phone, server, "olivia@bakery.example.com")
    _make_form(phone, server)
    assert _wide(phone) <= 390
    shot(phone, "opt-in-settings-phone")
    form = services.web_form_create(actor=shop[0], data={
        "name": "Cakes", "fields": ["email"], "required": ["email"], "double_opt_in": True})
    services.web_form_submit(key=form.key, posted={"email": "bo@example.net"}, ip="203.0.113.5",
                             site="http://testserver/")
    token = Lead.objects.get().opt_in_token
    phone.goto(f"{server}/f/confirm/{token}/")
    expect(phone.locator("h1")).to_have_text("Thank you for confirming")
    assert _wide(phone) <= 390
    shot(phone, "opt-in-confirmed-phone")
    phone.goto(f"{server}/f/confirm/{'x' * 40}/")
    expect(phone.locator("h1")).to_have_text("This link is not valid")
    assert _wide(phone) <= 390
    shot(phone, "opt-in-bad-link-phone")
