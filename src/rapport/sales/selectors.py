"""Reads for leads, deals and the sales settings, always through ``restrict``.

A lead is its owner's (and their team's, for managers); unassigned leads are seen by those
whose scope is "all". Rules and forms are shared settings: everyone may read them, the owner
role changes them (``settings.change``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db.models import (
    Case,
    Count,
    F,
    FloatField,
    IntegerField,
    Prefetch,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce
from django.utils import timezone

from rapport.accounts.selectors import all_users, display_names, team_list
from rapport.activities.selectors import outbound_email_states
from rapport.core import registry
from rapport.core.errors import NotFound, ValidationFailed
from rapport.core.models import Event
from rapport.core.pagination import Page, id_param, keyset, page_limit, page_of
from rapport.core.permissions import can, scope_for, visible_owners
from rapport.orders.selectors import monthly_revenue
from rapport.sales.models import (
    GRADES,
    LEAD_STATUSES,
    OPEN_STATUSES,
    AssignmentLog,
    AssignmentRule,
    Deal,
    DealLine,
    Enrollment,
    Goal,
    Lead,
    LeadScoringRule,
    Pipeline,
    RepAvailability,
    Sequence,
    SequenceStep,
    Stage,
    StageChange,
    StepRun,
    Territory,
    TrainedModel,
    WebForm,
)


def _clean(params: dict[str, Any] | None) -> dict[str, Any]:
    return {k: v for k, v in (params or {}).items() if v not in (None, "")}


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
        owner_id = id_param(params, "owner", "a user id, me or none")
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
    # With what became of the emails its sequences sent (sequences: queued, sent, failed).
    emails = StepRun.objects.filter(enrollment__lead_id=lead_id,
                                    outbound_email_id__isnull=False).values("outbound_email_id")
    rows = list(Event.objects.filter(Q(entity_type="lead", entity_id=lead_id)
                                     | Q(entity_type="outbound_email", entity_id__in=emails))
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
    rules = AssignmentRule.objects.select_related("team", "user", "territory").order_by(
        "position", "id")
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
            owner_id=id_param(params, "owner", "a user id or me")), ("owner_id",)
    stage_id = id_param(params, "stage", "a stage id")
    if stage_id is not None:
        queryset = queryset.filter(stage_id=stage_id)
    pipeline_id = id_param(params, "pipeline", "a pipeline id")
    if pipeline_id is not None:
        queryset = queryset.filter(pipeline_id=pipeline_id)
    territory_id = id_param(params, "territory", "a territory id")
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
            if (rule.territory_id is None or earlier.territory_id is None
                or rule.territory_id == earlier.territory_id)
            and _overlap(rule.product_lines, earlier.product_lines)
            and _overlap(rule.countries, earlier.countries)
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


# --- sequences (nurturing) ---------------------------------------------------------------------

def visible_sequences(user: Any, action: str = "view") -> QuerySet[Sequence]:
    return Sequence.objects.restrict(user, action)


def sequence_list(*, user: Any, params: dict[str, Any] | None = None) -> Page:
    """Newest first, with how many steps and active enrollments each has; filters: active
    ("true"/"false"), q (in the name)."""
    params = _clean(params)
    limit = page_limit(params)
    queryset = visible_sequences(user).annotate(
        step_count=Count("steps", distinct=True),
        active_count=Count("enrollments", filter=Q(enrollments__status="active"),
                           distinct=True))
    active = str(params.get("active", "")).lower()
    if active:
        if active not in ("true", "false"):
            raise ValidationFailed({"active": "must be true or false"})
        queryset = queryset.filter(active=active == "true")
    if params.get("q"):
        queryset = queryset.filter(name__icontains=str(params["q"]).strip()[:100])
    fields = ("created_at", "id")
    return page_of(keyset(queryset, fields, True, params.get("cursor"))
                   .prefetch_related("steps"), fields, limit, params)


def sequence_get(*, user: Any, sequence_id: int) -> Sequence:
    sequence = visible_sequences(user).filter(id=sequence_id).first()
    if sequence is None:
        raise NotFound(f"no sequence with id {sequence_id}")
    return sequence


def sequence_steps(*, sequence_id: int) -> list[SequenceStep]:
    """A sequence's steps in order (load the sequence first: that is the check)."""
    return list(SequenceStep.objects.filter(sequence_id=sequence_id)
                .select_related("template").order_by("position"))


def sequence_choices(*, user: Any) -> list[Sequence]:
    """The active sequences a lead may be enrolled in, by name."""
    return list(visible_sequences(user).filter(active=True).order_by("name", "id")[:200])


@dataclass(frozen=True)
class RunShown:
    run: StepRun
    position: int | None
    email: dict[str, Any] | None  # where the step's email is on its way out


@dataclass(frozen=True)
class EnrollmentShown:
    """An enrollment as the lead page shows it: its sequence's steps, the next, the runs."""

    enrollment: Enrollment
    steps: list[SequenceStep]
    next_step: SequenceStep | None
    runs: list[RunShown]


