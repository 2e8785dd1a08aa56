import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from rapport.contacts import selectors as contact_selectors
from rapport.core.errors import NotFound, PermissionDenied, ValidationFailed, VersionConflict
from rapport.core.events import verify_chain
from rapport.core.models import Event
from rapport.orders import selectors, services
from rapport.orders.models import Order, OrderLine, Product
from rapport.orders.tests.factories import ProductFactory, make_contact, make_order

pytestmark = pytest.mark.django_db


# --- products ----------------------------------------------------------------------------------

def test_product_create_records_event(owner):
    product = services.product_create(actor=owner, data={
        "name": " Rye sourdough ", "sku": "RYE-800", "category": "bread", "price": "4.50"})
    assert (product.name, product.sku, product.price) == ("Rye sourdough", "RYE-800",
                                                          Decimal("4.50"))
    event = Event.objects.get(entity_type="product", entity_id=product.id)
    assert event.kind == "product.created"
    assert event.actor_id == owner.id
    assert event.contact_id is None
    assert event.after == {"name": "Rye sourdough", "sku": "RYE-800", "category": "bread",
                           "price": "4.50", "version": 1}


def test_product_bad_fields_are_all_named_and_nothing_is_saved(owner):
    ProductFactory(sku="RYE-800", name="Rye")
    with pytest.raises(ValidationFailed) as failure:
        services.product_create(actor=owner, data={"name": "", "sku": "rye-800",
                                                   "price": "-1", "colour": "brown"})
    assert failure.value.errors == {
        "colour": ["unknown field"],
        "price": ["must not be negative"],
        "name": ["is required"],
        "sku": ["Rye already has SKU RYE-800"],
    }
    with pytest.raises(ValidationFailed) as failure:
        services.product_create(actor=owner, data={"name": "Bun", "sku": "BUN 1",
                                                   "price": "1.005"})
    assert failure.value.errors == {"price": ["at most two decimal places"],
                                    "sku": ["must not contain spaces"]}
    with pytest.raises(ValidationFailed) as failure:
        services.product_create(actor=owner, data={"name": "Bun", "sku": "BUN"})
    assert failure.value.errors == {"price": ["is required"]}
    assert Product.objects.count() == 1
    assert not Event.objects.filter(entity_type="product").exists()


def test_only_owner_and_manager_change_the_catalogue(owner, manager_a, sales_a):
    product = services.product_create(actor=manager_a, data={"name": "Bun", "sku": "BUN",
                                                             "price": "1"})
    with pytest.raises(PermissionDenied):
        services.product_create(actor=sales_a, data={"name": "X", "sku": "X", "price": "1"})
    with pytest.raises(PermissionDenied):
        services.product_update(actor=sales_a, product_id=product.id, version=1,
                                changes={"price": "2"})
    with pytest.raises(PermissionDenied):
        services.product_delete(actor=sales_a, product_id=product.id)
    # ...but everyone reads it.
    assert [p.sku for p in selectors.product_list(user=sales_a).items] == ["BUN"]


def test_product_update_diff_version_and_stale_conflict(owner):
    product = ProductFactory(name="Rye", sku="RYE", price=Decimal("4.00"))
    services.product_update(actor=owner, product_id=product.id, version=1,
                            changes={"price": "4.20", "category": "bread"})
    product.refresh_from_db()
    assert (product.version, product.price) == (2, Decimal("4.20"))
    event = Event.objects.get(kind="product.updated")
    assert event.before == {"price": "4.00"}
    assert event.after == {"price": "4.20"}
    with pytest.raises(VersionConflict) as clash:
        services.product_update(actor=owner, product_id=product.id, version=1,
                                changes={"price": "9.99"})
    assert clash.value.current_version == 2
    assert clash.value.current["price"] == "4.20"
    product.refresh_from_db()
    assert product.price == Decimal("4.20")


