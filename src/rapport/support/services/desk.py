"""Working a ticket: public replies (threaded email to the requester), internal notes, status,
priority, category and assignee changes, merging duplicates, linking a deal, closing with a
satisfaction survey, and the customer's own messages (which reopen a resolved ticket).

Every status change goes through :func:`_move`: it stamps ``resolved_at``/``closed_at``, writes
a ``StatusChange`` row and a ``ticket.status_changed`` event (the SLA timers read them). The
first public reply stamps ``first_responded_at`` and moves a new ticket to open. Changes that
an agent makes from a form they read earlier carry its ``version``: a stale one is a 409.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from rapport.accounts.selectors import all_users
from rapport.activities.services import email_send_transactional
from rapport.core.errors import NotFound, PermissionDenied, ValidationFailed, VersionConflict
from rapport.core.events import NewEvent, record_events
from rapport.core.inputs import parse
from rapport.core.permissions import can, get_for
from rapport.sales.selectors import deal_get
from rapport.support import events
from rapport.support.inputs import (
    AgentProfileInput,
    SurveyAnswerInput,
    TicketChanges,
    TicketMergeInput,
    TicketMessageInput,
    TicketViewInput,
)
from rapport.support.models import (
    OPEN_STATUSES,
    AgentProfile,
    AssignmentLog,
    MessageKind,
    StatusChange,
    Survey,
    Ticket,
    TicketAttachment,
    TicketMessage,
    TicketView,
)
from rapport.support.services.assignment import RULE_MANUAL, agents, assignment_event
from rapport.support.services.attachments import attach_uploads, check_files, safe_filename
from rapport.support.services.tickets import excerpt, support_actor

CLOSED = ("resolved", "closed")
THREAD_LIMIT = 20  # message ids kept in References


def bare_id(value: str) -> str:
    """A Message-ID as the thread stores it: no angle brackets, no spaces."""
    return "".join((value or "").split()).strip("<>")[:255]


def subject_of(ticket: Ticket) -> str:
    """The subject mail about a ticket carries: its reference first, so replies find it."""
    subject = ticket.subject
    return subject if f"[{ticket.reference}]" in subject else f"[{ticket.reference}] {subject}"


def _load(actor: Any, ticket_id: int, action: str = "change") -> Ticket:
    return get_for(actor, action, Ticket.objects.filter(deleted_at__isnull=True), ticket_id,
                   noun="ticket")


def _current(ticket: Ticket) -> dict[str, Any]:
    return {"id": ticket.id, "reference": ticket.reference, "status": ticket.status,
            "priority": ticket.priority, "category": ticket.category,
            "assignee_id": ticket.assignee_id, "deal_id": ticket.deal_id,
            "version": ticket.version}


def _check_version(ticket: Ticket, version: int | None) -> None:
    if version is None:
        raise ValidationFailed({"version": "is required (the version you last read)"})
    if version != ticket.version:
        raise VersionConflict(current=_current(ticket), current_version=ticket.version,
                              given_version=version)


def _not_merged(ticket: Ticket, field: str = "ticket") -> None:
    if ticket.merged_into_id:
        raise ValidationFailed({field: f"{ticket.reference} was merged into "
                                       f"T-{ticket.merged_into_id + 10000}: work on that one"})


# --- status -------------------------------------------------------------------------------------

def _move(ticket: Ticket, to: str, *, actor_id: int | None, now: dt.datetime) -> list[NewEvent]:
    """Change the status in memory (the caller saves), with its history row and event."""
    before = ticket.status
    if to == before:
        return []
    if to == "resolved":
        ticket.resolved_at = now
    elif to == "closed":
        ticket.closed_at = now
        ticket.resolved_at = ticket.resolved_at or now
    elif before in CLOSED:  # back to work: a reopen
        ticket.resolved_at = None
        ticket.closed_at = None
        ticket.reopened_count += 1
    ticket.status = to
    StatusChange.objects.create(ticket=ticket, from_status=before, to_status=to,
                                actor_id=actor_id, at=now)
    return [events.ticket_status_changed(ticket_id=ticket.id, contact_id=ticket.contact_id,
                                         actor_id=actor_id, reference=ticket.reference,
                                         subject=ticket.subject, before=before, after=to)]


def _save(ticket: Ticket, fields: list[str]) -> None:
    ticket.version += 1
    ticket.save(update_fields=[*fields, "version", "updated_at"])


STATUS_FIELDS = ["status", "resolved_at", "closed_at", "reopened_count"]


# --- replies and notes --------------------------------------------------------------------------

def _thread(ticket: Ticket) -> tuple[str, list[str]]:
    """(In-Reply-To, References) for the next mail in the ticket's thread."""
    ids = [m for m in TicketMessage.objects.filter(ticket=ticket).exclude(message_id="")
           .order_by("created_at", "id").values_list("message_id", flat=True)]
    if ticket.thread_message_id and ticket.thread_message_id not in ids:
        ids.insert(0, ticket.thread_message_id)
    customer = (TicketMessage.objects.filter(ticket=ticket, kind=MessageKind.CUSTOMER)
                .exclude(message_id="").order_by("-created_at", "-id")
                .values_list("message_id", flat=True).first())
    parent = customer or (ids[-1] if ids else "")
    return parent, ids[-THREAD_LIMIT:]


