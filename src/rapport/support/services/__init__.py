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
