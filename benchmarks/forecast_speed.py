"""Speed of the Forecast page with 10,000 open deals and two years of orders.

Usage:
    python benchmarks/forecast_speed.py --database-url sqlite:////tmp/rapport_bench/forecast.sqlite3
    python benchmarks/forecast_speed.py --database-url postgres://postgres@127.0.0.1:5432/rb_fc

Migrates the database and, the first time, seeds a business: 12 reps in 3 teams, 4
territories, 10,000 open deals spread over the stages and the next 8 months (a third with a
learned win probability), 2,400 won and lost deals over two years, monthly goals for the
business, the teams and every rep, and about 24,000 orders over the last 24 months. Then it
times, through Django's whole request stack, the Forecast page (owner and a sales rep), its
revenue part (fitted once, then read from the day's cache), the goal attainment partial's
selector and ``GET /api/v1/forecast``. Prints one table (what, n, p50, p95, target) and the
load average while it ran; the one-off fit of the revenue forecast is printed beside it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import os
import pathlib
import random
import statistics
import sys
import tempfile
import time
from decimal import Decimal

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from foundation_speed import _setup_django  # noqa: E402

TARGET_MS = 300.0
OPEN_DEALS = 10_000


def _business():
    from django.utils import timezone

    from rapport.accounts import services as accounts
    from rapport.accounts.models import User
    from rapport.contacts.models import Contact
    from rapport.orders.models import Order
    from rapport.sales import services
    from rapport.sales.models import Deal, Goal, Stage, Territory
    from rapport.sales.selectors import add_months, month_start

    owner = User.objects.filter(email="owner@forecast.bench").first()
    if owner is not None:
        return owner, User.objects.get(email="north0@forecast.bench")
    owner = accounts.user_create(email="owner@forecast.bench", role="owner",
                                 password="bench-pass-123", team_name=None)
    reps = [accounts.user_create(email=f"{team}{i}@forecast.bench", role="sales",
                                 team_name=team, password="bench-pass-123",
                                 first_name=f"{team.title()}{i}")
            for team in ("north", "south", "west") for i in range(4)]
    territories = [Territory.objects.create(name=name, position=i)
                   for i, name in enumerate(("Nordics", "UK", "DACH", "Benelux"), start=1)]
    pipeline = services.ensure_default_pipeline()
    stages = list(Stage.objects.filter(pipeline=pipeline).order_by("position"))
    open_stages = [s for s in stages if not s.is_won and not s.is_lost]
    won = next(s for s in stages if s.is_won)
    lost = next(s for s in stages if s.is_lost)
    rng = random.Random(7)
    today = timezone.localdate()
    first = month_start(today)
    now = timezone.now()
    deals = []
    for i in range(OPEN_DEALS):
        rep = reps[i % len(reps)]
        deals.append(Deal(
            name=f"Deal {i}", amount=Decimal(rng.randrange(500, 50_000)), currency="USD",
            expected_close=add_months(first, rng.randrange(-1, 8)) + dt.timedelta(
                days=rng.randrange(0, 27)) if i % 40 else None,
            owner=rep, pipeline=pipeline, stage=open_stages[i % len(open_stages)],
            territory=territories[i % len(territories)] if i % 9 else None,
            win_probability=round(rng.random(), 3) if i % 3 == 0 else None,
            stage_entered_at=now))
    for i in range(2_400):
        closed = now - dt.timedelta(days=rng.randrange(0, 730))
        deals.append(Deal(
            name=f"Closed {i}", amount=Decimal(rng.randrange(500, 50_000)), currency="USD",
            expected_close=closed.date(), owner=reps[i % len(reps)], pipeline=pipeline,
            stage=won if i % 3 else lost, territory=territories[i % len(territories)],
            closed_at=closed, stage_entered_at=closed))
    Deal.objects.bulk_create(deals, batch_size=2000)
    goals = []
    for k in range(-3, 9):
        start = add_months(first, k)
        goals.append(Goal(period="month", starts_on=start, amount=Decimal(600_000)))
        goals += [Goal(period="month", starts_on=start, amount=Decimal(50_000), user=rep)
                  for rep in reps]
        goals += [Goal(period="month", starts_on=start, amount=Decimal(200_000),
                       team_id=team_id) for team_id in {rep.team_id for rep in reps}]
    Goal.objects.bulk_create(goals)
    contacts = Contact.objects.bulk_create([
        Contact(first_name=f"Customer{i}", last_name="Bench", owner=reps[i % len(reps)])
        for i in range(300)])
    orders = []
    for k in range(-24, 1):
        month = add_months(first, k)
        level = 1_000 * (1 + 0.01 * (k + 24)) * (1 + 0.2 * math.sin(2 * math.pi * month.month
                                                                      / 12))
        days = 28 if k < 0 else max(today.day, 1)
        for n in range(1_000 if k < 0 else 30):
            orders.append(Order(contact=contacts[n % len(contacts)],
                                total=Decimal(f"{level * rng.uniform(0.5, 1.5):.2f}"),
                                ordered_at=timezone.make_aware(dt.datetime(
                                    month.year, month.month, 1 + n % days, 9 + n % 9))))
    Order.objects.bulk_create(orders, batch_size=5000)
    return owner, reps[0]


def _times(run, n: int) -> list[float]:
    out = []
    for _ in range(n):
        start = time.perf_counter()
        run()
        out.append((time.perf_counter() - start) * 1000)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--requests", type=int, default=60, help="timed requests per row")
    args = parser.parse_args()
    home = pathlib.Path(tempfile.gettempdir()) / "rapport_bench_home"
    home.mkdir(exist_ok=True)
    _setup_django(args.database_url, home)
    from django.core.cache import cache
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    call_command("migrate", interactive=False, verbosity=0)
    started = time.perf_counter()
    owner, rep = _business()
    seeded = time.perf_counter() - started
    from rapport.accounts import services as accounts
    from rapport.orders.models import Order
    from rapport.sales import selectors
    from rapport.sales.models import Deal

    token = accounts.token_create(user=owner, name="bench").raw
    problems: list[str] = []
    clients = {}
    for who, user in (("owner", owner), ("rep", rep)):
        client = Client()
        client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
        clients[who] = client

    def get(who: str, url: str, **headers) -> None:
        answer = clients[who].get(url, headers=headers)
        if answer.status_code != 200:
            problems.append(f"{url}: {answer.status_code} {answer.content[:200]!r}")

    def api() -> None:
        answer = clients["owner"].get("/api/v1/forecast",
                                      headers={"Authorization": f"Bearer {token}"})
        if answer.status_code != 200:
            problems.append(f"api: {answer.status_code} {answer.content[:200]!r}")

    cache.clear()
    fit_started = time.perf_counter()
    fitted = selectors.revenue_forecast(user=owner)
    cold_fit = time.perf_counter() - fit_started
    if not fitted.ok:
        problems.append(f"revenue forecast: {fitted.message}")
    get("owner", "/deals/forecast/")  # warm: templates, the rep's revenue fit
    get("rep", "/deals/forecast/")
    get("rep", "/deals/forecast/revenue/", HX_Request="true")
    loads = [os.getloadavg()[0]]
    rows = []
    timed = (
        ("Forecast page, owner (every deal)", lambda: get("owner", "/deals/forecast/")),
        ("Forecast page, sales rep (their team)", lambda: get("rep", "/deals/forecast/")),
        ("Forecast page, quarter, 12 months", lambda: get(
            "owner", "/deals/forecast/?period=quarter&months=12")),
        ("revenue forecast part (cached fit)", lambda: get(
            "owner", "/deals/forecast/revenue/", HX_Request="true")),
        ("goal_attainment(user=owner) (kanban partial)",
         lambda: selectors.goal_attainment(user=owner)),
        ("GET /api/v1/forecast", api),
    )
    for what, run in timed:
        ms = _times(run, args.requests)
        loads.append(os.getloadavg()[0])
        q = statistics.quantiles(ms, n=100)
        rows.append((what, str(len(ms)), f"{statistics.median(ms):.1f}", f"{q[94]:.1f}",
                     f"≤ {TARGET_MS:.0f}", "yes" if q[94] <= TARGET_MS else "NO"))
    columns = ("what", "n", "p50 ms", "p95 ms", "target p95", "met")
    widths = [max(len(c), *(len(r[i]) for r in rows)) for i, c in enumerate(columns)]
    open_deals = Deal.objects.filter(stage__is_won=False, stage__is_lost=False).count()
    print(f"\nforecast page on {connection.vendor} ({open_deals:,} open deals, "
          f"{Deal.objects.count():,} deals, {Order.objects.count():,} orders; "
          f"seeding took {seeded:.1f} s)")
    print("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)))
    print(f"revenue forecast fitted once (cache empty): {cold_fit:.2f} s, "
          f"{fitted.months_used} months, {fitted.method or '-'}, typical error "
          f"{'-' if fitted.error_percent is None else round(fitted.error_percent, 1)}%")
    one, five, fifteen = os.getloadavg()
    print(f"load average (1 min) while it ran: {', '.join(f'{x:.2f}' for x in loads)}; "
          f"at the end (1, 5, 15 min): {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} "
          f"cores")
    if problems:
        print(f"{len(problems)} unexpected answers, e.g. {problems[0]}")
        raise SystemExit(1)


if __name__ == "__main__":
    main()
