"""Background jobs of sales (the scheduler enqueues them: see ``rapport_app.py``)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from django.tasks import task

from rapport.accounts.selectors import first_user_with
from rapport.sales import selectors, services
from rapport.sales.services import ml

logger = logging.getLogger(__name__)


@task
def run_sequences() -> int:
    """Do the nurturing steps that are due (each once: see services.sequences)."""
    return services.sequences_run_due()


def run_sequences_soon(rows: Sequence[Any]) -> None:
    """Subscriber of ``sequence.enrolled``: a first step due at once need not wait for the
    minute's sweep. If the queue cannot be reached, the sweep does it."""
    try:
        run_sequences.enqueue()
    except Exception:  # noqa: BLE001 - the periodic sweep is the fallback
        logger.warning("could not enqueue the sequence sweep; the scheduler's will run it",
                       exc_info=True)



@task
def first_response_sweep() -> int:
    """Hand on the leads nobody answered in time and tell their managers (see
    services.first_response); returns how many were handed on."""
    return services.first_response_sweep()


@task
def refresh_revenue_forecast() -> str:
    """Fit the business's revenue forecast for today (orders seen by the owner role), so the
    Forecast page reads it from the cache instead of fitting it while someone waits."""
    owner = first_user_with(permission="orders.view", scope="all")
    if owner is None:
        return "no user sees every order; nothing to fit"
    result = selectors.revenue_forecast(user=owner, refresh=True)
    return "fitted" if result.ok else result.message


@task
def retrain_and_score() -> dict[str, Any]:
    """Nightly: train the lead conversion and deal win models on the business's closed leads
    and deals, then score every open lead and deal with them."""
    return ml.retrain_and_score()


def score_new_leads(rows: Sequence[Any]) -> None:
    """Subscriber of lead.captured, lead.resubmitted and lead.updated: once the write commits,
    the lead gets its probability from the current model (none until one is ready)."""
    ml.score_new_leads(rows)


# --- capture: leads from inbound mail --------------------------------------------------------

@task
def capture_mail_leads(*, interaction_ids: list[int], new_sender_ids: list[int]) -> int:
    """Leads from captured inbound mail (services.mail_leads); returns how many were made or
    updated."""
    return len(services.leads_from_mail(interaction_ids=interaction_ids,
                                        new_sender_ids=new_sender_ids))


def capture_mail_leads_soon(rows: Sequence[Any]) -> None:
    """Subscriber of ``interaction.logged``: hand captured inbound mail to a worker once it
    commits. If the queue cannot be reached, the leads are captured here and now instead."""
    interaction_ids, new_sender_ids = services.mail_lead_candidates(rows)
    if not interaction_ids:
        return
    try:
        capture_mail_leads.enqueue(interaction_ids=interaction_ids,
                                   new_sender_ids=new_sender_ids)
    except Exception:  # noqa: BLE001 - no lead may be lost: capture them in this process
        logger.warning("could not enqueue the leads from mail; capturing them now",
                       exc_info=True)
        services.leads_from_mail(interaction_ids=interaction_ids,
                                 new_sender_ids=new_sender_ids)
