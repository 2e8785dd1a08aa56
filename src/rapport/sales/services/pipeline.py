"""Pipelines and their stages: the columns of the kanban board.

A pipeline's stages are ordered (``position`` 1, 2, …); each has a win probability. Every
pipeline has exactly one won stage (100 %) and one lost stage (0 %) and at least one open
stage, so a deal can always be won, lost or worked on. A stage that holds deals cannot be
deleted (422): move its deals first. Pipelines are shared settings: the owner role
(``settings.change``) changes them, everyone reads them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F

from rapport.core.errors import NotFound, ValidationFailed
from rapport.core.events import record_events
from rapport.core.inputs import parse
from rapport.core.permissions import require
from rapport.sales import events
from rapport.sales.inputs import (
    PipelineChanges,
    PipelineInput,
    PipelineUpdate,
    StageChanges,
    StageInput,
)
from rapport.sales.models import Deal, Pipeline, Stage

DEFAULT_STAGES = (("New", 10, "open"), ("Qualified", 25, "open"), ("Proposal", 50, "open"),
                  ("Negotiation", 75, "open"), ("Won", 100, "won"), ("Lost", 0, "lost"))
KIND_PROBABILITY = {"won": 100, "lost": 0}


def _require_settings(actor: Any) -> None:
    require(actor, "settings.change", message="only the owner role changes pipelines")


def kind_of(stage: Stage) -> str:
    return "won" if stage.is_won else "lost" if stage.is_lost else "open"


def _stage_snapshot(stage: Stage) -> dict[str, Any]:
    return {"name": stage.name, "position": stage.position, "probability": stage.probability,
            "kind": kind_of(stage), "pipeline_id": stage.pipeline_id}


def _probability(entry: StageInput, field: str = "probability") -> int:
    """The stage's probability: won is 100 and lost 0 (given or not); open ones must say."""
    fixed = KIND_PROBABILITY.get(entry.kind)
    if fixed is not None:
        if entry.probability not in (None, fixed):
            raise ValidationFailed({field: f"a {entry.kind} stage is {fixed}% likely"})
        return fixed
    if entry.probability is None:
        raise ValidationFailed({field: "is required for an open stage (percent, 0-100)"})
    return entry.probability


def _check_kinds(kinds: list[str], field: str) -> None:
    if kinds.count("won") != 1 or kinds.count("lost") != 1:
        raise ValidationFailed({field: "a pipeline has exactly one won and one lost stage"})
    if "open" not in kinds:
        raise ValidationFailed({field: "a pipeline needs at least one open stage"})


def _pipeline(pipeline_id: int) -> Pipeline:
    pipeline = Pipeline.objects.select_for_update().filter(id=pipeline_id).first()
    if pipeline is None:
        raise NotFound(f"no pipeline with id {pipeline_id}")
    return pipeline


def _stage(stage_id: int) -> Stage:
    stage = Stage.objects.select_for_update().filter(id=stage_id).first()
    if stage is None:
        raise NotFound(f"no stage with id {stage_id}")
    return stage


def _make_default(pipeline: Pipeline) -> None:
    Pipeline.objects.filter(is_default=True).exclude(id=pipeline.id).update(is_default=False)
    pipeline.is_default = True


def _name_taken(name: str, *, other_than: int | None = None) -> bool:
    same = Pipeline.objects.filter(name__iexact=name)
    if other_than is not None:
        same = same.exclude(id=other_than)
    return same.exists()


