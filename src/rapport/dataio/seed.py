"""`rapport seed`: fill a database with a realistic business of any size, fast.

A million contacts through the ORM and the services would take hours, so this is a bulk path:
numpy draws every value from word pools up front (deterministic given the seed), rows go in with
``executemany`` (SQLite) or ``COPY`` (PostgreSQL) in large transactions, secondary indexes and
the search trigger are dropped during the load and rebuilt once at the end.

Rebuilding the indexes is where the two databases differ:

* PostgreSQL builds them in parallel: each table's indexes (unique ones as plain unique
  indexes, attached to their constraints afterwards) are ``CREATE INDEX`` statements sent from
  a pool of connections (several builds on one table run at once: they only take SHARE locks),
  and the people's indexes are built while the events are still being copied in. Foreign keys
  come back ``NOT VALID`` and are validated, a table per connection, in parallel too.
* SQLite cannot: one connection writes at a time, so its rebuild is one statement after
  another on the loading connection. It is made as cheap as it can be: no journal, no fsync, a
  1 GB page cache and temp store in memory during the load, the sorter's helper threads
  (``PRAGMA threads``) for each ``CREATE INDEX``, and one pass to fill each full-text index
  (``INSERT ... SELECT`` with automerge off for people, FTS5 ``rebuild`` for companies)
  instead of a trigger per row.

The name vocabulary (typo-tolerant search) is filled from the names drawn, at every size.

The output must be indistinguishable from what the services write:

* ``search_text`` is built like :func:`rapport.contacts.services.build_search_text` (checked
  against it on a sample of every batch);
* events are appended to the audit chain already sealed, in the format of
  :mod:`rapport.core.events` (a salted ``payload_commitment`` per event, chained by
  ``event_digest``): the JSON bodies are assembled from pre-serialised pieces (5 million calls
  of those functions alone would take a minute) and every batch checks a sample of rows against
  them. Each batch is appended under the sealers' lock.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import queue
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from json.encoder import encode_basestring as _q
from typing import Any

import numpy as np
from django.db import connection, transaction

from rapport.contacts.models import Tag
from rapport.contacts.search import build_search_text, remember_name_words
from rapport.core.events import (
    chain_head,
    event_digest,
    payload_commitment,
    seal_pending,
    take_seal_lock,
)
from rapport.core.models import AuditHead
from rapport.core.text import fold
from rapport.dataio import pools

CONTACT_BATCH = 100_000
EVENT_BATCH = 250_000
# Below this many new contacts, indexes and triggers stay in place (rebuilding them would cost
# more than maintaining them row by row).
BULK_THRESHOLD = 50_000
YEARS_OF_HISTORY = 5
FTS5_DEFAULT_AUTOMERGE = 4
# PostgreSQL: connections that rebuild indexes at once (each may add its own parallel workers).
INDEX_CONNECTIONS = max(2, min(4, os.cpu_count() or 2))
INDEX_MEMORY = "512MB"  # maintenance_work_mem of each of those connections
# SQLite: helper threads of the sorter while it builds an index.
SQLITE_SORT_THREADS = max(1, min(4, os.cpu_count() or 1))

SEED_USERS: tuple[tuple[str, str, str, str | None], ...] = (
    # (email, role, first name, team)
    ("owner@seed.example.com", "owner", "Olivia", None),
    ("manager.north@seed.example.com", "manager", "Noah", "North"),
    ("manager.south@seed.example.com", "manager", "Sofia", "South"),
    ("manager.west@seed.example.com", "manager", "Wyatt", "West"),
    *[(f"sales{i}.north@seed.example.com", "sales", f"Nora{i}", "North") for i in range(1, 5)],
    *[(f"sales{i}.south@seed.example.com", "sales", f"Sam{i}", "South") for i in range(1, 5)],
    *[(f"sales{i}.west@seed.example.com", "sales", f"Will{i}", "West") for i in range(1, 5)],
    ("support1@seed.example.com", "support", "Sasha", None),
    ("support2@seed.example.com", "support", "Simon", None),
    ("marketing1@seed.example.com", "marketing", "Maya", None),
    ("marketing2@seed.example.com", "marketing", "Marco", None),
)
# How many records each role owns, relative to one another.
OWNER_WEIGHT = {"owner": 1.0, "manager": 2.0, "sales": 6.0, "support": 0.0, "marketing": 0.5}

CONTACT_COLUMNS = (
    "id", "created_at", "updated_at", "version", "deleted_at", "first_name", "last_name",
    "emails", "primary_email", "phones", "addresses", "job_title", "lifecycle_stage", "source",
    "email_opt_in", "email_opt_in_at", "email_opt_in_source", "do_not_call", "notes",
    "preferences", "custom_fields", "search_text", "company_id", "owner_id",
)
COMPANY_COLUMNS = (
    "id", "created_at", "updated_at", "version", "deleted_at", "name", "domain", "industry",
    "size", "address", "custom_fields", "owner_id",
)
EVENT_COLUMNS = (
    "id", "occurred_at", "actor_id", "kind", "entity_type", "entity_id", "contact_id",
    "before", "after", "salt", "payload_hash", "seq", "prev_hash", "hash",
)
CONTACT_TABLES = ("contacts_company", "contacts_contact", "contacts_contacttag")
BULK_TABLES = (*CONTACT_TABLES, "core_event")

# Event kinds in the generated stream; the order breaks ties between events at the same instant.
K_COMPANY_CREATED, K_CONTACT_CREATED, K_NOTE, K_UPDATE = range(4)


def _compact(value: Any) -> str:
    """JSON exactly as ``event_digest`` serialises a value inside its body."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@dataclass
class SeedReport:
    users: int = 0
    companies: int = 0
    contacts: int = 0
    contact_tags: int = 0
    events: int = 0
    seconds: float = 0.0
    steps: dict[str, float] = field(default_factory=dict)


# --- generation (pure numpy / Python, no database) ----------------------------------------

