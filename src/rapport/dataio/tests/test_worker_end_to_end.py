"""Imports in real worker processes: end to end, and a worker SIGKILLed mid-import.

Each test has its own SQLite database under a temporary RAPPORT_HOME (as
core/tests/test_tasks_end_to_end.py does), fills it and uploads through ``rapport shell``,
and runs ``rapport worker`` (and ``rapport scheduler``) as separate processes.
"""

import os
import pathlib
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from rapport.core.tests.processes import home_env, rapport, shell

SETUP = """
from decimal import Decimal
from rapport.accounts.services import user_create
from rapport.contacts.services import contact_create
from rapport.orders.services import product_create
owner = user_create(email="olivia@bakery.example.com", role="owner", password="pw-for-tests-1")
for i in range({customers}):
    contact_create(actor=owner, data={{"first_name": f"C{{i}}", "emails": [f"c{{i}}@x.example"]}})
for i in range(10):
    product_create(actor=owner, data={{"name": f"Loaf {{i}}", "sku": f"L{{i}}", "price": "4.50"}})
"""
UPLOAD = """
import io, pathlib
from rapport.accounts.models import User
from rapport.dataio.services import import_start
job = import_start(actor=User.objects.get(), data={{"type": "orders"}},
                   file=io.BytesIO(pathlib.Path({path!r}).read_bytes()))
print(job.id)
"""


def _csv(path: pathlib.Path, orders: int, customers: int, lines: int = 3) -> int:
    rows = ["order_ref,date,customer_email,sku,quantity"]
    rows += [f"W-{i:05d},2026-02-{i % 28 + 1:02d},c{i % customers}@x.example,L{j},{j + 1}"
             for i in range(orders) for j in range(lines)]
    path.write_text("\n".join(rows) + "\n")
    return orders * lines


@pytest.fixture
def home(tmp_path: pathlib.Path):
    return home_env(tmp_path)


class Database:
    """The test's look into the workers' SQLite file (read only, beside them)."""

    def __init__(self, env):
        self.path = pathlib.Path(env["RAPPORT_HOME"]) / "var" / "rapport.sqlite3"

    def one(self, sql):
        with sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=30) as db:
            return db.execute(sql).fetchone()


def test_an_uploaded_file_is_imported_by_a_worker(home, tmp_path):
    shell(SETUP.format(customers=5), home)
    rows = _csv(tmp_path / "orders.csv", orders=40, customers=5)
    job_id = shell(UPLOAD.format(path=str(tmp_path / "orders.csv")), home)[-1]
    db = Database(home)
    assert db.one("SELECT status, rows FROM dataio_importjob") == ("queued", rows)
    assert db.one("SELECT task_path, status FROM django_tasks_database_dbtaskresult") == (
        "rapport.dataio.tasks.run_import", "READY")
    rapport(["worker", "--burst"], home)
    assert db.one("SELECT status, rows_done, created FROM dataio_importjob") == (
        "done", rows, 40)
    assert db.one("SELECT count(*) FROM orders_order") == (40,)
    assert db.one("SELECT status, return_value FROM django_tasks_database_dbtaskresult") == (
        "SUCCESSFUL", f'"import {job_id}: 1 batches by this worker; finished"')


def test_a_worker_killed_mid_import_is_replaced_and_every_row_lands_once(home, tmp_path):
    env = {**home, "RAPPORT_IMPORT_BATCH_ROWS": "300", "RAPPORT_IMPORT_CLAIM_SECONDS": "2"}
    shell(SETUP.format(customers=50), env)
    rows = _csv(tmp_path / "orders.csv", orders=6000, customers=50)
    shell(UPLOAD.format(path=str(tmp_path / "orders.csv")), env)
    db = Database(env)
    batches = db.one("SELECT batches FROM dataio_importjob")[0]
    assert batches == 60
    worker = subprocess.Popen([sys.executable, "-m", "rapport.cli", "worker"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 240
        while db.one("SELECT count(*) FROM dataio_importbatch WHERE status = 'done'")[0] < 10:
            assert worker.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=30)
    done = db.one("SELECT count(*) FROM dataio_importbatch WHERE status = 'done'")[0]
    assert 10 <= done < batches
    status, created, rows_done = db.one("SELECT status, created, rows_done FROM "
                                        "dataio_importjob")
    assert status == "running" and 0 < created < 6000
    # What the ledger says is done is exactly what is in the tables: the batch being written
    # when the worker died rolled back whole.
    assert db.one("SELECT count(*) FROM orders_order") == (created,)
    assert db.one("SELECT count(*) FROM orders_orderline") == (rows_done,)
    # The task backend's own record of the task stays RUNNING for ever (django-tasks #46).
    assert db.one("SELECT status FROM django_tasks_database_dbtaskresult") == ("RUNNING",)

    time.sleep(2.5)  # the dead worker's claim and the job's lease run out
    rapport(["scheduler", "--once"], env)  # the periodic sweeper is due
    rapport(["worker", "--burst"], env)  # it queues the job again and works it off
    assert db.one("SELECT status, created, rows_done, skipped_duplicates, failed "
                  "FROM dataio_importjob") == ("done", 6000, rows, 0, 0)
    assert db.one("SELECT count(*), count(DISTINCT external_ref) FROM orders_order") == (
        6000, 6000)
    assert db.one("SELECT count(*) FROM orders_orderline") == (rows,)
    assert db.one("SELECT count(*) FROM core_event WHERE kind = 'order.placed'") == (6000,)
    # The batch in hand when the worker died (if it died inside one, not between two) was
    # claimed again: at most one batch took a second attempt, none a third.
    assert db.one("SELECT max(attempts) <= 2, sum(attempts = 2) <= 1 FROM "
                  "dataio_importbatch") == (1, 1)
    assert rapport(["audit", "verify"], env).stdout.strip().startswith("OK")


def test_the_import_runs_on_rq_workers_too(home, tmp_path):
    redis_url = os.environ.get("RAPPORT_TEST_REDIS_URL")
    if not redis_url:
        pytest.skip("set RAPPORT_TEST_REDIS_URL (e.g. redis://127.0.0.1:6379/15) to run on RQ")
    import redis

    redis.Redis.from_url(redis_url).flushdb()
    env = {**home, "REDIS_URL": redis_url}
    shell(SETUP.format(customers=5), env)
    rows = _csv(tmp_path / "orders.csv", orders=40, customers=5)
    shell(UPLOAD.format(path=str(tmp_path / "orders.csv")), env)
    rapport(["worker", "--burst"], env)
    assert Database(env).one("SELECT status, rows_done FROM dataio_importjob") == ("done", rows)
