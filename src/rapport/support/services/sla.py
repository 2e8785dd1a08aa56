"""SLAs: targets per priority and customer tier, counted in business time, on every ticket.

- **Settings.** The business calendar (time zone, public holidays of a country, weekly hours,
  closed days: :func:`business_hours_set`) and the policies (:func:`sla_policy_create` …), both
  changed by whoever holds ``settings.change``, each change a ``desk_settings.changed`` event.
- **Timers.** When a ticket opens (:func:`on_ticket_events`, a Subscriber of the desk's
  events), its tier comes from its contact's tags and its policy from priority × tier; the
  first response is due ``first_response_minutes`` of business time after it opened, the
  resolution ``resolution_minutes`` after it plus the business time it spent paused. The
  resolution clock pauses while the ticket waits on the customer (and while it is resolved or
  closed, should it reopen); the first-response clock never pauses. Everything is recomputed
  from the ticket's ``StatusChange`` rows (:func:`sla_sync`), so a late or repeated event
  gives the same answer. A priority change recomputes both from the new policy.
- **The check** (:func:`sla_check`, every minute): per policy, the moments that make a ticket
  at risk or breached are computed once in Python, and a few set-based UPDATEs claim the
  tickets that crossed them (rows locked with ``SKIP LOCKED``, the state re-checked in the
  UPDATE), so two workers never notify twice. At risk: the assignee gets a task that rings
  the reminder bell. Breached: the manager (of the assignee's team, else the first owner)
  gets one, the priority goes up one step (not beyond urgent), ``ticket.sla`` events are
  written. One task per person per check lists all their tickets.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import holidays
from django.conf import settings
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from rapport.accounts.selectors import all_users, first_user_with
from rapport.activities import services as activities
from rapport.contacts.selectors import attach_tag_names
from rapport.core.errors import NotFound, PermissionDenied, ValidationFailed
from rapport.core.events import NewEvent, record_events
from rapport.core.inputs import parse
from rapport.core.permissions import can, scope_for
from rapport.support import events
from rapport.support.inputs import BusinessHoursInput, SlaPolicyInput
from rapport.support.models import (
    OPEN_STATUSES,
    PRIORITIES,
    REFERENCE_OFFSET,
    ClosedDay,
    DeskSettings,
    SlaPolicy,
    SlaState,
    Status,
    StatusChange,
    Ticket,
    Tier,
)
from rapport.support.services import hours
from rapport.support.services.assignment import locked_desk_settings

logger = logging.getLogger(__name__)

# (priority, tier, first response, resolution) in business minutes; a business day is 8 h.
DEFAULT_POLICIES = (
    ("urgent", "standard", 60, 8 * 60),
    ("high", "standard", 4 * 60, 2 * 480),
    ("normal", "standard", 8 * 60, 5 * 480),
    ("low", "standard", 2 * 480, 10 * 480),
    ("urgent", "premium", 30, 4 * 60),
    ("high", "premium", 2 * 60, 480),
    ("normal", "premium", 4 * 60, 3 * 480),
    ("low", "premium", 480, 5 * 480),
)
DEFAULT_PREMIUM_TAGS = ("premium", "vip")
RUNNING = (Status.NEW, Status.OPEN)
PAUSING = (Status.WAITING, Status.RESOLVED, Status.CLOSED)
FINISHED = (Status.RESOLVED, Status.CLOSED)
TARGETS = {"first_response": "first response", "resolution": "resolution"}
_PRIORITY_UP = dict(zip(PRIORITIES[:-1], PRIORITIES[1:], strict=True))  # low→normal→…→urgent
# Claims are written in batches of ids (parameters per statement stay small everywhere).
CHUNK = 2000
# Tickets moved to breached (and, apart, to at risk) in one run at most.
LIMIT = 2000
# A ticket whose opening event was lost gets its timers from the check for this long.
CATCH_UP = dt.timedelta(hours=24)


def _require(actor: Any) -> None:
    if not can(actor, "settings.change"):
        raise PermissionDenied("only the owner role changes the help desk's SLA settings")


def premium_tags() -> tuple[str, ...]:
    """The contact tags that make a customer premium (``RAPPORT_SUPPORT_PREMIUM_TAGS``)."""
    tags = getattr(settings, "RAPPORT_SUPPORT_PREMIUM_TAGS", DEFAULT_PREMIUM_TAGS)
    return tuple(t.strip().lower() for t in tags if t.strip())


# --- the business calendar -------------------------------------------------------------------

_cache = threading.local()
CALENDAR_SECONDS = 10.0  # how long a page may reuse the calendar it built


def business_calendar(*, fresh: bool = False) -> hours.Calendar:
    """The calendar SLAs count in. Pages reuse one for a few seconds (a list of tickets
    needs it per row); the check and the timers build it fresh."""
    cached = getattr(_cache, "calendar", None)
    if not fresh and cached is not None and time.monotonic() - cached[0] < CALENDAR_SECONDS:
        return cached[1]
    row = DeskSettings.objects.order_by("id").first()
    closed = ClosedDay.objects.values_list("day", flat=True)
    cal = hours.calendar(
        time_zone=row.time_zone if row else settings.TIME_ZONE,
        hours=row.business_hours if row else None,
        country=row.holiday_country if row else "",
        subdivision=row.holiday_subdivision if row else "", closed_days=list(closed))
    _cache.calendar = (time.monotonic(), cal)
    return cal


def forget_calendar() -> None:
    _cache.calendar = None


def business_hours() -> dict[str, Any]:
    """The calendar's settings as the API and the page show them."""
    row = DeskSettings.objects.order_by("id").first()
    stored = (row.business_hours if row is not None else None) or hours.NINE_TO_FIVE
    return {
        "time_zone": row.time_zone if row else settings.TIME_ZONE,
        "holiday_country": row.holiday_country if row else "",
        "holiday_subdivision": row.holiday_subdivision if row else "",
        "hours": {key: [list(span) for span in (stored.get(key) or [])]
                  for key in hours.DAY_KEYS},
        "closed_days": [{"day": d.day, "name": d.name}
                        for d in ClosedDay.objects.order_by("day")],
    }