@dataclass
class Companies:
    names: list[str]
    domains: list[str]
    industries: list[str]
    sizes: list[str]
    addresses: list[str]
    owner_ids: list[int | None]
    created_us: np.ndarray
    tag_pairs: list[tuple[int, int]]  # (company index, tag index)


@dataclass
class People:
    first: np.ndarray  # pool indices
    last: np.ndarray
    company: np.ndarray  # company index or -1
    owner_ids: list[int | None]
    created_us: np.ndarray
    stage: np.ndarray
    tag_contact: np.ndarray  # contact index of each (contact, tag) pair
    tag_index: np.ndarray
    rng: np.random.Generator


def _as_us(moment: dt.datetime) -> int:
    return int(moment.timestamp() * 1_000_000)


def _iso(us: np.ndarray) -> list[str]:
    """'YYYY-MM-DDTHH:MM:SS.ffffff' for microseconds since the epoch (UTC)."""
    return np.datetime_as_string(us.astype("datetime64[us]"), unit="us").tolist()


def _spread_times(rng: np.random.Generator, n: int, start_us: int, end_us: int) -> np.ndarray:
    """Creation times skewed towards the recent past (a growing business); odd microseconds.

    Microseconds are never zero so every stored timestamp has the same text shape on SQLite
    (Django writes "…:05" for a whole second and "…:05.000001" otherwise).
    """
    fraction = np.sqrt(rng.random(n))
    return (start_us + (fraction * (end_us - start_us)).astype(np.int64)) | 1


def _company_names(rng: np.random.Generator, count: int) -> list[str]:
    lasts = pools.last_names().names[:400]
    roots = [*pools.COMPANY_WORDS, *lasts]
    combos = [f"{root} {suffix}" for root in roots for suffix in pools.COMPANY_SUFFIXES]
    order = rng.permutation(len(combos))
    names = [combos[i] for i in order[:count]]
    cities = pools.cities()
    extra = count - len(names)
    if extra > 0:
        picks = rng.integers(0, len(combos), extra)
        places = rng.integers(0, len(cities), extra)
        names += [f"{combos[p]} {cities[c][0]} {i // len(cities) + 1}"
                  for i, (p, c) in enumerate(zip(picks.tolist(), places.tolist(), strict=True))]
    return names


def _addresses(rng: np.random.Generator, n: int) -> list[str]:
    streets = pools.street_names()
    cities = pools.cities()
    numbers = rng.integers(1, 9999, n).tolist()
    street = rng.integers(0, len(streets), n).tolist()
    city = rng.integers(0, len(cities), n).tolist()
    zips = rng.integers(0, 100, n).tolist()
    out = []
    for num, s, c, z in zip(numbers, street, city, zips, strict=True):
        name, state, prefix = cities[c]
        out.append(f"{num} {streets[s]}\n{name}, {state} {prefix}{z:02d}")
    return out


def _owner_choice(rng: np.random.Generator, n: int, owners: Sequence[tuple[int, str]],
                  unowned: float) -> list[int | None]:
    ids = [uid for uid, role in owners if OWNER_WEIGHT.get(role, 0) > 0]
    weights = np.array([OWNER_WEIGHT[role] for _, role in owners if OWNER_WEIGHT.get(role, 0) > 0])
    picks = rng.choice(len(ids), n, p=weights / weights.sum())
    none = rng.random(n) < unowned
    return [None if skip else ids[p] for p, skip in zip(picks.tolist(), none.tolist(),
                                                         strict=True)]


def generate_companies(rng: np.random.Generator, count: int, owners, start_us: int,
                       end_us: int, tag_count: int) -> Companies:
    names = _company_names(rng, count)
    tlds = (".com", ".com", ".com", ".co", ".net", ".io")
    tld = rng.integers(0, len(tlds), count).tolist()
    domains = [pools.ascii_word(n.replace(" ", "")) + tlds[t] for n, t in zip(names, tld,
                                                                             strict=True)]
    industry = rng.integers(0, len(pools.INDUSTRIES), count).tolist()
    size_p = np.array(pools.COMPANY_SIZE_WEIGHTS)
    size = rng.choice(len(pools.COMPANY_SIZES), count, p=size_p / size_p.sum()).tolist()
    tagged = np.flatnonzero(rng.random(count) < 0.25)
    tags = rng.integers(0, tag_count, len(tagged))
    return Companies(
        names=names, domains=domains,
        industries=[pools.INDUSTRIES[i] for i in industry],
        sizes=[pools.COMPANY_SIZES[i] for i in size],
        addresses=_addresses(rng, count),
        owner_ids=_owner_choice(rng, count, owners, unowned=0.05),
        created_us=_spread_times(rng, count, start_us, end_us),
        tag_pairs=list(zip(tagged.tolist(), tags.tolist(), strict=True)),
    )


def generate_people(rng: np.random.Generator, count: int, company_count: int, owners,
                    start_us: int, end_us: int, tag_count: int) -> People:
    firsts, lasts = pools.first_names(), pools.last_names()
    first = rng.choice(len(firsts.names), count, p=firsts.probabilities)
    last = rng.choice(len(lasts.names), count, p=lasts.probabilities)
    if company_count:
        company = np.where(rng.random(count) < 0.4, rng.integers(0, company_count, count), -1)
    else:
        company = np.full(count, -1)
    stage_p = np.array(pools.STAGE_WEIGHTS)
    stage = rng.choice(len(pools.STAGES), count, p=stage_p / stage_p.sum())
    # 0-3 tags per person; duplicates collapse, so a few end up with fewer.
    per_person = rng.choice(4, count, p=[0.35, 0.40, 0.18, 0.07])
    tag_contact = np.repeat(np.arange(count), per_person)
    tag_index = rng.integers(0, tag_count, len(tag_contact))
    pairs = np.unique(tag_contact.astype(np.int64) * 1000 + tag_index)
    return People(
        first=first, last=last, company=company,
        owner_ids=_owner_choice(rng, count, owners, unowned=0.05),
        created_us=_spread_times(rng, count, start_us, end_us), stage=stage,
        tag_contact=pairs // 1000, tag_index=pairs % 1000, rng=rng,
    )