def lead_enrollments(*, lead_id: int, limit: int = 20) -> list[EnrollmentShown]:
    """The lead's enrollments, active first then newest (load the lead first: that is the
    check)."""
    rows = list(Enrollment.objects.filter(lead_id=lead_id).select_related("sequence")
                .order_by(Case(When(status="active", then=0), default=1), "-id")[:limit])
    steps: dict[int, list[SequenceStep]] = {}
    for step in SequenceStep.objects.filter(
            sequence_id__in={e.sequence_id for e in rows}).order_by("position"):
        steps.setdefault(step.sequence_id, []).append(step)
    runs: dict[int, list[StepRun]] = {}
    for run in StepRun.objects.filter(enrollment__in=rows).order_by("ran_at", "id"):
        runs.setdefault(run.enrollment_id, []).append(run)
    states = outbound_email_states(email_ids={r.outbound_email_id for rs in runs.values()
                                              for r in rs if r.outbound_email_id})
    out = []
    for enrollment in rows:
        mine = steps.get(enrollment.sequence_id, [])
        positions = {s.id: s.position for s in mine}
        upcoming = next((s for s in mine if s.position == enrollment.next_position), None) \
            if enrollment.status == "active" else None
        out.append(EnrollmentShown(enrollment=enrollment, steps=mine, next_step=upcoming, runs=[
            RunShown(run=run, position=positions.get(run.step_id),
                     email=states.get(run.outbound_email_id or 0))
            for run in runs.get(enrollment.id, [])]))
    return out


# --- capture: double opt-in, inbound email ------------------------------------------------------

def lead_by_opt_in_token(*, token: str) -> Lead:
    """The lead a confirmation link is for (the public page: the token is the only key)."""
    lead = None
    if token and len(token) <= 64:
        lead = Lead.objects.filter(opt_in_token=token, deleted_at__isnull=True).first()
    if lead is None:
        raise NotFound("this confirmation link is not valid (it may have been mistyped, or "
                       "the request was removed)")
    return lead


def open_leads_by_email(*, emails: set[str]) -> dict[str, int]:
    """email → id of the live, open lead with that address (to update it from new mail)."""
    if not emails:
        return {}
    return dict(Lead.objects.filter(email__in=emails, deleted_at__isnull=True,
                                    status__in=OPEN_STATUSES).values_list("email", "id"))


def leads_by_contact_points(*, emails: set[str], phones: set[str]) -> dict[tuple[str, str], Lead]:
    """Live leads by ("email", address) and ("phone", number), in bulk (an import's batch)."""
    live = Lead.objects.filter(deleted_at__isnull=True).order_by("id")
    found: dict[tuple[str, str], Lead] = {}
    if emails:
        for lead in live.filter(email__in=emails):
            found.setdefault(("email", lead.email), lead)
    if phones:
        for lead in live.filter(phone__in=phones):
            found.setdefault(("phone", lead.phone), lead)
    return found


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
    pipeline_id = id_param(params, "pipeline", "a pipeline id")
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


# --- territories (territory branch) ------------------------------------------------------------

def territories() -> list[Territory]:
    """Every territory in the order that decides where two overlap, with members and manager."""
    return list(Territory.objects.select_related("manager").prefetch_related("members")
                .order_by("position", "id"))


def territory_rules() -> list[Territory]:
    """Every territory's rules in order, and nothing else: what matching a lead needs."""
    return list(Territory.objects.only(
        "id", "name", "position", "countries", "regions", "postcode_prefixes", "industries",
        "company_sizes", "manager_id").order_by("position", "id"))


def territory_list(*, user: Any, params: dict[str, Any] | None = None) -> Page:
    """Territories by position (shared settings: everyone signed in reads them)."""
    params = _clean(params)
    limit = page_limit(params)
    queryset = Territory.objects.select_related("manager").prefetch_related("members")
    if params.get("q"):
        queryset = queryset.filter(name__icontains=str(params["q"]).strip()[:100])
    member = id_param(params, "member", "a user id")
    if member is not None:
        queryset = queryset.filter(members__id=member)
    fields = ("position", "id")
    return page_of(keyset(queryset, fields, False, params.get("cursor")), fields, limit, params)


def territory_get(*, territory_id: int) -> Territory:
    territory = (Territory.objects.select_related("manager").prefetch_related("members")
                 .filter(id=territory_id).first())
    if territory is None:
        raise NotFound(f"no territory with id {territory_id}")
    return territory


@dataclass(frozen=True)
class Overlap:
    """Two territories whose rules can both match one lead: the one higher up wins there."""

    winner_id: int
    loser_id: int
    where: str  # "leads in SE with postcode 9…"
    shadowed: bool  # the winner takes every lead the loser would match
    message: str


def _common(a: list[str], b: list[str]) -> list[str] | None:
    """What both lists accept (None: nothing; [] : anything)."""
    if not a or not b:
        return list(a or b)
    both = [x for x in a if x in b]
    return both or None


def _common_prefixes(a: list[str], b: list[str]) -> list[str] | None:
    if not a or not b:
        return list(a or b)
    both = sorted({x if len(x) >= len(y) else y for x in a for y in b
                   if x.startswith(y) or y.startswith(x)})
    return both or None


def _covers(wide: list[str], narrow: list[str], *, prefix: bool = False) -> bool:
    """Every value ``narrow`` accepts, ``wide`` accepts too."""
    if not wide:
        return True
    if not narrow:
        return False
    if prefix:
        return all(any(n.startswith(w) for w in wide) for n in narrow)
    return set(narrow) <= set(wide)


