"""Distribution: assignment rules evaluated in order, each assignment logged with its rule.

A rule matches a lead when every condition it sets matches (country and postcode prefix,
industry, company size, the lead's product interest among the rule's product lines, and the
lead falling in the rule's territory — the first territory by position whose rules match it;
a rule with none is a catch-all). Its reps are one person, a team's active members or the
territory's members, less those out of office and those at the rule's cap of open leads.
The first rule that matches and has someone free wins; if it has nobody free, the next rule is
tried and the log says why.

Round robin stays fair when leads arrive at once: the rule's cursor row is locked
(``select_for_update``) while the next rep is chosen and the turn recorded, so two
submissions wait for each other instead of taking the same turn. Least-loaded takes the same
lock, so the counts it reads include the lead just handed out.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from rapport.accounts.selectors import all_users
from rapport.core.errors import NotFound, ValidationFailed
from rapport.core.events import NewEvent, record_events
from rapport.core.inputs import parse
from rapport.core.permissions import require, scope_for
from rapport.sales import events
from rapport.sales.inputs import AssignmentRuleChanges, AssignmentRuleInput
from rapport.sales.models import (
    AssignmentLog,
    AssignmentMethod,
    AssignmentRule,
    Lead,
    RepAvailability,
    RoundRobinCursor,
    Territory,
)
from rapport.sales.selectors import (
    assignment_rules,
    open_lead_counts,
    out_of_office_ids,
    territory_rules,
)
from rapport.sales.services.territories import territory_for

NO_RULE = "no rule matched"
# The lead's fields an assignment sets (callers save them with the lead).
ASSIGNMENT_FIELDS = ["owner", "assigned_by", "assigned_at", "respond_by", "first_touched_at"]
METHOD_WORDS: dict[str, str] = {AssignmentMethod.ROUND_ROBIN: "round robin",
                                 AssignmentMethod.LEAST_LOADED: "least loaded",
                                 AssignmentMethod.USER: "fixed"}


@dataclass(frozen=True)
class Choice:
    owner_id: int | None
    rule: AssignmentRule | None
    rule_text: str
    reason: str


def rule_text(rule: AssignmentRule) -> str:
    return f"{rule.name} ({METHOD_WORDS.get(rule.method, rule.method)})"


def conditions_of(rule: AssignmentRule) -> list[str]:
    """The rule's conditions in words ("country SE, NO")."""
    parts = []
    if rule.countries:
        parts.append(f"country {', '.join(rule.countries)}")
    if rule.postcode_prefixes:
        parts.append(f"postcode starting {', '.join(rule.postcode_prefixes)}")
    if rule.industries:
        parts.append(f"industry {', '.join(rule.industries)}")
    if rule.company_sizes:
        parts.append(f"company size {', '.join(rule.company_sizes)}")
    if rule.product_lines:
        parts.append(f"interested in {', '.join(rule.product_lines)}")
    if rule.territory is not None:
        parts.append(f"in territory {rule.territory.name}")
    return parts


def _postcode(value: str) -> str:
    return value.replace(" ", "").upper()


class _LeadTerritory:
    """The lead's territory, looked up once and only if a rule asks."""

    def __init__(self, values: Mapping[str, Any]) -> None:
        self.values = values
        self.found: Territory | None = None
        self.known = False

    def id(self) -> int | None:
        if not self.known:
            self.found = territory_for(
                country=self.values.get("country") or "",
                postcode=self.values.get("postcode") or "",
                industry=self.values.get("industry") or "",
                company_size=self.values.get("company_size") or "",
                region=self.values.get("region") or "", candidates=territory_rules())
            self.known = True
        return self.found.id if self.found else None


