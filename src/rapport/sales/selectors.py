"""Reads for leads, deals and the sales settings, always through ``restrict``.

A lead is its owner's (and their team's, for managers); unassigned leads are seen by those
whose scope is "all". Rules and forms are shared settings: everyone may read them, the owner
role changes them (``settings.change``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet, Sum
from django.utils import timezone

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
    DealLine,
    Lead,
    LeadScoringRule,
    Pipeline,
    RepAvailability,
    Stage,
    StageChange,
    Territory,
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


DEAL_STATUSES = ("open", "won", "lost")


def _deal_filters(user: Any, queryset: QuerySet[Deal], params: dict[str, Any]
                  ) -> tuple[QuerySet[Deal], tuple[str, ...]]:
    """owner (an id or "me"), stage, pipeline, territory, status (open, won or lost)."""
    lead: tuple[str, ...] = ()
    if params.get("owner") == "me":
        queryset, lead = queryset.filter(owner_id=user.id), ("owner_id",)
    elif params.get("owner"):
        queryset, lead = queryset.filter(
            owner_id=_int_param(params, "owner", "a user id or me")), ("owner_id",)
    stage_id = _int_param(params, "stage", "a stage id")
    if stage_id is not None:
        queryset = queryset.filter(stage_id=stage_id)
    pipeline_id = _int_param(params, "pipeline", "a pipeline id")
    if pipeline_id is not None:
        queryset = queryset.filter(pipeline_id=pipeline_id)
    territory_id = _int_param(params, "territory", "a territory id")
    if territory_id is not None:
        queryset = queryset.filter(territory_id=territory_id)
    status = params.get("status")
    if status == "open":
        queryset = queryset.filter(closed_at__isnull=True)
    elif status == "won":
        queryset = queryset.filter(stage__is_won=True)
    elif status == "lost":
        queryset = queryset.filter(stage__is_lost=True)
    elif status:
        raise ValidationFailed({"status": f"must be one of {', '.join(DEAL_STATUSES)}"})
    return queryset, lead


def deal_list(*, user: Any, params: dict[str, Any] | None = None) -> Page:
    """Newest deals first; filters: owner (an id or "me"), stage, pipeline, territory,
    status (open, won, lost)."""
    params = _clean(params)
    limit = page_limit(params)
    queryset, lead = _deal_filters(user, visible_deals(user), params)
    queryset = queryset.select_related("stage", "pipeline", "owner", "contact", "company",
                                       "territory").prefetch_related(
        Prefetch("lines", queryset=DealLine.objects.select_related("product")))
    fields = ("created_at", "id")
    return page_of(keyset(queryset, fields, True, params.get("cursor"), lead=lead), fields,
                   limit, params)


def deal_get(*, user: Any, deal_id: int) -> Deal:
    deal = (visible_deals(user).select_related("stage", "pipeline", "owner", "contact",
                                               "company", "territory")
            .prefetch_related(Prefetch("lines", queryset=DealLine.objects.select_related(
                "product").order_by("position", "id")))
            .filter(id=deal_id).first())
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


# --- pipeline: the kanban board, pipelines, stage history (issue 10, pipeline) -----------------

BOARD_PAGE = 20  # cards per column on the first render and per "more"
CLOSED_SHOWN_DAYS = 30  # the won and lost columns hold the deals closed this recently


@dataclass
class Total:
    currency: str
    amount: Decimal
    weighted: Decimal


@dataclass
class Column:
    stage: Stage
    count: int
    totals: list[Total]
    page: Page

    @property
    def closed(self) -> bool:
        return self.stage.is_won or self.stage.is_lost


@dataclass
class Board:
    pipeline: Pipeline
    pipelines: list[Pipeline]
    stages: list[Stage]
    columns: list[Column]
    params: dict[str, Any] = field(default_factory=dict)


def pipeline_list() -> list[Pipeline]:
    """Every pipeline with its stages in order (shared settings: everyone reads them)."""
    return list(Pipeline.objects.order_by("-is_default", "name", "id").prefetch_related(
        Prefetch("stages", queryset=Stage.objects.order_by("position"))))


def pipeline_get(*, pipeline_id: int) -> Pipeline:
    pipeline = (Pipeline.objects.prefetch_related(
        Prefetch("stages", queryset=Stage.objects.order_by("position")))
        .filter(id=pipeline_id).first())
    if pipeline is None:
        raise NotFound(f"no pipeline with id {pipeline_id}")
    return pipeline


def stage_get(*, stage_id: int) -> Stage:
    stage = Stage.objects.filter(id=stage_id).first()
    if stage is None:
        raise NotFound(f"no stage with id {stage_id}")
    return stage


def territory_choices(*, limit: int = 500) -> list[Territory]:
    """Territories to filter the board by (read only here; they are set elsewhere)."""
    return list(Territory.objects.order_by("position", "id")[:limit])


def closed_since() -> dt.datetime:
    return timezone.now() - dt.timedelta(days=CLOSED_SHOWN_DAYS)


def board_pipeline(params: dict[str, Any]) -> Pipeline | None:
    """The pipeline the board shows: the one asked for, else the default."""
    pipeline_id = _int_param(params, "pipeline", "a pipeline id")
    if pipeline_id is None:
        return default_pipeline()
    pipeline = Pipeline.objects.filter(id=pipeline_id).first()
    if pipeline is None:
        raise ValidationFailed({"pipeline": f"no pipeline with id {pipeline_id}"})
    return pipeline


def _board_filters(params: dict[str, Any]) -> dict[str, Any]:
    return {k: params[k] for k in ("owner", "territory") if params.get(k)}


def column_totals(*, user: Any, stages: list[Stage], params: dict[str, Any] | None = None
                  ) -> dict[int, tuple[int, list[Total]]]:
    """Each column's deal count and its amounts (and amounts × the stage's probability) per
    currency, in one grouped query."""
    params = _board_filters(_clean(params))
    queryset, _ = _deal_filters(user, visible_deals(user), params)
    open_ids = [s.id for s in stages if not (s.is_won or s.is_lost)]
    closed_ids = [s.id for s in stages if s.is_won or s.is_lost]
    queryset = queryset.filter(Q(stage_id__in=open_ids)
                               | Q(stage_id__in=closed_ids, closed_at__gte=closed_since()))
    rows = (queryset.values("stage_id", "currency").annotate(n=Count("id"), total=Sum("amount"))
            .order_by("stage_id", "currency"))
    probability = {s.id: s.probability for s in stages}
    out: dict[int, tuple[int, list[Total]]] = {s.id: (0, []) for s in stages}
    for row in rows:
        count, totals = out[row["stage_id"]]
        amount = row["total"] or Decimal("0")
        weighted = (amount * probability[row["stage_id"]] / 100).quantize(Decimal("0.01"))
        totals.append(Total(currency=row["currency"], amount=amount, weighted=weighted))
        out[row["stage_id"]] = (count + row["n"], totals)
    return out


def board_column(*, user: Any, stage: Stage, params: dict[str, Any] | None = None) -> Page:
    """One page of a column, newest in the stage first, read in order from the (stage,
    entered) index (one owner's from the (owner, stage, entered) one). A column holds a
    stage's deals only, so even a team that owns few of them walks one stage at most; that
    measured faster than merging each member's list (benchmarks/pipeline_speed.py)."""
    params = _clean(params)
    limit = min(page_limit({"limit": params.get("limit", BOARD_PAGE)}), 100)
    queryset, lead = _deal_filters(user, visible_deals(user).filter(stage_id=stage.id),
                                   _board_filters(params))
    if stage.is_won or stage.is_lost:
        queryset = queryset.filter(closed_at__gte=closed_since())
    fields = ("stage_entered_at", "id")
    queryset = keyset(queryset, fields, True, params.get("cursor"), lead=(*lead, "stage_id"))
    return page_of(queryset.select_related("owner"), fields, limit, params)


def deal_board(*, user: Any, params: dict[str, Any] | None = None) -> Board | None:
    """The kanban board of one pipeline: a column per stage with its count, totals and first
    page of cards. None when there is no pipeline yet."""
    params = _clean(params)
    pipeline = board_pipeline(params)
    if pipeline is None:
        return None
    stages = pipeline_stages(pipeline_id=pipeline.id)
    filters = _board_filters(params)
    totals = column_totals(user=user, stages=stages, params=filters)
    columns = [Column(stage=stage, count=totals[stage.id][0], totals=totals[stage.id][1],
                      page=board_column(user=user, stage=stage, params=filters))
               for stage in stages]
    return Board(pipeline=pipeline, pipelines=list(Pipeline.objects.order_by(
        "-is_default", "name", "id")), stages=stages, columns=columns,
        params={**filters, "pipeline": pipeline.id})


@dataclass
class StageVisit:
    stage: str
    entered_at: dt.datetime | None
    left_at: dt.datetime | None
    seconds: int | None
    moved_by: str = ""

    @property
    def current(self) -> bool:
        return self.left_at is None

    @property
    def duration(self) -> str:
        if self.seconds is None:
            return "—"
        days, rest = divmod(self.seconds, 86400)
        hours, rest = divmod(rest, 3600)
        if days:
            return f"{days} d {hours} h"
        if hours:
            return f"{hours} h {rest // 60} min"
        return f"{rest // 60} min"


def deal_stage_history(*, deal: Deal) -> list[StageVisit]:
    """Each stage the deal has been in, oldest first, with how long it stayed (load the deal
    first: that is the check). The last one is where it is now."""
    changes = list(StageChange.objects.filter(deal_id=deal.id)
                   .select_related("from_stage", "to_stage", "actor")
                   .order_by("changed_at", "id"))
    now = timezone.now()
    if not changes:
        entered = deal.stage_entered_at or deal.created_at
        return [StageVisit(stage=deal.stage.name, entered_at=entered, left_at=None,
                           seconds=int((now - entered).total_seconds()) if entered else None)]
    first = changes[0]
    visits = [StageVisit(stage=first.from_stage.name if first.from_stage else "—",
                         entered_at=deal.created_at, left_at=first.changed_at,
                         seconds=first.seconds_in_stage)]
    for i, change in enumerate(changes):
        after = changes[i + 1] if i + 1 < len(changes) else None
        visits.append(StageVisit(
            stage=change.to_stage.name, entered_at=change.changed_at,
            left_at=after.changed_at if after else None,
            seconds=(after.seconds_in_stage if after else
                     max(int((now - change.changed_at).total_seconds()), 0)),
            moved_by=change.actor.display_name if change.actor else ""))
    return visits


def deal_timeline(*, deal_id: int, limit: int = 50) -> list[Event]:
    """What happened to the deal (load the deal first: that is the check), newest first."""
    rows = list(Event.objects.filter(entity_type="deal", entity_id=deal_id)
                .select_related("actor").order_by("-occurred_at", "-id")[:limit])
    kinds = registry.event_kinds()
    for event in rows:
        kind = kinds.get(event.kind)
        event.kind_label = kind.label if kind else event.kind
        event.template = (kind.timeline if kind and kind.timeline
                          else "contacts/timeline/_other.html")
    return rows


def can_change_deal(user: Any, deal: Deal) -> bool:
    return can(user, "deals.change", deal)


def can_delete_deal(user: Any, deal: Deal) -> bool:
    return can(user, "deals.delete", deal)
