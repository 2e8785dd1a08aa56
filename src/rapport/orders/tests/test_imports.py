"""The orders import adapter, run through dataio's pipeline as a worker runs it (in-process).

The pipeline's own units (decoding, sniffing, headers, limits) are tested in dataio; these are
what orders decides: the columns, the cells, customers and products, rows that make an order.
"""

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.utils import timezone

from rapport.core.errors import ValidationFailed
from rapport.core.events import verify_chain
from rapport.core.models import Event
from rapport.dataio import selectors as import_selectors
from rapport.dataio import services as import_services
from rapport.dataio.pipeline import Problem
from rapport.orders.models import Order
from rapport.orders.tests.factories import ProductFactory, make_contact

pytestmark = pytest.mark.django_db

HEADER = "order_ref,date,customer_email,sku,quantity,unit_price,channel\n"


def csv_file(text: str, encoding: str = "utf-8") -> io.BytesIO:
    return io.BytesIO(text.encode(encoding))


def import_csv(*, actor, file, encoding="", dry_run=False, **options):
    """Upload the file as an orders import and run it to the end, as a worker would."""
    job = import_services.import_start(actor=actor, file=file, data={
        "type": "orders", "encoding": encoding, "dry_run": dry_run, "options": options})
    import_services.import_work(job_id=job.id)
    job.refresh_from_db()
    assert job.status == "done"
    return import_selectors.import_report(job)


@pytest.fixture
def bakery(owner):
    """Two customers and three products, as the tests' CSV files expect them."""
    return {
        "anna": make_contact(owner, first_name="Anna", email="anna@example.com"),
        "bert": make_contact(owner, first_name="Bert", email="bert@example.com"),
        "rye": ProductFactory(name="Rye sourdough", sku="RYE", price=Decimal("4.50")),
        "bun": ProductFactory(name="Cinnamon bun", sku="BUN", price=Decimal("2.25")),
        "tart": ProductFactory(name="Apple tart", sku="TART", price=Decimal("12.00")),
    }


def orders_by_ref():
    return {o.external_ref: o for o in Order.objects.prefetch_related("lines__product")}


def test_rows_with_the_same_ref_form_one_order(owner, bakery):
    report = import_csv(actor=owner, file=csv_file(
        HEADER
        + "A-1,2026-03-01,anna@example.com,RYE,2,4.00,online\n"
        + "B-7,2026-03-02 14:30,bert@example.com,TART,1,,\n"
        + "A-1,2026-03-01,Anna@Example.com,bun,3,,online\n"
        + "A-1,2026-03-01,anna@example.com,TART,-1,12.00,online\n"
    ))
    assert (report.rows, report.records, report.created, report.items_created,
            report.skipped_duplicates, report.failed, report.errors) == (4, 2, 2, 4, 0, 0, [])
    assert report.encoding == "utf-8"
    orders = orders_by_ref()
    a1, b7 = orders["A-1"], orders["B-7"]
    assert (a1.contact_id, a1.channel, a1.total) == (bakery["anna"].id, "online",
                                                     Decimal("2.75"))
    assert [(line.product.sku, line.quantity, line.unit_price) for line in a1.lines.all()] == [
        ("RYE", 2, Decimal("4.00")), ("BUN", 3, Decimal("2.25")), ("TART", -1, Decimal("12.00"))]
    assert a1.ordered_at == timezone.make_aware(dt.datetime(2026, 3, 1))
    assert (b7.contact_id, b7.channel, b7.total) == (bakery["bert"].id, "in_store",
                                                     Decimal("12.00"))
    assert b7.ordered_at == timezone.make_aware(dt.datetime(2026, 3, 2, 14, 30))
    event = Event.objects.get(kind="order.placed", entity_id=a1.id)
    assert (event.contact_id, event.actor_id, event.occurred_at) == (
        bakery["anna"].id, owner.id, a1.ordered_at)
    assert event.after["items"] == ["2 × Rye sourdough", "3 × Cinnamon bun", "-1 × Apple tart"]
    assert verify_chain().ok


