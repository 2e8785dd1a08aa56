"""The pipeline API: pipelines, stages, deals with filters and cursors, and moves (409 when
stale)."""

import pytest

from rapport.orders.models import Product
from rapport.sales.models import Deal, Stage, StageChange, Territory

pytestmark = pytest.mark.django_db


@pytest.fixture
def pipeline(owner, api_as):
    answer = api_as(owner).post("/pipelines", {"name": "Wholesale"})
    assert answer.status_code == 201, answer.json()
    return answer.json()


def stage_ids(pipeline):
    return {s["name"]: s["id"] for s in pipeline["stages"]}


def test_pipelines_and_stages_crud(owner, sales_a, api_as, pipeline):
    api = api_as(owner)
    assert [s["kind"] for s in pipeline["stages"]] == ["open"] * 4 + ["won", "lost"]
    assert pipeline["is_default"] is True
    demo = api.post(f"/pipelines/{pipeline['id']}/stages",
                    {"name": "Tasting", "probability": 40, "position": 2})
    assert demo.status_code == 201 and demo.json()["position"] == 2
    moved = api.patch(f"/stages/{demo.json()['id']}", {"probability": 45})
    assert moved.status_code == 200 and moved.json()["probability"] == 45
    assert [s["name"] for s in api.get(f"/pipelines/{pipeline['id']}").json()["stages"]] == [
        "New", "Tasting", "Qualified", "Proposal", "Negotiation", "Won", "Lost"]
    assert api.delete(f"/stages/{demo.json()['id']}").status_code == 204
    renamed = api.patch(f"/pipelines/{pipeline['id']}", {"name": "Cafés"})
    assert renamed.status_code == 200 and renamed.json()["name"] == "Cafés"
    assert [p["name"] for p in api_as(sales_a).get("/pipelines").json()] == ["Cafés"]
    assert api_as(sales_a).post("/pipelines", {"name": "Mine"}).status_code == 403
    bad = api.post("/pipelines", {"name": "Bad", "stages": [{"name": "Only", "probability": 5}]})
    assert bad.status_code == 422 and "stages" in bad.json()["errors"]
    other = api.post("/pipelines", {"name": "Events"}).json()
    assert api.delete(f"/pipelines/{other['id']}").status_code == 204


def test_deleting_a_stage_with_deals_is_422(owner, sales_a, api_as, pipeline):
    deal = api_as(sales_a).post("/deals", {"name": "Bread", "pipeline_id": pipeline["id"]})
    assert deal.status_code == 201
    answer = api_as(owner).delete(f"/stages/{deal.json()['stage_id']}")
    assert answer.status_code == 422 and "stage" in answer.json()["errors"]
    assert Stage.objects.filter(id=deal.json()["stage_id"]).exists()


def test_create_update_and_lines(sales_a, api_as, pipeline):
    api = api_as(sales_a)
    rye = Product.objects.create(name="Rye loaf", sku="RYE-800", price="4.50")
    created = api.post("/deals", {"name": "Café Lind", "currency": "sek",
                                  "expected_close": "2027-03-01", "next_step": "Call Anna",
                                  "lines": [{"product_id": rye.id, "quantity": "10"}]})
    assert created.status_code == 201, created.json()
    body = created.json()
    assert (body["amount"], body["currency"], body["status"], body["owner_id"]) == (
        "45.00", "SEK", "open", sales_a.id)
    assert body["lines"][0]["sku"] == "RYE-800" and body["lines"][0]["line_total"] == "45.00"
    lines = api.client.put(f"/api/v1/deals/{body['id']}/lines",
                           {"version": 1, "lines": [{"product_id": rye.id, "quantity": "2"},
                                                    {"description": "Delivery",
                                                     "unit_price": "9.99"}]},
                           content_type="application/json", headers=api.headers)
    assert lines.status_code == 200 and lines.json()["amount"] == "18.99"
    changed = api.patch(f"/deals/{body['id']}", {"version": 2, "next_step": "Samples"})
    assert changed.status_code == 200 and changed.json()["next_step"] == "Samples"
    stale = api.patch(f"/deals/{body['id']}", {"version": 2, "next_step": "Lost update"})
    assert stale.status_code == 409 and stale.json()["current"]["next_step"] == "Samples"
    bad = api.post("/deals", {"name": "", "amount": "-1", "lines": [{"quantity": "0"}]})
    assert bad.status_code == 422
    assert {"name", "amount", "lines.0.quantity"} <= set(bad.json()["errors"])
    assert Deal.objects.count() == 1


