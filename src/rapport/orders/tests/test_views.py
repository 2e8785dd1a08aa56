import html
import re
from decimal import Decimal

import pytest

from rapport.orders.models import Order, Product
from rapport.orders.tests.factories import ProductFactory, make_contact, make_order

pytestmark = pytest.mark.django_db


def text_of(response) -> str:
    return response.content.decode()


def selected_values(html: str, name: str) -> list[str]:
    """The selected option of each <select name=...>, in page order ("" when none)."""
    found = []
    for select in re.findall(rf'<select name="{name}".*?</select>', html, re.S):
        match = re.search(r'<option value="([^"]*)" selected', select)
        found.append(match[1] if match else "")
    return found


# --- products ----------------------------------------------------------------------------------

def test_product_list_shows_catalogue_and_edit_links_only_to_editors(web_as, owner, sales_a):
    ProductFactory(name="Rye sourdough", sku="RYE-800", price=Decimal("4.50"))
    page = text_of(web_as(owner).get("/products/"))
    assert "Rye sourdough" in page and "RYE-800" in page and "4.50" in page
    assert 'href="/products/new/"' in page
    page = text_of(web_as(sales_a).get("/products/"))
    assert "Rye sourdough" in page
    assert 'href="/products/new/"' not in page
    assert web_as(sales_a).get("/products/new/").status_code == 403


@pytest.mark.parametrize("count", [3, 40])
def test_product_list_queries_do_not_grow_with_rows(web_as, owner, count,
                                                    django_assert_max_num_queries):
    ProductFactory.create_batch(count)
    client = web_as(owner)
    with django_assert_max_num_queries(4):
        response = client.get("/products/")
    assert text_of(response).count("<code>SKU-") == min(count, 50)


def test_product_list_pages_with_a_cursor(web_as, owner):
    for i in range(55):
        ProductFactory(name=f"Loaf {i:02d}")
    client = web_as(owner)
    first = text_of(client.get("/products/"))
    assert "Loaf 49" in first and "Loaf 50" not in first
    next_url = re.search(r'href="(\?cursor=[^"]+)" rel="next"', first)[1]
    second = text_of(client.get(f"/products/{next_url}"))
    assert "Loaf 50" in second and "Loaf 54" in second and "Loaf 49" not in second
    assert 'rel="next"' not in second


def test_product_form_shows_errors_inline_and_keeps_what_was_typed(web_as, owner):
    client = web_as(owner)
    response = client.post("/products/new/", {"name": "Spelt <loaf>", "sku": "SP 1",
                                               "category": "bread", "price": "3.999"})
    assert response.status_code == 422
    page = text_of(response)
    assert 'value="Spelt &lt;loaf&gt;"' in page
    assert 'value="SP 1"' in page
    assert 'value="3.999"' in page
    assert "must not contain spaces" in page
    assert "at most two decimal places" in page
    assert Product.objects.count() == 0
    response = client.post("/products/new/", {"name": "Spelt loaf", "sku": "SP-1",
                                               "category": "bread", "price": "3.99"})
    assert response.status_code == 302
    assert Product.objects.get().price == Decimal("3.99")


def test_product_edit_conflict_and_delete(web_as, owner):
    product = ProductFactory(name="Rye", price=Decimal("4.00"))
    client = web_as(owner)
    assert 'name="version" value="1"' in text_of(client.get(f"/products/{product.id}/edit/"))
    ok = client.post(f"/products/{product.id}/edit/", {"name": "Rye", "sku": product.sku,
                                                       "category": "", "price": "4.20",
                                                       "version": "1"})
    assert ok.status_code == 302
    stale = client.post(f"/products/{product.id}/edit/", {"name": "Old rye", "sku": product.sku,
                                                          "price": "1", "version": "1"})
    assert stale.status_code == 409
    assert "Someone else saved this product" in text_of(stale)
    product.refresh_from_db()
    assert (product.name, product.price, product.version) == ("Rye", Decimal("4.20"), 2)
    assert client.post(f"/products/{product.id}/delete/").status_code == 302
    assert client.get(f"/products/{product.id}/edit/").status_code == 404


# --- orders ------------------------------------------------------------------------------------

@pytest.mark.parametrize("count", [3, 30])
def test_order_list_queries_do_not_grow_with_rows(web_as, owner, count,
                                                  django_assert_max_num_queries):
    rye, bun = ProductFactory(name="Rye"), ProductFactory(name="Bun")
    contacts = [make_contact(owner, first_name=f"C{i}") for i in range(3)]
    for i in range(count):
        make_order(owner, contacts[i % 3], (rye, 2), (bun, 1), days_ago=i)
    client = web_as(owner)
    # session, user, orders with their customers, lines with their products
    with django_assert_max_num_queries(4):
        response = client.get("/orders/")
    assert text_of(response).count("2 × Rye, 1 × Bun") == count
    with django_assert_max_num_queries(6):  # + the contact and its tags
        response = client.get(f"/orders/?contact={contacts[0].id}")
    assert text_of(response).count("2 × Rye, 1 × Bun") == len(range(0, count, 3))


