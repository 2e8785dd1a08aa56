"""Speed of the foundation at scale: every list for every role at every depth, search, the
contact page, and 10 and 30 concurrent clients, over real HTTP against ``rapport serve``.

Usage:
    python benchmarks/foundation_speed.py --database-url sqlite:////tmp/bench/1m.sqlite3 \\
        --contacts 1000000
    python benchmarks/foundation_speed.py \\
        --database-url postgres://postgres@127.0.0.1:5432/bench_1m --contacts 1000000
    python benchmarks/foundation_speed.py --database-url sqlite:////tmp/bench/20k.sqlite3 \\
        --contacts 20000 --requests 20 --concurrency-seconds 10 --import-rows 10000  # quick

What it does:

1. Seeds the database with ``rapport seed`` when it holds fewer contacts than asked (reuses it
   otherwise) and adds, once, what the seed does not make: orders (one per two people, 1-2
   lines), conversations (one per two people) and tasks (one per ten people, a third done;
   some assigned to support and marketing), written by set-based SQL.
2. Serves it with ``rapport serve`` (gunicorn gthread, as shipped) on 127.0.0.1.
3. Times, one request at a time: each list (contacts, companies, orders, conversations, open
   and done tasks) for each role (owner; a manager whose team has 5 people; sales, in that team;
   support; marketing) at pages 1, 2, 50 and the last (cursors got by following ``next``
   through the selectors; the last page's from the list's order reversed); search (the API)
   for each role; the contact page; two filtered contact lists.
4. Runs a mixed read workload (searches, every list/role/depth, contact pages) with 10, then
   30 concurrent clients for a bounded time: throughput, p50/p95/max, errors.
5. Runs ``benchmarks/import_speed.py`` on a database of its own (``--import-database-url``;
   by default the benchmark's name with ``-import``/``_import``).

Every row carries the server's CPU per request — the gunicorn processes' CPU time (and, on
PostgreSQL, the CPU time of the database's backends for this database) read from /proc before
and after, which stays put when neighbours load the machine — and the 1-minute load average
when the row ended. Flags skip phases: --no-lists, --no-search, --no-contact-page,
--no-concurrency, --no-import.
"""

from __future__ import annotations

import argparse
import http.client
import math
import os
import pathlib
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
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


# --- data the seed does not make: orders, conversations, tasks ------------------------------

ROLE_USERS = {  # role: the seeded user who plays it
    "owner": "owner@seed.example.com",
    "manager": "manager.north@seed.example.com",  # team North: the manager and 4 salespeople
    "sales": "sales1.north@seed.example.com",
    "support": "support1@seed.example.com",
    "marketing": "marketing1@seed.example.com",
}
DEPTHS = ("1", "2", "50", "last")


def _stamp_sql(vendor: str, base: str, fraction: str) -> str:
    """SQL for a moment ``fraction`` (0-1) of the way from ``base`` to now."""
    if vendor == "postgresql":
        return f"({base} + (now() - {base}) * ({fraction}))"
    # The text shape Django writes on SQLite, microseconds never zero (always 6 digits).
    return (f"(strftime('%Y-%m-%d %H:%M:%f', julianday({base}) + "
            f"(julianday('now') - julianday({base})) * ({fraction})) || '001')")


def _due_sql(vendor: str) -> str:
    """Due times from 60 days ago to 60 days ahead."""
    if vendor == "postgresql":
        return ("(now() + ((c.id * 7919) % 120 - 60) * interval '1 day' "
                "+ ((c.id * 31) % 10) * interval '1 hour')")
    return ("(strftime('%Y-%m-%d %H:%M:%f', 'now', ((c.id * 7919) % 120 - 60) || ' days', "
            "((c.id * 31) % 10) || ' hours') || '001')")


