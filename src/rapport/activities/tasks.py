"""Background jobs of activities (the scheduler enqueues them: see ``rapport_app.py``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.tasks import task

from rapport.activities import services


@task
def send_due_reminders() -> int:
    """Email the reminders that have come (each exactly once: see services.reminders)."""
    return services.send_due_reminders()


@task
def transcribe_call(recording_id: int) -> str:
    """Transcribe one uploaded call and fill in what it says (see services.calls)."""
    return services.call_transcribe(recording_id=recording_id)


def enqueue_transcriptions(rows: Sequence[Any]) -> None:
    """Subscriber of ``call.recorded``: queue the transcription once the upload commits."""
    for row in rows:
        if (row.after or {}).get("transcribe"):
            transcribe_call.enqueue(recording_id=row.entity_id)
