"""Background jobs of sales (the scheduler enqueues them: see ``rapport_app.py``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.tasks import task

from rapport.sales.services import ml


@task
def retrain_and_score() -> dict[str, Any]:
    """Nightly: train the lead conversion and deal win models on the business's closed leads
    and deals, then score every open lead and deal with them."""
    return ml.retrain_and_score()


def score_new_leads(rows: Sequence[Any]) -> None:
    """Subscriber of lead.captured, lead.resubmitted and lead.updated: once the write commits,
    the lead gets its probability from the current model (none until one is ready)."""
    ml.score_new_leads(rows)