def _insert_select(model, exprs: dict[str, str], source: str) -> int:
    """INSERT INTO model's table SELECT ``exprs`` (column: SQL) FROM ``source``; the other
    columns get their field's default, as the ORM would write it."""
    from django.db import connection

    columns, values, params = [], [], []
    for model_field in model._meta.concrete_fields:
        if model_field.primary_key:
            continue
        if model_field.column in exprs:  # "%" is an operator here, not a placeholder
            values.append(exprs[model_field.column].replace("%", "%%"))
        elif model_field.has_default():
            values.append("%s")
            params.append(model_field.get_db_prep_save(model_field.get_default(), connection))
        elif model_field.null:
            continue
        else:
            raise RuntimeError(f"no value for {model.__name__}.{model_field.name}")
        columns.append(f'"{model_field.column}"')
    sql = (f'INSERT INTO "{model._meta.db_table}" ({", ".join(columns)}) '  # noqa: S608
           f"SELECT {', '.join(values)} FROM {source.replace('%', '%%')}")
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def ensure_activity(contacts: int) -> dict[str, int]:
    """Orders, order lines, conversations and tasks in proportion to the people (added once)."""
    from decimal import Decimal

    from django.db import connection, transaction

    from rapport.accounts.models import User
    from rapport.activities.models import Interaction, Task
    from rapport.orders.models import Order, OrderLine, Product

    vendor = connection.vendor
    people = "contacts_contact c WHERE c.deleted_at IS NULL"
    if not Product.objects.exists():
        Product.objects.bulk_create([
            Product(name=f"Loaf {i}", sku=f"BENCH-{i:04d}", price=Decimal("4.50") + i % 9)
            for i in range(200)])
    first_product = Product.objects.order_by("id").values_list("id", flat=True).first()
    made = {}
    with transaction.atomic():
        if Order.objects.count() < contacts // 2 * 0.9:
            Order.objects.all().delete()
            made["orders"] = _insert_select(Order, {
                "contact_id": "c.id",
                "ordered_at": _stamp_sql(vendor, "c.created_at", "((c.id * 7919) % 997) / 997.0"),
                "channel": "CASE c.id % 3 WHEN 0 THEN 'online' ELSE 'in_store' END",
                "total": "(c.id % 90) + 5", "created_at": "c.created_at",
            }, f"{people} AND c.id % 2 = 0")
            for parity in (0, 1):
                _insert_select(OrderLine, {
                    "order_id": "o.id", "product_id": f"{first_product} + (o.id * 13) % 200",
                    "quantity": "1 + o.id % 4", "unit_price": "4.5",
                }, f"orders_order o WHERE o.id % 2 = {parity} OR {parity} = 0")
        if Interaction.objects.count() < contacts // 2 * 0.9:
            Interaction.objects.all().delete()
            moment = _stamp_sql(vendor, "c.created_at", "((c.id * 104729) % 991) / 991.0")
            made["interactions"] = _insert_select(Interaction, {
                "type": "CASE c.id % 5 WHEN 0 THEN 'call' WHEN 1 THEN 'email' "
                        "WHEN 2 THEN 'meeting' WHEN 3 THEN 'note' ELSE 'message' END",
                "direction": "CASE c.id % 5 WHEN 3 THEN '' WHEN 0 THEN 'outbound' "
                             "ELSE 'inbound' END",
                "contact_id": "c.id", "company_id": "c.company_id", "author_id": "c.owner_id",
                "occurred_at": moment, "created_at": moment, "updated_at": moment,
                "subject": "'Asked about the seasonal menu'",
                "body": "'Wants two more cases for the weekend; call back Friday.'",
            }, f"{people} AND c.id % 2 = 1")
        if Task.objects.count() < contacts // 10 * 0.9:
            Task.objects.all().delete()
            ids = dict(User.objects.filter(email__in=[
                "owner@seed.example.com", "support1@seed.example.com",
                "support2@seed.example.com", "marketing1@seed.example.com"])
                .values_list("email", "id"))
            assignee = (f"CASE c.id % 7 WHEN 0 THEN {ids['support1@seed.example.com']} "
                        f"WHEN 1 THEN {ids['support2@seed.example.com']} "
                        f"WHEN 2 THEN {ids['marketing1@seed.example.com']} "
                        f"ELSE COALESCE(c.owner_id, {ids['owner@seed.example.com']}) END")
            due = _due_sql(vendor)
            made["tasks"] = _insert_select(Task, {
                "title": "'Call back about the order'", "due_at": due,
                "assignee_id": assignee, "created_by_id": assignee, "contact_id": "c.id",
                "company_id": "c.company_id",
                "completed_at": f"CASE WHEN c.id % 3 = 0 THEN {due} END",
                "remind_before": "NULL", "created_at": "c.created_at",
                "updated_at": "c.created_at",
            }, f"{people} AND c.id % 10 = 3")
    if made:
        with connection.cursor() as cursor:
            for table in ("orders_order", "orders_orderline", "activities_interaction",
                          "activities_task"):
                cursor.execute(f'ANALYZE "{table}"')
    return made


