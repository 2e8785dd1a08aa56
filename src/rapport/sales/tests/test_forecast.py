"""Goals, the weighted pipeline, committed and best case, attainment, territories compared,
who sees what, and the revenue forecast from orders (the Forecaster of insights.ml, fitted)."""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal

import pytest
from django.utils import timezone

from rapport.contacts.models import Contact
from rapport.orders.models import Order
from rapport.sales import selectors, services
from rapport.sales.models import Deal, Goal, Stage, Territory
from rapport.sales.selectors import add_months, month_start

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
THIS_MONTH = month_start(TODAY)


def stage(name: str) -> Stage:
    pipeline = services.ensure_default_pipeline()
    return Stage.objects.get(pipeline=pipeline, name=name)


def deal(owner, amount, stage_name="Qualified", *, close=None, currency="USD",
         territory=None, learned=None, closed_at=None, created_at=None) -> Deal:
    """A deal in a stage (won and lost deals get their closing time)."""
    made = services.deal_create(actor=owner, data={
        "name": f"Deal {amount}", "amount": str(amount), "currency": currency,
        "expected_close": (close or TODAY).isoformat()})
    target = stage(stage_name)
    changes = {"stage": target, "win_probability": learned, "territory": territory}
    if target.is_won or target.is_lost:
        changes["closed_at"] = closed_at or timezone.now()
    Deal.objects.filter(id=made.id).update(**changes)
    if created_at is not None:
        Deal.objects.filter(id=made.id).update(created_at=created_at)
    return Deal.objects.get(id=made.id)


def win(deal_row: Deal, when: dt.datetime | None = None) -> None:
    Deal.objects.filter(id=deal_row.id).update(stage=stage("Won"),
                                               closed_at=when or timezone.now())


# --- the weighted pipeline, committed and best case -------------------------------------------

def test_weighted_pipeline_uses_the_stage_chance_until_a_learned_one_is_set(owner):
    deal(owner, 1000, "Qualified")  # 25 %
    learned = deal(owner, 2000, "Proposal", learned=0.9)  # stage 50 %, learned 90 %
    found = selectors.forecast(user=owner)
    assert found.months[0].weighted == pytest.approx(1000 * 0.25 + 2000 * 0.9)
    Deal.objects.filter(id=learned.id).update(win_probability=None)
    found = selectors.forecast(user=owner)
    assert found.months[0].weighted == pytest.approx(1000 * 0.25 + 2000 * 0.5)
    assert found.headline.weighted == pytest.approx(1250)


def test_committed_best_case_and_won_by_month(owner):
    deal(owner, 4000, "Negotiation")  # 75 %: committed
    deal(owner, 1000, "New")  # 10 %
    deal(owner, 300, "Negotiation", close=THIS_MONTH - dt.timedelta(days=20))  # overdue
    deal(owner, 700, "Proposal", close=add_months(THIS_MONTH, 1) + dt.timedelta(days=3))
    deal(owner, 500, "Won")  # closed now: won this month
    deal(owner, 9000, "Lost")
    undated = deal(owner, 50, "Qualified")
    Deal.objects.filter(id=undated.id).update(expected_close=None)
    deal(owner, 10_000, "Negotiation", currency="EUR")

    found = selectors.forecast(user=owner, months=3)
    now, nxt, later = found.months
    assert now.won == 500
    assert now.committed == pytest.approx(500 + 4000 + 300)
    assert now.best_case == pytest.approx(500 + 4000 + 1000 + 300)
    assert now.weighted == pytest.approx(4000 * .75 + 1000 * .1 + 300 * .75)
    assert now.open_deals == 3
    assert (nxt.weighted, nxt.best_case, nxt.committed) == (pytest.approx(350), 700, 0)
    assert later.best_case == 0
    assert found.no_close_date.open_deals == 1 and found.no_close_date.best_case == 50
    assert found.other_currencies == {"EUR": 1}
    euros = selectors.forecast(user=owner, months=1, currency="eur")
    assert euros.months[0].committed == 10_000 and euros.other_currencies == {"USD": 5}


def test_the_forecast_refuses_a_bad_period_or_horizon(owner):
    from rapport.core.errors import ValidationFailed

    with pytest.raises(ValidationFailed) as bad:
        selectors.forecast(user=owner, period="week")
    assert set(bad.value.errors) == {"period"}
    with pytest.raises(ValidationFailed) as bad:
        selectors.forecast(user=owner, months=0)
    assert set(bad.value.errors) == {"months"}


# --- attainment ---------------------------------------------------------------------------------

