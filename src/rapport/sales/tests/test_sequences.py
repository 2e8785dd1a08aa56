"""Nurturing sequences: a 3-step sequence run over fixed-clock days sends real email through a
real SMTP server (aiosmtpd) and makes the task; a reply, a meeting or conversion stops it; a
worker that dies, or a step run twice, never queues a second email; bad input is refused."""

from __future__ import annotations

import datetime as dt
import email
import email.policy

import pytest

from rapport.activities import services as activities
from rapport.activities.models import OutboundEmail, Task
from rapport.activities.tests.test_outbound import smtp_server  # noqa: F401 - a fixture
from rapport.contacts import services as contact_services
from rapport.core.errors import PermissionDenied, ValidationFailed
from rapport.core.models import Event
from rapport.sales import selectors, services
from rapport.sales.models import Enrollment, Sequence, SequenceStep, StepRun
from rapport.sales.services import sequences

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)


class WorkerKilled(BaseException):
    """What a SIGKILL looks like from inside: nothing after it runs."""


def days(n: float) -> dt.datetime:
    return T0 + n * DAY


@pytest.fixture
def templates(owner):
    welcome = activities.email_template_create(actor=owner, data={
        "name": "Welcome", "subject": "Welcome, {{ contact.first_name | default('there') }}",
        "body": "Hi {{ contact.first_name | default('there') }},\n\nthanks for asking about "
                "{{ contact.company | default('your business') }}.\n{{ user.first_name }}"})
    follow_up = activities.email_template_create(actor=owner, data={
        "name": "Follow-up", "subject": "Still thinking about it?",
        "body": "Hello again {{ contact.name | default('there') }}."})
    return welcome, follow_up


@pytest.fixture
def three_steps(owner, templates):
    welcome, follow_up = templates
    return services.sequence_create(actor=owner, data={
        "name": "Welcome", "steps": [
            {"kind": "email", "template_id": welcome.id},
            {"kind": "task", "wait_days": 2, "task_title": "Call them"},
            {"kind": "email", "wait_days": 3, "template_id": follow_up.id}]})


@pytest.fixture
def anna(owner, sales_a):
    services.assignment_rule_create(actor=owner, data={
        "name": "Sam", "method": "user", "user_id": sales_a.id})
    return services.lead_capture(actor=owner, data={
        "name": "Anna Lind", "email": "anna@lind-cafe.se", "company_name": "Lind Café"}).lead


def _enrol(actor, lead, sequence, now=T0):
    return services.lead_enrol(actor=actor, lead_id=lead.id,
                               data={"sequence_id": sequence.id}, now=now)


def _mail(message) -> email.message.EmailMessage:
    return email.message_from_bytes(message.content, policy=email.policy.default)


def test_three_steps_run_over_the_days_sending_real_email_and_making_the_task(
        sales_a, anna, three_steps, smtp_server):  # noqa: F811
    enrollment = _enrol(sales_a, anna, three_steps)
    assert (enrollment.next_position, enrollment.next_run_at) == (1, T0)

    assert services.sequences_run_due(now=days(0)) == 1
    assert activities.send_pending_emails(now=days(0)) == 1
    assert len(smtp_server.messages) == 1
    first = _mail(smtp_server.messages[0])
    assert first["To"] == "anna@lind-cafe.se"
    assert first["Subject"] == "Welcome, Anna"
    assert "thanks for asking about Lind Café" in first.get_content()
    assert "sam" in first.get_content()  # the owner signs it (user.first_name)
    enrollment.refresh_from_db()
    assert (enrollment.next_position, enrollment.next_run_at) == (2, days(2))

    # Nothing is due until the task's day.
    assert services.sequences_run_due(now=days(1.9)) == 0
    assert services.sequences_run_due(now=days(2)) == 1
    task = Task.objects.get()
    assert (task.title, task.assignee_id) == ("Call them", sales_a.id)
    assert f"/leads/{anna.id}/" in task.notes
    enrollment.refresh_from_db()
    assert (enrollment.next_position, enrollment.next_run_at) == (3, days(5))

    assert services.sequences_run_due(now=days(4)) == 0
    assert services.sequences_run_due(now=days(5)) == 1
    assert activities.send_pending_emails(now=days(5)) == 1
    assert [_mail(m)["Subject"] for m in smtp_server.messages] == [
        "Welcome, Anna", "Still thinking about it?"]
    enrollment.refresh_from_db()
    assert (enrollment.status, enrollment.stop_reason, enrollment.next_run_at) == (
        "completed", "every step done", None)
    assert StepRun.objects.filter(enrollment=enrollment).count() == 3

    # Done is done: later sweeps do nothing, and no second email goes out.
    assert services.sequences_run_due(now=days(30)) == 0
    assert activities.send_pending_emails(now=days(30)) == 0
    assert len(smtp_server.messages) == 2
    emails = OutboundEmail.objects.order_by("id")
    assert [(e.status, e.contact_id, e.reference) for e in emails] == [
        ("sent", None, f"lead:{anna.id}")] * 2

    # The lead's timeline tells the story, with the emails' own entries.
    kinds = [e.kind for e in selectors.lead_timeline(lead_id=anna.id)]
    assert kinds.count("sequence.step_done") == 3
    assert kinds.count("email.sent") == 2
    assert "sequence.enrolled" in kinds and "sequence.completed" in kinds
    shown = selectors.lead_enrollments(lead_id=anna.id)[0]
    assert [run.email["status"] if run.email else None for run in shown.runs] == [
        "sent", None, "sent"]


