"""/api/v1/imports: upload (202 with the job), progress and report, the problems CSV, 422s."""

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from rapport.dataio import services
from rapport.dataio.pipeline import MAX_IMPORT_BYTES
from rapport.orders.models import Order
from rapport.orders.tests.factories import ProductFactory, make_contact

pytestmark = pytest.mark.django_db

HEADER = "order_ref,date,customer_email,sku,quantity,unit_price,channel\n"


def upload(api, content, path="/api/v1/orders/import", **form):
    data = content if isinstance(content, bytes) else content.encode()
    csv = SimpleUploadedFile("orders.csv", data, content_type="text/csv")
    return api.client.post(path, {"file": csv, **form}, headers=api.headers)


@pytest.fixture
def shop(owner):
    make_contact(owner, email="anna@example.com")
    ProductFactory(sku="RYE", price=Decimal("4.50"))
    return owner


def test_orders_import_answers_202_with_the_job_and_the_report_follows(api_as, shop):
    api = api_as(shop)
    text = (HEADER + "A-1,2026-03-01,anna@example.com,RYE,2,,\n"
            + "A-1,2026-03-01,anna@example.com,RYE,1,,\n"
            + "A-2,2026-03-01,nobody@example.com,RYE,1,,\n")
    response = upload(api, text)
    assert response.status_code == 202
    job = response.json()
    assert (job["type"], job["status"], job["file_name"], job["owner_id"]) == (
        "orders", "queued", "orders.csv", shop.id)
    assert job["progress"] == {"rows": 3, "rows_done": 0, "percent": 0, "finished": False}
    assert Order.objects.count() == 0  # nothing is imported in the request
    services.import_work(job_id=job["id"])  # what the worker does
    done = api.get(f"/imports/{job['id']}").json()
    assert (done["status"], done["progress"]) == (
        "done", {"rows": 3, "rows_done": 3, "percent": 100, "finished": True})
    assert done["report"] == {
        "encoding": "utf-8", "delimiter": ",", "rows": 3, "blank_rows": 0, "records": 2,
        "created": 1, "items_created": 2, "skipped_duplicates": 0, "failed": 1,
        "error_count": 1, "errors_truncated": False, "ignored_columns": [], "dry_run": False,
        "errors": [{"row": 4, "column": "customer_email", "value": "nobody@example.com",
                    "reason": "no contact has this email; add the customer first (the import "
                              "never creates contacts)"}],
    }
    again = upload(api, text).json()
    services.import_work(job_id=again["id"])
    report = api.get(f"/imports/{again['id']}").json()["report"]
    assert (report["created"], report["skipped_duplicates"]) == (0, 1)
    dry = upload(api, HEADER + "B-1,2026-03-01,anna@example.com,RYE,1,,\n", dry_run="true")
    services.import_work(job_id=dry.json()["id"])
    report = api.get(f"/imports/{dry.json()['id']}").json()["report"]
    assert (report["dry_run"], report["created"]) == (True, 1)
    assert Order.objects.count() == 1
    listed = api.get("/imports").json()["items"]
    assert [(item["id"], item["status"]) for item in listed] == [
        (dry.json()["id"], "done"), (again["id"], "done"), (job["id"], "done")]


def test_imports_endpoint_takes_the_type_options_preview_and_run(api_as, shop):
    api = api_as(shop)
    response = upload(api, HEADER + "A-1,2026-03-01,anna@example.com,RYE,1,,\n"
                      + "A-2,2026-03-01,anna@example.com,CAKE,1,,\n",
                      path="/api/v1/imports", type="orders", start="false",
                      default_channel="market")
    assert response.status_code == 202
    job = response.json()
    assert (job["status"], job["options"]) == ("ready", {"default_channel": "market"})
    assert job["preview"]["columns"] == ["order_ref", "date", "customer_email", "sku",
                                         "quantity", "unit_price", "channel"]
    assert [(row["row"], row["problems"]) for row in job["preview"]["rows"]] == [
        (2, []), (3, [{"row": 3, "column": "sku", "value": "CAKE",
                       "reason": "no product has this SKU; add it to the catalogue first"}])]
    run = api.post(f"/imports/{job['id']}/run")
    assert (run.status_code, run.json()["status"], run.json()["preview"]) == (
        202, "queued", None)
    services.import_work(job_id=job["id"])
    assert Order.objects.get().channel == "market"
    csv = api.client.get(f"/api/v1/imports/{job['id']}/errors.csv", headers=api.headers)
    assert csv["Content-Type"] == "text/csv; charset=utf-8"
    assert b"".join(csv.streaming_content).decode() == (
        "row,column,value,problem\r\n"
        "3,sku,CAKE,no product has this SKU; add it to the catalogue first\r\n")


def test_cancel_and_resume(api_as, shop):
    api = api_as(shop)
    job = upload(api, HEADER + "A-1,2026-03-01,anna@example.com,RYE,1,,\n").json()
    cancelled = api.post(f"/imports/{job['id']}/cancel")
    assert (cancelled.status_code, cancelled.json()["status"]) == (200, "cancelled")
    assert api.post(f"/imports/{job['id']}/cancel").status_code == 422
    resumed = api.post(f"/imports/{job['id']}/resume")
    assert (resumed.status_code, resumed.json()["status"]) == (202, "queued")


def test_bad_input_is_422_naming_the_field(api_as, shop):
    api = api_as(shop)
    cases = [
        (upload(api, "name,email\nAnna,anna@example.com\n"), ["columns"]),
        (api.client.post("/api/v1/orders/import", {}, headers=api.headers), ["file"]),
        (upload(api, HEADER, default_channel="pigeon"), ["default_channel"]),
        (upload(api, HEADER, colour="red"), ["colour"]),
        (upload(api, HEADER + "A,2026-01-01,a@b.c,RYE,1,,\n", encoding="base64"),
         ["encoding"]),
        (upload(api, "é".encode("latin-1"), encoding="utf-8"), ["encoding"]),
        (upload(api, HEADER, path="/api/v1/imports", type="pets"), ["type"]),
        (upload(api, b"x" * (MAX_IMPORT_BYTES + 1)), ["file"]),
    ]
    for response, fields in cases:
        assert response.status_code == 422, response.content
        assert list(response.json()["errors"]) == fields
    assert api.client.post("/api/v1/imports", {}, headers=api.headers).json()["errors"] == {
        "type": ["is required"]}
    assert api.get("/imports").json() == {"items": []}


def test_other_peoples_jobs_are_not_found(api_as, sales_a, sales_a2, sales_b, manager_a):
    make_contact(sales_a, email="anna@example.com")
    ProductFactory(sku="RYE")
    job = upload(api_as(sales_a), HEADER + "A-1,2026-03-01,anna@example.com,RYE,1,,\n").json()
    for stranger in (sales_a2, sales_b):
        api = api_as(stranger)
        assert api.get(f"/imports/{job['id']}").status_code == 404
        assert api.post(f"/imports/{job['id']}/cancel").status_code == 404
        assert api.client.get(f"/api/v1/imports/{job['id']}/errors.csv",
                              headers=api.headers).status_code == 404
        assert api.get("/imports").json() == {"items": []}
    assert api_as(manager_a).get(f"/imports/{job['id']}").status_code == 200


def test_imports_need_a_token():
    client = Client()
    assert client.get("/api/v1/imports").status_code == 401
    assert client.post("/api/v1/orders/import").status_code == 401
