"""Deals and their moves through the pipeline.

A deal is its owner's (``deals`` resource: a rep changes their own, a manager the team's).
Every change takes the ``version`` the person last read: a stale one is a 409 and changes
nothing. A move records a :class:`StageChange` (how long the deal sat in the stage it left),
stamps ``stage_entered_at``, and sets ``closed_at`` when the deal reaches the won or lost stage
(cleared when it is reopened); a lost deal needs its reason. A deal with lines from the
product catalogue is worth their total.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from rapport.contacts.selectors import company_get, contact_get
from rapport.core.errors import NotFound, PermissionDenied, ValidationFailed, VersionConflict
from rapport.core.events import diff, record_events
from rapport.core.inputs import parse
from rapport.core.permissions import can, get_for
from rapport.orders.selectors import catalogue_for
from rapport.sales import events
from rapport.sales.inputs import (
    DealChanges,
    DealInput,
    DealLineInput,
    DealLinesInput,
    DealMoveInput,
    DealUpdate,
)
from rapport.sales.models import Deal, DealLine, Lead, Pipeline, Stage, StageChange, Territory
from rapport.sales.selectors import default_pipeline

DEFAULT_CURRENCY = "USD"
DEFAULT_STAGES = (("New", 10, False, False), ("Qualified", 25, False, False),
                  ("Proposal", 50, False, False), ("Negotiation", 75, False, False),
                  ("Won", 100, True, False), ("Lost", 0, False, True))
CENT = Decimal("0.01")


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


def _people(actor: Any, contact_id: int | None, company_id: int | None,
            errors: dict[str, str]) -> tuple[int | None, int | None]:
    """The contact and company, if the actor can see them (else an error naming each)."""
    found_contact = found_company = None
    try:
        if contact_id is not None:
            found_contact = contact_get(user=actor, contact_id=contact_id).id
    except NotFound:
        errors["contact_id"] = f"no contact with id {contact_id}"
    try:
        if company_id is not None:
            found_company = company_get(user=actor, company_id=company_id).id
    except NotFound:
        errors["company_id"] = f"no company with id {company_id}"
    return found_contact, found_company


def _territory(territory_id: int | None, errors: dict[str, str]) -> int | None:
    if territory_id is not None and not Territory.objects.filter(id=territory_id).exists():
        errors["territory_id"] = f"no territory with id {territory_id}"
        return None
    return territory_id


def _priced_lines(lines: Sequence[DealLineInput], field: str = "lines") -> list[DealLine]:
    """Unsaved lines: each product's name and price unless the line gives its own."""
    catalogue = catalogue_for(ids=[line.product_id for line in lines])
    errors: dict[str, str] = {}
    out: list[DealLine] = []
    for i, line in enumerate(lines):
        product = catalogue.by_id.get(line.product_id) if line.product_id else None
        if line.product_id is not None and product is None:
            errors[f"{field}.{i}.product_id"] = f"no product with id {line.product_id}"
            continue
        if product is None:
            if not line.description:
                errors[f"{field}.{i}.description"] = "is required for a line without a product"
            if line.unit_price is None:
                errors[f"{field}.{i}.unit_price"] = "is required for a line without a product"
            if errors:
                continue
        price = line.unit_price if line.unit_price is not None else product.price  # type: ignore[union-attr]
        description = line.description or product.name  # type: ignore[union-attr]
        out.append(DealLine(product=product, description=description, quantity=line.quantity,
                            unit_price=price, position=i + 1))
    if errors:
        raise ValidationFailed(errors)
    return out


def lines_total(lines: Sequence[DealLine]) -> Decimal:
    total = sum((line.quantity * line.unit_price for line in lines), Decimal("0"))
    return total.quantize(CENT, rounding=ROUND_HALF_UP)


