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

# --- assistant: knowledge base and the chat assistant ---
from rapport.support.services.articles import (  # noqa: E402
    article_create,
    article_delete,
    article_update,
    article_vote,
    category_create,
)
from rapport.support.services.assistant import (  # noqa: E402
    Handover,
    RateLimited,
    Reply,
    assistant_settings_update,
    chat_feedback,
    chat_handover,
    chat_message,
    chat_start,
    intent_train,
)

__all__ += ["Handover", "RateLimited", "Reply", "article_create", "article_delete",
            "article_update", "article_vote", "assistant_settings_update", "category_create",
            "chat_feedback", "chat_handover", "chat_message", "chat_start", "intent_train"]
