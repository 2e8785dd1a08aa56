"""Capturing leads (the API, web forms and any other source feed :func:`lead_capture`) and
changing them: each write enriches, scores and, when it has no owner yet, assigns the lead in
the same transaction, so a lead is never seen half-done."""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction

from rapport.accounts.selectors import first_user_with
from rapport.core.errors import PermissionDenied, ValidationFailed, VersionConflict
from rapport.core.events import NewEvent, diff, record_events
from rapport.core.inputs import parse
from rapport.core.permissions import can, get_for
from rapport.sales import events
from rapport.sales.inputs import LeadChanges, LeadInput, LeadUpdate
from rapport.sales.models import Lead, OptIn, WebForm
from rapport.sales.selectors import can_add_leads, lead_by_contact_point, scoring_rules
from rapport.sales.services.assignment import (
    ASSIGNMENT_FIELDS,
    Choice,
    apply_choice,
    choose_owner,
)
from rapport.sales.services.enrichment import enrich
from rapport.sales.services.first_response import touched_by
from rapport.sales.services.scoring import CAPTURED, ENRICHED, score, values_of

# What a lead's timeline entry shows of it.
SHOWN = ("name", "email", "phone", "company_name", "country", "source", "utm_source",
         "utm_medium", "utm_campaign", "score", "grade")


@dataclass
class Captured:
    lead: Lead
    created: bool
    ignored_fields: list[str] = field(default_factory=list)


def shown(lead: Lead) -> dict[str, Any]:
    return {name: getattr(lead, name) for name in SHOWN if getattr(lead, name) not in ("", None)}


def _lookup_user() -> Any:
    """Who a company-by-domain lookup asks as: someone who sees every company."""
    return first_user_with(permission="companies.view")


def _qualify(lead: Lead, values: dict[str, Any]) -> None:
    """Enrich the lead's fields and score it, in place."""
    facts = enrich(values, lookup_user=_lookup_user())
    for name in (*CAPTURED, *ENRICHED):
        if name in facts.values:
            setattr(lead, name, facts.values[name])
    if not lead.email:
        lead.email_domain, lead.free_mail = "", False
    lead.enriched_by = sorted(set(lead.enriched_by or []) | set(facts.found_by))
    scored = score(values_of(lead), scoring_rules(active_only=True))
    lead.score, lead.grade, lead.score_reasons = scored.score, scored.grade, scored.reasons


def _needs_contact_point(entry: Any) -> None:
    if not entry.email and not entry.phone:
        raise ValidationFailed({"email": "an email or a phone number is required",
                                "phone": "an email or a phone number is required"})


def lead_capture(*, actor: Any, data: LeadInput | Mapping[str, Any],
                 web_form: WebForm | None = None,
                 ignored_fields: Iterable[str] = (), hold_for_opt_in: bool = False) -> Captured:
    """A lead from any source. A known email or phone updates that lead (``created`` False)
    and says so on its timeline; a new one is enriched, scored and assigned by the rules.

    ``actor`` is None for the public web form (the lead is the system's until assigned).
    ``hold_for_opt_in`` (a double opt-in form): a new lead waits, unassigned, with
    ``opt_in`` "pending" and a token, until the person confirms (services/opt_in.py).
    """
    entry = parse(LeadInput, data)
    _needs_contact_point(entry)
    if actor is not None and not can_add_leads(actor):
        raise PermissionDenied("you may not add leads")
    ignored = sorted(set(ignored_fields))
    for _attempt in range(3):
        try:
            with transaction.atomic():
                return _capture(actor, entry, web_form, ignored, hold_for_opt_in)
        except IntegrityError:
            # Someone captured the same address a moment ago: update theirs instead.
            continue
    raise ValidationFailed({"email": "is being captured by another request; try again"})


