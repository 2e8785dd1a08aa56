"""Email to customers: templates checked with their line, rendered in the sandbox with the
person's data, sent by the worker through a real SMTP server (aiosmtpd) once, and the ledger
across a worker that dies before, while and after handing a message over."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import socket
from decimal import Decimal

import pytest
from aiosmtpd.controller import Controller
from django.core import mail
from django.utils import timezone

from rapport.activities import services
from rapport.activities.models import Interaction, OutboundEmail, OutgoingMail
from rapport.activities.services import outbound
from rapport.core.errors import PermissionDenied, ValidationFailed
from rapport.core.models import Event

pytestmark = pytest.mark.django_db

WELCOME = {
    "name": "Thank you",
    "subject": "Thank you from {{ business.name | default('the bakery') }}",
    "body": ("Hi {{ contact.first_name | default(\"there\") }},\n\n"
             "{% if last_order %}Thanks for your order of {{ last_order.products }} on "
             "{{ last_order.date }} ({{ last_order.total }}).\n{% endif %}"
             "{% for p in contact.preferences %}Noted: {{ p }}\n{% endfor %}"
             "{{ user.first_name }}"),
}


class Inbox:
    """An aiosmtpd handler that keeps every message it accepts."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope)
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp_server():
    """A real SMTP server on 127.0.0.1; the settings page's override points at it."""
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    OutgoingMail.objects.create(host="127.0.0.1", port=controller.port,
                                from_email="hello@bakery.example.com",
                                business_name="Alder Bakery")
    try:
        yield inbox
    finally:
        controller.stop()


@pytest.fixture
def anna_with_order(anna, sales_a):
    from rapport.contacts import services as contact_services
    from rapport.orders.models import Order, OrderLine, Product

    contact_services.contact_update(actor=sales_a, contact_id=anna.id, version=anna.version,
                                    changes={"emails": ["anna@alder.example.com"],
                                             "preferences": ["no sesame"]})
    rye = Product.objects.create(name="Rye sourdough", sku="RYE-800", price=Decimal("4.50"))
    order = Order.objects.create(contact=anna, total=Decimal("9.00"),
                                 ordered_at=dt.datetime(2026, 3, 3, 10, tzinfo=dt.UTC))
    OrderLine.objects.create(order=order, product=rye, quantity=2, unit_price=Decimal("4.50"))
    anna.refresh_from_db()
    return anna


# --- templates ---------------------------------------------------------------------------------

def test_a_template_is_saved_and_versioned(sales_a):
    template = services.email_template_create(actor=sales_a, data=WELCOME)
    assert (template.owner_id, template.version) == (sales_a.id, 1)
    changed = services.email_template_update(actor=sales_a, template_id=template.id, version=1,
                                             changes={"name": "Thanks"})
    assert (changed.name, changed.version) == ("Thanks", 2)
    assert Event.objects.filter(kind__startswith="email_template.").count() == 2


@pytest.mark.parametrize(("field", "text", "said"), [
    ("body", "Hi {{ contact.first_name }},\n{{ contact.favourite_cake }}",
     "line 2: unknown variable 'contact.favourite_cake'"),
    ("body", "Hello\n\n{{ cntact.first_name }}", "line 3: unknown variable 'cntact'"),
    ("subject", "Hi {{ contact.first_name", "line 1: unexpected end of template"),
    ("body", "ok\n{% if last_order %}no end", "line 2: Unexpected end of template"),
    ("body", "{{ contact.name.__class__ }}", "line 1: not allowed: access to attribute"),
    ("body", "{{ contact.name | shout }}", "line 1: No filter named 'shout'"),
])
def test_a_broken_template_is_refused_naming_the_field_and_line(sales_a, field, text, said):
    with pytest.raises(ValidationFailed) as refused:
        services.email_template_create(actor=sales_a, data={**WELCOME, field: text})
    assert list(refused.value.errors) == [field]
    assert said.lower() in refused.value.errors[field][0].lower()
    assert not OutboundEmail.objects.exists()
    from rapport.activities.models import EmailTemplate
    assert not EmailTemplate.objects.exists()


def test_only_its_maker_changes_a_sales_template(sales_a, sales_b):
    template = services.email_template_create(actor=sales_a, data=WELCOME)
    with pytest.raises(PermissionDenied):
        services.email_template_update(actor=sales_b, template_id=template.id, version=1,
                                       changes={"name": "Mine now"})


