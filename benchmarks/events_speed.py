"""Speed of machine events: ``POST /api/v1/events`` through the whole stack (Bearer token, input
checks, the device's lock, the rules, the ticket) and the settings page that lists them.

Usage:
    python benchmarks/events_speed.py --database-url sqlite:////tmp/rapport_bench/events.sqlite3
    python benchmarks/events_speed.py --database-url postgres://postgres@127.0.0.1:5432/rb_events

Migrates the database and sets up a business with ``--devices`` devices (one contact each),
``--rules`` event rules (conditions on a payload field; the one that matches is last, so every
report is checked against all of them) and an event log of ``--history`` earlier reports;
then times, one request at a time through Django's handler: a report no rule matches
(logged), a report that opens a ticket (each from a device with none open), the same report
again (appended to that ticket) and the Devices and event rules page. Prints one table (what,
n, p50, p95, total) and the load average while it ran: on a shared machine a busy neighbour
shows there.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import pathlib
import statistics
import sys
import tempfile
import time

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from foundation_speed import _session_for, _setup_django  # noqa: E402

EMAIL = "owner@events.bench"


def _business(devices: int, rules: int, history: int):
    from django.utils import timezone

    from rapport.accounts import services as accounts
    from rapport.accounts.models import User
    from rapport.contacts.models import Contact
    from rapport.support import services
    from rapport.support.models import Device, MachineEvent

    owner = User.objects.filter(email=EMAIL).first()
    if owner is not None:
        return owner
    owner = accounts.user_create(email=EMAIL, role="owner", password="bench-pass-123",
                                 team_name=None)
    contacts = Contact.objects.bulk_create([
        Contact(first_name=f"Café {n}", owner=owner) for n in range(devices)])
    made = Device.objects.bulk_create([
        Device(device_id=f"fridge-{n:06d}", name=f"Fridge {n}", contact=c)
        for n, c in enumerate(contacts)])
    for n in range(rules - 1):
        services.event_rule_create(actor=owner, data={
            "name": f"Sensor {n}", "event_type": "sensor.reading", "field": f"sensor_{n}",
            "operator": "gt", "value": "100", "subject": "Sensor {device} high"})
    services.event_rule_create(actor=owner, data={
        "name": "Low coolant", "event_type": "sensor.reading", "field": "coolant.level",
        "operator": "lt", "value": "15", "subject": "Low coolant on {device}: {coolant.level}%",
        "priority": "high"})
    now = timezone.now()
    MachineEvent.objects.bulk_create([
        MachineEvent(device=made[n % devices], event_type="sensor.reading",
                     payload={"coolant": {"level": 60 + n % 30}, "door": "closed"},
                     received_at=now - dt.timedelta(seconds=n))
        for n in range(history)], batch_size=2000)
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
    parser.add_argument("--devices", type=int, default=2000)
    parser.add_argument("--rules", type=int, default=50)
    parser.add_argument("--history", type=int, default=50000, help="earlier reports logged")
    parser.add_argument("--requests", type=int, default=200, help="timed calls per row")
    args = parser.parse_args()
    home = pathlib.Path(tempfile.gettempdir()) / "rapport_bench_home"
    home.mkdir(exist_ok=True)
    _setup_django(args.database_url, home)
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    call_command("migrate", interactive=False, verbosity=0)
    owner = _business(args.devices, args.rules, args.history)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:  # the planner's statistics, as a live database has
            cursor.execute("ANALYZE")
    from rapport.accounts.services import token_create
    from rapport.support.models import Device, MachineEvent, Ticket

    settings.ALLOWED_HOSTS = ["*"]
    api = Client(headers={"Authorization": f"Bearer {token_create(user=owner, name='b').raw}"})
    # Devices with no ticket open yet: each "opened" row takes the next one.
    free = list(Device.objects.exclude(id__in=Ticket.objects.filter(
        device__isnull=False, status__in=("new", "open", "waiting")).values("device_id"))
        .order_by("id").values_list("device_id", flat=True))
    if len(free) < args.requests + 20:
        raise SystemExit(f"only {len(free)} devices have no open ticket: raise --devices or "
                         "use a fresh database")
    actions: dict[str, int] = {}

    def report(device_id: str, level: int, expect: str) -> None:
        answer = api.post("/api/v1/events", json.dumps({
            "device_id": device_id, "type": "sensor.reading",
            "payload": {"coolant": {"level": level}, "door": "closed", "temp": 4.5}}),
            content_type="application/json")
        assert answer.status_code == 201, answer.content
        action = answer.json()["action"]
        actions[action] = actions.get(action, 0) + 1
        assert action == expect, (action, expect)

    loads = [os.getloadavg()[0]]
    rows = []
    _times(lambda i: report(free[i], 80, "logged"), 10)  # warm up
    rows.append(_row(f"report, no rule matches ({args.rules} rules checked) → logged",
                     _times(lambda i: report(free[i % len(free)], 80, "logged"),
                            args.requests)))
    loads.append(os.getloadavg()[0])
    opened = free[20:20 + args.requests]
    rows.append(_row("report, last rule matches → ticket opened",
                     _times(lambda i: report(opened[i], 9, "opened"), args.requests)))
    loads.append(os.getloadavg()[0])
    rows.append(_row("the same report again → system message on that ticket",
                     _times(lambda i: report(opened[i], 7, "appended"), args.requests)))
    loads.append(os.getloadavg()[0])
    page = Client()
    page.cookies[settings.SESSION_COOKIE_NAME] = _session_for(owner)

    def settings_page(i: int) -> None:
        answer = page.get("/support/devices/")
        assert answer.status_code == 200

    rows.append(_row("Devices and event rules page (rules, 50 devices, 20 latest events)",
                     _times(settings_page, max(20, args.requests // 5))))
    loads.append(os.getloadavg()[0])

    columns = ("what", "n", "p50 ms", "p95 ms", "total s")
    widths = [max(len(c), *(len(r[i]) for r in rows)) for i, c in enumerate(columns)]
    print(f"\nmachine events on {connection.vendor} ({Device.objects.count():,} devices, "
          f"{MachineEvent.objects.count():,} events logged, {args.rules} rules)")
    print("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)))
    one, five, fifteen = os.getloadavg()
    print(f"load average (1 min) while it ran: {', '.join(f'{x:.2f}' for x in loads)}; "
          f"at the end (1, 5, 15 min): {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} "
          f"cores")


if __name__ == "__main__":
    main()
