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
from rapport.sales.inputs import (
    AssignmentRuleChanges,
    AssignmentRuleInput,
    ConvertInput,
    LeadChanges,
    LeadInput,
    TerritoryChanges,
    TerritoryInput,
)

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
    product_interest: str
    respond_by: dt.datetime | None
    first_touched_at: dt.datetime | None
    reassignments: int
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
