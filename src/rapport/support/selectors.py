"""Reads of the help desk, always through ``Model.objects.restrict(user, action)``."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from django.db.models import (
    Count,
    DateTimeField,
    F,
    FloatField,
    Func,
    Prefetch,
    Q,
    Sum,
    Value,
)
from django.db.models.functions import Floor
from django.utils import timezone

from rapport.accounts.selectors import display_names
from rapport.core.errors import NotFound, ValidationFailed
from rapport.core.pagination import id_param, merged_page, page_limit
from rapport.core.permissions import visible_owners
from rapport.support.models import (
    CHANNELS,
    OPEN_STATUSES,
    PRIORITIES,
    REFERENCE_OFFSET,
    STATUSES,
    AssignmentLog,
    Channel,
    StatusChange,
    SupportModel,
    Survey,
    Ticket,
    TicketAttachment,
    TicketMessage,
    TicketView,
)


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


# --- desk: the ticket list, a ticket's thread and log, saved views, contact panel, search ---

TICKET_VIEWS = {"mine": "Mine", "unassigned": "Unassigned", "at_risk": "At risk"}
AT_RISK_STATES = ("at_risk", "breached")


def _ticket_params(params: dict[str, Any] | None) -> dict[str, Any]:
    return {k: v for k, v in (params or {}).items() if v not in (None, "")}


def ticket_list(*, user: Any, params: dict[str, Any] | None = None):
    """Newest tickets first, one keyset page. Filters: status (a status or ``active``: new,
    open and waiting), assignee (``me``, ``none`` or a user id), priority, category,
    channel, q (reference, subject or requester's address), view (``mine``,
    ``unassigned``, ``at_risk``: SLA at risk or breached; each of open tickets only).

    The page is read as branches, one per status (and per assignee, when the list is one
    person's or a team's), each walking its own index in order (``merged_page``): the cost
    stays that of a page however many tickets the business has."""
    params = _ticket_params(params)
    limit = page_limit(params)
    wanted = Q()  # the filters, applied to each branch
    view = params.get("view")
    if view:
        if view not in TICKET_VIEWS:
            raise ValidationFailed({"view": f"must be one of {', '.join(TICKET_VIEWS)}"})
        if view == "mine":
            params.setdefault("assignee", "me")
        elif view == "unassigned":
            params.setdefault("assignee", "none")
        else:
            wanted &= Q(sla_state__in=AT_RISK_STATES)
        params.setdefault("status", "active")
    status = params.get("status")
    statuses: tuple[str, ...] = STATUSES
    if status:
        if status == "active":
            statuses = tuple(OPEN_STATUSES)
        elif status not in STATUSES:
            raise ValidationFailed({"status": f"must be one of active, {', '.join(STATUSES)}"})
        else:
            statuses = (status,)
    assignee = params.get("assignee")
    visible = visible_owners(user, "tickets.view")
    owners: list[int | None] | None = None if visible is None else list(visible)
    if assignee == "none":
        owners = [None] if owners is None else []
    elif assignee == "me":
        owners = [user.id] if owners is None or user.id in owners else []
    elif assignee:
        assignee_id = id_param(params, "assignee", "a user id, me or none")
        owners = [assignee_id] if owners is None or assignee_id in owners else []
    for name, allowed in (("priority", PRIORITIES), ("channel", CHANNELS)):
        value = params.get(name)
        if value:
            if value not in allowed:
                raise ValidationFailed({name: f"must be one of {', '.join(allowed)}"})
            wanted &= Q(**{name: value})
    if params.get("category"):
        wanted &= Q(category=str(params["category"])[:100])
    if params.get("q"):
        q = str(params["q"]).strip()[:200]
        ticket_id = ticket_id_of(q)
        if ticket_id is not None:
            wanted &= Q(id=ticket_id)
        else:
            wanted &= Q(subject__icontains=q) | Q(requester_email__icontains=q.lower())
    fields = ("created_at", "id")
    lead: tuple[str, ...]
    if owners is None:
        queryset = visible_tickets(user).filter(wanted)
        branches, lead = [queryset.filter(status=s) for s in statuses], ("status",)
    else:
        # Only the owners the user may see (visible_owners): each branch is one assignee's
        # (assignee, status, created_at) index, with no other scope condition to mislead
        # the planner.
        queryset = Ticket.objects.filter(wanted, deleted_at__isnull=True)
        def mine(owner: int | None) -> Q:
            return Q(assignee_id=owner) if owner is not None else Q(assignee__isnull=True)

        if set(statuses) == set(STATUSES):  # every status: (assignee, created_at) index
            branches = [queryset.filter(mine(o)) for o in owners]
            lead = ("assignee_id",)
        else:
            branches = [queryset.filter(mine(o), status=s) for o in owners for s in statuses]
            lead = ("assignee_id", "status")

    def load(ids: list[int]) -> list[Ticket]:
        return list(Ticket.objects.filter(id__in=ids).select_related("contact", "assignee"))

    return merged_page(branches, fields, True, params.get("cursor"), limit, load=load,
                       lead=lead, filters=params)


def ticket_thread(*, ticket_id: int, limit: int = 500) -> list[Any]:
    """The ticket's messages in order (load the ticket first: that is the check)."""
    files = TicketAttachment.objects.defer("data").order_by("id")
    return list(TicketMessage.objects.filter(ticket_id=ticket_id).select_related("author")
                .prefetch_related(Prefetch("attachments", queryset=files))
                .order_by("created_at", "id")[:limit])


