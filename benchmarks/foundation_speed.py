"""Speed of the foundation at scale: search, the contact list and the 360° page over real HTTP.

Usage:
    python benchmarks/foundation_speed.py --database-url sqlite:////tmp/rapport_bench/1m.sqlite3 \\
        --contacts 1000000
    python benchmarks/foundation_speed.py \\
        --database-url postgres://postgres@127.0.0.1:5432/rapport_bench --contacts 1000000

Seeds the database with `rapport seed` when it holds fewer contacts than asked (reuses it
otherwise), starts gunicorn on 127.0.0.1, sends a bounded loop of requests one at a time and
prints one table: what, data, p50, p95, target, queries per request.
"""

from __future__ import annotations

import argparse
import http.client
import os
import pathlib
import random
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from urllib.parse import quote, urlencode

COLUMNS = ("what", "data", "p50 ms", "p95 ms", "target p95", "queries/request", "result")


@dataclass
class Measure:
    what: str
    paths: list[str]
    target_ms: float
    session: str | None = None
    token: str | None = None
    user: object = None


def _setup_django(database_url: str, home: pathlib.Path) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ["RAPPORT_HOME"] = str(home)
    os.environ["DJANGO_SETTINGS_MODULE"] = "rapport.config.settings.base"
    import django

    django.setup()


def _session_for(user) -> str:
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    assert settings.SESSION_COOKIE_NAME
    return session.session_key


def _timeline_contact(events: int) -> tuple[int, int]:
    """A contact with ``events`` timeline entries (adds notes to one if none has that many)."""
    from rapport.contacts.models import Contact
    from rapport.core.events import NewEvent, record_events
    from rapport.core.models import Event

    contact = Contact.objects.filter(deleted_at__isnull=True, owner__isnull=False).order_by(
        "id").first()
    have = Event.objects.filter(contact_id=contact.id).count()
    if have < events:
        record_events(
            NewEvent(kind="note.added", entity_type="contact", entity_id=contact.id,
                     contact_id=contact.id, actor_id=contact.owner_id,
                     after={"text": f"Benchmark note {i}: asked about the seasonal menu."})
            for i in range(events - have))
    return contact.id, max(have, events)


def _search_terms(rng: random.Random, count: int) -> list[str]:
    """What people type: surnames, first and last name, emails, phones, companies, typos."""
    from django.db.models import Max

    from rapport.contacts.models import Company, Contact

    top = Contact.objects.aggregate(m=Max("id"))["m"]
    terms: list[str] = []
    while len(terms) < count:
        contact = Contact.objects.filter(id__gte=rng.randrange(1, top)).order_by("id").first()
        if contact is None:
            continue
        kind = len(terms) % 6
        if kind == 0:
            terms.append(contact.last_name)
        elif kind == 1:
            terms.append(f"{contact.first_name} {contact.last_name[:3]}")
        elif kind == 2 and contact.primary_email:
            terms.append(contact.primary_email)
        elif kind == 3 and contact.phones:
            digits = contact.phones[0][2:]
            terms.append(f"({digits[:3]}) {digits[3:6]}-{digits[6:]}")
        elif kind == 4:
            company = Company.objects.filter(id__gte=rng.randrange(1, 1 + Company.objects
                                                                   .count())).first()
            if company:
                terms.append(company.name.split()[0])
        elif kind == 5 and len(contact.last_name) >= 5:
            name = contact.last_name
            i = rng.randrange(1, len(name) - 1)  # swap two letters: a typo
            terms.append(name[:i] + name[i + 1] + name[i] + name[i + 2:])
    return terms


def _query_count(measure: Measure, sample: list[str]) -> str:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    headers = {}
    if measure.session:
        client.force_login(measure.user, backend="django.contrib.auth.backends.ModelBackend")
    if measure.token:
        headers = {"Authorization": f"Bearer {measure.token}"}
    counts = []
    for path in sample:
        with CaptureQueriesContext(connection) as captured:
            response = client.get(path, headers=headers)
        if response.status_code != 200:
            raise SystemExit(f"{path} answered {response.status_code}")
        counts.append(len(captured.captured_queries))
    low, high = min(counts), max(counts)
    return str(low) if low == high else f"{low}-{high}"


