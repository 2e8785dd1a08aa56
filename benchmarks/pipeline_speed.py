"""Speed of the deals board and of stage moves, with 10,000 open deals.

Usage:
    python benchmarks/pipeline_speed.py --database-url sqlite:////tmp/rapport_bench/pipeline.sqlite3
    python benchmarks/pipeline_speed.py --database-url postgres://postgres@127.0.0.1:5432/rb_pipeline

Migrates the database, then (once) makes a business of 17 users in two teams, a six-stage
pipeline, three territories, ``--open`` open deals spread over the four open stages and the
reps, and 2,000 closed ones (won and lost, half in the last 30 days so they show on the board).
Then, through Django's whole request stack (session, middleware, view, template):

- the board's first render (``GET /deals/board/``: six columns, their counts and totals, the
  first 20 cards of each) for the owner (everyone's deals), a team-scoped sales rep and the
  owner filtered to one territory;
- a stage move: ``POST /api/v1/deals/{id}/move`` (Bearer token) and the board's own move
  (``POST /deals/{id}/move/`` answering JSON: the card and the new totals of the two columns
  it left and entered).

Prints one table (what, n, wall-clock p50 and p95, this process's CPU time p50 and p95,
target) and the load average while it ran: on a shared machine a busy neighbour shows there,
and the CPU columns say what the requests cost regardless.
"""

from __future__ import annotations

import argparse
import datetime as dt
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

BOARD_TARGET_MS = 200.0
MOVE_TARGET_MS = 50.0
PASSWORD = "bench-pass-123"


def _business(open_deals: int):
    from django.utils import timezone

    from rapport.accounts import services as accounts
    from rapport.accounts.models import User
    from rapport.sales import services
    from rapport.sales.models import Deal, Pipeline, Stage, Territory

    owner = User.objects.filter(email="owner@pipeline.bench").first()
    if owner is None:
        owner = accounts.user_create(email="owner@pipeline.bench", role="owner",
                                     password=PASSWORD, team_name=None)
        for team in ("north", "south"):
            accounts.user_create(email=f"manager.{team}@pipeline.bench", role="manager",
                                 team_name=team, password=PASSWORD)
            for i in range(7):
                accounts.user_create(email=f"{team}{i}@pipeline.bench", role="sales",
                                     team_name=team, password=PASSWORD)
    pipeline = Pipeline.objects.filter(name="Bench").first()
    if pipeline is None:
        pipeline = services.pipeline_create(actor=owner, data={"name": "Bench",
                                                               "is_default": True})
        for i, name in enumerate(("Nordics", "UK", "DACH"), start=1):
            Territory.objects.create(name=f"{name} bench", position=100 + i)
    stages = list(Stage.objects.filter(pipeline=pipeline).order_by("position"))
    open_stages = [s for s in stages if not (s.is_won or s.is_lost)]
    won, lost = [s for s in stages if s.is_won][0], [s for s in stages if s.is_lost][0]
    reps = list(User.objects.filter(email__endswith="@pipeline.bench").exclude(
        email="owner@pipeline.bench").order_by("id"))
    territories = list(Territory.objects.filter(name__endswith=" bench").order_by("id"))
    have = Deal.objects.filter(pipeline=pipeline, closed_at__isnull=True).count()
    now = timezone.now()
    rng = random.Random(7)
    if have < open_deals:
        rows = []
        for i in range(have, open_deals):
            entered = now - dt.timedelta(minutes=rng.randrange(0, 60 * 24 * 120))
            rows.append(Deal(
                name=f"Bench deal {i}", amount=Decimal(rng.randrange(100, 50_000)),
                currency="EUR" if i % 5 else "SEK", owner=reps[i % len(reps)],
                pipeline=pipeline, stage=open_stages[i % len(open_stages)],
                territory=territories[i % 4] if i % 4 < 3 else None,
                expected_close=(now + dt.timedelta(days=rng.randrange(5, 200))).date(),
                stage_entered_at=entered))
        Deal.objects.bulk_create(rows, batch_size=2000)
        closed = []
        for i in range(2000):
            when = now - dt.timedelta(days=rng.randrange(0, 60), minutes=rng.randrange(0, 1440))
            closed.append(Deal(
                name=f"Bench closed {i}", amount=Decimal(rng.randrange(100, 50_000)),
                currency="EUR", owner=reps[i % len(reps)], pipeline=pipeline,
                stage=won if i % 3 else lost, lost_reason="" if i % 3 else "price",
                stage_entered_at=when, closed_at=when))
        Deal.objects.bulk_create(closed, batch_size=2000)
    return owner, pipeline, stages, territories