def _weekly_hours(value: Any) -> dict[str, list[list[str]]]:
    """``{"mon": [["09:00", "17:00"]], ...}`` or, as a form sends it, ``{"mon": "09:00-12:00,
    13:00-17:00"}``; each day's spans checked (HH:MM, no overlaps)."""
    if not isinstance(value, dict):
        raise ValueError("must be an object of weekdays (mon … sun) to lists of spans")
    unknown = set(value) - set(hours.DAY_KEYS)
    if unknown:
        raise ValueError(f"unknown days {sorted(unknown)}; use {', '.join(hours.DAY_KEYS)}")
    out: dict[str, list[list[str]]] = {}
    for key in hours.DAY_KEYS:
        spans = value.get(key) or []
        if isinstance(spans, str):
            spans = [part.replace("–", "-").split("-") for part in spans.split(",")
                     if part.strip()]
        pairs = []
        for span in spans:
            if not isinstance(span, (list, tuple)) or len(span) != 2 \
                    or not all(isinstance(t, str) for t in span):
                raise ValueError(f"{key}: each span is a start and an end, like 09:00-17:00")
            try:
                start, end = hours.minutes_of(span[0]), hours.minutes_of(span[1])
            except ValueError as error:
                raise ValueError(f"{key}: {error}") from None
            if start == end:
                raise ValueError(f"{key}: a span must not start and end at the same time")
            pairs.append([hours.clock(start), hours.clock(end)])
        out[key] = pairs
    week = hours.week_of(out)
    clash = hours.overlaps(week)
    if clash:
        raise ValueError(f"{clash}: spans overlap (with each other or the night before)")
    if not any(week):
        raise ValueError("the desk must be open at some time of the week")
    return out


def _check_business_hours(entry: BusinessHoursInput) -> None:
    try:
        entry.hours = cast(dict[str, Any], _weekly_hours(entry.hours or hours.NINE_TO_FIVE))
    except ValueError as error:
        raise ValidationFailed({"hours": str(error)}) from None
    if entry.holiday_subdivision:
        if not entry.holiday_country:
            raise ValidationFailed({"holiday_subdivision": "choose the country first"})
        known = holidays.list_supported_countries()[entry.holiday_country]
        match = {s.upper(): s for s in known}.get(entry.holiday_subdivision.upper())
        if match is None:
            listed = ", ".join(known[:40]) or "none"
            raise ValidationFailed({"holiday_subdivision": (
                f"{entry.holiday_subdivision!r} is not a subdivision of "
                f"{entry.holiday_country} ({listed})")})
        entry.holiday_subdivision = match
    days = [d.day for d in entry.closed_days]
    if len(days) != len(set(days)):
        raise ValidationFailed({"closed_days": "a day is listed twice"})


