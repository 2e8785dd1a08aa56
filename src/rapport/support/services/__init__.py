"""Writes for tickets, the knowledge base, the assistant and the desk's settings: keyword-only,
one typed input, one transaction, events recorded. Split by what they change; import them
from here."""

from rapport.support.services.tickets import (
    Opened,
    excerpt,
    requester,
    shown,
    support_actor,
    ticket_open,
)

__all__ = ["Opened", "excerpt", "requester", "shown", "support_actor", "ticket_open"]

# --- ai: predictions, mood and urgency, the assist panel ---
from rapport.support.services.ai import (  # noqa: E402
    current_support_model,
    predict_opened,
    predict_tickets,
    score_message_events,
    support_models_train,
    support_models_train_now,
    ticket_assist,
    ticket_report,
)

__all__ += ["current_support_model", "predict_opened", "predict_tickets", "score_message_events",
            "support_models_train", "support_models_train_now", "ticket_assist", "ticket_report"]
