"""Import jobs and their ledger, run in-process as a worker runs them.

A worker that died is played by its traces in the ledger (a batch claimed by a token nobody
holds, until a time not yet come), which is all a killed process leaves behind; the real kill
of a real worker process is in test_worker_end_to_end.py.
"""

import datetime as dt
import io
import threading
from decimal import Decimal

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from rapport.core.errors import NotFound, PermissionDenied, ValidationFailed
from rapport.core.events import verify_chain
from rapport.core.models import Event
from rapport.dataio import selectors, services
from rapport.dataio.models import BatchStatus, ImportBatch, ImportFile, ImportJob
from rapport.dataio.tests.adapters import register_notes, unregister_notes
from rapport.orders.models import Order, OrderLine
from rapport.orders.tests.factories import ProductFactory, make_contact

pytestmark = pytest.mark.django_db

HEADER = "order_ref,date,customer_email,sku,quantity\n"


@pytest.fixture
def shop(owner):
    make_contact(owner, first_name="Anna", email="anna@example.com")
    ProductFactory(sku="RYE", price=Decimal("4.50"))
    ProductFactory(sku="BUN", price=Decimal("2.25"))
    return owner


def orders_csv(orders: int, lines: int = 2) -> io.BytesIO:
    rows = "".join(f"R-{i:04d},2026-03-01,anna@example.com,{('RYE', 'BUN')[j % 2]},{j + 1}\n"
                   for i in range(orders) for j in range(lines))
    return io.BytesIO((HEADER + rows).encode())


def start(actor, file, **data):
    return services.import_start(actor=actor, file=file, data={"type": "orders", **data})


def stall(job, *numbers, until=None):
    """Leave these batches as a worker killed mid-batch leaves them: claimed, not done."""
    ImportBatch.objects.filter(job=job, number__in=numbers).update(
        claim="dead-worker", claimed_until=until or timezone.now() + dt.timedelta(hours=1),
        attempts=1)


def every_order_once(count: int, lines: int = 2) -> None:
    refs = list(Order.objects.values_list("external_ref", flat=True))
    assert sorted(refs) == [f"R-{i:04d}" for i in range(count)]
    assert OrderLine.objects.count() == count * lines
    assert Event.objects.filter(kind="order.placed").count() == count


def test_upload_checks_the_file_and_plans_batches_of_whole_orders(shop, settings):
    settings.RAPPORT_IMPORT_BATCH_ROWS = 50
    job = start(shop, orders_csv(60, lines=3), start=False)
    assert (job.status, job.rows, job.records, job.batches) == ("ready", 180, 60, 4)
    assert list(job.ledger.order_by("number").values_list(
        "first_record", "end_record", "rows", "status")) == [
        (0, 17, 51, "pending"), (17, 34, 51, "pending"), (34, 51, 51, "pending"),
        (51, 60, 27, "pending")]
    assert bytes(ImportFile.objects.get(job=job).content) == orders_csv(60, 3).getvalue()
    assert Order.objects.count() == 0  # the request writes no order
    assert list(Event.objects.filter(entity_type="import").values_list("kind", "actor_id")) == [
        ("import.started", shop.id)]


def test_a_worker_runs_the_job_to_the_end(shop, settings):
    settings.RAPPORT_IMPORT_BATCH_ROWS = 40
    job = start(shop, orders_csv(50))
    assert job.status == "queued"
    assert services.import_work(job_id=job.id) == (
        f"import {job.id}: 3 batches by this worker; finished")
    job.refresh_from_db()
    assert (job.status, job.rows_done, job.created, job.items_created, job.error_count) == (
        "done", 100, 50, 100, 0)
    assert job.started_at <= job.finished_at
    assert not ImportFile.objects.filter(job=job).exists()  # the file goes when it is done
    every_order_once(50)
    assert list(Event.objects.filter(entity_type="import").values_list("kind", flat=True)) == [
        "import.started", "import.queued", "import.finished"]
    assert Event.objects.get(kind="import.finished").after["created"] == 50
    assert verify_chain().ok
    assert services.import_work(job_id=job.id) == f"import {job.id}: nothing to do"