def rule_matches(rule: AssignmentRule, values: Mapping[str, Any],
                 lead_territory: _LeadTerritory | None = None) -> bool:
    if rule.product_lines and (values.get("product_interest") or "").strip().lower() \
            not in rule.product_lines:
        return False
    if rule.territory_id is not None and \
            (lead_territory or _LeadTerritory(values)).id() != rule.territory_id:
        return False
    if rule.countries and (values.get("country") or "").upper() not in rule.countries:
        return False
    if rule.postcode_prefixes:
        postcode = _postcode(values.get("postcode") or "")
        if not postcode or not any(postcode.startswith(_postcode(p))
                                   for p in rule.postcode_prefixes):
            return False
    if rule.industries and (values.get("industry") or "").strip().lower() not in rule.industries:
        return False
    return not (rule.company_sizes and (values.get("company_size") or "") not in
                rule.company_sizes)


def _reps(rule: AssignmentRule) -> list[int]:
    """Who may get leads under this rule, by id (before absences and caps)."""
    if rule.method == AssignmentMethod.USER:
        users = all_users().filter(id=rule.user_id or 0, is_active=True)
    elif rule.territory is not None:
        member_ids = list(rule.territory.members.values_list("id", flat=True))
        users = all_users().filter(id__in=member_ids, is_active=True)
        if rule.team_id is not None:
            users = users.filter(team_id=rule.team_id)
    else:
        users = all_users().filter(team_id=rule.team_id or 0, is_active=True)
    return sorted(user.id for user in users if scope_for(user, "leads.change") is not None)


def _locked_cursor(rule: AssignmentRule) -> RoundRobinCursor:
    cursor = RoundRobinCursor.objects.select_for_update().filter(rule_id=rule.id).first()
    if cursor is None:
        RoundRobinCursor.objects.bulk_create([RoundRobinCursor(rule_id=rule.id)],
                                             ignore_conflicts=True)
        cursor = RoundRobinCursor.objects.select_for_update().get(rule_id=rule.id)
    return cursor


def _pick(rule: AssignmentRule, free: list[int], counts: dict[int, int]) -> tuple[int, str]:
    if rule.method == AssignmentMethod.USER:
        return free[0], "the rule's rep"
    cursor = _locked_cursor(rule)
    if rule.method == AssignmentMethod.LEAST_LOADED:
        # Counted again under the lock: a lead handed out a moment ago counts.
        counts = open_lead_counts(user_ids=free)
        chosen = min(free, key=lambda rep: (counts[rep], rep))
        reason = f"fewest open leads ({counts[chosen]})"
    else:
        later = [rep for rep in free if cursor.last_user_id is None or rep > cursor.last_user_id]
        chosen = later[0] if later else free[0]
        reason = f"next in turn (turn {cursor.turns + 1})"
    cursor.last_user_id = chosen
    cursor.turns += 1
    cursor.save(update_fields=["last_user_id", "turns"])
    return chosen, reason


def _free(rule: AssignmentRule, away: set[int]) -> list[int]:
    """The rule's reps who may take a lead now: not away, under the cap."""
    reps = [rep for rep in _reps(rule) if rep not in away]
    counts = open_lead_counts(user_ids=reps) if rule.cap and reps else {}
    return [rep for rep in reps if not rule.cap or counts[rep] < rule.cap]


def choose_owner(values: Mapping[str, Any], *, exclude: Iterable[int] = ()) -> Choice:
    """The rep the rules give this lead (call inside the transaction that saves it)."""
    away = out_of_office_ids() | set(exclude)
    passed: list[str] = []
    lead_territory = _LeadTerritory(values)
    for rule in assignment_rules(active_only=True):
        if not rule_matches(rule, values, lead_territory):
            continue
        free = _free(rule, away)
        if not free:
            passed.append(f"{rule.name}: nobody free (out of office or at the cap)")
            continue
        chosen, how = _pick(rule, free, {})
        matched = "; ".join(conditions_of(rule)) or "every lead"
        reason = "; ".join([f"matched {matched}", how, *passed])
        return Choice(owner_id=chosen, rule=rule, rule_text=rule_text(rule), reason=reason)
    return Choice(owner_id=None, rule=None, rule_text=NO_RULE,
                  reason="; ".join(passed) or "no assignment rule matches this lead")


