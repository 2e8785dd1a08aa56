"""/api/v1/ endpoints for leads and deals.

``POST /leads`` is the capture endpoint every integration uses: 201 with the lead as stored
(owner, score, grade, the rule that assigned it) or 200 with the existing lead when its email
or phone is already known (it was updated, and its timeline says so).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, Literal

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from rapport.core.api_schemas import ERRORS, WRITE_ERRORS, Day
from rapport.core.inputs import Text
from rapport.sales import selectors, services
from rapport.sales.inputs import (
    AssignmentRuleChanges,
    AssignmentRuleInput,
    ConvertInput,
    DealChanges,
    DealInput,
    DealLinesInput,
    DealMoveInput,
    EnrolInput,
    GoalInput,
    GoalUpdate,
    LeadChanges,
    LeadInput,
    PipelineChanges,
    PipelineInput,
    SequenceChanges,
    SequenceInput,
    StageChanges,
    StageInput,
    TerritoryChanges,
    TerritoryInput,
)

router = Router(tags=["sales"])


class ScoreReasonOut(Schema):
    rule_id: int | None = None
    points: int
    text: str


class MlFactorOut(Schema):
    feature: str
    value: Any = None
    effect: float
    text: str


class LeadOut(Schema):
    id: int
    name: str
    email: str
    phone: str
    company_name: str
    website: str
    job_title: str
    country: str
    postcode: str
    industry: str
    company_size: str
    message: str
    source: str
    utm_source: str
    utm_medium: str
    utm_campaign: str
    utm_term: str
    utm_content: str
    status: str
    owner_id: int | None
    score: int
    grade: str
    score_reasons: list[ScoreReasonOut]
    assigned_by: str
    assigned_at: dt.datetime | None
    matched_company_id: int | None
    email_domain: str
    free_mail: bool
    phone_country: str
    phone_line_type: str
    submissions: int
    product_interest: str
    respond_by: dt.datetime | None
    first_touched_at: dt.datetime | None
    reassignments: int
    converted_contact_id: int | None
    converted_company_id: int | None
    converted_deal_id: int | None
    # mlscore: the learned chance of converting (null until a model is ready) and its factors
    ml_probability: float | None
    ml_factors: list[MlFactorOut]
    ml_scored_at: dt.datetime | None
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime


class LeadPage(Schema):
    items: list[LeadOut]
    next_cursor: str | None


class LeadFilters(Schema):
    status: Annotated[str, Text(20)] | None = Field(None, description="open or a status")
    owner: Annotated[str, Text(20)] | None = Field(None, description="a user id, me or none")
    grade: Annotated[str, Text(1)] | None = None
    source: Annotated[str, Text(50)] | None = None
    q: Annotated[str, Text(200)] | None = None
    cursor: str | None = None
    limit: int = Field(50, ge=1, le=200)


class ConvertedOut(Schema):
    contact_id: int
    company_id: int | None
    deal_id: int | None
    lead: LeadOut


class DealLineOut(Schema):
    id: int
    product_id: int | None
    sku: str
    description: str
    quantity: Decimal
    unit_price: Decimal
    line_total: Decimal

    @staticmethod
    def resolve_sku(obj: Any) -> str:
        return obj.product.sku if obj.product_id else ""

    @staticmethod
    def resolve_line_total(obj: Any) -> Decimal:
        return (obj.quantity * obj.unit_price).quantize(Decimal("0.01"))


class DealOut(Schema):
    id: int
    name: str
    amount: Decimal
    currency: str
    expected_close: dt.date | None
    owner_id: int | None
    pipeline_id: int
    stage_id: int
    stage: str
    probability: int
    status: str = Field(description="open, won or lost")
    contact_id: int | None
    company_id: int | None
    lead_id: int | None
    territory_id: int | None
    next_step: str
    stage_entered_at: dt.datetime | None
    closed_at: dt.datetime | None
    lost_reason: str
    lines: list[DealLineOut]
    # mlscore: the learned chance of winning (null until a deal model is ready)
    win_probability: float | None
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime

    @staticmethod
    def resolve_stage(obj: Any) -> str:
        return obj.stage.name

    @staticmethod
    def resolve_probability(obj: Any) -> int:
        return obj.stage.probability

    @staticmethod
    def resolve_status(obj: Any) -> str:
        return "won" if obj.stage.is_won else "lost" if obj.stage.is_lost else "open"

    @staticmethod
    def resolve_lines(obj: Any) -> list[Any]:
        return sorted(obj.lines.all(), key=lambda line: (line.position, line.id))


class DealPage(Schema):
    items: list[DealOut]
    next_cursor: str | None


class DealFilters(Schema):
    owner: Annotated[str, Text(20)] | None = Field(None, description="a user id or me")
    stage: int | None = None
    pipeline: int | None = None
    territory: int | None = None
    status: Annotated[str, Text(10)] | None = Field(None, description="open, won or lost")
    cursor: str | None = None
    limit: int = Field(50, ge=1, le=200)


# --- leads -------------------------------------------------------------------------------------

@router.post("/leads", response={200: LeadOut, 201: LeadOut, **ERRORS})
def capture_lead(request: HttpRequest, payload: LeadInput):
    captured = services.lead_capture(actor=request.user, data=payload)
    return Status(201 if captured.created else 200, captured.lead)


@router.get("/leads", response={200: LeadPage, **ERRORS})
def list_leads(request: HttpRequest, filters: Query[LeadFilters]):
    page = selectors.lead_list(user=request.user, params=filters.model_dump())
    return {"items": page.items, "next_cursor": page.next_cursor}


@router.get("/leads/{int:lead_id}", response={200: LeadOut, **ERRORS})
def get_lead(request: HttpRequest, lead_id: int):
    return selectors.lead_get(user=request.user, lead_id=lead_id)


@router.patch("/leads/{int:lead_id}", response={200: LeadOut, **WRITE_ERRORS})
def update_lead(request: HttpRequest, lead_id: int, payload: LeadChanges):
    return services.lead_update(actor=request.user, lead_id=lead_id, version=payload.version,
                                changes=payload)


@router.post("/leads/{int:lead_id}/convert", response={200: ConvertedOut, **WRITE_ERRORS})
def convert_lead(request: HttpRequest, lead_id: int, payload: ConvertInput | None = None):
    converted = services.lead_convert(actor=request.user, lead_id=lead_id, data=payload)
    return {"contact_id": converted.contact_id, "company_id": converted.company_id,
            "deal_id": converted.deal_id, "lead": converted.lead}


# --- deals -------------------------------------------------------------------------------------

@router.get("/deals", response={200: DealPage, **ERRORS})
def list_deals(request: HttpRequest, filters: Query[DealFilters]):
    page = selectors.deal_list(user=request.user, params=filters.model_dump())
    return {"items": page.items, "next_cursor": page.next_cursor}


@router.get("/deals/{int:deal_id}", response={200: DealOut, **ERRORS})
def get_deal(request: HttpRequest, deal_id: int):
    return selectors.deal_get(user=request.user, deal_id=deal_id)


# --- sequences (nurturing) ---------------------------------------------------------------------

class SequenceStepOut(Schema):
    position: int
    kind: str
    wait_days: int
    template_id: int | None
    task_title: str


class SequenceOut(Schema):
    id: int
    name: str
    active: bool
    stop_on_reply: bool
    stop_on_meeting: bool
    stop_on_convert: bool
    auto_enrol: bool
    auto_source: str
    auto_web_form_id: int | None
    auto_grades: list[str]
    steps: list[SequenceStepOut]
    created_at: dt.datetime

    @staticmethod
    def resolve_auto_grades(obj: Any) -> list[str]:
        return list(obj.auto_grades)

    @staticmethod
    def resolve_steps(obj: Any) -> list[Any]:
        return sorted(obj.steps.all(), key=lambda step: step.position)


class SequencePage(Schema):
    items: list[SequenceOut]
    next_cursor: str | None


class SequenceFilters(Schema):
    active: Annotated[str, Text(5)] | None = Field(None, description="true or false")
    q: Annotated[str, Text(100)] | None = None
    cursor: str | None = None
    limit: int = Field(50, ge=1, le=200)


# --- territories and assignment rules (territory branch) ---------------------------------------

class OverlapOut(Schema):
    winner_id: int
    loser_id: int
    where: str
    shadowed: bool
    message: str


class TerritoryOut(Schema):
    id: int
    name: str
    position: int
    countries: list[str]
    regions: list[str]
    postcode_prefixes: list[str]
    industries: list[str]
    company_sizes: list[str]
    member_ids: list[int]
    manager_id: int | None
    overlaps: list[OverlapOut] = Field(
        description="territories that can match the same leads as this one, and which wins")
    created_at: dt.datetime

    @staticmethod
    def resolve_member_ids(obj: Any) -> list[int]:
        return sorted(u.id for u in obj.members.all())

    @staticmethod
    def resolve_overlaps(obj: Any, context: Any) -> list[Any]:
        return [o for o in _overlaps(context) if obj.id in (o.winner_id, o.loser_id)]


def _overlaps(context: Any) -> list[Any]:
    """Every overlap, worked out once per response."""
    request = context["request"]
    if not hasattr(request, "_territory_overlaps"):
        request._territory_overlaps = selectors.territory_overlaps(selectors.territories())
    return request._territory_overlaps


class TerritoryPage(Schema):
    items: list[TerritoryOut]
    next_cursor: str | None


class TerritoryFilters(Schema):
    q: Annotated[str, Text(100)] | None = Field(None, description="part of the name")
    member: int | None = Field(None, description="territories this user works")
    cursor: str | None = None
    limit: int = Field(50, ge=1, le=200)


class EnrollmentOut(Schema):
    id: int
    sequence_id: int
    lead_id: int
    status: str
    next_position: int | None
    next_run_at: dt.datetime | None
    stop_reason: str
    enrolled_at: dt.datetime
    ended_at: dt.datetime | None

    @staticmethod
    def resolve_next_position(obj: Any) -> int | None:
        return obj.next_position if obj.status == "active" else None


@router.get("/sequences", response={200: SequencePage, **ERRORS})
def list_sequences(request: HttpRequest, filters: Query[SequenceFilters]):
    page = selectors.sequence_list(user=request.user, params=filters.model_dump())
    return {"items": page.items, "next_cursor": page.next_cursor}


@router.post("/sequences", response={201: SequenceOut, **ERRORS})
def create_sequence(request: HttpRequest, payload: SequenceInput):
    sequence = services.sequence_create(actor=request.user, data=payload)
    return Status(201, selectors.sequence_get(user=request.user, sequence_id=sequence.id))


@router.get("/sequences/{int:sequence_id}", response={200: SequenceOut, **ERRORS})
def get_sequence(request: HttpRequest, sequence_id: int):
    return selectors.sequence_get(user=request.user, sequence_id=sequence_id)


@router.patch("/sequences/{int:sequence_id}", response={200: SequenceOut, **ERRORS})
def update_sequence(request: HttpRequest, sequence_id: int, payload: SequenceChanges):
    services.sequence_update(actor=request.user, sequence_id=sequence_id, changes=payload)
    return selectors.sequence_get(user=request.user, sequence_id=sequence_id)


@router.delete("/sequences/{int:sequence_id}", response={204: None, **ERRORS})
def delete_sequence(request: HttpRequest, sequence_id: int):
    services.sequence_delete(actor=request.user, sequence_id=sequence_id)
    return Status(204, None)


@router.post("/leads/{int:lead_id}/enrol", response={201: EnrollmentOut, **ERRORS})
def enrol_lead(request: HttpRequest, lead_id: int, payload: EnrolInput):
    return Status(201, services.lead_enrol(actor=request.user, lead_id=lead_id, data=payload))


@router.post("/leads/{int:lead_id}/unenrol", response={200: EnrollmentOut, **ERRORS})
def unenrol_lead(request: HttpRequest, lead_id: int, payload: EnrolInput):
    return services.lead_unenrol(actor=request.user, lead_id=lead_id, data=payload)


@router.get("/leads/{int:lead_id}/enrollments", response={200: list[EnrollmentOut], **ERRORS})
def list_enrollments(request: HttpRequest, lead_id: int):
    lead = selectors.lead_get(user=request.user, lead_id=lead_id)
    return [shown.enrollment for shown in selectors.lead_enrollments(lead_id=lead.id)]


# --- pipeline: pipelines, stages, deal writes and moves (issue 10, pipeline) -------------------

class StageOut(Schema):
    id: int
    pipeline_id: int
    name: str
    position: int
    probability: int
    kind: str = Field(description="open, won or lost")

    @staticmethod
    def resolve_kind(obj: Any) -> str:
        return "won" if obj.is_won else "lost" if obj.is_lost else "open"


class PipelineOut(Schema):
    id: int
    name: str
    is_default: bool
    stages: list[StageOut]
    created_at: dt.datetime

    @staticmethod
    def resolve_stages(obj: Any) -> list[Any]:
        return sorted(obj.stages.all(), key=lambda stage: stage.position)


@router.get("/pipelines", response={200: list[PipelineOut], **ERRORS})
def list_pipelines(request: HttpRequest):
    return selectors.pipeline_list()


@router.post("/pipelines", response={201: PipelineOut, **ERRORS})
def create_pipeline(request: HttpRequest, payload: PipelineInput):
    pipeline = services.pipeline_create(actor=request.user, data=payload)
    return Status(201, selectors.pipeline_get(pipeline_id=pipeline.id))


@router.get("/pipelines/{int:pipeline_id}", response={200: PipelineOut, **ERRORS})
def get_pipeline(request: HttpRequest, pipeline_id: int):
    return selectors.pipeline_get(pipeline_id=pipeline_id)


@router.patch("/pipelines/{int:pipeline_id}", response={200: PipelineOut, **ERRORS})
def update_pipeline(request: HttpRequest, pipeline_id: int, payload: PipelineChanges):
    services.pipeline_update(actor=request.user, pipeline_id=pipeline_id, changes=payload)
    return selectors.pipeline_get(pipeline_id=pipeline_id)


@router.delete("/pipelines/{int:pipeline_id}", response={204: None, **ERRORS})
def delete_pipeline(request: HttpRequest, pipeline_id: int):
    services.pipeline_delete(actor=request.user, pipeline_id=pipeline_id)
    return Status(204, None)


@router.post("/pipelines/{int:pipeline_id}/stages", response={201: StageOut, **ERRORS})
def create_stage(request: HttpRequest, pipeline_id: int, payload: StageInput):
    return Status(201, services.stage_create(actor=request.user, pipeline_id=pipeline_id,
                                             data=payload))


@router.get("/stages/{int:stage_id}", response={200: StageOut, **ERRORS})
def get_stage(request: HttpRequest, stage_id: int):
    return selectors.stage_get(stage_id=stage_id)


@router.patch("/stages/{int:stage_id}", response={200: StageOut, **ERRORS})
def update_stage(request: HttpRequest, stage_id: int, payload: StageChanges):
    services.stage_update(actor=request.user, stage_id=stage_id, changes=payload)
    return selectors.stage_get(stage_id=stage_id)


@router.delete("/stages/{int:stage_id}", response={204: None, **ERRORS})
def delete_stage(request: HttpRequest, stage_id: int):
    services.stage_delete(actor=request.user, stage_id=stage_id)
    return Status(204, None)


@router.post("/deals", response={201: DealOut, **ERRORS})
def create_deal(request: HttpRequest, payload: DealInput):
    deal = services.deal_create(actor=request.user, data=payload)
    return Status(201, selectors.deal_get(user=request.user, deal_id=deal.id))


@router.patch("/deals/{int:deal_id}", response={200: DealOut, **WRITE_ERRORS})
def update_deal(request: HttpRequest, deal_id: int, payload: DealChanges):
    services.deal_update(actor=request.user, deal_id=deal_id, version=payload.version,
                         changes=payload)
    return selectors.deal_get(user=request.user, deal_id=deal_id)


@router.put("/deals/{int:deal_id}/lines", response={200: DealOut, **WRITE_ERRORS})
def set_deal_lines(request: HttpRequest, deal_id: int, payload: DealLinesInput):
    services.deal_lines_set(actor=request.user, deal_id=deal_id, data=payload)
    return selectors.deal_get(user=request.user, deal_id=deal_id)


@router.post("/deals/{int:deal_id}/move", response={200: DealOut, **WRITE_ERRORS})
def move_deal(request: HttpRequest, deal_id: int, payload: DealMoveInput):
    """Move the deal to ``stage_id`` (of its pipeline). ``version`` is the deal's version you
    last read: when someone changed the deal since, 409 with the deal as it now is, and
    nothing changes. The lost stage needs ``lost_reason``."""
    services.deal_move(actor=request.user, deal_id=deal_id, stage_id=payload.stage_id,
                       version=payload.version, lost_reason=payload.lost_reason)
    return selectors.deal_get(user=request.user, deal_id=deal_id)


@router.delete("/deals/{int:deal_id}", response={204: None, **ERRORS})
def delete_deal(request: HttpRequest, deal_id: int):
    services.deal_delete(actor=request.user, deal_id=deal_id)
    return Status(204, None)


class MoveIn(Schema):
    position: int = Field(ge=1, le=100000, description="1 = first: wins every overlap")


class MemberIn(Schema):
    user_id: int = Field(ge=1, le=2**63 - 1)


class TerritoryMatchOut(Schema):
    territory: TerritoryOut | None


class TerritoryMatchQuery(Schema):
    country: Annotated[str, Text(2)] = ""
    postcode: Annotated[str, Text(20)] = ""
    industry: Annotated[str, Text(100)] = ""
    company_size: Annotated[str, Text(16)] = ""
    region: Annotated[str, Text(100)] = ""


@router.get("/territories", response={200: TerritoryPage, **ERRORS})
def list_territories(request: HttpRequest, filters: Query[TerritoryFilters]):
    page = selectors.territory_list(user=request.user, params=filters.model_dump())
    return {"items": page.items, "next_cursor": page.next_cursor}


@router.post("/territories", response={201: TerritoryOut, **ERRORS})
def create_territory(request: HttpRequest, payload: TerritoryInput):
    territory = services.territory_create(actor=request.user, data=payload)
    return Status(201, selectors.territory_get(territory_id=territory.id))


@router.get("/territories/match", response={200: TerritoryMatchOut, **ERRORS})
def match_territory(request: HttpRequest, facts: Query[TerritoryMatchQuery]):
    """The territory a lead or deal with these facts falls in (the first by position)."""
    found = services.territory_for(**facts.model_dump())
    return {"territory": selectors.territory_get(territory_id=found.id) if found else None}


@router.get("/territories/{int:territory_id}", response={200: TerritoryOut, **ERRORS})
def get_territory(request: HttpRequest, territory_id: int):
    return selectors.territory_get(territory_id=territory_id)


@router.patch("/territories/{int:territory_id}", response={200: TerritoryOut, **ERRORS})
def update_territory(request: HttpRequest, territory_id: int, payload: TerritoryChanges):
    services.territory_update(actor=request.user, territory_id=territory_id,
                              changes=payload.model_dump(exclude_unset=True))
    return selectors.territory_get(territory_id=territory_id)


@router.delete("/territories/{int:territory_id}", response={204: None, **ERRORS})
def delete_territory(request: HttpRequest, territory_id: int):
    services.territory_delete(actor=request.user, territory_id=territory_id)
    return Status(204, None)


@router.post("/territories/{int:territory_id}/move", response={200: TerritoryOut, **ERRORS})
def move_territory(request: HttpRequest, territory_id: int, payload: MoveIn):
    services.territory_move(actor=request.user, territory_id=territory_id,
                            position=payload.position)
    return selectors.territory_get(territory_id=territory_id)


@router.post("/territories/{int:territory_id}/members",
             response={200: TerritoryOut, **ERRORS})
def add_territory_member(request: HttpRequest, territory_id: int, payload: MemberIn):
    services.territory_member_add(actor=request.user, territory_id=territory_id,
                                  user_id=payload.user_id)
    return selectors.territory_get(territory_id=territory_id)


@router.delete("/territories/{int:territory_id}/members/{int:user_id}",
               response={200: TerritoryOut, **ERRORS})
def remove_territory_member(request: HttpRequest, territory_id: int, user_id: int):
    services.territory_member_remove(actor=request.user, territory_id=territory_id,
                                     user_id=user_id)
    return selectors.territory_get(territory_id=territory_id)


class AssignmentRuleOut(Schema):
    id: int
    name: str
    position: int
    active: bool
    countries: list[str]
    postcode_prefixes: list[str]
    industries: list[str]
    company_sizes: list[str]
    product_lines: list[str]
    method: str
    territory_id: int | None
    team_id: int | None
    user_id: int | None
    cap: int | None
    first_response_minutes: int | None
    overlaps: list[str] = Field(description="earlier rules that win for leads both match")
    created_at: dt.datetime

    @staticmethod
    def resolve_overlaps(obj: Any, context: Any) -> list[str]:
        request = context["request"]
        if not hasattr(request, "_rule_overlaps"):
            request._rule_overlaps = selectors.rule_overlaps(selectors.assignment_rules())
        return request._rule_overlaps.get(obj.id, [])


class AssignmentRulePage(Schema):
    items: list[AssignmentRuleOut]
    next_cursor: str | None


class AssignmentRuleFilters(Schema):
    cursor: str | None = None
    limit: int = Field(50, ge=1, le=200)


@router.get("/assignment-rules", response={200: AssignmentRulePage, **ERRORS})
def list_assignment_rules(request: HttpRequest, filters: Query[AssignmentRuleFilters]):
    page = selectors.assignment_rule_list(params=filters.model_dump())
    return {"items": page.items, "next_cursor": page.next_cursor}


@router.post("/assignment-rules", response={201: AssignmentRuleOut, **ERRORS})
def create_assignment_rule(request: HttpRequest, payload: AssignmentRuleInput):
    rule = services.assignment_rule_create(actor=request.user, data=payload)
    return Status(201, selectors.assignment_rule_get(rule_id=rule.id))


@router.get("/assignment-rules/{int:rule_id}", response={200: AssignmentRuleOut, **ERRORS})
def get_assignment_rule(request: HttpRequest, rule_id: int):
    return selectors.assignment_rule_get(rule_id=rule_id)


@router.patch("/assignment-rules/{int:rule_id}", response={200: AssignmentRuleOut, **ERRORS})
def update_assignment_rule(request: HttpRequest, rule_id: int,
                           payload: AssignmentRuleChanges):
    services.assignment_rule_update(actor=request.user, rule_id=rule_id,
                                    changes=payload.model_dump(exclude_unset=True))
    return selectors.assignment_rule_get(rule_id=rule_id)


@router.delete("/assignment-rules/{int:rule_id}", response={204: None, **ERRORS})
def delete_assignment_rule(request: HttpRequest, rule_id: int):
    services.assignment_rule_delete(actor=request.user, rule_id=rule_id)
    return Status(204, None)


@router.post("/assignment-rules/{int:rule_id}/move", response={200: AssignmentRuleOut, **ERRORS})
def move_assignment_rule(request: HttpRequest, rule_id: int, payload: MoveIn):
    services.assignment_rule_move(actor=request.user, rule_id=rule_id, position=payload.position)
    return selectors.assignment_rule_get(rule_id=rule_id)


# --- goals and the forecast (issue 10: forecast) -----------------------------------------------

class GoalOut(Schema):
    id: int
    period: str
    starts_on: dt.date
    amount: Decimal
    currency: str
    user_id: int | None
    team_id: int | None
    territory_id: int | None
    created_at: dt.datetime


class GoalPage(Schema):
    items: list[GoalOut]
    next_cursor: str | None


class GoalFilters(Schema):
    period: Annotated[str, Text(10)] | None = Field(None, description="month or quarter")
    target: Annotated[str, Text(10)] | None = Field(
        None, description="business, user, team or territory")
    user: Annotated[str, Text(20)] | None = Field(None, description="a user id or me")
    team: int | None = None
    territory: int | None = None
    starts_from: Day | None = None
    starts_until: Day | None = None
    cursor: str | None = None
    limit: int = Field(50, ge=1, le=200)


class FiguresOut(Schema):
    label: str
    weighted: float
    committed: float
    best_case: float
    won: float
    open_deals: int
    goal: float | None
    attainment: float | None


class TrendOut(Schema):
    territory_id: int | None
    territory: str
    won: float
    won_before: float
    pipeline: float
    pipeline_before: float
    trend: str


class ForecastOut(Schema):
    currency: str
    period: str
    period_label: str
    commit_probability: int
    goal_of: str = Field(description="whose goal the headline compares with")
    this_period: FiguresOut
    by_month: list[FiguresOut]
    no_close_date: FiguresOut
    by_rep: list[FiguresOut]
    by_team: list[FiguresOut]
    by_territory: list[FiguresOut]
    territories_compared_with: str
    territory_trends: list[TrendOut]
    other_currencies: dict[str, int]


class ForecastFilters(Schema):
    period: Literal["month", "quarter"] = "month"
    months: int = Field(6, ge=1, le=24, description="expected-close months, from this one")
    currency: Annotated[str, Text(3)] | None = None


def _figures(row: Any) -> dict[str, Any]:
    return {"label": row.label, "weighted": round(row.weighted, 2),
            "committed": round(row.committed, 2), "best_case": round(row.best_case, 2),
            "won": round(row.won, 2), "open_deals": row.open_deals, "goal": row.goal,
            "attainment": row.attainment}


@router.get("/goals", response={200: GoalPage, **ERRORS})
def list_goals(request: HttpRequest, filters: Query[GoalFilters]):
    page = selectors.goal_list(user=request.user, params=filters.model_dump())
    return {"items": page.items, "next_cursor": page.next_cursor}


@router.post("/goals", response={201: GoalOut, **WRITE_ERRORS})
def create_goal(request: HttpRequest, payload: GoalInput):
    return Status(201, services.goal_create(actor=request.user, data=payload))


@router.get("/goals/{int:goal_id}", response={200: GoalOut, **ERRORS})
def get_goal(request: HttpRequest, goal_id: int):
    return selectors.goal_get(user=request.user, goal_id=goal_id)


@router.patch("/goals/{int:goal_id}", response={200: GoalOut, **WRITE_ERRORS})
def update_goal(request: HttpRequest, goal_id: int, payload: GoalUpdate):
    return services.goal_update(actor=request.user, goal_id=goal_id, changes=payload)


@router.delete("/goals/{int:goal_id}", response={204: None, **ERRORS})
def delete_goal(request: HttpRequest, goal_id: int):
    services.goal_delete(actor=request.user, goal_id=goal_id)
    return Status(204, None)


@router.get("/forecast", response={200: ForecastOut, **ERRORS})
def get_forecast(request: HttpRequest, filters: Query[ForecastFilters]):
    """The weighted pipeline, committed, best case, won and goal, of the deals you may see."""
    found = selectors.forecast(user=request.user, period=filters.period, months=filters.months,
                               currency=filters.currency)
    return {
        "currency": found.currency, "period": found.period, "period_label": found.period_label,
        "commit_probability": found.commit_probability, "goal_of": found.scope_label,
        "this_period": _figures(found.headline),
        "by_month": [_figures(r) for r in found.months],
        "no_close_date": _figures(found.no_close_date),
        "by_rep": [_figures(r) for r in found.reps], "by_team": [_figures(r) for r in found.teams],
        "by_territory": [_figures(r) for r in found.territories],
        "territories_compared_with": found.compared_with,
        "territory_trends": [{"territory_id": t.territory_id, "territory": t.label,
                              "won": round(t.won, 2), "won_before": round(t.won_before, 2),
                              "pipeline": round(t.pipeline, 2),
                              "pipeline_before": round(t.pipeline_before, 2), "trend": t.trend}
                             for t in found.trends],
        "other_currencies": found.other_currencies,
    }
