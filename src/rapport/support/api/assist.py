"""/api/v1/ endpoints of AI for agents and the reports: the assist panel's contents for a
ticket, and the help desk's figures per agent, category, channel and week."""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest
from ninja import Query, Router, Schema

from rapport.core.api_schemas import ERRORS
from rapport.core.inputs import parse
from rapport.core.permissions import require
from rapport.support import selectors, services
from rapport.support.inputs import ReportRangeInput

router = Router(tags=["support"])


class AssistSimilarOut(Schema):
    id: int
    reference: str
    subject: str
    status: str
    score: float
    reply: str
    url: str


class AssistArticleOut(Schema):
    id: int
    title: str
    slug: str
    url: str
    score: float
    passage: str


class AssistPredictionOut(Schema):
    category: str
    category_confidence: float | None
    priority: str
    priority_confidence: float | None
    category_model: str
    priority_model: str


class TicketAssistOut(Schema):
    ticket_id: int
    reference: str
    history: list[str]
    similar: list[AssistSimilarOut]
    articles: list[AssistArticleOut]
    prediction: AssistPredictionOut
    sentiment: float | None
    angry: bool
    urgent: bool
    urgent_reasons: list[str]
    suggested_reply: str
    reply_source: str


@router.get("/tickets/{ticket_id}/assist", response={200: TicketAssistOut, **ERRORS})
def get_assist(request: HttpRequest, ticket_id: int):
    """The assist panel of a ticket you may view: the customer in three lines, similar
    resolved tickets, likely articles, predictions, mood and a suggested reply."""
    a = services.ticket_assist(user=request.user, ticket_id=ticket_id,
                               base_url=request.build_absolute_uri("/").rstrip("/"))
    return {"ticket_id": a.ticket.id, "reference": a.ticket.reference, "history": a.history,
            "similar": [vars(s) for s in a.similar], "articles": [vars(x) for x in a.articles],
            "prediction": vars(a.prediction), "sentiment": a.sentiment, "angry": a.angry,
            "urgent": a.urgent, "urgent_reasons": a.urgent_reasons,
            "suggested_reply": a.suggested_reply, "reply_source": a.reply_source}


class TicketReportFilters(Schema):
    since: dt.date | None = None
    until: dt.date | None = None


class TicketReportRowOut(Schema):
    key: str | int | None
    label: str
    volume: int
    first_response_median: float | None
    first_response_p90: float | None
    resolution_median: float | None
    resolution_p90: float | None
    responded: int
    resolved: int
    sla_met: int
    sla_breached: int
    sla_compliance: float | None
    reopened: int
    reopen_rate: float | None
    csat_mean: float | None
    csat_count: int


class TicketReportOut(Schema):
    since: dt.date
    until: dt.date
    time_basis: str
    total: TicketReportRowOut
    agent: list[TicketReportRowOut]
    category: list[TicketReportRowOut]
    channel: list[TicketReportRowOut]
    weeks: list[TicketReportRowOut]


def _row(row: selectors.ReportRow) -> dict:
    out = {name: getattr(row, name) for name in TicketReportRowOut.model_fields}
    if isinstance(row.key, dt.date):
        out["key"] = row.key.isoformat()
    return out


@router.get("/tickets/reports", response={200: TicketReportOut, **ERRORS})
def get_reports(request: HttpRequest, filters: Query[TicketReportFilters]):
    """Volume, first-response and resolution hours (median, p90), SLA compliance %, reopen
    rate % and CSAT per agent, category, channel and week, for tickets created from ``since``
    to ``until`` (default: the last 12 weeks). Only who may view all tickets."""
    require(request.user, "tickets.view",
            message="the reports count every ticket: only who may view all tickets sees them")
    chosen = parse(ReportRangeInput, filters.model_dump())
    report = services.ticket_report(user=request.user, since=chosen.since, until=chosen.until)
    return {"since": report.since, "until": report.until, "time_basis": report.time_basis,
            "total": _row(report.total), "weeks": [_row(w) for w in report.weeks],
            **{name: [_row(r) for r in rows] for name, rows in report.by.items()}}