def mail_to_requester(*, ticket: Ticket, subject: str, body: str, kind: str,
                      attachments: Sequence[tuple[str, str, bytes]] = ()) -> Any:
    """Queue an email in the ticket's thread to its requester (the activities ledger sends
    it, with ``attachments``); returns the OutboundEmail."""
    parent, references = _thread(ticket)
    return email_send_transactional(
        data={"to": ticket.requester_email, "subject": subject, "body": body},
        in_reply_to=parent, references=tuple(references), reference=f"ticket:{ticket.id}:{kind}",
        attachments=attachments)


def _signature(actor: Any) -> str:
    name = getattr(actor, "display_name", "") or ""
    return f"\n\n-- \n{name}" if name else ""


@transaction.atomic
def ticket_reply(*, actor: Any, ticket_id: int, data: TicketMessageInput | Mapping[str, Any],
                 now: dt.datetime | None = None, files: Sequence[Any] = ()) -> TicketMessage:
    """A public reply: on the thread, and mailed to the requester in the ticket's email
    thread (``[T-10234]`` subject, In-Reply-To/References). The first one stamps
    ``first_responded_at`` and moves a new ticket to open. ``files``: uploads kept on the
    reply and sent with the email (services/attachments.py)."""
    entry = parse(TicketMessageInput, data)
    check_files(files)
    now = now or timezone.now()
    ticket = _load(actor, ticket_id)
    _not_merged(ticket)
    if not ticket.requester_email:
        raise ValidationFailed({"body": "the requester has no email address: add one to the "
                                        "contact, or log an internal note of your call"})
    stored = [(safe_filename(f.name), (getattr(f, "content_type", "") or ""), f.read())
              for f in files]
    email = mail_to_requester(ticket=ticket, subject=subject_of(ticket),
                              body=entry.body + _signature(actor), kind="reply",
                              attachments=stored)
    message = TicketMessage.objects.create(
        ticket=ticket, kind=MessageKind.REPLY, author=actor, body=entry.body,
        channel="email", message_id=bare_id(email.message_id), outbound_email_id=email.id,
        created_at=now)
    for name, kind, blob in stored:
        TicketAttachment.objects.create(message=message, filename=name, content_type=kind[:100],
                                        size=len(blob), data=blob)
    fields: list[str] = []
    found: list[NewEvent] = []
    if ticket.first_responded_at is None:
        ticket.first_responded_at = now
        fields.append("first_responded_at")
    if ticket.status == "new":
        found += _move(ticket, "open", actor_id=actor.id, now=now)
        fields += STATUS_FIELDS
    if fields:
        _save(ticket, fields)
    found.append(events.ticket_replied(
        ticket_id=ticket.id, contact_id=ticket.contact_id, actor_id=actor.id,
        shown={"reference": ticket.reference, "subject": ticket.subject,
               "excerpt": excerpt(entry.body), "to": ticket.requester_email}))
    record_events(found)
    return message


@transaction.atomic
def ticket_note(*, actor: Any, ticket_id: int, data: TicketMessageInput | Mapping[str, Any],
                now: dt.datetime | None = None, files: Sequence[Any] = ()) -> TicketMessage:
    """An internal note: on the thread for agents, never mailed, not on the timeline.
    ``files``: uploads kept on the note (services/attachments.py)."""
    entry = parse(TicketMessageInput, data)
    check_files(files)
    now = now or timezone.now()
    ticket = _load(actor, ticket_id)
    message = TicketMessage.objects.create(ticket=ticket, kind=MessageKind.NOTE, author=actor,
                                           body=entry.body, created_at=now)
    attach_uploads(message, files)
    record_events([events.ticket_note(ticket_id=ticket.id, contact_id=ticket.contact_id,
                                      actor_id=actor.id,
                                      shown={"reference": ticket.reference,
                                             "excerpt": excerpt(entry.body)})])
    return message


# --- changes ------------------------------------------------------------------------------------