def ticket_attachment(*, ticket_id: int, attachment_id: int) -> Any:
    """A file of this ticket's thread (load the ticket first: that is the check)."""
    found = TicketAttachment.objects.filter(id=attachment_id,
                                            message__ticket_id=ticket_id).first()
    if found is None:
        raise NotFound(f"no attachment {attachment_id} on this ticket")
    return found


def ticket_assignments(*, ticket_id: int, limit: int = 50) -> list[Any]:
    return list(AssignmentLog.objects.filter(ticket_id=ticket_id)
                .select_related("assignee", "actor").order_by("-id")[:limit])


def ticket_statuses(*, ticket_id: int, limit: int = 100) -> list[Any]:
    return list(StatusChange.objects.filter(ticket_id=ticket_id).select_related("actor")
                .order_by("at", "id")[:limit])


def saved_views(*, user: Any) -> list[Any]:
    return list(TicketView.objects.filter(user=user).order_by("name"))


def contact_tickets(*, user: Any, contact_id: int, limit: int = 10) -> list[Ticket]:
    return list(visible_tickets(user).filter(contact_id=contact_id)
                .select_related("assignee").order_by("-created_at", "-id")[:limit])


# --- end desk ---
# --- events: devices, event rules and what machines reported ---------------------------------


from rapport.contacts import selectors as _contacts  # noqa: E402
from rapport.core.pagination import Page, keyset, page_of  # noqa: E402
from rapport.core.permissions import can  # noqa: E402
from rapport.support.models import Device, EventRule, MachineEvent  # noqa: E402


def visible_devices(user: Any):
    """The devices of the contacts ``user`` sees (none without ``devices.view``)."""
    if not can(user, "devices.view"):
        return Device.objects.none()
    return Device.objects.filter(contact__in=_contacts.visible_contacts(user).values("id"))


def device_list(*, user: Any, params: dict[str, Any] | None = None) -> Page:
    """Devices, newest first; ``contact_id`` keeps one customer's, ``q`` matches id or name."""
    params = {k: v for k, v in (params or {}).items() if v not in (None, "")}
    queryset = visible_devices(user).select_related("contact")
    contact_id = id_param(params, "contact_id", "a contact's id")
    if contact_id is not None:
        queryset = queryset.filter(contact_id=contact_id)
    if params.get("q"):
        q = str(params["q"]).strip()[:100]
        queryset = queryset.filter(Q(device_id__icontains=q) | Q(name__icontains=q))
    fields = ("id",)
    return page_of(keyset(queryset, fields, True, params.get("cursor")), fields,
                   page_limit(params), params)


# --- assistant: the knowledge base and the help centre ---


from rapport.support.models import (  # noqa: E402
    Article,
    ArticleCategory,
    ArticleStatus,
    ChatConversation,
)


def visible_articles(user: Any, action: str = "view"):
    return (Article.objects.restrict(user, action).filter(deleted_at__isnull=True)
            .select_related("category"))