def test_attainment_moves_when_a_deal_is_won(owner, sales_a):
    services.goal_create(actor=owner, data={"period": "month", "starts_on": THIS_MONTH,
                                            "amount": "10000"})
    services.goal_create(actor=owner, data={"period": "month", "starts_on": THIS_MONTH,
                                            "amount": "4000", "user_id": sales_a.id})
    services.goal_create(actor=owner, data={
        "period": "quarter", "starts_on": selectors.quarter_start(TODAY), "amount": "30000"})
    big = deal(sales_a, 2500, "Negotiation")
    before = selectors.goal_attainment(user=owner)
    assert [(a.label, a.whose, a.goal, a.won, a.percent) for a in before] == [
        ("This month", "the business", 10000, 0, 0),
        ("This quarter", "the business", 30000, 0, 0)]

    win(big)
    after = selectors.goal_attainment(user=owner)
    assert [(a.won, a.percent) for a in after] == [(2500, 25), (2500, 8)]
    found = selectors.forecast(user=owner)
    rep = next(r for r in found.reps if r.key == sales_a.id)
    assert (rep.won, rep.goal, rep.attainment) == (2500, 4000, pytest.approx(0.625))
    assert found.headline.attainment == pytest.approx(0.25)
    # The rep's own view: their team has no goal; their own goal shows beside it.
    mine = selectors.goal_attainment(user=sales_a)
    assert [(a.whose, a.goal, a.won) for a in mine if a.label == "This month"] == [
        ("your team", None, 2500), ("you", 4000, 2500)]


def test_the_attainment_partial_renders_for_the_kanban(owner, sales_a):
    from django.template.loader import render_to_string

    services.goal_create(actor=owner, data={"period": "month", "starts_on": THIS_MONTH,
                                            "amount": "8000"})
    win(deal(sales_a, 2000, "Proposal"))
    html = render_to_string("sales/_goal_attainment.html",
                            {"attainment": selectors.goal_attainment(user=owner)})
    assert "25%" in html and "won 2,000 of 8,000 USD" in html


# --- territories compared -----------------------------------------------------------------------

def test_territories_compared_with_the_same_days_of_the_period_before(owner):
    north = Territory.objects.create(name="North", position=1)
    south = Territory.objects.create(name="South", position=2)
    today = dt.date(2026, 3, 10)
    at = lambda day: timezone.make_aware(dt.datetime.combine(day, dt.time(12)))  # noqa: E731
    # North: 1,000 won in February's first ten days, 3,000 in March's: growing.
    deal(owner, 1000, "Won", territory=north, closed_at=at(dt.date(2026, 2, 5)),
         created_at=at(dt.date(2026, 1, 5)))
    deal(owner, 3000, "Won", territory=north, closed_at=at(dt.date(2026, 3, 4)),
         created_at=at(dt.date(2026, 1, 5)))
    # South: won 5,000 early in February, nothing yet in March; a 2,000 deal at 25 % opened.
    deal(owner, 5000, "Won", territory=south, closed_at=at(dt.date(2026, 2, 2)),
         created_at=at(dt.date(2026, 1, 5)))
    deal(owner, 2000, "Qualified", territory=south, created_at=at(dt.date(2026, 3, 3)))
    # Won after the same stretch of February: not compared.
    deal(owner, 9000, "Won", territory=south, closed_at=at(dt.date(2026, 2, 20)),
         created_at=at(dt.date(2026, 1, 5)))

    trends, compared = selectors.territory_trends(user=owner, period="month", currency="USD",
                                                  today=today)
    by_name = {t.label: t for t in trends}
    assert (by_name["North"].won, by_name["North"].won_before) == (3000, 1000)
    assert by_name["North"].trend == "growing"
    assert (by_name["South"].won, by_name["South"].won_before) == (0, 5000)
    assert by_name["South"].pipeline == pytest.approx(500)
    assert by_name["South"].trend == "declining"
    assert compared == "1 Feb–10 Feb 2026"


# --- goals: bad input, permissions, the API -----------------------------------------------------