def _assignee(actor: Any, ticket: Ticket, assignee_id: int | None) -> Any:
    if not can(actor, "tickets.assign"):
        if not (assignee_id == actor.id and can(actor, "tickets.change", owner_id=actor.id)):
            raise PermissionDenied("you may not hand tickets to others")
    if assignee_id is None:
        return None
    found = {a.user.id: a.user for a in agents()}
    if assignee_id not in found:
        raise ValidationFailed({"assignee_id": f"user {assignee_id} is not a help desk agent "
                                               "(support role or an agent profile)"})
    return found[assignee_id]


def _reassign(ticket: Ticket, assignee: Any, *, actor: Any, now: dt.datetime) -> NewEvent:
    ticket.assignee = assignee
    who = assignee.display_name if assignee else "nobody"
    log = AssignmentLog.objects.create(
        ticket=ticket, assignee=assignee, rule=RULE_MANUAL, actor=actor, at=now,
        reason=f"{actor.display_name} handed it to {who}" if assignee != actor
        else f"{actor.display_name} took it")
    return assignment_event(ticket, log, actor.id)


@transaction.atomic
def ticket_update(*, actor: Any, ticket_id: int, version: int | None,
                  changes: TicketChanges | Mapping[str, Any], site: str = "",
                  now: dt.datetime | None = None) -> Ticket:
    """Change category, priority, status, assignee or the linked deal (only what is given).
    Closing sends the satisfaction survey (``site``: the address links start with)."""
    given = parse(TicketChanges, changes if not isinstance(changes, Mapping)
                  else {**changes, "version": version}).model_dump(exclude_unset=True)
    given.pop("version", None)
    now = now or timezone.now()
    ticket = _load(actor, ticket_id)
    _check_version(ticket, version)
    found: list[NewEvent] = []
    fields: list[str] = []
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    for name in ("category", "priority"):
        if name in given and given[name] is not None and given[name] != getattr(ticket, name):
            before[name], after[name] = getattr(ticket, name), given[name]
            setattr(ticket, name, given[name])
            fields.append(name)
    if "deal_id" in given and given["deal_id"] != ticket.deal_id:
        deal = None
        if given["deal_id"] is not None:
            try:
                deal = deal_get(user=actor, deal_id=given["deal_id"])
            except NotFound:
                raise ValidationFailed({"deal_id": f"no deal with id {given['deal_id']}"}) \
                    from None
        before["deal"] = ticket.deal_id
        after["deal"] = deal.id if deal else None
        if deal:
            after["deal_name"] = deal.name
        ticket.deal_id = deal.id if deal else None
        fields.append("deal")
    if "assignee_id" in given and given["assignee_id"] != ticket.assignee_id:
        assignee = _assignee(actor, ticket, given["assignee_id"])
        found.append(_reassign(ticket, assignee, actor=actor, now=now))
        fields.append("assignee")
    survey = None
    status = given.get("status")
    if status is not None and status != ticket.status:
        _not_merged(ticket, "status")
        found += _move(ticket, status, actor_id=actor.id, now=now)
        fields += STATUS_FIELDS
        if status == "closed":
            survey = _survey(ticket, site=site, now=now)
    if not fields:
        return ticket
    _save(ticket, fields)
    if after:
        found.insert(0, events.ticket_updated(
            ticket_id=ticket.id, contact_id=ticket.contact_id, actor_id=actor.id,
            before=before, after={**after, "reference": ticket.reference,
                                  "subject": ticket.subject}))
    record_events(found)
    ticket.survey = survey
    return ticket


def ticket_close(*, actor: Any, ticket_id: int, version: int | None, site: str = "",
                 now: dt.datetime | None = None) -> Ticket:
    """Close it: ``closed_at`` stamped and the satisfaction survey mailed."""
    return ticket_update(actor=actor, ticket_id=ticket_id, version=version,
                         changes={"status": "closed"}, site=site, now=now)


def ticket_link_deal(*, actor: Any, ticket_id: int, version: int | None,
                     deal_id: int | None) -> Ticket:
    """Link the ticket to a deal the actor sees (None unlinks)."""
    return ticket_update(actor=actor, ticket_id=ticket_id, version=version,
                         changes={"deal_id": deal_id})


def ticket_assign(*, actor: Any, ticket_id: int, version: int | None,
                  assignee_id: int | None) -> Ticket:
    """Hand the ticket to an agent by hand (None: nobody); logged with who did it."""
    return ticket_update(actor=actor, ticket_id=ticket_id, version=version,
                         changes={"assignee_id": assignee_id})


# --- merging ------------------------------------------------------------------------------------