def test_move_answers_the_deal_and_a_stale_version_is_409_with_nothing_lost(
        sales_a, api_as, pipeline):
    api = api_as(sales_a)
    stages = stage_ids(pipeline)
    deal = api.post("/deals", {"name": "Bread", "amount": "300"}).json()
    moved = api.post(f"/deals/{deal['id']}/move", {"stage_id": stages["Proposal"],
                                                   "version": 1})
    assert moved.status_code == 200
    assert (moved.json()["stage"], moved.json()["version"], moved.json()["probability"]) == (
        "Proposal", 2, 50)
    stale = api.post(f"/deals/{deal['id']}/move", {"stage_id": stages["Won"], "version": 1})
    assert stale.status_code == 409
    assert stale.json()["current"]["stage"] == "Proposal"
    assert stale.json()["current_version"] == 2
    assert Deal.objects.get(id=deal["id"]).stage.name == "Proposal"
    assert StageChange.objects.count() == 1
    no_reason = api.post(f"/deals/{deal['id']}/move", {"stage_id": stages["Lost"],
                                                       "version": 2})
    assert no_reason.status_code == 422 and list(no_reason.json()["errors"]) == ["lost_reason"]
    lost = api.post(f"/deals/{deal['id']}/move", {"stage_id": stages["Lost"], "version": 2,
                                                  "lost_reason": "price"})
    assert lost.json()["status"] == "lost" and lost.json()["closed_at"] is not None
    reopened = api.post(f"/deals/{deal['id']}/move", {"stage_id": stages["New"], "version": 3})
    assert reopened.json()["status"] == "open" and reopened.json()["closed_at"] is None
    assert reopened.json()["lost_reason"] == ""
    won = api.post(f"/deals/{deal['id']}/move", {"stage_id": stages["Won"], "version": 4})
    assert won.json()["status"] == "won"
    missing = api.post(f"/deals/{deal['id']}/move", {"stage_id": stages["New"]})
    assert missing.status_code == 422 and "version" in missing.json()["errors"]
    assert api.post("/deals/999999/move", {"stage_id": stages["New"],
                                           "version": 1}).status_code == 404


def test_filters_and_cursor_pages(owner, sales_a, sales_a2, sales_b, manager_a, api_as,
                                  pipeline):
    stages = stage_ids(pipeline)
    north = Territory.objects.create(name="North", position=1)
    ids = [api_as(sales_a).post("/deals", {"name": f"A{i}", "territory_id": north.id}).json()["id"]
           for i in range(5)]
    b = api_as(sales_a2).post("/deals", {"name": "B"}).json()
    api_as(sales_a2).post(f"/deals/{b['id']}/move", {"stage_id": stages["Won"], "version": 1})
    api_as(sales_b).post("/deals", {"name": "South"})
    api = api_as(manager_a)
    first = api.get("/deals", limit=3).json()
    second = api.get("/deals", limit=3, cursor=first["next_cursor"]).json()
    assert [d["name"] for d in first["items"] + second["items"]] == [
        "B", "A4", "A3", "A2", "A1", "A0"]
    assert second["next_cursor"] is None
    names = lambda **f: [d["name"] for d in api.get("/deals", **f).json()["items"]]  # noqa: E731
    assert names(status="won") == ["B"] and names(status="lost") == []
    assert len(names(status="open")) == 5
    assert names(owner=sales_a2.id) == ["B"]
    assert names(territory=north.id) == [f"A{i}" for i in (4, 3, 2, 1, 0)]
    assert names(stage=stages["Won"], pipeline=pipeline["id"]) == ["B"]
    assert [d["name"] for d in api_as(sales_b).get("/deals").json()["items"]] == ["South"]
    assert len(api_as(owner).get("/deals").json()["items"]) == 7
    assert api.get("/deals", status="maybe").status_code == 422
    assert api.get("/deals", cursor="forged").status_code == 422
    assert api_as(sales_b).get(f"/deals/{ids[0]}").status_code == 404


def test_only_managers_and_the_owner_delete(sales_a, manager_a, api_as, pipeline):
    deal = api_as(sales_a).post("/deals", {"name": "Bread"}).json()
    assert api_as(sales_a).delete(f"/deals/{deal['id']}").status_code == 403
    assert api_as(manager_a).delete(f"/deals/{deal['id']}").status_code == 204
    assert api_as(sales_a).get(f"/deals/{deal['id']}").status_code == 404
