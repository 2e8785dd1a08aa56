"""Qualification by rules the owner sets: each matching rule adds (or takes) its points, the
sum gives a grade, and each rule's part is kept in words for the lead's page."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from rapport.core.errors import NotFound
from rapport.core.events import record_events
from rapport.core.inputs import parse
from rapport.core.permissions import require
from rapport.sales import events
from rapport.sales.inputs import LeadInput, ScoringRuleInput
from rapport.sales.models import OPEN_STATUSES, Grade, Lead, LeadScoringRule, Operator, ScoringField
from rapport.sales.selectors import scoring_rules

# The lowest score of each grade (the rest is D).
GRADE_FLOORS = ((Grade.A, 60), (Grade.B, 35), (Grade.C, 15))
FIELD_LABELS = dict(ScoringField.choices)
CAPTURED = tuple(LeadInput.model_fields)
ENRICHED = ("matched_company_id", "email_domain", "free_mail", "phone_country",
            "phone_line_type")
OPERATOR_LABELS = dict(Operator.choices)


@dataclass(frozen=True)
class Scored:
    score: int
    grade: str
    reasons: list[dict[str, Any]]


def grade_for(score: int) -> str:
    for grade, floor in GRADE_FLOORS:
        if score >= floor:
            return str(grade)
    return str(Grade.D)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else ""
    return "" if value is None else str(value)


def matches(rule: LeadScoringRule, values: Mapping[str, Any]) -> bool:
    actual = _text(values.get(rule.field)).strip().lower()
    wanted = rule.value.strip().lower()
    op = rule.operator
    if op == Operator.IS_SET:
        return bool(actual)
    if op == Operator.IS_EMPTY:
        return not actual
    if op == Operator.EQUALS:
        return actual == wanted
    if op == Operator.NOT_EQUALS:
        return actual != wanted
    if op == Operator.CONTAINS:
        return bool(wanted) and wanted in actual
    if op == Operator.STARTS_WITH:
        return bool(wanted) and actual.startswith(wanted)
    if op == Operator.ONE_OF:
        return actual in {part.strip() for part in wanted.replace(";", ",").split(",")}
    return False


def describe(rule: LeadScoringRule) -> str:
    """ "country is one of SE, NO" """
    words = f"{FIELD_LABELS.get(rule.field, rule.field)} {OPERATOR_LABELS.get(rule.operator)}"
    if rule.operator in (Operator.IS_SET, Operator.IS_EMPTY):
        return words
    return f"{words} {rule.value}"


def score(values: Mapping[str, Any], rules: Sequence[LeadScoringRule]) -> Scored:
    """The points of every matching rule, the grade they give, and why, in words."""
    total, reasons = 0, []
    for rule in rules:
        if rule.active and matches(rule, values):
            total += rule.points
            reasons.append({"rule_id": rule.id, "points": rule.points,
                            "text": f"{describe(rule)}: {rule.points:+d} points"})
    return Scored(score=total, grade=grade_for(total), reasons=reasons)


def values_of(lead: Lead) -> dict[str, Any]:
    """What rules and assignment read of a lead: what it said and what was found."""
    return {name: getattr(lead, name) for name in (*CAPTURED, *ENRICHED)}


def leads_rescore(*, chunk: int = 500) -> int:
    """Score every open lead again with the current rules (when the rules change)."""
    rules = scoring_rules(active_only=True)
    changed = 0
    last_id = 0
    while True:
        batch = list(Lead.objects.filter(id__gt=last_id, status__in=OPEN_STATUSES,
                                         deleted_at__isnull=True).order_by("id")[:chunk])
        if not batch:
            return changed
        for lead in batch:
            scored = score(values_of(lead), rules)
            lead.score, lead.grade, lead.score_reasons = scored.score, scored.grade, scored.reasons
        Lead.objects.bulk_update(batch, ["score", "grade", "score_reasons"])
        changed += len(batch)
        last_id = batch[-1].id


def _snapshot(rule: LeadScoringRule) -> dict[str, Any]:
    return {"field": rule.field, "operator": rule.operator, "value": rule.value,
            "points": rule.points, "active": rule.active}


@transaction.atomic
def scoring_rule_create(*, actor: Any,
                        data: ScoringRuleInput | Mapping[str, Any]) -> LeadScoringRule:
    """A new rule; leads captured or changed from now on are scored with it."""
    require(actor, "settings.change", message="only the owner role sets lead scoring")
    entry = parse(ScoringRuleInput, data)
    rule = LeadScoringRule.objects.create(**entry.model_dump())
    record_events([events.sales_settings_changed(actor_id=actor.id, what="scoring_rule",
                                                 entity_id=rule.id, before=None,
                                                 after=_snapshot(rule))])
    leads_rescore()
    return rule


@transaction.atomic
def scoring_rule_delete(*, actor: Any, rule_id: int) -> None:
    require(actor, "settings.change", message="only the owner role sets lead scoring")
    rule = LeadScoringRule.objects.select_for_update().filter(id=rule_id).first()
    if rule is None:
        raise NotFound(f"no scoring rule with id {rule_id}")
    before = _snapshot(rule)
    rule.delete()
    record_events([events.sales_settings_changed(actor_id=actor.id, what="scoring_rule",
                                                 entity_id=rule_id, before=before, after=None)])
    leads_rescore()
