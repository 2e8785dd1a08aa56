"""Pipelines, stages, deals and their moves through the services (SQLite and PostgreSQL)."""

from decimal import Decimal

import pytest

from rapport.core.errors import NotFound, PermissionDenied, ValidationFailed, VersionConflict
from rapport.core.models import Event
from rapport.orders.models import Product
from rapport.sales import selectors, services
from rapport.sales.models import Deal, Pipeline, Stage, StageChange, Territory

pytestmark = pytest.mark.django_db


@pytest.fixture
def pipeline(owner):
    return services.pipeline_create(actor=owner, data={"name": "Wholesale"})


def stages_of(pipeline):
    return {s.name: s for s in Stage.objects.filter(pipeline=pipeline)}


def deal_for(user, pipeline, **data):
    return services.deal_create(actor=user, data={"name": "Café Lind bread", "amount": "1200",
                                                  "pipeline_id": pipeline.id, **data})


def test_a_pipeline_gets_the_usual_stages_in_order_and_the_first_is_the_default(owner,
                                                                               pipeline):
    stages = list(Stage.objects.filter(pipeline=pipeline).order_by("position"))
    assert [(s.name, s.position, s.probability) for s in stages] == [
        ("New", 1, 10), ("Qualified", 2, 25), ("Proposal", 3, 50), ("Negotiation", 4, 75),
        ("Won", 5, 100), ("Lost", 6, 0)]
    assert [s.is_won for s in stages].count(True) == 1 and stages[-1].is_lost
    assert pipeline.is_default
    other = services.pipeline_create(actor=owner, data={"name": "Events", "is_default": True})
    pipeline.refresh_from_db()
    assert other.is_default and not pipeline.is_default


def test_pipeline_and_stage_rules_are_422_naming_the_field_and_change_nothing(owner,
                                                                             pipeline):
    bad = [
        ({"name": "Two wins", "stages": [{"name": "A", "probability": 10},
                                         {"name": "W", "kind": "won"},
                                         {"name": "W2", "kind": "won"},
                                         {"name": "L", "kind": "lost"}]}, "stages"),
        ({"name": "No open", "stages": [{"name": "W", "kind": "won"},
                                        {"name": "L", "kind": "lost"}]}, "stages"),
        ({"name": "Wholesale"}, "name"),
        ({"name": "Odd", "stages": [{"name": "A", "probability": 10},
                                    {"name": "W", "kind": "won", "probability": 90},
                                    {"name": "L", "kind": "lost"}]}, "stages.1.probability"),
        ({"name": "Missing", "stages": [{"name": "A"}, {"name": "W", "kind": "won"},
                                        {"name": "L", "kind": "lost"}]}, "stages.0.probability"),
    ]
    for data, field in bad:
        with pytest.raises(ValidationFailed) as failure:
            services.pipeline_create(actor=owner, data=data)
        assert field in failure.value.errors, (data, failure.value.errors)
    assert Pipeline.objects.count() == 1 and Stage.objects.count() == 6
    with pytest.raises(ValidationFailed) as failure:
        services.stage_create(actor=owner, pipeline_id=pipeline.id,
                              data={"name": "Also won", "kind": "won"})
    assert "kind" in failure.value.errors
    stages = stages_of(pipeline)
    with pytest.raises(ValidationFailed) as failure:
        services.stage_delete(actor=owner, stage_id=stages["Won"].id)
    assert "stage" in failure.value.errors
    assert Stage.objects.count() == 6