def _capture(actor: Any, entry: LeadInput, web_form: WebForm | None,
             ignored: list[str], hold_for_opt_in: bool = False) -> Captured:
    actor_id = actor.id if actor is not None else None
    given = {k: v for k, v in entry.model_dump().items() if v not in ("", None)}
    existing = lead_by_contact_point(email=entry.email, phone=entry.phone)
    if existing is not None:
        lead = Lead.objects.select_for_update().get(id=existing.id)
        before = values_of(lead)
        _qualify(lead, {**before, **given})
        lead.submissions += 1
        lead.version += 1
        lead.save()
        new_events: list[NewEvent] = []
        # A lead waiting for its double opt-in is assigned when it is confirmed.
        if lead.owner_id is None and lead.is_open and lead.opt_in != OptIn.PENDING:
            new_events.append(apply_choice(lead, choose_owner(values_of(lead)),
                                           actor_id=actor_id))
            lead.save(update_fields=ASSIGNMENT_FIELDS)
        old, new = diff(before, values_of(lead))
        new_events.insert(0, events.lead_resubmitted(
            lead_id=lead.id, actor_id=actor_id, before=old,
            after={**new, "submissions": lead.submissions, "ignored_fields": ignored,
                   "form": web_form.name if web_form else ""}))
        record_events(new_events)
        return Captured(lead=lead, created=False, ignored_fields=ignored)
    lead = Lead(web_form=web_form)
    _qualify(lead, dict(given))
    if hold_for_opt_in:
        lead.opt_in, lead.opt_in_token = OptIn.PENDING, secrets.token_urlsafe(32)
    with transaction.atomic():  # a savepoint: a duplicate address is retried as an update
        lead.save()
    if hold_for_opt_in:
        record_events([events.lead_captured(
            lead_id=lead.id, actor_id=actor_id,
            shown={**shown(lead), "ignored_fields": ignored, "enriched_by": lead.enriched_by,
                   "form": web_form.name if web_form else "", "opt_in": OptIn.PENDING})])
        return Captured(lead=lead, created=True, ignored_fields=ignored)
    choice: Choice = choose_owner(values_of(lead))
    assigned = apply_choice(lead, choice, actor_id=actor_id)
    lead.save(update_fields=ASSIGNMENT_FIELDS)
    record_events([events.lead_captured(
        lead_id=lead.id, actor_id=actor_id,
        shown={**shown(lead), "ignored_fields": ignored, "enriched_by": lead.enriched_by,
               "form": web_form.name if web_form else ""}), assigned])
    return Captured(lead=lead, created=True, ignored_fields=ignored)


@transaction.atomic
def lead_update(*, actor: Any, lead_id: int, version: int | None,
                changes: LeadChanges | Mapping[str, Any]) -> Lead:
    """Change some fields (a stale ``version`` is 409); the lead is enriched and scored again
    at once, and a new owner is logged as assigned by hand."""
    lead = get_for(actor, "change", Lead.objects.filter(deleted_at__isnull=True), lead_id,
                   noun="lead")
    editable = tuple(LeadUpdate.model_fields)
    before = {name: getattr(lead, name) for name in editable}
    if version is None:
        raise ValidationFailed({"version": "is required (the version you last read)"})
    if version != lead.version:
        raise VersionConflict(current={**before, "version": lead.version},
                              current_version=lead.version, given_version=version)
    given = parse(LeadChanges, changes if not isinstance(changes, Mapping)
                  else {**changes, "version": version}).model_dump(exclude_unset=True)
    given.pop("version", None)
    if not lead.is_open:
        raise ValidationFailed({"status": f"the lead is {lead.status}; it can no longer change"})
    merged = parse(LeadUpdate, {**before, **{k: v for k, v in given.items() if v is not None}})
    _needs_contact_point(merged)
    after = merged.model_dump()
    old, new = diff(before, after)
    if not new:
        return lead
    new_events: list[NewEvent] = []
    if "owner_id" in new:
        if not can(actor, "leads.assign", lead) or \
                not can(actor, "leads.assign", owner_id=new["owner_id"]):
            raise PermissionDenied("you may not hand this lead to that person")
        new_events.append(apply_choice(lead, Choice(
            owner_id=new["owner_id"], rule=None, rule_text="by hand",
            reason=f"reassigned by {actor.display_name}"), actor_id=actor.id))
    if "status" in new:
        touched_by(lead, actor_id=actor.id)
    for name, value in new.items():
        if name != "owner_id":
            setattr(lead, name, value)
    if "email" in new:  # found again from the new address
        lead.matched_company_id = None
    _qualify(lead, values_of(lead))
    lead.version += 1
    lead.save()
    new_events.insert(0, events.lead_updated(lead_id=lead.id, actor_id=actor.id, before=old,
                                             after={**new, "score": lead.score,
                                                    "grade": lead.grade}))
    record_events(new_events)
    return lead
