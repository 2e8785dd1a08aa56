"""Reads for leads, deals and the sales settings, always through ``restrict``.

A lead is its owner's (and their team's, for managers); unassigned leads are seen by those
whose scope is "all". Rules and forms are shared settings: everyone may read them, the owner
role changes them (``settings.change``).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import Count, QuerySet

from rapport.accounts.selectors import all_users, display_names
from rapport.core import registry
from rapport.core.errors import NotFound, ValidationFailed
from rapport.core.models import Event
from rapport.core.pagination import Page, keyset, page_limit, page_of
from rapport.core.permissions import can, scope_for
from rapport.sales.models import (
    GRADES,
    LEAD_STATUSES,
    OPEN_STATUSES,
    AssignmentLog,
    AssignmentRule,
    Deal,
    Lead,
    LeadScoringRule,
    Pipeline,
    RepAvailability,
    Stage,
    TrainedModel,
    WebForm,
)


def _clean(params: dict[str, Any] | None) -> dict[str, Any]:
    return {k: v for k, v in (params or {}).items() if v not in (None, "")}


def _int_param(params: dict[str, Any], name: str, what: str) -> int | None:
    if params.get(name) in (None, ""):
        return None
    try:
        value = int(params[name])
    except (TypeError, ValueError):
        raise ValidationFailed({name: f"must be {what}"}) from None
    if not 0 < value < 2**63:
        raise ValidationFailed({name: f"must be {what}"})
    return value


def visible_leads(user: Any, action: str = "view") -> QuerySet[Lead]:
    return Lead.objects.restrict(user, action).filter(deleted_at__isnull=True)


# --- leads -------------------------------------------------------------------------------------

def lead_list(*, user: Any, params: dict[str, Any] | None = None) -> Page:
    """Newest leads first; filters: status, owner (an id or "none"), grade, source, q."""
    params = _clean(params)
    limit = page_limit(params)
    queryset = visible_leads(user).select_related("owner")
    status = params.get("status")
    if status:
        if status == "open":
            queryset = queryset.filter(status__in=OPEN_STATUSES)
        elif status not in LEAD_STATUSES:
            raise ValidationFailed({"status": f"must be one of open, {', '.join(LEAD_STATUSES)}"})
        else:
            queryset = queryset.filter(status=status)
    owner = params.get("owner")
    lead: tuple[str, ...] = ()
    if owner == "none":
        queryset = queryset.filter(owner__isnull=True)
    elif owner == "me":
        queryset, lead = queryset.filter(owner_id=user.id), ("owner_id",)
    elif owner:
        owner_id = _int_param(params, "owner", "a user id, me or none")
        queryset, lead = queryset.filter(owner_id=owner_id), ("owner_id",)
    grade = params.get("grade")
    if grade:
        if str(grade).upper() not in GRADES:
            raise ValidationFailed({"grade": f"must be one of {', '.join(GRADES)}"})
        queryset = queryset.filter(grade=str(grade).upper())
    if params.get("source"):
        queryset = queryset.filter(source=str(params["source"])[:50])
    if params.get("q"):
        q = str(params["q"]).strip()[:200]
        queryset = queryset.filter(name__icontains=q) | queryset.filter(email__icontains=q) \
            | queryset.filter(company_name__icontains=q)
    fields = ("created_at", "id")
    return page_of(keyset(queryset, fields, True, params.get("cursor"), lead=lead), fields,
                   limit, params)


def lead_get(*, user: Any, lead_id: int) -> Lead:
    lead = visible_leads(user).select_related("owner", "web_form").filter(id=lead_id).first()
    if lead is None:
        raise NotFound(f"no lead with id {lead_id}")
    return lead


def lead_sources(*, user: Any, limit: int = 100) -> list[str]:
    return list(visible_leads(user).exclude(source="").order_by("source")
                .values_list("source", flat=True).distinct()[:limit])


def lead_assignments(*, lead_id: int, limit: int = 50) -> list[AssignmentLog]:
    """The lead's assignment log, newest first (load the lead first: that is the check)."""
    return list(AssignmentLog.objects.filter(lead_id=lead_id).select_related("owner", "actor")
                .order_by("-id")[:limit])


def lead_timeline(*, lead_id: int, limit: int = 100) -> list[Event]:
    """What happened to the lead (load the lead first: that is the check), newest first."""
    rows = list(Event.objects.filter(entity_type="lead", entity_id=lead_id)
                .select_related("actor").order_by("-occurred_at", "-id")[:limit])
    kinds = registry.event_kinds()
    owners = {row.after.get("owner_id") for row in rows if isinstance(row.after, dict)}
    names = display_names(user_ids={o for o in owners if o})
    for event in rows:
        kind = kinds.get(event.kind)
        event.kind_label = kind.label if kind else event.kind
        event.template = (kind.timeline if kind and kind.timeline
                          else "contacts/timeline/_other.html")
        if isinstance(event.after, dict) and event.after.get("owner_id"):
            event.after["owner_name"] = names.get(event.after["owner_id"], "")
    return rows


def can_convert(user: Any, lead: Lead) -> bool:
    return lead.is_open and can(user, "leads.convert", lead)


def can_change_lead(user: Any, lead: Lead) -> bool:
    return can(user, "leads.change", lead)


def can_add_leads(user: Any) -> bool:
    return scope_for(user, "leads.add") == "all"


def lead_by_contact_point(*, email: str, phone: str) -> Lead | None:
    """The live lead with this email, else this phone (whoever can see it: a lead is
    one per person across the business, and capture must find it to update it)."""
    live = Lead.objects.filter(deleted_at__isnull=True)
    if email:
        found = live.filter(email=email).order_by("id").first()
        if found is not None:
            return found
    if phone:
        return live.filter(phone=phone).order_by("id").first()
    return None


