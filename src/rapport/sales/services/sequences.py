"""Nurturing sequences: emails and tasks spaced by days, each step done once, stopping by
themselves when the lead replies, books a meeting or converts (docs/sequences.md).

- ``sequence_create`` / ``sequence_update`` / ``sequence_delete``: the sequence and its steps
  (in order; an email step names a saved template, a task step a title).
- ``lead_enrol`` (the lead page, the API, and ``auto_enrol_new_leads`` for sequences set to
  take new leads by themselves) and ``lead_unenrol``.
- ``sequences_run_due``: the worker (every minute). It claims each due enrollment with a row
  lock (``select_for_update(skip_locked=True)`` on PostgreSQL, so two workers never take the
  same one; SQLite has one writer at a time), does its step — an email queued through
  activities' outbound ledger, or a task for the lead's owner — and in the *same transaction*
  writes the ``StepRun`` (unique per enrollment and step) and moves the enrollment on. A
  worker that dies before the commit leaves nothing behind (the email was never queued); one
  that dies after it has done the step, and the rerun finds it done.
- ``stop_for_interactions`` / ``stop_for_conversions``: the event subscribers that stop
  enrollments when the lead replies, meets or converts, with the reason on its timeline.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Mapping
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from rapport.accounts.selectors import all_users
from rapport.activities import services as activities
from rapport.activities.selectors import email_template_get, interactions_with_addresses
from rapport.core.errors import NotFound, ServiceError, ValidationFailed
from rapport.core.events import record_events
from rapport.core.inputs import parse
from rapport.core.permissions import get_for, require
from rapport.sales import events
from rapport.sales.inputs import EnrolInput, SequenceChanges, SequenceInput
from rapport.sales.models import (
    Enrollment,
    EnrollmentStatus,
    Lead,
    LeadStatus,
    OptIn,
    Sequence,
    SequenceStep,
    StepKind,
    StepRun,
    WebForm,
)

logger = logging.getLogger(__name__)

SETTINGS = ("name", "active", "stop_on_reply", "stop_on_meeting", "stop_on_convert",
            "auto_enrol", "auto_source", "auto_web_form_id", "auto_grades")


# --- the sequence and its steps ----------------------------------------------------------------

def sequence_snapshot(sequence: Sequence) -> dict[str, Any]:
    out = {name: getattr(sequence, name) for name in SETTINGS}
    out["auto_grades"] = list(sequence.auto_grades)
    out["steps"] = [{"kind": s.kind, "wait_days": s.wait_days, "template_id": s.template_id,
                     "task_title": s.task_title}
                    for s in SequenceStep.objects.filter(sequence=sequence).order_by("position")]
    return out


def _check_links(actor: Any, entry: SequenceInput) -> None:
    """The templates and the web form named exist (each error under its field)."""
    errors: dict[str, str] = {}
    found: dict[int, bool] = {}
    for i, step in enumerate(entry.steps):
        if step.template_id is None:
            continue
        if step.template_id not in found:
            try:
                email_template_get(user=actor, template_id=step.template_id)
                found[step.template_id] = True
            except NotFound:
                found[step.template_id] = False
        if not found[step.template_id]:
            errors[f"steps.{i}.template_id"] = f"no email template with id {step.template_id}"
    if entry.auto_web_form_id is not None and \
            not WebForm.objects.filter(id=entry.auto_web_form_id).exists():
        errors["auto_web_form_id"] = f"no web form with id {entry.auto_web_form_id}"
    if errors:
        raise ValidationFailed(errors)


def _apply(sequence: Sequence, entry: SequenceInput) -> None:
    for name in SETTINGS:
        value = getattr(entry, name)
        setattr(sequence, name, "".join(value) if name == "auto_grades" else value)
    sequence.save()
    # Steps are matched by position: a step kept in place keeps its runs, so an enrollment
    # never does it again; positions past the new end go (an enrollment there finishes).
    existing = {s.position: s for s in SequenceStep.objects.filter(sequence=sequence)}
    for position, step in enumerate(entry.steps, start=1):
        row = existing.pop(position, None) or SequenceStep(sequence=sequence, position=position)
        row.kind, row.wait_days = step.kind, step.wait_days
        row.template_id, row.task_title = step.template_id, step.task_title
        row.save()
    if existing:
        SequenceStep.objects.filter(id__in=[s.id for s in existing.values()]).delete()


@transaction.atomic
def sequence_create(*, actor: Any, data: SequenceInput | Mapping[str, Any]) -> Sequence:
    require(actor, "sequences.change", message="you may not change nurturing sequences")
    entry = parse(SequenceInput, data)
    _check_links(actor, entry)
    sequence = Sequence(created_by_id=actor.id)
    _apply(sequence, entry)
    record_events([events.sales_settings_changed(actor_id=actor.id, what="sequence",
                                                 entity_id=sequence.id, before=None,
                                                 after=sequence_snapshot(sequence))])
    return sequence


def _locked(sequence_id: int) -> Sequence:
    sequence = Sequence.objects.select_for_update().filter(id=sequence_id).first()
    if sequence is None:
        raise NotFound(f"no sequence with id {sequence_id}")
    return sequence


@transaction.atomic
def sequence_update(*, actor: Any, sequence_id: int,
                    changes: SequenceChanges | Mapping[str, Any]) -> Sequence:
    """Change some settings; ``steps``, when given, is the whole new list."""
    require(actor, "sequences.change", message="you may not change nurturing sequences")
    sequence = _locked(sequence_id)
    before = sequence_snapshot(sequence)
    given = parse(SequenceChanges, changes).model_dump(exclude_unset=True)
    # None leaves a field as it is, except the web form, where it means "any form".
    merged = {**before, **{k: v for k, v in given.items()
                           if v is not None or k == "auto_web_form_id"}}
    entry = parse(SequenceInput, merged)
    _check_links(actor, entry)
    _apply(sequence, entry)
    after = sequence_snapshot(sequence)
    if after != before:
        record_events([events.sales_settings_changed(actor_id=actor.id, what="sequence",
                                                     entity_id=sequence.id, before=before,
                                                     after=after)])
    return sequence


@transaction.atomic
def sequence_delete(*, actor: Any, sequence_id: int) -> None:
    """Remove the sequence: its active enrollments are stopped first (said on each lead's
    timeline); what was sent stays sent."""
    require(actor, "sequences.change", message="you may not change nurturing sequences")
    sequence = _locked(sequence_id)
    before = sequence_snapshot(sequence)
    now = timezone.now()
    for enrollment in Enrollment.objects.select_for_update().filter(
            sequence=sequence, status=EnrollmentStatus.ACTIVE):
        enrollment.sequence = sequence
        _stop(enrollment, f"the sequence was deleted by {actor.display_name}", now=now,
              actor_id=actor.id)
    record_events([events.sales_settings_changed(actor_id=actor.id, what="sequence",
                                                 entity_id=sequence.id, before=before,
                                                 after=None)])
    sequence.delete()


# --- enrolling ---------------------------------------------------------------------------------

def _first_step(sequence: Sequence) -> SequenceStep | None:
    return SequenceStep.objects.filter(sequence=sequence).order_by("position").first()


def _enrol(lead: Lead, sequence: Sequence, *, actor_id: int | None, how: str,
           now: dt.datetime) -> Enrollment:
    if not sequence.active:
        raise ValidationFailed({"sequence_id": f"the sequence {sequence.name} is paused"})
    if not lead.is_open:
        raise ValidationFailed({"status": f"the lead is {lead.status}: only an open lead is "
                                          "enrolled"})
    if lead.opt_in == OptIn.PENDING:
        raise ValidationFailed({"opt_in": "the lead has not confirmed its address yet (double "
                                          "opt-in): it may be enrolled once it has"})
    first = _first_step(sequence)
    if first is None:
        raise ValidationFailed({"sequence_id": f"the sequence {sequence.name} has no steps"})
    if not lead.email and SequenceStep.objects.filter(sequence=sequence,
                                                      kind=StepKind.EMAIL).exists():
        raise ValidationFailed({"email": "the lead has no email address, and the sequence "
                                         "sends email"})
    if Enrollment.objects.filter(sequence=sequence, lead=lead,
                                 status=EnrollmentStatus.ACTIVE).exists():
        raise ValidationFailed({"sequence_id": f"the lead is already in the sequence "
                                               f"{sequence.name}"})
    try:
        with transaction.atomic():  # a savepoint: the constraint settles a race
            enrollment = Enrollment.objects.create(
                sequence=sequence, lead=lead, enrolled_by_id=actor_id,
                next_position=first.position,
                next_run_at=now + dt.timedelta(days=first.wait_days))
    except IntegrityError:
        raise ValidationFailed({"sequence_id": f"the lead is already in the sequence "
                                               f"{sequence.name}"}) from None
    record_events([events.sequence_enrolled(lead_id=lead.id, actor_id=actor_id, shown={
        "sequence": sequence.name, "sequence_id": sequence.id, "how": how})])
    return enrollment


@transaction.atomic
def lead_enrol(*, actor: Any, lead_id: int, data: EnrolInput | Mapping[str, Any],
               now: dt.datetime | None = None) -> Enrollment:
    """Put a lead in a sequence (whoever may change the lead). Its first step is due
    ``wait_days`` from now. Twice in the same active sequence is a 422."""
    entry = parse(EnrolInput, data)
    lead = get_for(actor, "change", Lead.objects.filter(deleted_at__isnull=True), lead_id,
                   noun="lead")
    sequence = Sequence.objects.filter(id=entry.sequence_id).first()
    if sequence is None:
        raise ValidationFailed({"sequence_id": f"no sequence with id {entry.sequence_id}"})
    return _enrol(lead, sequence, actor_id=actor.id, how=f"by {actor.display_name}",
                  now=now or timezone.now())


@transaction.atomic
def lead_unenrol(*, actor: Any, lead_id: int,
                 data: EnrolInput | Mapping[str, Any]) -> Enrollment:
    """Take a lead out of a sequence now (whoever may change the lead)."""
    entry = parse(EnrolInput, data)
    lead = get_for(actor, "change", Lead.objects.filter(deleted_at__isnull=True), lead_id,
                   noun="lead")
    enrollment = (Enrollment.objects.select_for_update(of=("self",)).select_related("sequence")
                  .filter(sequence_id=entry.sequence_id, lead=lead,
                          status=EnrollmentStatus.ACTIVE).first())
    if enrollment is None:
        raise ValidationFailed({"sequence_id": "the lead is not in this sequence now"})
    _stop(enrollment, f"taken out by {actor.display_name}", now=timezone.now(),
          actor_id=actor.id)
    return enrollment


def _matches(sequence: Sequence, lead: Lead) -> bool:
    if sequence.auto_source and lead.source.lower() != sequence.auto_source.lower():
        return False
    if sequence.auto_web_form_id and lead.web_form_id != sequence.auto_web_form_id:
        return False
    return not sequence.auto_grades or lead.grade in sequence.auto_grades


def auto_enrol_new_leads(rows: Iterable[Any]) -> None:
    """Subscriber of ``lead.captured`` and ``lead.opt_in_confirmed``: each new lead goes into
    every active sequence set to take new leads whose conditions (source, web form, grades) it
    meets — a double opt-in lead once it has confirmed its address. A lead that cannot be
    enrolled (no email for a sequence that sends one, not confirmed yet) is skipped and
    logged."""
    sequences = list(Sequence.objects.filter(auto_enrol=True, active=True).order_by("id"))
    if not sequences:
        return
    for row in rows:
        for sequence in sequences:
            try:
                with transaction.atomic():
                    lead = Lead.objects.filter(id=row.entity_id,
                                               deleted_at__isnull=True).first()
                    if lead is None or lead.opt_in == OptIn.PENDING or \
                            not _matches(sequence, lead):
                        continue
                    _enrol(lead, sequence, actor_id=None, how="new lead, by the sequence's rule",
                           now=timezone.now())
            except ValidationFailed as failure:
                logger.info("lead %s not enrolled in sequence %s: %s", row.entity_id,
                            sequence.id, failure.errors)


# --- stopping ----------------------------------------------------------------------------------

def _stop(enrollment: Enrollment, reason: str, *, now: dt.datetime,
          actor_id: int | None = None, status: str = EnrollmentStatus.STOPPED) -> None:
    enrollment.status = status
    enrollment.stop_reason = reason[:200]
    enrollment.ended_at = now
    enrollment.next_run_at = None
    enrollment.save(update_fields=["status", "stop_reason", "ended_at", "next_run_at"])
    build = events.sequence_completed if status == EnrollmentStatus.COMPLETED \
        else events.sequence_stopped
    record_events([build(lead_id=enrollment.lead_id, actor_id=actor_id, shown={
        "sequence": enrollment.sequence.name, "sequence_id": enrollment.sequence_id,
        "reason": reason[:200]})])


def _stop_matching(query: Q, flag: str, reason: str) -> int:
    """Stop the active enrollments of leads matching ``query`` in sequences whose ``flag``
    is set; how many."""
    stopped = 0
    with transaction.atomic():
        rows = (Enrollment.objects.select_for_update(of=("self",)).select_related("sequence")
                .filter(query, status=EnrollmentStatus.ACTIVE, **{f"sequence__{flag}": True})
                .order_by("id"))
        now = timezone.now()
        for enrollment in rows:
            _stop(enrollment, reason, now=now)
            stopped += 1
    return stopped


def _when(moment: Any) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M") if moment else ""


def stop_for_interactions(rows: Iterable[Any]) -> None:
    """Subscriber of ``interaction.logged``: an email from the lead (its address, or any of
    the person's once converted) stops the sequences set to stop on a reply; a meeting with
    them, those set to stop on a meeting."""
    ids = [row.entity_id for row in rows
           if (row.after or {}).get("type") in ("email", "meeting")]
    if not ids:
        return
    for talk in interactions_with_addresses(interaction_ids=ids):
        if talk["type"] == "email" and talk["direction"] == "inbound":
            flag, reason = "stop_on_reply", f"the lead replied: “{talk['subject'][:80]}”"
            addresses = {talk["from_address"], *talk["contact_addresses"]} - {""}
        elif talk["type"] == "meeting":
            flag, reason = "stop_on_meeting", \
                f"a meeting was booked for {_when(talk['occurred_at'])} UTC"
            addresses = set(talk["contact_addresses"])
        else:
            continue
        query = Q(lead__converted_contact_id=talk["contact_id"])
        if addresses:
            query |= Q(lead__email__in=addresses)
        _stop_matching(query, flag, reason)


def stop_for_conversions(rows: Iterable[Any]) -> None:
    """Subscriber of ``lead.converted``: stop the sequences set to stop on conversion."""
    for row in rows:
        _stop_matching(Q(lead_id=row.entity_id), "stop_on_convert", "the lead was converted")


# --- the worker --------------------------------------------------------------------------------

def _person(lead: Lead) -> dict[str, Any]:
    """The lead as an email template's ``contact``."""
    first, _, last = lead.name.strip().partition(" ")
    return {"first_name": first, "last_name": last.strip(), "name": lead.name,
            "email": lead.email, "job_title": lead.job_title, "company": lead.company_name}


def _users(ids: set[int]) -> dict[int, Any]:
    return {u.id: u for u in all_users().filter(id__in=ids, is_active=True)}


def _do_step(enrollment: Enrollment, step: SequenceStep, now: dt.datetime
             ) -> tuple[StepRun, dict[str, Any]]:
    """Queue the email or make the task, and record the run (unique: a second try fails on
    it and rolls back with what it did)."""
    lead = enrollment.lead
    people = _users({i for i in (lead.owner_id, enrollment.enrolled_by_id,
                                 enrollment.sequence.created_by_id) if i})
    owner = people.get(lead.owner_id) if lead.owner_id else None
    run = StepRun(enrollment=enrollment, step=step, ran_at=now)
    shown: dict[str, Any] = {"sequence": enrollment.sequence.name, "position": step.position,
                             "kind": step.kind}
    if step.kind == StepKind.EMAIL:
        if not lead.email:
            raise ValidationFailed({"email": "the lead has no email address"})
        assert step.template_id is not None  # the model's check constraint
        email = activities.email_queue_to_address(
            to=lead.email, template_id=step.template_id, person=_person(lead), author=owner,
            contact_id=lead.converted_contact_id, reference=f"lead:{lead.id}")
        run.outbound_email_id = email.id
        shown.update(subject=email.subject, to=email.to_address)
    else:
        assignee = owner or people.get(enrollment.enrolled_by_id or 0) or \
            people.get(enrollment.sequence.created_by_id or 0)
        if assignee is None:
            raise ValidationFailed({"owner_id": "the lead has no owner to give the task to"})
        link = reverse("lead_detail", args=[lead.id])
        task = activities.task_create(actor=assignee, data={
            "title": step.task_title, "due_at": now, "assignee_id": assignee.id,
            "contact_id": lead.converted_contact_id,
            "notes": f"Lead: {lead} ({lead.email or lead.phone}) — {link}\n"
                     f"Sequence {enrollment.sequence.name}, step {step.position}."})
        run.task_id = task.id
        shown.update(title=task.title, assignee=assignee.display_name)
    run.save()
    return run, shown


def _claim(enrollment_id: int, now: dt.datetime) -> Enrollment | None:
    rows = Enrollment.objects.filter(id=enrollment_id, status=EnrollmentStatus.ACTIVE,
                                     next_run_at__lte=now, sequence__active=True)
    if connection.features.has_select_for_update_skip_locked:
        rows = rows.select_for_update(skip_locked=True, of=("self",))
    return rows.select_related("sequence", "lead").first()


def sequence_step_run(*, enrollment_id: int, now: dt.datetime | None = None) -> bool:
    """Do the due step of one enrollment, once; False when it is not due, another worker
    has it, or the enrollment ended instead (the lead converted, left, the step failed)."""
    now = now or timezone.now()
    with transaction.atomic():
        enrollment = _claim(enrollment_id, now)
        if enrollment is None:
            return False
        lead, sequence = enrollment.lead, enrollment.sequence
        if lead.deleted_at is not None:
            _stop(enrollment, "the lead was deleted", now=now)
            return False
        if lead.status == LeadStatus.CONVERTED and sequence.stop_on_convert:
            _stop(enrollment, "the lead was converted", now=now)
            return False
        if lead.status == LeadStatus.DISQUALIFIED:
            _stop(enrollment, "the lead was disqualified", now=now)
            return False
        steps = list(SequenceStep.objects.filter(sequence=sequence,
                                                 position__gte=enrollment.next_position)
                     .order_by("position")[:2])
        if not steps:
            _stop(enrollment, "every step done", now=now, status=EnrollmentStatus.COMPLETED)
            return False
        step = steps[0]
        done = False
        if not StepRun.objects.filter(enrollment=enrollment, step=step).exists():
            try:
                with transaction.atomic():
                    _run, shown = _do_step(enrollment, step, now)
                    record_events([events.sequence_step_done(lead_id=lead.id, actor_id=None,
                                                             shown=shown)])
                done = True
            except ServiceError as failure:
                problem = "; ".join(f"{k}: {' '.join(v)}" for k, v in failure.errors.items()) \
                    if isinstance(failure, ValidationFailed) else str(failure)
                _stop(enrollment, f"step {step.position} could not be done ({problem})",
                      now=now)
                return False
            except IntegrityError:
                pass  # done by a worker that got here first: only move on
        _advance(enrollment, step, steps[1] if len(steps) > 1 else None, now)
        return done


def _advance(enrollment: Enrollment, step: SequenceStep, following: SequenceStep | None,
             now: dt.datetime) -> None:
    if following is None:
        _stop(enrollment, "every step done", now=now,
              status=EnrollmentStatus.COMPLETED)
        return
    enrollment.next_position = following.position
    enrollment.next_run_at = now + dt.timedelta(days=following.wait_days)
    enrollment.save(update_fields=["next_position", "next_run_at"])


def sequences_run_due(*, now: dt.datetime | None = None, limit: int = 500) -> int:
    """The worker's sweep: every enrollment whose step is due, each in its own transaction.
    Returns how many steps were done."""
    now = now or timezone.now()
    due = list(Enrollment.objects.filter(status=EnrollmentStatus.ACTIVE, next_run_at__lte=now,
                                         sequence__active=True)
               .order_by("next_run_at", "id").values_list("id", flat=True)[:limit])
    return sum(sequence_step_run(enrollment_id=enrollment_id, now=now) for enrollment_id in due)


__all__ = ["auto_enrol_new_leads", "lead_enrol", "lead_unenrol", "sequence_create",
           "sequence_delete", "sequence_snapshot", "sequence_step_run", "sequence_update",
           "sequences_run_due", "stop_for_conversions", "stop_for_interactions"]