DIMENSIONS = (("countries", False), ("regions", False), ("postcode_prefixes", True),
              ("industries", False), ("company_sizes", False))


def _where(common: dict[str, list[str]]) -> str:
    parts = []
    if common["countries"]:
        parts.append(f"in {', '.join(common['countries'])}")
    if common["regions"]:
        parts.append(f"in region {', '.join(common['regions'])}")
    if common["postcode_prefixes"]:
        parts.append(f"with postcode {', '.join(p + '…' for p in common['postcode_prefixes'])}")
    if common["industries"]:
        parts.append(f"in {', '.join(common['industries'])}")
    if common["company_sizes"]:
        parts.append(f"of size {', '.join(common['company_sizes'])}")
    return "leads " + " ".join(parts) if parts else "every lead"


def territory_overlaps(items: list[Territory]) -> list[Overlap]:
    """Each pair of territories that can match the same lead, in order: the one with the lower
    position wins those leads (overlapping is allowed; the order decides)."""
    out = []
    for i, later in enumerate(items):
        for earlier in items[:i]:
            common: dict[str, list[str]] = {}
            for name, prefix in DIMENSIONS:
                a, b = getattr(earlier, name) or [], getattr(later, name) or []
                both = _common_prefixes(a, b) if prefix else _common(a, b)
                if both is None:
                    break
                common[name] = both
            else:
                shadowed = all(_covers(getattr(earlier, name) or [], getattr(later, name) or [],
                                       prefix=prefix) for name, prefix in DIMENSIONS)
                where = _where(common)
                message = (f"{earlier.name} (position {earlier.position}) wins over "
                           f"{later.name} for {where}")
                if shadowed:
                    message += f": {later.name} never gets a lead while it is below"
                out.append(Overlap(winner_id=earlier.id, loser_id=later.id, where=where,
                                   shadowed=shadowed, message=message))
    return out


def assignment_rule_list(*, params: dict[str, Any] | None = None) -> Page:
    """Assignment rules in the order they are tried (shared settings)."""
    params = _clean(params)
    limit = page_limit(params)
    queryset = AssignmentRule.objects.select_related("territory")
    fields = ("position", "id")
    return page_of(keyset(queryset, fields, False, params.get("cursor")), fields, limit, params)


def assignment_rule_get(*, rule_id: int) -> AssignmentRule:
    rule = AssignmentRule.objects.select_related("territory").filter(id=rule_id).first()
    if rule is None:
        raise NotFound(f"no assignment rule with id {rule_id}")
    return rule


# --- goals and the forecast (issue 10: forecast) -----------------------------------------------
#
# Money here is summed in the database and handled as floats for the maths (weights are
# probabilities); pages round it to whole units. Only one currency is summed at a time: deals
# and goals in another currency are counted aside, never converted (there are no rates).

COMMIT_PROBABILITY = 75  # percent: an open deal in a stage at least this likely is committed
FORECAST_MONTHS = 6
REVENUE_HISTORY_MONTHS = 36
REVENUE_AHEAD = 6
REVENUE_BACKTEST_HORIZON = 3  # months per backtest cut; two cuts cover the last six months
REVENUE_BACKTEST_WINDOWS = 2
REVENUE_MIN_MONTHS = 13  # ten to fit on and three to test against
PERIODS = ("month", "quarter")


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def add_months(day: dt.date, n: int) -> dt.date:
    years, month = divmod(day.month - 1 + n, 12)
    return dt.date(day.year + years, month + 1, 1)


