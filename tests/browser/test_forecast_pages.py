"""The Forecast and Goals pages in a real Chromium: the charts draw (plotly.js served by Rapport,
under its content security policy), the revenue forecast arrives with its backtest error, a
goal is set (and a negative one refused) and the attainment changes; at desktop and at phone
width nothing scrolls sideways."""

from __future__ import annotations

import datetime as dt
import math
import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from tests.browser.support import login, make_user, open_nav, shot


@pytest.fixture
def business(transactional_db):
    from django.utils import timezone

    from rapport.contacts.models import Contact
    from rapport.orders.models import Order
    from rapport.sales import services
    from rapport.sales.models import Deal, Stage, Territory
    from rapport.sales.selectors import add_months, month_start

    owner = make_user("olivia@bakery.example.com", "owner", first_name="Olivia",
                      last_name="Baker")
    sam = make_user("sam@bakery.example.com", "sales", team="nordics", first_name="Sam",
                    last_name="Berg")
    bob = make_user("bob@bakery.example.com", "sales", team="uk", first_name="Bob",
                    last_name="Hale")
    north = Territory.objects.create(name="Nordics", position=1)
    uk = Territory.objects.create(name="United Kingdom", position=2)
    pipeline = services.ensure_default_pipeline()
    stages = {s.name: s for s in Stage.objects.filter(pipeline=pipeline)}
    first = month_start(timezone.localdate())
    for i, (rep, amount, stage, months_ahead, territory) in enumerate([
            (sam, 12000, "Negotiation", 0, north), (sam, 8000, "Proposal", 1, north),
            (sam, 5000, "Qualified", 2, north), (bob, 15000, "Negotiation", 0, uk),
            (bob, 6000, "New", 1, uk), (bob, 9000, "Proposal", 3, uk)]):
        deal = services.deal_create(actor=owner, data={
            "name": f"Deal {i}", "amount": str(amount), "owner_id": rep.id,
            "expected_close": (add_months(first, months_ahead) + dt.timedelta(days=9))
            .isoformat()})
        Deal.objects.filter(id=deal.id).update(stage=stages[stage], territory=territory)
    services.goal_create(actor=owner, data={"period": "month", "starts_on": first,
                                            "amount": "30000"})
    for i in range(1, 4):
        services.goal_create(actor=owner, data={"period": "month",
                                                "starts_on": add_months(first, i),
                                                "amount": str(25000 + 2500 * i)})
    customer = Contact.objects.create(first_name="Corner", last_name="Café", owner=owner)
    Order.objects.bulk_create([
        Order(contact=customer, ordered_at=timezone.make_aware(dt.datetime(
            month.year, month.month, 12, 10)),
            total=Decimal(f"{20000 + 400 * i + 3000 * math.sin(i / 1.9):.2f}"))
        for i, month in enumerate(add_months(first, k) for k in range(-18, 0))])
    return owner, sam, bob


def _wide(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


def test_the_forecast_page_draws_its_charts_and_the_revenue_forecast(page, server, business):
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    login(page, server, "olivia@bakery.example.com")
    open_nav(page, "Forecast", group="Sales")
    expect(page.locator("h1")).to_have_text("Forecast")
    expect(page.locator("#chart-month .main-svg").first).to_be_visible()
    expect(page.locator("#chart-rep .main-svg").first).to_be_visible()
    expect(page.locator("#chart-territory .main-svg").first).to_be_visible()
    # The month chart's legend names the four series and the goal.
    legend = page.locator("#chart-month .legend")
    for name in ("Weighted pipeline", "Committed", "Best case", "Goal (the business)"):
        expect(legend).to_contain_text(name)
    expect(page.locator("table.figures").first).to_contain_text("30,000")
    expect(page.locator(".attainment")).to_contain_text("no goal set")  # the quarter
    expect(page.locator("#revenue-forecast")).to_contain_text("Typical error ±",
                                                              timeout=90_000)
    expect(page.locator("#chart-revenue .main-svg").first).to_be_visible()
    expect(page.locator("#revenue-forecast")).to_contain_text("learned from 18 months")
    assert _wide(page) <= 1280
    shot(page, "forecast-desktop")
    assert not [e for e in errors if "Content Security Policy" in e or "plotly" in e.lower()], \
        errors

    page.goto(f"{server}/deals/forecast/?period=quarter")
    expect(page.get_by_role("heading", name=re.compile(r"^Q[1-4] \d{4} by rep$"))).to_be_visible()
    page.context.clear_cookies()
    login(page, server, "sam@bakery.example.com")
    page.goto(f"{server}/deals/forecast/")
    reps = page.locator("table.figures").nth(1)
    expect(reps).to_contain_text("Sam Berg")
    expect(reps).not_to_contain_text("Bob Hale")


def test_goals_are_set_on_their_page_and_show_in_the_attainment(page, server, business):
    login(page, server, "olivia@bakery.example.com")
    page.goto(f"{server}/deals/goals/")
    expect(page.locator("table.list")).to_contain_text("30,000 USD")
    form = page.locator("form.card")
    form.get_by_label("For").select_option(label="Sam Berg")
    form.get_by_label("Amount").fill("-10")
    form.get_by_role("button", name="Set goal").click()
    expect(page.locator(".error")).to_contain_text("greater than or equal to 0")
    form = page.locator("form.card")
    form.get_by_label("Amount").fill("10000")
    form.get_by_role("button", name="Set goal").click()
    expect(page.locator(".messages")).to_contain_text("Goal set.")
    expect(page.locator("table.list")).to_contain_text("Sam Berg")
    assert _wide(page) <= 1280
    shot(page, "goals-desktop")

    page.context.clear_cookies()
    login(page, server, "sam@bakery.example.com")
    page.goto(f"{server}/deals/forecast/")
    attainment = page.locator(".attainment")
    expect(attainment).to_contain_text("you")
    expect(attainment).to_contain_text("won 0 of 10,000 USD")


def test_forecast_and_goals_fit_a_phone(phone, server, business):
    login(phone, server, "olivia@bakery.example.com")
    phone.goto(f"{server}/deals/forecast/")
    expect(phone.locator("#chart-month .main-svg").first).to_be_visible()
    expect(phone.locator("#chart-revenue .main-svg").first).to_be_visible(timeout=90_000)
    box = phone.locator("#chart-month").bounding_box()
    assert box is not None and box["width"] <= 390
    assert _wide(phone) <= 390
    shot(phone, "forecast-phone")
    phone.goto(f"{server}/deals/goals/")
    expect(phone.locator("h1")).to_have_text("Revenue goals")
    assert _wide(phone) <= 390
    shot(phone, "goals-phone")
