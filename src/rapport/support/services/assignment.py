"""Who gets a new ticket: the rules, in order.

1. Only agents count: active users with the support role, and anyone with an agent profile
   (Settings → Help desk agents); an agent whose profile says they do not take tickets now is
   left out, and so is one outside their working hours (their own, else the business's
   ``DeskSettings.business_hours`` in ``DeskSettings.time_zone``; with neither set, any time).
2. Among those free: the ones whose skills hold the ticket's category, if any; else all.
3. The least loaded of them (fewest open tickets: new, open, waiting), ties to the one who
   has waited longest since their last assignment, then the lowest id.
4. Nobody free: the ticket stays unassigned, and the log says why.

Every assignment (by rule or by hand) writes an ``AssignmentLog`` row with its reason in
words and a ``ticket.assigned`` event.

Fair under concurrency: the desk's settings row is locked (``select_for_update``) while the
agent is chosen and the ticket assigned, so two tickets opened at once wait for each other and
the second sees the first's assignment in the counts (PostgreSQL; SQLite has one writer).
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, Max

from rapport.accounts.selectors import all_users
from rapport.core.events import NewEvent
from rapport.core.permissions import scope_for
from rapport.support import events
from rapport.support.models import (
    OPEN_STATUSES,
    AgentProfile,
    AssignmentLog,
    DeskSettings,
    Ticket,
)

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
RULE_SKILL = "skill"
RULE_LEAST_LOADED = "least loaded"
RULE_NOBODY = "nobody available"
RULE_MANUAL = "manual"


def desk_settings() -> DeskSettings:
    """The desk's one settings row, to read (unsaved defaults if nobody saved any yet)."""
    return (DeskSettings.objects.order_by("id").first()
            or DeskSettings(time_zone=settings.TIME_ZONE))


def locked_desk_settings() -> DeskSettings:
    """The desk's one settings row, made if missing and locked for this transaction (to
    change it, or to serialise what depends on it)."""
    row = DeskSettings.objects.select_for_update().order_by("id").first()
    if row is not None:
        return row
    try:
        with transaction.atomic():
            DeskSettings.objects.create(time_zone=settings.TIME_ZONE)
    except IntegrityError:  # another opener made it first (one row: ``DeskSettings.one``)
        pass
    return DeskSettings.objects.select_for_update().order_by("id").get()


def within_hours(hours: dict[str, Any], local: dt.datetime) -> bool:
    """Whether ``local`` (a time in the business's zone) falls in ``hours``."""
    clock = local.strftime("%H:%M")
    return any(start <= clock < end for start, end in hours.get(DAYS[local.weekday()], []))


@dataclass(frozen=True)
class Agent:
    user: Any
    skills: list[str]
    accepts: bool
    hours: dict[str, Any]


def agents() -> list[Agent]:
    """Everyone who may be given tickets (see the module's notes), with their profile."""
    profiles = {p.user_id: p for p in AgentProfile.objects.all()}
    users = all_users().filter(is_active=True)
    # The help desk's own people (those whose home page it is: the support role) and anyone
    # with an agent profile.
    found = [u for u in users
             if scope_for(u, "help_desk.landing") is not None or u.id in profiles]
    return [Agent(user=u, skills=list(profiles[u.id].skills) if u.id in profiles else [],
                  accepts=profiles[u.id].accepts_tickets if u.id in profiles else True,
                  hours=dict(profiles[u.id].working_hours) if u.id in profiles else {})
            for u in found]


def open_counts(user_ids: list[int]) -> dict[int, int]:
    rows = (Ticket.objects.filter(assignee_id__in=user_ids, status__in=OPEN_STATUSES,
                                  deleted_at__isnull=True)
            .values("assignee_id").annotate(n=Count("id")))
    return {row["assignee_id"]: row["n"] for row in rows}


@dataclass(frozen=True)
class Choice:
    assignee: Any | None
    rule: str
    reason: str


def choose(*, category: str, now: dt.datetime, settings: DeskSettings) -> Choice:
    """The agent a ticket of this category goes to now, and why (no writes)."""
    everyone = agents()
    if not everyone:
        return Choice(None, RULE_NOBODY, "nobody available: no agents (support users or "
                                         "agent profiles)")
    zone: dt.tzinfo
    try:
        zone = zoneinfo.ZoneInfo(settings.time_zone or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        zone = dt.UTC
    local = now.astimezone(zone)
    business = settings.business_hours or {}
    free, away, off = [], [], []
    for agent in everyone:
        if not agent.accepts:
            away.append(agent.user.display_name)
            continue
        hours = agent.hours or business
        if hours and not within_hours(hours, local):
            off.append(agent.user.display_name)
            continue
        free.append(agent)
    if not free:
        parts = []
        if away:
            parts.append(f"not taking tickets: {', '.join(away)}")
        if off:
            parts.append(f"outside working hours at {local:%a %H:%M} {zone}: {', '.join(off)}")
        return Choice(None, RULE_NOBODY, "nobody available (" + "; ".join(parts) + ")")
    wanted = category.strip().lower()
    skilled = [a for a in free if wanted and wanted in {s.lower() for s in a.skills}]
    pool = skilled or free
    ids = [a.user.id for a in pool]
    load = open_counts(ids)
    last = dict(AssignmentLog.objects.filter(assignee_id__in=ids).values("assignee_id")
                .annotate(at=Max("id")).values_list("assignee_id", "at"))
    best = min(pool, key=lambda a: (load.get(a.user.id, 0), last.get(a.user.id, 0), a.user.id))
    count = load.get(best.user.id, 0)
    tickets = f"{count} open ticket{'s' if count != 1 else ''}"
    if skilled:
        return Choice(best.user, RULE_SKILL,
                      f"has the skill {category!r}; least loaded of {len(pool)} with it "
                      f"({tickets})")
    why = f"no available agent has the skill {category!r}; " if wanted else ""
    return Choice(best.user, RULE_LEAST_LOADED,
                  f"{why}least loaded of {len(pool)} available ({tickets})")


def assignment_event(ticket: Ticket, log: AssignmentLog, actor_id: int | None) -> NewEvent:
    return events.ticket_assigned(
        ticket_id=ticket.id, contact_id=ticket.contact_id, actor_id=actor_id,
        reference=ticket.reference, assignee_id=log.assignee_id,
        assignee_name=log.assignee.display_name if log.assignee is not None else "",
        rule=log.rule, reason=log.reason)


def assign_by_rules(*, ticket: Ticket, actor: Any, now: dt.datetime) -> NewEvent:
    """Assign a ticket just opened (inside its transaction); the event to record."""
    settings = locked_desk_settings()
    choice = choose(category=ticket.category, now=now, settings=settings)
    ticket.assignee = choice.assignee
    Ticket.objects.filter(id=ticket.id).update(assignee=choice.assignee)
    log = AssignmentLog.objects.create(ticket=ticket, assignee=choice.assignee,
                                       rule=choice.rule, reason=choice.reason, actor=actor,
                                       at=now)
    return assignment_event(ticket, log, actor.id if actor else None)
