"""Background jobs of sales (the scheduler enqueues them: see ``rapport_app.py``)."""

from __future__ import annotations

from django.tasks import task

from rapport.sales import services


@task
def first_response_sweep() -> int:
    """Hand on the leads nobody answered in time and tell their managers (see
    services.first_response); returns how many were handed on."""
    return services.first_response_sweep()
