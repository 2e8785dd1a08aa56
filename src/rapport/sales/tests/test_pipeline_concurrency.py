"""Two people move the same deal at the same moment with the same version: exactly one move
lands, the other is a 409 (VersionConflict) and nothing of the winner's is lost. Real
transactions on PostgreSQL (SQLite serialises every writer anyway)."""

import threading

import pytest
from django.db import connection, connections

from rapport.core.errors import VersionConflict
from rapport.core.models import Event
from rapport.sales import services
from rapport.sales.models import Deal, Stage, StageChange
from rapport.testing import make_user

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL"),
]

ROUNDS = 5


def test_two_moves_of_one_version_one_wins_the_other_is_409():
    owner = make_user("olivia@bakery.example.com", "owner")
    manager = make_user("mia@bakery.example.com", "manager", team="north")
    rep = make_user("sam@bakery.example.com", "sales", team="north")
    pipeline = services.pipeline_create(actor=owner, data={"name": "Wholesale"})
    stages = {s.name: s for s in Stage.objects.filter(pipeline=pipeline)}
    for _ in range(ROUNDS):
        deal = services.deal_create(actor=rep, data={"name": "Café Lind", "amount": "900"})
        start = threading.Barrier(2)
        outcomes: dict[str, object] = {}

        def move(who, user, stage_name, deal_id=deal.id, start=start, outcomes=outcomes):
            try:
                start.wait()
                services.deal_move(actor=user, deal_id=deal_id,
                                   stage_id=stages[stage_name].id, version=1)
                outcomes[who] = stage_name
            except BaseException as error:  # noqa: BLE001 - reported below
                outcomes[who] = error
            finally:
                connections.close_all()

        threads = [threading.Thread(target=move, args=("rep", rep, "Proposal")),
                   threading.Thread(target=move, args=("manager", manager, "Won"))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        won = [v for v in outcomes.values() if isinstance(v, str)]
        refused = [v for v in outcomes.values() if isinstance(v, VersionConflict)]
        assert len(won) == 1 and len(refused) == 1, outcomes
        assert refused[0].current["stage"] == won[0] and refused[0].current_version == 2
        deal = Deal.objects.get(id=deal.id)
        assert (deal.stage.name, deal.version) == (won[0], 2)
        assert StageChange.objects.filter(deal=deal).count() == 1
        assert Event.objects.filter(entity_type="deal", entity_id=deal.id,
                                    kind__in=("deal.moved", "deal.won")).count() == 1