def test_bad_goals_are_422_naming_the_field_and_store_nothing(owner, sales_a, sales_b, api_as):
    api = api_as(owner)
    cases = [
        ({"period": "month", "starts_on": THIS_MONTH.isoformat(), "amount": "-1"}, {"amount"}),
        ({"period": "month", "starts_on": f"{THIS_MONTH:%Y-%m}-02", "amount": "5"},
         {"starts_on"}),
        ({"period": "quarter", "starts_on": "2026-02-01", "amount": "5"}, {"starts_on"}),
        ({"period": "week", "starts_on": THIS_MONTH.isoformat(), "amount": "5"}, {"period"}),
        ({"period": "month", "starts_on": THIS_MONTH.isoformat(), "amount": "5",
          "user_id": sales_a.id, "team_id": sales_a.team_id}, {"territory_id"}),
        ({"period": "month", "starts_on": THIS_MONTH.isoformat(), "amount": "5",
          "user_id": 999_999}, {"user_id"}),
        ({"period": "month", "starts_on": THIS_MONTH.isoformat(), "amount": "5",
          "territory_id": 999_999}, {"territory_id"}),
    ]
    for body, fields in cases:
        answer = api.post("/goals", body)
        assert answer.status_code == 422, (body, answer.json())
        assert set(answer.json()["errors"]) == fields, body
    assert Goal.objects.count() == 0
    first = api.post("/goals", {"period": "month", "starts_on": THIS_MONTH.isoformat(),
                                "amount": "5000", "currency": "usd"})
    assert first.status_code == 201 and first.json()["currency"] == "USD"
    again = api.post("/goals", {"period": "month", "starts_on": THIS_MONTH.isoformat(),
                                "amount": "6000"})
    assert again.status_code == 422 and "change that one" in again.json()["errors"]["starts_on"][0]
    assert api.patch(f"/goals/{first.json()['id']}", {"amount": "-3"}).status_code == 422
    assert Goal.objects.get().amount == Decimal("5000")


def test_who_may_set_and_see_goals(owner, manager_a, sales_a, sales_a2, sales_b, api_as):
    month = THIS_MONTH.isoformat()
    business = api_as(owner).post("/goals", {"period": "month", "starts_on": month,
                                             "amount": "50000"}).json()
    manager = api_as(manager_a)
    team = manager.post("/goals", {"period": "month", "starts_on": month, "amount": "20000",
                                   "team_id": sales_a.team_id})
    assert team.status_code == 201
    sam = manager.post("/goals", {"period": "month", "starts_on": month, "amount": "8000",
                                  "user_id": sales_a.id})
    assert sam.status_code == 201
    # Not their team, nor the business: 403 and nothing stored.
    assert manager.post("/goals", {"period": "month", "starts_on": month, "amount": "1",
                                   "user_id": sales_b.id}).status_code == 403
    assert manager.post("/goals", {"period": "quarter", "starts_on": "2026-01-01",
                                   "amount": "1"}).status_code == 403
    assert api_as(sales_a).post("/goals", {"period": "month", "starts_on": month,
                                           "amount": "1", "user_id": sales_a.id}
                                ).status_code == 403
    bob = api_as(owner).post("/goals", {"period": "month", "starts_on": month, "amount": "7000",
                                        "user_id": sales_b.id}).json()
    assert Goal.objects.count() == 4

    def seen(user) -> set[int]:
        return {g["id"] for g in api_as(user).get("/goals").json()["items"]}

    assert seen(owner) == {business["id"], team.json()["id"], sam.json()["id"], bob["id"]}
    assert seen(sales_a2) == {team.json()["id"], sam.json()["id"]}  # team-mate and team
    assert seen(sales_b) == {bob["id"]}
    # A rep may not change a goal they see (403), nor one they cannot see (404).
    assert api_as(sales_a2).patch(f"/goals/{sam.json()['id']}", {"amount": "1"}
                                  ).status_code == 403
    assert api_as(sales_b).delete(f"/goals/{sam.json()['id']}").status_code == 404
    assert manager.delete(f"/goals/{bob['id']}").status_code == 404
    changed = manager.patch(f"/goals/{sam.json()['id']}", {"amount": "9000"})
    assert changed.status_code == 200 and changed.json()["amount"] == "9000.00"
    assert manager.delete(f"/goals/{sam.json()['id']}").status_code == 204
    assert Goal.objects.count() == 3


def test_goal_list_filters_and_pages(owner, sales_a, api_as):
    for i in range(5):
        services.goal_create(actor=owner, data={"period": "month",
                                                "starts_on": add_months(THIS_MONTH, i),
                                                "amount": str(1000 * (i + 1))})
    services.goal_create(actor=owner, data={"period": "quarter", "starts_on": "2026-01-01",
                                            "amount": "9", "user_id": sales_a.id})
    api = api_as(owner)
    first = api.get("/goals", period="month", limit=3).json()
    assert [g["starts_on"] for g in first["items"]] == [
        add_months(THIS_MONTH, i).isoformat() for i in (4, 3, 2)]
    rest = api.get("/goals", period="month", limit=3, cursor=first["next_cursor"]).json()
    assert len(rest["items"]) == 2 and rest["next_cursor"] is None
    mine = api.get("/goals", target="user").json()["items"]
    assert [(g["period"], g["user_id"]) for g in mine] == [("quarter", sales_a.id)]
    assert api.get("/goals", target="planet").status_code == 422
    assert api.get("/goals", starts_from=add_months(THIS_MONTH, 3).isoformat()
                   ).json()["items"][-1]["starts_on"] == add_months(THIS_MONTH, 3).isoformat()


# --- who sees which figures ---------------------------------------------------------------------

