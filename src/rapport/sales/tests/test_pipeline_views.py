"""The board, moves without JavaScript, the JSON answer the board's script gets, and the deal
page's forms."""

import json

import pytest

from rapport.core.models import Event
from rapport.orders.models import Product
from rapport.sales import services
from rapport.sales.models import Deal, Stage, Territory

pytestmark = pytest.mark.django_db


@pytest.fixture
def pipeline(owner):
    return services.pipeline_create(actor=owner, data={"name": "Wholesale"})


def stage(pipeline, name):
    return Stage.objects.get(pipeline=pipeline, name=name)


def deal_for(user, **data):
    return services.deal_create(actor=user, data={"name": "Café Lind", "amount": "1200",
                                                  **data})


def test_the_board_shows_columns_counts_totals_and_only_visible_cards(
        pipeline, sales_a, sales_a2, sales_b, web_as):
    deal_for(sales_a, name="Sam's bread", currency="EUR", expected_close="2027-01-15")
    deal_for(sales_a2, name="Sara's buns", amount="300", currency="EUR")
    deal_for(sales_b, name="Bob's cakes")
    page = web_as(sales_a).get("/deals/board/")
    html = page.content.decode()
    assert page.status_code == 200
    for name in ("New", "Qualified", "Proposal", "Negotiation", "Won", "Lost"):
        assert f">{name} <small>" in html
    assert "Sam&#x27;s bread" in html and "Sara&#x27;s buns" in html
    assert "Bob" not in html
    assert "2 deals" in html and "1,500.00 EUR" in html and "weighted 150.00" in html
    assert "closes 15 Jan 2027" in html
    # Sam may move his own card, not Sara's: only his has the Move box.
    assert html.count('class="move-form"') == 1
    assert 'src="/static/sales/vendor/sortablejs/Sortable.min.js"' in html


def test_the_board_filters_and_a_bad_filter_is_named(pipeline, owner, sales_a, sales_b,
                                                     web_as):
    north = Territory.objects.create(name="North", position=1)
    deal_for(sales_a, name="In the north", territory_id=north.id)
    deal_for(sales_b, name="Elsewhere")
    client = web_as(owner)
    html = client.get("/deals/board/", {"territory": north.id}).content.decode()
    assert "In the north" in html and "Elsewhere" not in html
    html = client.get("/deals/board/", {"owner": sales_b.id}).content.decode()
    assert "Elsewhere" in html and "In the north" not in html
    bad = client.get("/deals/board/", {"pipeline": "99999"})
    assert bad.status_code == 422 and "no pipeline with id 99999" in bad.content.decode()


def test_more_loads_the_next_cards_of_a_column(pipeline, sales_a, web_as):
    for i in range(23):
        deal_for(sales_a, name=f"Deal {i:02}")
    client = web_as(sales_a)
    html = client.get("/deals/board/").content.decode()
    assert html.count('class="deal-card"') == 20 and "More New deals" in html
    start = html.index('hx-get="/deals/board/column/')
    url = html[start + 8:html.index('"', start + 8)].replace("&amp;", "&")
    more = client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert more.count('class="deal-card"') == 3
    assert "Deal 00" in more and 'hx-swap-oob="true"' in more and "More New" not in more
    assert client.get(f"/deals/board/column/{stage(pipeline, 'New').id}/",
                      {"cursor": "forged"}).status_code == 422


def test_a_move_without_javascript_is_a_form_post_back_to_the_board(pipeline, sales_a,
                                                                    web_as):
    deal = deal_for(sales_a)
    client = web_as(sales_a)
    answer = client.post(f"/deals/{deal.id}/move/", {
        "stage_id": stage(pipeline, "Proposal").id, "version": 1, "owner": "me"})
    assert answer.status_code == 302
    assert answer["Location"] == f"/deals/board/?owner=me#deal-{deal.id}"
    deal.refresh_from_db()
    assert deal.stage.name == "Proposal" and deal.version == 2
    stale = client.post(f"/deals/{deal.id}/move/", {
        "stage_id": stage(pipeline, "Won").id, "version": 1}, follow=True)
    assert "someone else changed this deal first" in stale.content.decode()
    deal.refresh_from_db()
    assert deal.stage.name == "Proposal"
    lost = client.post(f"/deals/{deal.id}/move/", {"stage_id": stage(pipeline, "Lost").id,
                                                   "version": 2})
    assert lost["Location"] == f"/deals/{deal.id}/#close"


