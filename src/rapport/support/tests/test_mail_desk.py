"""Mail in and out of the help desk: a customer's mail to the support address, through the real
SMTP listener, opens a ticket and the acknowledgement goes out through a real SMTP server
(aiosmtpd); replies land on the same ticket; loops, huge, empty and HTML messages; the public
support form."""

from __future__ import annotations

import smtplib
import time

import pytest
from django.test import Client

from rapport.activities import services as activities
from rapport.activities.management.commands.mail import start_listener
from rapport.activities.models import OutboundEmail
from rapport.activities.tests.test_inbound import eml
from rapport.activities.tests.test_mail_protocols import free_port
from rapport.contacts import services as contact_services
from rapport.sales.models import Lead
from rapport.sales.tests.test_mail_leads import work as work_leads
from rapport.support import services
from rapport.support.models import DeskSettings, Ticket, TicketMessage
from rapport.support.tests.desk_fixtures import delivered, work

SUPPORT = "help@bakery.example.com"
pytestmark = pytest.mark.django_db


@pytest.fixture
def desk(settings, owner):
    settings.RAPPORT_SUPPORT_ADDRESS = SUPPORT
    settings.RAPPORT_SUPPORT_ACK_HOURLY_LIMIT = 3
    return settings


def ingest(capture, raw: bytes):
    with capture(execute=True):
        result = activities.mail_ingest(raw=raw, source="smtp")
    work()
    return result


@pytest.mark.django_db(transaction=True)
def test_mail_through_the_listener_opens_a_ticket_and_is_acknowledged(desk, smtp_server, agent):
    port = free_port()
    listener = start_listener(host="127.0.0.1", port=port, workers=2)
    try:
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
            smtp.sendmail("nina@example.org", [SUPPORT], eml(
                sender="Nina Berg <nina@example.org>", to=SUPPORT, subject="Squashed cake",
                message_id="<first@example.org>", body="The cake arrived squashed."))
        for _ in range(100):  # the listener stores it in its own thread
            if work_done():
                break
    finally:
        listener.stop()
    ticket = Ticket.objects.get()
    assert (ticket.channel, ticket.subject, ticket.requester_email) == (
        "email", "Squashed cake", "nina@example.org")
    assert ticket.assignee_id == agent.id  # assigned by the rules at open
    assert ticket.contact.first_name == "Nina"
    [ack] = delivered(smtp_server)
    assert ack["To"] == "nina@example.org"
    assert ack["Subject"] == f"[{ticket.reference}] Squashed cake"
    assert ticket.reference in ack.get_content()
    assert ack["In-Reply-To"] == "<first@example.org>"  # threaded with the customer's mail
    ticket.refresh_from_db()
    assert ticket.thread_message_id == ack["Message-ID"].strip("<>")
    # Not a sales lead: sales leaves mail to the support address alone.
    work_leads()
    assert not Lead.objects.exists()
    # The customer answers the acknowledgement: the same ticket.
    port = free_port()
    listener = start_listener(host="127.0.0.1", port=port, workers=2)
    try:
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
            smtp.sendmail("nina@example.org", [SUPPORT], eml(
                sender="Nina Berg <nina@example.org>", to=SUPPORT,
                subject=f"Re: [{ticket.reference}] Squashed cake",
                message_id="<second@example.org>",
                extra=f"In-Reply-To: {ack['Message-ID']}\nReferences: {ack['Message-ID']}",
                body="Here is a photo.\n\nOn Tue, Alder Bakery wrote:\n> We have received"))
        for _ in range(100):
            if TicketMessage.objects.filter(message_id="second@example.org").exists() \
                    or work_done():
                break
    finally:
        listener.stop()
    assert Ticket.objects.count() == 1
    reply = TicketMessage.objects.get(message_id="second@example.org")
    assert (reply.ticket_id, reply.kind, reply.body) == (ticket.id, "customer",
                                                         "Here is a photo.")
    assert len(delivered(smtp_server)) == 1  # a reply is not acknowledged again


def work_done() -> bool:
    """Run the queued tickets-from-mail jobs; True once a ticket message exists."""
    time.sleep(0.05)
    work()
    return TicketMessage.objects.filter(kind="customer").exists()


