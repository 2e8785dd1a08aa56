from decimal import Decimal

import pytest
from django.test import Client

from rapport.orders.models import Order, Product
from rapport.orders.tests.factories import ProductFactory, make_contact, make_order

pytestmark = pytest.mark.django_db



def test_product_crud(api_as, owner):
    api = api_as(owner)
    created = api.post("/products", {"name": "Rye sourdough", "sku": "RYE-800",
                                     "category": "bread", "price": "4.5"})
    assert created.status_code == 201
    body = created.json()
    assert {k: body[k] for k in ("name", "sku", "category", "price", "version")} == {
        "name": "Rye sourdough", "sku": "RYE-800", "category": "bread", "price": "4.50",
        "version": 1}
    product_id = body["id"]
    assert api.get(f"/products/{product_id}").json()["sku"] == "RYE-800"
    assert [p["id"] for p in api.get("/products", q="rye").json()["items"]] == [product_id]

    patched = api.patch(f"/products/{product_id}", {"version": 1, "price": 4.75})
    assert patched.status_code == 200
    assert (patched.json()["price"], patched.json()["version"]) == ("4.75", 2)
    stale = api.patch(f"/products/{product_id}", {"version": 1, "price": "9.99"})
    assert stale.status_code == 409
    assert stale.json()["current_version"] == 2
    assert stale.json()["current"]["price"] == "4.75"

    assert api.delete(f"/products/{product_id}").status_code == 204
    assert api.get(f"/products/{product_id}").status_code == 404
    assert api.get("/products").json() == {"items": [], "next_cursor": None}


def test_product_bad_input_names_the_fields(api_as, owner):
    api = api_as(owner)
    ProductFactory(sku="RYE", name="Rye")
    response = api.post("/products", {"name": "Bun", "sku": "BUN", "price": "1.005",
                                      "colour": "brown"})
    assert response.status_code == 422
    assert set(response.json()["errors"]) == {"price", "colour"}
    response = api.post("/products", {"name": "Rye 2", "sku": "rye", "price": "1"})
    assert response.status_code == 422
    assert response.json()["errors"] == {"sku": ["Rye already has SKU RYE"]}


def test_sales_reads_but_cannot_write_products(api_as, sales_a):
    product = ProductFactory()
    api = api_as(sales_a)
    assert api.get(f"/products/{product.id}").status_code == 200
    response = api.post("/products", {"name": "Bun", "sku": "BUN", "price": "1"})
    assert response.status_code == 403
    assert response.json() == {"detail": "only owner and manager roles may change the product "
                                         "catalogue"}
    assert api.delete(f"/products/{product.id}").status_code == 403
    assert Product.objects.count() == 1


def test_create_and_read_orders(api_as, owner):
    api = api_as(owner)
    anna = make_contact(owner, email="anna@example.com")
    rye = ProductFactory(name="Rye sourdough", sku="RYE", price=Decimal("4.50"))
    roll = ProductFactory(name="Roll", sku="ROLL", price=Decimal("0.10"))
    response = api.post("/orders", {
        "contact_id": anna.id, "ordered_at": "2026-03-01T09:30:00Z", "channel": "online",
        "external_ref": "WEB-1",
        "lines": [{"product_id": rye.id, "quantity": 2}, {"sku": "roll", "quantity": 3},
                  {"sku": "RYE", "quantity": -1, "unit_price": "4.00"}],
    })
    assert response.status_code == 201
    body = response.json()
    assert (body["contact_id"], body["ordered_at"], body["channel"], body["external_ref"],
            body["total"]) == (anna.id, "2026-03-01T09:30:00Z", "online", "WEB-1", "5.30")
    assert [(line["sku"], line["product_name"], line["quantity"], line["unit_price"],
             line["line_total"]) for line in body["lines"]] == [
        ("RYE", "Rye sourdough", 2, "4.50", "9.00"), ("ROLL", "Roll", 3, "0.10", "0.30"),
        ("RYE", "Rye sourdough", -1, "4.00", "-4.00")]
    assert api.get(f"/orders/{body['id']}").json() == body
    listed = api.get("/orders", contact_id=anna.id).json()
    assert [o["id"] for o in listed["items"]] == [body["id"]]
    assert listed["next_cursor"] is None
    assert roll.id == body["lines"][1]["product_id"]