def test_every_bad_row_is_reported_and_good_orders_are_imported(owner, bakery):
    report = import_csv(actor=owner, file=csv_file(
        HEADER
        + "G-1,2026-03-01,anna@example.com,RYE,1,,\n"             # row 2: good
        + "X-1,2026-03-01,nobody@example.com,RYE,1,,\n"           # row 3: unknown customer
        + "X-2,2026-03-01,anna@example.com,CAKE,1,,\n"            # row 4: unknown SKU
        + "X-3,03/01/2026,anna@example.com,RYE,two,-3,fax\n"      # row 5: four bad cells
        + "X-4,2026-03-01,anna@example.com,RYE,1,,\n"             # row 6: good row of bad order
        + "X-4,2026-03-01,bert@example.com,BUN,0,,\n"             # row 7: other customer, qty 0
        + ",2026-03-01,not-an-email,RYE,1,,\n"                    # row 8: no ref, bad email
        + "G-2,2026-03-02,bert@example.com,BUN,5,\"2,10\",market\n"  # row 9: good, decimal comma
    ))
    assert (report.rows, report.records, report.created, report.failed) == (8, 6, 2, 4)
    assert [(e.row, e.column, e.value) for e in report.errors] == [
        (3, "customer_email", "nobody@example.com"),
        (4, "sku", "CAKE"),
        (5, "date", "03/01/2026"),
        (5, "quantity", "two"),
        (5, "unit_price", "-3"),
        (5, "channel", "fax"),
        (6, "order_ref", "X-4"),
        (7, "quantity", "0"),
        (7, "customer_email", "bert@example.com"),
        (8, "order_ref", ""),
        (8, "customer_email", "not-an-email"),
    ]
    reasons = {(e.row, e.column): e.reason for e in report.errors}
    assert reasons[(3, "customer_email")] == ("no contact has this email; add the customer first "
                                              "(the import never creates contacts)")
    assert reasons[(4, "sku")] == "no product has this SKU; add it to the catalogue first"
    assert reasons[(5, "date")] == ("'03/01/2026' is not a date; use YYYY-MM-DD or "
                                    "YYYY-MM-DD HH:MM")
    assert reasons[(5, "quantity")] == "'two' is not a whole number"
    assert reasons[(6, "order_ref")] == "not imported because row 7 of order X-4 has an error"
    assert reasons[(7, "customer_email")] == ("differs from row 6 of order X-4 "
                                              "(bert@example.com vs anna@example.com)")
    assert report.error_count == 11
    assert not report.errors_truncated
    orders = orders_by_ref()
    assert sorted(orders) == ["G-1", "G-2"]
    assert orders["G-2"].total == Decimal("10.50")
    assert orders["G-2"].channel == "market"


def test_importing_the_same_file_twice_creates_nothing_new(owner, bakery):
    text = (HEADER + "A-1,2026-03-01,anna@example.com,RYE,2,,\n"
            + "A-1,2026-03-01,anna@example.com,BUN,1,,\n"
            + "B-1,2026-03-01,bert@example.com,BUN,1,,\n"
            + "C-1,2026-03-01,bert@example.com,NOPE,1,,\n")
    first = import_csv(actor=owner, file=csv_file(text))
    assert (first.created, first.skipped_duplicates, first.error_count) == (2, 0, 1)
    placed = Event.objects.filter(kind="order.placed").count()
    second = import_csv(actor=owner, file=csv_file(text))
    assert (second.created, second.items_created, second.skipped_duplicates,
            second.error_count) == (0, 0, 2, 1)
    assert Order.objects.count() == 2
    assert Event.objects.filter(kind="order.placed").count() == placed == 2


def test_latin1_file_is_decoded(owner, bakery):
    text = ("order_ref;date;Email;SKU;Qty;Price;Note\n"
            "RÉF-1;2026-03-01;anna@example.com;RYE;2;4,50;crème brûlée pour Zoë\n"
            "RÉF-1;2026-03-01;anna@example.com;BUN;1;;déjà payé à la caisse\n")
    report = import_csv(actor=owner, file=csv_file(text, "latin-1"))
    assert (report.encoding, report.delimiter, report.created, report.errors) == (
        "cp1252", ";", 1, [])
    assert report.ignored_columns == ["Note"]
    order = Order.objects.get()
    assert (order.external_ref, order.total) == ("RÉF-1", Decimal("11.25"))


def test_encoding_can_be_chosen_when_detection_guesses_wrong(owner, bakery):
    text = HEADER + "Příliš-1,2026-03-01,anna@example.com,RYE,1,,\n"
    report = import_csv(actor=owner, file=csv_file(text, "iso8859_2"), encoding="iso-8859-2")
    assert (report.encoding, report.created) == ("iso8859-2", 1)
    assert Order.objects.get().external_ref == "Příliš-1"
    with pytest.raises(ValidationFailed) as failure:
        import_csv(actor=owner, file=csv_file("é", "latin-1"), encoding="utf-8")
    assert failure.value.errors == {"encoding": ["the file is not valid utf-8 (byte 0); "
                                                 "try another"]}
    with pytest.raises(ValidationFailed) as failure:
        import_csv(actor=owner, file=csv_file(text), encoding="klingon")
    assert failure.value.errors == {"encoding": ["unknown encoding 'klingon'"]}


def test_email_matches_a_second_address_but_never_an_ambiguous_one(owner, bakery):
    make_contact(owner, first_name="Cleo", email="cleo@example.com",
                 emails=["cleo@example.com", "orders@cleos-cafe.example"])
    make_contact(owner, first_name="Twin 1", email="twins@example.com")
    make_contact(owner, first_name="Twin 2", email="twins@example.com")
    report = import_csv(actor=owner, file=csv_file(
        HEADER + "C-1,2026-03-01,orders@cleos-cafe.example,RYE,1,,\n"
        + "T-1,2026-03-01,twins@example.com,RYE,1,,\n"))
    assert report.created == 1
    assert Order.objects.get().contact.first_name == "Cleo"
    assert report.errors == [Problem(row=3, column="customer_email", value="twins@example.com",
                                     reason="2 contacts have this email; merge them first")]