def test_stages_are_added_reordered_and_deleted_in_place(owner, pipeline):
    demo = services.stage_create(actor=owner, pipeline_id=pipeline.id,
                                 data={"name": "Demo", "probability": 40})
    names = lambda: list(Stage.objects.filter(pipeline=pipeline).order_by("position")  # noqa: E731
                         .values_list("name", flat=True))
    assert names() == ["New", "Qualified", "Proposal", "Negotiation", "Demo", "Won", "Lost"]
    services.stage_update(actor=owner, stage_id=demo.id, changes={"position": 2,
                                                                  "name": "Tasting"})
    assert names() == ["New", "Tasting", "Qualified", "Proposal", "Negotiation", "Won", "Lost"]
    services.stage_delete(actor=owner, stage_id=demo.id)
    assert names() == ["New", "Qualified", "Proposal", "Negotiation", "Won", "Lost"]
    assert list(Stage.objects.filter(pipeline=pipeline).order_by("position")
                .values_list("position", flat=True)) == [1, 2, 3, 4, 5, 6]


def test_deleting_a_stage_that_holds_deals_is_422_and_deletes_nothing(owner, sales_a,
                                                                      pipeline):
    deal = deal_for(sales_a, pipeline)
    with pytest.raises(ValidationFailed) as failure:
        services.stage_delete(actor=owner, stage_id=deal.stage_id)
    assert failure.value.errors["stage"] == ["New holds 1 deal; move them first"]
    with pytest.raises(ValidationFailed) as failure:
        services.pipeline_delete(actor=owner, pipeline_id=pipeline.id)
    assert "pipeline" in failure.value.errors
    assert Stage.objects.filter(id=deal.stage_id).exists()


def test_only_the_owner_role_changes_pipelines(sales_a, manager_a, pipeline):
    for user in (sales_a, manager_a):
        with pytest.raises(PermissionDenied):
            services.pipeline_create(actor=user, data={"name": "Mine"})
        with pytest.raises(PermissionDenied):
            services.stage_create(actor=user, pipeline_id=pipeline.id,
                                  data={"name": "X", "probability": 5})


def test_a_move_records_history_and_time_in_stage_and_its_event(sales_a, pipeline):
    deal = deal_for(sales_a, pipeline)
    stages = stages_of(pipeline)
    Deal.objects.filter(id=deal.id).update(
        stage_entered_at=deal.stage_entered_at - __import__("datetime").timedelta(days=3))
    moved = services.deal_move(actor=sales_a, deal_id=deal.id, stage_id=stages["Proposal"].id,
                               version=deal.version)
    assert (moved.stage_id, moved.version, moved.closed_at) == (stages["Proposal"].id, 2, None)
    change = StageChange.objects.get(deal=deal)
    assert (change.from_stage_id, change.to_stage_id) == (stages["New"].id,
                                                          stages["Proposal"].id)
    assert 3 * 86400 <= change.seconds_in_stage < 3 * 86400 + 60
    event = Event.objects.get(kind="deal.moved", entity_id=deal.id)
    assert (event.before["stage"], event.after["stage"], event.after["days_in_stage"]) == (
        "New", "Proposal", 3.0)
    history = selectors.deal_stage_history(deal=moved)
    assert [(v.stage, v.current) for v in history] == [("New", False), ("Proposal", True)]
    assert history[0].duration == "3 d 0 h"


def test_a_stale_move_is_409_and_changes_nothing(sales_a, pipeline):
    deal = deal_for(sales_a, pipeline)
    stages = stages_of(pipeline)
    services.deal_move(actor=sales_a, deal_id=deal.id, stage_id=stages["Qualified"].id,
                       version=1)
    with pytest.raises(VersionConflict) as clash:
        services.deal_move(actor=sales_a, deal_id=deal.id, stage_id=stages["Proposal"].id,
                           version=1)
    assert clash.value.current["stage"] == "Qualified" and clash.value.current_version == 2
    deal.refresh_from_db()
    assert (deal.stage_id, deal.version) == (stages["Qualified"].id, 2)
    assert StageChange.objects.filter(deal=deal).count() == 1
    assert Event.objects.filter(kind="deal.moved", entity_id=deal.id).count() == 1