@transaction.atomic
def pipeline_create(*, actor: Any, data: PipelineInput | Mapping[str, Any]) -> Pipeline:
    """A pipeline with its stages in the order given (the usual six when none are)."""
    _require_settings(actor)
    entry = parse(PipelineInput, data)
    if _name_taken(entry.name):
        raise ValidationFailed({"name": f"there is already a pipeline called {entry.name}"})
    stages = entry.stages if entry.stages is not None else [
        StageInput(name=name, probability=p, kind=kind) for name, p, kind in DEFAULT_STAGES]
    _check_kinds([s.kind for s in stages], "stages")
    names = [s.name.lower() for s in stages]
    if len(set(names)) != len(names):
        raise ValidationFailed({"stages": "two stages have the same name"})
    probabilities = [_probability(s, f"stages.{i}.probability") for i, s in enumerate(stages)]
    pipeline = Pipeline(name=entry.name)
    if entry.is_default or not Pipeline.objects.exists():
        _make_default(pipeline)
    pipeline.save()
    Stage.objects.bulk_create([
        Stage(pipeline=pipeline, name=s.name, position=i, probability=p,
              is_won=s.kind == "won", is_lost=s.kind == "lost")
        for i, (s, p) in enumerate(zip(stages, probabilities, strict=True), start=1)])
    record_events([events.sales_settings_changed(
        actor_id=actor.id, what="pipeline", entity_id=pipeline.id, before=None,
        after={"name": pipeline.name, "stages": [s.name for s in stages]})])
    return pipeline


@transaction.atomic
def pipeline_update(*, actor: Any, pipeline_id: int,
                    changes: PipelineChanges | Mapping[str, Any]) -> Pipeline:
    """Rename it, or make it the default (the one converted leads' deals go to)."""
    _require_settings(actor)
    pipeline = _pipeline(pipeline_id)
    given = parse(PipelineChanges, changes).model_dump(exclude_unset=True)
    before = {"name": pipeline.name, "is_default": pipeline.is_default}
    merged = parse(PipelineUpdate, {**before, **{k: v for k, v in given.items()
                                                 if v is not None}})
    if merged.name != pipeline.name and _name_taken(merged.name, other_than=pipeline.id):
        raise ValidationFailed({"name": f"there is already a pipeline called {merged.name}"})
    if pipeline.is_default and not merged.is_default:
        raise ValidationFailed({"is_default": "make another pipeline the default instead"})
    pipeline.name = merged.name
    if merged.is_default and not pipeline.is_default:
        _make_default(pipeline)
    pipeline.save()
    record_events([events.sales_settings_changed(
        actor_id=actor.id, what="pipeline", entity_id=pipeline.id, before=before,
        after={"name": pipeline.name, "is_default": pipeline.is_default})])
    return pipeline


@transaction.atomic
def pipeline_delete(*, actor: Any, pipeline_id: int) -> None:
    """Only an empty pipeline that is not the default (its stages go with it)."""
    _require_settings(actor)
    pipeline = _pipeline(pipeline_id)
    held = Deal.objects.filter(pipeline=pipeline).count()
    if held:
        raise ValidationFailed({"pipeline": f"holds {held} deal{'s' if held != 1 else ''}; "
                                            "move or delete them first"})
    if pipeline.is_default and Pipeline.objects.exclude(id=pipeline.id).exists():
        raise ValidationFailed({"is_default": "make another pipeline the default first"})
    before = {"name": pipeline.name}
    pipeline.delete()
    record_events([events.sales_settings_changed(actor_id=actor.id, what="pipeline",
                                                 entity_id=pipeline_id, before=before,
                                                 after=None)])


def _renumber(pipeline_id: int, ordered: list[Stage]) -> None:
    """Give the stages positions 1, 2, … in this order (clear of the unique positions)."""
    Stage.objects.filter(pipeline_id=pipeline_id).update(position=F("position") + 10000)
    for position, stage in enumerate(ordered, start=1):
        stage.position = position
        Stage.objects.filter(id=stage.id).update(position=position)


def _ordered_with(stages: list[Stage], stage: Stage, position: int | None) -> list[Stage]:
    """``stages`` (without ``stage``) with ``stage`` put at ``position`` (1-based); None:
    after the last open stage."""
    others = [s for s in stages if s.id != stage.id]
    if position is None:
        open_ones = [i for i, s in enumerate(others) if not (s.is_won or s.is_lost)]
        index = (open_ones[-1] + 1) if open_ones else 0
    else:
        index = min(max(position - 1, 0), len(others))
    return [*others[:index], stage, *others[index:]]


