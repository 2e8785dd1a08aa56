"""Import pages: upload, preview, run, progress (polled), report and the problems CSV."""

import re
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from rapport.dataio import services
from rapport.dataio.models import ImportBatch, ImportJob
from rapport.orders.models import Order
from rapport.orders.tests.factories import ProductFactory, make_contact

pytestmark = pytest.mark.django_db

HEADER = "order_ref,date,customer_email,sku,quantity,unit_price,channel\n"


def text_of(response) -> str:
    return response.content.decode()


def post_csv(client, content: bytes, **form):
    return client.post("/orders/import/", {
        "file": SimpleUploadedFile("orders.csv", content, content_type="text/csv"), **form})


def selected(page: str, name: str) -> str:
    select = re.search(rf'<select name="{name}".*?</select>', page, re.S)[0]
    match = re.search(r'<option value="([^"]*)" selected', select)
    return match[1] if match else ""


def upload_and_run(client, content: bytes, **form) -> ImportJob:
    response = post_csv(client, content, **form)
    assert response.status_code == 302, text_of(response)
    job = ImportJob.objects.latest("id")
    assert response["Location"] == f"/imports/{job.id}/"
    assert client.post(f"/imports/{job.id}/run/").status_code == 302
    services.import_work(job_id=job.id)  # what the worker does
    return job


def test_upload_preview_run_and_report(web_as, owner):
    make_contact(owner, first_name="Anna", email="anna@example.com")
    ProductFactory(sku="RYE", price=Decimal("4.50"))
    client = web_as(owner)
    page = text_of(client.get("/orders/import/"))
    assert "Import orders" in page and 'name="default_channel"' in page
    response = post_csv(client, (HEADER + "A-1,2026-03-01,anna@example.com,RYE,2,,\n"
                                 + "A-2,2026-03-01,anna@example.com,RYE,lots,,\n").encode())
    job = ImportJob.objects.get()
    preview = text_of(client.get(response["Location"]))
    assert "The first 2 rows, checked" in preview
    assert '<span class="ok">OK</span>' in preview
    assert ("<span class=\"error\">quantity: &#x27;lots&#x27; is not a whole number</span>"
            in preview)
    assert "Import 2 rows</button>" in preview
    assert Order.objects.count() == 0
    client.post(f"/imports/{job.id}/run/")
    waiting = text_of(client.get(f"/imports/{job.id}/"))
    assert f'hx-get="/imports/{job.id}/progress/" hx-trigger="every 1s"' in waiting
    assert 'value="0"' in waiting and "Waiting for a worker" in waiting
    services.import_work(job_id=job.id)
    polled = text_of(client.get(f"/imports/{job.id}/progress/"))
    assert "hx-trigger" not in polled  # done: the report replaces the bar and polling stops
    page = text_of(client.get(f"/imports/{job.id}/"))
    assert "<b>1</b>orders imported" in page
    assert "<b>1</b>orders with errors" in page
    assert ('<td data-label="Row">3</td><td data-label="Column">quantity</td>'
            '<td data-label="Value"><code>lots</code></td>'
            '<td data-label="Problem" class="wide">&#x27;lots&#x27; is not a whole number'
            '</td>') in page
    assert f'href="/imports/{job.id}/problems.csv"' in page
    download = client.get(f"/imports/{job.id}/problems.csv")
    assert download["Content-Disposition"] == (
        f'attachment; filename="import-{job.id}-problems.csv"')
    assert b"".join(download.streaming_content).decode() == (
        "row,column,value,problem\r\n3,quantity,lots,'lots' is not a whole number\r\n")
    assert Order.objects.count() == 1
    again = upload_and_run(client, (HEADER + "A-1,2026-03-01,anna@example.com,RYE,2,,\n")
                           .encode())
    assert "<b>1</b>already imported (skipped)" in text_of(client.get(f"/imports/{again.id}/"))
    assert Order.objects.count() == 1


def test_the_bar_shows_how_far_a_running_job_is(web_as, owner, settings):
    settings.RAPPORT_IMPORT_BATCH_ROWS = 2
    make_contact(owner, first_name="Anna", email="anna@example.com")
    ProductFactory(sku="RYE")
    client = web_as(owner)
    post_csv(client, (HEADER + "".join(f"A-{i},2026-03-01,anna@example.com,RYE,1,,\n"
                                       for i in range(4))).encode())
    job = ImportJob.objects.get()
    client.post(f"/imports/{job.id}/run/")
    ImportBatch.objects.filter(job=job, number=2).update(claim="another-worker",
                                                         claimed_until="2999-01-01T00:00Z")
    services.import_work(job_id=job.id)
    polled = text_of(client.get(f"/imports/{job.id}/progress/"))
    assert 'hx-trigger="every 1s"' in polled
    assert '<progress class="bar" max="100" value="50"' in polled
    assert "<b>50%</b>: 2 of 4 rows" in polled


def test_latin1_dry_run_and_the_default_channel(web_as, owner):
    make_contact(owner, first_name="Zoë", email="zoe@example.com")
    ProductFactory(sku="TARTE", price=Decimal("12.00"))
    client = web_as(owner)
    content = ("order_ref;date;email;sku;qty;note\n"
               "CRÈME-1;2026-03-01;zoe@example.com;TARTE;1;tarte à la crème brûlée\n"
               ).encode("latin-1")
    checked = upload_and_run(client, content, dry_run="on", default_channel="market")
    page = text_of(client.get(f"/imports/{checked.id}/"))
    assert "Check result: nothing was imported" in page
    assert "<b>1</b>orders to import" in page
    assert "read as cp1252" in page and "Columns not used: note." in page
    assert Order.objects.count() == 0
    upload_and_run(client, content, default_channel="market")
    order = Order.objects.get()
    assert (order.external_ref, order.channel) == ("CRÈME-1", "market")


def test_an_unusable_file_is_shown_inline_and_nothing_is_stored(web_as, owner):
    client = web_as(owner)
    response = post_csv(client, b"name,email\nAnna,anna@example.com\n", encoding="cp1252")
    assert response.status_code == 422
    page = text_of(response)
    assert "The file was not imported; nothing changed." in page
    assert "missing required columns: order_ref, date, sku, quantity" in page
    assert selected(page, "encoding") == "cp1252"
    response = client.post("/orders/import/", {"default_channel": "phone"})
    assert response.status_code == 422
    assert "choose a CSV file to upload" in text_of(response)
    assert selected(text_of(response), "default_channel") == "phone"
    assert not ImportJob.objects.exists()
    assert client.get("/pets/import/").status_code == 404


def test_people_see_only_the_jobs_they_may(web_as, sales_a, sales_b, owner):
    make_contact(sales_a, first_name="Anna", email="anna@example.com")
    ProductFactory(sku="RYE")
    post_csv(web_as(sales_a), (HEADER + "A-1,2026-03-01,anna@example.com,RYE,1,,\n").encode())
    job = ImportJob.objects.get()
    assert f'href="/imports/{job.id}/"' in text_of(web_as(sales_a).get("/imports/"))
    stranger = web_as(sales_b)
    assert f'href="/imports/{job.id}/"' not in text_of(stranger.get("/imports/"))
    for url in (f"/imports/{job.id}/", f"/imports/{job.id}/progress/",
                f"/imports/{job.id}/problems.csv"):
        assert stranger.get(url).status_code == 404
    assert stranger.post(f"/imports/{job.id}/cancel/").status_code == 404
    assert f'href="/imports/{job.id}/"' in text_of(web_as(owner).get("/imports/"))
