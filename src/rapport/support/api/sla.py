"""/api/v1/sla-policies (CRUD) and /api/v1/business-hours (GET, PUT): the SLA settings.
Reading them needs ``tickets.view``; changing them ``settings.change``."""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest
from ninja import Router, Schema, Status

from rapport.core.api_schemas import ERRORS
from rapport.core.errors import PermissionDenied
from rapport.core.permissions import scope_for
from rapport.support.inputs import BusinessHoursInput, SlaPolicyInput
from rapport.support.services import sla

router = Router(tags=["support: SLAs"])


def _may_read(request: HttpRequest) -> None:
    if scope_for(request.user, "tickets.view") is None:
        raise PermissionDenied("you may not see the help desk's SLA settings")


class SlaPolicyOut(Schema):
    id: int
    name: str
    priority: str
    tier: str
    first_response_minutes: int
    resolution_minutes: int
    at_risk_percent: int
    active: bool


class ClosedDayOut(Schema):
    day: dt.date
    name: str


class BusinessHoursOut(Schema):
    time_zone: str
    holiday_country: str
    holiday_subdivision: str
    hours: dict[str, list[list[str]]]
    closed_days: list[ClosedDayOut]


@router.get("/sla-policies", response={200: list[SlaPolicyOut], **ERRORS})
def list_sla_policies(request: HttpRequest):
    _may_read(request)
    return sla.sla_policies()


@router.post("/sla-policies", response={201: SlaPolicyOut, **ERRORS})
def create_sla_policy(request: HttpRequest, payload: SlaPolicyInput):
    return Status(201, sla.sla_policy_create(actor=request.user, data=payload))


@router.get("/sla-policies/{int:policy_id}", response={200: SlaPolicyOut, **ERRORS})
def get_sla_policy(request: HttpRequest, policy_id: int):
    _may_read(request)
    return sla.sla_policy_get(policy_id=policy_id)


@router.put("/sla-policies/{int:policy_id}", response={200: SlaPolicyOut, **ERRORS})
def update_sla_policy(request: HttpRequest, policy_id: int, payload: SlaPolicyInput):
    return sla.sla_policy_update(actor=request.user, policy_id=policy_id, data=payload)


@router.delete("/sla-policies/{int:policy_id}", response={204: None, **ERRORS})
def delete_sla_policy(request: HttpRequest, policy_id: int):
    sla.sla_policy_delete(actor=request.user, policy_id=policy_id)
    return Status(204, None)


@router.get("/business-hours", response={200: BusinessHoursOut, **ERRORS})
def get_business_hours(request: HttpRequest):
    _may_read(request)
    return sla.business_hours()


@router.put("/business-hours", response={200: BusinessHoursOut, **ERRORS})
def put_business_hours(request: HttpRequest, payload: BusinessHoursInput):
    return sla.business_hours_set(actor=request.user, data=payload)