# --- database helpers ---------------------------------------------------------------------

class _Loader:
    """Bulk inserts on the Django connection: executemany on SQLite, COPY on PostgreSQL."""

    def __init__(self) -> None:
        connection.ensure_connection()
        self.vendor = connection.vendor
        self.raw = connection.connection
        self.saved_sql: list[tuple[str, str]] = []  # (kind, sql to recreate)

    def insert(self, table: str, columns: Sequence[str], rows: Sequence[tuple]) -> None:
        if not rows:
            return
        cols = ", ".join(f'"{c}"' for c in columns)
        if self.vendor == "postgresql":
            with self.raw.cursor() as cursor:
                with cursor.copy(f'COPY "{table}" ({cols}) FROM STDIN') as copy:
                    for row in rows:
                        copy.write_row(row)
        else:
            marks = ", ".join("?" * len(columns))
            sql = f'INSERT INTO "{table}" ({cols}) VALUES ({marks})'  # noqa: S608
            self.raw.executemany(sql, rows)

    def scalar(self, sql: str, params: Sequence = ()) -> Any:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            row = cursor.fetchone()
        return row[0] if row else None

    def next_id(self, table: str) -> int:
        return int(self.scalar(f'SELECT COALESCE(MAX(id), 0) FROM "{table}"')) + 1  # noqa: S608

    # Dropping secondary indexes (and SQLite's search trigger) for the load, then rebuilding
    # them once, is several times faster than maintaining them row by row.
    def drop_indexes(self, tables: Sequence[str]) -> None:
        with connection.cursor() as cursor:
            if self.vendor == "sqlite":
                names = ", ".join("%s" for _ in tables)
                query = ("SELECT tbl_name, type, name, sql FROM sqlite_master "  # noqa: S608
                         "WHERE type IN ('index', 'trigger') "
                         f"AND sql IS NOT NULL AND tbl_name IN ({names})")
                cursor.execute(query, list(tables))
                for table, kind, name, sql in cursor.fetchall():
                    self.saved_sql.append((table, kind, sql))
                    cursor.execute(f'DROP {kind.upper()} "{name}"')
            elif self.vendor == "postgresql":
                # Deferred foreign-key checks queued earlier in this transaction would block
                # ALTER TABLE; run them now.
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                cursor.execute("SET CONSTRAINTS ALL DEFERRED")
                cursor.execute(
                    "SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid), "
                    "CASE WHEN c.contype = 'u' THEN pg_get_indexdef(c.conindid) END, "
                    "CASE WHEN c.contype = 'u' THEN c.conindid::regclass::text END "
                    "FROM pg_constraint c WHERE c.contype IN ('u', 'f') "
                    "AND c.conrelid::regclass::text = ANY(%s) ORDER BY c.contype DESC",
                    [list(tables)])
                for table, name, definition, index_sql, index in cursor.fetchall():
                    if definition.startswith("FOREIGN KEY"):
                        # Back NOT VALID (instant), then validated: validations of different
                        # tables run in parallel.
                        self.saved_sql.append((
                            table, "foreign key",
                            f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition} '
                            "NOT VALID"))
                        self.saved_sql.append((
                            table, "validate",
                            f'ALTER TABLE "{table}" VALIDATE CONSTRAINT "{name}"'))
                    else:
                        # Built as a unique index (in parallel with the table's other
                        # indexes), then attached to the constraint without another scan.
                        self.saved_sql.append((table, "index", index_sql))
                        self.saved_sql.append((
                            table, "unique",
                            f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" '
                            f"UNIQUE USING INDEX {index}"))
                    cursor.execute(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"')
                cursor.execute(
                    "SELECT i.indrelid::regclass::text, i.indexrelid::regclass::text, "
                    "pg_get_indexdef(i.indexrelid) "
                    "FROM pg_index i WHERE NOT i.indisprimary "
                    "AND i.indrelid::regclass::text = ANY(%s) "
                    "AND NOT EXISTS (SELECT 1 FROM pg_constraint c "
                    "WHERE c.conindid = i.indexrelid)",
                    [list(tables)])
                for table, name, definition in cursor.fetchall():
                    self.saved_sql.append((table, "index", definition))
                    cursor.execute(f"DROP INDEX {name}")

    def restore_indexes(self, *, fts_from_id: int, tables: Sequence[str] | None = None
                        ) -> _Rebuild:
        """Recreate what drop_indexes removed (for ``tables``, default all).

        SQLite: done when this returns. PostgreSQL: the rebuild runs on other connections;
        ``wait()`` on what this returns (it re-raises their error, if any).
        """
        chosen = [item for item in self.saved_sql if tables is None or item[0] in tables]
        self.saved_sql = [item for item in self.saved_sql if item not in chosen]
        if self.vendor == "postgresql":
            return _Rebuild(chosen)
        if chosen:
            with transaction.atomic():
                self._restore_sqlite(chosen, fts_from_id)
        return _Rebuild([])

    def _restore_sqlite(self, chosen: list[tuple[str, str, str]], fts_from_id: int) -> None:
        # One connection, one statement at a time (SQLite has one writer); each CREATE INDEX
        # sorts with helper threads.
        order = {"index": 0, "trigger": 1}
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA threads = {SQLITE_SORT_THREADS}")
            for _, _, sql in sorted(chosen, key=lambda item: order[item[1]]):
                cursor.execute(sql)
            cursor.execute("PRAGMA threads = 0")
            if any(kind == "trigger" and "contact_fts" in sql for _, kind, sql in chosen):
                # What the dropped insert trigger would have done, for the new rows at once.
                # Without incremental merging while it runs (40% less work); the setting is
                # put back for the inserts that follow.
                cursor.execute("SELECT v FROM contact_fts_config WHERE k = 'automerge'")
                row = cursor.fetchone()
                cursor.execute("INSERT INTO contact_fts(contact_fts, rank) VALUES ('automerge', 0)")
                cursor.execute(
                    "INSERT INTO contact_fts(rowid, search_text) "
                    "SELECT id, search_text FROM contacts_contact WHERE id >= %s", [fts_from_id])
                cursor.execute(
                    "INSERT INTO contact_fts(contact_fts, rank) VALUES ('automerge', %s)",
                    [int(row[0]) if row else FTS5_DEFAULT_AUTOMERGE])
            if any(kind == "trigger" and "company_fts" in sql for _, kind, sql in chosen):
                cursor.execute("INSERT INTO company_fts(company_fts) VALUES ('rebuild')")

    def fix_sequences(self, tables: Sequence[str]) -> None:
        if self.vendor != "postgresql":
            return
        with connection.cursor() as cursor:
            for table in tables:
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "  # noqa: S608
                    f'GREATEST((SELECT MAX(id) FROM "{table}"), 1))')

    def analyze(self) -> None:
        with connection.cursor() as cursor:
            if self.vendor == "sqlite":
                # Exact statistics for the people tables: with none, or with sampled ones
                # (analysis_limit), SQLite believes "deleted_at IS NULL" and
                # "lifecycle_stage = ?" are selective, filters through those indexes and sorts
                # a third of a million rows for one list page (1.2 s instead of 1 ms).
                for table in CONTACT_TABLES:
                    cursor.execute(f'ANALYZE "{table}"')
                cursor.execute("PRAGMA analysis_limit = 1000")
                cursor.execute('ANALYZE "core_event"')
                cursor.execute("PRAGMA analysis_limit = 0")
            elif self.vendor == "postgresql":
                for table in BULK_TABLES:
                    cursor.execute(f'ANALYZE "{table}"')