@transaction.atomic
def stage_create(*, actor: Any, pipeline_id: int,
                 data: StageInput | Mapping[str, Any]) -> Stage:
    """A new open stage (a pipeline already has its one won and one lost stage)."""
    _require_settings(actor)
    pipeline = _pipeline(pipeline_id)
    entry = parse(StageInput, data)
    stages = list(Stage.objects.select_for_update().filter(pipeline=pipeline)
                  .order_by("position"))
    if entry.kind != "open":
        raise ValidationFailed({"kind": f"the pipeline already has its {entry.kind} stage"})
    if any(s.name.lower() == entry.name.lower() for s in stages):
        raise ValidationFailed({"name": f"the pipeline already has a stage {entry.name}"})
    stage = Stage(pipeline=pipeline, name=entry.name, probability=_probability(entry),
                  position=10000 + len(stages) + 1)
    stage.save()
    _renumber(pipeline.id, _ordered_with(stages, stage, entry.position))
    record_events([events.sales_settings_changed(actor_id=actor.id, what="stage",
                                                 entity_id=stage.id, before=None,
                                                 after=_stage_snapshot(stage))])
    return stage


@transaction.atomic
def stage_update(*, actor: Any, stage_id: int, changes: StageChanges | Mapping[str, Any]) -> Stage:
    """Rename, re-weigh or move a stage; its kind changes only while it holds no deals."""
    _require_settings(actor)
    stage = _stage(stage_id)
    given = parse(StageChanges, changes).model_dump(exclude_unset=True)
    before = _stage_snapshot(stage)
    merged = parse(StageInput, {"name": stage.name, "kind": kind_of(stage),
                                "probability": None if "kind" in given and "probability"
                                not in given else stage.probability,
                                **{k: v for k, v in given.items() if v is not None}})
    stages = list(Stage.objects.select_for_update().filter(pipeline_id=stage.pipeline_id)
                  .order_by("position"))
    if merged.kind != kind_of(stage):
        if Deal.objects.filter(stage=stage).exists():
            raise ValidationFailed({"kind": "the stage holds deals; its kind cannot change"})
        kinds = [merged.kind if s.id == stage.id else kind_of(s) for s in stages]
        _check_kinds(kinds, "kind")
    if any(s.id != stage.id and s.name.lower() == merged.name.lower() for s in stages):
        raise ValidationFailed({"name": f"the pipeline already has a stage {merged.name}"})
    stage.name, stage.probability = merged.name, _probability(merged)
    stage.is_won, stage.is_lost = merged.kind == "won", merged.kind == "lost"
    stage.save(update_fields=["name", "probability", "is_won", "is_lost"])
    if given.get("position") is not None:
        _renumber(stage.pipeline_id, _ordered_with(stages, stage, given["position"]))
    record_events([events.sales_settings_changed(actor_id=actor.id, what="stage",
                                                 entity_id=stage.id, before=before,
                                                 after=_stage_snapshot(stage))])
    return stage


@transaction.atomic
def stage_delete(*, actor: Any, stage_id: int) -> None:
    """Only a stage no deal is in (deleted deals count: they can be restored), and never the
    pipeline's won, lost or last open stage."""
    _require_settings(actor)
    stage = _stage(stage_id)
    held = Deal.objects.filter(stage=stage).count()
    if held:
        raise ValidationFailed({"stage": f"{stage.name} holds {held} deal"
                                         f"{'s' if held != 1 else ''}; move them first"})
    stages = list(Stage.objects.select_for_update().filter(pipeline_id=stage.pipeline_id)
                  .order_by("position"))
    _check_kinds([kind_of(s) for s in stages if s.id != stage.id], "stage")
    before = _stage_snapshot(stage)
    try:
        with transaction.atomic():
            stage.delete()
    except IntegrityError:  # a stage change in the history still names it as where deals went
        raise ValidationFailed({"stage": f"deals' history passes through {stage.name}"}) \
            from None
    _renumber(before["pipeline_id"], [s for s in stages if s.id != stage_id])
    record_events([events.sales_settings_changed(actor_id=actor.id, what="stage",
                                                 entity_id=stage_id, before=before,
                                                 after=None)])