def test_product_delete_is_soft_and_keeps_its_sku_reserved(owner):
    product = ProductFactory(name="Rye", sku="RYE")
    services.product_delete(actor=owner, product_id=product.id)
    product.refresh_from_db()
    assert product.deleted_at is not None
    assert selectors.product_list(user=owner).items == []
    with pytest.raises(NotFound):
        selectors.product_get(user=owner, product_id=product.id)
    with pytest.raises(NotFound):
        services.product_delete(actor=owner, product_id=product.id)
    with pytest.raises(ValidationFailed) as failure:
        services.product_create(actor=owner, data={"name": "New rye", "sku": "rye",
                                                   "price": "1"})
    assert failure.value.errors == {"sku": ["Rye already has SKU RYE (deleted; restore or "
                                            "rename it)"]}
    assert Event.objects.filter(kind="product.deleted", entity_id=product.id).count() == 1


def test_product_list_keyset_pages_by_name_and_filters(owner):
    for name in ("Cherry tart", "Apple pie", "Bagel", "Brioche", "Apple strudel"):
        ProductFactory(name=name, category="pastry" if "t" in name.lower() else "bread")
    seen, cursor = [], None
    while True:
        page = selectors.product_list(user=owner, params={"limit": 2, "cursor": cursor})
        seen.extend(p.name for p in page.items)
        cursor = page.next_cursor
        if not cursor:
            break
    assert seen == ["Apple pie", "Apple strudel", "Bagel", "Brioche", "Cherry tart"]
    assert [p.name for p in selectors.product_list(user=owner, params={"q": "apple"}).items] \
        == ["Apple pie", "Apple strudel"]
    assert [p.name for p in selectors.product_list(
        user=owner, params={"category": "bread"}).items] == ["Apple pie", "Bagel", "Brioche"]


# --- orders ------------------------------------------------------------------------------------

def test_order_total_is_exact_decimal_with_default_prices_and_returns(owner):
    anna = make_contact(owner, email="anna@example.com")
    rye = ProductFactory(name="Rye sourdough", price=Decimal("4.50"))
    roll = ProductFactory(name="Roll", price=Decimal("0.10"))
    order = services.order_create(actor=owner, data={
        "contact_id": anna.id, "ordered_at": "2026-03-01T09:30", "channel": "online",
        "external_ref": "WEB-1",
        "lines": [{"product_id": rye.id, "quantity": 2},
                  {"sku": roll.sku.lower(), "quantity": 3},
                  {"product_id": rye.id, "quantity": -1, "unit_price": "4.00"}],
    })
    # 2 × 4.50 + 3 × 0.10 − 1 × 4.00; with floats 3 × 0.10 would be 0.30000000000000004.
    assert order.total == Decimal("5.30")
    assert order.channel == "online"
    assert order.external_ref == "WEB-1"
    assert order.ordered_at == timezone.make_aware(dt.datetime(2026, 3, 1, 9, 30))
    assert list(order.lines.order_by("id").values_list("product_id", "quantity", "unit_price")) \
        == [(rye.id, 2, Decimal("4.50")), (roll.id, 3, Decimal("0.10")),
            (rye.id, -1, Decimal("4.00"))]


def test_order_placed_event_is_on_the_contacts_timeline(owner):
    anna = make_contact(owner, email="anna@example.com")
    rye = ProductFactory(name="Rye sourdough", sku="RYE", price=Decimal("4.50"))
    order = make_order(owner, anna, (rye, 2), days_ago=3)
    event = Event.objects.get(kind="order.placed")
    assert (event.entity_type, event.entity_id, event.contact_id, event.actor_id) == \
        ("order", order.id, anna.id, owner.id)
    assert event.occurred_at == order.ordered_at
    assert event.after == {
        "total": "9.00", "channel": "in_store", "external_ref": None,
        "items": ["2 × Rye sourdough"],
        "lines": [{"product_id": rye.id, "sku": "RYE", "quantity": 2, "unit_price": "4.50"}],
    }
    timeline = contact_selectors.contact_timeline(user=owner, contact_id=anna.id)
    assert [e.kind for e in timeline.items] == ["contact.created", "order.placed"]
    assert verify_chain().ok