class _Rebuild:
    """PostgreSQL's index rebuild, on INDEX_CONNECTIONS connections of its own.

    Three waves, each in parallel: every index (several on one table at once: CREATE INDEX
    takes a SHARE lock, which does not conflict with itself), then the constraints that use
    them and the foreign keys (NOT VALID, instant), then one VALIDATE per table.
    """

    WAVES = (("index",), ("unique", "foreign key"), ("validate",))

    def __init__(self, chosen: list[tuple[str, str, str]]) -> None:
        self.error: BaseException | None = None
        self.thread: threading.Thread | None = None
        if not chosen:
            return
        if connection.in_atomic_block:
            # Inside a caller's transaction (a test's) other connections would wait on its
            # locks and see none of its rows: rebuild on this connection, one after another.
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(f"SET LOCAL maintenance_work_mem = '{INDEX_MEMORY}'")
                for kinds in self.WAVES:
                    for _, kind, sql in chosen:
                        if kind in kinds:
                            cursor.execute(sql)
            return
        self.thread = threading.Thread(target=self._run, args=(chosen,), daemon=True)
        self.thread.start()

    def _run(self, chosen: list[tuple[str, str, str]]) -> None:
        params = connection.get_connection_params()
        params.pop("cursor_factory", None)
        params.pop("context", None)
        try:
            for kinds in self.WAVES:
                work: queue.Queue = queue.Queue()
                if kinds == ("index",):
                    # The longest builds (trigram GIN indexes, the events') start first.
                    statements = [sql for _, kind, sql in chosen if kind in kinds]
                    statements.sort(key=lambda sql: ("USING gin" not in sql,
                                                     "core_event" not in sql))
                    for sql in statements:
                        work.put([sql])
                else:
                    # Statements on one table take locks that conflict: one worker per table.
                    by_table: dict[str, list[str]] = {}
                    for table, kind, sql in chosen:
                        if kind in kinds:
                            by_table.setdefault(table, []).append(sql)
                    for table_statements in by_table.values():
                        work.put(table_statements)
                errors: list[BaseException] = []
                workers = [threading.Thread(target=self._work, args=(params, work, errors),
                                            daemon=True)
                           for _ in range(min(INDEX_CONNECTIONS, work.qsize()))]
                for thread in workers:
                    thread.start()
                for thread in workers:
                    thread.join()
                if errors:
                    raise errors[0]
        except BaseException as error:  # re-raised by wait()
            self.error = error

    @staticmethod
    def _work(params: dict[str, Any], work: queue.Queue, errors: list[BaseException]) -> None:
        import psycopg

        try:
            with psycopg.connect(**params, autocommit=True) as conn:
                conn.execute(f"SET maintenance_work_mem = '{INDEX_MEMORY}'")
                while True:
                    try:
                        statements = work.get_nowait()
                    except queue.Empty:
                        return
                    for sql in statements:
                        conn.execute(sql)
        except BaseException as error:  # handed to _run
            errors.append(error)

    def wait(self) -> None:
        if self.thread is not None:
            self.thread.join()
            self.thread = None
        if self.error is not None:
            raise self.error


class _SqlitePragmas:
    """Load-time settings for SQLite: no fsync, a big page cache, no rollback journal."""

    def __init__(self, loader: _Loader) -> None:
        self.loader = loader
        self.active = loader.vendor == "sqlite" and not connection.in_atomic_block

    def __enter__(self):
        if self.active:
            raw = self.loader.raw
            self.saved = {name: raw.execute(f"PRAGMA {name}").fetchone()[0]
                          for name in ("synchronous", "cache_size", "journal_mode")}
            raw.execute("PRAGMA synchronous = OFF")
            raw.execute("PRAGMA cache_size = -1000000")
            raw.execute("PRAGMA temp_store = MEMORY")
            raw.execute("PRAGMA journal_mode = OFF")
            # Generated JSON is checked in Python; skip SQLite's JSON_VALID per row.
            raw.execute("PRAGMA ignore_check_constraints = ON")
        return self

    def __exit__(self, *exc) -> None:
        if self.active:
            raw = self.loader.raw
            raw.execute(f"PRAGMA journal_mode = {self.saved['journal_mode']}")
            raw.execute(f"PRAGMA synchronous = {self.saved['synchronous']}")
            raw.execute(f"PRAGMA cache_size = {self.saved['cache_size']}")
            raw.execute("PRAGMA ignore_check_constraints = OFF")