def _fits(amount: Decimal) -> None:
    if amount >= Decimal("1e12"):
        raise ValidationFailed({"lines": "the lines add up to more than a deal can hold"})


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
    elif stage.is_lost:
        errors["stage_id"] = "a deal cannot start lost (it needs a reason: move it there)"
    contact_id, company_id = _people(actor, entry.contact_id, entry.company_id, errors)
    territory_id = _territory(entry.territory_id, errors)
    if entry.lead_id is not None and not Lead.objects.restrict(actor, "view").filter(
            id=entry.lead_id, deleted_at__isnull=True).exists():
        errors["lead_id"] = f"no lead with id {entry.lead_id}"
    lines = _priced_lines(entry.lines) if entry.lines else []
    if errors or stage is None:
        raise ValidationFailed(errors)
    amount = lines_total(lines) if lines else entry.amount
    _fits(amount)
    now = timezone.now()
    deal = Deal.objects.create(
        name=entry.name, amount=amount, currency=entry.currency or DEFAULT_CURRENCY,
        expected_close=entry.expected_close, owner_id=owner_id, pipeline=pipeline, stage=stage,
        contact_id=contact_id, company_id=company_id, lead_id=entry.lead_id,
        territory_id=territory_id, next_step=entry.next_step, stage_entered_at=now,
        closed_at=now if stage.is_won else None)
    for line in lines:
        line.deal = deal
    DealLine.objects.bulk_create(lines)
    record_events([events.deal_created(deal_id=deal.id, actor_id=actor.id,
                                       contact_id=contact_id, shown=deal_shown(deal))])
    return deal


def _load(actor: Any, deal_id: int, action: str = "change") -> Deal:
    return get_for(actor, action, Deal.objects.filter(deleted_at__isnull=True), deal_id,
                   noun="deal")


def _current(deal: Deal) -> dict[str, Any]:
    """What a 409 shows: the deal as the other person left it."""
    stage = Stage.objects.get(id=deal.stage_id)
    return {"id": deal.id, "name": deal.name, "amount": str(deal.amount),
            "currency": deal.currency, "stage_id": deal.stage_id, "stage": stage.name,
            "owner_id": deal.owner_id, "next_step": deal.next_step,
            "expected_close": deal.expected_close.isoformat() if deal.expected_close else None,
            "lost_reason": deal.lost_reason, "version": deal.version}


def _check_version(deal: Deal, version: int | None) -> None:
    if version is None:
        raise ValidationFailed({"version": "is required (the version you last read)"})
    if version != deal.version:
        raise VersionConflict(current=_current(deal), current_version=deal.version,
                              given_version=version)


EDITABLE = tuple(DealUpdate.model_fields)


def _editable(deal: Deal) -> dict[str, Any]:
    return {name: getattr(deal, name) for name in EDITABLE}


def _plain(values: dict[str, Any]) -> dict[str, Any]:
    return {k: (str(v) if isinstance(v, Decimal) else v.isoformat()
                if isinstance(v, dt.date) else v) for k, v in values.items()}


@transaction.atomic
def deal_update(*, actor: Any, deal_id: int, version: int | None,
                changes: DealChanges | Mapping[str, Any]) -> Deal:
    """Change some fields (not the stage: that is :func:`deal_move`). Handing the deal to
    someone else needs the right to open deals for them; a deal with lines is worth their
    total, so its amount is not typed."""
    deal = _load(actor, deal_id)
    _check_version(deal, version)
    given = parse(DealChanges, changes if not isinstance(changes, Mapping)
                  else {**changes, "version": version}).model_dump(exclude_unset=True)
    given.pop("version", None)
    before = _editable(deal)
    merged = parse(DealUpdate, _plain({**before, **{k: v for k, v in given.items()
                                                     if v is not None or k in (
                                                         "expected_close", "contact_id",
                                                         "company_id", "territory_id",
                                                         "owner_id")}}))
    after = merged.model_dump()
    old, new = diff(before, after)
    if not new:
        return deal
    errors: dict[str, str] = {}
    if "amount" in new and deal.lines.exists():
        errors["amount"] = "is the total of the deal's lines: change the lines instead"
    if "owner_id" in new:
        if new["owner_id"] is None:
            errors["owner_id"] = "a deal needs an owner"
        elif not can(actor, "deals.change", owner_id=new["owner_id"]):
            raise PermissionDenied("you may not hand this deal to that person")
    _people(actor, new.get("contact_id"), new.get("company_id"), errors)
    _territory(new.get("territory_id"), errors)
    if errors:
        raise ValidationFailed(errors)
    for name, value in new.items():
        setattr(deal, name, value)
    deal.version += 1
    deal.save()
    record_events([events.deal_updated(deal_id=deal.id, actor_id=actor.id,
                                       contact_id=deal.contact_id, before=_plain(old),
                                       after={**_plain(new), "deal": deal.name})])
    return deal


