"""The events activities records: one kind constant and one builder per kind.

An interaction's event carries its person's ``contact_id`` and happens when the conversation
did, so it sits in its place on their timeline; its ``after`` holds what the timeline shows
(the timeline reads no other table). A task's events carry its person, if it has one.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from rapport.core.events import EventKind, NewEvent

T = "activities/timeline/"
INTERACTION_LOGGED = EventKind("interaction.logged", "Conversation", f"{T}interaction_logged.html")
INTERACTION_UPDATED = EventKind("interaction.updated", "Conversation edited",
                                f"{T}interaction_updated.html")
INTERACTION_DELETED = EventKind("interaction.deleted", "Conversation deleted",
                                f"{T}interaction_deleted.html")
TASK_CREATED = EventKind("task.created", "Task", f"{T}task_created.html")
TASK_UPDATED = EventKind("task.updated", "Task changed", f"{T}task_updated.html")
TASK_COMPLETED = EventKind("task.completed", "Task done", f"{T}task_completed.html")
TASK_REOPENED = EventKind("task.reopened", "Task reopened", f"{T}task_reopened.html")
TASK_DELETED = EventKind("task.deleted", "Task deleted", f"{T}task_deleted.html")
REMINDER_EMAILED = EventKind("reminder.emailed", "Reminder emailed", f"{T}reminder_emailed.html")
CALENDAR_FEED_CREATED = EventKind("calendar_feed.created", "Calendar feed address made",
                                  f"{T}calendar_feed.html")
CALENDAR_FEED_REVOKED = EventKind("calendar_feed.revoked", "Calendar feed address revoked",
                                  f"{T}calendar_feed.html")
CALL_RECORDED = EventKind("call.recorded", "Call recording kept", f"{T}call_recorded.html")
CALL_TRANSCRIBED = EventKind("call.transcribed", "Call transcribed", f"{T}call_transcribed.html")

EMAIL_TEMPLATE_CREATED = EventKind("email_template.created", "Email template made",
                                   f"{T}email_template.html")
EMAIL_TEMPLATE_UPDATED = EventKind("email_template.updated", "Email template changed",
                                   f"{T}email_template.html")
EMAIL_TEMPLATE_DELETED = EventKind("email_template.deleted", "Email template deleted",
                                   f"{T}email_template.html")
EMAIL_QUEUED = EventKind("email.queued", "Email queued", f"{T}email_status.html")
EMAIL_UNCERTAIN = EventKind("email.uncertain", "Email may not have been sent",
                            f"{T}email_status.html")
EMAIL_FAILED = EventKind("email.failed", "Email not sent", f"{T}email_status.html")
EMAIL_REQUEUED = EventKind("email.requeued", "Email queued again", f"{T}email_status.html")
# Sent to an address that is no contact's (a lead's): a contact's sent email is logged as a
# conversation (``interaction.logged``) instead.
EMAIL_SENT = EventKind("email.sent", "Email sent", f"{T}email_status.html")
OUTGOING_MAIL_CHANGED = EventKind("outgoing_mail.changed", "Mail server settings changed",
                                  f"{T}email_template.html")

KINDS = [INTERACTION_LOGGED, INTERACTION_UPDATED, INTERACTION_DELETED, TASK_CREATED,
         TASK_UPDATED, TASK_COMPLETED, TASK_REOPENED, TASK_DELETED, REMINDER_EMAILED,
         CALENDAR_FEED_CREATED, CALENDAR_FEED_REVOKED, EMAIL_TEMPLATE_CREATED,
         EMAIL_TEMPLATE_UPDATED, EMAIL_TEMPLATE_DELETED, EMAIL_QUEUED, EMAIL_UNCERTAIN,
         EMAIL_FAILED, EMAIL_REQUEUED, EMAIL_SENT, OUTGOING_MAIL_CHANGED, CALL_RECORDED,
         CALL_TRANSCRIBED]

Snapshot = dict[str, Any]


def interaction_logged(*, interaction_id: int, contact_id: int, actor_id: int | None,
                       occurred_at: dt.datetime, shown: Snapshot) -> NewEvent:
    return NewEvent(kind=INTERACTION_LOGGED.name, entity_type="interaction",
                    entity_id=interaction_id, contact_id=contact_id, actor_id=actor_id,
                    occurred_at=occurred_at, after=shown)


def interaction_updated(*, interaction_id: int, contact_id: int, actor_id: int,
                        before: Snapshot, after: Snapshot) -> NewEvent:
    return NewEvent(kind=INTERACTION_UPDATED.name, entity_type="interaction",
                    entity_id=interaction_id, contact_id=contact_id, actor_id=actor_id,
                    before=before, after=after)


def interaction_deleted(*, interaction_id: int, contact_id: int, actor_id: int,
                        shown: Snapshot) -> NewEvent:
    return NewEvent(kind=INTERACTION_DELETED.name, entity_type="interaction",
                    entity_id=interaction_id, contact_id=contact_id, actor_id=actor_id,
                    before=shown)


def task_created(*, task_id: int, contact_id: int | None, actor_id: int | None,
                 shown: Snapshot) -> NewEvent:
    return NewEvent(kind=TASK_CREATED.name, entity_type="task", entity_id=task_id,
                    contact_id=contact_id, actor_id=actor_id, after=shown)


def task_updated(*, task_id: int, contact_id: int | None, actor_id: int, before: Snapshot,
                 after: Snapshot) -> NewEvent:
    return NewEvent(kind=TASK_UPDATED.name, entity_type="task", entity_id=task_id,
                    contact_id=contact_id, actor_id=actor_id, before=before, after=after)


def task_completed(*, task_id: int, contact_id: int | None, actor_id: int,
                   shown: Snapshot) -> NewEvent:
    return NewEvent(kind=TASK_COMPLETED.name, entity_type="task", entity_id=task_id,
                    contact_id=contact_id, actor_id=actor_id, after=shown)


def task_reopened(*, task_id: int, contact_id: int | None, actor_id: int,
                  shown: Snapshot) -> NewEvent:
    return NewEvent(kind=TASK_REOPENED.name, entity_type="task", entity_id=task_id,
                    contact_id=contact_id, actor_id=actor_id, after=shown)


def task_deleted(*, task_id: int, contact_id: int | None, actor_id: int,
                 shown: Snapshot) -> NewEvent:
    return NewEvent(kind=TASK_DELETED.name, entity_type="task", entity_id=task_id,
                    contact_id=contact_id, actor_id=actor_id, before=shown)


def reminder_emailed(*, reminder_id: int, task_id: int, user_id: int, attempts: int) -> NewEvent:
    """Audit only (no contact): which reminder went out, to whom, after how many tries."""
    return NewEvent(kind=REMINDER_EMAILED.name, entity_type="reminder", entity_id=reminder_id,
                    after={"task_id": task_id, "user_id": user_id, "attempts": attempts})


def calendar_feed_created(*, feed_id: int, user_id: int, prefix: str) -> NewEvent:
    return NewEvent(kind=CALENDAR_FEED_CREATED.name, entity_type="calendar_feed",
                    entity_id=feed_id, actor_id=user_id, after={"prefix": prefix})


def calendar_feed_revoked(*, feed_id: int, user_id: int, prefix: str) -> NewEvent:
    return NewEvent(kind=CALENDAR_FEED_REVOKED.name, entity_type="calendar_feed",
                    entity_id=feed_id, actor_id=user_id, before={"prefix": prefix})


def email_template_created(*, template_id: int, actor_id: int, shown: Snapshot) -> NewEvent:
    return NewEvent(kind=EMAIL_TEMPLATE_CREATED.name, entity_type="email_template",
                    entity_id=template_id, actor_id=actor_id, after=shown)


def email_template_updated(*, template_id: int, actor_id: int, before: Snapshot,
                           after: Snapshot) -> NewEvent:
    return NewEvent(kind=EMAIL_TEMPLATE_UPDATED.name, entity_type="email_template",
                    entity_id=template_id, actor_id=actor_id, before=before, after=after)


def email_template_deleted(*, template_id: int, actor_id: int, shown: Snapshot) -> NewEvent:
    return NewEvent(kind=EMAIL_TEMPLATE_DELETED.name, entity_type="email_template",
                    entity_id=template_id, actor_id=actor_id, before=shown)


def _email_event(kind: EventKind, *, email_id: int, contact_id: int | None, actor_id: int | None,
                 shown: Snapshot) -> NewEvent:
    """On the person's timeline: what happened to an email on its way out (once it is sent,
    the email itself is logged as a conversation: ``interaction.logged``)."""
    return NewEvent(kind=kind.name, entity_type="outbound_email", entity_id=email_id,
                    contact_id=contact_id, actor_id=actor_id, after=shown)


def email_queued(**kwargs: Any) -> NewEvent:
    return _email_event(EMAIL_QUEUED, **kwargs)


def email_uncertain(**kwargs: Any) -> NewEvent:
    return _email_event(EMAIL_UNCERTAIN, **kwargs)


def email_failed(**kwargs: Any) -> NewEvent:
    return _email_event(EMAIL_FAILED, **kwargs)


def email_requeued(**kwargs: Any) -> NewEvent:
    return _email_event(EMAIL_REQUEUED, **kwargs)


def email_sent(**kwargs: Any) -> NewEvent:
    return _email_event(EMAIL_SENT, **kwargs)


def outgoing_mail_changed(*, settings_id: int, actor_id: int, before: Snapshot,
                          after: Snapshot) -> NewEvent:
    return NewEvent(kind=OUTGOING_MAIL_CHANGED.name, entity_type="outgoing_mail",
                    entity_id=settings_id, actor_id=actor_id, before=before, after=after)
def call_recorded(*, recording_id: int, interaction_id: int, actor_id: int | None,
                  transcribe: bool) -> NewEvent:
    """Audit only (no contact: the call's own entry is on the timeline). With ``transcribe``,
    the app's subscriber queues the transcription once this commits."""
    return NewEvent(kind=CALL_RECORDED.name, entity_type="call_recording",
                    entity_id=recording_id, actor_id=actor_id,
                    after={"interaction_id": interaction_id, "transcribe": transcribe})


def call_transcribed(*, interaction_id: int, contact_id: int, occurred_at: dt.datetime,
                     shown: Snapshot) -> NewEvent:
    """Done by the worker (no actor); dated when the call was, so it sits beside it."""
    return NewEvent(kind=CALL_TRANSCRIBED.name, entity_type="interaction",
                    entity_id=interaction_id, contact_id=contact_id, occurred_at=occurred_at,
                    after=shown)
