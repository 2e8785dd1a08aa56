"""Speed of the nurturing-sequence worker: how fast due steps are done.

Usage:
    python benchmarks/sequences_worker.py --database-url sqlite:////tmp/rapport_bench/seq.sqlite3
    python benchmarks/sequences_worker.py \\
        --database-url postgres://postgres@127.0.0.1:5432/rb_sequences --leads 2000

Migrates the database, makes ``--leads`` leads (bulk: capture has its own benchmark) owned by
five reps, enrols each in a two-step sequence (a templated email at once, a task a day later)
and runs the worker's sweep (``sequences_run_due``) at the first step's time and at the
second's, as the scheduler would: each step in its own transaction (claim, email queued through
the outbound ledger or task made, StepRun, move on, events, the after-commit fan-out). Prints
one table (what, n, p50 and p95 per step, steps per second) and the load average while it ran:
on a shared machine a busy neighbour shows there.
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


def _business(leads: int, run: str):
    from rapport.accounts import services as accounts
    from rapport.accounts.models import User
    from rapport.activities import services as activities
    from rapport.sales import services
    from rapport.sales.models import Enrollment, Lead

    owner = User.objects.filter(email="owner@sequences.bench").first()
    if owner is None:
        owner = accounts.user_create(email="owner@sequences.bench", role="owner",
                                     password="bench-pass-123", team_name=None)
        for i in range(5):
            accounts.user_create(email=f"rep{i}@sequences.bench", role="sales",
                                 team_name="reps", password="bench-pass-123")
    reps = list(User.objects.filter(email__startswith="rep", email__endswith="sequences.bench"))
    template = activities.email_template_create(actor=owner, data={
        "name": f"Welcome {run}", "subject": "Welcome, {{ contact.first_name | default('there') }}",
        "body": "Hi {{ contact.first_name | default('there') }},\n\nthanks for asking about "
                "{{ contact.company | default('your business') }}.\n\n"
                "{{ user.first_name | default('The team') }}"})
    sequence = services.sequence_create(actor=owner, data={"name": f"Bench {run}", "steps": [
        {"kind": "email", "template_id": template.id},
        {"kind": "task", "wait_days": 1, "task_title": "Call them"}]})
    made = Lead.objects.bulk_create([Lead(
        name=f"Person {i}", email=f"p{run}.{i}@firm{i % 300}.example",
        company_name=f"Firm {i % 300}", owner=reps[i % len(reps)], source="bench")
        for i in range(leads)], batch_size=1000)
    return sequence, made, Enrollment


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--leads", type=int, default=1000)
    args = parser.parse_args()
    home = pathlib.Path(tempfile.gettempdir()) / "rapport_bench_home"
    home.mkdir(exist_ok=True)
    _setup_django(args.database_url, home)
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", interactive=False, verbosity=0)
    from rapport.sales import services
    from rapport.sales.models import StepRun

    run = f"{int(time.time())}"
    sequence, leads, Enrollment = _business(args.leads, run)
    start = dt.datetime(2030, 1, 7, 9, tzinfo=dt.UTC)
    Enrollment.objects.bulk_create([Enrollment(sequence=sequence, lead=lead, next_position=1,
                                               next_run_at=start) for lead in leads],
                                   batch_size=1000)
    ids = list(Enrollment.objects.filter(sequence=sequence).order_by("id")
               .values_list("id", flat=True))
    loads = [os.getloadavg()[0]]
    rows = []
    for what, now in (("email step (render, queue in the ledger, StepRun, move on)", start),
                      ("task step (task for the owner, StepRun, move on)",
                       start + dt.timedelta(days=1))):
        times = []
        began = time.perf_counter()
        for enrollment_id in ids:
            t = time.perf_counter()
            services.sequence_step_run(enrollment_id=enrollment_id, now=now)
            times.append((time.perf_counter() - t) * 1000)
        took = time.perf_counter() - began
        loads.append(os.getloadavg()[0])
        q = statistics.quantiles(times, n=100)
        rows.append((what, f"{len(times):,}", f"{statistics.median(times):.1f}", f"{q[94]:.1f}",
                     f"{len(times) / took:,.0f}"))
    t = time.perf_counter()
    idle = services.sequences_run_due(now=start + dt.timedelta(days=30))
    idle_ms = (time.perf_counter() - t) * 1000
    rows.append(("sweep with nothing due (all completed)", "1", f"{idle_ms:.1f}", "", ""))
    done = StepRun.objects.filter(enrollment__sequence=sequence).count()
    columns = ("what", "n", "p50 ms", "p95 ms", "steps/s")
    widths = [max(len(c), *(len(r[i]) for r in rows)) for i, c in enumerate(columns)]
    print(f"\nsequence worker on {connection.vendor}: {len(ids):,} enrollments, {done:,} steps "
          f"done ({idle} left over)")
    print("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)))
    one, five, fifteen = os.getloadavg()
    print(f"load average (1 min) while it ran: {', '.join(f'{x:.2f}' for x in loads)}; "
          f"at the end (1, 5, 15 min): {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} "
          f"cores")
    if done != 2 * len(ids) or idle:
        print(f"expected {2 * len(ids)} steps done once each, found {done}")
        raise SystemExit(1)


if __name__ == "__main__":
    main()