# --- users, cursors, paths ----------------------------------------------------------------

@dataclass
class Role:
    name: str
    user: object
    session: str
    token: str
    team: int


def _roles() -> dict[str, Role]:
    from rapport.accounts.models import User
    from rapport.accounts.services import token_create
    from rapport.core.permissions import team_member_ids

    roles = {}
    for role, email in ROLE_USERS.items():
        user = User.objects.get(email=email)
        roles[role] = Role(role, user, _session_for(user),
                           token_create(user=user, name="benchmark").raw,
                           len(team_member_ids(user)))
    if roles["manager"].team != 5:
        raise SystemExit(f"the manager's team has {roles['manager'].team} people, not 5")
    return roles


def _lists():
    """Each list: (name, page URL, selector, params, queryset of its rows, order fields,
    descending) — the queryset and order as the selector uses them, to find the last page."""
    from rapport.activities import selectors as activities
    from rapport.contacts import selectors as contacts
    from rapport.orders import selectors as orders

    return [
        ("contacts", "/contacts/", contacts.contact_list, {},
         contacts.visible_contacts, ("last_name", "first_name", "id"), False),
        ("companies", "/companies/", contacts.company_list, {},
         contacts.visible_companies, ("name", "id"), False),
        ("orders", "/orders/", orders.order_list, {},
         orders.visible_orders, ("ordered_at", "id"), True),
        ("conversations", "/interactions/", activities.interaction_list, {},
         activities.visible_interactions, ("occurred_at", "id"), True),
        ("open tasks", "/tasks/", activities.task_list, {},
         lambda user: activities.visible_tasks(user).filter(completed_at__isnull=True),
         ("due_at", "id"), False),
        ("done tasks", "/tasks/?status=done", activities.task_list, {"status": "done"},
         lambda user: activities.visible_tasks(user).filter(completed_at__isnull=False),
         ("due_at", "id"), True),
    ]


def _depth_cursors(selector, user, params, visible, fields, descending
                   ) -> dict[str, str | None]:
    """Cursors of pages 2 and 50 (following ``next``) and of the last page; page 1 has none.
    A page the list does not reach is left out."""
    from rapport.core.pagination import PAGE_SIZE, encode_cursor

    cursors: dict[str, str | None] = {"1": None}
    cursor, page = None, 1
    while page < 50:
        found = selector(user=user, params={**params, "cursor": cursor} if cursor else params)
        if not found.next_cursor:
            break
        cursor, page = found.next_cursor, page + 1
        if page in (2, 50):
            cursors[str(page)] = cursor
    # The row just before the last page: the list's order reversed, PAGE_SIZE rows in.
    order = [f if descending else f"-{f}" for f in fields]
    row = visible(user).order_by(*order).values_list(*fields)[PAGE_SIZE:PAGE_SIZE + 1]
    last = encode_cursor(list(row[0])) if row else None
    if last:
        end = selector(user=user, params={**params, "cursor": last})
        if end.next_cursor or len(end.items) != PAGE_SIZE:
            raise SystemExit(f"{selector.__name__}: the last-page cursor is not the last page")
    cursors["last"] = last
    return cursors


