"""Write throughput under concurrency: contacts created per second by 1, 8 and 32 API clients.

Usage:
    python benchmarks/write_concurrency.py \\
        --database-url postgres://postgres@127.0.0.1:5432/rapport_writes --clients 1,8,32
    python benchmarks/write_concurrency.py \\
        --database-url sqlite:////tmp/rapport_writes.sqlite3 --clients 1,8,32

Migrates the database, makes an owner with an API token, starts gunicorn as `rapport serve`
does (gthread workers, enough threads for every client), and for each client count runs that
many threads, each on its own keep-alive connection, POSTing /api/v1/contacts for a fixed
time. Prints one table: database, clients, writes/s, p50/p95 ms, errors, load average (1 min,
read at the end of the row: the machine is shared, so it says how busy it was). At the end
it runs the audit chain check over everything written.

Run it from the checkout whose code you want to measure (`uv run python
/path/to/benchmarks/write_concurrency.py ...` inside an older worktree measures the older code).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import threading
import time

COLUMNS = ("database", "clients", "writes/s", "p50 ms", "p95 ms", "errors", "load avg")


def _setup_django(database_url: str, home: pathlib.Path) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ["RAPPORT_HOME"] = str(home)
    os.environ["DJANGO_SETTINGS_MODULE"] = "rapport.config.settings.base"
    import django

    django.setup()


def prepare(database_url: str, home: pathlib.Path) -> str:
    """Migrate, and return an API token of an owner (created on first use)."""
    _setup_django(database_url, home)
    from django.core.management import call_command

    from rapport.accounts.models import User
    from rapport.accounts.services import token_create, user_create

    call_command("migrate", interactive=False, verbosity=0)
    owner = User.objects.filter(email="writes@bench.example.com").first()
    if owner is None:
        owner = user_create(email="writes@bench.example.com", role="owner", first_name="Bench")
    return token_create(user=owner, name="write benchmark").raw


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


class Client(threading.Thread):
    """One API client: POST a new contact, wait for the answer, repeat until told to stop."""

    def __init__(self, number: int, port: int, token: str, start: threading.Event,
                 measuring: threading.Event, stop: threading.Event) -> None:
        super().__init__(daemon=True)
        self.number, self.port, self.token = number, port, token
        self.start_flag, self.measuring, self.stop_flag = start, measuring, stop
        self.latencies: list[float] = []
        self.errors = 0

    def run(self) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        headers = {"Host": "127.0.0.1", "Authorization": f"Bearer {self.token}",
                   "Content-Type": "application/json"}
        self.start_flag.wait()
        i = 0
        while not self.stop_flag.is_set():
            i += 1
            body = json.dumps({"first_name": f"Writer{self.number}", "last_name": f"No {i}",
                               "emails": [f"w{self.number}.{i}.{time.time_ns()}@bench.example.com"],
                               "job_title": "Baker"})
            began = time.perf_counter()
            try:
                conn.request("POST", "/api/v1/contacts", body=body, headers=headers)
                response = conn.getresponse()
                response.read()
                ok = response.status == 201
            except (OSError, http.client.HTTPException):
                ok = False
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            elapsed = time.perf_counter() - began
            if self.measuring.is_set() and not self.stop_flag.is_set():
                if ok:
                    self.latencies.append(elapsed)
                else:
                    self.errors += 1
        conn.close()


def run_row(port: int, token: str, clients: int, seconds: float, warmup: float
            ) -> tuple[float, float, float, int]:
    start, measuring, stop = threading.Event(), threading.Event(), threading.Event()
    threads = [Client(n, port, token, start, measuring, stop) for n in range(clients)]
    for thread in threads:
        thread.start()
    start.set()
    time.sleep(warmup)
    measuring.set()
    began = time.perf_counter()
    time.sleep(seconds)
    stop.set()
    elapsed = time.perf_counter() - began
    for thread in threads:
        thread.join(timeout=60)
    latencies = sorted(x for t in threads for x in t.latencies)
    errors = sum(t.errors for t in threads)
    if not latencies:
        return 0.0, 0.0, 0.0, errors
    p95 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.95))]
    return len(latencies) / elapsed, statistics.median(latencies) * 1000, p95 * 1000, errors


def chain_status() -> str:
    from rapport.core.events import verify_chain

    report = verify_chain()
    return (f"audit chain OK ({report.checked} entries)" if report.ok
            else f"audit chain BROKEN: {report.reason}")


def print_table(rows: list[tuple[str, ...]]) -> None:
    widths = [max(len(str(r[i])) for r in [COLUMNS, *rows]) for i in range(len(COLUMNS))]
    line = "| " + " | ".join(c.ljust(w) for c, w in zip(COLUMNS, widths, strict=True)) + " |"
    print(line)
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in rows:
        print("| " + " | ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--clients", default="1,8,32", help="comma-separated client counts")
    parser.add_argument("--seconds", type=float, default=20.0, help="measured time per row")
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--port", type=int, default=8790)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn processes")
    parser.add_argument("--threads", type=int, default=16, help="threads per gunicorn process")
    args = parser.parse_args()
    counts = [int(x) for x in args.clients.split(",")]

    home = pathlib.Path(tempfile.mkdtemp(prefix="rapport_writes_"))
    token = prepare(args.database_url, home)
    from django.db import connection

    vendor = connection.vendor
    connection.close()
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "rapport.config.wsgi:application",
         "--bind", f"127.0.0.1:{args.port}", "--workers", str(args.workers),
         "--worker-class", "gthread", "--threads", str(args.threads),
         "--log-level", "warning"], env={**os.environ})
    rows = []
    try:
        _wait_for(args.port, server)
        for clients in counts:
            rate, p50, p95, errors = run_row(args.port, token, clients, args.seconds, args.warmup)
            load = os.getloadavg()[0]
            rows.append((vendor, str(clients), f"{rate:.1f}", f"{p50:.1f}", f"{p95:.1f}",
                         str(errors), f"{load:.2f}"))
            print(f"  {clients} clients: {rate:.1f} writes/s", file=sys.stderr, flush=True)
    finally:
        server.terminate()
        server.wait(timeout=30)
    print_table(rows)
    if len(rows) > 1 and float(rows[0][2]) > 0:
        print(f"\n{counts[-1]} clients / {counts[0]} client: "
              f"{float(rows[-1][2]) / float(rows[0][2]):.1f}x")
    print(chain_status())


if __name__ == "__main__":
    main()