def open_lead_counts(*, user_ids: list[int]) -> dict[int, int]:
    """How many open leads each of these reps holds now."""
    rows = (Lead.objects.filter(owner_id__in=user_ids, status__in=OPEN_STATUSES,
                                deleted_at__isnull=True)
            .values("owner_id").annotate(n=Count("id")).values_list("owner_id", "n"))
    counts = {user_id: 0 for user_id in user_ids}
    counts.update(dict(rows))
    return counts


# --- settings: scoring, assignment, forms -------------------------------------------------------

def scoring_rules(*, active_only: bool = False) -> list[LeadScoringRule]:
    rules = LeadScoringRule.objects.order_by("id")
    return list(rules.filter(active=True) if active_only else rules)


def assignment_rules(*, active_only: bool = False) -> list[AssignmentRule]:
    rules = AssignmentRule.objects.select_related("team", "user").order_by("position", "id")
    return list(rules.filter(active=True) if active_only else rules)


def out_of_office_ids() -> set[int]:
    return set(RepAvailability.objects.filter(out_of_office=True)
               .values_list("user_id", flat=True))


def web_forms() -> list[WebForm]:
    return list(WebForm.objects.order_by("name", "id"))


def web_form_by_key(*, key: str) -> WebForm:
    form = WebForm.objects.filter(key=key[:32], active=True).first()
    if form is None:
        raise NotFound("no such form")
    return form


def web_form_get(*, form_id: int) -> WebForm:
    form = WebForm.objects.filter(id=form_id).first()
    if form is None:
        raise NotFound(f"no form with id {form_id}")
    return form


# --- pipeline and deals ------------------------------------------------------------------------

def default_pipeline() -> Pipeline | None:
    return Pipeline.objects.filter(is_default=True).first() or \
        Pipeline.objects.order_by("id").first()


def pipeline_stages(*, pipeline_id: int) -> list[Stage]:
    return list(Stage.objects.filter(pipeline_id=pipeline_id).order_by("position"))


def visible_deals(user: Any, action: str = "view") -> QuerySet[Deal]:
    return Deal.objects.restrict(user, action).filter(deleted_at__isnull=True)


def deal_list(*, user: Any, params: dict[str, Any] | None = None) -> Page:
    """Newest deals first; filters: owner (an id or "me"), stage."""
    params = _clean(params)
    limit = page_limit(params)
    queryset = visible_deals(user).select_related("stage", "pipeline", "owner", "contact",
                                                  "company")
    lead: tuple[str, ...] = ()
    if params.get("owner") == "me":
        queryset, lead = queryset.filter(owner_id=user.id), ("owner_id",)
    elif params.get("owner"):
        queryset, lead = queryset.filter(
            owner_id=_int_param(params, "owner", "a user id or me")), ("owner_id",)
    stage_id = _int_param(params, "stage", "a stage id")
    if stage_id is not None:
        queryset = queryset.filter(stage_id=stage_id)
    fields = ("created_at", "id")
    return page_of(keyset(queryset, fields, True, params.get("cursor"), lead=lead), fields,
                   limit, params)


def deal_get(*, user: Any, deal_id: int) -> Deal:
    deal = (visible_deals(user).select_related("stage", "pipeline", "owner", "contact",
                                               "company").filter(id=deal_id).first())
    if deal is None:
        raise NotFound(f"no deal with id {deal_id}")
    return deal


def _overlap(a: list[str], b: list[str], *, prefix: bool = False) -> bool:
    if not a or not b:
        return True
    if prefix:
        return any(x.startswith(y) or y.startswith(x) for x in a for y in b)
    return bool(set(a) & set(b))


def rule_overlaps(rules: list[AssignmentRule]) -> dict[int, list[str]]:
    """For each rule, the earlier rules that can match the same leads (those win)."""
    out: dict[int, list[str]] = {}
    for i, rule in enumerate(rules):
        out[rule.id] = [
            earlier.name for earlier in rules[:i]
            if _overlap(rule.countries, earlier.countries)
            and _overlap(rule.postcode_prefixes, earlier.postcode_prefixes, prefix=True)
            and _overlap(rule.industries, earlier.industries)
            and _overlap(rule.company_sizes, earlier.company_sizes)]
    return out


def reps_with_availability() -> list[dict[str, Any]]:
    """Active users who can hold leads, with their out-of-office flag and open leads."""
    away = out_of_office_ids()
    users = [u for u in all_users().filter(is_active=True)
             if scope_for(u, "leads.change") is not None]
    counts = open_lead_counts(user_ids=[u.id for u in users])
    return [{"user": u, "away": u.id in away, "open": counts.get(u.id, 0)} for u in users]


# --- mlscore: the learned lead score and deal win probability ---------------------------------

def learned_model(*, kind: str) -> dict[str, Any]:
    """The newest training attempt of ``kind`` (ready or the message saying why not) and the
    newest ready model (the one that scores). Shared settings: anyone may read them."""
    attempts = TrainedModel.objects.filter(kind=kind).defer("artifact")
    return {"latest": attempts.order_by("-trained_at", "-id").first(),
            "current": attempts.filter(ready=True).order_by("-trained_at", "-id").first()}


def min_outcomes() -> int:
    """Fewest converted and disqualified leads (won and lost deals) a model is trained on."""
    return int(getattr(settings, "RAPPORT_ML_MIN_OUTCOMES", 30))
