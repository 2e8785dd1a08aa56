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
from rapport.activities.services.interactions import (
    interaction_delete,
    interaction_log,
    interaction_update,
)
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
    "IssuedFeed", "analyse", "calendar_feed_create", "calendar_feed_revoke", "call_transcribe",
    "call_upload", "interaction_delete",
    "interaction_log", "interaction_update", "next_due", "reminder_send", "reminders_mark_seen",
    "send_due_reminders", "task_complete", "task_create", "task_delete", "task_reopen",
    "task_update", "transcription_unavailable",
]
