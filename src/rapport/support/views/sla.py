"""Settings → Business hours and Settings → SLA policies (owner role: ``settings.change``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import holidays
from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.urls import path
from django.views.decorators.http import require_POST

from rapport.core.errors import PermissionDenied, ValidationFailed
from rapport.core.pages import act, done, submit
from rapport.core.permissions import can
from rapport.support.models import Priority, Tier
from rapport.support.services import hours, sla


def _require_settings(request) -> None:
    if not can(request.user, "settings.change"):
        raise PermissionDenied("only the owner role changes the help desk's SLA settings")


def _spans_text(spans: list[list[str]]) -> str:
    return ", ".join(f"{start}-{end}" for start, end in spans)


def _closed_days(text: str) -> tuple[list[dict[str, Any]], list[str]]:
    """``2026-12-24 Christmas Eve`` per line → closed days, and the lines that are not."""
    days, bad = [], []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        day, _, name = line.partition(" ")
        try:
            days.append({"day": dt.date.fromisoformat(day), "name": name.strip()})
        except ValueError:
            bad.append(f"line {number}: {day!r} is not a day written YYYY-MM-DD")
    return days, bad


@login_required
def business_hours_settings(request):
    _require_settings(request)
    current = sla.business_hours()
    values: dict[str, Any] = {
        "time_zone": current["time_zone"], "holiday_country": current["holiday_country"],
        "holiday_subdivision": current["holiday_subdivision"],
        **{f"hours_{key}": _spans_text(current["hours"][key]) for key in hours.DAY_KEYS},
        "closed_days": "\n".join(f"{d['day'].isoformat()} {d['name']}".strip()
                                 for d in current["closed_days"])}
    outcome = submit(lambda: None)
    if request.method == "POST":
        values = {name: request.POST.get(name, "") for name in values}
        days, bad = _closed_days(values["closed_days"])
        data = {"time_zone": values["time_zone"], "holiday_country": values["holiday_country"],
                "holiday_subdivision": values["holiday_subdivision"],
                "hours": {key: values[f"hours_{key}"] for key in hours.DAY_KEYS},
                "closed_days": days}
        errors: dict[str, list[str]] = {}
        if bad:  # show every problem at once, and save nothing
            errors = {"closed_days": bad}
            try:
                sla.business_hours_check({**data, "closed_days": days})
            except ValidationFailed as failure:
                errors.update(failure.errors)
        outcome = submit(lambda: sla.business_hours_set(actor=request.user, data=data),
                         errors=errors)
        if outcome.ok:
            return done(request, "Business hours saved; new SLA timers count in them.",
                        "business_hours_settings")
    cal = sla.business_calendar(fresh=True)
    year = dt.date.today().year
    upcoming = []
    if cal.country:
        upcoming = sorted(d for d in hours.public_holidays(cal.country, cal.subdivision, year)
                          | hours.public_holidays(cal.country, cal.subdivision, year + 1)
                          if d >= dt.date.today())[:8]
    return render(request, "support/sla/business_hours.html", {
        "values": values, "errors": outcome.errors, "section": "settings",
        "days": list(zip(hours.DAY_KEYS, hours.DAY_NAMES, strict=True)),
        "countries": sorted(c for c in holidays.list_supported_countries() if len(c) == 2),
        "upcoming": upcoming}, status=outcome.status)


POLICY_FIELDS = ("priority", "tier", "first_response_minutes", "resolution_minutes",
                 "at_risk_percent", "name")


@login_required
def sla_policy_settings(request):
    _require_settings(request)
    values: dict[str, Any] = {"priority": Priority.NORMAL, "tier": Tier.STANDARD,
                              "at_risk_percent": "80", "active": True}
    editing = None
    if request.GET.get("edit", "").isdigit():
        editing = sla.sla_policy_get(policy_id=int(request.GET["edit"]))
        values = {"priority": editing.priority, "tier": editing.tier, "name": editing.name,
                  "first_response_minutes": hours.target_words(editing.first_response_minutes),
                  "resolution_minutes": hours.target_words(editing.resolution_minutes),
                  "at_risk_percent": str(editing.at_risk_percent), "active": editing.active}
    outcome = submit(lambda: None)
    if request.method == "POST":
        values = {name: request.POST.get(name, "") for name in POLICY_FIELDS}
        values["active"] = request.POST.get("active") == "on"
        policy_id = request.POST.get("policy_id", "")
        if policy_id.isdigit():
            editing = sla.sla_policy_get(policy_id=int(policy_id))
            outcome = submit(lambda: sla.sla_policy_update(
                actor=request.user, policy_id=editing.id, data=values))
        else:
            outcome = submit(lambda: sla.sla_policy_create(actor=request.user, data=values))
        if outcome.ok:
            return done(request, "Policy saved; tickets opened from now on follow it.",
                        "sla_policy_settings")
    rows = [{"policy": p, "first": hours.target_words(p.first_response_minutes),
             "resolution": hours.target_words(p.resolution_minutes)}
            for p in sla.sla_policies()]
    return render(request, "support/sla/policies.html", {
        "rows": rows, "values": values, "errors": outcome.errors, "editing": editing,
        "priorities": Priority.choices, "tiers": Tier.choices, "section": "settings",
        "premium_tags": sla.premium_tags()}, status=outcome.status)


@login_required
@require_POST
def sla_policy_remove(request, policy_id: int):
    _require_settings(request)
    return act(request, lambda: sla.sla_policy_delete(actor=request.user, policy_id=policy_id),
               success="Policy deleted.", to="sla_policy_settings")


urlpatterns = [
    path("settings/business-hours/", business_hours_settings, name="business_hours_settings"),
    path("settings/sla-policies/", sla_policy_settings, name="sla_policy_settings"),
    path("settings/sla-policies/<int:policy_id>/delete/", sla_policy_remove,
         name="sla_policy_delete"),
]