# --- the seed ------------------------------------------------------------------------------

def _ensure_users(password: str | None) -> list[tuple[int, str]]:
    from rapport.accounts.models import User
    from rapport.accounts.services import user_create

    out = []
    for email, role, first, team in SEED_USERS:
        user = User.objects.filter(username=email).first()
        if user is None:
            user = user_create(email=email, role=role, first_name=first, last_name="Seed",
                               team_name=team,
                               password=password if role == "owner" else None)
        out.append((user.id, user.role))
    return out


def _ensure_tags() -> list[int]:
    Tag.objects.bulk_create([Tag(name=n) for n in pools.TAGS], ignore_conflicts=True)
    ids = dict(Tag.objects.filter(name__in=pools.TAGS).values_list("name", "id"))
    return [ids[n] for n in pools.TAGS]


def _stamp(iso: str, vendor: str) -> str:
    return iso + "+00" if vendor == "postgresql" else iso[:10] + " " + iso[11:]


class _Timer:
    def __init__(self, report: SeedReport, log: Callable[[str], None]) -> None:
        self.report, self.log = report, log
        self.start, self.cpu = time.perf_counter(), time.process_time()

    def step(self, name: str) -> None:
        now, cpu = time.perf_counter(), time.process_time()
        self.report.steps[name] = round(now - self.start, 2)
        self.log(f"  {name}: {now - self.start:.1f}s (cpu {cpu - self.cpu:.1f}s)")
        self.start, self.cpu = now, cpu


def seed_run(*, contacts: int, companies: int, events_per_contact: float = 5.0, seed: int = 1,
             as_of: dt.date | None = None, owner_password: str | None = None,
             bulk: bool | None = None, log: Callable[[str], None] = lambda _: None
             ) -> SeedReport:
    """Add ``contacts`` people, ``companies`` companies and their timelines to the database.

    ``as_of`` is the last day of the generated history (today by default); with the same seed
    and ``as_of`` the data is identical. ``bulk`` drops and rebuilds indexes around the load
    (default: when loading at least ``BULK_THRESHOLD`` contacts).
    """
    if contacts < 0 or companies < 0 or events_per_contact < 1:
        raise ValueError("contacts and companies must be >= 0, events per contact >= 1")
    began = time.perf_counter()
    report = SeedReport()
    timer = _Timer(report, log)
    rng = np.random.default_rng(seed)
    day = as_of or dt.datetime.now(dt.UTC).date()
    end_us = _as_us(dt.datetime.combine(day, dt.time(18), tzinfo=dt.UTC))
    start_us = end_us - YEARS_OF_HISTORY * 365 * 86_400_000_000
    loader = _Loader()
    bulk = contacts >= BULK_THRESHOLD if bulk is None else bulk

    owners = _ensure_users(owner_password)
    tag_ids = _ensure_tags()
    report.users = len(owners)
    comp = generate_companies(rng, companies, owners, start_us, end_us, len(tag_ids))
    people = generate_people(rng, contacts, companies, owners, start_us, end_us, len(tag_ids))
    plan = plan_events(rng, people, events_per_contact, end_us)
    timer.step("generate")

    with _SqlitePragmas(loader):
        ids = _FirstIds(contact=loader.next_id("contacts_contact"),
                        company=loader.next_id("contacts_company"),
                        event=loader.next_id("core_event"))
        from rapport.accounts.models import User

        user_ids = list(User.objects.filter(is_active=True).order_by("id")
                        .values_list("id", flat=True))
        seal_pending(wait=True)
        with transaction.atomic():
            head = chain_head()
            head_seq, head_hash = head.count, head.last_hash
        rebuilds: list[_Rebuild] = []
        if bulk:
            with transaction.atomic():
                loader.drop_indexes(BULK_TABLES)
        try:
            _load_companies(loader, comp, ids.company, tag_ids, report)
            timer.step("companies")
            # Rows are built in a second thread while this one writes: SQLite and COPY release
            # the GIL, so building and writing overlap on two cores.
            batches: queue.Queue = queue.Queue(maxsize=2)
            producer = threading.Thread(
                target=_produce, daemon=True,
                args=(batches, people, plan, comp, ids, tag_ids, user_ids, (head_seq, head_hash),
                      loader.vendor))
            # The writer re-takes the GIL after every row SQLite stores; a short switch interval
            # keeps it from waiting 5 ms each time behind the busy producer.
            switch = sys.getswitchinterval()
            sys.setswitchinterval(0.0002)
            producer.start()
            try:
                _consume(batches, loader, ids, bulk, report, timer, log, len(people.first),
                         rebuilds)
            finally:
                sys.setswitchinterval(switch)
                producer.join(timeout=5)
            timer.step("events")
        finally:
            if bulk:
                for rebuild in rebuilds:  # the people's (PostgreSQL builds them meanwhile)
                    rebuild.wait()
                loader.restore_indexes(fts_from_id=ids.contact).wait()
                timer.step("event indexes")
        loader.fix_sequences(("contacts_company", "contacts_contact", "core_event"))
        if bulk:
            loader.analyze()
            timer.step("analyze")
        _fill_name_vocabulary(people)
        timer.step("name vocabulary")
    report.seconds = round(time.perf_counter() - began, 1)
    return report


@dataclass(frozen=True)
class _FirstIds:
    contact: int
    company: int
    event: int