def _wait_for(port: int, process: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit("gunicorn exited before it answered")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/")
            conn.getresponse().read()
            return
        except OSError:
            time.sleep(0.3)
    raise SystemExit("gunicorn did not answer in time")


def _timed_get(port: int, path: str, measure: Measure) -> float:
    headers = {"Host": "127.0.0.1"}
    if measure.session:
        headers["Cookie"] = f"sessionid={measure.session}"
    if measure.token:
        headers["Authorization"] = f"Bearer {measure.token}"
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    started = time.perf_counter()
    conn.request("GET", path, headers=headers)
    response = conn.getresponse()
    body = response.read()
    elapsed = (time.perf_counter() - started) * 1000
    conn.close()
    if response.status != 200:
        raise SystemExit(f"GET {path} answered {response.status}: {body[:300]!r}")
    return elapsed


def _percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 \
        else values[0]


def prepare(database_url: str, *, contacts: int, companies: int | None = None,
            events_per_contact: float = 5.0, seed: int = 1) -> None:
    """Set Django up on the database, migrate it, and seed it up to ``contacts`` people."""
    home = pathlib.Path(tempfile.gettempdir()) / "rapport_bench_home"
    home.mkdir(exist_ok=True)
    _setup_django(database_url, home)
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", interactive=False, verbosity=0)
    from rapport.contacts.models import Contact
    from rapport.dataio.seed import seed_run

    have = Contact.objects.count()
    if have < contacts:
        missing = contacts - have
        print(f"seeding {missing:,} contacts into {connection.vendor} ...", flush=True)
        report = seed_run(contacts=missing, companies=companies or max(missing // 20, 1),
                          events_per_contact=events_per_contact, seed=seed)
        print(f"seeded in {report.seconds}s ({report.steps})", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--companies", type=int, default=None)
    parser.add_argument("--events-per-contact", type=float, default=5.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--requests", type=int, default=200, help="timed requests per row")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--timeline", type=int, default=200, help="events on the 360° page")
    parser.add_argument("--wsgi", default="rapport.config.wsgi:application",
                        help="application gunicorn serves (to measure a proposed change)")
    parser.add_argument("--budget", type=float, default=60.0,
                        help="seconds per row at most; fewer requests are timed beyond it")
    args = parser.parse_args()

    prepare(args.database_url, contacts=args.contacts, companies=args.companies,
            events_per_contact=args.events_per_contact, seed=args.seed)
    from django.db import connection

    from rapport.accounts.models import User
    from rapport.accounts.services import token_create
    from rapport.contacts.models import Contact
    from rapport.core.models import Event

    contacts, events = Contact.objects.count(), Event.objects.count()
    data = f"{contacts / 1e6:g}M contacts, {events / 1e6:.1f}M events, {connection.vendor}"

    owner = User.objects.get(email="owner@seed.example.com")
    sales = User.objects.get(email="sales1.north@seed.example.com")
    token = token_create(user=owner, name="benchmark").raw
    sales_token = token_create(user=sales, name="benchmark").raw
    contact_id, timeline = _timeline_contact(args.timeline)
    rng = random.Random(args.seed)
    terms = _search_terms(rng, 60)
    tags = ["vip", "wholesale", "newsletter", "regular", "catering"]
    n = args.requests
    measures = [
        Measure("search API, owner (all records)",
                [f"/api/v1/search?q={quote(terms[i % len(terms)])}" for i in range(n)], 50,
                token=token),
        Measure("search API, sales (team's records)",
                [f"/api/v1/search?q={quote(terms[i % len(terms)])}" for i in range(n)], 50,
                token=sales_token),
        Measure("contact list HTML, ?stage=customer, owner",
                ["/contacts/?" + urlencode({"stage": "customer"})] * n, 100,
                session=_session_for(owner), user=owner),
        Measure("contact list HTML, ?tag=…&sort=-updated, owner",
                ["/contacts/?" + urlencode({"tag": tags[i % len(tags)], "sort": "-updated"})
                 for i in range(n)], 100, session=_session_for(owner), user=owner),
        Measure("contact list HTML, ?stage=lead, sales (team)",
                ["/contacts/?" + urlencode({"stage": "lead"})] * n, 100,
                session=_session_for(sales), user=sales),
        Measure(f"contact 360° page, {timeline} events",
                [f"/contacts/{contact_id}/"] * n, 100, session=_session_for(owner), user=owner),
    ]
    query_counts = {m.what: _query_count(m, m.paths[:12]) for m in measures}
    connection.close()

    print_table(time_rows(measures, query_counts, data, port=args.port, wsgi=args.wsgi,
                          budget=args.budget))


def time_rows(measures: list[Measure], query_counts: dict[str, str], data: str, *, port: int,
              wsgi: str = "rapport.config.wsgi:application", budget: float = 60.0,
              after_row=lambda: None) -> list[tuple[str, ...]]:
    """Serve with gunicorn (2 workers) and time each measure's requests one at a time."""
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", wsgi, "--bind", f"127.0.0.1:{port}", "--workers",
         "2", "--log-level", "warning"], env={**os.environ})
    rows = []
    try:
        _wait_for(port, server)
        for measure in measures:
            for path in measure.paths[:10]:  # warm the caches and the workers
                _timed_get(port, path, measure)
            times: list[float] = []
            deadline = time.monotonic() + budget
            for path in measure.paths:
                times.append(_timed_get(port, path, measure))
                if time.monotonic() > deadline and len(times) >= 20:
                    break
            after_row()
            p50, p95 = _percentile(times, 50), _percentile(times, 95)
            rows.append((measure.what, f"{data}, n={len(times)}", f"{p50:.1f}", f"{p95:.1f}",
                         f"≤ {measure.target_ms:g} ms", query_counts[measure.what],
                         "ok" if p95 <= measure.target_ms else "MISSED"))
            print(f"  measured {measure.what}: p95 {p95:.1f} ms", file=sys.stderr, flush=True)
    finally:
        server.terminate()
        server.wait(timeout=20)
    return rows


def print_table(rows: list[tuple[str, ...]]) -> None:
    widths = [max(len(c), *(len(r[i]) for r in rows)) for i, c in enumerate(COLUMNS)]
    print("  ".join(c.ljust(w) for c, w in zip(COLUMNS, widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)))

if __name__ == "__main__":
    main()