# --- measuring: CPU from /proc, requests, concurrency -------------------------------------

TICK = os.sysconf("SC_CLK_TCK")


def _proc_stat(pid: int) -> tuple[int, int] | None:
    """(parent pid, user+system CPU ticks) of a process, or None if it is gone."""
    try:
        text = pathlib.Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2:].split()
    return int(fields[1]), int(fields[11]) + int(fields[12])


def _cmdline(pid: int) -> str:
    try:
        return pathlib.Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


class CpuMeter:
    """CPU time of the web server (gunicorn's processes under ``root``) and, on PostgreSQL,
    of the backends serving ``dbname``, sampled every 0.2 s so that a backend which exits
    (connections are recycled) keeps what it had used."""

    def __init__(self, root: int, dbname: str | None) -> None:
        self.root, self.dbname = root, dbname
        self.latest: dict[tuple[str, int], int] = {}
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.sample()
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _loop(self) -> None:
        while not self.stop.wait(0.2):
            self.sample()

    def sample(self) -> None:
        stats = {}
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                stat = _proc_stat(int(entry))
                if stat:
                    stats[int(entry)] = stat
        web = {self.root}
        grew = True
        while grew:
            grew = False
            for pid, (parent, _) in stats.items():
                if parent in web and pid not in web:
                    web.add(pid)
                    grew = True
        found = {("web", pid): ticks for pid, (_, ticks) in stats.items()
                 if pid in web and "gunicorn" in _cmdline(pid)}
        if self.dbname:
            marker = f" {self.dbname} "
            for pid, (_, ticks) in stats.items():
                if pid not in web and pid != os.getpid():
                    line = _cmdline(pid)
                    if line.startswith("postgres: ") and marker in line:
                        found[("db", pid)] = ticks
        with self.lock:
            self.latest.update(found)

    def mark(self) -> dict[tuple[str, int], int]:
        self.sample()
        with self.lock:
            return dict(self.latest)

    def since(self, before: dict[tuple[str, int], int]) -> tuple[float, float]:
        """Seconds of web and database CPU used since ``before``."""
        after = self.mark()
        used = {"web": 0, "db": 0}
        for key, ticks in after.items():
            used[key[0]] += ticks - before.get(key, 0)
        return used["web"] / TICK, used["db"] / TICK

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=2)


@dataclass
class Row:
    what: str
    role: str = ""
    page: str = ""
    target_ms: float | None = None
    paths: list[str] = field(default_factory=list)
    auth: Role | None = None
    api: bool = False  # token instead of the session cookie
    queries: str = ""
    # results
    n: int = 0
    seconds: float = 0.0
    times: list[float] = field(default_factory=list)
    errors: int = 0
    web_cpu: float = 0.0
    db_cpu: float = 0.0
    load: float = 0.0
    p95_target_ms: float | None = None  # concurrency rows: the p95 target
    min_rate: float | None = None


def _headers(role: Role | None, api: bool) -> dict[str, str]:
    headers = {"Host": "127.0.0.1"}
    if role is not None:
        if api:
            headers["Authorization"] = f"Bearer {role.token}"
        else:
            headers["Cookie"] = f"sessionid={role.session}"
    return headers


