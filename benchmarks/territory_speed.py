"""Speed of territories and first response: matching, capture through territory rules, and
the first-response sweep.

Usage:
    python benchmarks/territory_speed.py --database-url sqlite:////tmp/rapport_bench/terr.sqlite3
    python benchmarks/territory_speed.py --database-url postgres://postgres@127.0.0.1:5432/rb_terr

Migrates the database and sets up a business with ``--territories`` territories (country,
postcode prefixes and industries, overlapping on purpose), one round-robin assignment rule per
territory with a 30-minute first response, a product-line rule above them and a catch-all
below; then times, one at a time: ``territory_for`` on varied facts, ``lead_capture`` (enrich,
score, assign through the territory rules, in one transaction), and one first-response sweep
over ``--overdue`` leads nobody answered (each handed to the next member, its manager given a
task). Prints one table (what, n, p50, p95 or total) and the load average while it ran: on a
shared machine a busy neighbour shows there.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import pathlib
import statistics
import sys
import tempfile
import time

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from foundation_speed import _setup_django  # noqa: E402

COUNTRIES = ("SE", "NO", "DK", "GB", "DE", "US", "FR", "NL", "FI", "ES")
INDUSTRIES = ("retail", "hospitality", "bakery", "")


def _business(territories: int):
    from rapport.accounts import services as accounts
    from rapport.accounts.models import User
    from rapport.sales import services
    from rapport.sales.models import Territory

    owner = User.objects.filter(email="owner@terr.bench").first()
    if owner is not None:
        return owner
    owner = accounts.user_create(email="owner@terr.bench", role="owner",
                                 password="bench-pass-123", team_name=None)
    reps = [accounts.user_create(email=f"rep{i}@terr.bench", role="sales", team_name=f"t{i % 8}",
                                 password="bench-pass-123") for i in range(40)]
    managers = [accounts.user_create(email=f"mgr{i}@terr.bench", role="manager",
                                     team_name=f"t{i}", password="bench-pass-123")
                for i in range(8)]
    services.assignment_rule_create(actor=owner, data={
        "name": "Oven experts", "method": "least_loaded", "team_id": reps[0].team_id,
        "product_lines": "ovens, proofers", "first_response_minutes": 30})
    for n in range(territories):
        territory = services.territory_create(actor=owner, data={
            "name": f"Territory {n}", "countries": [COUNTRIES[n % len(COUNTRIES)]],
            "postcode_prefixes": [str(n % 10)] if n >= len(COUNTRIES) else [],
            "industries": [INDUSTRIES[n % 4]] if INDUSTRIES[n % 4] and n % 3 == 0 else [],
            "member_ids": [reps[(n + k) % len(reps)].id for k in range(3)],
            "manager_id": managers[n % len(managers)].id})
        services.assignment_rule_create(actor=owner, data={
            "name": f"Desk {n}", "method": "round_robin", "territory_id": territory.id,
            "first_response_minutes": 30})
    services.assignment_rule_create(actor=owner, data={
        "name": "Everyone else", "method": "round_robin", "team_id": reps[1].team_id})
    assert Territory.objects.count() == territories
    return owner


def _times(run, n: int) -> list[float]:
    out = []
    for i in range(n):
        start = time.perf_counter()
        run(i)
        out.append((time.perf_counter() - start) * 1000)
    return out


def _row(what: str, ms: list[float]) -> tuple[str, ...]:
    q = statistics.quantiles(ms, n=100)
    return (what, f"{len(ms):,}", f"{statistics.median(ms):.2f}", f"{q[94]:.2f}",
            f"{sum(ms) / 1000:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--territories", type=int, default=50)
    parser.add_argument("--requests", type=int, default=300, help="timed calls per row")
    parser.add_argument("--overdue", type=int, default=1000,
                        help="leads the sweep hands on")
    args = parser.parse_args()
    home = pathlib.Path(tempfile.gettempdir()) / "rapport_bench_home"
    home.mkdir(exist_ok=True)
    _setup_django(args.database_url, home)
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", interactive=False, verbosity=0)
    _business(args.territories)
    from rapport.activities.models import Task
    from rapport.sales import services
    from rapport.sales.models import Lead

    run = f"{int(time.time())}"

    def facts(i: int) -> dict[str, str]:
        return {"country": COUNTRIES[i % len(COUNTRIES)], "postcode": f"{i % 97:02d}123",
                "industry": INDUSTRIES[i % 4], "company_size": "11-50"}

    def capture(i: int, prefix: str) -> Lead:
        return services.lead_capture(actor=None, data={
            "email": f"{prefix}{run}.{i}@firm{i % 300}.example", **facts(i),
            "product_interest": "ovens" if i % 10 == 0 else ""}).lead

    loads = [os.getloadavg()[0]]
    rows = []
    rows.append(_row(f"territory_for, {args.territories} territories",
                     _times(lambda i: services.territory_for(**facts(i)), args.requests)))
    loads.append(os.getloadavg()[0])
    _times(lambda i: capture(i, "warm"), 20)
    rows.append(_row("lead_capture → enriched, scored, assigned by territory",
                     _times(lambda i: capture(i, "new"), args.requests)))
    loads.append(os.getloadavg()[0])

    made = [capture(i, "late").id for i in range(args.overdue)]
    late = max(Lead.objects.filter(id__in=made, respond_by__isnull=False)
               .values_list("respond_by", flat=True)) + dt.timedelta(minutes=1)
    # Every lead captured above is overdue by then, not only these.
    due = Lead.objects.filter(respond_by__lte=late, first_touched_at__isnull=True).count()
    tasks_before = Task.objects.count()
    start = time.perf_counter()
    handed = services.first_response_sweep(now=late, limit=args.overdue * 2)
    seconds = time.perf_counter() - start
    loads.append(os.getloadavg()[0])
    rows.append((f"first-response sweep over {due:,} overdue leads (handed on {handed:,}, "
                 f"{Task.objects.count() - tasks_before:,} manager tasks)", f"{due:,}",
                 f"{seconds * 1000 / max(due, 1):.2f}", "—", f"{seconds:.2f}"))
    again = time.perf_counter()
    twice = services.first_response_sweep(now=late, limit=args.overdue * 2)
    rows.append(("the same sweep again (nothing left to do)", f"{twice}", "—", "—",
                 f"{time.perf_counter() - again:.2f}"))

    columns = ("what", "n", "p50 ms (per lead)", "p95 ms", "total s")
    widths = [max(len(c), *(len(r[i]) for r in rows)) for i, c in enumerate(columns)]
    print(f"\nterritories and first response on {connection.vendor} "
          f"({Lead.objects.count():,} leads stored)")
    print("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)))
    one, five, fifteen = os.getloadavg()
    print(f"load average (1 min) while it ran: {', '.join(f'{x:.2f}' for x in loads)}; "
          f"at the end (1, 5, 15 min): {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} "
          f"cores")
    if twice:
        print(f"the second sweep handed on {twice} leads: it should have found none")
        raise SystemExit(1)


if __name__ == "__main__":
    main()