def _produce(batches: queue.Queue, people: People, plan: EventPlan, comp: Companies,
             ids: _FirstIds, tag_ids: list[int], user_ids: list[int],
             head: tuple[int, str], vendor: str) -> None:
    """Build every batch of rows (no database access here) and hand them to the writer."""
    try:
        created_json: list[str] = []
        for rows, tag_rows in _contact_batches(people, plan, comp, ids, tag_ids, vendor,
                                               created_json):
            batches.put(("contacts", rows, tag_rows))
        batches.put(("contacts done",))
        for prev, rows, last in _event_batches(people, plan, comp, created_json, ids, user_ids,
                                               head, vendor):
            batches.put(("events", prev, rows, last))
        batches.put(("done",))
    except BaseException as error:  # handed to the writer, which re-raises it
        batches.put(("error", error))


def _fill_name_vocabulary(people: People) -> None:
    """Every first and last name drawn goes into the vocabulary of typo-tolerant search, as
    the services do for each person they write (a few thousand words, from the pools)."""
    firsts, lasts = pools.first_names(), pools.last_names()
    remember_name_words(*(firsts.names[i] for i in np.unique(people.first).tolist()),
                        *(lasts.names[i] for i in np.unique(people.last).tolist()))


def _consume(batches: queue.Queue, loader: _Loader, ids: _FirstIds, bulk: bool,
             report: SeedReport, timer: _Timer, log: Callable[[str], None], total: int,
             rebuilds: list[_Rebuild]) -> None:
    while True:
        item = batches.get()
        kind = item[0]
        if kind == "error":
            raise item[1]
        if kind == "done":
            return
        if kind == "contacts":
            _, rows, tag_rows = item
            with transaction.atomic():
                loader.insert("contacts_contact", CONTACT_COLUMNS, rows)
                loader.insert("contacts_contacttag", ("contact_id", "tag_id"), tag_rows)
            report.contacts += len(rows)
            report.contact_tags += len(tag_rows)
            log(f"    contacts {report.contacts:,}/{total:,}")
        elif kind == "contacts done":
            timer.step("contacts")
            if bulk:
                # SQLite: rebuilt here, before the events. PostgreSQL: started on other
                # connections while the events are copied in.
                rebuilds.append(loader.restore_indexes(fts_from_id=ids.contact,
                                                       tables=CONTACT_TABLES))
                timer.step("contact indexes and search")
        else:
            _, prev, rows, last = item
            with transaction.atomic():
                take_seal_lock(wait=True, in_write=True)
                head = chain_head()
                if (head.count, head.last_hash) != prev:
                    raise RuntimeError("another process appended to the audit log during the "
                                       "seed; run it again on a quiet database")
                loader.insert("core_event", EVENT_COLUMNS, rows)
                AuditHead.objects.filter(id=1).update(last_hash=last[1], count=last[0])
            report.events += len(rows)
            log(f"    events {report.events:,}")


def _load_companies(loader: _Loader, comp: Companies, first_id: int, tag_ids: list[int],
                    report: SeedReport) -> None:
    stamps = _iso(comp.created_us)
    rows = []
    for i, name in enumerate(comp.names):
        stamp = _stamp(stamps[i], loader.vendor)
        rows.append((first_id + i, stamp, stamp, 1, None, name, comp.domains[i],
                     comp.industries[i], comp.sizes[i], comp.addresses[i], "{}",
                     comp.owner_ids[i]))
    with transaction.atomic():
        loader.insert("contacts_company", COMPANY_COLUMNS, rows)
        loader.insert("contacts_companytag", ("company_id", "tag_id"),
                      [(first_id + c, tag_ids[t]) for c, t in comp.tag_pairs])
    report.companies = len(rows)


def _json_list(items: list[str]) -> str:
    return "[" + ",".join(map(_q, items)) + "]"


