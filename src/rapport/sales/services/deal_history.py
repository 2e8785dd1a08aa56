"""A deal's past: stage moves that happened before Rapport knew of them (the demo's history,
or deals brought over from another system), each written at its own time.

Unlike a move made now, every move here carries its moment: the stage history
(``StageChange``, with the time spent in the stage before), ``stage_entered_at``, and for a
won or lost stage ``closed_at`` (and the reason lost) come out as they were, so time in stage
and forecasts have a real past to read.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.utils import timezone

from rapport.core.errors import ValidationFailed
from rapport.core.events import record_events
from rapport.core.inputs import parse
from rapport.core.permissions import get_for
from rapport.sales import events
from rapport.sales.inputs import DealHistoryInput
from rapport.sales.models import Deal, Stage, StageChange


@transaction.atomic
def deal_history_load(*, actor: Any, deal_id: int,
                      data: DealHistoryInput | Mapping[str, Any]) -> Deal:
    """Record past moves, oldest first, each after the one before (and after the deal
    entered its current stage) and none in the future; a lost stage needs its reason. Any
    problem is a 422 naming ``moves`` and nothing is written."""
    entry = parse(DealHistoryInput, data)
    deal = get_for(actor, "change", Deal.objects.filter(deleted_at__isnull=True), deal_id,
                   noun="deal")
    stages = {stage.id: stage for stage in Stage.objects.filter(pipeline_id=deal.pipeline_id)}
    entered = deal.stage_entered_at or deal.created_at
    now = timezone.now()
    for number, move in enumerate(entry.moves, start=1):
        target = stages.get(move.stage_id)
        problem = ""
        if target is None:
            problem = f"stage {move.stage_id} is not in the deal's pipeline"
        elif move.at < entered:
            problem = "is earlier than the move before it (or the deal's creation)"
        elif move.at > now:
            problem = "is in the future"
        elif target.is_lost and not move.lost_reason:
            problem = "a lost stage needs the reason it was lost"
        if problem:
            raise ValidationFailed({"moves": f"move {number}: {problem}"})
        entered = move.at
    source = stages.get(deal.stage_id)
    entered = deal.stage_entered_at or deal.created_at
    changes = []
    for move in entry.moves:
        target = stages[move.stage_id]
        changes.append(StageChange(
            deal=deal, from_stage=source, to_stage=target, actor=actor, changed_at=move.at,
            seconds_in_stage=max(int((move.at - entered).total_seconds()), 0)))
        closing = target.is_won or target.is_lost
        deal.stage, deal.stage_entered_at = target, move.at
        deal.closed_at = move.at if closing else None
        deal.lost_reason = move.lost_reason if target.is_lost else ""
        source, entered = target, move.at
    StageChange.objects.bulk_create(changes)
    deal.version += 1
    deal.save(update_fields=["stage", "stage_entered_at", "closed_at", "lost_reason",
                             "version", "updated_at"])
    record_events([events.deal_history_loaded(
        deal_id=deal.id, actor_id=actor.id, contact_id=deal.contact_id,
        shown={"moves": [{"stage": stages[m.stage_id].name, "at": m.at.isoformat()}
                         for m in entry.moves],
               "stage": deal.stage.name, "lost_reason": deal.lost_reason})])
    return deal