# --- rendering and queuing ---------------------------------------------------------------------

def test_the_email_is_rendered_with_the_persons_data(sales_a, anna_with_order):
    template = services.email_template_create(actor=sales_a, data=WELCOME)
    draft = services.email_render(actor=sales_a, data={"contact_id": anna_with_order.id,
                                                       "template_id": template.id})
    assert draft.to == "anna@alder.example.com"
    assert draft.subject == "Thank you from the bakery"
    assert draft.body == ("Hi Anna,\n\nThanks for your order of Rye sourdough on 3 March 2026 "
                          "(9.00).\nNoted: no sesame\nsam")


def test_a_missing_value_without_a_default_is_refused_before_anything_is_queued(
        sales_a, anna_with_order):
    from rapport.contacts.models import Contact

    Contact.objects.filter(id=anna_with_order.id).update(first_name="")
    with pytest.raises(ValidationFailed) as refused:
        services.email_send(actor=sales_a, data={
            "contact_id": anna_with_order.id, "subject": "Hello",
            "body": "Thanks!\n\nDear {{ contact.first_name }},"})
    assert refused.value.errors == {"body": [
        "line 3: no value for 'first_name' for this person, and no default "
        "(write {{ … | default(\"…\") }})"]}
    assert not OutboundEmail.objects.exists()


def test_no_email_to_someone_without_an_address_or_out_of_reach(sales_a, sales_b, anna):
    with pytest.raises(ValidationFailed) as refused:
        services.email_send(actor=sales_a, data={"contact_id": anna.id, "subject": "Hi",
                                                 "body": "Hello"})
    assert list(refused.value.errors) == ["to"]
    from rapport.core.errors import NotFound
    with pytest.raises(NotFound):  # Sam's customer, not Bea's
        services.email_send(actor=sales_b, data={"contact_id": anna.id, "subject": "Hi",
                                                 "body": "Hello"})


# --- sending through a real SMTP server ----------------------------------------------------------

def test_an_email_goes_through_smtp_once_and_is_logged_with_its_message_id(
        sales_a, anna_with_order, smtp_server):
    template = services.email_template_create(actor=sales_a, data=WELCOME)
    queued = services.email_send(actor=sales_a, data={"contact_id": anna_with_order.id,
                                                      "template_id": template.id})
    assert queued.status == "queued" and queued.message_id.endswith("@bakery.example.com>")
    assert smtp_server.messages == []

    assert services.send_pending_emails() == 1
    assert services.send_pending_emails() == 0  # the next sweep finds nothing to send

    assert len(smtp_server.messages) == 1
    envelope = smtp_server.messages[0]
    assert envelope.rcpt_tos == ["anna@alder.example.com"]
    message = email.message_from_bytes(envelope.content, policy=email.policy.default)
    assert message["Message-ID"].strip() == queued.message_id  # (a long one is folded)
    assert message["To"] == "anna@alder.example.com"
    assert message["From"] == "Alder Bakery <hello@bakery.example.com>"
    assert message["Subject"] == "Thank you from Alder Bakery"
    assert message.get_content().replace("\r\n", "\n").rstrip("\n") == (
        "Hi Anna,\n\nThanks for your order of Rye sourdough on 3 March 2026 (9.00).\n"
        "Noted: no sesame\nsam")

    sent = OutboundEmail.objects.get()
    assert (sent.status, sent.attempts) == ("sent", 1) and sent.sent_at is not None
    logged = Interaction.objects.get()
    assert sent.interaction_id == logged.id
    assert (logged.type, logged.direction, logged.message_id, logged.to_addresses) == (
        "email", "outbound", queued.message_id, ["anna@alder.example.com"])
    assert logged.subject == "Thank you from Alder Bakery"
    kinds = list(Event.objects.filter(contact_id=anna_with_order.id, kind__in=(
        "email.queued", "interaction.logged")).order_by("id").values_list("kind", flat=True))
    assert kinds == ["email.queued", "interaction.logged"]
    assert mail.outbox == []  # it went through SMTP, not the test backend


def _queue(sales_a, anna):
    return services.email_send(actor=sales_a, data={"contact_id": anna.id, "subject": "Hi",
                                                    "body": "Your loaf is ready."})


class WorkerKilled(BaseException):
    """What a SIGKILL looks like from inside: nothing after it runs."""