def test_replies_by_thread_or_reference_land_on_the_ticket(desk, agent, smtp_server,
                                                         django_capture_on_commit_callbacks):
    ingest(django_capture_on_commit_callbacks, eml(
        sender="nina@example.org", to=SUPPORT, subject="Where is my order?",
        message_id="<a1@example.org>", body="Order 1001"))
    ticket = Ticket.objects.get()
    services.ticket_reply(actor=agent, ticket_id=ticket.id, data={"body": "On its way."})
    reply_id = TicketMessage.objects.get(kind="reply").message_id
    # Threaded by References (the agent's reply).
    ingest(django_capture_on_commit_callbacks, eml(
        sender="nina@example.org", to=SUPPORT, subject="Re: thanks",
        message_id="<a2@example.org>", extra=f"References: <{reply_id}>", body="Thanks!"))
    # By the reference in the subject, from the requester.
    ingest(django_capture_on_commit_callbacks, eml(
        sender="nina@example.org", to=SUPPORT, subject=f"About [{ticket.reference}]",
        message_id="<a3@example.org>", body="One more thing"))
    assert Ticket.objects.count() == 1
    assert list(TicketMessage.objects.filter(ticket=ticket, kind="customer")
                .order_by("id").values_list("body", flat=True)) == [
        "Order 1001", "Thanks!", "One more thing"]
    # Someone else naming the reference, or an unknown reference: a new ticket, no error.
    ingest(django_capture_on_commit_callbacks, eml(
        sender="eve@example.net", to=SUPPORT, subject=f"[{ticket.reference}] hijack",
        message_id="<e1@example.net>", body="Let me in"))
    ingest(django_capture_on_commit_callbacks, eml(
        sender="nina@example.org", to=SUPPORT, subject="[T-99999] old thing",
        message_id="<a4@example.org>", body="Remember?"))
    assert Ticket.objects.count() == 3
    assert Ticket.objects.filter(subject="[T-99999] old thing").exists()
    # The same message again (a BCC and an IMAP copy): once.
    ingest(django_capture_on_commit_callbacks, eml(
        sender="nina@example.org", to=SUPPORT, subject="[T-99999] old thing",
        message_id="<a4@example.org>", body="Remember?"))
    assert Ticket.objects.count() == 3


def test_a_reply_to_a_closed_ticket_reopens_it(desk, agent, smtp_server,
                                                django_capture_on_commit_callbacks):
    ingest(django_capture_on_commit_callbacks, eml(
        sender="nina@example.org", to=SUPPORT, subject="Broken mixer",
        message_id="<b1@example.org>", body="It stopped."))
    ticket = Ticket.objects.get()
    services.ticket_close(actor=agent, ticket_id=ticket.id, version=ticket.version)
    ingest(django_capture_on_commit_callbacks, eml(
        sender="nina@example.org", to=SUPPORT, subject=f"Re: [{ticket.reference}] Broken",
        message_id="<b2@example.org>", extra="In-Reply-To: <b1@example.org>",
        body="It stopped again."))
    ticket.refresh_from_db()
    assert (ticket.status, ticket.reopened_count) == ("open", 1)


def test_auto_responders_are_never_acknowledged_and_acknowledgements_are_capped(
        desk, agent, smtp_server, django_capture_on_commit_callbacks):
    contact_services.contact_create(actor=agent, data={
        "first_name": "Robot", "emails": ["robot@example.com"]})
    for header in ("Auto-Submitted: auto-replied", "Precedence: bulk",
                   "List-Id: <news.example.com>"):
        ingest(django_capture_on_commit_callbacks, eml(
            sender="robot@example.com", to=SUPPORT, subject="Out of office",
            message_id=f"<auto-{header[:4]}@example.com>", extra=header, body="Away"))
    assert Ticket.objects.count() == 3  # recorded…
    assert delivered(smtp_server) == []  # …but never answered
    # A sender without those headers gets at most 3 acknowledgements an hour (a loop).
    for i in range(5):
        ingest(django_capture_on_commit_callbacks, eml(
            sender="loop@example.net", to=SUPPORT, subject=f"Auto reply {i}",
            message_id=f"<loop{i}@example.net>", body="I got your mail"))
    assert len(delivered(smtp_server)) == 3
    assert TicketMessage.objects.filter(body__startswith="No acknowledgement sent").count() == 2