def business_hours_check(data: BusinessHoursInput | Mapping[str, Any]) -> BusinessHoursInput:
    """The calendar settings parsed and checked, nothing written (ValidationFailed names each
    field)."""
    entry = parse(BusinessHoursInput, data)
    _check_business_hours(entry)
    return entry


@transaction.atomic
def business_hours_set(*, actor: Any, data: BusinessHoursInput | Mapping[str, Any]
                       ) -> dict[str, Any]:
    """Replace the business calendar: time zone, holidays, weekly hours, closed days. Open
    tickets keep the due times they were given; new timers use the new calendar."""
    _require(actor)
    entry = business_hours_check(data)
    before = business_hours()
    row = locked_desk_settings()
    row.time_zone = entry.time_zone
    row.holiday_country = entry.holiday_country
    row.holiday_subdivision = entry.holiday_subdivision
    row.business_hours = entry.hours
    row.save(update_fields=["time_zone", "holiday_country", "holiday_subdivision",
                            "business_hours", "updated_at"])
    ClosedDay.objects.all().delete()
    ClosedDay.objects.bulk_create(ClosedDay(day=d.day, name=d.name) for d in entry.closed_days)
    after = business_hours()
    record_events([events.desk_settings_changed(
        actor_id=actor.id, what="business_hours", before=_jsonable(before),
        after=_jsonable(after))])
    transaction.on_commit(forget_calendar)
    forget_calendar()
    return after


def _jsonable(value: dict[str, Any]) -> dict[str, Any]:
    return {**value, "closed_days": [{"day": d["day"].isoformat(), "name": d["name"]}
                                     for d in value["closed_days"]]}


# --- policies ----------------------------------------------------------------------------------

def sla_policies() -> list[SlaPolicy]:
    order = {p: i for i, p in enumerate(reversed(PRIORITIES))}
    return sorted(SlaPolicy.objects.all(), key=lambda p: (p.tier != Tier.STANDARD,
                                                           order.get(p.priority, 9), p.id))


def sla_policy_get(*, policy_id: int) -> SlaPolicy:
    policy = SlaPolicy.objects.filter(id=policy_id).first()
    if policy is None:
        raise NotFound(f"no SLA policy with id {policy_id}")
    return policy


def sla_policies_seed() -> int:
    """The default policies (:data:`DEFAULT_POLICIES`), if there are none at all; returns how
    many were made. The data migration calls it; so may a business that deleted them all."""
    if SlaPolicy.objects.exists():
        return 0
    made = SlaPolicy.objects.bulk_create(
        SlaPolicy(name=f"{priority.title()} ({tier})", priority=priority, tier=tier,
                  first_response_minutes=first, resolution_minutes=resolution)
        for priority, tier, first, resolution in DEFAULT_POLICIES)
    return len(made)


def _policy_values(policy: SlaPolicy) -> dict[str, Any]:
    return {"name": policy.name, "priority": policy.priority, "tier": policy.tier,
            "first_response_minutes": policy.first_response_minutes,
            "resolution_minutes": policy.resolution_minutes,
            "at_risk_percent": policy.at_risk_percent, "active": policy.active}


def _checked(entry: SlaPolicyInput, *, policy_id: int | None = None) -> dict[str, Any]:
    values = entry.model_dump()
    values["priority"], values["tier"] = str(entry.priority.value), str(entry.tier.value)
    if entry.first_response_minutes > entry.resolution_minutes:
        raise ValidationFailed({"resolution_minutes": "must not be shorter than the first "
                                                      "response"})
    clash = SlaPolicy.objects.filter(priority=values["priority"], tier=values["tier"])
    if clash.exclude(id=policy_id or 0).exists():
        raise ValidationFailed({"priority": f"there is already a policy for "
                                            f"{values['priority']} {values['tier']} tickets"})
    if not values["name"]:
        values["name"] = f"{values['priority'].title()} ({values['tier']})"
    return values


def _policy_event(actor: Any, policy_id: int, before: dict | None,
                  after: dict | None) -> NewEvent:
    return events.desk_settings_changed(actor_id=actor.id, what="sla_policy",
                                        before=before, after={"policy_id": policy_id,
                                                              **(after or {})})