@transaction.atomic
def deal_lines_set(*, actor: Any, deal_id: int,
                   data: DealLinesInput | Mapping[str, Any]) -> Deal:
    """Replace the deal's lines; its amount becomes their total (with none left, it keeps
    the amount it had and is typed by hand again)."""
    entry = parse(DealLinesInput, data)
    deal = _load(actor, deal_id)
    _check_version(deal, entry.version)
    lines = _priced_lines(entry.lines)
    before = {"amount": str(deal.amount), "lines": deal.lines.count()}
    deal.lines.all().delete()
    for line in lines:
        line.deal = deal
    DealLine.objects.bulk_create(lines)
    if lines:
        deal.amount = lines_total(lines)
        _fits(deal.amount)
    deal.version += 1
    deal.save(update_fields=["amount", "version", "updated_at"])
    record_events([events.deal_updated(deal_id=deal.id, actor_id=actor.id,
                                       contact_id=deal.contact_id, before=before,
                                       after={"amount": str(deal.amount), "lines": len(lines),
                                              "deal": deal.name})])
    return deal


@transaction.atomic
def deal_move(*, actor: Any, deal_id: int, stage_id: int, version: int | None,
              lost_reason: str = "") -> Deal:
    """Move the deal to another stage of its pipeline.

    Optimistic: the deal is locked and ``version`` must be the one the mover saw, so of two
    people moving it at once one wins and the other gets a 409 with the deal as it now is.
    """
    if version is None:
        raise ValidationFailed({"version": "is required (the version you last read)"})
    entry = parse(DealMoveInput, {"stage_id": stage_id, "version": version,
                                  "lost_reason": lost_reason})
    deal = _load(actor, deal_id)
    _check_version(deal, version)
    target = Stage.objects.filter(id=entry.stage_id, pipeline_id=deal.pipeline_id).first()
    if target is None:
        raise ValidationFailed({"stage_id": f"no stage with id {entry.stage_id} in the deal's "
                                            "pipeline"})
    if target.id == deal.stage_id:
        return deal
    if target.is_lost and not entry.lost_reason:
        raise ValidationFailed({"lost_reason": "say why the deal was lost"})
    source = Stage.objects.get(id=deal.stage_id)
    now = timezone.now()
    entered = deal.stage_entered_at or deal.created_at
    seconds = max(int((now - entered).total_seconds()), 0) if entered else None
    StageChange.objects.create(deal=deal, from_stage=source, to_stage=target, actor=actor,
                               changed_at=now, seconds_in_stage=seconds)
    deal.stage, deal.stage_entered_at = target, now
    closing = target.is_won or target.is_lost
    deal.closed_at = now if closing else None
    deal.lost_reason = entry.lost_reason if target.is_lost else ""
    deal.version += 1
    deal.save(update_fields=["stage", "stage_entered_at", "closed_at", "lost_reason", "version",
                             "updated_at"])
    record_events([events.deal_moved(
        deal_id=deal.id, actor_id=actor.id, contact_id=deal.contact_id,
        before={"stage": source.name, "stage_id": source.id,
                "probability": source.probability},
        after={"name": deal.name, "stage": target.name, "stage_id": target.id,
               "probability": target.probability, "amount": str(deal.amount),
               "currency": deal.currency, "won": target.is_won, "lost": target.is_lost,
               "reopened": bool((source.is_won or source.is_lost) and not closing),
               "lost_reason": deal.lost_reason,
               "days_in_stage": round(seconds / 86400, 1) if seconds is not None else None})])
    return deal


def first_open_stage(pipeline_id: int) -> Stage:
    stage = (Stage.objects.filter(pipeline_id=pipeline_id, is_won=False, is_lost=False)
             .order_by("position").first())
    if stage is None:
        raise ValidationFailed({"stage_id": "the pipeline has no open stage"})
    return stage


def closing_stage(pipeline_id: int, *, won: bool) -> Stage:
    stage = Stage.objects.filter(pipeline_id=pipeline_id, **(
        {"is_won": True} if won else {"is_lost": True})).order_by("position").first()
    if stage is None:
        raise ValidationFailed({"stage_id": f"the pipeline has no {'won' if won else 'lost'} "
                                            "stage"})
    return stage


@transaction.atomic
def deal_delete(*, actor: Any, deal_id: int) -> None:
    """Into the bin (``deleted_at``): it leaves the board, lists and totals."""
    deal = _load(actor, deal_id, "delete")
    deal.deleted_at = timezone.now()
    deal.version += 1
    deal.save(update_fields=["deleted_at", "version", "updated_at"])
    record_events([events.deal_deleted(deal_id=deal.id, actor_id=actor.id,
                                       contact_id=deal.contact_id,
                                       shown={"name": deal.name, "amount": str(deal.amount),
                                              "currency": deal.currency})])
