"""First response: a lead its owner has not touched by ``respond_by`` goes to the next rep.

``respond_by`` is set when a rule with ``first_response_minutes`` assigns the lead
(``assignment.apply_choice``). The owner touches the lead by changing its status
(``lead_update``), logging a call, email, meeting or message on its page
(:func:`lead_contact_log`), or through anything else that calls :func:`lead_touch` (e.g. an
email sent to the lead on the owner's behalf).

The sweep (:func:`first_response_sweep`, every minute in the worker) hands each overdue,
untouched open lead to the next rep under the rule that assigned it — never the same person —
logs it ("not answered within 30 min by Sam"), counts ``reassignments`` and tells the manager
(the territory's manager, else a manager of the owner's team, else the business owner) with a
task due now: it rings the activities reminder bell at once and the reminder email goes out
through the worker. Each lead is locked (``select_for_update(skip_locked=True)``) and checked
to be overdue again under the lock, so two sweeps at once hand it on once.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from rapport.accounts.selectors import all_users, display_names, first_user_with
from rapport.activities import services as activities
from rapport.core.events import NewEvent, record_events
from rapport.core.inputs import parse
from rapport.core.permissions import get_for, scope_for
from rapport.sales import events
from rapport.sales.inputs import LeadContactInput
from rapport.sales.models import OPEN_STATUSES, AssignmentLog, AssignmentRule, Lead
from rapport.sales.services.assignment import (
    ASSIGNMENT_FIELDS,
    Choice,
    apply_choice,
    choose_by_rule,
)

logger = logging.getLogger(__name__)


def touched_by(lead: Lead, *, actor_id: int | None, now: dt.datetime | None = None) -> bool:
    """Mark the lead's first response if ``actor_id`` is its owner and none is marked yet (in
    place: the caller saves ``first_touched_at``). True when this was the first touch."""
    if lead.owner_id is None or actor_id != lead.owner_id or lead.first_touched_at is not None:
        return False
    lead.first_touched_at = now or timezone.now()
    return True


@transaction.atomic
def lead_touch(*, actor: Any, lead_id: int, now: dt.datetime | None = None) -> bool:
    """For other features that reach a lead on its owner's behalf (an email sent to it):
    the owner's first such touch stops the first-response clock. True if it was the first."""
    lead = Lead.objects.select_for_update().filter(id=lead_id, deleted_at__isnull=True).first()
    if lead is None or not touched_by(lead, actor_id=actor.id, now=now):
        return False
    lead.save(update_fields=["first_touched_at"])
    return True


@transaction.atomic
def lead_contact_log(*, actor: Any, lead_id: int,
                     data: LeadContactInput | Mapping[str, Any]) -> Lead:
    """Log a call, email, meeting or message with the lead on its timeline (anyone who may
    change the lead); its owner's first one is the lead's first response."""
    entry = parse(LeadContactInput, data)
    lead = get_for(actor, "change", Lead.objects.filter(deleted_at__isnull=True), lead_id,
                   noun="lead")
    first = touched_by(lead, actor_id=actor.id)
    if first:
        lead.save(update_fields=["first_touched_at"])
    record_events([events.lead_contacted(lead_id=lead.id, actor_id=actor.id,
                                         channel=entry.channel, note=entry.note,
                                         first_touch=first)])
    return lead


# --- the sweep ---------------------------------------------------------------------------------

def _overdue(now: dt.datetime) -> Q:
    return Q(respond_by__lte=now, first_touched_at__isnull=True, status__in=OPEN_STATUSES,
             deleted_at__isnull=True, owner__isnull=False)


def first_response_sweep(*, now: dt.datetime | None = None, limit: int = 500) -> int:
    """Hand on every open lead nobody touched by its ``respond_by``; returns how many were
    handed to someone else. Safe to run in several workers at once."""
    now = now or timezone.now()
    due = list(Lead.objects.filter(_overdue(now)).order_by("respond_by", "id")
               .values_list("id", flat=True)[:limit])
    handed = 0
    for lead_id in due:
        try:
            handed += _hand_on(lead_id, now)
        except Exception:  # one lead's failure must not stop the others'
            logger.exception("first response: could not hand on lead %s", lead_id)
    return handed


def _rule_of(lead: Lead) -> AssignmentRule | None:
    log = (AssignmentLog.objects.filter(lead_id=lead.id).select_related("rule__territory")
           .order_by("-id").first())
    return log.rule if log is not None else None


def manager_for(*, owner_id: int | None, rule: AssignmentRule | None) -> Any:
    """Who hears about a missed first response: the rule's territory manager, else someone
    who assigns the owner's team's leads (a manager), else whoever assigns all leads."""
    territory = rule.territory if rule is not None else None
    if territory is not None and territory.manager_id:
        manager = all_users().filter(id=territory.manager_id, is_active=True).first()
        if manager is not None:
            return manager
    owner = all_users().filter(id=owner_id or 0).first()
    if owner is not None and owner.team_id is not None:
        for user in all_users().filter(team_id=owner.team_id, is_active=True).order_by("id"):
            if user.id != owner.id and scope_for(user, "leads.assign") == "team":
                return user
    return first_user_with(permission="leads.assign")


@transaction.atomic
def _hand_on(lead_id: int, now: dt.datetime) -> int:
    lead = (Lead.objects.select_for_update(skip_locked=True)
            .filter(_overdue(now), id=lead_id).first())
    if lead is None:  # touched, handed on or locked by another sweep meanwhile
        return 0
    rule = _rule_of(lead)
    previous = lead.owner_id
    minutes = round(((lead.respond_by or now) - (lead.assigned_at or now)).total_seconds() / 60)
    choice = None
    if rule is not None and rule.active:
        choice = choose_by_rule(rule, exclude={previous} if previous else set())
    names = display_names(user_ids={i for i in (previous, choice and choice.owner_id) if i})
    missed = f"not answered within {minutes} min by {names.get(previous or 0, 'its owner')}"
    new_events: list[NewEvent] = []
    if choice is not None:
        new_events.append(apply_choice(lead, Choice(
            owner_id=choice.owner_id, rule=rule, rule_text=choice.rule_text,
            reason=f"{missed}; {choice.reason}"), actor_id=None, now=now))
        lead.reassignments += 1
    else:
        lead.respond_by = None  # nobody else is free: it stays, and the manager is told once
    lead.version += 1
    lead.save(update_fields=[*ASSIGNMENT_FIELDS, "reassignments", "version", "updated_at"])
    manager = manager_for(owner_id=previous, rule=rule)
    if manager is not None:
        names[manager.id] = manager.display_name
        _tell(manager, lead, missed, names.get(lead.owner_id or 0, "") if choice else "", now)
    new_events.append(events.lead_first_response_missed(
        lead_id=lead.id, owner_id=previous, minutes=minutes,
        reassigned_to=choice.owner_id if choice else None,
        manager_id=manager.id if manager is not None else None, names=names))
    record_events(new_events)
    return 1 if choice is not None else 0


def _tell(manager: Any, lead: Lead, missed: str, new_owner: str, now: dt.datetime) -> None:
    """A high-priority task for the manager, due now, reminding at once: the bell and the
    reminder email (through the activities worker)."""
    outcome = f"handed to {new_owner}" if new_owner else "nobody else was free, so it stays"
    activities.task_create(actor=manager, data={
        "title": f"Lead {lead} {missed}"[:200],
        "notes": f"{outcome}. {reverse('lead_detail', args=[lead.id])}",
        "due_at": now, "remind_before": 0, "priority": "high"})
