"""/api/v1/devices, /api/v1/event-rules and /api/v1/events: customers' machines, the rules
that turn their reports into tickets, and the endpoint machines report to (docs/devices.md)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from rapport.core.api_schemas import ERRORS
from rapport.core.inputs import Text
from rapport.support import selectors, services
from rapport.support.inputs import (
    DeviceInput,
    DevicePatch,
    EventRuleInput,
    EventRulePatch,
    MachineEventInput,
)
from rapport.support.models import EventRule, MachineEvent

router = Router(tags=["devices and machine events"])


class DeviceOut(Schema):
    id: int
    device_id: str
    name: str
    contact_id: int
    created_at: dt.datetime


class DevicePage(Schema):
    items: list[DeviceOut]
    next_cursor: str | None


class DeviceFilters(Schema):
    contact_id: int | None = None
    q: Annotated[str, Text(100)] | None = Field(None, description="part of the id or name")
    cursor: str | None = None
    limit: int = Field(50, ge=1, le=200)


class EventRuleOut(Schema):
    id: int
    name: str
    event_type: str
    field: str
    operator: str
    value: str
    subject: str
    category: str
    priority: str
    position: int
    active: bool


class EventOut(Schema):
    """What one report did."""

    event_id: int
    action: str = Field(description="opened (a new ticket), appended (a system message on the "
                                    "ticket this rule opened, still open) or logged (no rule "
                                    "matched)")
    ticket_id: int | None
    reference: str | None
    rule: str | None = Field(description="the name of the rule that matched")
    rule_id: int | None


class MachineEventOut(Schema):
    id: int
    device_id: str
    type: str
    payload: dict[str, Any]
    action: str
    rule_id: int | None
    ticket_id: int | None
    reference: str | None
    occurred_at: dt.datetime | None
    received_at: dt.datetime

    @staticmethod
    def resolve_device_id(obj: MachineEvent) -> str:
        return obj.device.device_id

    @staticmethod
    def resolve_type(obj: MachineEvent) -> str:
        return obj.event_type

    @staticmethod
    def resolve_reference(obj: MachineEvent) -> str | None:
        return obj.ticket.reference if obj.ticket_id else None


class MachineEventPage(Schema):
    items: list[MachineEventOut]
    next_cursor: str | None


class MachineEventFilters(Schema):
    device: int | None = Field(None, description="a device's id number (not its device_id)")
    cursor: str | None = None
    limit: int = Field(50, ge=1, le=200)


# --- devices ---------------------------------------------------------------------------------

@router.get("/devices", response={200: DevicePage, **ERRORS})
def list_devices(request: HttpRequest, filters: Query[DeviceFilters]):
    page = selectors.device_list(user=request.user, params=filters.model_dump())
    return {"items": page.items, "next_cursor": page.next_cursor}


@router.post("/devices", response={201: DeviceOut, **ERRORS})
def create_device(request: HttpRequest, payload: DeviceInput):
    return Status(201, services.device_create(actor=request.user, data=payload))


@router.get("/devices/{int:device_pk}", response={200: DeviceOut, **ERRORS})
def get_device(request: HttpRequest, device_pk: int):
    return selectors.device_get(user=request.user, device_pk=device_pk)


@router.patch("/devices/{int:device_pk}", response={200: DeviceOut, **ERRORS})
def update_device(request: HttpRequest, device_pk: int, payload: DevicePatch):
    return services.device_update(actor=request.user, device_pk=device_pk, changes=payload)


@router.delete("/devices/{int:device_pk}", response={204: None, **ERRORS})
def delete_device(request: HttpRequest, device_pk: int):
    services.device_delete(actor=request.user, device_pk=device_pk)
    return Status(204, None)


# --- event rules -----------------------------------------------------------------------------

@router.get("/event-rules", response={200: list[EventRuleOut], **ERRORS})
def list_event_rules(request: HttpRequest):
    return selectors.event_rules(user=request.user)


@router.post("/event-rules", response={201: EventRuleOut, **ERRORS})
def create_event_rule(request: HttpRequest, payload: EventRuleInput):
    return Status(201, services.event_rule_create(actor=request.user, data=payload))


@router.get("/event-rules/{int:rule_id}", response={200: EventRuleOut, **ERRORS})
def get_event_rule(request: HttpRequest, rule_id: int):
    return selectors.event_rule_get(user=request.user, rule_id=rule_id)


@router.patch("/event-rules/{int:rule_id}", response={200: EventRuleOut, **ERRORS})
def update_event_rule(request: HttpRequest, rule_id: int, payload: EventRulePatch):
    return services.event_rule_update(actor=request.user, rule_id=rule_id, changes=payload)


@router.delete("/event-rules/{int:rule_id}", response={204: None, **ERRORS})
def delete_event_rule(request: HttpRequest, rule_id: int):
    services.event_rule_delete(actor=request.user, rule_id=rule_id)
    return Status(204, None)


# --- machine events --------------------------------------------------------------------------

@router.post("/events", response={201: EventOut, **ERRORS})
def report_event(request: HttpRequest, payload: MachineEventInput):
    """A device reports an event: it is logged, and the first matching rule opens a ticket for
    the device's contact (or adds to the one it opened, while that is open)."""
    reported = services.machine_event_record(actor=request.user, data=payload)
    rule: EventRule | None = reported.rule
    ticket = reported.ticket
    return Status(201, {"event_id": reported.event.id, "action": reported.action,
                        "ticket_id": ticket.id if ticket else None,
                        "reference": ticket.reference if ticket else None,
                        "rule": rule.name if rule else None,
                        "rule_id": rule.id if rule else None})


@router.get("/events", response={200: MachineEventPage, **ERRORS})
def list_events(request: HttpRequest, filters: Query[MachineEventFilters]):
    page = selectors.machine_event_list(user=request.user, params=filters.model_dump())
    return {"items": page.items, "next_cursor": page.next_cursor}