def test_a_rep_sees_only_their_teams_figures(owner, manager_a, sales_a, sales_a2, sales_b,
                                             api_as):
    deal(sales_a, 1000, "Negotiation")
    deal(sales_a2, 2000, "Negotiation")
    deal(sales_b, 4000, "Negotiation")
    win(deal(sales_b, 800, "Proposal"))

    def figures(user):
        found = selectors.forecast(user=user)
        return found.months[0].best_case, {r.key for r in found.reps}

    assert figures(owner) == (7800, {sales_a.id, sales_a2.id, sales_b.id})
    assert figures(sales_a) == (3000, {sales_a.id, sales_a2.id})
    assert figures(manager_a) == (3000, {sales_a.id, sales_a2.id})
    assert figures(sales_b) == (4800, {sales_b.id})
    body = api_as(sales_a).get("/forecast").json()
    assert body["by_month"][0]["best_case"] == 3000 and body["goal_of"] == "your team"
    assert {r["label"] for r in body["by_rep"]} == {sales_a.display_name, sales_a2.display_name}
    assert api_as(sales_a).get("/forecast", period="year").status_code == 422


def test_pages_show_the_forecast_and_goals(owner, sales_a, web_as):
    deal(sales_a, 1200, "Negotiation")
    services.goal_create(actor=owner, data={"period": "month", "starts_on": THIS_MONTH,
                                            "amount": "3000"})
    page = web_as(owner).get("/deals/forecast/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "chart-month-data" in html and "sales/vendor/plotly.min.js" in html
    assert "3,000" in html and "900" in html  # the goal, and 1,200 × 75 %
    goals = web_as(owner).post("/deals/goals/", {"for": "business", "period": "month",
                                                 "starts_on": THIS_MONTH.isoformat(),
                                                 "amount": "-5"})
    assert goals.status_code == 422 and Goal.objects.count() == 1
    made = web_as(owner).post("/deals/goals/", {"for": f"user:{sales_a.id}", "period": "month",
                                                "starts_on": THIS_MONTH.isoformat(),
                                                "amount": "1500"})
    assert made.status_code == 302 and Goal.objects.get(user=sales_a).amount == 1500
    assert web_as(sales_a).post("/deals/goals/", {"for": "business", "period": "month",
                                                  "starts_on": THIS_MONTH.isoformat(),
                                                  "amount": "1"}).status_code == 403


# --- the revenue forecast from orders ------------------------------------------------------------

def _orders(owner, months: int, *, contact=None) -> Contact:
    """``months`` full months of orders before this one: a trend, a yearly swing and noise."""
    contact = contact or Contact.objects.create(first_name="Ann", last_name="Buyer",
                                                owner=owner)
    rows = []
    for i in range(months):
        month = add_months(THIS_MONTH, i - months)
        level = 10_000 + 150 * i + 2_000 * math.sin(2 * math.pi * month.month / 12)
        for k, share in enumerate((0.5, 0.3, 0.2 + 0.02 * ((i * 7) % 5 - 2))):
            rows.append(Order(contact=contact, total=Decimal(f"{level * share:.2f}"),
                              ordered_at=timezone.make_aware(dt.datetime(
                                  month.year, month.month, 3 + 9 * k, 12))))
    Order.objects.bulk_create(rows)
    return contact


def test_the_revenue_forecast_fits_the_order_history_with_its_backtest_error(owner):
    _orders(owner, 24)
    result = selectors.revenue_forecast(user=owner)
    assert result.ok, result.message
    assert result.months_used == 24 and len(result.history) == 24
    assert [m for m, *_ in result.ahead] == [add_months(THIS_MONTH, i) for i in range(6)]
    for _, value, low, high in result.ahead:
        assert low <= value <= high and 5_000 < value < 25_000
    assert result.backtest_months == 6
    assert result.error_percent is not None and 0 <= result.error_percent < 30
    assert result.mase is not None and result.mase > 0
    assert result.method
    # Cached for the day: the next read fits nothing (no queries, the same result).
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        again = selectors.revenue_forecast(user=owner)
    assert again.ahead == result.ahead and len(queries) == 0


def test_a_short_order_history_gets_a_clear_message(owner):
    _orders(owner, 5)
    result = selectors.revenue_forecast(user=owner)
    assert not result.ok and result.months_used == 5
    assert "Only 5 full months of orders" in result.message and "needs 13" in result.message


def test_a_rep_forecasts_only_the_orders_they_may_see(owner, sales_a, sales_b):
    _orders(owner, 20, contact=Contact.objects.create(first_name="Sam's", last_name="Customer",
                                                      owner=sales_a))
    assert selectors.revenue_forecast(user=sales_a).ok
    theirs = selectors.revenue_forecast(user=sales_b)
    assert not theirs.ok and theirs.history == []
    assert "No orders before this month" in theirs.message
