"""/api/v1/ endpoints for imports: upload a file (202 with the job), follow it, get its report.

The rows are checked and written by a background worker, never in the request; poll
``GET /imports/{id}`` for progress and the report. ``POST /{type}/import`` (e.g.
``/orders/import``) is the same as ``POST /imports`` with that type.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest, StreamingHttpResponse
from ninja import Field, File, Form, Router, Schema, Status
from ninja.files import UploadedFile

from rapport.core.api_schemas import ERRORS
from rapport.dataio import selectors, services
from rapport.dataio.models import ImportJob, JobStatus

router = Router(tags=["imports"])

# Form fields of the upload that are not the import type's own options.
UPLOAD_FIELDS = ("type", "file", "encoding", "dry_run", "start", "csrfmiddlewaretoken")


class ProblemOut(Schema):
    row: int = Field(..., description="as a spreadsheet numbers it: the header is row 1")
    column: str
    value: str
    reason: str


class ReportOut(Schema):
    encoding: str
    delimiter: str
    rows: int = Field(..., description="data rows read (blank rows not counted)")
    blank_rows: int
    records: int = Field(..., description="distinct records in the file (orders)")
    created: int = Field(..., description="records written (in a dry run: that would be)")
    items_created: int = Field(..., description="their items (order lines)")
    skipped_duplicates: int = Field(..., description="records imported before, left as they "
                                                     "are")
    failed: int = Field(..., description="records left out because a row of theirs has an "
                                         "error")
    error_count: int
    errors: list[ProblemOut] = Field(..., description="the first 1000 problems by row; "
                                                      "GET .../errors.csv has every one")
    errors_truncated: bool
    ignored_columns: list[str]
    dry_run: bool


class ProgressOut(Schema):
    rows: int
    rows_done: int
    percent: int
    finished: bool


class PreviewRowOut(Schema):
    row: int
    cells: list[str]
    problems: list[ProblemOut]


class PreviewOut(Schema):
    columns: list[str]
    rows: list[PreviewRowOut]


class JobOut(Schema):
    id: int
    type: str
    status: str = Field(..., description="ready (waiting to be run), queued, running, done, "
                                         "failed or cancelled")
    owner_id: int
    file_name: str
    file_size: int
    dry_run: bool
    options: dict[str, Any]
    error: str = Field(..., description="why a failed job stopped")
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    progress: ProgressOut
    report: ReportOut
    preview: PreviewOut | None = Field(None, description="the first rows, checked (status "
                                                         "ready only)")


class JobSummaryOut(Schema):
    id: int
    type: str
    status: str
    file_name: str
    created_at: dt.datetime
    progress: ProgressOut


class JobListOut(Schema):
    items: list[JobSummaryOut]


def _progress(job: ImportJob) -> dict[str, Any]:
    progress = selectors.import_progress(job)
    return {"rows": progress.rows, "rows_done": progress.rows_done,
            "percent": progress.percent, "finished": progress.finished}


def _job(job: ImportJob) -> dict[str, Any]:
    report = selectors.import_report(job)
    out = {
        "id": job.id, "type": job.type, "status": job.status, "owner_id": job.owner_id,
        "file_name": job.file_name, "file_size": job.file_size, "dry_run": job.dry_run,
        "options": job.options, "error": job.error, "created_at": job.created_at,
        "started_at": job.started_at, "finished_at": job.finished_at,
        "progress": _progress(job),
        "report": {**vars(report), "errors": [vars(p) for p in report.errors],
                   "errors_truncated": report.errors_truncated},
        "preview": None,
    }
    if job.status == JobStatus.READY:
        found = selectors.import_preview(job)
        if found is not None:
            out["preview"] = {"columns": found.columns, "rows": [
                {"row": row.number, "cells": [cell for _, cell in row.cells],
                 "problems": [vars(problem) for problem in row.problems]}
                for row in found.rows]}
    return out


def _start(request: HttpRequest, type_: str, file: UploadedFile | None, encoding: str | None,
           dry_run: bool, start: bool):
    options = {key: value for key, value in request.POST.items() if key not in UPLOAD_FIELDS}
    job = services.import_start(actor=request.user, file=file, data={
        "type": type_, "encoding": encoding or "", "dry_run": dry_run, "start": start,
        "options": options})
    return Status(202, _job(job))


@router.post("/imports", response={202: JobOut, **ERRORS})
def start_import(request: HttpRequest, type: Form[str], file: File[UploadedFile | None] = None,
                 encoding: Form[str | None] = None, dry_run: Form[bool] = False,
                 start: Form[bool] = True):
    """Upload a CSV file to import (``type``: orders, ...); answers 202 with the job, which a
    worker runs in the background. The import type's options are further form fields (orders:
    ``default_channel``, for rows without a channel). ``start`` false keeps the job waiting
    (status ready, with a preview of its first rows) until ``POST /imports/{id}/run``."""
    return _start(request, type, file, encoding, dry_run, start)


@router.get("/imports", response={200: JobListOut, **ERRORS})
def list_imports(request: HttpRequest):
    """The newest 50 imports you may see (your own, or your team's or everyone's by role)."""
    return {"items": [{"id": job.id, "type": job.type, "status": job.status,
                       "file_name": job.file_name, "created_at": job.created_at,
                       "progress": _progress(job)}
                      for job in selectors.import_list(user=request.user)]}


@router.get("/imports/{int:job_id}", response={200: JobOut, **ERRORS})
def get_import(request: HttpRequest, job_id: int):
    """Progress and report (the report grows as batches are done)."""
    return _job(selectors.import_get(user=request.user, job_id=job_id))


@router.get("/imports/{int:job_id}/errors.csv", response={200: None, **ERRORS}, openapi_extra={
    "responses": {200: {"description": "every problem: row, column, value, problem",
                        "content": {"text/csv": {"schema": {"type": "string"}}}}}})
def import_errors_csv(request: HttpRequest, job_id: int):
    """Every problem of the import as CSV (the report shows the first 1000)."""
    job = selectors.import_get(user=request.user, job_id=job_id)
    response = StreamingHttpResponse(selectors.problems_csv(job),
                                     content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{selectors.problems_file_name(job)}"'
    return response


@router.post("/imports/{int:job_id}/run", response={202: JobOut, **ERRORS})
def run_import(request: HttpRequest, job_id: int):
    """Run a job uploaded with ``start`` false."""
    return Status(202, _job(services.import_run(actor=request.user, job_id=job_id)))


@router.post("/imports/{int:job_id}/cancel", response={200: JobOut, **ERRORS})
def cancel_import(request: HttpRequest, job_id: int):
    """Stop a job after the batch being written; what was imported stays."""
    return _job(services.import_cancel(actor=request.user, job_id=job_id))


@router.post("/imports/{int:job_id}/resume", response={202: JobOut, **ERRORS})
def resume_import(request: HttpRequest, job_id: int):
    """Go on with a cancelled or failed job from where it stopped."""
    return Status(202, _job(services.import_resume(actor=request.user, job_id=job_id)))


@router.post("/{type}/import", response={202: JobOut, **ERRORS})
def start_typed_import(request: HttpRequest, type: str, file: File[UploadedFile | None] = None,
                       encoding: Form[str | None] = None, dry_run: Form[bool] = False,
                       start: Form[bool] = True):
    """The same as ``POST /imports`` with this ``type`` (``POST /orders/import`` has always
    imported orders; it now answers 202 with the job instead of the finished report)."""
    return _start(request, type, file, encoding, dry_run, start)
