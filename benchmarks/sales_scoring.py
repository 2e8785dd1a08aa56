"""Speed of the learned lead score: scoring every open lead in the worker (target: 1,000,000
leads in 60 s or less).

Usage:
    python benchmarks/sales_scoring.py --database-url sqlite:////tmp/rapport_bench/score.sqlite3
    python benchmarks/sales_scoring.py --database-url postgres://postgres@127.0.0.1:5432/rb_score

Migrates a throwaway database, seeds it with bulk inserts (COPY on PostgreSQL, executemany on
SQLite; skipped when it already holds the leads) — ``--closed`` converted or disqualified leads
with a planted signal (referrals and companies of 51+ people convert more) and ``--leads`` open
ones — trains the lead model on the closed ones (``lead_model_train``, timed) and then runs
``leads_ml_score()``, exactly what the nightly job runs: keyset batches of 100,000, features
as pandas frames, one vectorised pass of the model with per-lead contributions and top factors
in words, one ``UPDATE … FROM`` a temporary table per batch. Prints one table with rows/s and
the load average (a busy neighbour on a shared machine shows there) and checks that every open
lead was written.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import pathlib
import sys
import tempfile
import time

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from foundation_speed import _setup_django  # noqa: E402

TARGET_S = 60.0
CHUNK = 20_000


def _columns():
    from django.db import connection
    from django.utils import timezone

    from rapport.sales.models import Lead

    now = timezone.now()
    columns, defaults = [], {}
    for field in Lead._meta.concrete_fields:
        if field.primary_key:
            continue
        columns.append(field.column)
        if field.get_internal_type() == "JSONField":
            defaults[field.column] = json.dumps(field.get_default())
        elif field.column in ("created_at", "updated_at"):
            defaults[field.column] = connection.ops.adapt_datetimefield_value(now) \
                if connection.vendor == "sqlite" else now
        elif field.null:
            defaults[field.column] = None
        else:
            defaults[field.column] = field.get_default()
    return columns, defaults


def _seed(n: int, *, closed: bool, start: int, seed: int) -> None:
    """``n`` planted leads inserted straight into the table."""
    from django.db import connection
    from django.utils import timezone

    from rapport.sales.tests.planted import lead_rows

    columns, defaults = _columns()
    converted_at = timezone.now()
    if connection.vendor == "sqlite":
        converted_at = connection.ops.adapt_datetimefield_value(converted_at)
    done = 0
    while done < n:
        size = min(CHUNK, n - done)
        records = []
        for row in lead_rows(size, seed=seed + done, start_id=start + done):
            converted = row.pop("converted")
            values = {**defaults, **row}
            if closed:
                values["status"] = "converted" if converted else "disqualified"
                values["converted_at"] = converted_at if converted else None
            else:
                values["name"] = f"{row['name']} {'yes' if converted else 'no'}"
            records.append(tuple(values[c] for c in columns))
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                names = ", ".join(f'"{c}"' for c in columns)
                with cursor.cursor.copy(f"COPY sales_lead ({names}) FROM STDIN") as copy:
                    for record in records:
                        copy.write_row(record)
            else:
                marks = ", ".join(["%s"] * len(columns))
                names = ", ".join(f'"{c}"' for c in columns)
                cursor.executemany(f"INSERT INTO sales_lead ({names}) VALUES ({marks})",  # noqa: S608
                                   records)
        done += size


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--leads", type=int, default=1_000_000, help="open leads to score")
    parser.add_argument("--closed", type=int, default=20_000, help="closed leads to train on")
    args = parser.parse_args()
    home = pathlib.Path(tempfile.gettempdir()) / "rapport_bench_home"
    home.mkdir(exist_ok=True)
    _setup_django(args.database_url, home)
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", interactive=False, verbosity=0)
    from rapport.sales.models import OPEN_STATUSES, Lead
    from rapport.sales.services import ml

    closed = Lead.objects.filter(status__in=("converted", "disqualified")).count()
    if closed < args.closed:
        print(f"seeding {args.closed - closed:,} closed leads ...", flush=True)
        _seed(args.closed - closed, closed=True, start=10_000_000 + closed, seed=1)
    have = Lead.objects.filter(status__in=OPEN_STATUSES).count()
    if have < args.leads:
        print(f"seeding {args.leads - have:,} open leads into {connection.vendor} ...",
              flush=True)
        start = time.perf_counter()
        _seed(args.leads - have, closed=False, start=have, seed=2)
        print(f"  seeded in {time.perf_counter() - start:.1f} s", flush=True)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE sales_lead")
    open_leads = Lead.objects.filter(status__in=OPEN_STATUSES, deleted_at__isnull=True).count()

    load_before = _load()
    start = time.perf_counter()
    model = ml.lead_model_train()
    train_s = time.perf_counter() - start
    if not model.ready:
        raise SystemExit(f"the model declined: {model.message}")
    start = time.perf_counter()
    written = ml.leads_ml_score()
    score_s = time.perf_counter() - start
    load_after = _load()
    missing = Lead.objects.filter(status__in=OPEN_STATUSES, deleted_at__isnull=True,
                                  ml_probability__isnull=True).count()
    sample = Lead.objects.filter(status__in=OPEN_STATUSES).order_by("id").first()
    print()
    print("| database | open leads | trained on | method | train s | score s | rows/s | "
          "target | load avg before | load avg after |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    print(f"| {connection.vendor} | {written:,} | {model.rows:,} | "
          f"{model.calibration.get('method')} | {train_s:.1f} | {score_s:.1f} | "
          f"{written / score_s:,.0f} | ≤ {TARGET_S:.0f} s | {load_before} | {load_after} |")
    print()
    print(f"open leads {open_leads:,}; written {written:,}; left without a probability "
          f"{missing:,}; at {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC")
    if sample is not None:
        print(f"e.g. {sample.name}: {sample.ml_probability:.2f} — "
              + "; ".join(f["text"] for f in sample.ml_factors))
    if missing or written != open_leads:
        raise SystemExit("not every open lead was scored")


if __name__ == "__main__":
    main()