def test_a_reply_stops_the_sequence_before_the_next_step(
        sales_a, owner, anna, three_steps, django_capture_on_commit_callbacks):
    enrollment = _enrol(sales_a, anna, three_steps)
    assert services.sequences_run_due(now=days(0)) == 1
    raw = (b"From: Anna Lind <Anna@Lind-Cafe.se>\r\nTo: sam@bakery.example.com\r\n"
           b"Subject: Re: Welcome, Anna\r\nMessage-ID: <r1@lind-cafe.se>\r\n"
           b"Date: Mon, 02 Mar 2026 12:00:00 +0000\r\n"
           b"Content-Type: text/plain; charset=utf-8\r\n\r\nYes please, call me.")
    with django_capture_on_commit_callbacks(execute=True):
        assert activities.mail_ingest(raw=raw, actor=owner).status == "stored"
    enrollment.refresh_from_db()
    assert enrollment.status == "stopped"
    assert enrollment.stop_reason == "the lead replied: “Re: Welcome, Anna”"
    assert services.sequences_run_due(now=days(10)) == 0
    assert OutboundEmail.objects.count() == 1 and not Task.objects.exists()
    stopped = [e for e in selectors.lead_timeline(lead_id=anna.id)
               if e.kind == "sequence.stopped"]
    assert [e.after["reason"] for e in stopped] == [enrollment.stop_reason]


def test_a_meeting_stops_it_and_a_sequence_set_not_to_goes_on(
        sales_a, owner, anna, three_steps, templates, django_capture_on_commit_callbacks):
    keeps_going = services.sequence_create(actor=owner, data={
        "name": "Newsletter", "stop_on_meeting": False,
        "steps": [{"kind": "email", "template_id": templates[1].id, "wait_days": 1}]})
    stops, goes_on = _enrol(sales_a, anna, three_steps), _enrol(sales_a, anna, keeps_going)
    person = contact_services.contact_create(actor=sales_a, data={
        "first_name": "Anna", "emails": ["anna@lind-cafe.se"]})
    with django_capture_on_commit_callbacks(execute=True):
        activities.interaction_log(actor=sales_a, data={
            "type": "meeting", "contact_id": person.id, "subject": "Tasting",
            "occurred_at": "2026-03-04T10:00:00Z"})
    stops.refresh_from_db()
    goes_on.refresh_from_db()
    assert (stops.status, stops.stop_reason) == (
        "stopped", "a meeting was booked for 2026-03-04 10:00 UTC")
    assert goes_on.status == "active"
    assert services.sequences_run_due(now=days(1)) == 1  # the newsletter only
    assert OutboundEmail.objects.get().subject == "Still thinking about it?"


def test_conversion_stops_it(sales_a, anna, three_steps, django_capture_on_commit_callbacks):
    enrollment = _enrol(sales_a, anna, three_steps)
    assert services.sequences_run_due(now=days(0)) == 1
    with django_capture_on_commit_callbacks(execute=True):
        services.lead_convert(actor=sales_a, lead_id=anna.id, data={"create_deal": False})
    enrollment.refresh_from_db()
    assert (enrollment.status, enrollment.stop_reason) == ("stopped", "the lead was converted")
    assert services.sequences_run_due(now=days(10)) == 0
    assert OutboundEmail.objects.count() == 1 and not Task.objects.exists()