def test_order_list_filters_by_contact_and_pages(web_as, owner):
    anna, bert = make_contact(owner, first_name="Anna"), make_contact(owner, first_name="Bert")
    rye = ProductFactory(name="Rye")
    for day in range(52):
        make_order(owner, anna, (rye, 1), days_ago=day + 1, external_ref=f"A-{day}")
    make_order(owner, bert, (rye, 5), external_ref="B-0")
    client = web_as(owner)
    page = text_of(client.get(f"/orders/?contact={anna.id}"))
    assert "Orders of" in page and "Anna" in page
    refs = re.findall(r"<code>([AB]-\d+)</code>", page)
    assert refs == [f"A-{day}" for day in range(50)]
    next_url = html.unescape(re.search(r'href="(\?[^"]+)" rel="next"', page)[1])
    assert f"contact={anna.id}&cursor=" in next_url
    rest = text_of(client.get(f"/orders/{next_url}"))
    assert re.findall(r"<code>([AB]-\d+)</code>", rest) == ["A-50", "A-51"]
    assert client.get("/orders/?cursor=garbage!!").status_code == 200


def test_another_teams_orders_and_contacts_are_404(web_as, sales_a, sales_a2, sales_b):
    theirs = make_contact(sales_a, first_name="Private")
    order = make_order(sales_a, theirs, (ProductFactory(), 1))
    client = web_as(sales_b)
    assert client.get(f"/orders/?contact={theirs.id}").status_code == 404
    assert client.get(f"/orders/{order.id}/").status_code == 404
    assert client.get(f"/contacts/{theirs.id}/orders/new/").status_code == 404
    assert client.post(f"/contacts/{theirs.id}/orders/new/", {}).status_code == 404
    assert "Private" not in text_of(client.get("/orders/"))
    teammate = web_as(sales_a2)
    assert teammate.get(f"/orders/{order.id}/").status_code == 200
    assert teammate.get(f"/contacts/{theirs.id}/orders/new/").status_code == 403
    assert Order.objects.count() == 1


def test_order_detail_shows_lines_and_totals(web_as, owner):
    anna = make_contact(owner, first_name="Anna")
    rye = ProductFactory(name="Rye sourdough", sku="RYE", price=Decimal("4.50"))
    order = make_order(owner, anna, (rye, 2), (rye, -1, "4.00"), external_ref="T-77")
    page = text_of(web_as(owner).get(f"/orders/{order.id}/"))
    assert "T-77" in page
    assert "<td>2</td><td>4.50</td><td>9.00</td>" in page
    assert "(returned)" in page and "<td>-1</td><td>4.00</td><td>-4.00</td>" in page
    assert "<strong>5.00</strong>" in page


def test_add_order_form_keeps_input_and_shows_errors_at_their_row(web_as, owner):
    anna = make_contact(owner, first_name="Anna")
    rye = ProductFactory(name="Rye sourdough", price=Decimal("4.50"))
    bun = ProductFactory(name="Bun", price=Decimal("2.00"))
    client = web_as(owner)
    form = client.get(f"/contacts/{anna.id}/orders/new/")
    assert form.status_code == 200
    assert text_of(form).count('name="quantity"') == 5
    response = client.post(f"/contacts/{anna.id}/orders/new/", {
        "ordered_at": "2026-03-01T10:15", "channel": "phone", "external_ref": "TEL-9",
        "product_id": [str(rye.id), "", str(bun.id), "", ""],
        "quantity": ["2", "", "0", "", ""],
        "unit_price": ["", "", "1.5.0", "", ""],
    })
    assert response.status_code == 422
    page = text_of(response)
    assert selected_values(page, "product_id") == [str(rye.id), "", str(bun.id), "", ""]
    assert selected_values(page, "channel") == ["phone"]
    assert 'value="TEL-9"' in page and 'value="2026-03-01T10:15"' in page
    assert 'value="1.5.0"' in page
    # The errors are those of the form's third row (the service counts lines, not rows).
    third_row = page.split("<tr>")[4]
    assert "must not be 0 (use a negative number for a return)" in third_row
    assert "&#x27;1.5.0&#x27; is not an amount like 3.50" in third_row
    assert Order.objects.count() == 0

    more = client.post(f"/contacts/{anna.id}/orders/new/", {
        "ordered_at": "2026-03-01T10:15", "channel": "phone", "more_lines": "1",
        "product_id": [str(rye.id)] + [""] * 4, "quantity": ["2"] + [""] * 4,
        "unit_price": [""] * 5})
    assert more.status_code == 200
    assert text_of(more).count('name="quantity"') == 10
    assert Order.objects.count() == 0

    saved = client.post(f"/contacts/{anna.id}/orders/new/", {
        "ordered_at": "2026-03-01T10:15", "channel": "phone", "external_ref": "TEL-9",
        "product_id": [str(rye.id), "", str(bun.id)], "quantity": ["2", "", "-1"],
        "unit_price": ["", "", ""]})
    assert saved.status_code == 302
    assert saved["Location"] == f"/contacts/{anna.id}/"
    order = Order.objects.get()
    assert (order.total, order.channel, order.external_ref) == (Decimal("7.00"), "phone",
                                                                "TEL-9")
    contact_page = text_of(web_as(owner).get(f"/contacts/{anna.id}/"))
    assert "Order 7.00 — 2 × Rye sourdough, -1 × Bun" in contact_page


def test_contact_page_purchases_offer_add_order_only_to_who_may(web_as, sales_a, sales_a2):
    anna = make_contact(sales_a, first_name="Anna")
    make_order(sales_a, anna, (ProductFactory(name="Rye", price=Decimal("4.50")), 2))
    mine = text_of(web_as(sales_a).get(f"/contacts/{anna.id}/"))
    assert f'href="/contacts/{anna.id}/orders/new/"' in mine
    assert f'href="/orders/?contact={anna.id}"' in mine
    assert "<b>9.00</b>total spent" in mine
    colleague = text_of(web_as(sales_a2).get(f"/contacts/{anna.id}/"))
    assert f'href="/contacts/{anna.id}/orders/new/"' not in colleague
    assert "<b>9.00</b>total spent" in colleague