def test_won_lost_and_reopened(sales_a, pipeline):
    deal = deal_for(sales_a, pipeline)
    stages = stages_of(pipeline)
    with pytest.raises(ValidationFailed) as failure:
        services.deal_move(actor=sales_a, deal_id=deal.id, stage_id=stages["Lost"].id,
                           version=1)
    assert list(failure.value.errors) == ["lost_reason"]
    deal.refresh_from_db()
    assert deal.version == 1 and deal.stage_id == stages["New"].id
    lost = services.deal_move(actor=sales_a, deal_id=deal.id, stage_id=stages["Lost"].id,
                              version=1, lost_reason="went with the supermarket")
    assert lost.closed_at is not None and lost.lost_reason == "went with the supermarket"
    assert Event.objects.get(kind="deal.lost").after["lost_reason"] == "went with the supermarket"
    reopened = services.deal_move(actor=sales_a, deal_id=deal.id,
                                  stage_id=stages["Negotiation"].id, version=2)
    assert reopened.closed_at is None and reopened.lost_reason == ""
    won = services.deal_move(actor=sales_a, deal_id=deal.id, stage_id=stages["Won"].id,
                             version=3)
    assert won.closed_at is not None and Event.objects.filter(kind="deal.won").count() == 1
    assert [v.stage for v in selectors.deal_stage_history(deal=won)] == [
        "New", "Lost", "Negotiation", "Won"]


def test_a_move_to_another_pipelines_stage_is_422(owner, sales_a, pipeline):
    other = services.pipeline_create(actor=owner, data={"name": "Events"})
    deal = deal_for(sales_a, pipeline)
    with pytest.raises(ValidationFailed) as failure:
        services.deal_move(actor=sales_a, deal_id=deal.id,
                           stage_id=stages_of(other)["Won"].id, version=1)
    assert "stage_id" in failure.value.errors


def test_lines_from_the_catalogue_make_the_amount(sales_a, pipeline):
    rye = Product.objects.create(name="Rye loaf", sku="RYE-800", price=Decimal("4.50"))
    buns = Product.objects.create(name="Cardamom bun", sku="BUN-1", price=Decimal("2.25"))
    deal = deal_for(sales_a, pipeline, lines=[
        {"product_id": rye.id, "quantity": "100"},
        {"product_id": buns.id, "quantity": "40", "unit_price": "2.00"},
        {"description": "Delivery", "unit_price": "15"}])
    assert deal.amount == Decimal("545.00")
    assert [(line.description, line.unit_price) for line in deal.lines.order_by("position")] == [
        ("Rye loaf", Decimal("4.50")), ("Cardamom bun", Decimal("2.00")),
        ("Delivery", Decimal("15.00"))]
    with pytest.raises(ValidationFailed) as failure:
        services.deal_update(actor=sales_a, deal_id=deal.id, version=1,
                             changes={"amount": "10"})
    assert "amount" in failure.value.errors
    with pytest.raises(ValidationFailed) as failure:
        services.deal_lines_set(actor=sales_a, deal_id=deal.id, data={
            "version": 1, "lines": [{"product_id": 999999, "quantity": "1"},
                                    {"quantity": "2"}]})
    assert set(failure.value.errors) == {"lines.0.product_id", "lines.1.description",
                                     "lines.1.unit_price"}
    assert deal.lines.count() == 3
    changed = services.deal_lines_set(actor=sales_a, deal_id=deal.id, data={
        "version": 1, "lines": [{"product_id": rye.id, "quantity": "10"}]})
    assert (changed.amount, changed.version, changed.lines.count()) == (Decimal("45.00"), 2, 1)
    cleared = services.deal_lines_set(actor=sales_a, deal_id=deal.id,
                                      data={"version": 2, "lines": []})
    assert cleared.amount == Decimal("45.00") and cleared.lines.count() == 0
    typed = services.deal_update(actor=sales_a, deal_id=deal.id, version=3,
                                 changes={"amount": "60"})
    assert typed.amount == Decimal("60.00")