def test_order_list_cursor_walks_every_order(api_as, owner):
    api = api_as(owner)
    anna = make_contact(owner)
    rye = ProductFactory()
    ids = [make_order(owner, anna, (rye, 1), days_ago=d).id for d in (3, 1, 2)]
    seen, cursor = [], None
    while True:
        page = api.get("/orders", limit=2, **({"cursor": cursor} if cursor else {})).json()
        seen.extend(o["id"] for o in page["items"])
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == [ids[1], ids[2], ids[0]]
    bad = api.get("/orders", cursor="garbage!!")
    assert bad.status_code == 422
    assert list(bad.json()["errors"]) == ["cursor"]


def test_bad_order_is_422_naming_each_field_and_saves_nothing(api_as, owner):
    api = api_as(owner)
    anna = make_contact(owner)
    rye = ProductFactory()
    schema_errors = api.post("/orders", {
        "contact_id": anna.id, "ordered_at": "yesterday", "channel": "fax", "shipping": 1,
        "lines": [{"product_id": rye.id, "quantity": 1},
                  {"product_id": rye.id, "quantity": 1.5},
                  {"product_id": rye.id, "quantity": 1, "unit_price": "1.234"}],
    })
    assert schema_errors.status_code == 422
    assert set(schema_errors.json()["errors"]) == {
        "ordered_at", "channel", "shipping", "lines.1.quantity", "lines.2.unit_price"}
    service_errors = api.post("/orders", {
        "contact_id": anna.id, "ordered_at": "2026-01-01T10:00:00Z",
        "lines": [{"product_id": rye.id, "quantity": 1}, {"sku": "NOPE", "quantity": 1},
                  {"product_id": rye.id, "quantity": 0}],
    })
    assert service_errors.status_code == 422
    assert service_errors.json()["errors"] == {
        "lines.1.sku": ["no product with SKU 'NOPE'"],
        "lines.2.quantity": ["must not be 0 (use a negative number for a return)"],
    }
    assert api.post("/orders", {"contact_id": anna.id, "ordered_at": "2026-01-01T10:00:00Z",
                                "lines": []}).status_code == 422
    assert Order.objects.count() == 0


def test_other_teams_orders_are_404(api_as, sales_a, sales_b):
    theirs = make_contact(sales_a, first_name="Private")
    rye = ProductFactory()
    order = make_order(sales_a, theirs, (rye, 1))
    api = api_as(sales_b)
    assert api.get("/orders", contact_id=theirs.id).status_code == 404
    assert api.get(f"/orders/{order.id}").status_code == 404
    assert api.get("/orders").json() == {"items": [], "next_cursor": None}
    response = api.post("/orders", {"contact_id": theirs.id,
                                    "ordered_at": "2026-01-01T10:00:00Z",
                                    "lines": [{"product_id": rye.id, "quantity": 1}]})
    assert response.status_code == 404
    assert Order.objects.count() == 1


def test_requests_without_a_token_are_401():
    client = Client()
    assert client.get("/api/v1/products").status_code == 401
    assert client.get("/api/v1/orders").status_code == 401


def test_an_order_line_naming_an_id_no_database_can_hold_is_a_422(api_as, owner):
    from rapport.orders.tests.factories import make_contact

    anna = make_contact(owner)
    response = api_as(owner).post("/orders", {
        "contact_id": anna.id, "ordered_at": "2026-01-05",
        "lines": [{"product_id": 577901811112006134106423296, "quantity": 1}]})
    assert response.status_code == 422
    assert list(response.json()["errors"]) == ["lines.0.product_id"]


def test_an_order_line_naming_a_sku_no_database_can_hold_is_a_422(api_as, owner):
    """A NUL in a SKU was looked up before it was checked: a 500 on PostgreSQL."""
    anna = make_contact(owner)
    for sku in ("RYE\x00800", "RYE\ud800"):
        response = api_as(owner).post("/orders", {
            "contact_id": anna.id, "ordered_at": "2026-01-05",
            "lines": [{"sku": sku, "quantity": 1}]})
        assert response.status_code == 422
        assert list(response.json()["errors"]) == ["lines.0.sku"]
