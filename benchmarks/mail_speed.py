"""Speed of capturing email: 10,000 .eml files imported, and the SMTP listener under load.

Usage:
    python benchmarks/mail_speed.py --database-url sqlite:////tmp/rapport_bench/mail.sqlite3
    python benchmarks/mail_speed.py \\
        --database-url postgres://postgres@127.0.0.1:5432/rapport_bench_mail --contacts 100000

Seeds the database with `rapport seed` when it holds fewer contacts than asked, writes
``--messages`` realistic messages as .eml files into a temporary folder (most from known
customers, some replies in threads, some copying a second customer, some from strangers whose
signature makes a new contact, some automatic), then:

1. imports the folder with `rapport mail import` (in this process: wall and CPU seconds);
2. imports it again (every message a duplicate: the cost of the "stored once" check);
3. starts `rapport mail listen` as its own process and sends ``--smtp-messages`` new messages
   over SMTP from ``--clients`` concurrent smtplib clients, and counts what was stored.

Targets (issue 9): 10,000 messages in under 60 s on SQLite and PostgreSQL; the listener
accepts 50 messages/s. Prints one table and the load average beside each row (the machine is
shared: a busy neighbour shows there).
"""

from __future__ import annotations

import argparse
import os
import pathlib
import random
import resource
import shutil
import smtplib
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from foundation_speed import prepare  # noqa: E402  (the same seeding as the foundation's)

COLUMNS = ("what", "messages", "wall s", "msg/s", "CPU s", "target", "result", "load avg")


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def _message(rng: random.Random, n: int, known: list[str], run: str) -> bytes:
    kind = rng.random()
    if kind < 0.08:  # a stranger with a signature: a new contact
        sender = f"New Customer{n} <new{n}.{run}@shop{n % 97}.example>"
        body = (f"Hello, we run a cafe and would like a weekly order of {n % 40 + 5} "
                f"sourdough loaves.\n\nKind regards,\nNew Customer{n}\nOwner, Cafe {n}\n"
                f"+44 20 7946 {n % 10000:04d}\nwww.cafe{n}.example\n")
    else:
        sender = f"Customer <{rng.choice(known)}>"
        body = ("Hi, could you deliver the usual on Friday? Two rye loaves, a dozen "
                "croissants and the seeded bread.\n\nThanks!\n" * rng.randint(1, 6))
    headers = [f"From: {sender}", "To: orders@bakery.example",
               f"Subject: Order {n}", f"Message-ID: <bench-{run}-{n}@mail.example>",
               "Date: Tue, 01 Dec 2026 10:00:00 +0000"]
    if kind > 0.85:
        headers.append(f"Cc: {rng.choice(known)}")
    if kind > 0.6 and n > 10:
        root = n - rng.randint(1, 10)
        headers += [f"In-Reply-To: <bench-{run}-{root}@mail.example>",
                    f"References: <bench-{run}-{root}@mail.example>"]
    if 0.5 < kind < 0.52:
        headers += ["Auto-Submitted: auto-replied", "Precedence: bulk"]
    return ("\r\n".join(headers) + "\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
            + body).encode()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _listener_phase(args, known: list[str], run: str) -> tuple[str, ...]:
    from rapport.activities.models import MailMessage

    port = _free_port()
    env = {**os.environ, "DATABASE_URL": args.database_url,
           "RAPPORT_HOME": os.environ.get("RAPPORT_HOME", tempfile.gettempdir()),
           "RAPPORT_MAIL_SENDER_HOURLY_LIMIT": "1000000"}
    server = subprocess.Popen([sys.executable, "-m", "rapport.cli", "mail", "listen",
                               "--port", str(port)], env=env, stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 180  # a loaded machine starts Python slowly
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"the listener did not start (exit {server.poll()})") \
                        from None
                time.sleep(0.2)
        before = MailMessage.objects.count()
        rng = random.Random(7)
        messages = [_message(rng, n, known, run + "smtp") for n in range(args.smtp_messages)]
        messages = [m.replace(b"Auto-Submitted", b"X-Was") for m in messages]
        errors: list[str] = []

        def client(share: list[bytes]) -> None:
            try:
                with smtplib.SMTP("127.0.0.1", port, timeout=60) as smtp:
                    for raw in share:
                        smtp.sendmail("customer@mail.example", ["crm@bakery.example"], raw)
            except (OSError, smtplib.SMTPException) as error:
                errors.append(str(error))

        shares = [messages[i::args.clients] for i in range(args.clients)]
        threads = [threading.Thread(target=client, args=(share,)) for share in shares]
        start = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wall = time.perf_counter() - start
        stored = MailMessage.objects.count() - before
        rate = len(messages) / wall
        return (f"SMTP listener, {args.clients} clients", f"{len(messages):,}", f"{wall:.1f}",
                f"{rate:.0f}", "(server)", "≥ 50 msg/s",
                f"{'ok' if rate >= 50 and not errors else 'MISSED'}: {stored:,} stored, "
                f"{len(errors)} errors{': ' + errors[0][:60] if errors else ''}", _load())
    finally:
        server.terminate()
        server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--contacts", type=int, default=20_000)
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--smtp-messages", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    prepare(args.database_url, contacts=args.contacts, events_per_contact=1, seed=args.seed)
    from django.core.management import call_command
    from django.db import connection

    from rapport.activities.models import Interaction, MailMessage
    from rapport.contacts.models import Contact

    rng = random.Random(args.seed)
    known = list(Contact.objects.exclude(primary_email="").order_by("?")
                 .values_list("primary_email", flat=True)[:5000])
    run = f"{int(time.time())}"
    folder = pathlib.Path(tempfile.mkdtemp(prefix="rapport-mail-bench-"))
    rows = []
    try:
        for n in range(args.messages):
            (folder / f"{n:06d}.eml").write_bytes(_message(rng, n, known, run))
        size = sum(p.stat().st_size for p in folder.iterdir())
        print(f"{args.messages:,} messages ({size / 1e6:.1f} MB) on {connection.vendor}, "
              f"{Contact.objects.count():,} contacts", flush=True)
        for label in ("import, new messages", "import again (all duplicates)"):
            before = (MailMessage.objects.count(), Interaction.objects.count())
            cpu, start = _cpu(), time.perf_counter()
            call_command("mail", "import", str(folder), stdout=open(os.devnull, "w"))  # noqa: SIM115
            wall, used = time.perf_counter() - start, _cpu() - cpu
            stored = MailMessage.objects.count() - before[0]
            logged = Interaction.objects.count() - before[1]
            target = "< 60 s" if label.startswith("import, new") else "—"
            ok = wall < 60 if target != "—" else True
            rows.append((label, f"{args.messages:,}", f"{wall:.1f}",
                         f"{args.messages / wall:.0f}", f"{used:.1f}", target,
                         f"{'ok' if ok else 'MISSED'}: {stored:,} stored, {logged:,} logged",
                         _load()))
        rows.append(_listener_phase(args, known, run))
    finally:
        shutil.rmtree(folder, ignore_errors=True)

    print(f"\n{connection.vendor}, {Contact.objects.count():,} contacts, {os.cpu_count()} cores")
    widths = [max(len(c), *(len(r[i]) for r in rows)) for i, c in enumerate(COLUMNS)]
    print("  ".join(c.ljust(w) for c, w in zip(COLUMNS, widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)))


if __name__ == "__main__":
    main()
