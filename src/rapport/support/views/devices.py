"""Pages for machines that open tickets: Settings → Devices and event rules (the rules, every
device, the latest events), a device's own page, and the devices panel on a contact's page."""

from __future__ import annotations

import json

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.urls import path
from django.views.decorators.http import require_POST

from rapport.contacts import selectors as contacts
from rapport.core.errors import PermissionDenied
from rapport.core.pages import act, done, submit
from rapport.core.permissions import can
from rapport.support import selectors, services
from rapport.support.models import Priority, RuleOperator

RULE_FIELDS = ("name", "event_type", "field", "operator", "value", "subject", "category",
               "priority")
RECENT_EVENTS = 20
PAYLOAD_SHOWN = 300  # characters of a payload in an event list


def _shown_payloads(events: list) -> list:
    """Each event with its payload as compact JSON text (the template escapes it)."""
    for event in events:
        text = json.dumps(event.payload, ensure_ascii=False, separators=(", ", ": "))
        event.payload_text = (text if len(text) <= PAYLOAD_SHOWN
                              else text[: PAYLOAD_SHOWN - 1] + "…")
    return events


def contact_panel(user, contact) -> dict:
    """The contact page's "Devices" panel: their devices and a form to register one."""
    can_view = can(user, "devices.view")
    return {"contact": contact, "can_view_devices": can_view,
            "can_change_devices": can(user, "devices.change"),
            "devices": (selectors.device_list(user=user, params={"contact_id": contact.id,
                                                                 "limit": 50}).items
                        if can_view else [])}


def _rule_values(request) -> dict:
    values = {name: request.POST.get(name, "") for name in RULE_FIELDS}
    values["active"] = request.POST.get("active") == "on"
    return values


def _rule_form_context() -> dict:
    return {"operators": [("", "— always (no condition)"), *RuleOperator.choices],
            "priorities": Priority.choices, "template_help": services.devices.TEMPLATE_HELP,
            "section": "settings"}


def _require_view(request) -> None:
    if not can(request.user, "event_rules.view"):
        raise PermissionDenied("you may not see the event rules")


@login_required
def device_settings(request):
    """The rules in the order they are tried, with a form to add one; devices; latest events."""
    _require_view(request)
    outcome = submit(lambda: None)
    values = {"priority": Priority.NORMAL, "active": True}
    if request.method == "POST":
        values = _rule_values(request)
        outcome = submit(lambda: services.event_rule_create(actor=request.user, data=values))
        if outcome.ok:
            return done(request, f"Rule {outcome.result.name} added at the end.",
                        "device_settings")
    devices = selectors.device_list(user=request.user,
                                    params={"cursor": request.GET.get("cursor"), "limit": 50})
    events = selectors.machine_event_list(user=request.user,
                                          params={"limit": RECENT_EVENTS}).items
    _shown_payloads(events)
    return render(request, "support/devices/settings.html", {
        **_rule_form_context(), "rules": selectors.event_rules(user=request.user),
        "devices": devices, "events": events, "values": values, "errors": outcome.errors,
        "can_change_rules": can(request.user, "event_rules.change")}, status=outcome.status)


@login_required
def event_rule_edit(request, rule_id: int):
    _require_view(request)
    rule = selectors.event_rule_get(user=request.user, rule_id=rule_id)
    outcome = submit(lambda: None)
    values = {name: getattr(rule, name) for name in (*RULE_FIELDS, "active")}
    if request.method == "POST":
        values = _rule_values(request)
        outcome = submit(lambda: services.event_rule_update(
            actor=request.user, rule_id=rule_id, changes=values))
        if outcome.ok:
            return done(request, f"Rule {outcome.result.name} saved.", "device_settings")
    return render(request, "support/devices/rule_edit.html", {
        **_rule_form_context(), "rule": rule, "values": values, "errors": outcome.errors},
        status=outcome.status)


@login_required
@require_POST
def event_rule_move(request, rule_id: int):
    return act(request, lambda: services.event_rule_move(
        actor=request.user, rule_id=rule_id, direction=request.POST.get("direction", "")),
        success=lambda r: f"{r.name} is now number {r.position}.", to="device_settings")


@login_required
@require_POST
def event_rule_remove(request, rule_id: int):
    services.event_rule_delete(actor=request.user, rule_id=rule_id)
    return done(request, "Rule removed.", "device_settings")


@login_required
def device_create(request, contact_id: int):
    """Register a device for this contact (the contact page's panel posts here)."""
    contact = contacts.contact_get(user=request.user, contact_id=contact_id)
    outcome = submit(lambda: None)
    values = {"device_id": "", "name": ""}
    if request.method == "POST":
        values = {"device_id": request.POST.get("device_id", ""),
                  "name": request.POST.get("name", "")}
        outcome = submit(lambda: services.device_create(
            actor=request.user, data={**values, "contact_id": contact.id}))
        if outcome.ok:
            return done(request, f"Device {outcome.result} registered.", "contact_detail",
                        contact.id)
    return render(request, "support/devices/device_form.html", {
        "contact": contact, "values": values, "errors": outcome.errors},
        status=outcome.status)


@login_required
def device_detail(request, device_pk: int):
    """One device: rename it, and what it reported."""
    device = selectors.device_get(user=request.user, device_pk=device_pk)
    outcome = submit(lambda: None)
    values = {"device_id": device.device_id, "name": device.name}
    if request.method == "POST":
        values = {"device_id": request.POST.get("device_id", ""),
                  "name": request.POST.get("name", "")}
        outcome = submit(lambda: services.device_update(
            actor=request.user, device_pk=device_pk, changes=values))
        if outcome.ok:
            return done(request, f"Device {outcome.result} saved.", "device_detail", device_pk)
    events = selectors.machine_event_list(user=request.user, params={
        "device": device.pk, "cursor": request.GET.get("cursor"), "limit": 50})
    _shown_payloads(events.items)
    return render(request, "support/devices/device_detail.html", {
        "device": device, "values": values, "errors": outcome.errors, "events": events,
        "can_change_devices": can(request.user, "devices.change")}, status=outcome.status)


@login_required
@require_POST
def device_remove(request, device_pk: int):
    device = selectors.device_get(user=request.user, device_pk=device_pk)
    services.device_delete(actor=request.user, device_pk=device_pk)
    return done(request, f"Device {device} removed.", "contact_detail", device.contact_id)


urlpatterns = [
    path("support/devices/", device_settings, name="device_settings"),
    path("support/devices/rules/<int:rule_id>/", event_rule_edit, name="event_rule_edit"),
    path("support/devices/rules/<int:rule_id>/move/", event_rule_move, name="event_rule_move"),
    path("support/devices/rules/<int:rule_id>/delete/", event_rule_remove,
         name="event_rule_delete"),
    path("support/devices/<int:device_pk>/", device_detail, name="device_detail"),
    path("support/devices/<int:device_pk>/delete/", device_remove, name="device_delete"),
    path("contacts/<int:contact_id>/devices/new/", device_create, name="device_create"),
]