def article_list(*, user: Any, params: dict[str, Any] | None = None) -> Page:
    """Articles newest change first, filtered by ``status``, ``category`` (id), ``faq``
    ("1"/"0") and ``q`` (part of the title)."""
    params = {k: v for k, v in (params or {}).items() if v not in (None, "")}
    queryset = visible_articles(user)
    if params.get("status"):
        if params["status"] not in ArticleStatus.values:
            raise ValidationFailed({"status": f"is one of {', '.join(ArticleStatus.values)}"})
        queryset = queryset.filter(status=params["status"])
    if params.get("category"):
        try:
            queryset = queryset.filter(category_id=int(params["category"]))
        except (TypeError, ValueError):
            raise ValidationFailed({"category": "is a category id"}) from None
    if str(params.get("faq", "")) in ("1", "true", "True"):
        queryset = queryset.filter(is_faq=True)
    elif str(params.get("faq", "")) in ("0", "false", "False"):
        queryset = queryset.filter(is_faq=False)
    if params.get("q"):
        q = str(params["q"]).strip()[:200]
        queryset = queryset.filter(Q(title__icontains=q) | Q(slug__icontains=q))
    fields = ("updated_at", "id")
    return page_of(keyset(queryset, fields, True, params.get("cursor")), fields,
                   page_limit(params), params)


def device_get(*, user: Any, device_pk: int) -> Device:
    device = visible_devices(user).select_related("contact").filter(pk=device_pk).first()
    if device is None:
        raise NotFound(f"no device with id {device_pk}")
    return device


def event_rules(*, user: Any) -> list[EventRule]:
    """Every rule in the order they are tried (none without ``event_rules.view``)."""
    if not can(user, "event_rules.view"):
        return []
    return list(EventRule.objects.order_by("position", "id"))


def event_rule_get(*, user: Any, rule_id: int) -> EventRule:
    rule = (EventRule.objects.filter(pk=rule_id).first()
            if can(user, "event_rules.view") else None)
    if rule is None:
        raise NotFound(f"no event rule with id {rule_id}")
    return rule


def machine_event_list(*, user: Any, params: dict[str, Any] | None = None) -> Page:
    """What devices reported, newest first; ``device`` (a device's id number) keeps one's."""
    params = {k: v for k, v in (params or {}).items() if v not in (None, "")}
    queryset = (MachineEvent.objects
                .filter(device__in=visible_devices(user).values("id"))
                .select_related("device", "rule", "ticket"))
    device = id_param(params, "device", "a device's id number")
    if device is not None:
        queryset = queryset.filter(device_id=device)
    fields = ("id",)
    return page_of(keyset(queryset, fields, True, params.get("cursor")), fields,
                   page_limit(params), params)
def article_get(*, user: Any, article_id: int) -> Article:
    article = visible_articles(user).filter(id=article_id).first()
    if article is None:
        raise NotFound(f"no article with id {article_id}")
    return article


def article_categories() -> list[ArticleCategory]:
    return list(ArticleCategory.objects.order_by("position", "name"))


def published_articles():
    return (Article.objects.filter(status=ArticleStatus.PUBLISHED, deleted_at__isnull=True)
            .select_related("category"))


def help_centre() -> list[tuple[ArticleCategory | None, list[Article]]]:
    """The published articles by category (the categories' order, then "Other")."""
    groups: dict[int | None, list[Article]] = {}
    for article in published_articles().order_by("-is_faq", "title").only(
            "id", "title", "slug", "is_faq", "category_id", "body"):
        groups.setdefault(article.category_id, []).append(article)
    shelves: list[tuple[ArticleCategory | None, list[Article]]] = [
        (category, groups[category.id]) for category in article_categories()
        if category.id in groups]
    if None in groups:
        shelves.append((None, groups[None]))
    return shelves


def public_article(*, slug: str) -> Article:
    article = published_articles().filter(slug=slug).first()
    if article is None:
        raise NotFound("no such article in the help centre")
    return article


def recent_conversations(*, limit: int = 20) -> list[ChatConversation]:
    return list(ChatConversation.objects.order_by("-created_at", "-id")[:limit])


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


def percentile(values: Any, q: float) -> float | None:
    """The q-th percentile by linear interpolation between the closest ranks (numpy's default;
    the median is the middle value, or the mean of the two middle ones)."""
    if len(values) == 0:
        return None
    return float(np.percentile(np.asarray(values, dtype=float), q))