def test_order_bad_input_names_every_field_and_writes_nothing(owner):
    anna = make_contact(owner)
    rye = ProductFactory(price=Decimal("4.50"))
    gone = ProductFactory(deleted_at=timezone.now())
    with pytest.raises(ValidationFailed) as failure:
        services.order_create(actor=owner, data={
            "contact_id": anna.id,
            "ordered_at": timezone.now() + dt.timedelta(days=3), "channel": "carrier pigeon",
            "external_ref": "x" * 65,
            "lines": [{"product_id": rye.id, "quantity": 1},
                   {"sku": "NOPE", "quantity": 1},
                   {"product_id": rye.id, "quantity": 0},
                   {"product_id": rye.id, "quantity": 1, "unit_price": "-2"},
                   {"product_id": gone.id, "quantity": "2.5"},
                   {"quantity": 1, "discount": 5}],
        })
    assert failure.value.errors == {
        "ordered_at": ["is in the future"],
        "channel": ["'carrier pigeon' is not one of in_store, online, phone, wholesale, "
                    "market, other"],
        "external_ref": ["must be at most 64 characters (got 65)"],
        "lines.1.sku": ["no product with SKU 'NOPE'"],
        "lines.2.quantity": ["must not be 0 (use a negative number for a return)"],
        "lines.3.unit_price": ["must not be negative"],
        "lines.4.product_id": [f"no product with id {gone.id}"],
        "lines.4.quantity": ["'2.5' is not a whole number"],
        "lines.5.discount": ["unknown field"],
        "lines.5.sku": ["choose a product (product_id or sku)"],
    }
    with pytest.raises(ValidationFailed) as failure:
        services.order_create(actor=owner, data={"contact_id": anna.id,
                                                 "ordered_at": "01/03/2026", "lines": []})
    assert failure.value.errors == {
        "ordered_at": ["'01/03/2026' is not a date; use YYYY-MM-DD or YYYY-MM-DD HH:MM"],
        "lines": ["an order needs at least one line"],
    }
    assert Order.objects.count() == 0
    assert OrderLine.objects.count() == 0
    assert not Event.objects.filter(kind="order.placed").exists()


def test_external_ref_is_unique(owner):
    anna = make_contact(owner)
    rye = ProductFactory()
    first = make_order(owner, anna, (rye, 1), external_ref="SHOP-1")
    with pytest.raises(ValidationFailed) as failure:
        make_order(owner, anna, (rye, 1), external_ref=" SHOP-1 ")
    assert failure.value.errors == {"external_ref": [f"order {first.id} already has this "
                                                     "reference"]}
    assert Order.objects.count() == 1


def test_another_teams_sales_user_cannot_see_or_add_orders(sales_a, sales_a2, sales_b):
    mine = make_contact(sales_a, first_name="Mine")
    rye = ProductFactory()
    order = make_order(sales_a, mine, (rye, 1))
    with pytest.raises(NotFound):
        make_order(sales_b, mine, (rye, 1))
    with pytest.raises(NotFound):
        selectors.order_get(user=sales_b, order_id=order.id)
    with pytest.raises(NotFound):
        selectors.order_list(user=sales_b, params={"contact_id": mine.id})
    with pytest.raises(NotFound):
        selectors.purchase_summary(user=sales_b, contact_id=mine.id)
    assert selectors.order_list(user=sales_b).items == []
    # A teammate sees the order but may not add to a contact they do not own.
    assert selectors.order_get(user=sales_a2, order_id=order.id).id == order.id
    with pytest.raises(PermissionDenied):
        make_order(sales_a2, mine, (rye, 1))
    assert Order.objects.count() == 1


def test_orders_of_a_deleted_contact_are_hidden(owner):
    anna = make_contact(owner)
    order = make_order(owner, anna, (ProductFactory(), 1))
    from rapport.contacts import services as contact_services

    contact_services.contact_delete(actor=owner, contact_id=anna.id)
    assert selectors.order_list(user=owner).items == []
    with pytest.raises(NotFound):
        selectors.order_get(user=owner, order_id=order.id)


