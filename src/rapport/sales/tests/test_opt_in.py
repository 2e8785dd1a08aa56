"""Double opt-in for web forms: a pending lead waits unassigned, the confirmation email goes
through a real SMTP server (aiosmtpd on 127.0.0.1) by the activities ledger, and the public
link confirms, scores and assigns the lead once."""

from __future__ import annotations

import email
import email.policy
import re

import pytest
from aiosmtpd.controller import Controller
from django.test import Client

from rapport.activities import services as activities
from rapport.activities.models import Interaction, OutboundEmail, OutgoingMail
from rapport.activities.tests.test_outbound import Inbox, _free_port
from rapport.core.errors import ValidationFailed
from rapport.core.models import Event
from rapport.sales import services
from rapport.sales.models import AssignmentLog, Lead

pytestmark = pytest.mark.django_db


@pytest.fixture
def smtp_server():
    """A real SMTP server on 127.0.0.1 (as the outbound mail tests use), set as the outgoing
    mail server."""
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
def form(owner, rules):
    return services.web_form_create(actor=owner, data={
        "name": "Catering enquiry", "fields": ["name", "email", "country", "message"],
        "required": ["email"], "double_opt_in": True})


def public():
    return Client(enforce_csrf_checks=True, REMOTE_ADDR="203.0.113.9")


def submit(form, **fields):
    return public().post(f"/f/{form.key}/", {"name": "Anna Berg", "email": "anna@alder-cafe.se",
                                             "country": "SE", **fields})


def delivered(inbox):
    return [email.message_from_bytes(m.original_content, policy=email.policy.default)
            for m in inbox.messages]


def link_in(message) -> str:
    return re.search(r"http://testserver(/f/confirm/[\w-]+/)", message.get_content()).group(1)


def test_a_double_opt_in_form_keeps_the_lead_pending_and_mails_a_link(form, smtp_server, owner,
                                                                       web_as):
    answer = submit(form, message="Bread for 40 on Friday?")
    assert answer.status_code == 302
    thanks = public().get(answer["Location"])
    assert b"We sent you an email with a link" in thanks.content
    lead = Lead.objects.get()
    assert (lead.opt_in, lead.owner_id, lead.assigned_by) == ("pending", None, "")
    assert len(lead.opt_in_token) >= 32 and lead.opt_in_confirmed_at is None
    assert not AssignmentLog.objects.exists()
    page = web_as(owner).get(f"/leads/{lead.id}/")
    assert b"waiting for confirmation" in page.content
    assert lead.score == 50  # scored at once (SE +30, work email +20), assigned later
    queued = OutboundEmail.objects.get()
    assert (queued.contact_id, queued.to_address, queued.status) == (
        None, "anna@alder-cafe.se", "queued")

    assert activities.send_pending_emails() == 1
    [message] = delivered(smtp_server)
    assert message["To"] == "anna@alder-cafe.se"
    assert message["Subject"] == "Please confirm your request to Alder Bakery"
    assert message["Message-ID"] == queued.message_id
    assert "Hello Anna Berg," in message.get_content()
    assert 'through the form "Catering enquiry"' in message.get_content()
    assert link_in(message) == f"/f/confirm/{lead.opt_in_token}/"
    queued.refresh_from_db()
    assert queued.status == "sent" and queued.sent_at is not None
    assert not Interaction.objects.exists()  # nobody's conversation: no contact yet
    # Never twice: another sweep sends nothing.
    assert activities.send_pending_emails() == 0
    assert len(smtp_server.messages) == 1


