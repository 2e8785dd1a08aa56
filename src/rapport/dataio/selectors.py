"""Reads for imports: the types a user may import, their jobs, progress, report and preview.

Jobs are scoped by ``ImportJob.objects.restrict(user, "view")``: people with a restricted role
see only the jobs they started (docs/permissions.md).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db.models import QuerySet

from rapport.core import registry
from rapport.core.errors import NotFound, ValidationFailed
from rapport.core.inputs import parse
from rapport.core.permissions import scope_for
from rapport.core.text import csv_safe
from rapport.dataio.models import BatchStatus, ImportBatch, ImportFile, ImportJob, JobStatus
from rapport.dataio.pipeline import (
    MAX_VALUE_CHARS,
    PREVIEW_ROWS,
    ImportAdapter,
    Problem,
    check_batch,
    group,
    read_table,
)

MAX_SHOWN_PROBLEMS = 1000  # on the page and in the API; the CSV download has every one
ACTIVE = (JobStatus.QUEUED, JobStatus.RUNNING)


def import_adapters() -> dict[str, ImportAdapter]:
    """Every registered import type (apps declare them in rapport_app.py)."""
    return {adapter.type: adapter for adapter in registry.import_adapters()}


def adapter_for(type_: str) -> ImportAdapter:
    adapters = import_adapters()
    adapter = adapters.get(type_)
    if adapter is None:
        raise ValidationFailed({"type": f"there is no {str(type_)[:40]!r} import; choose one "
                                        f"of {', '.join(sorted(adapters))}"})
    return adapter


def may_import(user: Any, adapter: ImportAdapter) -> bool:
    """Whether the user may start this import at all (which rows they may import is the
    adapter's row-by-row check)."""
    return scope_for(user, adapter.permission) is not None


def import_types(*, user: Any) -> list[ImportAdapter]:
    return [adapter for adapter in import_adapters().values() if may_import(user, adapter)]


def visible_jobs(user: Any) -> QuerySet[ImportJob]:
    return ImportJob.objects.restrict(user, "view")


def import_list(*, user: Any, limit: int = 50) -> list[ImportJob]:
    return list(visible_jobs(user).select_related("owner").order_by("-id")[:limit])


def import_get(*, user: Any, job_id: int) -> ImportJob:
    job = visible_jobs(user).select_related("owner").filter(id=job_id).first()
    if job is None:
        raise NotFound(f"no import with id {job_id}")
    return job


@dataclass
class Progress:
    status: str
    rows: int
    rows_done: int
    finished: bool

    @property
    def percent(self) -> int:
        if self.finished and self.status == JobStatus.DONE:
            return 100
        return min(100, self.rows_done * 100 // self.rows) if self.rows else 0


def import_progress(job: ImportJob) -> Progress:
    return Progress(status=job.status, rows=job.rows, rows_done=job.rows_done,
                    finished=job.status not in (JobStatus.READY, *ACTIVE))


@dataclass
class Report:
    """What an import did, as the pages and the API show it."""

    encoding: str
    delimiter: str
    rows: int  # data rows read (blank rows not counted)
    blank_rows: int
    records: int  # distinct records in the file (orders)
    created: int  # records written (or that would be, in a dry run)
    items_created: int  # their items (order lines)
    skipped_duplicates: int  # records already imported before, left as they are
    failed: int  # records not imported because one of their rows has an error
    error_count: int
    errors: list[Problem] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    dry_run: bool = False
    failed_batches: int = 0

    @property
    def errors_truncated(self) -> bool:
        return self.error_count > len(self.errors)


def import_report(job: ImportJob, *, limit: int = MAX_SHOWN_PROBLEMS) -> Report:
    """The report so far: counters summed over the batches done, the first problems by row."""
    return Report(
        encoding=job.encoding, delimiter=job.delimiter, rows=job.rows, blank_rows=job.blank_rows,
        records=job.records, created=job.created, items_created=job.items_created,
        skipped_duplicates=job.skipped_duplicates, failed=job.failed,
        error_count=job.error_count, errors=list(import_problems(job, limit=limit)),
        ignored_columns=list(job.ignored_columns), dry_run=job.dry_run,
        failed_batches=ImportBatch.objects.filter(job=job, status=BatchStatus.FAILED).count(),
    )


def import_problems(job: ImportJob, *, limit: int | None = None) -> Iterator[Problem]:
    """Every problem in row order (each row's in the order found), streamed in chunks."""
    rows = (job.problems.order_by("row", "id")
            .values_list("row", "column", "value", "reason"))
    if limit is not None:
        rows = rows[:limit]
    for row, column, value, reason in rows.iterator(chunk_size=2000):
        yield Problem(row, column, value, reason)


def problems_csv(job: ImportJob) -> Iterator[str]:
    """Every problem as CSV text, a chunk at a time (the header line first): what to fix."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["row", "column", "value", "problem"])
    for i, problem in enumerate(import_problems(job), start=1):
        writer.writerow([problem.row, problem.column, csv_safe(problem.value),
                         csv_safe(problem.reason)])
        if i % 1000 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def problems_file_name(job: ImportJob) -> str:
    return f"import-{job.id}-problems.csv"


@dataclass
class PreviewRow:
    number: int
    cells: list[tuple[str, str]]  # (column, cell) in the preview's column order
    problems: list[Problem]


@dataclass
class Preview:
    columns: list[str]  # the file's columns the import uses, in the adapter's order
    headers: dict[str, str]
    rows: list[PreviewRow]


def import_preview(job: ImportJob, *, limit: int = PREVIEW_ROWS) -> Preview | None:
    """The first rows of a job's file, checked as the import will check them (nothing is
    written); None once the file is gone (the job finished)."""
    content = ImportFile.objects.filter(job=job).values_list("content", flat=True).first()
    if content is None:
        return None
    adapter = adapter_for(job.type)
    table = read_table(bytes(content), adapter, encoding=job.encoding, limit=limit)
    options = parse(adapter.options, job.options)
    check_batch(adapter, job.owner, options, group(table.rows, adapter), {})
    columns = [column for column in adapter.columns if column in table.positions]
    return Preview(columns=columns, headers=table.headers, rows=[
        PreviewRow(row.number, [(column, row.cells[column]) for column in columns],
                   [Problem(row.number, column, row.cells.get(column, "")[:MAX_VALUE_CHARS],
                            reason) for column, reason in row.errors])
        for row in table.rows])
