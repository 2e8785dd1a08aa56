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

# --- desk: working tickets, assignment by rules, mail in and out ---
from rapport.support.services.assignment import agents, assign_by_rules, desk_settings  # noqa: E402
from rapport.support.services.desk import (  # noqa: E402
    Received,
    agent_profile_save,
    bare_id,
    site_url,
    subject_of,
    survey_answer,
    survey_by_token,
    surviving,
    ticket_assign,
    ticket_close,
    ticket_link_deal,
    ticket_merge,
    ticket_note,
    ticket_receive,
    ticket_reply,
    ticket_update,
    ticket_view_delete,
    ticket_view_save,
)
from rapport.support.services.mail import (  # noqa: E402
    RateLimited,
    acknowledge,
    support_address,
    support_request,
    tickets_from_mail,
)

__all__ += ["Received", "RateLimited", "acknowledge", "agent_profile_save", "agents",
            "assign_by_rules", "bare_id", "desk_settings", "site_url", "subject_of",
            "support_address", "support_request", "survey_answer", "survey_by_token",
            "surviving", "ticket_assign", "ticket_close", "ticket_link_deal", "ticket_merge",
            "ticket_note", "ticket_receive", "ticket_reply", "ticket_update",
            "ticket_view_delete", "ticket_view_save", "tickets_from_mail"]
# --- end desk ---
# --- sla: business hours, SLA policies, timers and the check ---
from rapport.support.services.sla import (  # noqa: E402
    business_calendar,
    business_hours,
    business_hours_set,
    on_ticket_events,
    policy_for,
    sla_check,
    sla_policies,
    sla_policies_seed,
    sla_policy_create,
    sla_policy_delete,
    sla_policy_get,
    sla_policy_update,
    sla_sync,
    tier_for,
    timers_of,
)

__all__ += ["business_calendar", "business_hours", "business_hours_set", "desk_settings",
            "on_ticket_events", "policy_for", "sla_check", "sla_policies", "sla_policies_seed",
            "sla_policy_create", "sla_policy_delete", "sla_policy_get", "sla_policy_update",
            "sla_sync", "tier_for", "timers_of"]
# --- events: devices, event rules and machine events ------------------------------------------
from rapport.support.services.devices import (  # noqa: E402
    Reported,
    condition_holds,
    device_create,
    device_delete,
    device_update,
    event_rule_create,
    event_rule_delete,
    event_rule_move,
    event_rule_update,
    machine_event_record,
    render_subject,
    template_error,
    ticket_system_message,
)

__all__ += ["Reported", "condition_holds", "device_create", "device_delete", "device_update",
            "event_rule_create", "event_rule_delete", "event_rule_move", "event_rule_update",
            "machine_event_record", "render_subject", "template_error",
            "ticket_system_message"]
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
    Reply,
    assistant_settings_update,
    chat_feedback,
    chat_handover,
    chat_message,
    chat_start,
    intent_train,
)
from rapport.support.services.assistant import RateLimited as ChatRateLimited  # noqa: E402

__all__ += ["Handover", "ChatRateLimited", "Reply", "article_create", "article_delete",
            "article_update", "article_vote", "assistant_settings_update", "category_create",
            "chat_feedback", "chat_handover", "chat_message", "chat_start", "intent_train"]

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