def test_a_killed_worker_leaves_its_batch_to_the_next_one_and_nothing_runs_twice(shop,
                                                                                   settings):
    settings.RAPPORT_IMPORT_BATCH_ROWS = 20
    job = start(shop, orders_csv(50))
    stall(job, 2, 4)  # two workers died mid-batch; their claims have not run out yet
    services.import_work(job_id=job.id)
    job.refresh_from_db()
    assert (job.status, job.rows_done, job.created) == ("running", 60, 30)
    assert selectors.import_progress(job).percent == 60
    assert services.imports_requeue_stalled() == []  # the job's lease has not run out
    # Time passes: the claims and the job's lease run out, the sweeper queues it again.
    past = timezone.now() - dt.timedelta(seconds=1)
    ImportBatch.objects.filter(job=job, claim="dead-worker").update(claimed_until=past)
    ImportJob.objects.filter(id=job.id).update(lease_until=past)
    assert services.imports_requeue_stalled() == [job.id]
    assert Event.objects.filter(kind="import.queued", entity_id=job.id, actor_id=None).exists()
    services.import_work(job_id=job.id)
    job.refresh_from_db()
    assert (job.status, job.rows_done, job.created, job.skipped_duplicates) == (
        "done", 100, 50, 0)
    assert list(job.ledger.order_by("number").values_list("attempts", flat=True)) == [
        1, 2, 1, 2, 1]
    every_order_once(50)


def test_a_batch_that_keeps_killing_its_workers_is_reported_and_the_rest_imported(shop,
                                                                                     settings):
    settings.RAPPORT_IMPORT_BATCH_ROWS = 20
    job = start(shop, orders_csv(30))
    stall(job, 2, until=timezone.now() - dt.timedelta(seconds=1))
    ImportBatch.objects.filter(job=job, number=2).update(attempts=3,
                                                          last_error="the worker stopped")
    services.import_work(job_id=job.id)
    job.refresh_from_db()
    assert (job.status, job.created, job.failed, job.error_count) == ("done", 20, 10, 20)
    assert job.ledger.get(number=2).status == BatchStatus.FAILED
    report = selectors.import_report(job)
    assert report.failed_batches == 1
    assert (report.errors[0].row, report.errors[0].column, report.errors[0].reason) == (
        22, "row", "not imported: importing rows 22–41 failed 3 times (the worker stopped)")
    assert Order.objects.filter(external_ref="R-0010").count() == 0
    assert Order.objects.count() == 20


def test_running_the_same_file_again_adds_nothing(shop):
    services.import_work(job_id=start(shop, orders_csv(10)).id)
    again = start(shop, orders_csv(10))
    services.import_work(job_id=again.id)
    again.refresh_from_db()
    assert (again.status, again.created, again.skipped_duplicates, again.failed) == (
        "done", 0, 10, 0)
    every_order_once(10)


def test_a_rerun_while_the_first_run_is_stalled_ends_with_every_order_once(shop, settings):
    settings.RAPPORT_IMPORT_BATCH_ROWS = 20
    first = start(shop, orders_csv(40))
    stall(first, 1, 3)
    services.import_work(job_id=first.id)  # half done; then the person uploads it again
    second = start(shop, orders_csv(40))
    services.import_work(job_id=second.id)
    ImportBatch.objects.filter(job=first, claim="dead-worker").update(
        claimed_until=timezone.now() - dt.timedelta(seconds=1))
    services.import_work(job_id=first.id)
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, first.created, first.skipped_duplicates) == ("done", 20, 20)
    assert (second.status, second.created, second.skipped_duplicates) == ("done", 20, 20)
    every_order_once(40)