def choose_by_rule(rule: AssignmentRule, *, exclude: Iterable[int] = ()) -> Choice | None:
    """The next rep under this one rule, leaving out ``exclude`` (None: nobody else free)."""
    free = _free(rule, out_of_office_ids() | set(exclude))
    if not free:
        return None
    chosen, how = _pick(rule, free, {})
    return Choice(owner_id=chosen, rule=rule, rule_text=rule_text(rule), reason=how)


def apply_choice(lead: Lead, choice: Choice, *, actor_id: int | None,
                 now: dt.datetime | None = None) -> NewEvent:
    """Give the lead to the chosen rep and log it (the caller saves the lead's
    ``ASSIGNMENT_FIELDS`` and records the returned event).

    A rule with a first-response time sets ``respond_by``: untouched by then, the lead is
    handed on (``services.first_response``). A hand assignment sets no deadline."""
    lead.owner_id = choice.owner_id
    lead.assigned_by = choice.rule_text[:200]
    lead.assigned_at = now or timezone.now()
    minutes = choice.rule.first_response_minutes if choice.rule is not None else None
    lead.respond_by = (lead.assigned_at + dt.timedelta(minutes=minutes)
                       if minutes and choice.owner_id is not None else None)
    lead.first_touched_at = None
    AssignmentLog.objects.create(lead_id=lead.id, rule=choice.rule,
                                 rule_text=choice.rule_text[:200], owner_id=choice.owner_id,
                                 reason=choice.reason[:500], actor_id=actor_id)
    return events.lead_assigned(lead_id=lead.id, actor_id=actor_id, owner_id=choice.owner_id,
                                rule=choice.rule_text, reason=choice.reason)


# --- the rules themselves (owner role) ---------------------------------------------------------

def _snapshot(rule: AssignmentRule) -> dict[str, Any]:
    return {"name": rule.name, "position": rule.position, "countries": rule.countries,
            "postcode_prefixes": rule.postcode_prefixes, "industries": rule.industries,
            "company_sizes": rule.company_sizes, "product_lines": rule.product_lines,
            "method": rule.method, "territory_id": rule.territory_id, "team_id": rule.team_id,
            "user_id": rule.user_id, "cap": rule.cap,
            "first_response_minutes": rule.first_response_minutes}


def _require_settings(actor: Any) -> None:
    require(actor, "settings.change", message="only the owner role sets lead assignment")


@transaction.atomic
def assignment_rule_create(*, actor: Any,
                           data: AssignmentRuleInput | Mapping[str, Any]) -> AssignmentRule:
    """A new rule, evaluated after the existing ones."""
    _require_settings(actor)
    entry = parse(AssignmentRuleInput, data)
    last = AssignmentRule.objects.select_for_update().order_by("-position").first()
    rule = AssignmentRule.objects.create(position=(last.position + 1) if last else 1,
                                         **_checked_fields(entry))
    RoundRobinCursor.objects.create(rule=rule)
    record_events([events.sales_settings_changed(actor_id=actor.id, what="assignment_rule",
                                                 entity_id=rule.id, before=None,
                                                 after=_snapshot(rule))])
    return rule


def _checked_fields(entry: AssignmentRuleInput) -> dict[str, Any]:
    """The rule's columns from its input, once the team, person and territory exist."""
    errors = {}
    if entry.team_id is not None and not all_users().filter(team_id=entry.team_id).exists():
        errors["team_id"] = f"no team with id {entry.team_id} has members"
    if entry.user_id is not None and not all_users().filter(id=entry.user_id,
                                                            is_active=True).exists():
        errors["user_id"] = f"no active user with id {entry.user_id}"
    if entry.territory_id is not None and \
            not Territory.objects.filter(id=entry.territory_id).exists():
        errors["territory_id"] = f"no territory with id {entry.territory_id}"
    if errors:
        raise ValidationFailed(errors)
    fields = entry.model_dump()
    if entry.method == AssignmentMethod.USER:
        fields["team_id"] = None
    else:
        fields["user_id"] = None
    return fields


