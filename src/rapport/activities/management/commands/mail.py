"""``rapport mail listen | import | poll``: capture customers' email from the command line.

- ``listen``: an SMTP server (aiosmtpd) for a "forward or BCC to the CRM" address. Each message
  is captured in a thread beside the event loop; a bad message is refused with its reason and
  the listener goes on. Every message the CRM will not keep is still answered ``250``: a
  refusal would make the sender's server write a bounce, and bounces answering bounces are how
  mail loops start. Only mail larger than ``RAPPORT_MAIL_MAX_MESSAGE_BYTES`` is refused at the
  door (552), and a server error asks the sender to retry later (451).
- ``import PATH``: ``.eml`` files, folders of them, mbox archives and Maildirs.
- ``poll``: read the IMAP mailbox once (the scheduler does this every minute).
"""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from aiosmtpd.controller import Controller
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import close_old_connections, connection

from rapport.activities import services
from rapport.core.errors import ServiceError

log = logging.getLogger("rapport.mail")


class CaptureHandler:
    """aiosmtpd's handler: hand each message to the capture service, off the event loop."""

    def __init__(self, *, workers: int = 4):
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="mail")

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        raw = envelope.original_content or envelope.content or b""
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        loop = asyncio.get_running_loop()
        try:
            result = await loop.run_in_executor(self.pool, _capture, raw)
        except Exception:  # noqa: BLE001 - the listener never dies on one message
            log.exception("mail from %s could not be stored", envelope.mail_from)
            return "451 4.3.0 Could not store the message now; try again later"
        if result.status == "rejected":
            log.info("refused mail from %s: %s", envelope.mail_from, result.reason)
        return "250 2.0.0 OK"


def _capture(raw: bytes) -> services.Ingested:
    close_old_connections()
    try:
        return services.mail_ingest(raw=raw, source="smtp")
    finally:
        close_old_connections()


def start_listener(*, host: str, port: int, workers: int = 4) -> Controller:
    """Start the listener in a thread of its own; ``.stop()`` it when done. On SQLite, which
    lets one writer in at a time, messages are stored one after another."""
    if connection.vendor == "sqlite":
        workers = 1
    controller = Controller(CaptureHandler(workers=workers), hostname=host, port=port,
                            data_size_limit=settings.RAPPORT_MAIL_MAX_MESSAGE_BYTES)
    controller.start()
    return controller


class Command(BaseCommand):
    help = "Capture customers' email: listen (SMTP), import PATH (.eml/mbox), poll (IMAP)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        listen = sub.add_parser("listen", help="run the SMTP listener")
        listen.add_argument("--host", default=None, help="default: RAPPORT_MAIL_LISTEN_HOST")
        listen.add_argument("--port", type=int, default=None,
                            help="default: RAPPORT_MAIL_LISTEN_PORT, else 2525")
        listen.add_argument("--workers", type=int, default=4)
        importing = sub.add_parser("import", help="import .eml files, folders, mbox archives")
        importing.add_argument("path", nargs="+")
        importing.add_argument("--batch", type=int, default=500)
        sub.add_parser("poll", help="read the IMAP mailbox once")

    def handle(self, *args, **options):
        try:
            getattr(self, f"_{options['action']}")(options)
        except ServiceError as error:
            raise CommandError(str(error)) from None

    def _listen(self, options):
        host = options["host"] or settings.RAPPORT_MAIL_LISTEN_HOST
        port = options["port"] or settings.RAPPORT_MAIL_LISTEN_PORT or 2525
        services.mail_actor()  # fail now, not on the first message, if nobody can receive
        controller = start_listener(host=host, port=port, workers=options["workers"])
        self.stdout.write(f"Listening for mail on {host}:{port} (Ctrl+C to stop)")
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        try:
            stop.wait()
        except KeyboardInterrupt:
            pass
        finally:
            controller.stop()

    def _import(self, options):
        counts = {"stored": 0, "duplicate": 0, "rejected": 0}
        for path in options["path"]:
            found = (raw for _, raw in services.messages_in(path))
            for result in services.mail_ingest_many(raws=found, source="file",
                                                    batch=options["batch"]):
                counts[result.status] += 1
                if result.status == "rejected":
                    self.stderr.write(f"refused {result.key}: {result.reason}")
        self.stdout.write(f"{counts['stored']} stored, {counts['duplicate']} already there, "
                          f"{counts['rejected']} refused")

    def _poll(self, options):
        results = services.mailbox_poll()
        self.stdout.write(f"{len(results)} new message(s) read")