def test_deal_update_checks_version_owner_and_fields(sales_a, sales_a2, sales_b, manager_a,
                                                      pipeline):
    deal = deal_for(sales_a, pipeline)
    territory = Territory.objects.create(name="Nordics", position=1)
    updated = services.deal_update(actor=sales_a, deal_id=deal.id, version=1, changes={
        "next_step": "Send samples Friday", "territory_id": territory.id,
        "expected_close": "2027-02-01"})
    assert (updated.next_step, updated.territory_id, updated.version) == (
        "Send samples Friday", territory.id, 2)
    with pytest.raises(VersionConflict):
        services.deal_update(actor=sales_a, deal_id=deal.id, version=1,
                             changes={"name": "Changed"})
    with pytest.raises(PermissionDenied):  # a rep may not hand their deal to a colleague
        services.deal_update(actor=sales_a, deal_id=deal.id, version=2,
                             changes={"owner_id": sales_a2.id})
    handed = services.deal_update(actor=manager_a, deal_id=deal.id, version=2,
                                  changes={"owner_id": sales_a2.id})
    assert handed.owner_id == sales_a2.id
    with pytest.raises(ValidationFailed) as failure:
        services.deal_update(actor=manager_a, deal_id=deal.id, version=3,
                             changes={"territory_id": 987654, "currency": "EURO"})
    assert set(failure.value.errors) == {"currency"}
    with pytest.raises(ValidationFailed) as failure:
        services.deal_update(actor=manager_a, deal_id=deal.id, version=3,
                             changes={"territory_id": 987654})
    assert set(failure.value.errors) == {"territory_id"}
    with pytest.raises(NotFound):  # another team's rep cannot even see it
        services.deal_update(actor=sales_b, deal_id=deal.id, version=3,
                             changes={"name": "Mine now"})


def test_a_rep_sees_the_teams_deals_and_moves_only_their_own(sales_a, sales_a2, sales_b,
                                                              manager_a, owner, pipeline):
    mine = deal_for(sales_a, pipeline, name="Sam's")
    theirs = deal_for(sales_a2, pipeline, name="Sara's")
    south = deal_for(sales_b, pipeline, name="Bob's")
    seen = lambda user: {d.name for d in selectors.deal_list(user=user).items}  # noqa: E731
    assert seen(sales_a) == seen(manager_a) == {"Sam's", "Sara's"}
    assert seen(sales_b) == {"Bob's"} and seen(owner) == {"Sam's", "Sara's", "Bob's"}
    stages = stages_of(pipeline)
    with pytest.raises(PermissionDenied):
        services.deal_move(actor=sales_a, deal_id=theirs.id, stage_id=stages["Won"].id,
                           version=1)
    with pytest.raises(NotFound):
        services.deal_move(actor=sales_a, deal_id=south.id, stage_id=stages["Won"].id,
                           version=1)
    services.deal_move(actor=manager_a, deal_id=theirs.id, stage_id=stages["Won"].id,
                       version=1)
    with pytest.raises(PermissionDenied):
        services.deal_delete(actor=sales_a, deal_id=mine.id)
    services.deal_delete(actor=manager_a, deal_id=mine.id)
    assert seen(sales_a) == {"Sara's"}


