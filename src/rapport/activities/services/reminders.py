"""Reminders: seen in the app, and emailed by the worker exactly once.

Django's tasks have no retries and a killed database worker leaves its task RUNNING for ever,
so the reminder row is the ledger: a sweep (every minute, ``tasks.send_due_reminders``)
claims each due row with a claim that expires, sends, and stamps ``email_sent_at``. A worker
killed before the stamp leaves a claim that runs out; the next sweep, in whatever worker,
takes the row again. Two sweeps at once cannot both claim a row (the claim is one UPDATE
that only an unclaimed or expired row matches). The one gap no ledger closes is a crash after
the mail server accepted the message and before the stamp is written: the message then goes
out again, with the same Message-ID so mail programs can tell it is the same one.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.utils import timezone

from rapport.activities import events
from rapport.activities.models import Reminder
from rapport.core.events import record_events

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
# A reminder that could not go out by then is not worth sending any more.
TOO_LATE = dt.timedelta(hours=12)
RETRY_AFTER = dt.timedelta(minutes=2)


def claim_seconds() -> int:
    """How long a claim holds: longer than any send takes, short enough to retry soon."""
    return int(getattr(settings, "RAPPORT_REMINDER_CLAIM_SECONDS", 300))


@transaction.atomic
def reminders_mark_seen(*, actor: Any, reminder_ids: list[int] | None = None) -> int:
    """The bell forgets these (all of the actor's that have come, without ids)."""
    mine = Reminder.objects.filter(user_id=actor.id, seen_at__isnull=True,
                                   remind_at__lte=timezone.now())
    if reminder_ids is not None:
        mine = mine.filter(id__in=reminder_ids)
    return mine.update(seen_at=timezone.now())


def _claimable(now: dt.datetime) -> Q:
    return (Q(email_sent_at__isnull=True, email_skipped_at__isnull=True)
            & (Q(claim_expires_at__isnull=True) | Q(claim_expires_at__lte=now)))


def send_due_reminders(*, now: dt.datetime | None = None, limit: int = 200) -> int:
    """Email every reminder that has come and is not sent; returns how many went out."""
    now = now or timezone.now()
    due = list(Reminder.objects.filter(_claimable(now), remind_at__lte=now)
               .order_by("remind_at", "id").values_list("id", flat=True)[:limit])
    return sum(reminder_send(reminder_id=reminder_id, now=now) for reminder_id in due)


def _claim(reminder_id: int, now: dt.datetime) -> str | None:
    token = secrets.token_hex(16)
    with transaction.atomic():
        claimed = Reminder.objects.filter(_claimable(now), id=reminder_id).update(
            claim_token=token, claim_expires_at=now + dt.timedelta(seconds=claim_seconds()),
            attempts=F("attempts") + 1)
    return token if claimed else None


def _release(reminder_id: int, token: str, **fields: Any) -> int:
    with transaction.atomic():
        return Reminder.objects.filter(id=reminder_id, claim_token=token).update(**fields)


def message_id(reminder: Reminder) -> str:
    """The same for every attempt at one reminder (a resend is recognisably the same)."""
    domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2] or "rapport.invalid"
    return f"<reminder-{reminder.id}-{int(reminder.due_at.timestamp())}@{domain}>"


def _message(reminder: Reminder) -> EmailMessage:
    task = reminder.task
    context = {"task": task, "reminder": reminder, "user": reminder.user}
    subject = " ".join(render_to_string("activities/email/reminder_subject.txt",
                                        context).split())
    body = render_to_string("activities/email/reminder_body.txt", context)
    return EmailMessage(subject=subject, body=body, to=[reminder.user.email],
                        headers={"Message-ID": message_id(reminder)})


def _why_not(reminder: Reminder, now: dt.datetime) -> str:
    task = reminder.task
    if task.completed_at is not None or task.deleted_at is not None:
        return "the task is done or deleted"
    if task.assignee_id != reminder.user_id or task.due_at != reminder.due_at:
        return "the task has moved on"
    if not reminder.user.is_active or not reminder.user.email:
        return "the user cannot receive email"
    if now > reminder.due_at + TOO_LATE:
        return "too late to be of use"
    if reminder.attempts > MAX_ATTEMPTS:
        return f"gave up after {MAX_ATTEMPTS} attempts"
    return ""


def reminder_send(*, reminder_id: int, now: dt.datetime | None = None) -> bool:
    """Claim, send and stamp one reminder's email; False when another worker has it, it is
    sent already, or there is no point any more (then it is marked skipped)."""
    now = now or timezone.now()
    token = _claim(reminder_id, now)
    if token is None:
        return False
    reminder = Reminder.objects.select_related("task", "user").get(id=reminder_id)
    reason = _why_not(reminder, now)
    if reason:
        _release(reminder_id, token, email_skipped_at=now, claim_token="",
                 last_error=reason[:500])
        return False
    try:
        _message(reminder).send()
    except Exception as error:  # the mail server said no: try again after a pause
        logger.warning("reminder %s not sent: %s", reminder_id, error)
        _release(reminder_id, token, claim_expires_at=now + RETRY_AFTER,
                 last_error=str(error)[:500])
        return False
    with transaction.atomic():
        stamped = Reminder.objects.filter(id=reminder_id, claim_token=token).update(
            email_sent_at=timezone.now(), claim_token="", last_error="")
        if stamped:
            record_events([events.reminder_emailed(reminder_id=reminder_id,
                                                   task_id=reminder.task_id,
                                                   user_id=reminder.user_id,
                                                   attempts=reminder.attempts)])
    return bool(stamped)
