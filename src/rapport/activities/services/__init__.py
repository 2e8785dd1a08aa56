"""Writes for activities: keyword-only, one typed input, one transaction, events recorded.

Split by what they change; import them from here.
"""

from rapport.activities.services.calendar import (
    IssuedFeed,
    calendar_feed_create,
    calendar_feed_revoke,
)
from rapport.activities.services.calls import (
    analyse,
    call_transcribe,
    call_upload,
    transcription_unavailable,
)
from rapport.activities.services.email_templates import (
    email_template_create,
    email_template_delete,
    email_template_update,
)
from rapport.activities.services.inbound import (
    Ingested,
    mail_actor,
    mail_ingest,
    mail_ingest_many,
    messages_in,
    record_rejection,
)
from rapport.activities.services.interactions import (
    interaction_delete,
    interaction_log,
    interaction_update,
)
from rapport.activities.services.mailbox import mailbox_poll, mailbox_save
from rapport.activities.services.outbound import (
    Draft,
    email_queue_to_address,
    email_render,
    email_requeue,
    email_send,
    email_send_transactional,
    mailer,
    outbound_send,
    recover_expired_claims,
    send_pending_emails,
)
from rapport.activities.services.outgoing_mail import outgoing_mail_update
from rapport.activities.services.reminders import (
    reminder_send,
    reminders_mark_seen,
    send_due_reminders,
)
from rapport.activities.services.tasks import (
    next_due,
    task_complete,
    task_create,
    task_delete,
    task_reopen,
    task_update,
)

__all__ = [
    "analyse", "call_transcribe", "call_upload",
    "Draft", "email_queue_to_address", "email_render", "email_requeue", "email_send",
    "email_send_transactional", "email_template_create",
    "email_template_delete", "email_template_update", "outgoing_mail_update", "mailer",
    "outbound_send", "recover_expired_claims", "send_pending_emails",
    "Ingested", "IssuedFeed", "mail_actor", "mail_ingest", "mail_ingest_many",
    "mailbox_poll", "mailbox_save", "messages_in",
    "record_rejection", "calendar_feed_create", "calendar_feed_revoke", "interaction_delete",
    "interaction_log", "interaction_update", "next_due", "reminder_send", "reminders_mark_seen",
    "send_due_reminders", "task_complete", "task_create", "task_delete", "task_reopen",
    "task_update", "transcription_unavailable",
]
