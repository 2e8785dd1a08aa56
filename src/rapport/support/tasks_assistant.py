"""Background jobs of the assistant (the scheduler enqueues them: see ``rapport_app.py``)."""

from __future__ import annotations

from django.tasks import task


# --- assistant: the intent model ---
@task
def assistant_intent_train() -> str:
    """Retrain the assistant's intent classifier on the articles and closed tickets (after an
    article changes, and nightly for the tickets closed since)."""
    from rapport.support.services.assistant import intent_train

    row = intent_train()
    return f"trained on {row.rows} texts" if row.ready else row.message
