"""Reads of the help desk, always through ``Model.objects.restrict(user, action)``."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from django.db.models import Avg, Count, Q
from django.db.models.functions import TruncWeek
from django.utils import timezone

from rapport.accounts.selectors import display_names
from rapport.core.errors import NotFound
from rapport.support.models import REFERENCE_OFFSET, Channel, SupportModel, Survey, Ticket


def visible_tickets(user: Any, action: str = "view"):
    return Ticket.objects.restrict(user, action).filter(deleted_at__isnull=True)


def ticket_get(*, user: Any, ticket_id: int, action: str = "view") -> Ticket:
    ticket = (visible_tickets(user, action).select_related("contact", "assignee")
              .filter(id=ticket_id).first())
    if ticket is None:
        raise NotFound(f"no ticket with id {ticket_id}")
    return ticket


def ticket_id_of(reference: str) -> int | None:
    """``T-10234`` → the ticket's id (None if it is not a reference)."""
    reference = reference.strip().upper()
    if not reference.startswith("T-") or not reference[2:].isdigit():
        return None
    number = int(reference[2:]) - REFERENCE_OFFSET
    return number if number >= 1 else None


# --- ai: the reports (issue 11: analyse) -------------------------------------------------------
# Volume, first-response and resolution times (median and p90), SLA compliance, reopen rate and
# CSAT per agent, category and channel, and by week. Counts are aggregated in SQL; the
# percentiles are computed in Python over the durations of the range's tickets only.

REPORT_DIMENSIONS = {"agent": "assignee_id", "category": "category", "channel": "channel"}
REPORT_DAYS = 84  # the default range: the last 12 weeks
# Times are wall-clock hours from the ticket's creation (the SLA timers count business time).
TIME_BASIS = "wall-clock hours"


@dataclass
class ReportRow:
    key: Any  # the agent's id, the category or the channel ("" / None: none)
    label: str
    volume: int = 0
    sla_met: int = 0
    sla_breached: int = 0
    reopened: int = 0
    csat_mean: float | None = None
    csat_count: int = 0
    responded: int = 0
    resolved: int = 0
    first_response_median: float | None = None
    first_response_p90: float | None = None
    resolution_median: float | None = None
    resolution_p90: float | None = None

    @property
    def sla_compliance(self) -> float | None:
        """% of the tickets with a verdict (met or breached) that met it."""
        judged = self.sla_met + self.sla_breached
        return 100.0 * self.sla_met / judged if judged else None

    @property
    def reopen_rate(self) -> float | None:
        return 100.0 * self.reopened / self.volume if self.volume else None


@dataclass
class Report:
    since: dt.date
    until: dt.date
    time_basis: str
    total: ReportRow
    by: dict[str, list[ReportRow]]
    weeks: list[ReportRow]  # key: the Monday of the week


def percentile(values: list[float], q: float) -> float | None:
    """The q-th percentile by linear interpolation between the closest ranks (numpy's default;
    the median is the middle value, or the mean of the two middle ones)."""
    if not values:
        return None
    return float(np.percentile(np.asarray(values, dtype=float), q))


def _report_counts(queryset, group: str | None) -> dict[Any, dict[str, int]]:
    figures = {"volume": Count("id"), "sla_met": Count("id", filter=Q(sla_state="met")),
               "sla_breached": Count("id", filter=Q(sla_state="breached")),
               "reopened": Count("id", filter=Q(reopened_count__gt=0))}
    if group is None:
        return {None: queryset.aggregate(**figures)}
    return {row.pop(group): row
            for row in queryset.values(group).annotate(**figures).order_by()}


def _week_of(moment: dt.datetime) -> dt.date:
    day = timezone.localtime(moment).date()
    return day - dt.timedelta(days=day.weekday())


def _wall_seconds(start: dt.datetime, end: dt.datetime) -> float:
    return max(0.0, (end - start).total_seconds())


