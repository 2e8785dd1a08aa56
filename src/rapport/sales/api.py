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

from rapport.core.api_schemas import ERRORS, WRITE_ERRORS
from rapport.core.inputs import Text
from rapport.sales import selectors, services
from rapport.sales.inputs import ConvertInput, GoalInput, GoalUpdate, LeadChanges, LeadInput

router = Router(tags=["sales"])


class ScoreReasonOut(Schema):
    rule_id: int | None = None
    points: int
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
    converted_contact_id: int | None
    converted_company_id: int | None
    converted_deal_id: int | None
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
    contact_id: int | None
    company_id: int | None
    lead_id: int | None
    version: int
    created_at: dt.datetime

    @staticmethod
    def resolve_stage(obj: Any) -> str:
        return obj.stage.name

    @staticmethod
    def resolve_probability(obj: Any) -> int:
        return obj.stage.probability


class DealPage(Schema):
    items: list[DealOut]
    next_cursor: str | None


class DealFilters(Schema):
    owner: Annotated[str, Text(20)] | None = None
    stage: int | None = None
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
    starts_from: dt.date | None = None
    starts_until: dt.date | None = None
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