@transaction.atomic
def sla_policy_create(*, actor: Any, data: SlaPolicyInput | Mapping[str, Any]) -> SlaPolicy:
    _require(actor)
    values = _checked(parse(SlaPolicyInput, data))
    policy = SlaPolicy.objects.create(**values)
    record_events([_policy_event(actor, policy.id, None, values)])
    return policy


@transaction.atomic
def sla_policy_update(*, actor: Any, policy_id: int,
                      data: SlaPolicyInput | Mapping[str, Any]) -> SlaPolicy:
    """Replace a policy's targets. Tickets opened from now on follow them; open tickets keep
    the due times they were given (their at-risk moment follows the new percentage)."""
    _require(actor)
    entry = parse(SlaPolicyInput, data)
    policy = SlaPolicy.objects.select_for_update().filter(id=policy_id).first()
    if policy is None:
        raise NotFound(f"no SLA policy with id {policy_id}")
    values = _checked(entry, policy_id=policy.id)
    before = _policy_values(policy)
    for name, value in values.items():
        setattr(policy, name, value)
    policy.save()
    record_events([_policy_event(actor, policy.id, before, values)])
    return policy


@transaction.atomic
def sla_policy_delete(*, actor: Any, policy_id: int) -> None:
    """Delete a policy no open ticket follows (make it inactive to stop new tickets using
    it while the open ones finish under it)."""
    _require(actor)
    policy = sla_policy_get(policy_id=policy_id)
    following = Ticket.objects.filter(sla_policy_id=policy.id, status__in=OPEN_STATUSES,
                                      deleted_at__isnull=True).count()
    if following:
        raise ValidationFailed({"policy": f"{following} open ticket(s) follow this policy; "
                                          "make it inactive instead"})
    before = _policy_values(policy)
    policy.delete()
    record_events([_policy_event(actor, policy_id, before, None)])


def policy_for(*, priority: str, tier: str) -> SlaPolicy | None:
    """The active policy for priority × tier; a premium customer without a premium policy
    for that priority gets the standard one; None: no targets."""
    found = {p.tier: p for p in SlaPolicy.objects.filter(priority=priority, active=True,
                                                         tier__in=(tier, Tier.STANDARD))}
    return found.get(tier) or found.get(Tier.STANDARD)


def tier_for(contact: Any) -> str:
    """Premium when the contact carries one of :func:`premium_tags`, else standard."""
    attach_tag_names([contact])
    wanted = set(premium_tags())
    return Tier.PREMIUM if {t.lower() for t in contact.tag_names} & wanted else Tier.STANDARD


# --- timers --------------------------------------------------------------------------------------

@dataclass
class Clock:
    """What a ticket's history says about its clocks."""

    opened_at: dt.datetime
    paused_seconds: int
    paused_at: dt.datetime | None


def clock_of(cal: hours.Calendar, ticket: Ticket,
             changes: Sequence[StatusChange] | None = None) -> Clock:
    """When the ticket opened (its first status), the business time its resolution clock
    spent paused in finished pauses, and when the current pause began (if paused)."""
    if changes is None:
        changes = list(StatusChange.objects.filter(ticket_id=ticket.id).order_by("at", "id"))
    opened_at = changes[0].at if changes else ticket.created_at
    paused = 0.0
    paused_at: dt.datetime | None = None
    for change in changes:
        if change.to_status in PAUSING and paused_at is None:
            paused_at = change.at
        elif change.to_status in RUNNING and paused_at is not None:
            paused += hours.business_seconds(cal, paused_at, change.at)
            paused_at = None
    return Clock(opened_at=opened_at, paused_seconds=round(paused), paused_at=paused_at)


def _due_words(cal: hours.Calendar, moment: dt.datetime) -> str:
    local = moment.astimezone(cal.zone)
    return f"{local:%a %d %b %Y %H:%M} ({cal.zone.key})"


