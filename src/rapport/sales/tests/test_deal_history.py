"""A deal's past stage moves written at their own times (the demo's history, or deals from
another system): the stage history, time in stage, closing and lost reasons as they were."""

from __future__ import annotations

import datetime as dt
from unittest import mock

import pytest
from django.utils import timezone

from rapport.core.errors import NotFound, ValidationFailed
from rapport.core.models import Event
from rapport.sales import services
from rapport.sales.models import Deal, StageChange
from rapport.sales.selectors import pipeline_stages

pytestmark = pytest.mark.django_db
T0 = dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC)


@pytest.fixture
def deal(sales_a):
    with mock.patch.object(timezone, "now", lambda: T0):
        return services.deal_create(actor=sales_a, data={"name": "Alder: standing order",
                                                         "amount": "1200"})


def stage(name):
    return next(s for s in pipeline_stages(pipeline_id=services.ensure_default_pipeline().id)
                if s.name == name)


def test_past_moves_make_the_stage_history_with_time_in_stage(deal, sales_a):
    moves = [{"stage_id": stage("Qualified").id, "at": T0 + dt.timedelta(days=3)},
             {"stage_id": stage("Proposal").id, "at": T0 + dt.timedelta(days=10)},
             {"stage_id": stage("Lost").id, "at": T0 + dt.timedelta(days=12, hours=6),
              "lost_reason": "Went with another bakery"}]
    moved = services.deal_history_load(actor=sales_a, deal_id=deal.id, data={"moves": moves})
    assert (moved.stage.name, moved.lost_reason, moved.version) == (
        "Lost", "Went with another bakery", deal.version + 1)
    assert moved.stage_entered_at == moved.closed_at == T0 + dt.timedelta(days=12, hours=6)
    history = list(StageChange.objects.filter(deal=deal).order_by("changed_at")
                   .values_list("from_stage__name", "to_stage__name", "seconds_in_stage"))
    assert history == [("New", "Qualified", 3 * 86400), ("Qualified", "Proposal", 7 * 86400),
                       ("Proposal", "Lost", 2 * 86400 + 6 * 3600)]
    event = Event.objects.get(kind="deal.history_loaded")
    assert event.after["stage"] == "Lost" and len(event.after["moves"]) == 3
    # Reopened and won later: closed_at follows the last move.
    won = services.deal_history_load(actor=sales_a, deal_id=deal.id, data={"moves": [
        {"stage_id": stage("Negotiation").id, "at": T0 + dt.timedelta(days=20)},
        {"stage_id": stage("Won").id, "at": T0 + dt.timedelta(days=25)}]})
    assert (won.stage.name, won.lost_reason, won.closed_at) == (
        "Won", "", T0 + dt.timedelta(days=25))


@pytest.mark.parametrize(("move", "said"), [
    ({"stage": "Qualified", "days": -1}, "move 1: is earlier than the move before it"),
    ({"stage": "Lost", "days": 2}, "move 1: a lost stage needs the reason"),
    ({"stage": "Qualified", "days": 10_000}, "move 1: is in the future"),
    ({"stage": None, "days": 2}, "move 1: stage 999999 is not in the deal's pipeline"),
])
def test_bad_history_names_the_move_and_writes_nothing(deal, sales_a, move, said):
    stage_id = stage(move["stage"]).id if move["stage"] else 999999
    with pytest.raises(ValidationFailed) as refused:
        services.deal_history_load(actor=sales_a, deal_id=deal.id, data={"moves": [
            {"stage_id": stage_id, "at": T0 + dt.timedelta(days=move["days"])}]})
    assert said in refused.value.errors["moves"][0]
    assert not StageChange.objects.exists()
    assert Deal.objects.get(id=deal.id).version == deal.version


def test_out_of_order_moves_and_someone_elses_deal_are_refused(deal, sales_a, sales_b):
    with pytest.raises(ValidationFailed) as refused:
        services.deal_history_load(actor=sales_a, deal_id=deal.id, data={"moves": [
            {"stage_id": stage("Proposal").id, "at": T0 + dt.timedelta(days=5)},
            {"stage_id": stage("Qualified").id, "at": T0 + dt.timedelta(days=4)}]})
    assert "move 2" in refused.value.errors["moves"][0]
    with pytest.raises(ValidationFailed):
        services.deal_history_load(actor=sales_a, deal_id=deal.id, data={"moves": []})
    with pytest.raises(NotFound):  # another team's deal: not theirs to see
        services.deal_history_load(actor=sales_b, deal_id=deal.id, data={"moves": [
            {"stage_id": stage("Qualified").id, "at": T0 + dt.timedelta(days=1)}]})
    assert not StageChange.objects.exists()