def test_the_link_confirms_scores_and_assigns_once(form, smtp_server, sales_a):
    submit(form)
    activities.send_pending_emails()
    path = link_in(delivered(smtp_server)[0])
    page = public().get(path)
    assert page.status_code == 200 and b"Thank you for confirming" in page.content
    lead = Lead.objects.get()
    assert lead.opt_in == "confirmed" and lead.opt_in_confirmed_at is not None
    assert (lead.owner_id, lead.assigned_by) == (sales_a.id, "Nordics (round robin)")
    assert AssignmentLog.objects.get().rule_text == "Nordics (round robin)"
    confirmed = Event.objects.get(kind="lead.opt_in_confirmed")
    assert (confirmed.entity_id, confirmed.actor_id) == (lead.id, None)
    assert confirmed.after["email"] == "anna@alder-cafe.se" and confirmed.after["score"] == 50
    version = lead.version

    again = public().get(path)
    assert again.status_code == 200 and b"Already confirmed" in again.content
    lead.refresh_from_db()
    assert lead.version == version and AssignmentLog.objects.count() == 1
    assert Event.objects.filter(kind__in=("lead.opt_in_confirmed", "lead.assigned")).count() == 2


@pytest.mark.parametrize("token", ["not-a-token", "x" * 80])
def test_a_bad_token_is_a_clear_404_page(form, token):
    submit(form)
    before = list(Lead.objects.values_list("opt_in", "version"))
    page = public().get(f"/f/confirm/{token}/")
    assert page.status_code == 404
    assert b"This link is not valid" in page.content
    assert list(Lead.objects.values_list("opt_in", "version")) == before


def test_a_repeat_submission_while_pending_mails_again_and_stays_unassigned(form, smtp_server):
    submit(form)
    submit(form, message="Also a cake")
    lead = Lead.objects.get()
    assert (lead.opt_in, lead.owner_id, lead.submissions) == ("pending", None, 2)
    assert lead.message == "Also a cake"
    assert activities.send_pending_emails() == 2
    links = {link_in(m) for m in delivered(smtp_server)}
    assert links == {f"/f/confirm/{lead.opt_in_token}/"}  # the same link both times


def test_a_lead_known_before_is_updated_as_usual(form, owner, sales_b):
    known = services.lead_capture(actor=owner, data={"email": "anna@alder-cafe.se",
                                                     "country": "US"}).lead
    assert known.owner_id == sales_b.id
    submit(form)
    known.refresh_from_db()
    assert (known.opt_in, known.submissions, known.owner_id) == ("", 2, sales_b.id)
    assert not OutboundEmail.objects.exists()


def test_without_double_opt_in_nothing_is_mailed(owner, rules, sales_a):
    plain = services.web_form_create(actor=owner, data={
        "name": "Contact", "fields": ["email", "country"], "required": ["email"]})
    submit(plain)
    lead = Lead.objects.get()
    assert (lead.opt_in, lead.owner_id) == ("", sales_a.id)
    assert not OutboundEmail.objects.exists()


def test_double_opt_in_needs_a_required_email_field(owner):
    with pytest.raises(ValidationFailed) as refused:
        services.web_form_create(actor=owner, data={
            "name": "Call me", "fields": ["name", "phone", "email"], "required": ["phone"],
            "double_opt_in": True})
    assert list(refused.value.errors) == ["double_opt_in"]


def test_the_settings_checkbox_makes_a_double_opt_in_form(owner, web_as):
    client = web_as(owner)
    answer = client.post("/settings/web-forms/", {
        "name": "Wedding cakes", "fields": ["name", "email"], "required": ["email"],
        "source": "web form", "double_opt_in": "1"})
    assert answer.status_code == 302
    page = client.get("/settings/web-forms/")
    assert b"double opt-in" in page.content
    refused = client.post("/settings/web-forms/", {
        "name": "Phone only", "fields": ["phone"], "required": ["phone"],
        "source": "web form", "double_opt_in": "1"})
    assert refused.status_code == 422 and b"needs the email field" in refused.content


def test_the_confirmation_email_is_nobodys_conversation_in_the_emails_api(form, owner, api_as):
    from rapport.core.errors import NotFound

    submit(form)
    queued = OutboundEmail.objects.get()
    client = api_as(owner)
    assert client.get("/emails").json()["items"] == []
    assert client.get(f"/emails/{queued.id}").status_code == 404
    with pytest.raises(NotFound):
        activities.email_requeue(actor=owner, email_id=queued.id)