@transaction.atomic
def assignment_rule_update(*, actor: Any, rule_id: int,
                           changes: AssignmentRuleChanges | Mapping[str, Any]) -> AssignmentRule:
    """Change some of a rule's fields (those left out stay; null clears team, person, territory,
    cap and first-response time). Its place in the order changes only by moving it."""
    _require_settings(actor)
    rule = _rule(rule_id)
    before = _snapshot(rule)
    given = parse(AssignmentRuleChanges, changes).model_dump(exclude_unset=True)
    clearable = {"team_id", "user_id", "territory_id", "cap", "first_response_minutes"}
    current = {k: v for k, v in before.items() if k != "position"}
    entry = parse(AssignmentRuleInput, {**current, **{
        k: v for k, v in given.items() if v is not None or k in clearable}})
    for name, value in _checked_fields(entry).items():
        setattr(rule, name, value)
    rule.save()
    after = _snapshot(rule)
    if after != before:
        record_events([events.sales_settings_changed(actor_id=actor.id, what="assignment_rule",
                                                     entity_id=rule.id, before=before,
                                                     after=after)])
    return rule


def _rule(rule_id: int) -> AssignmentRule:
    rule = AssignmentRule.objects.select_for_update().filter(id=rule_id).first()
    if rule is None:
        raise NotFound(f"no assignment rule with id {rule_id}")
    return rule


@transaction.atomic
def assignment_rule_delete(*, actor: Any, rule_id: int) -> None:
    _require_settings(actor)
    rule = _rule(rule_id)
    before = _snapshot(rule)
    rule.delete()
    record_events([events.sales_settings_changed(actor_id=actor.id, what="assignment_rule",
                                                 entity_id=rule_id, before=before, after=None)])


@transaction.atomic
def assignment_rule_move(*, actor: Any, rule_id: int, up: bool = False,
                         position: int | None = None) -> AssignmentRule:
    """Swap the rule with the one before (``up``) or after it, or put it at ``position``
    (1 = tried first; past the end = last): the order decides who wins."""
    _require_settings(actor)
    if position is not None and position < 1:
        raise ValidationFailed({"position": "must be 1 or more"})
    rules = list(AssignmentRule.objects.select_for_update().order_by("position", "id"))
    index = next((i for i, r in enumerate(rules) if r.id == rule_id), None)
    if index is None:
        raise NotFound(f"no assignment rule with id {rule_id}")
    if position is not None:
        moving = rules.pop(index)
        other = min(position, len(rules) + 1) - 1
        rules.insert(other, moving)
    else:
        other = index - 1 if up else index + 1
        if 0 <= other < len(rules):
            rules[index], rules[other] = rules[other], rules[index]
    # Renumbered through positions no rule holds, so no two share one at any moment.
    top = max(r.position for r in rules) + 1
    for offset, rule in enumerate(rules):
        AssignmentRule.objects.filter(id=rule.id).update(position=top + offset)
    for offset, rule in enumerate(rules, start=1):
        AssignmentRule.objects.filter(id=rule.id).update(position=offset)
        rule.position = offset
    moved = rules[other if 0 <= other < len(rules) else index]
    record_events([events.sales_settings_changed(actor_id=actor.id, what="assignment_rule",
                                                 entity_id=rule_id, before=None,
                                                 after={"position": moved.position})])
    return moved


@transaction.atomic
def out_of_office_set(*, actor: Any, user_id: int, away: bool) -> None:
    """Mark a rep away (no new leads) or back. Reps set their own; the owner role anyone's."""
    if user_id != actor.id:
        _require_settings(actor)
    if not all_users().filter(id=user_id).exists():
        raise ValidationFailed({"user_id": f"no user with id {user_id}"})
    RepAvailability.objects.update_or_create(user_id=user_id, defaults={"out_of_office": away})
    record_events([events.sales_settings_changed(actor_id=actor.id, what="out_of_office",
                                                 entity_id=user_id, before=None,
                                                 after={"out_of_office": away})])
