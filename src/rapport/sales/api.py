"""/api/v1/ endpoints for leads and deals.

``POST /leads`` is the capture endpoint every integration uses: 201 with the lead as stored
(owner, score, grade, the rule that assigned it) or 200 with the existing lead when its email
or phone is already known (it was updated, and its timeline says so).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from rapport.core.api_schemas import ERRORS, WRITE_ERRORS
from rapport.core.inputs import Text
from rapport.sales import selectors, services
from rapport.sales.inputs import ConvertInput, LeadChanges, LeadInput

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
    # mlscore: the learned chance of winning (null until a deal model is ready)
    win_probability: float | None
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