def test_the_worker_stops_a_converted_lead_even_if_no_subscriber_ran(sales_a, anna,
                                                                     three_steps):
    enrollment = _enrol(sales_a, anna, three_steps)
    services.lead_convert(actor=sales_a, lead_id=anna.id, data={"create_deal": False})
    # (the test's transaction never commits, so the lead.converted subscriber did not run)
    assert Enrollment.objects.get(id=enrollment.id).status == "active"
    assert services.sequences_run_due(now=days(0)) == 0
    enrollment.refresh_from_db()
    assert (enrollment.status, enrollment.stop_reason) == ("stopped", "the lead was converted")
    assert not OutboundEmail.objects.exists()


def test_a_worker_that_dies_after_queuing_leaves_nothing_and_the_rerun_sends_once(
        sales_a, anna, three_steps, smtp_server, monkeypatch):  # noqa: F811
    enrollment = _enrol(sales_a, anna, three_steps)

    def killed(*args, **kwargs):
        raise WorkerKilled  # the email is queued and the run written; the commit never comes

    monkeypatch.setattr(sequences, "_advance", killed)
    with pytest.raises(WorkerKilled):
        services.sequences_run_due(now=days(0))
    monkeypatch.undo()
    assert not OutboundEmail.objects.exists() and not StepRun.objects.exists()

    assert services.sequences_run_due(now=days(0)) == 1
    assert services.sequences_run_due(now=days(0)) == 0  # rerunning the job
    assert activities.send_pending_emails(now=days(0)) == 1
    assert len(smtp_server.messages) == 1
    enrollment.refresh_from_db()
    assert enrollment.next_position == 2


def test_a_step_run_twice_never_queues_a_second_email(sales_a, anna, three_steps):
    enrollment = _enrol(sales_a, anna, three_steps)
    assert services.sequence_step_run(enrollment_id=enrollment.id, now=days(0)) is True
    # As if the move on had been lost: the enrollment points at step 1 again, due now.
    Enrollment.objects.filter(id=enrollment.id).update(next_position=1, next_run_at=days(0))
    assert services.sequence_step_run(enrollment_id=enrollment.id, now=days(0)) is False
    assert OutboundEmail.objects.count() == 1
    assert StepRun.objects.filter(enrollment=enrollment).count() == 1
    enrollment.refresh_from_db()
    assert (enrollment.next_position, enrollment.next_run_at) == (2, days(2))
    # And the database itself refuses a second run of the same step.
    from django.db import IntegrityError, transaction
    with pytest.raises(IntegrityError), transaction.atomic():
        StepRun.objects.create(enrollment=enrollment, step=SequenceStep.objects.get(
            sequence=three_steps, position=1), ran_at=days(0))


def test_a_template_that_cannot_be_filled_in_stops_it_with_the_reason(owner, sales_a, anna):
    strict = activities.email_template_create(actor=owner, data={
        "name": "Strict", "subject": "Hello", "body": "Dear {{ contact.job_title }}"})
    sequence = services.sequence_create(actor=owner, data={
        "name": "Strict", "steps": [{"kind": "email", "template_id": strict.id}]})
    enrollment = _enrol(sales_a, anna, sequence)
    assert services.sequences_run_due(now=days(0)) == 0
    enrollment.refresh_from_db()
    assert enrollment.status == "stopped"
    assert "step 1 could not be done" in enrollment.stop_reason
    assert "job_title" in enrollment.stop_reason
    assert not OutboundEmail.objects.exists() and not StepRun.objects.exists()


def test_enrolling_twice_in_the_same_active_sequence_is_refused(sales_a, anna, three_steps):
    _enrol(sales_a, anna, three_steps)
    with pytest.raises(ValidationFailed) as refused:
        _enrol(sales_a, anna, three_steps)
    assert list(refused.value.errors) == ["sequence_id"]
    assert "already in the sequence Welcome" in refused.value.errors["sequence_id"][0]
    assert Enrollment.objects.count() == 1
    # Taken out, it may join again (a new enrollment, its steps from the start).
    services.lead_unenrol(actor=sales_a, lead_id=anna.id, data={"sequence_id": three_steps.id})
    again = _enrol(sales_a, anna, three_steps)
    assert again.next_position == 1 and Enrollment.objects.count() == 2


def test_enrolling_needs_the_right_to_change_the_lead(sales_b, anna, three_steps):
    from rapport.core.errors import NotFound

    with pytest.raises(NotFound):  # Bob cannot even see Sam's lead
        _enrol(sales_b, anna, three_steps)
    assert not Enrollment.objects.exists()


def test_only_those_who_may_change_sequences_make_them(sales_a, templates):
    with pytest.raises(PermissionDenied):
        services.sequence_create(actor=sales_a, data={
            "name": "Mine", "steps": [{"kind": "task", "task_title": "Call"}]})
    assert not Sequence.objects.exists()