class Client:
    """One keep-alive connection, as a browser tab holds."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.conn: http.client.HTTPConnection | None = None

    def get(self, path: str, headers: dict[str, str]) -> tuple[int, float]:
        started = time.perf_counter()
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            try:
                self.conn.request("GET", path, headers=headers)
                response = self.conn.getresponse()
                response.read()
                if response.getheader("connection", "").lower() == "close":
                    self.conn.close()
                    self.conn = None
                return response.status, (time.perf_counter() - started) * 1000
            except (http.client.HTTPException, OSError):
                self.conn.close()
                self.conn = None
                if attempt == 2:
                    raise
                started = time.perf_counter()  # a closed keep-alive connection: retry once
        raise AssertionError("unreachable")


def _time_row(row: Row, port: int, meter: CpuMeter, budget: float) -> None:
    client = Client(port)
    headers = _headers(row.auth, row.api)
    for path in row.paths[:3]:  # warm the workers' caches
        status, _ = client.get(path, headers)
        if status != 200:
            raise SystemExit(f"GET {path} answered {status}")
    before, began = meter.mark(), time.perf_counter()
    deadline = time.monotonic() + budget
    for path in row.paths:
        status, ms = client.get(path, headers)
        if status != 200:
            row.errors += 1
        row.times.append(ms)
        if time.monotonic() > deadline and len(row.times) >= 10:
            break
    row.seconds = time.perf_counter() - began
    row.web_cpu, row.db_cpu = meter.since(before)
    row.n, row.load = len(row.times), os.getloadavg()[0]


def _mixed(port: int, work: list[tuple[str, dict[str, str]]], clients: int, seconds: float,
           meter: CpuMeter, seed: int) -> Row:
    """``clients`` threads, each sending requests drawn from ``work`` back to back until the
    time is up (each thread's last request is let finish)."""
    row = Row(f"mixed reads, {clients} clients, {seconds:g} s", role="all",
              page="1/2/50/last")
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def client(number: int) -> None:
        rng = random.Random(seed * 1000 + number)
        session = Client(port)
        times, errors = [], 0
        while time.monotonic() < deadline:
            path, headers = work[rng.randrange(len(work))]
            started = time.perf_counter()
            try:
                status, ms = session.get(path, headers)
                errors += status != 200
            except (http.client.HTTPException, OSError):
                errors, ms = errors + 1, (time.perf_counter() - started) * 1000
                session = Client(port)
            times.append(ms)
        with lock:
            row.times.extend(times)
            row.errors += errors

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    before, began = meter.mark(), time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    row.seconds = time.perf_counter() - began
    row.web_cpu, row.db_cpu = meter.since(before)
    row.n, row.load = len(row.times), os.getloadavg()[0]
    return row


def _serve(port: int, log: pathlib.Path) -> subprocess.Popen:
    """``rapport serve`` as shipped (gunicorn gthread, its worker and scheduler)."""
    try:
        http.client.HTTPConnection("127.0.0.1", port, timeout=2).request("GET", "/")
    except OSError:
        pass
    else:
        raise SystemExit(f"something already answers on port {port}: stop it or use --port")
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    with log.open("ab") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "rapport.cli", "serve", "--port", str(port)], env=env,
            stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    _wait_for(port, server, seconds=180)
    return server


def _stop(server: subprocess.Popen) -> None:
    """Ctrl+C, as a person stops ``rapport serve``: it stops gunicorn, its worker and its
    scheduler (SIGTERM would end it alone and leave them running); then its whole process
    group, whatever is left of it."""
    server.send_signal(signal.SIGINT)
    try:
        server.wait(timeout=40)
    except subprocess.TimeoutExpired:
        pass
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(server.pid, sig)  # its own session (start_new_session)
        except ProcessLookupError:
            break
        time.sleep(3)
    server.wait(timeout=10)


# --- the import, through benchmarks/import_speed.py ---------------------------------------

def _import_url(database_url: str) -> str:
    if database_url.startswith("sqlite:"):
        path = pathlib.Path(database_url.removeprefix("sqlite:///"))
        return f"sqlite:///{path.with_name(path.stem + '-import' + path.suffix)}"
    base, _, name = database_url.rpartition("/")
    return f"{base}/{name}_import"


def run_import(database_url: str, rows: int) -> list[str]:
    """import_speed.py's table rows (markdown), run in a process of its own."""
    script = pathlib.Path(__file__).with_name("import_speed.py")
    done = subprocess.run([sys.executable, str(script), "--database-url", database_url,
                           "--rows", str(rows)], capture_output=True, text=True, check=False)
    if done.returncode:
        raise SystemExit(f"import_speed.py failed:\n{done.stdout}\n{done.stderr}")
    return [line for line in done.stdout.splitlines() if line.startswith("|")]


