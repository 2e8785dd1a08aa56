"""Speed of the SLA check (``support.services.sla.sla_check``) over 100,000 open tickets.

Usage:
    python benchmarks/sla_speed.py --database-url sqlite:////tmp/rapport_bench/sla.sqlite3
    python benchmarks/sla_speed.py --database-url postgres://postgres@127.0.0.1:5432/rb_sla

Migrates the database, then (once per database) makes a help desk of 20 agents and their
manager in a team, Stockholm business hours with Swedish holidays, the default policies, 200
customers and ``--open`` open tickets (bulk inserts) with timers as the desk would have set
them: dues spread over the next two business weeks, from 30 minutes in the past, a third
answered already (only the resolution clock runs) and a tenth waiting on the customer (paused).

Then, each on a fresh copy of the tickets' SLA columns (reset between rows, outside the
timing), with ``now`` a Monday 12:00 in Stockholm:

- the checks after a 30-minute outage of the scheduler: every ticket that crossed its
  at-risk or due moment meanwhile is claimed, its people told (one task per person), the
  breached ones escalated and raised one priority step, a ``ticket.sla`` event each; a run
  moves at most ``sla.LIMIT`` tickets per state and queues the next at once, so this row is
  the runs it takes to catch up, back to back;
- the steady state: a check every (simulated) minute, ten in a row, each moving on the
  tickets that crossed a threshold in that minute.

Prints one table (what, n, wall-clock p50 and max, this process's CPU time, tickets moved,
target) and the load average while it ran.
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
from zoneinfo import ZoneInfo

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from foundation_speed import _setup_django  # noqa: E402

TARGET_S = 10.0
PASSWORD = "bench-pass-123"
STOCKHOLM = ZoneInfo("Europe/Stockholm")
NOW = dt.datetime(2027, 3, 8, 12, tzinfo=STOCKHOLM)  # a Monday
SLA_COLUMNS = ("sla_state", "priority", "breached_at", "escalated_at", "at_risk_notified_at")


def _desk(open_tickets: int):
    from rapport.accounts import services as accounts
    from rapport.accounts.models import User
    from rapport.contacts import services as contacts
    from rapport.support.models import PRIORITIES, SlaPolicy, Ticket
    from rapport.support.services import hours, sla

    owner = User.objects.filter(email="owner@sla.bench").first()
    if owner is None:
        owner = accounts.user_create(email="owner@sla.bench", role="owner", password=PASSWORD,
                                     team_name=None)
        accounts.user_create(email="manager@sla.bench", role="manager", team_name="desk",
                             password=PASSWORD)
        for i in range(20):
            accounts.user_create(email=f"agent{i}@sla.bench", role="support",
                                 team_name="desk", password=PASSWORD)
        for i in range(200):
            contacts.contact_create(actor=owner, data={
                "first_name": f"Customer{i}", "emails": [f"c{i}@customers.bench"]})
        sla.sla_policies_seed()
        sla.business_hours_set(actor=owner, data={"time_zone": "Europe/Stockholm",
                                                  "holiday_country": "SE"})
    have = Ticket.objects.count()
    if have >= open_tickets:
        return owner
    from rapport.contacts.models import Contact

    agents = list(User.objects.filter(email__startswith="agent").values_list("id", flat=True))
    customers = list(Contact.objects.values_list("id", flat=True))
    policies = {(p.priority, p.tier): p for p in SlaPolicy.objects.all()}
    cal = sla.business_calendar(fresh=True)
    rng = random.Random(7)
    start = hours.add_business(cal, NOW, 0) - dt.timedelta(minutes=30)
    span = 10 * 8 * 3600  # two business weeks
    batch: list[Ticket] = []
    created = NOW - dt.timedelta(days=3)
    for i in range(have, open_tickets):
        priority = rng.choice(PRIORITIES)
        tier = "premium" if i % 10 == 0 else "standard"
        policy = policies[(priority, tier)]
        resolution_due = hours.add_business(cal, start, rng.randrange(span)) \
            if i % 50 else start + dt.timedelta(seconds=rng.randrange(1800))
        answered = i % 3 == 0
        first_due = resolution_due - dt.timedelta(minutes=rng.randrange(60, 600))
        waiting = i % 10 == 1
        batch.append(Ticket(
            subject=f"Request {i}", contact_id=rng.choice(customers), channel="email",
            priority=priority, tier=tier, status="waiting" if waiting else "open",
            assignee_id=None if i % 25 == 0 else rng.choice(agents), sla_policy=policy,
            first_response_due=first_due, resolution_due=resolution_due,
            first_responded_at=created if answered else None,
            paused_at=created if waiting else None, sla_state="ok"))
        if len(batch) == 5000:
            Ticket.objects.bulk_create(batch)
            batch = []
    if batch:
        Ticket.objects.bulk_create(batch)
    return owner


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--open", type=int, default=100_000, help="open tickets")
    parser.add_argument("--minutes", type=int, default=10, help="steady-state checks")
    args = parser.parse_args()
    home = pathlib.Path(tempfile.gettempdir()) / "rapport_bench_home"
    home.mkdir(exist_ok=True)
    _setup_django(args.database_url, home)
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", interactive=False, verbosity=0)
    seeded = time.perf_counter()
    _desk(args.open)
    seed_s = time.perf_counter() - seeded
    from rapport.activities.models import Task
    from rapport.support.models import Ticket
    from rapport.support.services import sla

    snapshot = {row["id"]: row for row in Ticket.objects.values("id", *SLA_COLUMNS)}

    def reset() -> None:
        """Every ticket back to its seeded SLA state (outside the timing)."""
        Ticket.objects.exclude(sla_state="ok").update(
            sla_state="ok", breached_at=None, escalated_at=None, at_risk_notified_at=None)
        raised: dict[str, list[int]] = {}
        for row in snapshot.values():
            raised.setdefault(row["priority"], []).append(row["id"])
        for priority, ids in raised.items():
            for i in range(0, len(ids), 5000):
                Ticket.objects.filter(id__in=ids[i:i + 5000]).exclude(
                    priority=priority).update(priority=priority)
        Task.objects.filter(title__startswith="SLA ").delete()

    def timed(moment: dt.datetime) -> tuple[float, float, sla.CheckResult]:
        wall, cpu = time.perf_counter(), time.process_time()
        result = sla.sla_check(now=moment)
        return time.perf_counter() - wall, time.process_time() - cpu, result

    open_count = Ticket.objects.filter(status__in=("new", "open", "waiting")).count()
    loads = [os.getloadavg()[0]]
    rows = []
    reset()
    wall, cpu, result = timed(NOW)
    loads.append(os.getloadavg()[0])
    walls, cpus = [wall], [cpu]
    at_risk, breached = result.at_risk, result.breached
    while result.more:  # the task queues the next run at once
        wall, cpu, result = timed(NOW)
        walls.append(wall)
        cpus.append(cpu)
        at_risk, breached = at_risk + result.at_risk, breached + result.breached
    loads.append(os.getloadavg()[0])
    rows.append((f"after a 30 min outage (≤ {sla.LIMIT:,} per state per run)",
                 str(len(walls)), f"{statistics.median(walls):.2f}", f"{max(walls):.2f}",
                 f"{statistics.median(cpus):.2f}",
                 f"{at_risk:,} at risk, {breached:,} breached in all",
                 f"≤ {TARGET_S:.0f}", "yes" if max(walls) <= TARGET_S else "NO"))
    walls, cpus, moved = [], [], []
    for minute in range(1, args.minutes + 1):
        wall, cpu, result = timed(NOW + dt.timedelta(minutes=minute))
        walls.append(wall)
        cpus.append(cpu)
        moved.append(result.at_risk + result.breached)
    loads.append(os.getloadavg()[0])
    rows.append(("a check every minute (steady state)", str(len(walls)),
                 f"{statistics.median(walls):.2f}", f"{max(walls):.2f}",
                 f"{statistics.median(cpus):.2f}", f"{statistics.mean(moved):.0f} per check",
                 f"≤ {TARGET_S:.0f}", "yes" if max(walls) <= TARGET_S else "NO"))
    reset()
    columns = ("what", "n", "p50 s", "max s", "CPU p50 s", "tickets moved", "target",
               "met")
    widths = [max(len(c), *(len(r[i]) for r in rows)) for i, c in enumerate(columns)]
    print(f"\nSLA check on {connection.vendor} ({open_count:,} open tickets, 8 policies; "
          f"seeding took {seed_s:.0f} s)")
    print("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)))
    one, five, fifteen = os.getloadavg()
    print(f"load average (1 min) while it ran: {', '.join(f'{x:.2f}' for x in loads)}; "
          f"at the end (1, 5, 15 min): {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} "
          "CPUs")


if __name__ == "__main__":
    main()