def _contact_batches(people: People, plan: EventPlan, comp: Companies, ids: _FirstIds,
                     tag_ids: list[int], vendor: str, created_json: list[str]):
    """Yield (contact rows, contact-tag rows) per batch; fill each person's created payload.

    JSON is assembled from pre-escaped pieces in ``event_digest``'s canonical form (sorted keys,
    compact separators): json.dumps would cost more than everything else together.
    """
    n = len(people.first)
    details = _people_details(people.rng, n)
    addresses = _addresses(people.rng, n)
    firsts, lasts = pools.first_names(), pools.last_names()
    first_q = [_q(x) for x in firsts.names]
    last_q = [_q(x) for x in lasts.names]
    folded_company = [fold(name) for name in comp.names]
    notes_q = [*(_q(x) for x in pools.NOTES), '""']  # index -1: no notes
    jobs_q = [*(_q(x) for x in pools.JOB_TITLES), '""']
    opt_sources = ("signup form", "checkout", "event")
    tags_by_contact: dict[int, list[str]] = {}
    for c, t in zip(people.tag_contact.tolist(), people.tag_index.tolist(), strict=True):
        tags_by_contact.setdefault(c, []).append(pools.TAGS[t])
    stamps = _iso(people.created_us)
    updated_stamps = _iso(plan.updated_us)
    versions = plan.versions.tolist()
    cols = {k: v.tolist() for k, v in details.items()}
    first_l, last_l = people.first.tolist(), people.last.tolist()
    company_l, stage_l = people.company.tolist(), people.stage.tolist()
    owners = people.owner_ids
    for start in range(0, n, CONTACT_BATCH):
        rows = []
        for i in range(start, min(n, start + CONTACT_BATCH)):
            fi, li, ci = first_l[i], last_l[i], company_l[i]
            emails: list[str] = []
            if cols["has_email"][i]:
                a, b, num = firsts.ascii[fi], lasts.ascii[li], cols["email_number"][i]
                style = cols["email_style"][i]
                local = (f"{a}.{b}" if style == 0 else f"{a}{b}{num}" if style == 1
                         else f"{a[0]}.{b}" if style == 2 else f"{a}_{b}{num}")
                if ci >= 0 and cols["work_email"][i]:
                    domain = comp.domains[ci]
                else:
                    domain = pools.EMAIL_DOMAINS[cols["email_domain"][i]]
                emails.append(f"{local}@{domain}")
            phones: list[str] = []
            parts = [f"{firsts.folded[fi]} {lasts.folded[li]}", *emails]
            if cols["has_phone"][i]:
                exchange = cols["exchange"][i]
                if exchange % 100 == 11:  # N11 codes are service numbers, never assigned
                    exchange += 1
                national = f"{pools.US_AREA_CODES[cols['area'][i]]}{exchange}{cols['line'][i]:04d}"
                phones.append(f"+1{national}")
                parts.extend(sorted({f"1{national}", national}))
            if ci >= 0:
                parts.append(folded_company[ci])
            search_text = " | ".join(parts)
            prefs = list(dict.fromkeys(
                pools.PREFERENCES[p] for p in cols["pref"][i][: cols["pref_count"][i]]))
            address = [addresses[i]] if cols["has_address"][i] else []
            opt_in = cols["opt_in"][i]
            stamp = _stamp(stamps[i], vendor)
            company_id = ids.company + ci if ci >= 0 else None
            owner = owners[i]
            stage = pools.STAGES[stage_l[i]]
            source = pools.SOURCES[cols["source"][i]]
            job = cols["job"][i] if ci >= 0 else -1
            note = cols["notes"][i] if cols["has_notes"][i] else -1
            opt_source = opt_sources[cols["opt_in_source"][i]] if opt_in else ""
            emails_j, phones_j = _json_list(emails), _json_list(phones)
            address_j, prefs_j = _json_list(address), _json_list(prefs)
            created_json.append(
                f'{{"addresses":{address_j},'
                f'"company_id":{"null" if company_id is None else company_id},'
                f'"custom_fields":{{}},'
                f'"do_not_call":{"true" if cols["do_not_call"][i] else "false"},'
                f'"email_opt_in":{"true" if opt_in else "false"},'
                f'"email_opt_in_at":{_q(stamps[i] + "+00:00") if opt_in else "null"},'
                f'"email_opt_in_source":"{opt_source}","emails":{emails_j},'
                f'"first_name":{first_q[fi]},"job_title":{jobs_q[job]},'
                f'"last_name":{last_q[li]},"lifecycle_stage":"{stage}",'
                f'"notes":{notes_q[note]},'
                f'"owner_id":{"null" if owner is None else owner},"phones":{phones_j},'
                f'"preferences":{prefs_j},"source":"{source}",'
                f'"tags":{_json_list(sorted(tags_by_contact.get(i, [])))},"version":1}}'
            )
            rows.append((
                ids.contact + i, stamp, _stamp(updated_stamps[i], vendor), versions[i], None,
                firsts.names[fi], lasts.names[li], emails_j, emails[0] if emails else "",
                phones_j, address_j, pools.JOB_TITLES[job] if job >= 0 else "", stage, source,
                opt_in, stamp if opt_in else None, opt_source, cols["do_not_call"][i],
                pools.NOTES[note] if note >= 0 else "", prefs_j, "{}", search_text, company_id,
                owner,
            ))
            if i % 10_007 == 0:
                expected = build_search_text(
                    first_name=firsts.names[fi], last_name=lasts.names[li], emails=emails,
                    phones=phones, company_name=comp.names[ci] if ci >= 0 else "")
                if expected != search_text:
                    raise AssertionError(f"search_text differs from build_search_text: "
                                         f"{search_text!r} != {expected!r}")
        end = start + len(rows)
        lo, hi = np.searchsorted(people.tag_contact, [start, end])
        tag_rows = list(zip((people.tag_contact[lo:hi] + ids.contact).tolist(),
                            [tag_ids[t] for t in people.tag_index[lo:hi].tolist()], strict=True))
        yield rows, tag_rows