def test_the_boards_script_gets_the_card_and_headers_or_the_409_state(pipeline, sales_a,
                                                                      web_as):
    deal = deal_for(sales_a)
    client = web_as(sales_a)
    json_post = lambda body: client.post(  # noqa: E731
        f"/deals/{deal.id}/move/", body, headers={"Accept": "application/json"})
    moved = json_post({"stage_id": stage(pipeline, "Qualified").id, "version": 1,
                       "from_stage": stage(pipeline, "New").id})
    body = json.loads(moved.content)
    assert moved.status_code == 200 and body["stage_id"] == stage(pipeline, "Qualified").id
    assert 'data-version="2"' in body["card"]
    assert f'href="/deals/{deal.id}/"' in body["card"]
    # The two columns the card left and entered, with their new counts.
    assert set(body["headers"]) == {str(stage(pipeline, "New").id),
                                    str(stage(pipeline, "Qualified").id)}
    assert "1 deal" in body["headers"][str(stage(pipeline, "Qualified").id)]
    assert "0 deals" in body["headers"][str(stage(pipeline, "New").id)]
    stale = json_post({"stage_id": stage(pipeline, "Won").id, "version": 1})
    body = json.loads(stale.content)
    assert stale.status_code == 409 and body["stage_id"] == stage(pipeline, "Qualified").id
    assert "it is now in Qualified" in body["message"] and 'data-version="2"' in body["card"]
    no_reason = json_post({"stage_id": stage(pipeline, "Lost").id, "version": 2})
    assert no_reason.status_code == 422 and "lost_reason" in json.loads(no_reason.content)[
        "errors"]
    assert Deal.objects.get(id=deal.id).version == 2


def test_the_deal_page_edits_lines_history_and_closes(pipeline, sales_a, web_as):
    rye = Product.objects.create(name="Rye loaf", sku="RYE-800", price="4.50")
    deal = deal_for(sales_a)
    client = web_as(sales_a)
    page = client.get(f"/deals/{deal.id}/").content.decode()
    assert "Stage history" in page and "Mark won" in page and "Rye loaf (RYE-800)" in page
    saved = client.post(f"/deals/{deal.id}/lines/", {
        "version": 1, "rows": 3, "lines-0-product_id": rye.id, "lines-0-quantity": "10",
        "lines-1-description": "Delivery", "lines-1-unit_price": "15"}, follow=True)
    assert "the deal is worth 60.00 USD" in saved.content.decode()
    bad = client.post(f"/deals/{deal.id}/lines/", {
        "version": 2, "rows": 3, "lines-2-description": "Mystery"})
    assert bad.status_code == 422 and "Line 3, unit price" in bad.content.decode()
    edited = client.post(f"/deals/{deal.id}/edit/", {
        "version": 2, "name": "Café Lind", "next_step": "Tasting Tuesday", "currency": "USD",
        "amount": "60.00", "expected_close": "", "owner_id": sales_a.id, "territory_id": ""})
    assert edited.status_code == 302
    stale = client.post(f"/deals/{deal.id}/edit/", {"version": 2, "name": "Other"})
    assert stale.status_code == 409 and "someone else changed this deal" in \
        stale.content.decode()
    no_reason = client.post(f"/deals/{deal.id}/close/", {"version": 3, "outcome": "lost"},
                            follow=True)
    assert "say why the deal was lost" in no_reason.content.decode()
    client.post(f"/deals/{deal.id}/close/", {"version": 3, "outcome": "lost",
                                             "lost_reason": "Too far to deliver"})
    client.post(f"/deals/{deal.id}/close/", {"version": 4, "outcome": "reopen"})
    won = client.post(f"/deals/{deal.id}/close/", {"version": 5, "outcome": "won"},
                      follow=True)
    html = won.content.decode()
    assert "Marked won" in html and "deal-won" in html
    moves = Event.objects.filter(entity_type="deal", entity_id=deal.id, kind__in=(
        "deal.moved", "deal.won", "deal.lost")).order_by("id")
    assert [(e.kind, e.after["stage"]) for e in moves] == [
        ("deal.lost", "Lost"), ("deal.moved", "New"), ("deal.won", "Won")]
    deal.refresh_from_db()
    assert deal.stage.is_won and deal.next_step == "Tasting Tuesday" and deal.closed_at
    history = html[html.index("Stage history"):html.index("</table>", html.index(
        "Stage history"))]
    assert history.count("<tr") == 5  # header + New, Lost, New, Won


