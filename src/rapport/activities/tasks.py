"""Background jobs of activities (the scheduler enqueues them: see ``rapport_app.py``)."""

from __future__ import annotations

from django.tasks import task

from rapport.activities import services


@task
def send_due_reminders() -> int:
    """Email the reminders that have come (each exactly once: see services.reminders)."""
    return services.send_due_reminders()


@task
def poll_mailbox() -> int:
    """Capture what came to the IMAP mailbox since the last poll (if one is set)."""
    return len(services.mailbox_poll())