def _event_batches(people: People, plan: EventPlan, comp: Companies, created_json: list[str],
                   ids: _FirstIds, user_ids: list[int], head: tuple[int, str], vendor: str):
    """Yield ((seq, hash) before, event rows, (seq, hash) after) per batch, chained from
    ``head``; rows are sealed (seq, salt, commitment, links) as the sealer would seal them."""
    n, m = len(people.first), len(comp.names)
    # One stream: company.created, contact.created, then notes and edits, in time order.
    entity = np.concatenate([np.arange(m), np.arange(n), plan.who])
    kinds = np.concatenate([np.full(m, K_COMPANY_CREATED), np.full(n, K_CONTACT_CREATED),
                            plan.kind])
    times = np.concatenate([comp.created_us, people.created_us, plan.when])
    payloads = np.concatenate([np.zeros(m + n, dtype=np.int64), plan.payload])
    by_owner = np.concatenate([np.ones(m + n, dtype=bool), plan.by_owner])
    other = np.concatenate([np.zeros(m + n, dtype=np.int64), plan.other_actor])
    order = np.lexsort((kinds, times))

    note_json = [_compact({"text": t}) for t in pools.NOTES]
    update_json = [(_compact(b), _compact(a)) for b, a in pools.UPDATES]
    kind_names = ("company.created", "contact.created", "note.added", "contact.updated")
    company_tags: dict[int, list[str]] = {}
    for c, t in comp.tag_pairs:
        company_tags.setdefault(c, []).append(pools.TAGS[t])
    company_json = [
        _compact({"name": comp.names[i], "domain": comp.domains[i],
                  "industry": comp.industries[i], "size": comp.sizes[i],
                  "address": comp.addresses[i], "owner_id": comp.owner_ids[i],
                  "tags": sorted(company_tags.get(i, [])), "custom_fields": {}, "version": 1})
        for i in range(m)
    ]
    contact_owner = people.owner_ids
    sha256 = hashlib.sha256
    seq, prev = head
    next_id = ids.event
    for start in range(0, len(order), EVENT_BATCH):
        idx = order[start:start + EVENT_BATCH]
        k_l, e_l, p_l = kinds[idx].tolist(), entity[idx].tolist(), payloads[idx].tolist()
        owner_l, other_l = by_owner[idx].tolist(), other[idx].tolist()
        iso_l = _iso(times[idx])
        first = (seq, prev)
        salts = os.urandom(16 * len(idx)).hex()
        rows = []
        for j in range(len(idx)):
            k, e, iso = k_l[j], e_l[j], iso_l[j]
            if k == K_COMPANY_CREATED:
                actor = comp.owner_ids[e]
                entity_type, entity_id, contact_id = "company", ids.company + e, None
                before, after = None, company_json[e]
            else:
                actor = contact_owner[e]
                if not owner_l[j]:
                    actor = user_ids[other_l[j] % len(user_ids)]
                entity_type = "contact"
                entity_id = contact_id = ids.contact + e
                if k == K_CONTACT_CREATED:
                    actor = contact_owner[e]
                    before, after = None, created_json[e]
                elif k == K_NOTE:
                    before, after = None, note_json[p_l[j]]
                else:
                    before, after = update_json[p_l[j]]
            salt = salts[32 * j:32 * j + 32]
            payload_hash = sha256(
                f'["{salt}",{"null" if before is None else before},{after}]'.encode()
            ).hexdigest()
            seq += 1
            body = (f'["{prev}",{seq},"{iso}+00:00",{"null" if actor is None else actor},'
                    f'"{kind_names[k]}","{entity_type}",{entity_id},'
                    f'{"null" if contact_id is None else contact_id},"{payload_hash}"]')
            digest = sha256(body.encode()).hexdigest()
            rows.append((next_id + j, _stamp(iso, vendor), actor, kind_names[k], entity_type,
                         entity_id, contact_id, before, after, salt, payload_hash, seq, prev,
                         digest))
            prev = digest
        for j in sorted({0, len(rows) // 2, len(rows) - 1}):
            _check_link(rows[j])
        next_id += len(rows)
        yield first, rows, (seq, prev)


def _people_details(rng: np.random.Generator, n: int) -> dict[str, Any]:
    """Per-person attributes drawn up front, so batch sizes never change the data."""
    return {
        "has_email": rng.random(n) < 0.9,
        "email_style": rng.integers(0, 4, n),
        "email_number": rng.integers(1, 100, n),
        "email_domain": rng.integers(0, len(pools.EMAIL_DOMAINS), n),
        "work_email": rng.random(n) < 0.7,
        "has_phone": rng.random(n) < 0.7,
        "area": rng.integers(0, len(pools.US_AREA_CODES), n),
        "exchange": rng.integers(200, 1000, n),
        "line": rng.integers(0, 10000, n),
        "has_address": rng.random(n) < 0.5,
        "job": rng.integers(0, len(pools.JOB_TITLES), n),
        "source": rng.integers(0, len(pools.SOURCES), n),
        "opt_in": rng.random(n) < 0.45,
        "opt_in_source": rng.integers(0, 3, n),
        "do_not_call": rng.random(n) < 0.04,
        "has_notes": rng.random(n) < 0.08,
        "notes": rng.integers(0, len(pools.NOTES), n),
        "pref_count": rng.choice(3, n, p=[0.85, 0.11, 0.04]),
        "pref": rng.integers(0, len(pools.PREFERENCES), (n, 2)),
    }


@dataclass
class EventPlan:
    """Every later event (notes and edits) about people, drawn before anything is written."""

    who: np.ndarray  # person index
    when: np.ndarray  # microseconds since the epoch
    kind: np.ndarray  # K_NOTE or K_UPDATE
    payload: np.ndarray  # index into pools.NOTES or pools.UPDATES
    by_owner: np.ndarray  # True: the person's owner did it; False: someone else
    other_actor: np.ndarray  # random number choosing that someone else
    versions: np.ndarray  # per person: 1 + number of edits
    updated_us: np.ndarray  # per person: time of the last edit (or creation)


def plan_events(rng: np.random.Generator, people: People, events_per_contact: float,
                end_us: int) -> EventPlan:
    n = len(people.first)
    extra = rng.poisson(events_per_contact - 1, n)
    who = np.repeat(np.arange(n), extra)
    count = len(who)
    created = people.created_us[who]
    # Later events fall between the person's creation and the end of the history.
    span = np.maximum(end_us - created - 1_000_000, 1)
    when = (created + 1_000_000 + (rng.random(count) * span).astype(np.int64)) | 1
    kind = np.where(rng.random(count) < 0.6, K_NOTE, K_UPDATE)
    payload = np.where(kind == K_NOTE, rng.integers(0, len(pools.NOTES), count),
                       rng.integers(0, len(pools.UPDATES), count))
    edits = kind == K_UPDATE
    updated = people.created_us.copy()
    np.maximum.at(updated, who[edits], when[edits])
    return EventPlan(
        who=who, when=when, kind=kind, payload=payload, by_owner=rng.random(count) < 0.8,
        other_actor=rng.integers(0, 1 << 30, count),
        versions=1 + np.bincount(who[edits], minlength=n), updated_us=updated,
    )


def _check_link(row: tuple) -> None:
    """Recompute one generated event's commitment and hash with ``core.events`` itself."""
    (_, stamp, actor, kind, entity_type, entity_id, contact_id, before, after, salt,
     payload_hash, seq, prev, digest) = row
    stamp = stamp.replace(" ", "T").removesuffix("+00")
    occurred_at = dt.datetime.fromisoformat(stamp).replace(tzinfo=dt.UTC)
    committed = payload_commitment(salt, None if before is None else json.loads(before),
                                   json.loads(after))
    expected = event_digest(prev, seq=seq, occurred_at=occurred_at, actor_id=actor, kind=kind,
                            entity_type=entity_type, entity_id=entity_id,
                            contact_id=contact_id, payload_hash=payload_hash)
    if committed != payload_hash or expected != digest:
        raise AssertionError(f"generated event hash differs from event_digest for {row!r}")