def _later(now=None):
    return (now or timezone.now()) + dt.timedelta(seconds=outbound.claim_seconds() + 1)


def test_a_worker_killed_before_handing_over_is_retried_and_the_email_arrives_once(
        sales_a, anna_with_order, smtp_server, monkeypatch):
    queued = _queue(sales_a, anna_with_order)

    def killed(email_id, token):
        raise WorkerKilled

    monkeypatch.setattr(outbound, "_hand_over", killed)
    with pytest.raises(WorkerKilled):
        services.send_pending_emails()
    monkeypatch.undo()
    assert smtp_server.messages == []
    assert OutboundEmail.objects.get().status == "sending"
    # While its claim holds, nobody else takes it; once it has run out, the sweep does.
    assert services.send_pending_emails() == 0
    assert services.send_pending_emails(now=_later()) == 1
    assert services.send_pending_emails(now=_later()) == 0
    assert len(smtp_server.messages) == 1
    sent = OutboundEmail.objects.get()
    assert (sent.status, sent.attempts, sent.message_id) == ("sent", 2, queued.message_id)


def test_a_worker_killed_after_the_server_accepted_never_sends_it_again(
        sales_a, anna_with_order, smtp_server, monkeypatch):
    _queue(sales_a, anna_with_order)

    def killed(email):
        raise WorkerKilled  # the server has it; the stamp is never written

    monkeypatch.setattr(outbound, "_stamp_sent", killed)
    with pytest.raises(WorkerKilled):
        services.send_pending_emails()
    monkeypatch.undo()
    assert len(smtp_server.messages) == 1
    for _ in range(3):
        assert services.send_pending_emails(now=_later()) == 0
    assert len(smtp_server.messages) == 1  # never twice
    left = OutboundEmail.objects.get()
    assert left.status == "uncertain" and "may have been sent" in left.last_error
    assert Event.objects.filter(kind="email.uncertain").count() == 1
    assert not Interaction.objects.exists()
    # A person who checked with the customer may send it again, with the same Message-ID.
    services.email_requeue(actor=sales_a, email_id=left.id)
    assert services.send_pending_emails() == 1
    assert len(smtp_server.messages) == 2
    assert len({m.content.split(b"Message-ID: ")[1].split(b"\r\n")[0]
                for m in smtp_server.messages}) == 1


def test_a_worker_killed_after_stamping_never_sends_again(sales_a, anna_with_order, smtp_server):
    _queue(sales_a, anna_with_order)
    assert services.send_pending_emails() == 1
    assert services.send_pending_emails(now=_later()) == 0
    assert services.send_pending_emails(now=_later(_later())) == 0
    assert len(smtp_server.messages) == 1


def test_a_server_that_cannot_be_reached_is_tried_again_then_given_up(
        sales_a, anna_with_order):
    OutgoingMail.objects.create(host="127.0.0.1", port=_free_port())  # nobody listens
    _queue(sales_a, anna_with_order)
    now = timezone.now()
    assert services.send_pending_emails(now=now) == 0
    row = OutboundEmail.objects.get()
    assert (row.status, row.handed_over_at) == ("queued", None)
    assert "could not reach the mail server" in row.last_error
    for _ in range(outbound.MAX_ATTEMPTS):
        now += dt.timedelta(hours=1)
        services.send_pending_emails(now=now)
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("failed", outbound.MAX_ATTEMPTS)
    assert Event.objects.filter(kind="email.failed").count() == 1


def test_a_refused_recipient_is_not_sent_and_not_uncertain(sales_a, anna_with_order):
    class Refusing(Inbox):
        async def handle_RCPT(self, server, session, envelope, address, options):
            return "550 no such user here"

    controller = Controller(Refusing(), hostname="127.0.0.1", port=_free_port())
    controller.start()
    try:
        OutgoingMail.objects.create(host="127.0.0.1", port=controller.port)
        _queue(sales_a, anna_with_order)
        assert services.send_pending_emails() == 0
    finally:
        controller.stop()
    row = OutboundEmail.objects.get()
    assert row.status == "failed" and "refused" in row.last_error


def test_by_default_it_goes_to_the_configured_backend(sales_a, anna_with_order):
    _queue(sales_a, anna_with_order)
    assert services.send_pending_emails() == 1
    assert [m.to for m in mail.outbox] == [["anna@alder.example.com"]]
    assert mail.outbox[0].extra_headers["Message-ID"] == OutboundEmail.objects.get().message_id
