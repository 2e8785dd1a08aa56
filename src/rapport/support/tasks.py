"""Background jobs of the help desk (the scheduler enqueues them: see ``rapport_app.py``).
Each part keeps its jobs in its own marked block."""

from __future__ import annotations

from django.tasks import task

# --- sla: the SLA check --------------------------------------------------------------------------
from rapport.support.services import sla as _sla


@task
def sla_check() -> dict[str, int]:
    """Every minute: at-risk and breached tickets move on, their people are told (see
    services.sla.sla_check); returns the counts."""
    result = _sla.sla_check()
    return {"started": result.started, "settled": result.settled, "at_risk": result.at_risk,
            "breached": result.breached, "back_on_track": result.back_on_track}
# --- end sla ---