def test_order_list_newest_first_walks_every_order_once(owner):
    anna, bert = make_contact(owner, first_name="Anna"), make_contact(owner, first_name="Bert")
    rye = ProductFactory()
    same_time = timezone.now() - dt.timedelta(days=1)
    ids = [make_order(owner, anna if i % 2 else bert, (rye, 1), ordered_at=same_time).id
           for i in range(3)]
    ids += [make_order(owner, anna, (rye, 1), days_ago=d).id for d in (5, 4)]
    seen, cursor = [], None
    while True:
        page = selectors.order_list(user=owner, params={"limit": 2, "cursor": cursor})
        seen.extend(o.id for o in page.items)
        cursor = page.next_cursor
        if not cursor:
            break
    assert seen == [ids[2], ids[1], ids[0], ids[4], ids[3]]
    annas = selectors.order_list(user=owner, params={"contact_id": anna.id})
    assert [o.id for o in annas.items] == [ids[1], ids[4], ids[3]]
    with pytest.raises(ValidationFailed) as failure:
        selectors.order_list(user=owner, params={"cursor": "nope!"})
    assert list(failure.value.errors) == ["cursor"]


# --- purchase summary --------------------------------------------------------------------------

def test_purchase_summary_totals_frequency_favourites_and_last_order(owner):
    anna = make_contact(owner)
    rye = ProductFactory(name="Rye sourdough", price=Decimal("4.50"))
    bun = ProductFactory(name="Cinnamon bun", price=Decimal("2.25"))
    tart = ProductFactory(name="Apple tart", price=Decimal("12.00"))
    start = timezone.make_aware(dt.datetime(2026, 1, 1, 10, 0))
    make_order(owner, anna, (rye, 2), (bun, 1), ordered_at=start)
    make_order(owner, anna, (rye, 1), ordered_at=start + dt.timedelta(days=10))
    make_order(owner, anna, (bun, 4), (tart, 1), ordered_at=start + dt.timedelta(days=20))
    last = make_order(owner, anna, (tart, -1), ordered_at=start + dt.timedelta(days=31))
    other = make_contact(owner, first_name="Other")
    make_order(owner, other, (tart, 9))

    summary = selectors.purchase_summary(user=owner, contact_id=anna.id)
    assert summary.order_count == 4
    # 9.00 + 2.25 | 4.50 | 9.00 + 12.00 | −12.00 (a returned tart)
    assert summary.total_spent == Decimal("24.75")
    assert summary.first_order_at == start
    assert summary.last_order_at == start + dt.timedelta(days=31)
    assert summary.days_between_orders == 10.3
    assert summary.favourite_products == [
        {"product_id": bun.id, "product__name": "Cinnamon bun", "quantity": 5, "times": 2},
        {"product_id": rye.id, "product__name": "Rye sourdough", "quantity": 3, "times": 2},
        {"product_id": tart.id, "product__name": "Apple tart", "quantity": 0, "times": 1},
    ]
    returner = make_contact(owner, first_name="Returner")
    make_order(owner, returner, (rye, 1), ordered_at=start)
    make_order(owner, returner, (bun, -1), ordered_at=start)
    assert [p["product__name"] for p in selectors.purchase_summary(
        user=owner, contact_id=returner.id).favourite_products] == ["Rye sourdough"]
    assert summary.recent_orders[0].id == last.id
    assert len(summary.recent_orders) == 4
    assert summary.can_add_orders is True


def test_purchase_summary_of_someone_who_never_ordered(owner, sales_a, sales_a2):
    anna = make_contact(sales_a)
    summary = selectors.purchase_summary(user=sales_a2, contact_id=anna.id)
    assert (summary.order_count, summary.total_spent, summary.last_order_at,
            summary.days_between_orders, summary.favourite_products, summary.recent_orders) \
        == (0, Decimal("0"), None, None, [], [])
    assert summary.can_add_orders is False


# --- bulk (the import and the demo) ------------------------------------------------------------

def _bulk(contact, *lines, ref="B-1", **order):
    return {"contact_id": contact.id, "ordered_at": "2026-03-01T09:30:00+00:00",
            "external_ref": ref, "lines": [list(line) for line in lines], **order}