def sla_sync(*, ticket_id: int, now: dt.datetime | None = None, choose_tier: bool = False,
             cal: hours.Calendar | None = None) -> Ticket | None:
    """Set a ticket's policy and due times from its priority, tier and status history, and
    its state where that follows from them (a finished ticket: met or breached; a running
    one: on track unless already at risk or breached, which the check decides)."""
    now = now or timezone.now()
    cal = cal or business_calendar(fresh=True)
    new_events: list[NewEvent] = []
    with transaction.atomic():
        ticket = (Ticket.objects.select_for_update(of=("self",)).select_related("contact")
                  .filter(id=ticket_id, deleted_at__isnull=True).first())
        if ticket is None:
            return None
        if choose_tier:
            ticket.tier = tier_for(ticket.contact)
        policy = policy_for(priority=ticket.priority, tier=ticket.tier)
        clock = clock_of(cal, ticket)
        ticket.paused_seconds, ticket.paused_at = clock.paused_seconds, clock.paused_at
        ticket.sla_policy = policy
        if policy is None:
            ticket.first_response_due = ticket.resolution_due = None
            if ticket.sla_state != SlaState.BREACHED:
                ticket.sla_state = SlaState.NONE
        else:
            ticket.first_response_due = hours.add_business(
                cal, clock.opened_at, policy.first_response_minutes * 60)
            ticket.resolution_due = hours.add_business(
                cal, clock.opened_at, policy.resolution_minutes * 60 + clock.paused_seconds)
            new_events += _settle(cal, ticket, clock)
        ticket.save(update_fields=["tier", "sla_policy", "first_response_due", "resolution_due",
                                   "paused_seconds", "paused_at", "sla_state", "breached_at"])
        record_events(new_events)
    return ticket


def _settle(cal: hours.Calendar, ticket: Ticket, clock: Clock) -> list[NewEvent]:
    """The state the timers give, in place: final for a finished ticket."""
    if ticket.sla_state == SlaState.BREACHED:
        return []
    if ticket.status not in FINISHED:
        if ticket.sla_state in (SlaState.NONE, SlaState.MET):
            ticket.sla_state = SlaState.OK
        return []
    first_due, resolution_due = ticket.first_response_due, ticket.resolution_due
    if first_due is None or resolution_due is None:
        return []
    finished = ticket.resolved_at or ticket.closed_at or clock.paused_at
    # Time spent waiting on the customer just before resolving does not count against it.
    end = min((m for m in (clock.paused_at, finished) if m is not None),
              default=ticket.updated_at)
    answered = ticket.first_responded_at or end
    missed = []
    if answered > first_due:
        missed.append(("first_response", first_due))
    if end > resolution_due:
        missed.append(("resolution", resolution_due))
    if not missed:
        ticket.sla_state = SlaState.MET
        return []
    # Finished late before the check saw it: recorded, never silent, but nobody to chase.
    target, due = missed[0]
    ticket.sla_state, ticket.breached_at = SlaState.BREACHED, due
    return [events.ticket_sla(ticket_id=ticket.id, contact_id=ticket.contact_id,
                              reference=ticket.reference, state=SlaState.BREACHED,
                              target=target, due=_due_words(cal, due))]


def on_ticket_events(rows: Sequence[Any]) -> None:
    """Subscriber of the desk's ``ticket.opened``, ``ticket.status_changed`` and
    ``ticket.updated`` (a priority change): (re)compute the timers once the write commits.
    A failure is logged; the check starts missed timers and settles finished tickets."""
    todo: dict[int, bool] = {}
    for row in rows:
        after = row.after or {}
        if row.kind == events.TICKET_OPENED.name:
            todo[row.entity_id] = True
        elif row.kind == events.TICKET_STATUS.name:
            todo.setdefault(row.entity_id, False)
        elif row.kind == events.TICKET_UPDATED.name and "priority" in after \
                and not after.get("sla"):
            todo.setdefault(row.entity_id, False)
    if not todo:
        return
    cal = business_calendar(fresh=True)
    for ticket_id, opened in todo.items():
        try:
            sla_sync(ticket_id=ticket_id, choose_tier=opened, cal=cal)
        except Exception:  # noqa: BLE001 - one ticket must not stop the others
            logger.exception("SLA: could not time ticket %s", ticket_id)


# --- the check -----------------------------------------------------------------------------------

@dataclass
class CheckResult:
    started: int = 0
    settled: int = 0
    at_risk: int = 0
    breached: int = 0
    back_on_track: int = 0
    more: bool = False  # the limit was reached: run again
    notified: dict[int, list[int]] = field(default_factory=dict)  # user id → ticket ids
    escalated: dict[int, list[int]] = field(default_factory=dict)