def test_pipeline_settings_add_rename_reorder_and_refuse(pipeline, owner, sales_a, web_as):
    client = web_as(owner)
    page = client.get("/settings/pipelines/")
    assert page.status_code == 200 and "Wholesale" in page.content.decode()
    client.post(f"/settings/pipelines/{pipeline.id}/", {"action": "add_stage",
                                                         "name": "Tasting",
                                                         "probability": "40"})
    tasting = stage(pipeline, "Tasting")
    assert tasting.position == 5  # after the last open stage, before won and lost
    client.post(f"/settings/pipelines/stages/{tasting.id}/", {"action": "up"})
    client.post(f"/settings/pipelines/stages/{tasting.id}/", {
        "action": "save", "name": "Tasting day", "probability": "45"})
    tasting.refresh_from_db()
    assert (tasting.name, tasting.probability, tasting.position) == ("Tasting day", 45, 4)
    deal_for(sales_a)
    refused = client.post(f"/settings/pipelines/stages/{stage(pipeline, 'New').id}/",
                          {"action": "delete"}, follow=True)
    assert "New holds 1 deal; move them first" in refused.content.decode()
    assert Stage.objects.filter(pipeline=pipeline).count() == 7
    bad = client.post(f"/settings/pipelines/{pipeline.id}/", {"action": "add_stage",
                                                               "name": "No odds"}, follow=True)
    assert "is required for an open stage" in bad.content.decode()
    made = client.post("/settings/pipelines/", {"name": "Events"}, follow=True)
    assert "Pipeline Events made" in made.content.decode()
    twice = client.post("/settings/pipelines/", {"name": "events"})
    assert twice.status_code == 422 and "already a pipeline called" in twice.content.decode()
    assert web_as(sales_a).get("/settings/pipelines/").status_code == 403


def test_the_boards_queries_do_not_grow_with_its_cards(pipeline, sales_a, sales_a2, web_as):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = web_as(sales_a)

    def count() -> int:
        client.get("/deals/board/")
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/deals/board/").status_code == 200
        return len(captured.captured_queries)

    deal_for(sales_a)
    few = count()
    stages = list(Stage.objects.filter(pipeline=pipeline).order_by("position"))
    for i in range(60):
        deal_for(sales_a if i % 2 else sales_a2, name=f"D{i}",
                 stage_id=stages[i % 4].id)
    assert count() == few


def test_the_list_view_filters_by_status(pipeline, sales_a, web_as):
    won = deal_for(sales_a, name="Won one")
    services.deal_move(actor=sales_a, deal_id=won.id, stage_id=stage(pipeline, "Won").id,
                       version=1)
    deal_for(sales_a, name="Still open")
    client = web_as(sales_a)
    html = client.get("/deals/", {"status": "won"}).content.decode()
    assert "Won one" in html and "Still open" not in html
    html = client.get("/deals/", {"status": "open"}).content.decode()
    assert "Still open" in html and "Won one" not in html
    bad = client.get("/deals/", {"status": "maybe"}).content.decode()
    assert "must be one of open, won, lost" in bad