def test_cancel_stops_before_the_next_batch_and_resume_goes_on(shop, settings):
    settings.RAPPORT_IMPORT_BATCH_ROWS = 20
    job = start(shop, orders_csv(30))
    stall(job, 2)
    services.import_work(job_id=job.id)  # batches 1 and 3 done, 2 held by a dead worker
    services.import_cancel(actor=shop, job_id=job.id)
    ImportBatch.objects.filter(job=job).update(claimed_until=None)
    assert services.import_work(job_id=job.id) == f"import {job.id}: nothing to do"
    job.refresh_from_db()
    assert (job.status, job.created) == ("cancelled", 20)
    assert Event.objects.filter(kind="import.cancelled", actor_id=shop.id).count() == 1
    with pytest.raises(ValidationFailed) as failure:
        services.import_cancel(actor=shop, job_id=job.id)
    assert list(failure.value.errors) == ["status"]
    services.import_resume(actor=shop, job_id=job.id)
    services.import_work(job_id=job.id)
    job.refresh_from_db()
    assert (job.status, job.created) == ("done", 30)
    every_order_once(30)
    with pytest.raises(ValidationFailed):
        services.import_resume(actor=shop, job_id=job.id)


def test_a_ready_job_waits_for_its_run(shop):
    job = start(shop, orders_csv(3), start=False)
    assert services.import_work(job_id=job.id) == f"import {job.id}: nothing to do"
    preview = selectors.import_preview(job)
    assert preview.columns == ["order_ref", "date", "customer_email", "sku", "quantity"]
    assert [(row.number, row.cells[0], row.problems) for row in preview.rows] == [
        (n, ("order_ref", f"R-000{(n - 2) // 2}"), []) for n in range(2, 8)]
    services.import_run(actor=shop, job_id=job.id)
    services.import_work(job_id=job.id)
    every_order_once(3)
    with pytest.raises(ValidationFailed):
        services.import_run(actor=shop, job_id=job.id)