@pytest.mark.parametrize(("steps", "field"), [
    ([{"kind": "email"}], "steps.0.template_id"),
    ([{"kind": "task", "task_title": "Call"}, {"kind": "task"}], "steps.1.task_title"),
    ([{"kind": "email", "template_id": 999999}], "steps.0.template_id"),
    ([{"kind": "sms", "task_title": "x"}], "steps.0.kind"),
    ([{"kind": "task", "task_title": "x", "wait_days": -1}], "steps.0.wait_days"),
    ([], "steps"),
])
def test_bad_steps_are_refused_naming_the_field(owner, steps, field):
    with pytest.raises(ValidationFailed) as refused:
        services.sequence_create(actor=owner, data={"name": "Bad", "steps": steps})
    assert field in refused.value.errors
    assert not Sequence.objects.exists() and not SequenceStep.objects.exists()


def test_editing_steps_keeps_what_was_done(owner, sales_a, anna, three_steps, templates):
    enrollment = _enrol(sales_a, anna, three_steps)
    assert services.sequences_run_due(now=days(0)) == 1
    services.sequence_update(actor=owner, sequence_id=three_steps.id, changes={"steps": [
        {"kind": "email", "template_id": templates[0].id},
        {"kind": "task", "wait_days": 1, "task_title": "Call them today"}]})
    assert services.sequences_run_due(now=days(2)) == 1
    assert Task.objects.get().title == "Call them today"
    assert services.sequences_run_due(now=days(30)) == 0
    enrollment.refresh_from_db()
    assert enrollment.status == "completed"
    assert OutboundEmail.objects.count() == 1


def test_a_sequence_takes_new_leads_by_its_rule(owner, sales_a, templates,
                                                django_capture_on_commit_callbacks):
    services.assignment_rule_create(actor=owner, data={
        "name": "Sam", "method": "user", "user_id": sales_a.id})
    services.sequence_create(actor=owner, data={
        "name": "Partners", "auto_enrol": True, "auto_source": "partner",
        "auto_grades": "C, D",
        "steps": [{"kind": "email", "template_id": templates[0].id}]})
    with django_capture_on_commit_callbacks(execute=True):
        partner = services.lead_capture(actor=owner, data={
            "email": "eva@partner.example", "source": "Partner"}).lead
        other = services.lead_capture(actor=owner, data={
            "email": "olle@other.example", "source": "fair"}).lead
    assert list(Enrollment.objects.values_list("lead_id", flat=True)) == [partner.id]
    event = Event.objects.get(kind="sequence.enrolled")
    assert event.after["how"] == "new lead, by the sequence's rule"
    assert not Enrollment.objects.filter(lead=other).exists()


def test_deleting_a_sequence_takes_its_leads_out(owner, sales_a, anna, three_steps):
    _enrol(sales_a, anna, three_steps)
    services.sequence_delete(actor=owner, sequence_id=three_steps.id)
    assert not Sequence.objects.exists() and not Enrollment.objects.exists()
    stopped = Event.objects.get(kind="sequence.stopped")
    assert stopped.entity_id == anna.id and "deleted" in stopped.after["reason"]


def test_a_double_opt_in_lead_joins_by_the_rule_only_once_it_has_confirmed(
        owner, sales_a, templates, django_capture_on_commit_callbacks):
    from django.test import Client

    from rapport.sales.models import Lead

    services.assignment_rule_create(actor=owner, data={
        "name": "Sam", "method": "user", "user_id": sales_a.id})
    form = services.web_form_create(actor=owner, data={
        "name": "Cakes", "fields": ["name", "email"], "required": ["email"],
        "double_opt_in": True})
    sequence = services.sequence_create(actor=owner, data={
        "name": "Cakes", "auto_enrol": True, "auto_web_form_id": form.id,
        "steps": [{"kind": "email", "template_id": templates[0].id}]})
    with django_capture_on_commit_callbacks(execute=True):
        Client().post(f"/f/{form.key}/", {"name": "Eva", "email": "eva@cakes.example"})
    lead = Lead.objects.get()
    assert lead.opt_in == "pending" and not Enrollment.objects.exists()
    with pytest.raises(ValidationFailed) as refused:  # not by hand either
        _enrol(owner, lead, sequence)
    assert list(refused.value.errors) == ["opt_in"]
    with django_capture_on_commit_callbacks(execute=True):
        services.lead_opt_in_confirm(token=lead.opt_in_token)
    assert list(Enrollment.objects.values_list("lead_id", "status")) == [(lead.id, "active")]
