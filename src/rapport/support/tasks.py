"""Background jobs of the help desk (the scheduler enqueues them: see ``rapport_app.py``).
Each part keeps its jobs in its own marked block."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from django.tasks import task

from rapport.support import services
from rapport.support.services import mail as desk_mail
from rapport.support.services import sla as _sla

logger = logging.getLogger(__name__)


# --- desk: tickets from mail to the support address ---

@task
def tickets_from_mail(*, interaction_ids: list[int]) -> int:
    """Tickets and customer messages from captured mail (services.mail); returns how many
    messages became one or the other."""
    return len(desk_mail.tickets_from_mail(interaction_ids=interaction_ids))


def tickets_from_mail_soon(rows: Sequence[Any]) -> None:
    """Subscriber of ``interaction.logged``: hand captured inbound mail to a worker once it
    commits. If the queue cannot be reached, the tickets are made here and now instead."""
    interaction_ids = desk_mail.mail_candidates(rows)
    if not interaction_ids or not desk_mail.support_address():
        return  # no inbound mail, or no support address: nothing can become a ticket
    try:
        tickets_from_mail.enqueue(interaction_ids=interaction_ids)
    except Exception:  # noqa: BLE001 - no request may be lost: make the tickets now
        logger.warning("could not enqueue the tickets from mail; making them now",
                       exc_info=True)
        desk_mail.tickets_from_mail(interaction_ids=interaction_ids)
# --- end desk ---

# --- sla: the SLA check --------------------------------------------------------------------------

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
# --- end ai ---