def test_huge_empty_and_html_messages(desk, agent, smtp_server,
                                      django_capture_on_commit_callbacks):
    huge = "x" * (10 * 1024 * 1024)
    ingest(django_capture_on_commit_callbacks, eml(
        sender="big@example.org", to=SUPPORT, subject="Logs attached",
        message_id="<big@example.org>", body=huge))
    ticket = Ticket.objects.get(subject="Logs attached")
    first = TicketMessage.objects.get(ticket=ticket, kind="customer")
    assert len(first.body) < 21_000 and "[… cut here: the message was" in first.body
    ingest(django_capture_on_commit_callbacks, eml(
        sender="quiet@example.org", to=SUPPORT, subject="", message_id="<empty@example.org>",
        body=""))
    empty = Ticket.objects.get(requester_email="quiet@example.org")
    assert empty.subject == "(no subject)"
    assert TicketMessage.objects.get(ticket=empty, kind="customer").body == "(no text)"
    ingest(django_capture_on_commit_callbacks, eml(
        sender="html@example.org", to=SUPPORT, subject="<b>Help</b><script>x()</script>",
        message_id="<html@example.org>", body="<p>Hi <script>steal()</script>there</p>",
        html="<p>Hi <script>steal()</script>there</p>"))
    shown = Ticket.objects.get(requester_email="html@example.org")
    assert "<" not in shown.subject and "script" not in shown.subject
    body = TicketMessage.objects.get(ticket=shown, kind="customer").body
    assert "steal" not in body and "<p>" not in body and "Hi" in body


def test_mail_to_other_addresses_opens_no_ticket(desk, agent,
                                                 django_capture_on_commit_callbacks):
    ingest(django_capture_on_commit_callbacks, eml(
        sender="jane@lumen.example", to="orders@bakery.example.com", subject="Catering",
        message_id="<c1@lumen.example>", body="60 people"))
    assert not Ticket.objects.exists()
    # The address set on the desk's settings counts too.
    desk.RAPPORT_SUPPORT_ADDRESS = ""
    DeskSettings.objects.create(support_address="Care@Bakery.example.com")
    ingest(django_capture_on_commit_callbacks, eml(
        sender="jane@lumen.example", to="care@bakery.example.com", subject="Help",
        message_id="<c2@lumen.example>", body="Please"))
    assert Ticket.objects.get().subject == "Help"


def test_the_public_support_form(desk, agent, smtp_server):
    client = Client(enforce_csrf_checks=True, REMOTE_ADDR="203.0.113.7")
    assert client.get("/help/request/").status_code == 200
    answer = client.post("/help/request/", {"email": "not mail", "subject": "",
                                            "description": "x"})
    assert answer.status_code == 422
    assert b"email" in answer.content and b"subject" in answer.content
    assert not Ticket.objects.exists()
    answer = client.post("/help/request/", {"name": "Nina", "email": "nina@example.org",
                                            "subject": "Gluten free?",
                                            "description": "Do you bake <b>gluten free</b>?"})
    assert answer.status_code == 200
    ticket = Ticket.objects.get()
    assert ticket.reference.encode() in answer.content
    assert (ticket.channel, ticket.description) == ("web", "Do you bake gluten free?")
    [ack] = delivered(smtp_server)
    assert ticket.reference in ack["Subject"]
    # A bot fills the hidden field: nothing stored.
    client.post("/help/request/", {"email": "bot@example.org", "subject": "Buy",
                                   "description": "spam", "nickname": "bot"})
    assert Ticket.objects.count() == 1
    limited = None
    for _ in range(5):
        limited = client.post("/help/request/", {"email": "x@example.org", "subject": "S",
                                                 "description": "D"})
    assert limited.status_code == 429 and limited["Retry-After"]
    assert OutboundEmail.objects.filter(to_address="x@example.org").count() == 2