@transaction.atomic
def ticket_merge(*, actor: Any, ticket_id: int, data: TicketMergeInput | Mapping[str, Any],
                 now: dt.datetime | None = None) -> Ticket:
    """Merge a duplicate (``ticket_id``, at ``version``) into ``into_id``: its messages move
    to the surviving ticket (a line on each says so), the duplicate is closed with
    ``merged_into`` set (no survey), and mail to the duplicate's thread lands on the survivor.
    Returns the survivor."""
    entry = parse(TicketMergeInput, data)
    now = now or timezone.now()
    if entry.into_id == ticket_id:
        raise ValidationFailed({"into_id": "is this ticket: merge it into another one"})
    duplicate = _load(actor, ticket_id)
    _check_version(duplicate, entry.version)
    _not_merged(duplicate)
    try:
        survivor = _load(actor, entry.into_id)
    except (NotFound, PermissionDenied):
        raise ValidationFailed({"into_id": f"no ticket with id {entry.into_id} you may "
                                           "change"}) from None
    _not_merged(survivor, "into_id")
    moved = TicketMessage.objects.filter(ticket=duplicate).update(ticket=survivor)
    TicketMessage.objects.create(
        ticket=survivor, kind=MessageKind.SYSTEM, author=actor, created_at=now,
        body=f"{duplicate.reference} ({duplicate.subject}) was merged into this ticket by "
             f"{actor.display_name}: its {moved} message{'s' if moved != 1 else ''} are here.")
    TicketMessage.objects.create(
        ticket=duplicate, kind=MessageKind.SYSTEM, author=actor, created_at=now,
        body=f"Merged into {survivor.reference} by {actor.display_name}.")
    found = _move(duplicate, "closed", actor_id=actor.id, now=now)
    duplicate.merged_into = survivor
    _save(duplicate, [*STATUS_FIELDS, "merged_into"])
    if duplicate.last_customer_message_at and (
            survivor.last_customer_message_at is None
            or duplicate.last_customer_message_at > survivor.last_customer_message_at):
        survivor.last_customer_message_at = duplicate.last_customer_message_at
    _save(survivor, ["last_customer_message_at"])
    found.append(events.ticket_merged(ticket_id=duplicate.id, contact_id=duplicate.contact_id,
                                      actor_id=actor.id, reference=duplicate.reference,
                                      into_id=survivor.id, into_reference=survivor.reference))
    record_events(found)
    return survivor


def surviving(ticket: Ticket) -> Ticket:
    """The ticket a merged one lives on in (itself if it was not merged)."""
    seen = {ticket.id}
    while ticket.merged_into_id and ticket.merged_into_id not in seen:
        seen.add(ticket.merged_into_id)
        ticket = Ticket.objects.get(id=ticket.merged_into_id)
    return ticket


# --- the customer's messages --------------------------------------------------------------------

@dataclass
class Received:
    ticket: Ticket
    message: TicketMessage
    reopened: bool


@transaction.atomic
def ticket_receive(*, ticket_id: int, body: str, channel: str = "email", message_id: str = "",
                   mail_message_id: int | None = None,
                   now: dt.datetime | None = None) -> Received:
    """A customer's message on their ticket (a mail reply, say). On a resolved or closed
    ticket it reopens it (``reopened_count`` + 1); on one waiting for them it is open again."""
    now = now or timezone.now()
    ticket = surviving(Ticket.objects.select_for_update().get(id=ticket_id))
    ticket = Ticket.objects.select_for_update().select_related("contact").get(id=ticket.id)
    message = TicketMessage.objects.create(
        ticket=ticket, kind=MessageKind.CUSTOMER, body=body or "(no text)", channel=channel,
        message_id=bare_id(message_id), mail_message_id=mail_message_id, created_at=now)
    ticket.last_customer_message_at = now
    fields = ["last_customer_message_at"]
    found: list[NewEvent] = []
    reopened = ticket.status in CLOSED
    if ticket.status in (*CLOSED, "waiting"):
        found += _move(ticket, "open", actor_id=None, now=now)
        fields += STATUS_FIELDS
    _save(ticket, fields)
    found.insert(0, events.ticket_message(
        ticket_id=ticket.id, contact_id=ticket.contact_id, actor_id=None,
        shown={"reference": ticket.reference, "subject": ticket.subject,
               "excerpt": excerpt(message.body), "reopened": reopened}))
    record_events(found)
    return Received(ticket=ticket, message=message, reopened=reopened)


# --- the satisfaction survey --------------------------------------------------------------------

def site_url(site: str = "") -> str:
    return (site or getattr(settings, "RAPPORT_SITE_URL", "") or "http://localhost:8000") \
        .rstrip("/")