def _times(run, n: int) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU milliseconds of each call. The CPU time is this process's own
    (Python, templates, the SQLite library; not a PostgreSQL server's): on a machine shared
    with busy neighbours it shows what a request costs when the wall clock cannot."""
    wall, cpu = [], []
    for i in range(n):
        start, start_cpu = time.perf_counter(), time.process_time()
        run(i)
        wall.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--open", type=int, default=10_000, help="open deals on the board")
    parser.add_argument("--requests", type=int, default=200, help="timed requests per row")
    args = parser.parse_args()
    home = pathlib.Path(tempfile.gettempdir()) / "rapport_bench_home"
    home.mkdir(exist_ok=True)
    _setup_django(args.database_url, home)
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    call_command("migrate", interactive=False, verbosity=0)
    owner, pipeline, stages, territories = _business(args.open)
    from rapport.accounts import services as accounts
    from rapport.accounts.models import User
    from rapport.sales.models import Deal

    rep = User.objects.get(email="north0@pipeline.bench")
    clients = {}
    for who, user in (("owner", owner), ("rep", rep)):
        clients[who] = Client()
        clients[who].force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    token = accounts.token_create(user=owner, name="bench").raw
    problems: list[str] = []
    base = f"/deals/board/?pipeline={pipeline.id}"

    def board(who: str, query: str = "", expect: str = ""):
        def run(_i: int) -> None:
            answer = clients[who].get(base + query)
            if answer.status_code != 200 or (expect and expect not in answer.content.decode()):
                problems.append(f"board {who}{query}: {answer.status_code}")
        return run

    open_stages = [s for s in stages if not (s.is_won or s.is_lost)]
    movers = list(Deal.objects.filter(pipeline=pipeline, closed_at__isnull=True)
                  .order_by("-id").values_list("id", "version", "stage_id")[:args.requests * 2])
    versions = {deal_id: version for deal_id, version, _ in movers}
    where = {deal_id: stage_id for deal_id, _, stage_id in movers}

    def next_stage(deal_id: int) -> int:
        index = [s.id for s in open_stages].index(where[deal_id])
        return open_stages[(index + 1) % len(open_stages)].id

    def api_move(i: int) -> None:
        deal_id = movers[i][0]
        stage_id = next_stage(deal_id)
        answer = clients["owner"].post(
            f"/api/v1/deals/{deal_id}/move", {"stage_id": stage_id,
                                              "version": versions[deal_id]},
            content_type="application/json", headers={"Authorization": f"Bearer {token}"})
        if answer.status_code != 200:
            problems.append(f"api move {answer.status_code} {answer.content[:200]!r}")
            return
        versions[deal_id], where[deal_id] = answer.json()["version"], stage_id

    def board_move(i: int) -> None:
        deal_id = movers[args.requests + i][0]
        stage_id = next_stage(deal_id)
        answer = clients["owner"].post(
            f"/deals/{deal_id}/move/", {"stage_id": stage_id, "version": versions[deal_id],
                                        "from_stage": where[deal_id], "pipeline": pipeline.id},
            headers={"Accept": "application/json"})
        if answer.status_code != 200:
            problems.append(f"board move {answer.status_code} {answer.content[:200]!r}")
            return
        versions[deal_id], where[deal_id] = answer.json()["version"], stage_id

    board("owner")(0)
    board("rep")(0)
    loads = [os.getloadavg()[0]]
    rows = []
    n = args.requests
    open_count = Deal.objects.filter(pipeline=pipeline, closed_at__isnull=True,
                                     deleted_at__isnull=True).count()
    for what, run, count, target in (
            ("board first render, owner (every deal)", board("owner"), n, BOARD_TARGET_MS),
            ("board first render, sales rep (team of 8)", board("rep"), n, BOARD_TARGET_MS),
            ("board first render, owner, one territory",
             board("owner", f"&territory={territories[0].id}"), n, BOARD_TARGET_MS),
            ("stage move, POST /api/v1/deals/{id}/move", api_move, n, MOVE_TARGET_MS),
            ("stage move from the board (JSON, card + 2 column totals)", board_move, n,
             MOVE_TARGET_MS)):
        ms, cpu = _times(run, count)
        loads.append(os.getloadavg()[0])
        q, q_cpu = statistics.quantiles(ms, n=100), statistics.quantiles(cpu, n=100)
        rows.append((what, str(len(ms)), f"{statistics.median(ms):.1f}", f"{q[94]:.1f}",
                     f"{statistics.median(cpu):.1f}", f"{q_cpu[94]:.1f}",
                     f"≤ {target:.0f}", "yes" if q[94] <= target else "NO"))
    columns = ("what", "n", "p50 ms", "p95 ms", "CPU p50", "CPU p95", "target p95", "met")
    widths = [max(len(c), *(len(r[i]) for r in rows)) for i, c in enumerate(columns)]
    print(f"\ndeals board on {connection.vendor} ({open_count:,} open deals in the pipeline, "
          f"{Deal.objects.filter(pipeline=pipeline).count():,} in all)")
    print("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)))
    one, five, fifteen = os.getloadavg()
    print(f"load average (1 min) while it ran: {', '.join(f'{x:.2f}' for x in loads)}; "
          f"at the end (1, 5, 15 min): {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} "
          f"cores")
    if problems:
        print(f"{len(problems)} unexpected answers, e.g. {problems[0]}")
        raise SystemExit(1)


if __name__ == "__main__":
    main()
