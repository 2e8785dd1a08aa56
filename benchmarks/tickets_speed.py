"""Speed of the ticket list with 100,000 tickets: the page and the API, first and deep pages.

Usage:
    python benchmarks/tickets_speed.py --database-url sqlite:////tmp/rapport_bench/tickets.sqlite3
    python benchmarks/tickets_speed.py --database-url postgres://postgres@127.0.0.1:5432/rb_tickets

Migrates the database, then (once) makes a business of an owner, six support agents, two
teams of sales reps (eight each, with agent profiles, so a share of the tickets is theirs),
20,000 customers and ``--tickets`` tickets over two years (a fifth of them still open, the rest
resolved or closed; most assigned to the agents, some to the reps, some to nobody). Then,
through Django's whole request stack (session or Bearer token, middleware, view or endpoint,
template or schema), for the owner (every ticket), a support agent (every ticket) and a sales
rep (the team's tickets only):

- the ticket list's first page and a deep page (a cursor in the middle of what that user
  sees): ``GET /tickets/`` and ``GET /api/v1/tickets``;
- the agent's "Mine" view (``?view=mine``).

Prints one table (what, n, wall-clock p50 and p95, this process's CPU time p50 and p95,
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

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from foundation_speed import _setup_django  # noqa: E402

TARGET_MS = 100.0
PASSWORD = "bench-pass-123"
DOMAIN = "tickets.bench"


def _business(tickets: int):
    from django.utils import timezone

    from rapport.accounts import services as accounts
    from rapport.accounts.models import User
    from rapport.contacts.models import Contact
    from rapport.support.models import AgentProfile, Ticket

    owner = User.objects.filter(email=f"owner@{DOMAIN}").first()
    if owner is None:
        owner = accounts.user_create(email=f"owner@{DOMAIN}", role="owner", password=PASSWORD,
                                     team_name=None)
        for i in range(6):
            accounts.user_create(email=f"agent{i}@{DOMAIN}", role="support", password=PASSWORD,
                                 team_name=None)
        for team in ("north", "south"):
            for i in range(8):
                rep = accounts.user_create(email=f"{team}{i}@{DOMAIN}", role="sales",
                                           team_name=team, password=PASSWORD)
                AgentProfile.objects.create(user=rep, skills=["wine"])
    agents = list(User.objects.filter(email__startswith="agent", email__endswith=DOMAIN)
                  .order_by("id"))
    reps = list(User.objects.filter(role="sales", email__endswith=DOMAIN).order_by("id"))
    if Contact.objects.filter(primary_email__endswith=f"@c.{DOMAIN}").count() < 20_000:
        Contact.objects.bulk_create([Contact(
            first_name=f"Customer{i}", last_name="Bench", emails=[f"c{i}@c.{DOMAIN}"],
            primary_email=f"c{i}@c.{DOMAIN}", owner=owner) for i in range(20_000)],
            batch_size=2000)
    contacts = list(Contact.objects.filter(primary_email__endswith=f"@c.{DOMAIN}")
                    .order_by("id").values_list("id", "primary_email"))
    have = Ticket.objects.count()
    now = timezone.now()
    rng = random.Random(11)
    statuses = ["new", "open", "waiting"] + ["resolved"] * 2 + ["closed"] * 10
    rows = []
    for i in range(have, tickets):
        contact_id, address = contacts[i % len(contacts)]
        status = statuses[i % len(statuses)]
        roll = rng.random()
        assignee = (None if roll < 0.05 else reps[i % len(reps)] if roll < 0.35
                    else agents[i % len(agents)])
        created = now - dt.timedelta(minutes=rng.randrange(0, 60 * 24 * 730))
        rows.append(Ticket(
            subject=f"Bench request {i}", contact_id=contact_id, requester_email=address,
            channel=("email", "web", "phone", "chat")[i % 4], status=status,
            priority=("low", "normal", "normal", "high", "urgent")[i % 5],
            category=("Delivery", "Billing", "wine", "")[i % 4], assignee=assignee,
            sla_state=("ok", "at_risk", "breached", "met")[i % 4] if status in (
                "new", "open", "waiting") else "met",
            resolution_due=created + dt.timedelta(days=2), last_customer_message_at=created))
        if len(rows) >= 5000:
            _create(rows, rng, now)
            rows = []
    if rows:
        _create(rows, rng, now)
    if have < tickets:
        # What autovacuum (PostgreSQL) or a periodic ANALYZE (SQLite) does after a big load:
        # without statistics a planner guesses and may pick a poor plan.
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("ANALYZE support_ticket" if connection.vendor == "postgresql"
                           else "ANALYZE")
    return owner, agents[0], reps[0]


def _create(rows, rng, now):
    from rapport.support.models import Ticket

    made = Ticket.objects.bulk_create(rows, batch_size=2500)
    # created_at is auto_now_add: spread it over two years afterwards, as tickets arrive.
    for ticket in made:
        ticket.created_at = ticket.last_customer_message_at
    Ticket.objects.bulk_update(made, ["created_at"], batch_size=2500)


def _times(run, n: int) -> tuple[list[float], list[float]]:
    wall, cpu = [], []
    for i in range(n):
        start, start_cpu = time.perf_counter(), time.process_time()
        run(i)
        wall.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
    return wall, cpu


def _deep_cursor(user) -> str:
    """The cursor of the row in the middle of what ``user`` sees, newest first."""
    from rapport.core.pagination import encode_cursor
    from rapport.support.selectors import visible_tickets

    visible = visible_tickets(user)
    middle = visible.count() // 2
    row = visible.order_by("-created_at", "-id").values_list("created_at", "id")[middle]
    return encode_cursor(list(row))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=100, help="timed requests per row")
    args = parser.parse_args()
    home = pathlib.Path(tempfile.gettempdir()) / "rapport_bench_home"
    home.mkdir(exist_ok=True)
    _setup_django(args.database_url, home)
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    call_command("migrate", interactive=False, verbosity=0)
    owner, agent, rep = _business(args.tickets)
    from rapport.accounts import services as accounts
    from rapport.support.models import Ticket
    from rapport.support.selectors import visible_tickets

    clients, tokens, cursors = {}, {}, {}
    for who, user in (("owner", owner), ("agent", agent), ("rep", rep)):
        clients[who] = Client()
        clients[who].force_login(user, backend="django.contrib.auth.backends.ModelBackend")
        tokens[who] = accounts.token_create(user=user, name="bench").raw
        cursors[who] = _deep_cursor(user)
    problems: list[str] = []

    def page(who: str, query: str = ""):
        def run(_i: int) -> None:
            answer = clients[who].get(f"/tickets/{query}")
            if answer.status_code != 200 or b"Bench request" not in answer.content:
                problems.append(f"page {who}{query}: {answer.status_code}")
        return run

    def api(who: str, query: dict | None = None):
        def run(_i: int) -> None:
            answer = clients[who].get("/api/v1/tickets", query or {},
                                      headers={"Authorization": f"Bearer {tokens[who]}"})
            if answer.status_code != 200 or not answer.json()["items"]:
                problems.append(f"api {who}{query}: {answer.status_code}")
        return run

    for who in clients:
        page(who)(0)
        api(who)(0)
    loads = [os.getloadavg()[0]]
    rows = []
    n = args.requests
    seen = {who: visible_tickets(user).count()
            for who, user in (("owner", owner), ("agent", agent), ("rep", rep))}
    plan = []
    for who, label in (("owner", "owner"), ("agent", "support agent"),
                       ("rep", "sales rep (team of 8)")):
        plan += [
            (f"page, first, {label} ({seen[who]:,} visible)", page(who)),
            (f"page, deep (cursor mid-list), {label}",
             page(who, f"?cursor={cursors[who]}")),
            (f"API, first, {label}", api(who)),
            (f"API, deep, {label}", api(who, {"cursor": cursors[who]})),
        ]
    plan += [("page, agent's Mine view", page("agent", "?view=mine")),
             ("API, agent's Mine view", api("agent", {"view": "mine"})),
             ("page, owner, at-risk view", page("owner", "?view=at_risk"))]
    for what, run in plan:
        ms, cpu = _times(run, n)
        loads.append(os.getloadavg()[0])
        q, q_cpu = statistics.quantiles(ms, n=100), statistics.quantiles(cpu, n=100)
        rows.append((what, str(len(ms)), f"{statistics.median(ms):.1f}", f"{q[94]:.1f}",
                     f"{statistics.median(cpu):.1f}", f"{q_cpu[94]:.1f}",
                     f"≤ {TARGET_MS:.0f}", "yes" if q[94] <= TARGET_MS else "NO"))
    columns = ("what", "n", "p50 ms", "p95 ms", "CPU p50", "CPU p95", "target p95", "met")
    widths = [max(len(c), *(len(r[i]) for r in rows)) for i, c in enumerate(columns)]
    print(f"\nticket list on {connection.vendor} ({Ticket.objects.count():,} tickets)")
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
