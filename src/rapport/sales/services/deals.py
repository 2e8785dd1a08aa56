"""Deals and the pipeline they move through: just what conversion and the deal pages need."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from rapport.contacts.selectors import company_get, contact_get
from rapport.core.errors import NotFound, PermissionDenied, ValidationFailed
from rapport.core.events import record_events
from rapport.core.inputs import parse
from rapport.core.permissions import can
from rapport.sales import events
from rapport.sales.inputs import DealInput
from rapport.sales.models import Deal, Pipeline, Stage
from rapport.sales.selectors import default_pipeline

DEFAULT_CURRENCY = "USD"
DEFAULT_STAGES = (("New", 10, False, False), ("Qualified", 25, False, False),
                  ("Proposal", 50, False, False), ("Negotiation", 75, False, False),
                  ("Won", 100, True, False), ("Lost", 0, False, True))


def ensure_default_pipeline() -> Pipeline:
    """The business's default pipeline, made with the usual stages the first time."""
    pipeline = default_pipeline()
    if pipeline is not None:
        return pipeline
    try:
        with transaction.atomic():
            pipeline = Pipeline.objects.create(name="Sales", is_default=True)
            Stage.objects.bulk_create([
                Stage(pipeline=pipeline, name=name, position=i, probability=p, is_won=won,
                      is_lost=lost)
                for i, (name, p, won, lost) in enumerate(DEFAULT_STAGES, start=1)])
    except IntegrityError:  # made at the same moment by another request
        pipeline = default_pipeline()
        assert pipeline is not None
    return pipeline


def deal_shown(deal: Deal) -> dict[str, Any]:
    return {"name": deal.name, "amount": str(deal.amount), "currency": deal.currency,
            "stage": deal.stage.name, "probability": deal.stage.probability,
            "owner_id": deal.owner_id, "lead_id": deal.lead_id}


@transaction.atomic
def deal_create(*, actor: Any, data: DealInput | Mapping[str, Any]) -> Deal:
    """A deal in the first open stage of its pipeline (the default one unless named)."""
    entry = parse(DealInput, data)
    errors: dict[str, str] = {}
    owner_id = entry.owner_id or actor.id
    if not can(actor, "deals.change", owner_id=owner_id):
        raise PermissionDenied("you may not open deals for that person")
    if entry.pipeline_id is not None:
        pipeline = Pipeline.objects.filter(id=entry.pipeline_id).first()
        if pipeline is None:
            raise ValidationFailed({"pipeline_id": f"no pipeline with id {entry.pipeline_id}"})
    else:
        pipeline = ensure_default_pipeline()
    stages = Stage.objects.filter(pipeline=pipeline)
    stage = (stages.filter(id=entry.stage_id).first() if entry.stage_id
             else stages.filter(is_won=False, is_lost=False).order_by("position").first())
    if stage is None:
        errors["stage_id"] = "is not a stage of this pipeline"
    contact_id = company_id = None
    try:
        if entry.contact_id is not None:
            contact_id = contact_get(user=actor, contact_id=entry.contact_id).id
    except NotFound:
        errors["contact_id"] = f"no contact with id {entry.contact_id}"
    try:
        if entry.company_id is not None:
            company_id = company_get(user=actor, company_id=entry.company_id).id
    except NotFound:
        errors["company_id"] = f"no company with id {entry.company_id}"
    if errors or stage is None:
        raise ValidationFailed(errors)
    deal = Deal.objects.create(
        name=entry.name, amount=entry.amount, currency=entry.currency or DEFAULT_CURRENCY,
        expected_close=entry.expected_close, owner_id=owner_id, pipeline=pipeline, stage=stage,
        contact_id=contact_id, company_id=company_id, lead_id=entry.lead_id,
        stage_entered_at=timezone.now())
    record_events([events.deal_created(deal_id=deal.id, actor_id=actor.id,
                                       contact_id=contact_id, shown=deal_shown(deal))])
    return deal