class _Seconds(Func):
    """Seconds from one datetime column (or value) to another, computed by the database as a
    float (NULL if either is NULL): no datetime is parsed in Python."""

    output_field = FloatField()
    arity = 2

    def __init__(self, start: Any, end: Any):
        super().__init__(end, start)  # the SQL below subtracts the second from the first

    def as_sqlite(self, compiler, connection, **extra):
        return self.as_sql(compiler, connection, arg_joiner=") - julianday(",
                           template="((julianday(%(expressions)s)) * 86400.0)", **extra)

    def as_postgresql(self, compiler, connection, **extra):
        return self.as_sql(compiler, connection, arg_joiner=" - ",
                           template="EXTRACT(EPOCH FROM (%(expressions)s))::double precision",
                           **extra)


def _week_index(column: str, anchor: dt.datetime):
    """Whole weeks from ``anchor`` (a local Monday, midnight) to the column's moment."""
    return Floor(_Seconds(Value(anchor, output_field=DateTimeField()), F(column)) / WEEK)


WEEK = 7 * 86400.0
_FIGURES = ("volume", "sla_met", "sla_breached", "reopened", "csat_sum", "csat_count")


def ticket_report(*, user: Any, since: dt.date | None = None, until: dt.date | None = None,
                  clock: Callable[[dt.datetime, dt.datetime], float] | None = None,
                  time_basis: str = TIME_BASIS) -> Report:
    """The help desk's figures for the tickets created from ``since`` to ``until`` (both
    included; default: the last 12 weeks) that ``user`` may see; merged duplicates left out.

    Three queries: the counts grouped by (agent, category, channel, week) in SQL and rolled up
    here (a few thousand groups at most), the CSAT sums the same way, and the durations of the
    answered or resolved tickets (computed by the database) for the percentiles.

    ``clock(start, end)`` gives the seconds counted between two moments (default: wall-clock
    seconds, computed in SQL; the services pass the desk's business hours when they have them)
    and ``time_basis`` says which in words. Weeks run from Monday 00:00 in the current time
    zone, counted as whole 7-day spans from the range's first Monday."""
    until = until or timezone.localdate()
    since = since or until - dt.timedelta(days=REPORT_DAYS - 1)
    zone = timezone.get_current_timezone()
    start = dt.datetime.combine(since, dt.time.min, tzinfo=zone)
    end = dt.datetime.combine(until + dt.timedelta(days=1), dt.time.min, tzinfo=zone)
    monday = since - dt.timedelta(days=since.weekday())
    anchor = dt.datetime.combine(monday, dt.time.min, tzinfo=zone)
    tickets = visible_tickets(user).filter(created_at__gte=start, created_at__lt=end,
                                           merged_into__isnull=True)
    columns = ("assignee_id", "category", "channel", "week")

    rows: dict[tuple, dict[str, float]] = defaultdict(lambda: dict.fromkeys(_FIGURES, 0))
    for found in (tickets.annotate(week=_week_index("created_at", anchor)).values(*columns)
                  .annotate(volume=Count("id"), sla_met=Count("id", filter=Q(sla_state="met")),
                            sla_breached=Count("id", filter=Q(sla_state="breached")),
                            reopened=Count("id", filter=Q(reopened_count__gt=0)))
                  .order_by()):
        row = rows[tuple(found[c] for c in columns)]
        for name in ("volume", "sla_met", "sla_breached", "reopened"):
            row[name] += found[name]
    surveys = (Survey.objects.filter(ticket__in=tickets, score__isnull=False)
               .annotate(week=_week_index("ticket__created_at", anchor)))
    for found in (surveys.values(*(f"ticket__{c}" for c in columns[:3]), "week")
                  .annotate(csat_sum=Sum("score"), csat_count=Count("id")).order_by()):
        key = (found["ticket__assignee_id"], found["ticket__category"],
               found["ticket__channel"], found["week"])
        rows[key]["csat_sum"] += found["csat_sum"]
        rows[key]["csat_count"] += found["csat_count"]

    def week_day(index: Any) -> dt.date:
        return monday + dt.timedelta(weeks=int(index))

    groups: dict[str, dict[Any, dict[str, float]]] = {
        name: defaultdict(lambda: dict.fromkeys(_FIGURES, 0))
        for name in ("total", *REPORT_DIMENSIONS, "week")}
    for (agent, category, channel, week), figures in rows.items():
        for name, group_key in (("total", None), ("agent", agent), ("category", category),
                                ("channel", channel), ("week", week_day(week))):
            into = groups[name][group_key]
            for figure, value in figures.items():
                into[figure] += value

    # Durations: only the tickets answered or resolved, only what the percentiles need;
    # grouped with numpy (one sort per dimension), not a Python loop per ticket.
    timed = (tickets.filter(Q(first_responded_at__isnull=False) | Q(resolved_at__isnull=False))
             .annotate(week=_week_index("created_at", anchor)))
    if clock is None:
        timed = timed.annotate(first_s=_Seconds(F("created_at"), F("first_responded_at")),
                               resolved_s=_Seconds(F("created_at"), F("resolved_at")))
        found_rows = list(timed.values_list(*columns, "first_s", "resolved_s"))
    else:
        found_rows = [(agent, category, channel, week,
                       None if responded is None else clock(created, responded),
                       None if resolved is None else clock(created, resolved))
                      for agent, category, channel, week, created, responded, resolved
                      in timed.values_list(*columns, "created_at", "first_responded_at",
                                           "resolved_at").iterator(5000)]
    first: dict[tuple[str, Any], np.ndarray] = {}
    resolution: dict[tuple[str, Any], np.ndarray] = {}
    if found_rows:
        agent, category, channel, week, first_s, resolved_s = zip(*found_rows, strict=True)

        def hours(seconds: tuple) -> np.ndarray:
            values = np.array([np.nan if v is None else v for v in seconds], dtype=float)
            # julianday is exact to ~10 µs: whole milliseconds; a clock before creation is 0
            return np.maximum(np.round(values, 3), 0.0) / 3600

        durations = {"first": hours(first_s), "resolved": hours(resolved_s)}
        keyed = {"total": [None] * len(found_rows), "agent": agent, "category": category,
                 "channel": channel, "week": [week_day(w) for w in week]}
        for kind, keys in keyed.items():
            codes, uniques = pd.factorize(pd.Series(keys, dtype=object), use_na_sentinel=False)
            order = np.argsort(codes, kind="stable")
            bounds = np.searchsorted(codes[order], np.arange(len(uniques) + 1))
            for i, unique in enumerate(uniques):
                members = order[bounds[i]:bounds[i + 1]]
                member_key: Any = None if unique is None or (
                    isinstance(unique, float) and np.isnan(unique)) else unique
                if kind == "agent" and member_key is not None:
                    member_key = int(member_key)
                for name, spans in (("first", first), ("resolved", resolution)):
                    values = durations[name][members]
                    spans[(kind, member_key)] = values[~np.isnan(values)]

    def report_row(kind: str, key: Any, label: str) -> ReportRow:
        figures = groups[kind][key]
        answered = first.get((kind, key), np.empty(0))
        closed = resolution.get((kind, key), np.empty(0))
        return ReportRow(
            key=key, label=label, volume=int(figures["volume"]),
            sla_met=int(figures["sla_met"]), sla_breached=int(figures["sla_breached"]),
            reopened=int(figures["reopened"]), csat_count=int(figures["csat_count"]),
            csat_mean=(figures["csat_sum"] / figures["csat_count"]
                       if figures["csat_count"] else None),
            responded=len(answered), resolved=len(closed),
            first_response_median=percentile(answered, 50),
            first_response_p90=percentile(answered, 90),
            resolution_median=percentile(closed, 50), resolution_p90=percentile(closed, 90))

    names = display_names(user_ids={k for k in groups["agent"] if k is not None})
    labels = {"agent": lambda k: names.get(k, f"user {k}") if k is not None else "unassigned",
              "category": lambda k: k or "(no category)",
              "channel": lambda k: Channel(k).label if k in Channel.values else k}
    by = {name: sorted((report_row(name, key, labels[name](key)) for key in groups[name]),
                       key=lambda r: (-r.volume, r.label))
          for name in REPORT_DIMENSIONS}
    total = report_row("total", None, "All tickets")
    weeks = [report_row("week", day, day.isoformat()) for day in sorted(groups["week"])]
    return Report(since=since, until=until, time_basis=time_basis, total=total, by=by,
                  weeks=weeks)


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


def latest_survey(*, ticket_id: int) -> Survey | None:
    """The satisfaction survey mailed when the ticket last closed (None if none was)."""
    return Survey.objects.filter(ticket_id=ticket_id).order_by("-id").first()
