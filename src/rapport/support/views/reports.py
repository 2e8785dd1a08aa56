"""The help desk's Reports page: per agent, category and channel, and by week, with a date
range, trend charts (plotly served by Rapport) and a CSV download; "Train now" for the
category and priority models."""

from __future__ import annotations

import csv

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.http import require_POST

from rapport.core.errors import ValidationFailed
from rapport.core.inputs import parse
from rapport.core.permissions import can, require
from rapport.support import selectors, services
from rapport.support.inputs import ReportRangeInput

MESSAGE = "the reports count every ticket: only who may view all tickets sees them"


def _range(request) -> tuple[ReportRangeInput, dict[str, list[str]]]:
    values = {k: request.GET.get(k, "") for k in ("since", "until")}
    try:
        return parse(ReportRangeInput, values), {}
    except ValidationFailed as failure:
        return ReportRangeInput(), failure.errors


def _hours(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def charts(report: selectors.Report) -> dict[str, dict]:
    """The trend charts' data: one x (the weeks' Mondays), traces by name."""
    x = [w.key.isoformat() for w in report.weeks]
    return {
        "volume": {"x": x, "traces": [
            {"name": "Tickets", "type": "bar", "y": [w.volume for w in report.weeks]}]},
        "times": {"x": x, "unit": "hours", "traces": [
            {"name": "First response, median", "y": [_hours(w.first_response_median)
                                                      for w in report.weeks]},
            {"name": "Resolution, median", "y": [_hours(w.resolution_median)
                                                  for w in report.weeks]}]},
        "quality": {"x": x, "unit": "%", "traces": [
            {"name": "SLA compliance %", "y": [_hours(w.sla_compliance) for w in report.weeks]},
            {"name": "Reopen rate %", "y": [_hours(w.reopen_rate) for w in report.weeks]},
            {"name": "CSAT × 20", "y": [None if w.csat_mean is None else round(w.csat_mean * 20, 1)
                                        for w in report.weeks]}]},
    }


@login_required
def ticket_reports(request):
    require(request.user, "tickets.view", message=MESSAGE)
    chosen, errors = _range(request)
    report = services.ticket_report(user=request.user, since=chosen.since, until=chosen.until)
    return render(request, "support/reports/page.html", {
        "r": report, "charts": charts(report), "errors": errors,
        "params": {k: request.GET.get(k, "") for k in ("since", "until")},
        "groups": [(name, title, report.by[name]) for name, title in
                   (("agent", "Agent"), ("category", "Category"), ("channel", "Channel"))],
        "models": selectors.support_model_status(),
        "can_train": can(request.user, "tickets.assign"), "section": "ticket_reports"},
        status=422 if errors else 200)


@login_required
def ticket_reports_csv(request):
    require(request.user, "tickets.view", message=MESSAGE)
    chosen, errors = _range(request)
    if errors:
        return HttpResponse("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()),
                            status=422, content_type="text/plain; charset=utf-8")
    report = services.ticket_report(user=request.user, since=chosen.since, until=chosen.until)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="ticket-report-{report.since}-{report.until}.csv"')
    writer = csv.writer(response)
    for row in selectors.report_csv_rows(report):
        writer.writerow(row)
    return response


@login_required
@require_POST
def ticket_models_train(request):
    outcome = services.support_models_train_now(actor=request.user)
    for kind, result in outcome.items():
        (messages.success if result["ready"] else messages.warning)(
            request, f"{kind.capitalize()} model: {result['message']}")
    return redirect("ticket_reports")


urlpatterns = [
    path("tickets/reports/", ticket_reports, name="ticket_reports"),
    path("tickets/reports/csv/", ticket_reports_csv, name="ticket_reports_csv"),
    path("tickets/reports/train/", ticket_models_train, name="ticket_models_train"),
]
