"""Speed of the activities pages with a busy customer: 2,000 conversations on one person.

Usage:
    python benchmarks/activities_speed.py --database-url sqlite:////tmp/rapport_bench/act.sqlite3
    python benchmarks/activities_speed.py \\
        --database-url postgres://postgres@127.0.0.1:5432/rapport_bench_act --contacts 100000

Seeds the database with `rapport seed` when it holds fewer contacts than asked, gives one
person ``--interactions`` conversations (and the timeline events logging writes) and its
owner a day of tasks, serves it with gunicorn on 127.0.0.1 and times a bounded loop of
requests one at a time. Prints one table (what, data, p50, p95, target, queries per request)
and the load average while it ran: on a shared machine a busy neighbour shows there.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from foundation_speed import (  # noqa: E402  (the same harness as the foundation's)
    Measure,
    _query_count,
    _session_for,
    prepare,
    print_table,
    time_rows,
)


def _busy_customer(owner, count: int) -> int:
    """A person owned by ``owner`` with ``count`` conversations (added once, then reused)."""
    from rapport.activities import events, services
    from rapport.activities.models import Interaction
    from rapport.activities.services.interactions import shown
    from rapport.contacts.models import Contact
    from rapport.core.events import record_events

    contact = Contact.objects.filter(owner=owner, deleted_at__isnull=True).order_by("id").first()
    have = Interaction.objects.filter(contact=contact).count()
    if have < count:
        start = dt.datetime.now(dt.UTC) - dt.timedelta(days=700)
        kinds = ("call", "email", "meeting", "note", "message")
        made = Interaction.objects.bulk_create([
            Interaction(type=kinds[n % 5], contact_id=contact.id, company_id=contact.company_id,
                        author_id=owner.id, occurred_at=start + dt.timedelta(hours=8 * n),
                        direction="outbound" if n % 2 else "inbound",
                        subject=f"Order question #{n}" if n % 5 == 1 else "",
                        outcome="Wants two more cases; call back Friday 10am" if n % 5 == 0
                        else "", body="Asked about the seasonal menu and delivery days. " * 3)
            for n in range(have, count)], batch_size=1000)
        record_events(events.interaction_logged(
            interaction_id=i.id, contact_id=contact.id, actor_id=owner.id,
            occurred_at=i.occurred_at, shown=shown(i)) for i in made)
    now = dt.datetime.now(dt.UTC)
    for n in range(8):
        services.task_create(actor=owner, data={
            "title": f"Benchmark task {n}", "contact_id": contact.id,
            "due_at": (now + dt.timedelta(hours=6 * n - 24)).isoformat()})
    return contact.id


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--contacts", type=int, default=20_000)
    parser.add_argument("--interactions", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--requests", type=int, default=200, help="timed requests per row")
    parser.add_argument("--port", type=int, default=8766)
    parser.add_argument("--budget", type=float, default=45.0,
                        help="seconds per row at most; fewer requests are timed beyond it")
    args = parser.parse_args()

    prepare(args.database_url, contacts=args.contacts, events_per_contact=3, seed=args.seed)
    from django.db import connection

    from rapport.accounts.models import User
    from rapport.accounts.services import token_create
    from rapport.activities import services
    from rapport.activities.models import Interaction
    from rapport.contacts.models import Contact

    sales = User.objects.get(email="sales1.north@seed.example.com")
    contact_id = _busy_customer(sales, args.interactions)
    feed = services.calendar_feed_create(actor=sales).raw
    token = token_create(user=sales, name="benchmark").raw
    on_one = Interaction.objects.filter(contact_id=contact_id).count()
    data = (f"{Contact.objects.count():,} contacts, {on_one:,} conversations on the person, "
            f"{connection.vendor}")
    session = _session_for(sales)
    n = args.requests
    measures = [
        Measure("contact page (timeline, log panel, open tasks)", [f"/contacts/{contact_id}/"] * n,
                100, session=session, user=sales),
        Measure("conversations of the person, HTML", [f"/interactions/?contact={contact_id}"] * n,
                100, session=session, user=sales),
        Measure("conversations of the person, calls only, API",
                [f"/api/v1/interactions?contact_id={contact_id}&type=call"] * n, 100,
                token=token),
        Measure("My day", ["/my-day/"] * n, 100, session=session, user=sales),
        Measure("reminder bell (htmx, every minute)", ["/reminders/bell/"] * n, 50,
                session=session, user=sales),
        Measure("calendar feed (.ics)", [f"/calendar/{feed}.ics"] * (n // 4), 300),
    ]
    query_counts = {m.what: _query_count(m, m.paths[:12]) for m in measures}
    connection.close()

    loads: list[float] = []
    print_table(time_rows(measures, query_counts, data, port=args.port, budget=args.budget,
                          after_row=lambda: loads.append(os.getloadavg()[0])))
    one, five, fifteen = os.getloadavg()
    print(f"load average (1, 5, 15 min) at the end: {one:.2f} {five:.2f} {fifteen:.2f}; "
          f"1-min load after each row: {', '.join(f'{x:.2f}' for x in loads)}; "
          f"{os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