def test_import_respects_who_may_add_orders(sales_a, sales_a2, sales_b):
    make_contact(sales_a, first_name="Anna", email="anna@example.com")
    ProductFactory(sku="RYE")
    text = HEADER + "A-1,2026-03-01,anna@example.com,RYE,1,,\n"
    other_team = import_csv(actor=sales_b, file=csv_file(text))
    assert [(e.row, e.reason) for e in other_team.errors] == [
        (2, "no contact has this email; add the customer first (the import never creates "
            "contacts)")]
    teammate = import_csv(actor=sales_a2, file=csv_file(text))
    assert [(e.row, e.reason) for e in teammate.errors] == [
        (2, "you may not add orders for this contact")]
    assert Order.objects.count() == 0
    assert import_csv(actor=sales_a, file=csv_file(text)).created == 1


def test_dry_run_checks_everything_and_writes_nothing(owner, bakery):
    report = import_csv(actor=owner, dry_run=True, file=csv_file(
        HEADER + "A-1,2026-03-01,anna@example.com,RYE,1,,\n"
        + "A-2,2026-03-01,anna@example.com,NOPE,1,,\n"))
    assert (report.dry_run, report.created, report.items_created, report.error_count) == (
        True, 1, 1, 1)
    assert Order.objects.count() == 0


@pytest.mark.parametrize(("content", "errors"), [
    (b"", {"file": ["is empty"]}),
    (b"order_ref,date,sku\nA,2026-01-01,RYE\n",
     {"columns": ["missing required columns: customer_email, quantity (the first row must "
                  "name the columns: order_ref, date, customer_email, sku, quantity, "
                  "unit_price, channel)"]}),
    (b"order_ref,email,customer_email,date,sku,qty\n",
     {"columns": ["'email' and 'customer_email' both mean customer_email; keep one"]}),
    (HEADER.encode() + b"\n\n", {"file": ["has no order rows below the header"]}),
    (b"PK\x03\x04\x14\x00\x06\x00", {"file": ["is an Excel workbook or a zip, not CSV; save "
                                               "it as CSV and upload that"]}),
    (b"\x00\x01\x02binary\x00", {"file": ["is not a CSV text file; save it as CSV and "
                                          "upload that"]}),
])
def test_unreadable_files_are_a_clear_error(owner, content, errors):
    with pytest.raises(ValidationFailed) as failure:
        import_csv(actor=owner, file=io.BytesIO(content))
    assert failure.value.errors == errors
    assert Event.objects.filter(kind__startswith="import.").count() == 0


def test_long_cells_and_extra_cells_are_row_errors(owner, bakery):
    report = import_csv(actor=owner, file=csv_file(
        HEADER + "A-1,2026-03-01,anna@example.com,RYE,1,,,surprise\n"
        + f"A-2,2026-03-01,anna@example.com,{'R' * 1001},1,,\n"))
    assert [(e.row, e.column, e.reason) for e in report.errors] == [
        (2, "row", "has 8 cells but the header names 7 columns (an unquoted ',' in a value?)"),
        (3, "sku", "is longer than 1000 characters"),
        (3, "sku", "no product has this SKU; add it to the catalogue first"),
    ]
    assert report.created == 0


def test_default_channel_is_an_option_of_the_import(owner, bakery):
    report = import_csv(actor=owner, default_channel="market", file=csv_file(
        HEADER + "A-1,2026-03-01,anna@example.com,RYE,1,,\n"
        + "A-2,2026-03-01,anna@example.com,RYE,1,,phone\n"))
    assert report.created == 2
    assert dict(Order.objects.values_list("external_ref", "channel")) == {
        "A-1": "market", "A-2": "phone"}
    with pytest.raises(ValidationFailed) as failure:
        import_csv(actor=owner, default_channel="pigeon", file=csv_file(HEADER))
    assert list(failure.value.errors) == ["default_channel"]


def test_an_order_too_big_for_one_record_is_refused_whole(owner, bakery):
    report = import_csv(actor=owner, file=csv_file(
        HEADER + "".join("BIG,2026-03-01,anna@example.com,RYE,1,,\n" for _ in range(501))
        + "OK-1,2026-03-01,anna@example.com,RYE,1,,\n"))
    assert (report.created, report.failed, report.error_count) == (1, 1, 501)
    assert report.errors[0] == Problem(row=2, column="order_ref", value="BIG",
                                       reason="order BIG has 501 lines; at most 500")
    assert report.errors[1].reason == "not imported because row 2 of order BIG has an error"
    assert list(Order.objects.values_list("external_ref", flat=True)) == ["OK-1"]


def test_empty_cells_say_what_is_missing(owner, bakery):
    report = import_csv(actor=owner, file=csv_file(HEADER + ",,,,,,online\n"))
    assert [(e.column, e.reason) for e in report.errors] == [
        ("order_ref", "is required (rows with the same order_ref form one order)"),
        ("date", "is required (YYYY-MM-DD or YYYY-MM-DD HH:MM)"),
        ("customer_email", "is required"),
        ("sku", "is required"),
        ("quantity", "must be a whole number"),
    ]