def test_queueing_enqueues_the_task_only_once_the_transaction_commits(
        shop, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        job = start(shop, orders_csv(2))
        assert not DBTaskResult.objects.exists()
    task = DBTaskResult.objects.get()
    assert (task.task_path, task.args_kwargs) == (
        "rapport.dataio.tasks.run_import", {"args": [], "kwargs": {"job_id": job.id}})


def test_the_preview_shows_each_rows_problems(shop):
    job = start(shop, io.BytesIO((HEADER + "A-1,2026-03-01,anna@example.com,RYE,2\n"
                                  + "A-2,someday,nobody@example.com,RYE,0\n").encode()),
                start=False)
    rows = selectors.import_preview(job).rows
    assert rows[0].problems == []
    assert [(p.column, p.value, p.reason) for p in rows[1].problems] == [
        ("date", "someday", "'someday' is not a date; use YYYY-MM-DD or YYYY-MM-DD HH:MM"),
        ("quantity", "0", "must not be 0 (use a negative number for a return)"),
        ("customer_email", "nobody@example.com", "no contact has this email; add the "
                                                 "customer first (the import never creates "
                                                 "contacts)")]


def test_restricted_roles_see_and_change_only_their_own_jobs(sales_a, sales_a2, manager_a,
                                                              owner):
    make_contact(sales_a, first_name="Anna", email="anna@example.com")
    ProductFactory(sku="RYE")
    mine = start(sales_a, orders_csv(1, lines=1), start=False)
    assert selectors.import_get(user=sales_a, job_id=mine.id) == mine
    assert [job.id for job in selectors.import_list(user=sales_a2)] == []
    with pytest.raises(NotFound):
        selectors.import_get(user=sales_a2, job_id=mine.id)
    with pytest.raises(NotFound):
        services.import_cancel(actor=sales_a2, job_id=mine.id)
    assert [job.id for job in selectors.import_list(user=manager_a)] == [mine.id]  # team
    assert [job.id for job in selectors.import_list(user=owner)] == [mine.id]
    services.import_cancel(actor=manager_a, job_id=mine.id)


def test_a_job_imports_only_for_customers_its_owner_may_add_orders_to(sales_a, sales_a2):
    make_contact(sales_a, first_name="Anna", email="anna@example.com")
    ProductFactory(sku="RYE")
    job = start(sales_a2, orders_csv(1, lines=1))
    services.import_work(job_id=job.id)
    report = selectors.import_report(ImportJob.objects.get(id=job.id))
    assert [(e.row, e.reason) for e in report.errors] == [
        (2, "you may not add orders for this contact")]
    assert Order.objects.count() == 0


def test_a_job_whose_owner_left_stops_with_the_reason(shop):
    job = start(shop, orders_csv(1))
    type(shop).objects.filter(id=shop.id).update(is_active=False)
    assert "no longer active" in services.import_work(job_id=job.id)
    job.refresh_from_db()
    assert (job.status, job.error) == ("failed", "the user who started it is no longer active")
    assert Order.objects.count() == 0


def test_old_files_of_unfinished_jobs_are_removed(shop):
    ready = start(shop, orders_csv(1), start=False)
    fresh = start(shop, orders_csv(1), start=False)
    ImportJob.objects.filter(id=ready.id).update(
        created_at=timezone.now() - dt.timedelta(days=8))
    assert services.imports_remove_old_files() == 1
    assert list(ImportFile.objects.values_list("job_id", flat=True)) == [fresh.id]
    services.import_cancel(actor=shop, job_id=ready.id)
    with pytest.raises(ValidationFailed) as failure:
        services.import_resume(actor=shop, job_id=ready.id)
    assert failure.value.errors == {"status": ["the file of this import was removed; upload it "
                                               "again (what was imported is skipped)"]}


def test_bad_input_names_the_field_and_stores_nothing(shop):
    cases = [
        ({"type": "orders"}, None, {"file": ["choose a CSV file to upload"]}),
        ({"type": "pets"}, orders_csv(1), {"type": ["there is no 'pets' import; choose one of "
                                                    "leads, orders"]}),
        ({"type": "orders", "encoding": "klingon"}, orders_csv(1),
         {"encoding": ["unknown encoding 'klingon'"]}),
        ({"type": "orders", "options": {"default_channel": "pigeon"}}, orders_csv(1),
         {"default_channel": ["must be one of in_store, online, phone, wholesale, "
                              "market or other"]}),
        ({"type": "orders", "options": {"colour": "red"}}, orders_csv(1),
         {"colour": ["unknown field"]}),
    ]
    for data, file, errors in cases:
        with pytest.raises(ValidationFailed) as failure:
            services.import_start(actor=shop, data=data, file=file)
        assert failure.value.errors == errors
    assert not ImportJob.objects.exists()


def test_another_app_adds_an_import_type_without_touching_dataio(owner, sales_a):
    notes = register_notes()
    try:
        # orders and leads (the sales app's) are there already
        assert [a.type for a in selectors.import_types(user=owner)] == ["orders", "leads",
                                                                         "notes"]
        assert [a.type for a in selectors.import_types(user=sales_a)] == ["orders", "leads"]
        with pytest.raises(PermissionDenied):
            services.import_start(actor=sales_a, data={"type": "notes"},
                                  file=io.BytesIO(b"email,note\na@example.com,x\n"))
        job = services.import_start(actor=owner, file=io.BytesIO(
            b"email,note\na@example.com,likes rye\nb@nobody.example,hi\n"),
            data={"type": "notes", "options": {"prefix": "NB:"}})
        services.import_work(job_id=job.id)
        job.refresh_from_db()
        assert (job.status, job.records, job.created, job.failed) == ("done", 2, 1, 1)
        assert notes.written == [("a@example.com", "NB:likes rye")]
    finally:
        unregister_notes()


@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_share_the_batches_and_write_each_once(owner, settings):
    from django.db import connection, connections

    if connection.vendor != "postgresql":
        pytest.skip("the test database of SQLite is in memory, shared by threads through "
                    "table locks; real worker processes on SQLite: test_worker_end_to_end.py")
    settings.RAPPORT_IMPORT_BATCH_ROWS = 20
    make_contact(owner, first_name="Anna", email="anna@example.com")
    ProductFactory(sku="RYE")
    ProductFactory(sku="BUN")
    job = start(owner, orders_csv(200))
    results = []

    def worker():
        try:
            results.append(services.import_work(job_id=job.id))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    job.refresh_from_db()
    assert (job.status, job.created, job.skipped_duplicates, job.rows_done) == (
        "done", 200, 0, 400)
    assert sum(int(result.split(": ")[1].split()[0]) for result in results) == job.batches
    assert set(job.ledger.values_list("attempts", flat=True)) == {1}
    every_order_once(200)