def _survey(ticket: Ticket, *, site: str, now: dt.datetime) -> Survey | None:
    """Mail the one-click survey (scores 1–5 as links) to the requester of a closed ticket."""
    if not ticket.requester_email:
        return None
    survey = Survey.objects.create(ticket=ticket, token=secrets.token_urlsafe(24), sent_at=now)
    base = site_url(site)
    links = "\n".join(
        f"  {score} {label}: {base}{reverse('survey_answer', args=[survey.token, score])}"
        for score, label in SCORES.items())
    body = (f"Your request {ticket.reference} ({ticket.subject}) is closed.\n\n"
            f"How did we do? One click is enough:\n\n{links}\n\n"
            "If something is still wrong, just reply to this email and the request opens "
            "again.")
    email = mail_to_requester(ticket=ticket, subject=f"[{ticket.reference}] How did we do?",
                              body=body, kind="survey")
    TicketMessage.objects.create(ticket=ticket, kind=MessageKind.SYSTEM, created_at=now,
                                 body=f"Satisfaction survey sent to {ticket.requester_email}.",
                                 message_id=bare_id(email.message_id),
                                 outbound_email_id=email.id)
    return survey


SCORES = {5: "very good", 4: "good", 3: "fair", 2: "poor", 1: "very poor"}


def survey_by_token(token: str) -> Survey:
    survey = (Survey.objects.select_related("ticket").filter(token=token[:64]).first()
              if token else None)
    if survey is None:
        raise NotFound("no such survey (the link may be incomplete)")
    return survey


@transaction.atomic
def survey_answer(*, token: str, data: SurveyAnswerInput | Mapping[str, Any],
                  now: dt.datetime | None = None) -> Survey:
    """Record the customer's score (and comment); answering again updates it."""
    entry = parse(SurveyAnswerInput, data)
    survey = survey_by_token(token)
    survey = Survey.objects.select_for_update().select_related("ticket").get(id=survey.id)
    survey.score = entry.score
    if entry.comment is not None:
        survey.comment = entry.comment
    survey.answered_at = now or timezone.now()
    survey.save(update_fields=["score", "comment", "answered_at"])
    ticket = survey.ticket
    record_events([events.survey_answered(ticket_id=ticket.id, contact_id=ticket.contact_id,
                                          reference=ticket.reference, score=survey.score,
                                          comment=excerpt(survey.comment, 300))])
    return survey


# --- agents and saved views ---------------------------------------------------------------------

@transaction.atomic
def agent_profile_save(*, actor: Any, user_id: int,
                       data: AgentProfileInput | Mapping[str, Any]) -> AgentProfile:
    """An agent's skills, whether they take tickets, their hours (Settings → Help desk
    agents): for those who may assign tickets."""
    entry = parse(AgentProfileInput, data)
    if not can(actor, "tickets.assign"):
        raise PermissionDenied("you may not change the help desk's agents")
    user = all_users().filter(id=user_id, is_active=True).first()
    if user is None:
        raise ValidationFailed({"user_id": f"no active user with id {user_id}"})
    profile, _ = AgentProfile.objects.update_or_create(user=user, defaults={
        "skills": entry.skills, "accepts_tickets": entry.accepts_tickets,
        "working_hours": entry.working_hours})
    record_events([events.desk_settings_changed(
        actor_id=actor.id, what=f"agent {user.display_name}", before=None,
        after={"skills": entry.skills, "accepts_tickets": entry.accepts_tickets,
               "working_hours": entry.working_hours})])
    return profile


@transaction.atomic
def ticket_view_save(*, actor: Any, data: TicketViewInput | Mapping[str, Any]) -> TicketView:
    """Save the list's filters under a name (the same name replaces it)."""
    entry = parse(TicketViewInput, data)
    view, _ = TicketView.objects.update_or_create(user=actor, name=entry.name,
                                                  defaults={"query": entry.query})
    return view


@transaction.atomic
def ticket_view_delete(*, actor: Any, view_id: int) -> None:
    deleted, _ = TicketView.objects.filter(user=actor, id=view_id).delete()
    if not deleted:
        raise NotFound(f"no saved view with id {view_id}")


def is_open(ticket: Ticket) -> bool:
    return ticket.status in OPEN_STATUSES


__all__ = ["Received", "agent_profile_save", "bare_id", "site_url", "subject_of",
           "support_actor", "survey_answer", "survey_by_token", "surviving", "ticket_assign",
           "ticket_close", "ticket_link_deal", "ticket_merge", "ticket_note", "ticket_receive",
           "ticket_reply", "ticket_update", "ticket_view_delete", "ticket_view_save"]
