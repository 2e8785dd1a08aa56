"""Background jobs of the help desk (the scheduler and the event subscribers enqueue them:
see ``rapport_app.py``)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from django.tasks import task

from rapport.support.services import mail as desk_mail

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
