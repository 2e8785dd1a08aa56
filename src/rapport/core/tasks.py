"""Background jobs of the core app (the scheduler enqueues them: see ``rapport_app.py``)."""

from __future__ import annotations

from django.tasks import task

from rapport.core import services


@task
def purge_expired_deletions() -> int:
    """Remove records soft-deleted longer ago than the restore window (30 days)."""
    return services.purge_expired_deletions()


@task
def refresh_statistics() -> list[str]:
    """Keep the database's query planner statistics exact as the data grows."""
    return services.refresh_statistics()


@task
def heartbeat(note: str = "") -> str:
    """A no-op job: proves workers pick tasks up (used by `rapport doctor` and CI)."""
    return services.heartbeat(note=note)


@task
def seal_audit_log() -> int:
    """Seal events a commit left unsealed (its own sealer failed, or the lock was busy)."""
    return services.seal_audit_log()


@task
def write_audit_anchor() -> str:
    """Export the signed chain head to var/anchors/ (see docs/audit.md)."""
    return services.write_audit_anchor()
