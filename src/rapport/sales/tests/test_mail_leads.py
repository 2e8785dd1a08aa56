"""Inbound email as a lead source: mail from an unknown sender, through the real ingest path
(the API's POST /api/v1/mail/ingest and the ingest service), becomes a lead: sales' event
subscriber queues the interactions once the mail commits and the worker's task captures the
lead; more mail from that address updates the lead; a customer's mail makes none."""

from __future__ import annotations

import pytest
from django_tasks_db.models import DBTaskResult

from rapport.activities import services as activities
from rapport.activities.models import Interaction
from rapport.activities.tests.test_inbound import eml
from rapport.contacts import services as contact_services
from rapport.core.models import Event
from rapport.sales import services as sales
from rapport.sales.models import AssignmentLog, Lead

pytestmark = pytest.mark.django_db

CATERING = ("Hello, could you cater a breakfast for 60 people at our office on 12 March?\n"
            "Pastries and coffee.\n\nBest regards,\nJane Doe\nEvents Manager, Lumen Studio\n"
            "+1 503 555 0187\nwww.lumenstudio.example\n\nOn Mon, Bob wrote:\n> earlier text")


def work() -> int:
    """What a worker does with the queued leads-from-mail jobs (each once)."""
    done = 0
    for job in DBTaskResult.objects.filter(
            task_path="rapport.sales.tasks.capture_mail_leads").order_by("enqueued_at"):
        done += len(sales.leads_from_mail(**job.args_kwargs["kwargs"]))
        job.delete()
    return done


def ingest(capture, raw: bytes):
    with capture(execute=True):
        result = activities.mail_ingest(raw=raw, source="smtp")
    work()
    return result


def test_mail_from_an_unknown_sender_through_the_api_becomes_a_lead(
        owner, rules, sales_b, api_as, django_capture_on_commit_callbacks):
    client = api_as(owner)
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.client.post(
            "/api/v1/mail/ingest",
            eml(sender="Jane Doe <jane@lumenstudio.example>", subject="Breakfast for 60",
                body=CATERING, message_id="<cat1@lumen>"),
            content_type="message/rfc822", headers=client.headers)
    assert answer.status_code == 201
    assert len(answer.json()["created_contact_ids"]) == 1  # activities as before
    assert not Lead.objects.exists()  # not in the ingesting request: queued for a worker
    [job] = DBTaskResult.objects.filter(task_path="rapport.sales.tasks.capture_mail_leads")
    assert job.args_kwargs["kwargs"] == {"interaction_ids": answer.json()["interaction_ids"],
                                         "new_sender_ids": answer.json()["interaction_ids"]}
    assert work() == 1
    lead = Lead.objects.get()
    assert (lead.name, lead.email, lead.source) == ("Jane Doe", "jane@lumenstudio.example",
                                                     "email")
    assert lead.message.startswith("Breakfast for 60\n\nHello, could you cater")
    assert "earlier text" not in lead.message  # the quoted reply is left out
    assert lead.website == "www.lumenstudio.example"
    assert (lead.company_name, lead.job_title) == ("Lumen Studio", "Events Manager")
    assert lead.owner_id == sales_b.id and lead.assigned_by == "Everyone else (fixed)"
    assert AssignmentLog.objects.filter(lead=lead).count() == 1
    captured = Event.objects.get(kind="lead.captured")
    assert captured.after["source"] == "email" and captured.actor_id is None
    logged = Event.objects.get(kind="interaction.logged")
    assert logged.after["new_sender"] is True


def test_a_repeat_mail_updates_the_lead_and_a_duplicate_copy_does_nothing(
        owner, rules, django_capture_on_commit_callbacks):
    capture = django_capture_on_commit_callbacks
    ingest(capture, eml(sender="Jane Doe <jane@lumenstudio.example>", body="First question",
                        message_id="<q1@lumen>", subject="Question"))
    again = eml(sender="Jane Doe <jane@lumenstudio.example>", body="Make it 80 people",
                message_id="<q2@lumen>", subject="Re: Question")
    assert ingest(capture, again).status == "stored"
    assert ingest(capture, again).status == "duplicate"  # the IMAP copy of the same one
    lead = Lead.objects.get()
    assert (lead.submissions, lead.source, lead.name) == (2, "email", "Jane Doe")
    assert lead.message == "Re: Question\n\nMake it 80 people"
    resubmitted = Event.objects.get(kind="lead.resubmitted")
    assert resubmitted.after["message"] == "Re: Question\n\nMake it 80 people"
    assert Interaction.objects.count() == 2  # the mail is on the contact's timeline too


def test_a_customers_mail_makes_no_lead(owner, rules, django_capture_on_commit_callbacks):
    contact_services.contact_create(actor=owner, data={
        "first_name": "Margaret", "last_name": "Lane", "emails": ["margaret@lane.example"]})
    result = ingest(django_capture_on_commit_callbacks, eml(body="Two rye loaves please"))
    assert result.status == "stored" and result.created_contact_ids == []
    assert not Lead.objects.exists()
    assert "new_sender" not in Event.objects.get(kind="interaction.logged").after


def test_a_known_lead_that_writes_in_keeps_its_source(owner, rules,
                                                      django_capture_on_commit_callbacks):
    from rapport.sales import services

    form_lead = services.lead_capture(actor=owner, data={
        "name": "Anna Berg", "email": "anna@alder-cafe.se", "source": "web form"}).lead
    ingest(django_capture_on_commit_callbacks,
           eml(sender="A. Berg <anna@alder-cafe.se>", body="Any news?", message_id="<n@a>"))
    form_lead.refresh_from_db()
    assert (form_lead.source, form_lead.name, form_lead.submissions) == (
        "web form", "Anna Berg", 2)
    assert form_lead.message == "Order for Friday\n\nAny news?"
    assert Lead.objects.count() == 1


def test_automatic_mail_and_mail_sent_by_staff_make_no_lead(
        owner, rules, django_capture_on_commit_callbacks):
    capture = django_capture_on_commit_callbacks
    auto = ingest(capture, eml(sender="noreply@shop.example", message_id="<auto@x>",
                               extra="Auto-Submitted: auto-replied"))
    assert auto.status == "rejected"
    sent = ingest(capture, eml(sender=f"Owner <{owner.email}>", to="new@customer.example",
                               message_id="<out@x>"))
    assert sent.status == "stored" and len(sent.created_contact_ids) == 1  # a recipient
    assert not Lead.objects.exists()


def test_converting_a_lead_from_mail_uses_the_contact_the_mail_made(
        owner, rules, sales_b, django_capture_on_commit_callbacks):
    from rapport.contacts.models import Contact
    from rapport.sales import services

    result = ingest(django_capture_on_commit_callbacks,
                    eml(sender="Jane Doe <jane@lumenstudio.example>", body=CATERING,
                        message_id="<conv@lumen>"))
    [made] = result.created_contact_ids
    lead = Lead.objects.get()
    converted = services.lead_convert(actor=owner, lead_id=lead.id, data={"amount": "900"})
    assert converted.contact_id == made
    assert Contact.objects.filter(primary_email="jane@lumenstudio.example").count() == 1
    lead.refresh_from_db()
    assert (lead.status, lead.converted_contact_id) == ("converted", made)
