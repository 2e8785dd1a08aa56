"""Reminder emails go out exactly once: the ledger row's claim, the stamp, and a worker killed
in the middle of sending."""

import datetime as dt
import os
import pathlib
import subprocess
import sys
import time

import pytest
from django.core import mail
from django.utils import timezone

from rapport.activities import services
from rapport.activities.models import Reminder
from rapport.activities.services import reminders as reminder_services
from rapport.core.models import Event

pytestmark = pytest.mark.django_db


@pytest.fixture
def due_task(sales_a):
    return services.task_create(actor=sales_a, data={
        "title": "Call Anna back", "remind_before": 15,
        "due_at": (timezone.now() + dt.timedelta(minutes=10)).isoformat()})


def test_a_due_reminder_is_emailed_once(sales_a, due_task):
    assert services.send_due_reminders() == 1
    assert services.send_due_reminders() == 0
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [sales_a.email]
    assert message.subject == "Reminder: Call Anna back"
    assert message.extra_headers["Message-ID"] == reminder_services.message_id(
        Reminder.objects.get())
    reminder = Reminder.objects.get()
    assert reminder.email_sent_at is not None and reminder.attempts == 1
    assert Event.objects.filter(kind="reminder.emailed").count() == 1


def test_a_claimed_reminder_is_left_to_its_worker_until_the_claim_runs_out(due_task):
    now = timezone.now()
    reminder = Reminder.objects.get()
    # Another worker claimed it and died (or is still sending): nothing goes out now...
    assert reminder_services._claim(reminder.id, now) is not None
    assert services.send_due_reminders(now=now) == 0
    assert mail.outbox == []
    # ...and once its claim has run out, the next sweep sends it, once.
    later = now + dt.timedelta(seconds=reminder_services.claim_seconds() + 1)
    assert services.send_due_reminders(now=later) == 1
    assert services.send_due_reminders(now=later) == 0
    assert len(mail.outbox) == 1
    assert Reminder.objects.get().attempts == 2


def test_a_refused_send_is_tried_again_later(due_task, monkeypatch):
    def refuse(self):
        raise ConnectionRefusedError("mail server down")

    monkeypatch.setattr("django.core.mail.EmailMessage.send", refuse)
    assert services.send_due_reminders() == 0
    reminder = Reminder.objects.get()
    assert (reminder.email_sent_at, reminder.last_error) == (None, "mail server down")
    monkeypatch.undo()
    assert services.send_due_reminders() == 0  # it waits a little
    later = timezone.now() + reminder_services.RETRY_AFTER + dt.timedelta(seconds=1)
    assert services.send_due_reminders(now=later) == 1
    assert len(mail.outbox) == 1


def test_no_email_for_a_done_task_or_too_late(sales_a, due_task):
    services.task_complete(actor=sales_a, task_id=due_task.id)
    assert services.send_due_reminders() == 0
    late = services.task_create(actor=sales_a, data={
        "title": "Old", "due_at": (timezone.now() - dt.timedelta(days=2)).isoformat()})
    assert services.send_due_reminders() == 0
    assert mail.outbox == []
    assert Reminder.objects.get(task=late).email_skipped_at is not None


# --- a real worker process, killed while it sends -----------------------------------------------

SETUP = """
import datetime as dt
from django.utils import timezone
from rapport.accounts.services import user_create
from rapport.activities import services
from rapport.activities.tasks import send_due_reminders
user = user_create(email="sam@bakery.example.com", role="sales", password="pw-for-tests-1")
services.task_create(actor=user, data={"title": "Call Anna back", "remind_before": 15,
    "due_at": (timezone.now() + dt.timedelta(minutes=10)).isoformat()})
print(send_due_reminders.enqueue().id)
"""
PASS_TIME = ("import datetime as dt; from rapport.activities.models import Reminder as R; "
             "r = R.objects.get(); R.objects.filter(id=r.id).update("
             "claim_expires_at=r.claim_expires_at - dt.timedelta(seconds=601)); print('ok')")
ENQUEUE = "from rapport.activities.tasks import send_due_reminders as t; print(t.enqueue().id)"
LEDGER = ("from rapport.activities.models import Reminder as R; r = R.objects.get(); "
          "print(r.attempts, r.email_sent_at is not None, bool(r.claim_token))")


def _rapport(args, env, **kwargs):
    return subprocess.run([sys.executable, "-m", "rapport.cli", *args], env=env,
                          capture_output=True, text=True, timeout=120, check=True, **kwargs)


def _shell(code, env):
    return _rapport(["shell", "--no-imports", "-c", code], env).stdout.strip().splitlines()[-1]


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_while_sending_leaves_one_email(tmp_path: pathlib.Path):
    outbox = tmp_path / "outbox"
    outbox.mkdir()
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE")}
    env.update(RAPPORT_HOME=str(tmp_path), RAPPORT_TEST_MAIL_DIR=str(outbox),
               RAPPORT_EMAIL_BACKEND="rapport.activities.tests.mail_backends.SlowFileBackend",
               RAPPORT_REMINDER_CLAIM_SECONDS="600", RAPPORT_TEST_MAIL_DELAY="60")
    _rapport(["migrate", "--no-input"], env)
    _shell(SETUP, env)
    worker = subprocess.Popen([sys.executable, "-m", "rapport.cli", "worker", "--max-tasks",
                               "1"], env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while not (outbox / "sending").exists():
            assert worker.poll() is None, "the worker stopped before sending"
            assert time.monotonic() < deadline, "the worker never started sending"
            time.sleep(0.1)
    finally:
        worker.kill()  # SIGKILL: no clean-up runs, the task stays RUNNING in the table
        worker.wait(timeout=30)
    assert list(outbox.glob("*.eml")) == []
    assert _shell(LEDGER, env) == "1 False True"  # claimed by the dead worker, not sent
    env["RAPPORT_TEST_MAIL_DELAY"] = "0"
    # A new worker while the dead one's claim holds: it leaves the reminder alone.
    _shell(ENQUEUE, env)
    _rapport(["worker", "--max-tasks", "1"], env)
    assert list(outbox.glob("*.eml")) == []
    _shell(PASS_TIME, env)  # ten minutes later: the dead worker's claim has run out
    for _ in range(2):  # the scheduler keeps enqueuing the sweep; only the first sends
        _shell(ENQUEUE, env)
        _rapport(["worker", "--max-tasks", "1"], env)
    assert len(list(outbox.glob("*.eml"))) == 1
    assert _shell(LEDGER, env) == "2 True False"
