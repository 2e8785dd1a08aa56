"""Revenue goals: a month or a quarter, for a rep, a team, a territory or the whole business.

The owner role sets any goal; a manager sets the goals of their team's reps and of the team
itself (``goals.change``, team scope); a territory's goal and the business's need the "all"
scope. One goal per period, start and target: a second one is refused (change the first).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import transaction

from rapport.accounts.selectors import active_user_exists, team_list
from rapport.core.errors import NotFound, PermissionDenied, ValidationFailed
from rapport.core.events import record_events
from rapport.core.inputs import parse
from rapport.sales import events
from rapport.sales.inputs import GoalInput, GoalUpdate
from rapport.sales.models import Goal, Territory
from rapport.sales.selectors import goal_target_label, may_set_goal


def goal_shown(goal: Goal) -> dict[str, Any]:
    return {"period": goal.period, "starts_on": goal.starts_on.isoformat(),
            "amount": str(goal.amount), "currency": goal.currency, "user_id": goal.user_id,
            "team_id": goal.team_id, "territory_id": goal.territory_id}


def _check_target(entry: GoalInput) -> None:
    if entry.user_id is not None and not active_user_exists(user_id=entry.user_id):
        raise ValidationFailed({"user_id": f"no active user with id {entry.user_id}"})
    if entry.team_id is not None and not team_list().filter(id=entry.team_id).exists():
        raise ValidationFailed({"team_id": f"no team with id {entry.team_id}"})
    if entry.territory_id is not None and \
            not Territory.objects.filter(id=entry.territory_id).exists():
        raise ValidationFailed({"territory_id": f"no territory with id {entry.territory_id}"})


@transaction.atomic
def goal_create(*, actor: Any, data: GoalInput | Mapping[str, Any]) -> Goal:
    """A new goal. 422 naming the field for a negative amount, a start that is not the first
    day of its month or quarter, more than one target, or a goal that already exists."""
    entry = parse(GoalInput, data)
    _check_target(entry)
    if not may_set_goal(actor, user_id=entry.user_id, team_id=entry.team_id,
                        territory_id=entry.territory_id):
        whom = goal_target_label(user_id=entry.user_id, team_id=entry.team_id,
                                 territory_id=entry.territory_id)
        raise PermissionDenied(f"you may not set the goal of {whom}")
    target = {"user_id": entry.user_id, "team_id": entry.team_id,
              "territory_id": entry.territory_id}  # None matches IS NULL here
    same = Goal.objects.select_for_update().filter(
        period=entry.period, starts_on=entry.starts_on, **target).first()
    if same is not None:
        raise ValidationFailed({"starts_on": f"there is already a {entry.period} goal from "
                                             f"{entry.starts_on:%-d %B %Y} for this target "
                                             f"(goal {same.id}): change that one"})
    goal = Goal.objects.create(
        period=entry.period, starts_on=entry.starts_on, amount=entry.amount,
        currency=entry.currency, user_id=entry.user_id, team_id=entry.team_id,
        territory_id=entry.territory_id)
    record_events([events.sales_settings_changed(actor_id=actor.id, what="goal",
                                                 entity_id=goal.id, before=None,
                                                 after=goal_shown(goal))])
    return goal


def _goal_for_change(actor: Any, goal_id: int) -> Goal:
    goal = Goal.objects.restrict(actor, "view").select_for_update().filter(id=goal_id).first()
    if goal is None:
        raise NotFound(f"no goal with id {goal_id}")
    if not Goal.objects.restrict(actor, "change").filter(id=goal_id).exists():
        raise PermissionDenied("you may not change this goal")
    return goal


@transaction.atomic
def goal_update(*, actor: Any, goal_id: int, changes: GoalUpdate | Mapping[str, Any]) -> Goal:
    """Change a goal's amount or currency (404 unseen, 403 not yours to set)."""
    entry = parse(GoalUpdate, changes)
    goal = _goal_for_change(actor, goal_id)
    before = goal_shown(goal)
    given = entry.model_dump(exclude_none=True)
    for name, value in given.items():
        setattr(goal, name, value)
    if given:
        goal.save(update_fields=list(given))
        record_events([events.sales_settings_changed(actor_id=actor.id, what="goal",
                                                     entity_id=goal.id, before=before,
                                                     after=goal_shown(goal))])
    return goal


@transaction.atomic
def goal_delete(*, actor: Any, goal_id: int) -> None:
    goal = _goal_for_change(actor, goal_id)
    before = goal_shown(goal)
    goal.delete()
    record_events([events.sales_settings_changed(actor_id=actor.id, what="goal",
                                                 entity_id=goal_id, before=before,
                                                 after=None)])
