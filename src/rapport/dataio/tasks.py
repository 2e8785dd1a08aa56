"""Background jobs of dataio: thin, idempotent entry points that call services."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.tasks import task

from rapport.dataio import services


@task
def run_import(job_id: int) -> str:
    """Work on an import job until none of its batches is left to claim (safe to run twice,
    or in several workers at once)."""
    return services.import_work(job_id=job_id)


@task
def resume_stalled_imports() -> list[int]:
    """Queue again the imports whose worker died (killed, or its machine restarted), and
    remove the files of imports that were left unfinished for a week."""
    services.imports_remove_old_files()
    return services.imports_requeue_stalled()


def enqueue_queued(rows: Sequence[Any]) -> None:
    """Subscriber of ``import.queued``: enqueue each job's task once the queueing commits."""
    for row in rows:
        run_import.enqueue(job_id=row.entity_id)