def thresholds(cal: hours.Calendar, policy: SlaPolicy, now: dt.datetime
               ) -> tuple[dt.datetime, dt.datetime]:
    """A running target is at risk once less than (100 − at risk %) of it is left: its due
    is at or before these moments (first response, resolution)."""
    left = (100 - policy.at_risk_percent) / 100
    return (hours.add_business(cal, now, round(policy.first_response_minutes * 60 * left)),
            hours.add_business(cal, now, round(policy.resolution_minutes * 60 * left)))


def _breach_q(now: dt.datetime) -> Q:
    return (Q(first_responded_at__isnull=True, first_response_due__lte=now)
            | Q(paused_at__isnull=True, resolution_due__lte=now))


def _risk_q(first_cut: dt.datetime, resolution_cut: dt.datetime) -> Q:
    return (Q(first_responded_at__isnull=True, first_response_due__lte=first_cut)
            | Q(paused_at__isnull=True, resolution_due__lte=resolution_cut))


def _running() -> Any:
    return Ticket.objects.filter(status__in=OPEN_STATUSES, deleted_at__isnull=True)


ROW = ("id", "contact_id", "subject", "assignee_id", "priority", "first_response_due",
       "resolution_due", "first_responded_at", "paused_at")


def _claim(queryset: Any, changes: dict[str, Any], limit: int) -> list[dict[str, Any]]:
    """Lock up to ``limit`` rows, oldest tickets first (others' locked ones are skipped:
    theirs to handle), read them, write ``changes`` to them where the filter still holds;
    the rows claimed."""
    if limit <= 0:
        return []
    rows = list(queryset.order_by("id").select_for_update(skip_locked=True)
                .values(*ROW)[:limit])
    for start in range(0, len(rows), CHUNK):
        ids = [r["id"] for r in rows[start:start + CHUNK]]
        queryset.filter(id__in=ids).update(**changes)
    return rows


def sla_check(*, now: dt.datetime | None = None, limit: int = LIMIT) -> CheckResult:
    """Move open tickets' SLA states on: at risk (tell the assignee), breached (tell the
    manager, raise the priority), back on track; settle finished ones (met or breached);
    start timers an opening event missed. Safe in several workers at once.

    At most ``limit`` tickets become breached and ``limit`` at risk in one run, so a run stays
    short after an outage of the scheduler; ``more`` then says to run again at once (the task
    does)."""
    now = now or timezone.now()
    cal = business_calendar(fresh=True)
    result = CheckResult()
    result.started = _start_missed(cal, now)
    result.settled = _settle_finished(cal, now)
    with transaction.atomic():
        breached: list[dict[str, Any]] = []
        at_risk: list[dict[str, Any]] = []
        for policy in SlaPolicy.objects.all():
            mine = _running().filter(sla_policy_id=policy.id)
            first_cut, resolution_cut = thresholds(cal, policy, now)
            breach = _breach_q(now)
            breached += _claim(mine.filter(breach, breached_at__isnull=True),
                               {"sla_state": SlaState.BREACHED, "breached_at": now,
                                "escalated_at": now, "version": F("version") + 1,
                                "updated_at": now}, limit - len(breached))
            risk = _risk_q(first_cut, resolution_cut)
            # (One already due but left for the next run is not told "at risk" first.)
            at_risk += _claim(mine.filter(risk, sla_state=SlaState.OK).exclude(breach),
                              {"sla_state": SlaState.AT_RISK, "at_risk_notified_at": now},
                              limit - len(at_risk))
            # Answered (or paused before it) and no longer at risk: on track again.
            result.back_on_track += (mine.filter(sla_state=SlaState.AT_RISK,
                                                 paused_at__isnull=True)
                                     .exclude(risk).update(sla_state=SlaState.OK))
        _raise_priorities(breached)
        result.escalated = _tell(cal, breached, state=SlaState.BREACHED, now=now)
        result.notified = _tell(cal, at_risk, state=SlaState.AT_RISK, now=now)
        result.breached, result.at_risk = len(breached), len(at_risk)
        result.more = limit in (len(breached), len(at_risk))
    return result


def _raise_priorities(rows: list[dict[str, Any]]) -> None:
    """One step up for each breached ticket (urgent stays urgent): one UPDATE per step."""
    by_priority: dict[str, list[int]] = defaultdict(list)
    for row in rows:
        if row["priority"] in _PRIORITY_UP:
            by_priority[row["priority"]].append(row["id"])
    for priority, ids in by_priority.items():
        for start in range(0, len(ids), CHUNK):
            Ticket.objects.filter(id__in=ids[start:start + CHUNK], priority=priority).update(
                priority=_PRIORITY_UP[priority])


