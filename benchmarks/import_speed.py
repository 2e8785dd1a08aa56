"""Speed of the orders CSV import: rows per second, from the upload to the last order written.

Usage:
    python benchmarks/import_speed.py --database-url sqlite:////tmp/rapport_import_bench/db.sqlite3
    python benchmarks/import_speed.py \\
        --database-url postgres://postgres@127.0.0.1:5432/rapport_import_bench

Builds a fresh database (the SQLite file is replaced; the PostgreSQL database is dropped and
created again) with 5,000 customers and 200 products, writes a CSV file of ``--rows`` order
lines (1-4 lines per order, 2.5 on average, dates over two years, a quarter of the prices
left empty), and measures:

- ``upload check``: what the request does (read, decode, sniff, map headers, count rows,
  store the file), in this process;
- ``import, in-process``: what a worker does (plan, check and write every batch, with the
  ``order.placed`` events), called in this process;
- ``import, worker``: the same file uploaded again as a new job into the emptied tables and
  run by a real ``rapport worker`` process, from enqueueing to the job being done (the time
  includes the worker's start-up).

It prints one table: what, database, rows, seconds, rows/s, the target, the CPU seconds the
importing process used (SQLite works inside it; PostgreSQL's server is not counted) and rows
per CPU second, and the load average (``os.getloadavg()``: 1, 5 and 15 minutes) when the step
ended. The target (10,000 rows/s on SQLite) is for the import's whole run; on a machine
busy with other work the wall-clock figures drop and the CPU figures do not, hence both.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pathlib
import pstats
import random
import resource
import subprocess
import sys
import tempfile
import time
from decimal import Decimal

COLUMNS = ("what", "database", "rows", "seconds", "rows/s", "target", "CPU s", "rows/CPU s",
           "load 1/5/15 min")
TARGET = 10_000


def _setup_django(database_url: str, home: pathlib.Path) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ["RAPPORT_HOME"] = str(home)
    os.environ["DJANGO_SETTINGS_MODULE"] = "rapport.config.settings.base"
    import django

    django.setup()


def _fresh_database(database_url: str) -> None:
    if database_url.startswith("sqlite:"):
        path = pathlib.Path(database_url.removeprefix("sqlite:///"))
        path.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            pathlib.Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    import psycopg

    base, _, name = database_url.rpartition("/")
    with psycopg.connect(f"{base}/postgres", autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')


def _business(customers: int, products: int):
    """Customers and products written straight into the tables (the benchmark's set-up)."""
    from rapport.accounts.services import user_create
    from rapport.contacts.models import Contact
    from rapport.orders.models import Product

    owner = user_create(email="owner@bench.example.com", role="owner",
                        password="bench-password-1", first_name="Olivia")
    Contact.objects.bulk_create([
        Contact(first_name=f"Customer {i}", emails=[f"c{i}@bench.example.com"],
                primary_email=f"c{i}@bench.example.com", owner=owner,
                search_text=f"customer {i} c{i}@bench.example.com")
        for i in range(customers)], batch_size=2000)
    Product.objects.bulk_create([
        Product(name=f"Loaf {i}", sku=f"SKU-{i:04d}", price=Decimal("4.50") + i % 7)
        for i in range(products)])
    return owner


def _csv(rows: int, customers: int, products: int, seed: int) -> bytes:
    rng = random.Random(seed)
    out = io.StringIO()
    out.write("order_ref,date,customer_email,sku,quantity,unit_price,channel\n")
    written = order = 0
    while written < rows:
        order += 1
        lines = min(rng.choice((1, 2, 2, 3, 3, 4)), rows - written)
        customer = rng.randrange(customers)
        date = f"2025-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d} {rng.randint(8, 19):02d}:00"
        channel = rng.choice(("in_store", "in_store", "online", "phone", ""))
        for sku in rng.sample(range(products), lines):
            price = "" if rng.random() < 0.25 else f"{rng.randint(1, 40)}.{rng.randint(0, 99):02d}"
            out.write(f"W-{order:07d},{date},c{customer}@bench.example.com,SKU-{sku:04d},"
                      f"{rng.randint(1, 6)},{price},{channel}\n")
        written += lines
    return out.getvalue().encode()


def _load() -> str:
    return " / ".join(f"{value:.2f}" for value in os.getloadavg())


def _prepare(database_url: str, customers: int, products: int):
    """A fresh database with the business in it; returns its owner."""
    from django.core.management import call_command
    from django.db import connections

    connections.close_all()
    _fresh_database(database_url)
    call_command("migrate", verbosity=0)
    return _business(customers, products)


def _through_worker(database_url: str, home: pathlib.Path, owner,
                    content: bytes) -> tuple[float, float]:
    from rapport.dataio import services
    from rapport.dataio.models import ImportJob
    from rapport.dataio.tasks import run_import

    job = services.import_start(actor=owner, data={"type": "orders", "start": False},
                                file=io.BytesIO(content))
    services.import_run(actor=owner, job_id=job.id)  # queued; enqueue as the subscriber does
    began = time.perf_counter()
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    run_import.enqueue(job_id=job.id)
    env = {**os.environ, "DATABASE_URL": database_url, "RAPPORT_HOME": str(home)}
    env.pop("REDIS_URL", None)
    worker = subprocess.Popen([sys.executable, "-m", "rapport.cli", "worker", "--burst"],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while ImportJob.objects.get(id=job.id).status not in ("done", "failed"):
        if worker.poll() is not None and ImportJob.objects.get(id=job.id).status != "done":
            raise SystemExit("the worker stopped before the job was done")
        time.sleep(0.05)
    seconds = time.perf_counter() - began
    worker.wait(timeout=60)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return seconds, (after.ru_utime + after.ru_stime) - (children.ru_utime + children.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--customers", type=int, default=5000)
    parser.add_argument("--products", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-worker", action="store_true", help="skip the worker process run")
    parser.add_argument("--profile", type=int, default=0,
                        help="print the N functions the in-process import spends most in")
    args = parser.parse_args()

    _fresh_database(args.database_url)
    home = pathlib.Path(tempfile.mkdtemp(prefix="rapport-import-bench-"))
    _setup_django(args.database_url, home)
    from django.db import connection

    from rapport.dataio import services
    from rapport.dataio.models import ImportJob
    from rapport.orders.models import Order, OrderLine

    owner = _prepare(args.database_url, args.customers, args.products)
    content = _csv(args.rows, args.customers, args.products, args.seed)
    vendor = connection.vendor
    results = []

    began, cpu = time.perf_counter(), time.process_time()
    job = services.import_start(actor=owner, data={"type": "orders", "start": False},
                                file=io.BytesIO(content))
    results.append(("upload check (the request)", time.perf_counter() - began,
                    time.process_time() - cpu, _load()))
    ImportJob.objects.filter(id=job.id).update(status="queued")
    profile = cProfile.Profile() if args.profile else None
    began, cpu = time.perf_counter(), time.process_time()
    if profile:
        profile.enable()
    services.import_work(job_id=job.id)
    if profile:
        profile.disable()
    results.append(("import, in-process", time.perf_counter() - began,
                    time.process_time() - cpu, _load()))
    job.refresh_from_db()
    if (job.status, job.rows_done, job.failed) != ("done", args.rows, 0):
        raise SystemExit(f"the import did not do every row: {job.status}, {job.rows_done} rows, "
                         f"{job.failed} failed, {job.error_count} problems")
    lines = OrderLine.objects.count()
    assert lines == args.rows, lines  # noqa: S101 - a benchmark that checks its own work

    orders = Order.objects.count()
    if not args.no_worker:
        owner = _prepare(args.database_url, args.customers, args.products)
        seconds, cpu = _through_worker(args.database_url, home, owner, content)
        results.append(("import, worker process (with its start-up)", seconds, cpu, _load()))
        assert OrderLine.objects.count() == args.rows  # noqa: S101

    print(f"\nOrders CSV import, {args.rows} rows ({orders} orders, "
          f"{args.customers} customers, {args.products} products), {vendor}\n")
    print("| " + " | ".join(COLUMNS) + " |")
    print("|" + "---|" * len(COLUMNS))
    for what, seconds, cpu, load in results:
        target = f">= {TARGET:,}" if what.startswith("import") else "-"
        print(f"| {what} | {vendor} | {args.rows:,} | {seconds:.2f} | "
              f"{args.rows / seconds:,.0f} | {target} | {cpu:.2f} | {args.rows / cpu:,.0f} | "
              f"{load} |")
    if profile:
        print()
        order = os.environ.get("PROFILE_SORT", "cumulative")  # or tottime
        pstats.Stats(profile).sort_stats(order).print_stats(args.profile)


if __name__ == "__main__":
    main()