# --- the table ------------------------------------------------------------------------------

TABLE = ("what", "role", "page", "n", "req/s", "p50 ms", "p95 ms", "max ms", "errors",
         "target", "result", "queries/req", "web CPU ms/req", "db CPU ms/req", "load 1 min")


def _cells(row: Row) -> list[str]:
    p50 = _percentile(row.times, 50)
    p95 = _percentile(row.times, 95)
    rate = row.n / row.seconds if row.seconds else 0.0
    if row.p95_target_ms is not None:  # concurrency: p95 and throughput, no errors
        target = f"p95 ≤ {row.p95_target_ms:g} ms" + (
            f", ≥ {row.min_rate:g} req/s" if row.min_rate else "") + ", 0 errors"
        ok = (p95 <= row.p95_target_ms and not row.errors
              and (row.min_rate is None or rate >= row.min_rate))
    else:
        target = f"p95 ≤ {row.target_ms:g} ms"
        ok = p95 <= (row.target_ms or math.inf) and not row.errors
    return [row.what, row.role, row.page, str(row.n), f"{rate:.1f}", f"{p50:.1f}", f"{p95:.1f}",
            f"{max(row.times):.1f}", str(row.errors), target, "ok" if ok else "MISSED",
            row.queries or "-", f"{row.web_cpu * 1000 / row.n:.1f}",
            f"{row.db_cpu * 1000 / row.n:.1f}" if row.db_cpu else "-", f"{row.load:.2f}"]


