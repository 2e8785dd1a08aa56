"""Background jobs of activities (the scheduler enqueues them: see ``rapport_app.py``)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from django.tasks import task

from rapport.activities import services

logger = logging.getLogger(__name__)


@task
def send_due_reminders() -> int:
    """Email the reminders that have come (each exactly once: see services.reminders)."""
    return services.send_due_reminders()


@task
def poll_mailbox() -> int:
    """Capture what came to the IMAP mailbox since the last poll (if one is set)."""
    return len(services.mailbox_poll())


@task
def send_pending_emails() -> int:
    """Send queued emails to customers (each at most once: see services.outbound)."""
    return services.send_pending_emails()


def send_soon(rows: Sequence[Any]) -> None:
    """Subscriber of ``email.queued`` and ``email.requeued``: once the queueing commits, ask
    a worker to sweep now. If the queue cannot be reached, the minute's sweep sends it."""
    try:
        send_pending_emails.enqueue()
    except Exception:  # noqa: BLE001 - the periodic sweep is the fallback
        logger.warning("could not enqueue the email sweep; the scheduler's will send it",
                       exc_info=True)


@task
def transcribe_call(recording_id: int) -> str:
    """Transcribe one uploaded call and fill in what it says (see services.calls)."""
    return services.call_transcribe(recording_id=recording_id)


def enqueue_transcriptions(rows: Sequence[Any]) -> None:
    """Subscriber of ``call.recorded``: queue the transcription once the upload commits."""
    for row in rows:
        if (row.after or {}).get("transcribe"):
            transcribe_call.enqueue(recording_id=row.entity_id)