def test_orders_bulk_create_writes_orders_lines_and_events(owner):
    anna = make_contact(owner, first_name="Anna")
    rye = ProductFactory(name="Rye", sku="RYE", price=Decimal("4.50"))
    bun = ProductFactory(name="Bun", sku="BUN", price=Decimal("2.25"))
    recorded = dt.datetime(2026, 3, 1, 10, tzinfo=dt.UTC)
    result = services.orders_bulk_create(actor=owner, data={"orders": [
        _bulk(anna, (rye.id, 2, "4.00"), (bun.id, -1, "2.25"), channel="online",
              recorded_at=recorded),
        _bulk(anna, (bun.id, 3, "2.25"), ref="B-2"),
    ]})
    orders = {o.external_ref: o for o in Order.objects.all()}
    assert (result.created, result.lines, result.skipped) == (
        {"B-1": orders["B-1"].id, "B-2": orders["B-2"].id}, 3, [])
    assert (orders["B-1"].total, orders["B-1"].channel, orders["B-1"].created_at) == (
        Decimal("5.75"), "online", recorded)
    assert [(line.product_id, line.quantity, line.unit_price)
            for line in orders["B-1"].lines.order_by("id")] == [
        (rye.id, 2, Decimal("4.00")), (bun.id, -1, Decimal("2.25"))]
    event = Event.objects.get(kind="order.placed", entity_id=orders["B-1"].id)
    assert (event.actor_id, event.contact_id, event.occurred_at) == (
        owner.id, anna.id, dt.datetime(2026, 3, 1, 9, 30, tzinfo=dt.UTC))
    assert event.after == {"total": "5.75", "channel": "online", "external_ref": "B-1",
                           "items": ["2 × Rye", "-1 × Bun"],
                           "lines": [{"product_id": rye.id, "sku": "RYE", "quantity": 2,
                                      "unit_price": "4.00"},
                                     {"product_id": bun.id, "sku": "BUN", "quantity": -1,
                                      "unit_price": "2.25"}]}
    assert verify_chain().ok


def test_orders_bulk_create_skips_references_already_there(owner):
    anna = make_contact(owner, first_name="Anna")
    rye = ProductFactory(sku="RYE")
    services.orders_bulk_create(actor=owner, data={"orders": [_bulk(anna, (rye.id, 1, "1"))]})
    again = services.orders_bulk_create(actor=None, data={"orders": [
        _bulk(anna, (rye.id, 5, "1")), _bulk(anna, (rye.id, 1, "1"), ref="B-2")]})
    assert (list(again.created), again.lines, again.skipped) == (["B-2"], 1, ["B-1"])
    assert Order.objects.get(external_ref="B-1").lines.get().quantity == 1
    assert Event.objects.filter(kind="order.placed").count() == 2
    assert Event.objects.get(kind="order.placed", entity_id=again.created["B-2"]).actor_id is None


def test_orders_bulk_create_refuses_bad_input_whole(owner, sales_a, sales_b):
    anna = make_contact(sales_a, first_name="Anna")
    rye = ProductFactory(sku="RYE")
    gone = ProductFactory(sku="OLD")
    services.product_delete(actor=owner, product_id=gone.id)
    cases = [
        ({"orders": [_bulk(anna, (rye.id, 0, "1"))]}, ["orders.0.lines.0.1"]),
        ({"orders": [_bulk(anna, (rye.id, 1, "1.001"))]}, ["orders.0.lines.0.2"]),
        ({"orders": [{**_bulk(anna, (rye.id, 1, "1")), "ordered_at": "2026-03-01T09:30"}]},
         ["orders.0.ordered_at"]),
        ({"orders": [_bulk(anna, (gone.id, 1, "1")), _bulk(anna, (rye.id, 1, "1"), ref="B-1")]},
         ["orders.0.lines.0.product_id", "orders.1.external_ref"]),
        ({"orders": [{**_bulk(anna, (rye.id, 1, "1")), "contact_id": 999_999}]},
         ["orders.0.contact_id"]),
    ]
    for data, fields in cases:
        with pytest.raises(ValidationFailed) as failure:
            services.orders_bulk_create(actor=owner, data=data)
        assert list(failure.value.errors) == fields
    with pytest.raises(PermissionDenied):
        services.orders_bulk_create(actor=sales_b, data={"orders": [_bulk(anna, (rye.id, 1,
                                                                                  "1"))]})
    assert Order.objects.count() == 0
    assert Event.objects.filter(kind="order.placed").count() == 0