def ticket_report(*, user: Any, since: dt.date | None = None, until: dt.date | None = None,
                  clock: Callable[[dt.datetime, dt.datetime], float] | None = None,
                  time_basis: str = TIME_BASIS) -> Report:
    """The help desk's figures for the tickets created from ``since`` to ``until`` (both
    included; default: the last 12 weeks) that ``user`` may see; merged duplicates left out.

    ``clock(start, end)`` gives the seconds counted between two moments (default: wall-clock
    seconds; the services pass the desk's business hours when they have them) and
    ``time_basis`` says which in words."""
    clock = clock or _wall_seconds
    until = until or timezone.localdate()
    since = since or until - dt.timedelta(days=REPORT_DAYS - 1)
    zone = timezone.get_current_timezone()
    start = dt.datetime.combine(since, dt.time.min, tzinfo=zone)
    end = dt.datetime.combine(until + dt.timedelta(days=1), dt.time.min, tzinfo=zone)
    tickets = visible_tickets(user).filter(created_at__gte=start, created_at__lt=end,
                                           merged_into__isnull=True)

    groups: dict[str, dict[Any, ReportRow]] = {}
    total = ReportRow(key=None, label="All tickets", **_report_counts(tickets, None)[None])
    for name, column in REPORT_DIMENSIONS.items():
        groups[name] = {key: ReportRow(key=key, label="", **counts)
                        for key, counts in _report_counts(tickets, column).items()}
    weeks = {_week_of(key) if isinstance(key, dt.datetime) else key:
             ReportRow(key=None, label="", **counts)
             for key, counts in _report_counts(
                 tickets.annotate(week=TruncWeek("created_at", tzinfo=zone)), "week").items()}
    for day, row in weeks.items():
        row.key, row.label = day, day.isoformat()

    surveys = Survey.objects.filter(ticket__in=tickets, score__isnull=False)
    csat = {"csat_mean": Avg("score"), "csat_count": Count("id")}
    found = surveys.aggregate(**csat)
    total.csat_mean, total.csat_count = found["csat_mean"], found["csat_count"]
    for name, column in REPORT_DIMENSIONS.items():
        for row in surveys.values(f"ticket__{column}").annotate(**csat).order_by():
            key = row[f"ticket__{column}"]
            if key in groups[name]:
                groups[name][key].csat_mean = row["csat_mean"]
                groups[name][key].csat_count = row["csat_count"]
    for row in (surveys.annotate(week=TruncWeek("ticket__created_at", tzinfo=zone))
                .values("week").annotate(**csat).order_by()):
        week = weeks.get(_week_of(row["week"]) if isinstance(row["week"], dt.datetime)
                         else row["week"])
        if week is not None:
            week.csat_mean, week.csat_count = row["csat_mean"], row["csat_count"]

    # Durations: only the tickets answered or resolved, only their few columns.
    first: dict[tuple[str, Any], list[float]] = defaultdict(list)
    resolution: dict[tuple[str, Any], list[float]] = defaultdict(list)
    timed = (tickets.filter(Q(first_responded_at__isnull=False) | Q(resolved_at__isnull=False))
             .values_list("assignee_id", "category", "channel", "created_at",
                          "first_responded_at", "resolved_at"))
    for agent, category, channel, created, responded, resolved in timed.iterator(2000):
        keys = (("total", None), ("agent", agent), ("category", category),
                ("channel", channel), ("week", _week_of(created)))
        if responded is not None:
            hours = clock(created, responded) / 3600
            for key in keys:
                first[key].append(hours)
        if resolved is not None:
            hours = clock(created, resolved) / 3600
            for key in keys:
                resolution[key].append(hours)

    def timed_row(kind: str, key: Any, row: ReportRow) -> ReportRow:
        answered, closed = first.get((kind, key), []), resolution.get((kind, key), [])
        row.responded, row.resolved = len(answered), len(closed)
        row.first_response_median = percentile(answered, 50)
        row.first_response_p90 = percentile(answered, 90)
        row.resolution_median = percentile(closed, 50)
        row.resolution_p90 = percentile(closed, 90)
        return row

    timed_row("total", None, total)
    names = display_names(user_ids={k for k in groups["agent"] if k is not None})
    labels = {"agent": lambda k: names.get(k, f"user {k}") if k is not None else "unassigned",
              "category": lambda k: k or "(no category)",
              "channel": lambda k: Channel(k).label if k in Channel.values else k}
    by = {}
    for name, rows in groups.items():
        for key, row in rows.items():
            row.label = labels[name](key)
            timed_row(name, key, row)
        by[name] = sorted(rows.values(), key=lambda r: (-r.volume, r.label))
    week_rows = [timed_row("week", day, row) for day, row in sorted(weeks.items())]
    return Report(since=since, until=until, time_basis=time_basis, total=total, by=by,
                  weeks=week_rows)


REPORT_COLUMNS = ("group", "name", "tickets", "first response median h",
                  "first response p90 h", "resolution median h", "resolution p90 h",
                  "SLA met", "SLA breached", "SLA compliance %", "reopened", "reopen rate %",
                  "CSAT mean", "CSAT answers")


def _cell(value: Any) -> Any:
    return "" if value is None else round(value, 2) if isinstance(value, float) else value


def report_csv_rows(report: Report):
    """The report as CSV rows (the header first): the total, each group's rows, each week."""
    yield list(REPORT_COLUMNS)
    sections = [("total", [report.total]), *report.by.items(), ("week", report.weeks)]
    for group, rows in sections:
        for row in rows:
            yield [group, row.label, row.volume, *(_cell(v) for v in (
                row.first_response_median, row.first_response_p90, row.resolution_median,
                row.resolution_p90)), row.sla_met, row.sla_breached,
                _cell(row.sla_compliance), row.reopened, _cell(row.reopen_rate),
                _cell(row.csat_mean), row.csat_count]


def support_model_status() -> list[dict[str, Any]]:
    """Each text model (category, priority): the one predicting (newest ready) and the latest
    attempt (which may have declined, saying why)."""
    out = []
    for kind in ("category", "priority"):
        rows = SupportModel.objects.filter(kind=kind).defer("artifact")
        out.append({"kind": kind,
                    "current": rows.filter(ready=True).order_by("-trained_at", "-id").first(),
                    "last": rows.order_by("-trained_at", "-id").first()})
    return out
