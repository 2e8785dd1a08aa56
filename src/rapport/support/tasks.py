"""Background jobs of the help desk (the scheduler enqueues them: see ``rapport_app.py``).
Each part keeps its jobs in its own marked block."""

from __future__ import annotations

import logging

from django.tasks import task

logger = logging.getLogger(__name__)

# --- sla: the SLA check --------------------------------------------------------------------------
from rapport.support.services import sla as _sla  # noqa: E402


@task
def sla_check() -> dict[str, int]:
    """Every minute: at-risk and breached tickets move on, their people are told (see
    services.sla.sla_check); returns the counts. After an outage, when one run could not
    move them all, the next run is queued at once."""
    result = _sla.sla_check()
    if result.more:
        try:
            sla_check.enqueue()
        except Exception:  # noqa: BLE001 - the next minute's run goes on instead
            logger.warning("could not enqueue the next SLA check; the scheduler's will run it",
                           exc_info=True)
    return {"started": result.started, "settled": result.settled, "at_risk": result.at_risk,
            "breached": result.breached, "back_on_track": result.back_on_track}
# --- end sla ---