def manager_of(assignee_id: int | None, *, managers: dict[int | None, Any]) -> Any:
    """Who hears of a breach: a manager of the assignee's team (someone whose role changes
    the whole team's contacts), else the first owner (the longest-standing user who changes
    the settings). ``managers`` caches the answer per assignee."""
    if assignee_id in managers:
        return managers[assignee_id]
    found = None
    assignee = all_users().filter(id=assignee_id or 0).first()
    if assignee is not None and assignee.team_id is not None:
        for user in all_users().filter(team_id=assignee.team_id, is_active=True).order_by("id"):
            if user.id != assignee.id and scope_for(user, "contacts.change") == "team":
                found = user
                break
    managers[assignee_id] = found or first_user_with(permission="settings.change")
    return managers[assignee_id]


def ticket_url(ticket_id: int) -> str:
    try:
        return reverse("ticket_detail", args=[ticket_id])
    except NoReverseMatch:  # the desk's page not installed (yet): its documented path
        return f"/tickets/{ticket_id}/"


def _target(row: dict[str, Any], now: dt.datetime, cuts: bool) -> tuple[str, dt.datetime]:
    """Which target a claimed row crossed (first response before resolution)."""
    if row["first_responded_at"] is None and row["first_response_due"] is not None and (
            cuts or row["first_response_due"] <= now):
        first = ("first_response", row["first_response_due"])
        if not cuts or row["paused_at"] is not None or row["resolution_due"] is None \
                or row["first_response_due"] <= row["resolution_due"]:
            return first
    return "resolution", row["resolution_due"]


def _tell(cal: hours.Calendar, rows: list[dict[str, Any]], *, state: str,
          now: dt.datetime) -> dict[int, list[int]]:
    """A task due now (ringing the bell at once) for each person concerned, listing their
    tickets; ``ticket.sla`` events (and the priority change) for each ticket."""
    if not rows:
        return {}
    managers: dict[int | None, Any] = {}
    users = {u.id: u for u in all_users().filter(
        id__in={r["assignee_id"] for r in rows if r["assignee_id"]}, is_active=True)}
    by_user: dict[int, list[str]] = defaultdict(list)
    recipients: dict[int, Any] = {}
    told: dict[int, list[int]] = defaultdict(list)
    new_events: list[NewEvent] = []
    for row in rows:
        reference = f"T-{row['id'] + REFERENCE_OFFSET}"
        target, due = _target(row, now, cuts=state == SlaState.AT_RISK)
        if state == SlaState.BREACHED:
            person = manager_of(row["assignee_id"], managers=managers)
        else:
            person = users.get(row["assignee_id"]) or manager_of(None, managers=managers)
        line = (f"{reference} {row['subject']}: {TARGETS[target]} "
                f"{'was due' if state == SlaState.BREACHED else 'due'} {_due_words(cal, due)}")
        if state == SlaState.BREACHED and row["priority"] in _PRIORITY_UP:
            line += f"; priority raised to {_PRIORITY_UP[row['priority']]}"
        line += f" — {ticket_url(row['id'])}"
        new_events.append(events.ticket_sla(
            ticket_id=row["id"], contact_id=row["contact_id"], reference=reference,
            state=state, target=target, due=_due_words(cal, due),
            escalated_to=person.display_name if person and state == SlaState.BREACHED
            else ""))
        if state == SlaState.BREACHED and row["priority"] in _PRIORITY_UP:
            new_events.append(events.ticket_updated(
                ticket_id=row["id"], contact_id=row["contact_id"], actor_id=None,
                before={"priority": row["priority"]},
                after={"reference": reference, "priority": _PRIORITY_UP[row["priority"]],
                       "sla": f"{TARGETS[target]} target breached"}))
        if person is None:
            logger.error("SLA: nobody to tell that %s is %s", reference, state)
            continue
        recipients[person.id] = person
        by_user[person.id].append(line)
        told[person.id].append(row["id"])
    for user_id, lines in by_user.items():
        what = "breached" if state == SlaState.BREACHED else "at risk"
        title = (f"SLA {what}: {lines[0].split(' — ')[0]}" if len(lines) == 1
                 else f"SLA {what}: {len(lines)} tickets")
        activities.task_create(actor=recipients[user_id], data={
            "title": title[:200], "notes": "\n".join(lines)[:10000], "due_at": now,
            "remind_before": 0,
            "priority": "high" if state == SlaState.BREACHED else "normal"})
    record_events(new_events)
    return dict(told)


