"""Fixtures of the desk's tests (import them into a test module): agents, a ticket, a real
SMTP sink set as the outgoing mail server, and the worker's steps run by hand."""

from __future__ import annotations

import email
import email.policy

import pytest
from aiosmtpd.controller import Controller
from django.core.cache import cache
from django_tasks_db.models import DBTaskResult

from rapport.activities.models import OutgoingMail
from rapport.activities.services import send_pending_emails
from rapport.activities.tests.test_outbound import Inbox, _free_port
from rapport.support import services
from rapport.testing import make_user


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def agent(db):
    return make_user("ada@bakery.example.com", "support")


@pytest.fixture
def agent2(db):
    return make_user("ben@bakery.example.com", "support")


@pytest.fixture
def ticket(owner, agent):
    return services.ticket_open(actor=agent, data={
        "subject": "Cake arrived squashed", "description": "The box was crushed.",
        "email": "nina@example.org", "name": "Nina Berg", "channel": "web"}).ticket


@pytest.fixture
def smtp_server(db):
    """A real SMTP server on 127.0.0.1 (aiosmtpd), set as the outgoing mail server."""
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    OutgoingMail.objects.create(host="127.0.0.1", port=controller.port,
                                from_email="help@bakery.example.com",
                                business_name="Alder Bakery")
    try:
        yield inbox
    finally:
        controller.stop()


def delivered(inbox) -> list[email.message.EmailMessage]:
    """What the SMTP server received, parsed; the outbox swept first (the worker's job)."""
    send_pending_emails()
    return [email.message_from_bytes(m.original_content, policy=email.policy.default)
            for m in inbox.messages]


def work() -> int:
    """What a worker does with the queued tickets-from-mail jobs (each once)."""
    from rapport.support.tasks import desk_mail

    done = 0
    for job in DBTaskResult.objects.filter(
            task_path="rapport.support.tasks.tickets_from_mail").order_by("enqueued_at"):
        done += len(desk_mail.tickets_from_mail(**job.args_kwargs["kwargs"]))
        job.delete()
    return done
