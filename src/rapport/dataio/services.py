"""Import jobs: start, run, cancel and resume them, and the worker's loop over the ledger.

A request only checks the file (it must be readable CSV with the columns the type needs) and
stores it with a job; the rows are checked and written by a background worker
(:func:`import_work`, run by ``tasks.run_import``), batch by batch:

- **Plan.** The upload groups the file's rows into records and cuts them into batches of
  whole records (``pipeline.plan_batches``), one ledger row each (``ImportBatch``). A worker
  reads the stored file again and groups it the same way, so batch N is the same records
  for every worker.
- **Claim.** A worker takes the first pending batch whose claim is free or has run out
  (``claimed_until``), counting an attempt, and renews the job's lease with it.
- **Write.** It checks the batch's rows outside any transaction, then in one transaction
  makes sure it still holds the claim, writes the good records through the app's bulk
  service, stores the problems, marks the batch done and adds its counts to the job. A batch
  is therefore written completely or not at all, and never twice.
- **Crash.** A worker killed mid-batch leaves that transaction rolled back, its batch pending
  and the job's lease running out. The sweeper (``tasks.resume_stalled_imports``, every
  minute) queues the job again; the next worker claims what is left. A batch that has taken
  its workers down ``MAX_ATTEMPTS`` times is given up and its rows reported, so one bad batch
  cannot stop a job.

Queueing records an ``import.queued`` event; the app's subscriber enqueues the task after the
commit (``rapport_app.py``), so nothing is queued for a transaction that rolled back.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from rapport.core.bulk import insert_rows
from rapport.core.errors import PermissionDenied, ValidationFailed
from rapport.core.events import record_events
from rapport.core.inputs import parse
from rapport.core.permissions import get_for
from rapport.dataio import events, selectors
from rapport.dataio.inputs import ImportStartInput
from rapport.dataio.models import (
    BatchStatus,
    ImportBatch,
    ImportFile,
    ImportJob,
    ImportProblem,
    JobStatus,
)
from rapport.dataio.pipeline import (
    ImportAdapter,
    Problem,
    Record,
    check_batch,
    gc_paused,
    group,
    plan_batches,
    read_table,
    read_upload,
)

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
QUEUE_GRACE = dt.timedelta(minutes=10)  # a queued job's lease: time for a worker to start it
KEEP_FILES = dt.timedelta(days=7)  # files of jobs that never finish are removed after this


def batch_rows(rows: int) -> int:
    """Rows per batch: about 20 batches a file, so the bar moves, between 500 rows (each
    batch costs a few queries and two commits) and ``RAPPORT_IMPORT_BATCH_ROWS`` (a batch
    holds SQLite's write lock while it writes: ~0.3 s for 5,000 rows)."""
    limit = settings.RAPPORT_IMPORT_BATCH_ROWS
    return max(min(limit, 500), min(limit, rows // 20))


def claim_time() -> dt.timedelta:
    """How long a worker holds a batch (and the job) before another may take it over."""
    return dt.timedelta(seconds=settings.RAPPORT_IMPORT_CLAIM_SECONDS)


def _snapshot(job: ImportJob) -> dict[str, Any]:
    return {"type": job.type, "file_name": job.file_name, "rows": job.rows,
            "dry_run": job.dry_run, "options": job.options}


def _queue(job: ImportJob, actor_id: int | None) -> None:
    """Mark the job queued and record ``import.queued`` (whose subscriber enqueues the task
    after the commit). The lease gives a worker time to start it before the sweeper does."""
    job.status = JobStatus.QUEUED if job.status != JobStatus.RUNNING else job.status
    job.lease_until = timezone.now() + max(QUEUE_GRACE, claim_time())
    job.save(update_fields=["status", "lease_until"])
    record_events([events.import_queued(job_id=job.id, actor_id=actor_id)])


def import_start(*, actor: Any, data: ImportStartInput | Mapping[str, Any],
                 file: Any) -> ImportJob:
    """Check an uploaded file and keep it with a new job, planned into batches; queue it
    unless ``start`` is False.

    What makes the whole file unusable is a ValidationFailed naming the field (``type``,
    ``file``, ``encoding``, ``columns`` or an option of the type) and stores nothing; what is
    wrong with single rows is the job's report. The file is read before the transaction
    begins, so a large one does not hold SQLite's write lock while it is parsed.
    """
    fields = parse(ImportStartInput, data)
    adapter = selectors.adapter_for(fields.type)
    if not selectors.may_import(actor, adapter):
        raise PermissionDenied(f"you may not import {adapter.label.lower()}")
    options: Any = parse(adapter.options, fields.options)
    content = read_upload(file)
    with gc_paused():
        table = read_table(content, adapter, encoding=fields.encoding)
        records = group(table.rows, adapter)
    with transaction.atomic():
        job = ImportJob.objects.create(
            type=adapter.type, owner=actor,
            file_name=str(getattr(file, "name", "") or "")[:255], file_size=len(content),
            options=options.model_dump(mode="json"), dry_run=fields.dry_run,
            encoding=table.encoding, delimiter=table.delimiter, headers=table.headers,
            ignored_columns=table.ignored_columns, rows=len(table.rows),
            blank_rows=table.blank_rows)
        ImportFile.objects.create(job=job, content=content)
        _plan(job, records)
        record_events([events.import_started(job_id=job.id, actor_id=actor.id,
                                             snapshot=_snapshot(job))])
        if fields.start:
            _queue(job, actor.id)
    return job


def _job_for(actor: Any, job_id: int) -> ImportJob:
    return get_for(actor, "change", ImportJob.objects.all(), job_id, noun="import")


@transaction.atomic
def import_run(*, actor: Any, job_id: int) -> ImportJob:
    """Run a job that waits for its go (uploaded with ``start`` False, e.g. after a preview)."""
    job = _job_for(actor, job_id)
    if job.status != JobStatus.READY:
        raise ValidationFailed({"status": f"the import is {job.get_status_display().lower()}; "
                                          "only one that is ready can be run"})
    _queue(job, actor.id)
    return job


@transaction.atomic
def import_resume(*, actor: Any, job_id: int) -> ImportJob:
    """Go on with a cancelled or failed job: the batches not done yet are imported."""
    job = _job_for(actor, job_id)
    if job.status not in (JobStatus.CANCELLED, JobStatus.FAILED):
        raise ValidationFailed({"status": f"the import is {job.get_status_display().lower()}; "
                                          "only a cancelled or stopped one can be resumed"})
    if not ImportFile.objects.filter(job=job).exists():
        raise ValidationFailed({"status": "the file of this import was removed; upload it "
                                          "again (what was imported is skipped)"})
    job.error = ""
    job.save(update_fields=["error"])
    _queue(job, actor.id)
    return job


@transaction.atomic
def import_cancel(*, actor: Any, job_id: int) -> ImportJob:
    """Stop a job: a worker finishes the batch it is writing and takes no other. What was
    imported stays imported; a cancelled job can be resumed."""
    job = _job_for(actor, job_id)
    if job.status not in (JobStatus.READY, JobStatus.QUEUED, JobStatus.RUNNING):
        raise ValidationFailed({"status": f"the import is {job.get_status_display().lower()}; "
                                          "there is nothing to cancel"})
    job.status = JobStatus.CANCELLED
    job.lease_until = None
    job.save(update_fields=["status", "lease_until"])
    record_events([events.import_cancelled(job_id=job.id, actor_id=actor.id)])
    return job


# --- the worker ----------------------------------------------------------------------------------

def import_work(*, job_id: int) -> str:
    """Work on a job until no batch is left to claim; says what happened (the task's result).

    Safe to run any number of times, at once in several workers: each batch is claimed by
    one worker at a time and written once. A job that is not queued or running is left
    alone.
    """
    job = ImportJob.objects.select_related("owner").filter(id=job_id).first()
    if job is None or job.status not in (JobStatus.QUEUED, JobStatus.RUNNING):
        return f"import {job_id}: nothing to do"
    adapter = selectors.import_adapters().get(job.type)
    if adapter is None:
        return _fail(job, f"there is no {job.type!r} import any more")
    if not job.owner.is_active:
        return _fail(job, "the user who started it is no longer active")
    content = ImportFile.objects.filter(job=job).values_list("content", flat=True).first()
    if content is None:
        return _fail(job, "its file was removed")
    _begin(job)
    try:
        with gc_paused():
            return _work(job, adapter, bytes(content))
    except Exception as error:
        # Not a crash (the sweeper handles those) but an error outside any one batch: stop
        # the job with the reason rather than let the sweeper start it again every minute.
        _fail(job, f"stopped by an error: {type(error).__name__}: {error}")
        raise


def _work(job: ImportJob, adapter: ImportAdapter, content: bytes) -> str:
    """Read the job's file as the upload did, then claim and write batches until none is
    left to this worker."""
    try:
        table = read_table(content, adapter, encoding=job.encoding)
    except ValidationFailed as failure:  # it was readable at upload; the code has changed
        return _fail(job, str(failure))
    records = group(table.rows, adapter)
    if sum(1 for record in records if not record.stray) != job.records:
        return _fail(job, "the file reads differently than when it was uploaded")
    options = parse(adapter.options, job.options)
    token = uuid.uuid4().hex
    memo: dict[str, Any] = {}
    done = 0
    while _still_wanted(job):
        batch = _claim(job, token)
        if batch is None:
            break
        if batch.attempts > MAX_ATTEMPTS:
            _give_up(job, batch, token, records[batch.first_record:batch.end_record])
            continue
        done += _run_batch(job, batch, token, adapter, options,
                           records[batch.first_record:batch.end_record], memo)
    return f"import {job.id}: {done} batches by this worker; {_finish(job)}"


def _begin(job: ImportJob) -> None:
    now = timezone.now()
    ImportJob.objects.filter(id=job.id, status=JobStatus.QUEUED).update(
        status=JobStatus.RUNNING, started_at=now, lease_until=now + claim_time())
    ImportJob.objects.filter(id=job.id, started_at__isnull=True).update(started_at=now)


def _fail(job: ImportJob, reason: str) -> str:
    ImportJob.objects.filter(id=job.id, status__in=(JobStatus.QUEUED, JobStatus.RUNNING)).update(
        status=JobStatus.FAILED, error=reason[:2000], lease_until=None)
    return f"import {job.id} stopped: {reason}"


def _plan(job: ImportJob, records: Sequence[Record]) -> None:
    """Cut the records into ledger batches (at upload, in its transaction). Workers read the
    stored file again and group it the same way, so batch N is the same records for all."""
    plan = plan_batches(records, batch_rows(job.rows))
    ImportBatch.objects.bulk_create([
        ImportBatch(job=job, number=number, first_record=first, end_record=end, rows=rows)
        for number, (first, end, rows) in enumerate(plan, start=1)])
    job.records = sum(1 for record in records if not record.stray)
    job.batches = len(plan)
    job.save(update_fields=["records", "batches"])


def _still_wanted(job: ImportJob) -> bool:
    """False once someone cancelled the job (read again before every batch)."""
    return ImportJob.objects.filter(id=job.id, status=JobStatus.RUNNING).exists()


@transaction.atomic
def _claim(job: ImportJob, token: str) -> ImportBatch | None:
    """Take the first pending batch nobody holds (or whose holder's claim ran out)."""
    now = timezone.now()
    batch = (ImportBatch.objects.select_for_update(skip_locked=True)
             .filter(job=job, status=BatchStatus.PENDING)
             .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
             .order_by("number").first())
    if batch is None:
        return None
    batch.claim, batch.claimed_until = token, now + claim_time()
    batch.attempts += 1
    batch.save(update_fields=["claim", "claimed_until", "attempts"])
    ImportJob.objects.filter(id=job.id).update(lease_until=batch.claimed_until)
    return batch


def _holds(batch: ImportBatch, token: str) -> bool:
    """Inside the writing transaction: is the batch still ours (locked until the commit)?"""
    return (ImportBatch.objects.select_for_update()
            .filter(id=batch.id, status=BatchStatus.PENDING, claim=token).exists())


def _complete(job: ImportJob, batch: ImportBatch, *, status: str, created: int, items: int,
              duplicates: int, failed: int, problems: Sequence[Problem]) -> None:
    """Close a batch and add it to the job's counts (in the caller's transaction)."""
    insert_rows(ImportProblem, ("job_id", "row", "column", "value", "reason"),
                ((job.id, p.row, p.column[:100], p.value, p.reason) for p in problems))
    now = timezone.now()
    ImportBatch.objects.filter(id=batch.id).update(status=status, claim="", claimed_until=None,
                                                   finished_at=now)
    ImportJob.objects.filter(id=job.id).update(
        rows_done=F("rows_done") + batch.rows, created=F("created") + created,
        items_created=F("items_created") + items,
        skipped_duplicates=F("skipped_duplicates") + duplicates, failed=F("failed") + failed,
        error_count=F("error_count") + len(problems), lease_until=now + claim_time())


def _run_batch(job: ImportJob, batch: ImportBatch, token: str, adapter: ImportAdapter,
               options: Any, records: Sequence[Record], memo: dict[str, Any]) -> int:
    """Check and write one claimed batch; 1 if this worker completed it, else 0."""
    records = [record.copy() for record in records]  # a retry starts from the file's rows
    try:
        checked = check_batch(adapter, job.owner, options, records, memo)
        with transaction.atomic():
            if not _holds(batch, token):
                return 0  # our claim ran out and another worker took the batch over
            if job.dry_run:
                created, items, duplicates = len(checked.good), checked.items, 0
            elif checked.good:
                created, items, duplicates = adapter.write(job.owner, checked.good, options)
            else:
                created = items = duplicates = 0
            _complete(job, batch, status=BatchStatus.DONE, created=created, items=items,
                      duplicates=checked.known + duplicates, failed=checked.failed,
                      problems=checked.problems)
        return 1
    except Exception as error:  # noqa: BLE001 - any failure: the batch is tried again
        logger.exception("import %s batch %s failed (attempt %s)", job.id, batch.number,
                         batch.attempts)
        ImportBatch.objects.filter(id=batch.id, claim=token).update(
            claimed_until=timezone.now(), last_error=f"{type(error).__name__}: {error}"[:2000])
        memo.clear()  # what earlier batches looked up may be what changed
        time.sleep(min(batch.attempts, 5))  # e.g. a locked database: give it a moment
        return 0


def _give_up(job: ImportJob, batch: ImportBatch, token: str, records: Sequence[Record]) -> None:
    """A batch that has stopped its workers MAX_ATTEMPTS times: report its rows, go on."""
    reason = (f"not imported: importing rows {records[0].first.number}–"
              f"{max(row.number for record in records for row in record.rows)} failed "
              f"{MAX_ATTEMPTS} times ({batch.last_error or 'the worker stopped'})")
    with transaction.atomic():
        if not _holds(batch, token):
            return
        problems = [Problem(row.number, "row", "", reason)
                    for record in records for row in record.rows]
        _complete(job, batch, status=BatchStatus.FAILED, created=0, items=0, duplicates=0,
                  failed=sum(1 for record in records if not record.stray),
                  problems=problems)


@transaction.atomic
def _finish(job: ImportJob) -> str:
    """Close the job once every batch is done (whichever worker gets here first)."""
    locked = ImportJob.objects.select_for_update().filter(id=job.id).first()
    if locked is None or locked.status != JobStatus.RUNNING:
        return f"the job is {locked.status if locked else 'gone'}"
    if ImportBatch.objects.filter(job=locked, status=BatchStatus.PENDING).exists():
        return "other batches are still being worked on"
    locked.status, locked.finished_at, locked.lease_until = JobStatus.DONE, timezone.now(), None
    locked.save(update_fields=["status", "finished_at", "lease_until"])
    ImportFile.objects.filter(job=locked).delete()
    report = {name: getattr(locked, name) for name in (
        "rows", "records", "created", "items_created", "skipped_duplicates", "failed",
        "error_count", "dry_run")}
    record_events([events.import_finished(job_id=locked.id, actor_id=locked.owner_id,
                                          report=report)])
    return "finished"


# --- housekeeping (periodic) ---------------------------------------------------------------------

def imports_requeue_stalled() -> list[int]:
    """Queue again every job whose worker stopped holding it (killed, or its task lost):
    queued or running with the lease run out. Returns their ids."""
    now = timezone.now()
    requeued = []
    for job_id in (ImportJob.objects.filter(status__in=(JobStatus.QUEUED, JobStatus.RUNNING),
                                            lease_until__lt=now)
                   .values_list("id", flat=True)):
        with transaction.atomic():
            job = (ImportJob.objects.select_for_update()
                   .filter(id=job_id, status__in=(JobStatus.QUEUED, JobStatus.RUNNING),
                           lease_until__lt=now).first())
            if job is not None:
                _queue(job, None)
                requeued.append(job_id)
    return requeued


def imports_remove_old_files() -> int:
    """Remove the files of jobs that never finished (ready, cancelled or failed) a week on;
    what they imported stays. Returns how many were removed."""
    cutoff = timezone.now() - KEEP_FILES
    stale = ImportFile.objects.filter(
        job__created_at__lt=cutoff,
        job__status__in=(JobStatus.READY, JobStatus.CANCELLED, JobStatus.FAILED))
    removed, _ = stale.delete()
    return removed