def test_the_board_counts_totals_and_pages_each_column(sales_a, sales_a2, sales_b, manager_a,
                                                       owner, pipeline):
    stages = stages_of(pipeline)
    for i in range(25):
        deal_for(sales_a, pipeline, name=f"A{i}", amount="100", currency="EUR")
    for i in range(3):
        deal_for(sales_a2, pipeline, name=f"B{i}", amount="10", currency="SEK",
                 stage_id=stages["Proposal"].id)
    deal_for(sales_b, pipeline, name="South", amount="7")
    board = selectors.deal_board(user=manager_a, params={"pipeline": pipeline.id})
    columns = {c.stage.name: c for c in board.columns}
    assert [c.stage.name for c in board.columns] == list(
        Stage.objects.filter(pipeline=pipeline).order_by("position").values_list("name",
                                                                                   flat=True))
    assert columns["New"].count == 25 and len(columns["New"].page.items) == 20
    assert [(t.currency, t.amount, t.weighted) for t in columns["New"].totals] == [
        ("EUR", Decimal("2500.00"), Decimal("250.00"))]
    assert [(t.currency, t.amount, t.weighted) for t in columns["Proposal"].totals] == [
        ("SEK", Decimal("30.00"), Decimal("15.00"))]
    rest = selectors.board_column(user=manager_a, stage=stages["New"],
                                  params={"cursor": columns["New"].page.next_cursor})
    first = {d.id for d in columns["New"].page.items}
    assert len(rest.items) == 5 and not first & {d.id for d in rest.items}
    assert rest.next_cursor is None
    everyone = selectors.deal_board(user=owner, params={"pipeline": pipeline.id})
    assert {c.stage.name: c.count for c in everyone.columns}["New"] == 26
    only_sara = selectors.deal_board(user=manager_a, params={"pipeline": pipeline.id,
                                                             "owner": sales_a2.id})
    assert {c.stage.name: c.count for c in only_sara.columns} == {
        "New": 0, "Qualified": 0, "Proposal": 3, "Negotiation": 0, "Won": 0, "Lost": 0}
    south = selectors.deal_board(user=sales_b, params={"pipeline": pipeline.id})
    assert [d.name for d in {c.stage.name: c for c in south.columns}["New"].page.items] == [
        "South"]
    with pytest.raises(ValidationFailed) as failure:
        selectors.deal_board(user=owner, params={"pipeline": 987654})
    assert "pipeline" in failure.value.errors


def test_the_board_filters_by_territory(sales_a, owner, pipeline):
    north = Territory.objects.create(name="North", position=1)
    deal_for(sales_a, pipeline, name="In", territory_id=north.id)
    deal_for(sales_a, pipeline, name="Out")
    board = selectors.deal_board(user=owner, params={"territory": north.id})
    new = board.columns[0]
    assert new.count == 1 and [d.name for d in new.page.items] == ["In"]


def test_a_stage_in_deals_history_cannot_be_deleted(owner, sales_a, pipeline):
    demo = services.stage_create(actor=owner, pipeline_id=pipeline.id,
                                 data={"name": "Demo", "probability": 40, "position": 2})
    deal = deal_for(sales_a, pipeline)
    services.deal_move(actor=sales_a, deal_id=deal.id, stage_id=demo.id, version=1)
    services.deal_move(actor=sales_a, deal_id=deal.id,
                       stage_id=stages_of(pipeline)["Proposal"].id, version=2)
    with pytest.raises(ValidationFailed) as failure:
        services.stage_delete(actor=owner, stage_id=demo.id)
    assert failure.value.errors["stage"] == ["deals' history passes through Demo"]
    assert Stage.objects.filter(id=demo.id, position=2).exists()


def test_a_deal_for_a_lead_that_does_not_exist_or_is_not_yours_is_422(owner, sales_a, sales_b):
    """Found by the API fuzzer: an unknown lead_id used to reach the database's foreign key."""
    lead = services.lead_capture(actor=owner, data={"email": "kim@bakery.example",
                                                    "name": "Kim"}).lead
    services.lead_update(actor=owner, lead_id=lead.id, version=lead.version,
                         changes={"owner_id": sales_b.id})
    for lead_id in (10**12, lead.id):  # nobody's; another rep's
        with pytest.raises(ValidationFailed) as failure:
            services.deal_create(actor=sales_a, data={"name": "Bread", "lead_id": lead_id})
        assert failure.value.errors == {"lead_id": [f"no lead with id {lead_id}"]}
    assert not Deal.objects.exists()
    deal = services.deal_create(actor=owner, data={"name": "Bread", "lead_id": lead.id})
    assert deal.lead_id == lead.id