def quarter_start(day: dt.date) -> dt.date:
    return dt.date(day.year, (day.month - 1) // 3 * 3 + 1, 1)


def period_bounds(period: str, day: dt.date) -> tuple[dt.date, dt.date]:
    """The first day of the month or quarter holding ``day`` and the first day after it."""
    start = quarter_start(day) if period == "quarter" else month_start(day)
    return start, add_months(start, 3 if period == "quarter" else 1)


def period_label(period: str, start: dt.date) -> str:
    if period == "quarter":
        return f"Q{(start.month - 1) // 3 + 1} {start.year}"
    return f"{start:%B %Y}"


def _aware(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


# --- goals -------------------------------------------------------------------------------------

def visible_goals(user: Any, action: str = "view") -> QuerySet[Goal]:
    return Goal.objects.restrict(user, action)


def may_set_goal(user: Any, *, user_id: int | None, team_id: int | None,
                 territory_id: int | None) -> bool:
    """May ``user`` set a goal for this target (the same scopes ``restrict`` applies)?"""
    scope = scope_for(user, "goals.change")
    if scope == "all":
        return True
    if scope is None or territory_id is not None:
        return False
    if user_id is not None:
        return can(user, "goals.change", owner_id=user_id)
    return team_id is not None and team_id == user.team_id


def can_set_goals(user: Any) -> bool:
    return scope_for(user, "goals.change") is not None


def goal_target_label(*, user_id: int | None, team_id: int | None,
                      territory_id: int | None) -> str:
    if user_id is not None:
        return display_names(user_ids=[user_id]).get(user_id, f"user {user_id}")
    if team_id is not None:
        team = team_list().filter(id=team_id).first()
        return f"team {team.name}" if team else f"team {team_id}"
    if territory_id is not None:
        territory = Territory.objects.filter(id=territory_id).first()
        return f"territory {territory.name}" if territory else f"territory {territory_id}"
    return "the whole business"


def _date_param(params: dict[str, Any], name: str) -> dt.date | None:
    if params.get(name) in (None, ""):
        return None
    try:
        return dt.date.fromisoformat(str(params[name]))
    except ValueError:
        raise ValidationFailed({name: "must be a date (YYYY-MM-DD)"}) from None


def goal_list(*, user: Any, params: dict[str, Any] | None = None) -> Page:
    """Latest periods first; filters: period, target (business, user, team, territory), user
    (an id or "me"), team, territory, starts_from, starts_until (dates)."""
    params = _clean(params)
    limit = page_limit(params)
    queryset = visible_goals(user).select_related("user", "team", "territory")
    period = params.get("period")
    if period:
        if period not in PERIODS:
            raise ValidationFailed({"period": "must be month or quarter"})
        queryset = queryset.filter(period=period)
    target = params.get("target")
    if target:
        kinds = {"business": Q(user__isnull=True, team__isnull=True, territory__isnull=True),
                 "user": Q(user__isnull=False), "team": Q(team__isnull=False),
                 "territory": Q(territory__isnull=False)}
        if target not in kinds:
            raise ValidationFailed({"target": f"must be one of {', '.join(kinds)}"})
        queryset = queryset.filter(kinds[target])
    if params.get("user") == "me":
        queryset = queryset.filter(user_id=user.id)
    elif params.get("user"):
        queryset = queryset.filter(user_id=id_param(params, "user", "a user id or me") or 0)
    team_id = id_param(params, "team", "a team id")
    if team_id is not None:
        queryset = queryset.filter(team_id=team_id)
    territory_id = id_param(params, "territory", "a territory id")
    if territory_id is not None:
        queryset = queryset.filter(territory_id=territory_id)
    starts_from = _date_param(params, "starts_from")
    if starts_from is not None:
        queryset = queryset.filter(starts_on__gte=starts_from)
    starts_until = _date_param(params, "starts_until")
    if starts_until is not None:
        queryset = queryset.filter(starts_on__lte=starts_until)
    fields = ("starts_on", "id")
    return page_of(keyset(queryset, fields, True, params.get("cursor")), fields, limit, params)


def goal_get(*, user: Any, goal_id: int) -> Goal:
    goal = visible_goals(user).select_related("user", "team", "territory").filter(
        id=goal_id).first()
    if goal is None:
        raise NotFound(f"no goal with id {goal_id}")
    return goal


def goal_form_choices(user: Any) -> dict[str, list[Any]]:
    """Whom ``user`` may set goals for: reps (their team's, or everyone), teams, territories."""
    scope = scope_for(user, "goals.change")
    if scope is None:
        return {"users": [], "teams": [], "territories": []}
    users = [u for u in all_users().filter(is_active=True)
             if may_set_goal(user, user_id=u.id, team_id=None, territory_id=None)]
    teams = [t for t in team_list()
             if may_set_goal(user, user_id=None, team_id=t.id, territory_id=None)]
    territories = list(Territory.objects.order_by("position", "id")) if scope == "all" else []
    return {"users": users, "teams": teams, "territories": territories}


# --- the forecast ------------------------------------------------------------------------------

@dataclass
class Figures:
    """One row of the forecast: money expected, committed, possible and won, against a goal."""

    key: Any = None
    label: str = ""
    weighted: float = 0.0  # Σ amount × probability of the open deals
    committed_open: float = 0.0  # open deals in a stage of COMMIT_PROBABILITY or more
    open_amount: float = 0.0  # every open deal at its full amount
    won: float = 0.0  # closed won in the period so far
    open_deals: int = 0
    goal: float | None = None

    @property
    def committed(self) -> float:
        return self.won + self.committed_open

    @property
    def best_case(self) -> float:
        return self.won + self.open_amount

    @property
    def expected(self) -> float:
        """What the period is likely to bring: won so far plus the weighted pipeline."""
        return self.won + self.weighted

    @property
    def attainment(self) -> float | None:
        """Won ÷ goal (1.0 = the goal reached); None without a goal (or a goal of 0)."""
        return self.won / self.goal if self.goal else None

    def add(self, other: Figures) -> None:
        self.weighted += other.weighted
        self.committed_open += other.committed_open
        self.open_amount += other.open_amount
        self.won += other.won
        self.open_deals += other.open_deals


@dataclass
class TerritoryTrend:
    """A territory this period so far against the same stretch of the period before."""

    territory_id: int | None
    label: str
    won: float
    won_before: float
    pipeline: float  # weighted value of the deals opened in the stretch
    pipeline_before: float

    @property
    def change(self) -> float:
        return (self.won + self.pipeline) - (self.won_before + self.pipeline_before)

    @property
    def trend(self) -> str:
        if self.change > 0.005:
            return "growing"
        if self.change < -0.005:
            return "declining"
        return "steady"


@dataclass
class Forecast:
    currency: str
    currencies: list[str]
    other_currencies: dict[str, int]  # open deals left out, by their currency
    period: str
    period_label: str
    period_start: dt.date
    scope_label: str
    headline: Figures
    months: list[Figures]
    no_close_date: Figures
    reps: list[Figures]
    teams: list[Figures]
    territories: list[Figures]
    trends: list[TerritoryTrend]
    compared_with: str
    attainment: list[Attainment] = field(default_factory=list)
    commit_probability: int = COMMIT_PROBABILITY


def _probability() -> Any:
    """The chance a deal is won: its learned probability once set, else its stage's."""
    return Coalesce(F("win_probability"),
                    Cast(F("stage__probability"), FloatField()) / Value(100.0))


def _open(user: Any, currency: str) -> QuerySet[Deal]:
    return visible_deals(user).filter(stage__is_won=False, stage__is_lost=False,
                                      currency=currency)


def _won(user: Any, currency: str, start: dt.date, end: dt.date) -> QuerySet[Deal]:
    return visible_deals(user).filter(stage__is_won=True, currency=currency,
                                      closed_at__gte=_aware(start), closed_at__lt=_aware(end))


def _currency_counts(user: Any) -> list[tuple[str, int]]:
    """(currency, open deals) of the deals ``user`` sees that are not lost, the most used
    currency first."""
    return list(visible_deals(user).filter(stage__is_lost=False).order_by().values("currency")
                .annotate(n=Count("id"), open=Count("id", filter=Q(stage__is_won=False)))
                .order_by("-n", "currency").values_list("currency", "open")[:20])


def forecast_currencies(*, user: Any) -> list[str]:
    """The currencies of the deals ``user`` sees, the most used first."""
    return [currency for currency, _ in _currency_counts(user)]


def scope_of_goals(user: Any) -> tuple[Q, str]:
    """Whose goal the viewer's headline compares with, as a filter on goals and in words: the
    business's for those who see every deal, else their team's (or their own)."""
    scope = scope_for(user, "deals.view")
    if scope == "all":
        return Q(user__isnull=True, team__isnull=True, territory__isnull=True), "the business"
    if scope == "team" and user.team_id is not None:
        return Q(team_id=user.team_id), "your team"
    return Q(user_id=user.id), "you"


def _is_scope_goal(goal: Goal, user: Any, whose: str) -> bool:
    """The Python twin of ``scope_of_goals``' filter, for goals already loaded."""
    if whose == "the business":
        return goal.user_id is None and goal.team_id is None and goal.territory_id is None
    if whose == "your team":
        return goal.team_id == user.team_id
    return goal.user_id == user.id


def _months_between(start: dt.date, end: dt.date) -> int:
    return (end.year - start.year) * 12 + end.month - start.month


def _month_bucket(column: str, start: dt.date, months: int, *, dated: bool) -> Case:
    """Which month from ``start`` a date (or, ``dated``, a time) falls in, as 0, 1, 2…; before
    ``start`` counts as 0 (an overdue deal is still expected) and no date as -1. Plain SQL
    comparisons, so the database groups 10,000 deals without a function call per row."""
    def edge(i: int) -> Any:
        day = add_months(start, i)
        return _aware(day) if dated else day

    return Case(When(**{f"{column}__isnull": True}, then=Value(-1)),
                *[When(**{f"{column}__lt": edge(i + 1)}, then=Value(i)) for i in range(months)],
                default=Value(months), output_field=IntegerField())


def forecast(*, user: Any, period: str = "month", months: int = FORECAST_MONTHS,
             currency: str | None = None, today: dt.date | None = None) -> Forecast:
    """The weighted pipeline, committed, best case, won and goal: by expected-close month
    (this month and the ``months - 1`` after it), and for this period by rep, team and
    territory; territories compared with the same stretch of the period before. Everything
    is of the deals and goals ``user`` may see."""
    if period not in PERIODS:
        raise ValidationFailed({"period": "must be month or quarter"})
    if not 1 <= months <= 24:
        raise ValidationFailed({"months": "must be between 1 and 24"})
    today = today or timezone.localdate()
    first = month_start(today)
    window_end = add_months(first, months)
    p_start, p_end = period_bounds(period, today)

    # Open deals expected to close in the window (those already overdue count in this month,
    # those without a date in a row of their own), grouped once by month, owner and territory.
    horizon = max(window_end, p_end)
    spans = _months_between(first, horizon)
    # One pass over the open deals of every currency: the currency shown is the one most of
    # them use (unless asked for), the others are counted aside.
    all_open = list(
        visible_deals(user).filter(stage__is_won=False, stage__is_lost=False)
        .filter(Q(expected_close__lt=horizon) | Q(expected_close__isnull=True))
        .annotate(bucket=_month_bucket("expected_close", first, spans, dated=False))
        .order_by().values("currency", "bucket", "owner_id", "territory_id")
        .annotate(weighted=Sum(Cast(F("amount"), FloatField()) * _probability()),
                  committed=Sum(Cast(F("amount"), FloatField()),
                                filter=Q(stage__probability__gte=COMMIT_PROBABILITY)),
                  total=Sum(Cast(F("amount"), FloatField())), n=Count("id")))
    counts: dict[str, int] = {}
    for open_row in all_open:
        counts[open_row["currency"]] = counts.get(open_row["currency"], 0) + open_row["n"]
    currencies = sorted(counts, key=lambda c: (-counts[c], c))
    currency = (currency or (currencies[0] if currencies else "USD")).upper()[:3]
    open_rows = [row for row in all_open if row["currency"] == currency]
    q_start = quarter_start(today)
    won_from = q_start  # this quarter's won deals give the attainment box its figures
    won_rows = (
        _won(user, currency, won_from, horizon)
        .annotate(bucket=_month_bucket("closed_at", won_from,
                                       _months_between(won_from, horizon), dated=True))
        .order_by().values("bucket", "owner_id", "territory_id")
        .annotate(won=Sum(Cast(F("amount"), FloatField()))))

    by_month = {add_months(first, i): Figures(key=add_months(first, i),
                                              label=f"{add_months(first, i):%b %Y}")
                for i in range(months)}
    no_date = Figures(key=None, label="no close date")
    headline = Figures(key=p_start, label=period_label(period, p_start))
    reps: dict[Any, Figures] = {}
    territories: dict[Any, Figures] = {}

    def rows_for(owner_id: Any, territory_id: Any) -> list[Figures]:
        return [headline,
                reps.setdefault(owner_id, Figures(key=owner_id)),
                territories.setdefault(territory_id, Figures(key=territory_id))]

    for open_row in open_rows:
        month = None if open_row["bucket"] < 0 else add_months(first, open_row["bucket"])
        part = Figures(weighted=open_row["weighted"] or 0.0,
                       committed_open=open_row["committed"] or 0.0,
                       open_amount=open_row["total"] or 0.0, open_deals=open_row["n"])
        if month is None:
            no_date.add(part)
            continue
        if month in by_month:
            by_month[month].add(part)
        if month < p_end:  # in this period (overdue deals included)
            for target in rows_for(open_row["owner_id"], open_row["territory_id"]):
                target.add(part)
    won_in: dict[dt.date, float] = {}
    mine_in: dict[dt.date, float] = {}
    for won_row in won_rows:
        month = add_months(won_from, won_row["bucket"])
        part = Figures(won=won_row["won"] or 0.0)
        won_in[month] = won_in.get(month, 0.0) + part.won
        if won_row["owner_id"] == user.id:
            mine_in[month] = mine_in.get(month, 0.0) + part.won
        if month in by_month:
            by_month[month].add(part)
        if p_start <= month < p_end:
            for target in rows_for(won_row["owner_id"], won_row["territory_id"]):
                target.add(part)

    # Goals, in one query: the viewer's scope per month and for this period (and quarter);
    # per rep, team and territory for this period.
    _, scope_label = scope_of_goals(user)
    goals = list(visible_goals(user).filter(currency=currency).filter(
        Q(period="month", starts_on__in=list(by_month) + [first])
        | Q(period="quarter", starts_on=q_start)))
    for goal in goals:
        if goal.period == "month" and goal.starts_on in by_month and \
                _is_scope_goal(goal, user, scope_label):
            by_month[goal.starts_on].goal = float(goal.amount)
    period_goals = [g for g in goals if g.period == period and g.starts_on == p_start]
    scope_goal = [g for g in period_goals if _is_scope_goal(g, user, scope_label)]
    headline.goal = float(scope_goal[0].amount) if scope_goal else None
    for goal in period_goals:
        if goal.user_id is not None:
            reps.setdefault(goal.user_id, Figures(key=goal.user_id)).goal = float(goal.amount)
        elif goal.territory_id is not None:
            territories.setdefault(goal.territory_id,
                                   Figures(key=goal.territory_id)).goal = float(goal.amount)

    names = display_names(user_ids=[k for k in reps if k is not None])
    teams_of = dict(all_users().filter(id__in=[k for k in reps if k is not None])
                    .values_list("id", "team_id"))
    for key, figures in reps.items():
        figures.label = names.get(key, "no owner") if key is not None else "no owner"
    team_rows: dict[int, Figures] = {}
    team_names = dict(team_list().values_list("id", "name"))
    for key, figures in reps.items():
        team_id = teams_of.get(key)
        if team_id is not None:
            team_rows.setdefault(team_id, Figures(key=team_id,
                                                  label=team_names.get(team_id, ""))).add(figures)
    for goal in period_goals:
        if goal.team_id is not None:
            team_rows.setdefault(goal.team_id, Figures(
                key=goal.team_id, label=team_names.get(goal.team_id, ""))).goal = float(
                    goal.amount)
    territory_names = dict(Territory.objects.filter(
        id__in=[k for k in territories if k is not None]).values_list("id", "name"))
    for key, figures in territories.items():
        figures.label = territory_names.get(key, "") if key is not None else "no territory"

    others = {c: n for c, n in counts.items() if c != currency}
    trends, compared_with = territory_trends(user=user, period=period, currency=currency,
                                             today=today, names=territory_names)

    attainment: list[Attainment] = []
    for kind, label, start in (("month", "This month", first), ("quarter", "This quarter",
                                                              q_start)):
        end = add_months(start, 1 if kind == "month" else 3)
        months_in = [m for m in won_in.keys() | mine_in.keys() if start <= m < end]
        of_period = [g for g in goals if g.period == kind and g.starts_on == start]
        scoped = [g for g in of_period if _is_scope_goal(g, user, scope_label)]
        attainment.append(Attainment(
            label=label, whose=scope_label, period_label=period_label(kind, start),
            goal=float(scoped[0].amount) if scoped else None,
            won=sum(won_in.get(m, 0.0) for m in months_in), currency=currency))
        mine = [g for g in of_period if g.user_id == user.id]
        if scope_label != "you" and mine:
            attainment.append(Attainment(
                label=label, whose="you", period_label=period_label(kind, start),
                goal=float(mine[0].amount), won=sum(mine_in.get(m, 0.0) for m in months_in),
                currency=currency))

    def ordered(rows: dict[Any, Figures]) -> list[Figures]:
        return sorted(rows.values(), key=lambda r: (r.key is None, -r.expected, r.label))

    return Forecast(
        currency=currency, currencies=currencies or [currency], other_currencies=others,
        period=period, period_label=period_label(period, p_start), period_start=p_start,
        scope_label=scope_label, headline=headline, months=list(by_month.values()),
        no_close_date=no_date, reps=ordered(reps), teams=ordered(team_rows),
        territories=ordered(territories), trends=trends, compared_with=compared_with,
        attainment=attainment)


def territory_trends(*, user: Any, period: str, currency: str, today: dt.date,
                     names: dict[int, str] | None = None) -> tuple[list[TerritoryTrend], str]:
    """Each territory's won and newly opened weighted pipeline this period so far, against the
    same number of days at the start of the period before: growing or declining."""
    start, _ = period_bounds(period, today)
    before, _ = period_bounds(period, start - dt.timedelta(days=1))
    days = (today - start).days + 1
    before_end = min(before + dt.timedelta(days=days), start)
    now_q = Q(closed_at__gte=_aware(start), closed_at__lt=_aware(today + dt.timedelta(days=1)))
    then_q = Q(closed_at__gte=_aware(before), closed_at__lt=_aware(before_end))
    opened_now = Q(created_at__gte=_aware(start),
                   created_at__lt=_aware(today + dt.timedelta(days=1)))
    opened_then = Q(created_at__gte=_aware(before), created_at__lt=_aware(before_end))
    won_q = Q(stage__is_won=True)
    chance = Case(When(stage__is_won=True, then=Value(1.0)),
                  When(stage__is_lost=True, then=Value(0.0)), default=_probability(),
                  output_field=FloatField())
    amount = Cast(F("amount"), FloatField())
    rows = (visible_deals(user).filter(currency=currency, territory__isnull=False)
            .filter((won_q & (now_q | then_q)) | opened_now | opened_then)
            .order_by().values("territory_id")
            .annotate(won_now=Sum(amount, filter=won_q & now_q),
                      won_then=Sum(amount, filter=won_q & then_q),
                      opened_now=Sum(amount * chance, filter=opened_now),
                      opened_then=Sum(amount * chance, filter=opened_then)))
    found: dict[int, list[float]] = {
        row["territory_id"]: [row["won_now"] or 0.0, row["won_then"] or 0.0,
                              row["opened_now"] or 0.0, row["opened_then"] or 0.0]
        for row in rows}
    missing = [k for k in found if k not in (names or {})]
    names = {**(names or {}), **dict(Territory.objects.filter(id__in=missing)
                                     .values_list("id", "name"))}
    trends = [TerritoryTrend(territory_id=k, label=names.get(k, str(k)), won=v[0],
                             won_before=v[1], pipeline=v[2], pipeline_before=v[3])
              for k, v in found.items()]
    trends.sort(key=lambda t: (-t.change, t.label))
    last = before_end - dt.timedelta(days=1)
    return trends, f"{before:%-d %b}–{last:%-d %b %Y}"


@dataclass
class Attainment:
    label: str  # "This month", "This quarter"
    whose: str  # "the business", "your team", "you"
    period_label: str
    goal: float | None
    won: float
    currency: str

    @property
    def percent(self) -> int | None:
        return round(100 * self.won / self.goal) if self.goal else None


def goal_attainment(*, user: Any, currency: str | None = None,
                    today: dt.date | None = None) -> list[Attainment]:
    """Goal, won and % attained this month and this quarter for the viewer's scope (the
    business, their team or themselves), and for themselves too when they hold a goal of their
    own. The kanban page includes ``sales/_goal_attainment.html`` with these."""
    today = today or timezone.localdate()
    if currency is None:
        currencies = forecast_currencies(user=user)
        currency = currencies[0] if currencies else "USD"
    scope_q, whose = scope_of_goals(user)
    out: list[Attainment] = []
    for period, label in (("month", "This month"), ("quarter", "This quarter")):
        start, end = period_bounds(period, today)
        goals = visible_goals(user).filter(period=period, starts_on=start, currency=currency)
        scope_goal = goals.filter(scope_q).first()
        won = _won(user, currency, start, end).aggregate(
            won=Sum(Cast(F("amount"), FloatField())))["won"] or 0.0
        out.append(Attainment(label=label, whose=whose, period_label=period_label(period, start),
                              goal=float(scope_goal.amount) if scope_goal else None, won=won,
                              currency=currency))
        if whose != "you":
            mine = goals.filter(user_id=user.id).first()
            if mine is not None:
                my_won = _won(user, currency, start, end).filter(owner_id=user.id).aggregate(
                    won=Sum(Cast(F("amount"), FloatField())))["won"] or 0.0
                out.append(Attainment(label=label, whose="you",
                                      period_label=period_label(period, start),
                                      goal=float(mine.amount), won=my_won, currency=currency))
    return out


# --- revenue from orders, forecast -------------------------------------------------------------

@dataclass
class RevenueForecast:
    """Order revenue by month and the next months forecast, with the backtest's error."""

    ok: bool
    message: str
    history: list[tuple[dt.date, float]] = field(default_factory=list)
    ahead: list[tuple[dt.date, float, float, float]] = field(default_factory=list)  # 80 %
    this_month: tuple[dt.date, float] | None = None  # the month so far (not fitted on)
    error_percent: float | None = None  # sMAPE of the chosen method in the backtest
    mase: float | None = None  # < 1: better than repeating the month before
    backtest_months: int = 0
    method: str = ""
    months_used: int = 0
    computed_at: dt.datetime | None = None


def _revenue_cache_key(user: Any, today: dt.date) -> str | None:
    owners = visible_owners(user, "orders.view")
    if owners == []:
        return None
    whose = "all" if owners is None else hashlib.sha256(
        ",".join(map(str, sorted(owners))).encode()).hexdigest()[:16]
    return f"sales:revenue-forecast:v1:{today.isoformat()}:{whose}"


def revenue_forecast(*, user: Any, refresh: bool = False,
                     today: dt.date | None = None) -> RevenueForecast:
    """The orders ``user`` may see, as revenue per month, forecast ``REVENUE_AHEAD`` months
    ahead by the Forecaster of ``insights.ml``. Fitted once a day per scope and cached
    (``refresh`` fits again); a history shorter than ``REVENUE_MIN_MONTHS`` full months gets a
    message instead."""
    today = today or timezone.localdate()
    key = _revenue_cache_key(user, today)
    if key is None:
        return RevenueForecast(ok=False, message="You may not see orders, so there is no "
                                                 "revenue to forecast.")
    if not refresh:
        cached = cache.get(key)
        if cached is not None:
            return cached
    result = _fit_revenue(user, today)
    cache.set(key, result, timeout=26 * 3600)
    return result


def _fit_revenue(user: Any, today: dt.date) -> RevenueForecast:
    first = month_start(today)
    since = add_months(first, -REVENUE_HISTORY_MONTHS)
    revenue = monthly_revenue(user=user, since=since, until=add_months(first, 1))
    so_far = float(revenue.pop(first, 0))
    now = timezone.now()
    if not revenue:
        return RevenueForecast(ok=False, message="No orders before this month yet: the "
                               "revenue forecast starts once there are "
                               f"{REVENUE_MIN_MONTHS} full months of orders.",
                               this_month=(first, so_far), computed_at=now)
    start = min(revenue)
    months = []
    day = start
    while day < first:
        months.append(day)
        day = add_months(day, 1)
    history = [(m, float(revenue.get(m, 0))) for m in months]
    if len(history) < REVENUE_MIN_MONTHS:
        return RevenueForecast(
            ok=False, history=history, this_month=(first, so_far), months_used=len(history),
            computed_at=now,
            message=f"Only {len(history)} full month{'s' if len(history) != 1 else ''} of "
                    f"orders so far: the revenue forecast needs {REVENUE_MIN_MONTHS} (ten to "
                    f"learn from and three to check itself against), so it starts "
                    f"{add_months(first, REVENUE_MIN_MONTHS - len(history)):%B %Y}.")
    import numpy as np
    import pandas as pd

    from rapport.insights.ml.forecast import DESCRIPTIONS, Forecaster
    from rapport.insights.ml.metrics import mase_scale

    frame = pd.DataFrame({"unique_id": "revenue", "ds": pd.to_datetime(months),
                          "y": [v for _, v in history]})
    model = Forecaster(horizon=REVENUE_BACKTEST_HORIZON, season_length=12,
                       n_windows=REVENUE_BACKTEST_WINDOWS, levels=(80,), n_jobs=1)
    model.fit(frame, freq="MS")
    ahead = model.forecast(h=REVENUE_AHEAD)
    method = model.choice_["revenue"]
    backtest = model.backtest_[(model.backtest_["unique_id"] == "revenue")
                               & (model.backtest_["method"] == method)]
    error = mase_value = None
    windows = 0
    if len(backtest):
        windows = int(backtest["windows"].iloc[0])
        error = float(backtest["smape"].iloc[0])
        values = np.array([v for _, v in history], dtype=float)
        scale = mase_scale(values[:-windows * REVENUE_BACKTEST_HORIZON] if windows else values)
        mase_value = float(backtest["mae"].iloc[0]) / scale if scale > 0 else None
    return RevenueForecast(
        ok=True, message="", history=history, this_month=(first, so_far),
        ahead=[(ts.date(), float(f), float(lo), float(hi)) for ts, f, lo, hi in
               ahead[["ds", "forecast", "lo_80", "hi_80"]].itertuples(index=False)],
        error_percent=error if error is not None and np.isfinite(error) else None,
        mase=mase_value if mase_value is not None and np.isfinite(mase_value) else None,
        backtest_months=windows * REVENUE_BACKTEST_HORIZON,
        method=DESCRIPTIONS.get(method, method), months_used=len(history), computed_at=now)


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