def print_markdown(title: str, header: tuple[str, ...], rows: list[list[str]]) -> None:
    print(f"\n{title}\n")
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for cells in rows:
        print("| " + " | ".join(cells) + " |")
    sys.stdout.flush()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--companies", type=int, default=None)
    parser.add_argument("--events-per-contact", type=float, default=5.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--requests", type=int, default=40, help="timed requests per row")
    parser.add_argument("--budget", type=float, default=20.0,
                        help="seconds per row at most; fewer requests are timed beyond it")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--timeline", type=int, default=200, help="events on the contact page")
    parser.add_argument("--concurrency", default="10,30", help="client counts, comma-separated")
    parser.add_argument("--concurrency-seconds", type=float, default=45.0)
    parser.add_argument("--import-rows", type=int, default=100_000)
    parser.add_argument("--import-database-url", default=None,
                        help="database the import builds afresh (default: derived)")
    for phase in ("lists", "search", "contact-page", "concurrency", "import"):
        parser.add_argument(f"--no-{phase}", action="store_true", help=f"skip the {phase}")
    args = parser.parse_args()

    prepare(args.database_url, contacts=args.contacts, companies=args.companies,
            events_per_contact=args.events_per_contact, seed=args.seed)
    from django.db import connection

    from rapport.activities.models import Interaction, Task
    from rapport.contacts.models import Contact
    from rapport.core.models import Event
    from rapport.orders.models import Order

    began = time.perf_counter()
    made = ensure_activity(Contact.objects.count())
    if made:
        print(f"added {made} in {time.perf_counter() - began:.1f}s", flush=True)
    contacts = Contact.objects.count()
    data = (f"{contacts:,} contacts, {Event.objects.count():,} events, "
            f"{Order.objects.count():,} orders, {Interaction.objects.count():,} conversations, "
            f"{Task.objects.count():,} tasks; {connection.vendor}")
    roles = _roles()
    n = args.requests
    rng = random.Random(args.seed)
    rows: list[Row] = []
    work: list[tuple[str, dict[str, str]]] = []  # the concurrency phase's mix

    if not args.no_lists:
        print("following cursors ...", file=sys.stderr, flush=True)
        for name, url, selector, params, visible, fields, descending in _lists():
            for role in roles.values():
                cursors = _depth_cursors(selector, role.user, params, visible, fields,
                                         descending)
                for depth in DEPTHS:
                    if depth not in cursors:
                        continue
                    cursor = cursors[depth]
                    joint = "&" if "?" in url else "?"
                    path = url + (f"{joint}{urlencode({'cursor': cursor})}" if cursor else "")
                    if depth == "last" and cursor is None:
                        continue  # one page only: page 1 is the last
                    rows.append(Row(f"{name} list", role.name, depth, 100, [path] * n, role))
                    work.append((path, _headers(role, False)))
    if not args.no_search:
        terms = _search_terms(rng, 60)
        for role in roles.values():
            paths = [f"/api/v1/search?q={quote(terms[i % len(terms)])}" for i in range(n)]
            rows.append(Row("search API", role.name, "", 50, paths, role, api=True))
            work.extend((path, _headers(role, True)) for path in paths[:20])
    if not args.no_contact_page:
        contact_id, timeline = _timeline_contact(args.timeline)
        owner = roles["owner"]
        rows.append(Row(f"contact page, {timeline} events", "owner", "", 100,
                        [f"/contacts/{contact_id}/"] * n, owner))
        tags = ["vip", "wholesale", "newsletter", "regular", "catering"]
        rows.append(Row("contacts list ?stage=customer", "owner", "1", 100,
                        ["/contacts/?stage=customer"] * n, owner))
        rows.append(Row("contacts list ?tag=…&sort=-updated", "owner", "1", 100,
                        [f"/contacts/?tag={tags[i % 5]}&sort=-updated" for i in range(n)],
                        owner))
        sales = roles["sales"]
        rows.append(Row("contacts list ?stage=lead", "sales", "1", 100,
                        ["/contacts/?stage=lead"] * n, sales))
        some = list(Contact.objects.filter(deleted_at__isnull=True, owner_id=sales.user.id)
                    .order_by("id").values_list("id", flat=True)[:20])
        rows.append(Row("contact page (own person)", "sales", "", 100,
                        [f"/contacts/{some[i % len(some)]}/" for i in range(n)], sales))
        work.extend((f"/contacts/{i}/", _headers(sales, False)) for i in some)
        work.append((f"/contacts/{contact_id}/", _headers(owner, False)))
    for row in rows:
        measure = Measure(row.what, row.paths, 0, user=row.auth.user if row.auth else None,
                          session=row.auth.session if row.auth and not row.api else None,
                          token=row.auth.token if row.auth and row.api else None)
        row.queries = _query_count(measure, row.paths[:2])
    connection.close()

    dbname = None if connection.vendor == "sqlite" else connection.settings_dict["NAME"]
    home = pathlib.Path(os.environ["RAPPORT_HOME"])
    server = _serve(args.port, home / "serve.log")
    meter = CpuMeter(server.pid, dbname)
    mixed: list[Row] = []
    try:
        for row in rows:
            _time_row(row, args.port, meter, args.budget)
            print(f"  {row.what} {row.role} {row.page}: p95 "
                  f"{_percentile(row.times, 95):.1f} ms", file=sys.stderr, flush=True)
        if not args.no_concurrency and work:
            for clients in (int(c) for c in args.concurrency.split(",") if c.strip()):
                result = _mixed(args.port, work, clients, args.concurrency_seconds, meter,
                                args.seed)
                result.p95_target_ms = 300 if clients <= 10 else 1000
                result.min_rate = 40 if clients >= 30 else None
                mixed.append(result)
                print(f"  {clients} clients: {result.n / result.seconds:.1f} req/s",
                      file=sys.stderr, flush=True)
    finally:
        meter.close()
        _stop(server)

    print_markdown(f"Foundation speed: {data}; {os.cpu_count()} CPUs; "
                   f"load average at the end {' / '.join(f'{x:.2f}' for x in os.getloadavg())}",
                   TABLE, [_cells(row) for row in [*rows, *mixed]])
    if not args.no_import:
        lines = run_import(args.import_database_url or _import_url(args.database_url),
                           args.import_rows)
        print("\nOrders CSV import (benchmarks/import_speed.py), on a database of its own\n")
        print("\n".join(lines))


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
