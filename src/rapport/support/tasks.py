"""Background jobs and event followers of the help desk (the scheduler enqueues the jobs: see
``rapport_app.py``). Each part's jobs are in its own marked block."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.tasks import task

from rapport.support import services


# --- ai: nightly models, predictions at open, mood of customer messages ---
@task
def retrain_support_models() -> dict[str, Any]:
    """Nightly: train the category and priority models on the resolved and closed tickets
    (each attempt is a SupportModel row, ready or saying what is missing)."""
    return services.support_models_train()


def predict_new_tickets(rows: Sequence[Any]) -> None:
    """Subscriber of ``ticket.opened``: once the ticket commits, the current models predict
    its category and priority (nothing until a model is ready)."""
    services.predict_opened(rows)


def score_customer_messages(rows: Sequence[Any]) -> None:
    """Subscriber of ``ticket.opened`` and ``ticket.message``: the sentiment and urgency of the
    customer's new messages, and the ticket's angry flag."""
    services.score_message_events(rows)
