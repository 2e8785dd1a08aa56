"""Importing orders from a CSV file in the browser: upload, preview, progress bar, report, CSV.

The test plays the background worker in its own thread of control, with the real service
(``import_work``). To catch the bar half-way, one batch starts out held by "another worker"
(a claim in the ledger that has not run out), so the first run stops short of it, as it would
beside a busy colleague; letting that claim run out lets the next run finish the job.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from tests.browser.support import PHONE, login, shot

CSV = (
    "order_ref,date,customer_email,sku,quantity,unit_price,channel\n"
    "A-1,2026-03-01,anna@example.com,RYE,2,,online\n"
    "A-1,2026-03-01,anna@example.com,BUN,1,,online\n"
    "A-2,2026-03-02,bert@example.com,RYE,1,4.00,\n"
    "A-3,2026-03-02,nobody@example.com,RYE,1,,\n"
    "A-4,2026-03-03,anna@example.com,CAKE,1,,\n"
    "A-5,2026-03-03,anna@example.com,BUN,lots,,\n"
)


@pytest.fixture
def bakery(owner, settings):
    from rapport.contacts import services as contacts
    from rapport.orders.models import Product

    settings.RAPPORT_IMPORT_BATCH_ROWS = 2  # three batches of this little file
    contacts.contact_create(actor=owner, data={"first_name": "Anna", "last_name": "Baker",
                                               "emails": ["anna@example.com"]})
    contacts.contact_create(actor=owner, data={"first_name": "Bert", "last_name": "Miller",
                                               "emails": ["bert@example.com"]})
    Product.objects.create(name="Rye sourdough", sku="RYE", price=Decimal("4.50"))
    Product.objects.create(name="Cinnamon bun", sku="BUN", price=Decimal("2.25"))
    return owner


def _no_sideways_scroll(page, width: int) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    wide = page.evaluate("""(width) => [...document.querySelectorAll('main *')]
        .filter((el) => el.getBoundingClientRect().right > width + 1)
        .map((el) => el.tagName + '.' + el.className)""", width)
    assert wide == []


def _journey(page, server, device: str, width: int) -> None:
    from django.utils import timezone

    from rapport.dataio import services
    from rapport.dataio.models import ImportBatch, ImportJob
    from rapport.orders.models import Order

    login(page, server, "olivia@bakery.example.com")
    page.goto(f"{server}/orders/")
    page.get_by_role("link", name="Import orders").click()
    expect(page).to_have_url(f"{server}/orders/import/")
    upload = page.get_by_role("form", name="Upload")
    upload.get_by_label("CSV file").set_input_files(
        files=[{"name": "march.csv", "mimeType": "text/csv", "buffer": CSV.encode()}])
    upload.get_by_label("Channel for rows without one").select_option("in_store")
    _no_sideways_scroll(page, width)
    shot(page, f"import-upload-{device}")
    upload.get_by_role("button", name="Upload and preview").click()

    # Preview: every row checked, nothing imported yet.
    expect(page.locator("h1")).to_have_text("Orders import: march.csv")
    preview = page.locator("#preview table tbody tr")
    expect(preview).to_have_count(6)
    expect(preview.nth(0)).to_contain_text("OK")
    expect(preview.nth(3)).to_contain_text("customer_email: no contact has this email")
    expect(preview.nth(5)).to_contain_text("quantity: 'lots' is not a whole number")
    _no_sideways_scroll(page, width)
    shot(page, f"import-preview-{device}")
    assert Order.objects.count() == 0
    page.get_by_role("button", name="Import 6 rows").click()
    expect(page.locator(".messages")).to_contain_text("Importing in the background")
    expect(page.locator("#progress h2")).to_have_text("Waiting for a worker…")

    # A worker takes the job; the last batch is held by another worker for now.
    job = ImportJob.objects.get()
    ImportBatch.objects.filter(job=job, number=3).update(
        claim="another-worker", claimed_until=timezone.now() + dt.timedelta(hours=1))
    services.import_work(job_id=job.id)
    bar = page.get_by_role("progressbar", name="Progress")
    expect(bar).to_have_attribute("value", "66")  # polled, no reload
    expect(page.locator("#progress")).to_contain_text("66%: 4 of 6 rows")
    page.reload()  # the bar is where the job is, whenever the page is loaded
    expect(bar).to_have_attribute("value", "66")
    _no_sideways_scroll(page, width)
    shot(page, f"import-progress-{device}")

    ImportBatch.objects.filter(job=job, number=3).update(
        claimed_until=timezone.now() - dt.timedelta(seconds=1))
    services.import_work(job_id=job.id)
    report = page.locator("#progress")
    expect(report.locator("h2")).to_have_text("Import result")  # polled again
    expect(report.locator(".stat")).to_have_text([
        re.compile(r"^\s*2\s*orders imported"), re.compile(r"^\s*3\s*rows imported"),
        re.compile(r"^\s*0\s*already imported"), re.compile(r"^\s*3\s*orders with errors")])
    problems = report.locator("table.problems tbody tr")
    expect(problems).to_have_count(3)
    expect(problems.nth(0)).to_contain_text("customer_email")
    expect(problems.nth(2)).to_contain_text("'lots' is not a whole number")
    _no_sideways_scroll(page, width)
    shot(page, f"import-report-{device}")
    assert sorted(Order.objects.values_list("external_ref", flat=True)) == ["A-1", "A-2"]

    with page.expect_download() as download:
        report.get_by_role("link", name="Download all problems (CSV)").click()
    assert download.value.suggested_filename == f"import-{job.id}-problems.csv"
    with open(download.value.path(), encoding="utf-8") as file:
        assert file.read().splitlines() == [
            "row,column,value,problem",
            "5,customer_email,nobody@example.com,no contact has this email; add the customer "
            "first (the import never creates contacts)",
            "6,sku,CAKE,no product has this SKU; add it to the catalogue first",
            "7,quantity,lots,'lots' is not a whole number",
        ]


def test_import_orders_on_a_desktop(page, server, bakery):
    _journey(page, server, "desktop", page.viewport_size["width"])


def test_import_orders_on_a_phone(phone, server, bakery):
    _journey(phone, server, "phone", PHONE["width"])