def _start_missed(cal: hours.Calendar, now: dt.datetime, limit: int = 500) -> int:
    """Timers for open tickets opened (first status) in the last day whose opening the
    subscriber missed. Older ones are left alone: a policy added later must not breach a
    year of open tickets at once."""
    pairs = Q()
    for priority, tier in SlaPolicy.objects.filter(active=True).values_list("priority", "tier"):
        pairs |= Q(priority=priority) if tier == Tier.STANDARD else Q(priority=priority,
                                                                        tier=tier)
    if not pairs:
        return 0
    recent = StatusChange.objects.filter(ticket_id=OuterRef("id"), at__gte=now - CATCH_UP)
    ids = list(_running().filter(pairs, Exists(recent), sla_policy__isnull=True,
                                 sla_state=SlaState.NONE)
               .values_list("id", flat=True)[:limit])
    for ticket_id in ids:
        sla_sync(ticket_id=ticket_id, now=now, choose_tier=True, cal=cal)
    return len(ids)


def _settle_finished(cal: hours.Calendar, now: dt.datetime, limit: int = 500) -> int:
    """Resolved or closed tickets still on track or at risk: met or breached (normally the
    status subscriber did it at once)."""
    ids = list(Ticket.objects.filter(status__in=FINISHED, deleted_at__isnull=True,
                                     sla_policy__isnull=False,
                                     sla_state__in=(SlaState.OK, SlaState.AT_RISK))
               .values_list("id", flat=True)[:limit])
    for ticket_id in ids:
        sla_sync(ticket_id=ticket_id, now=now, cal=cal)
    return len(ids)


# --- showing the timers -------------------------------------------------------------------------

@dataclass
class Timer:
    target: str  # "first_response" or "resolution"
    label: str
    due: dt.datetime | None
    state: str  # running, paused, met, missed
    words: str
    due_local: str = ""  # the due moment in the business time zone, as people read it


def timers_of(ticket: Ticket, *, now: dt.datetime | None = None,
              cal: hours.Calendar | None = None) -> list[Timer]:
    """The ticket's two clocks in words: "2 h 10 min left (business time)", "overdue by 1 h
    (business time)", "paused while waiting on the customer", "met"."""
    first, resolution = ticket.first_response_due, ticket.resolution_due
    if ticket.sla_policy_id is None or first is None or resolution is None:
        return []
    now = now or timezone.now()
    cal = cal or business_calendar()
    out = []
    finished = ticket.status in FINISHED
    # Resolved without a public reply: the resolution answered the customer.
    answered = ticket.first_responded_at or (
        (ticket.resolved_at or ticket.closed_at) if finished else None)
    if answered is not None:
        late = hours.duration_words(hours.business_seconds(cal, first, answered))
        out.append(Timer("first_response", "First response", first,
                         "met" if answered <= first else "missed",
                         "met" if answered <= first else f"answered {late} late (business time)"))
    else:
        out.append(_running_timer(cal, "first_response", "First response", first, now,
                                  paused=False))
    if finished:
        missed = ticket.sla_state == SlaState.BREACHED and (
            ticket.resolved_at or ticket.closed_at or now) > resolution
        out.append(Timer("resolution", "Resolution", resolution,
                         "missed" if missed else "met", "missed" if missed else "met"))
    else:
        out.append(_running_timer(cal, "resolution", "Resolution", resolution, now,
                                  paused=ticket.paused_at is not None))
    for timer in out:
        if timer.due is not None:
            timer.due_local = f"{timer.due.astimezone(cal.zone):%a %d %b, %H:%M}"
    return out


def _running_timer(cal: hours.Calendar, target: str, label: str, due: dt.datetime,
                   now: dt.datetime, *, paused: bool) -> Timer:
    if paused:
        return Timer(target, label, due, "paused", "paused while waiting on the customer")
    if now < due:
        left = hours.business_seconds(cal, now, due)
        return Timer(target, label, due, "running",
                     f"{hours.duration_words(left)} left (business time)")
    over = hours.business_seconds(cal, due, now)
    return Timer(target, label, due, "missed",
                 f"overdue by {hours.duration_words(over)} (business time)")
