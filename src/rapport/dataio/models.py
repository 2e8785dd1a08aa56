"""Import jobs, the file each one reads, and the ledger that makes them survive a crash.

A job is cut into batches of whole records when its file is uploaded; each batch is a ledger
row that a worker claims for a while (``claimed_until``) and marks done in the same transaction
that writes its records. A worker killed mid-batch leaves its transaction rolled back and its
claim running out; the next worker claims the batch again (``attempts`` counts the tries), so
every batch is written once. See docs/imports.md.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from rapport.core.permissions import OwnedBy, RestrictedQuerySet


class JobStatus(models.TextChoices):
    READY = "ready", "Ready to run"  # uploaded and checked; waiting for the user's go
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Stopped by an error"
    CANCELLED = "cancelled", "Cancelled"


class ImportJob(models.Model):
    type = models.CharField(max_length=32)  # an import adapter's type, e.g. "orders"
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                              related_name="+")
    status = models.CharField(max_length=16, choices=JobStatus.choices, default=JobStatus.READY)
    file_name = models.CharField(max_length=255, blank=True, default="")
    file_size = models.PositiveIntegerField(default=0)
    options = models.JSONField(default=dict, blank=True)  # the adapter's own options
    dry_run = models.BooleanField(default=False)
    # How the file was read at upload; the worker reads it the same way.
    encoding = models.CharField(max_length=40, blank=True, default="")
    delimiter = models.CharField(max_length=1, blank=True, default=",")
    headers = models.JSONField(default=dict, blank=True)  # column -> the header cell naming it
    ignored_columns = models.JSONField(default=list, blank=True)
    rows = models.PositiveIntegerField(default=0)  # data rows (blank rows not counted)
    blank_rows = models.PositiveIntegerField(default=0)
    # Set when the upload cuts the job into batches.
    records = models.PositiveIntegerField(default=0)  # distinct keys (orders) in the file
    batches = models.PositiveIntegerField(default=0)
    # Progress and report: sums over the batches done, updated with each one.
    rows_done = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    items_created = models.PositiveIntegerField(default=0)
    skipped_duplicates = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    error_count = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True, default="")  # why a failed job stopped
    # A worker holds the job while it runs and renews this with every batch; past it, the
    # sweeper (a periodic job) enqueues the job again.
    lease_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    policy = OwnedBy("imports", owner="owner")
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        indexes = [
            models.Index(fields=["owner", "-id"], name="importjob_owner_idx"),
            models.Index(fields=["status", "lease_until"], name="importjob_status_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(status__in=JobStatus.values),
                                   name="importjob_status_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.type} import {self.id} ({self.status})"


class ImportFile(models.Model):
    """The uploaded bytes, in the database so a worker on any machine can read them; removed
    when the job ends. Apart from the job so that polling progress never loads them."""

    job = models.OneToOneField(ImportJob, on_delete=models.CASCADE, primary_key=True,
                               related_name="upload")
    content = models.BinaryField()


class BatchStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"  # crashed its workers too often; its rows are reported


class ImportBatch(models.Model):
    """One unit of the ledger: records ``first_record`` up to ``end_record`` of the job's file
    (grouped as the pipeline groups them), claimed by one worker at a time."""

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="ledger")
    number = models.PositiveIntegerField()
    first_record = models.PositiveIntegerField()
    end_record = models.PositiveIntegerField()
    rows = models.PositiveIntegerField()
    status = models.CharField(max_length=8, choices=BatchStatus.choices,
                              default=BatchStatus.PENDING)
    claim = models.CharField(max_length=32, blank=True, default="")  # the claiming run's token
    claimed_until = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True, default="")
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["job", "number"], name="importbatch_job_number"),
            models.CheckConstraint(condition=models.Q(status__in=BatchStatus.values),
                                   name="importbatch_status_valid"),
        ]


class ImportProblem(models.Model):
    """One reason a row was not imported: the report and its CSV list every one."""

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="problems")
    row = models.PositiveIntegerField()  # as a spreadsheet numbers it: the header is row 1
    column = models.CharField(max_length=100)
    value = models.CharField(max_length=100, blank=True, default="")
    reason = models.TextField()

    class Meta:
        indexes = [models.Index(fields=["job", "row", "id"], name="importproblem_row_idx")]
