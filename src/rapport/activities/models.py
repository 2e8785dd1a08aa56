"""Activities: what was said to whom (interactions), what must be done (tasks), reminders of
those tasks and each user's calendar feed. Data and database constraints only."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from rapport.core.models import EditableModel, TimestampedModel, deleted_index
from rapport.core.permissions import OwnedBy, RestrictedQuerySet


class InteractionType(models.TextChoices):
    CALL = "call", "call"
    EMAIL = "email", "email"
    MEETING = "meeting", "meeting"
    NOTE = "note", "note"
    MESSAGE = "message", "message"  # chat, SMS, WhatsApp…: see ``channel``


class Direction(models.TextChoices):
    NONE = "", "—"
    INBOUND = "inbound", "inbound"
    OUTBOUND = "outbound", "outbound"


class Sentiment(models.TextChoices):
    NONE = "", "—"
    POSITIVE = "positive", "positive"
    NEUTRAL = "neutral", "neutral"
    NEGATIVE = "negative", "negative"


INTERACTION_TYPES = tuple(InteractionType.values)
DIRECTIONS = tuple(Direction.values)
SENTIMENTS = tuple(Sentiment.values)


class Interaction(EditableModel):
    """One conversation with a customer: a call, an email, a meeting, a note or a message.

    One table for every type, so a person's history is one index walk. The columns that only
    some types use are blank for the others; the email and call-transcript columns are here
    for the inbound-email and transcription work that fills them (nothing writes them yet
    except the API and the services' inputs):

    - email: ``subject``, ``body`` (plain text), ``body_html`` (sanitised with nh3 before it
      is stored), ``message_id``, ``in_reply_to`` and ``references`` (threading),
      ``from_address``, ``to_addresses``, ``cc_addresses``, ``direction``;
    - a transcribed call: ``transcript``, ``summary``, ``sentiment``, ``recording_ref``.
    """

    type = models.CharField(max_length=16, choices=InteractionType.choices)
    direction = models.CharField(max_length=16, blank=True, default="",
                                 choices=Direction.choices)
    contact = models.ForeignKey("contacts.Contact", on_delete=models.CASCADE,
                                related_name="+", db_index=False)
    # The person's company when it was logged (a company page shows its people's history).
    company = models.ForeignKey("contacts.Company", null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="+", db_index=False)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                               on_delete=models.SET_NULL, related_name="+", db_index=False)
    occurred_at = models.DateTimeField()  # when it happened; a meeting's start
    subject = models.CharField(max_length=300, blank=True, default="")
    body = models.TextField(max_length=50_000, blank=True, default="")  # notes, email text
    outcome = models.CharField(max_length=500, blank=True, default="")
    duration_seconds = models.PositiveIntegerField(null=True, blank=True)  # calls
    # Meetings.
    ends_at = models.DateTimeField(null=True, blank=True)
    location = models.CharField(max_length=300, blank=True, default="")
    attendees = models.JSONField(default=list, blank=True)  # names or addresses, as typed
    # Messages: "sms", "chat", "whatsapp"… as free text.
    channel = models.CharField(max_length=32, blank=True, default="")
    # Email (filled by the email work to come).
    body_html = models.TextField(max_length=200_000, blank=True, default="")
    # Indexed: at most 500 characters keeps a row within PostgreSQL's B-tree limit.
    message_id = models.CharField(max_length=500, blank=True, default="")
    in_reply_to = models.CharField(max_length=500, blank=True, default="")
    references = models.TextField(max_length=20_000, blank=True, default="")
    from_address = models.CharField(max_length=254, blank=True, default="")
    to_addresses = models.JSONField(default=list, blank=True)
    cc_addresses = models.JSONField(default=list, blank=True)
    # Call transcripts (filled by the transcription work to come).
    transcript = models.TextField(max_length=500_000, blank=True, default="")
    summary = models.TextField(max_length=5000, blank=True, default="")
    sentiment = models.CharField(max_length=16, blank=True, default="",
                                 choices=Sentiment.choices)
    recording_ref = models.CharField(max_length=500, blank=True, default="")

    # Whoever may see the customer sees what was said to them.
    policy = OwnedBy("activities", owner="contact__owner")
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        indexes = [
            models.Index(fields=["contact", "-occurred_at", "-id"], name="interaction_contact_idx"),
            models.Index(fields=["company", "-occurred_at", "-id"], name="interaction_company_idx"),
            models.Index(fields=["-occurred_at", "-id"], name="interaction_recent_idx"),
            models.Index(fields=["type", "-occurred_at", "-id"], name="interaction_type_idx"),
            models.Index(fields=["author", "-occurred_at", "-id"], name="interaction_author_idx"),
            models.Index(fields=["message_id"], name="interaction_message_id_idx",
                         condition=~models.Q(message_id="")),
            deleted_index("interaction_deleted_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(type__in=INTERACTION_TYPES),
                                   name="interaction_type_valid"),
            models.CheckConstraint(condition=models.Q(direction__in=DIRECTIONS),
                                   name="interaction_direction_valid"),
            models.CheckConstraint(condition=models.Q(sentiment__in=SENTIMENTS),
                                   name="interaction_sentiment_valid"),
            models.CheckConstraint(
                condition=models.Q(ends_at__isnull=True) | models.Q(ends_at__gte=models.F(
                    "occurred_at")), name="interaction_ends_after_start"),
        ]

    def __str__(self) -> str:
        return f"{self.type} #{self.pk}"


class Priority(models.IntegerChoices):
    LOW = 1, "low"
    NORMAL = 2, "normal"
    HIGH = 3, "high"


class Recurrence(models.TextChoices):
    NONE = "", "does not repeat"
    DAILY = "daily", "every day"
    WEEKLY = "weekly", "every week"
    MONTHLY = "monthly", "every month"


PRIORITIES = tuple(Priority.values)
RECURRENCES = tuple(Recurrence.values)


class Task(EditableModel):
    """Something someone must do by a time, maybe about a customer.

    A repeating task is one row per occurrence: completing it creates the next one
    (``dateutil.rrule``), so each occurrence is completed, and logged, on its own.
    """

    title = models.CharField(max_length=200)
    notes = models.TextField(max_length=10_000, blank=True, default="")
    due_at = models.DateTimeField()
    # A task for a day, not a time: due_at is that day's start in the business's time zone.
    all_day = models.BooleanField(default=False)
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                 related_name="+", db_index=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+", db_index=False)
    priority = models.PositiveSmallIntegerField(default=Priority.NORMAL,
                                                choices=Priority.choices)
    contact = models.ForeignKey("contacts.Contact", null=True, blank=True,
                                on_delete=models.CASCADE, related_name="+", db_index=False)
    company = models.ForeignKey("contacts.Company", null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="+", db_index=False)
    interaction = models.ForeignKey(Interaction, null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="tasks")
    recurrence = models.CharField(max_length=16, blank=True, default="",
                                  choices=Recurrence.choices)
    # Minutes before the due time to remind the assignee (None: no reminder).
    remind_before = models.PositiveIntegerField(null=True, blank=True, default=15)
    completed_at = models.DateTimeField(null=True, blank=True)
    completed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                     on_delete=models.SET_NULL, related_name="+")

    policy = OwnedBy("tasks", owner="assignee")
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        indexes = [
            models.Index(fields=["assignee", "due_at", "id"], name="task_assignee_due_idx",
                         condition=models.Q(completed_at__isnull=True,
                                            deleted_at__isnull=True)),
            models.Index(fields=["assignee", "completed_at"], name="task_assignee_done_idx",
                         condition=models.Q(completed_at__isnull=False)),
            models.Index(fields=["due_at", "id"], name="task_due_idx"),
            models.Index(fields=["contact", "due_at"], name="task_contact_idx"),
            deleted_index("task_deleted_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(priority__in=PRIORITIES),
                                   name="task_priority_valid"),
            models.CheckConstraint(condition=models.Q(recurrence__in=RECURRENCES),
                                   name="task_recurrence_valid"),
            models.CheckConstraint(condition=~models.Q(title=""), name="task_title_not_empty"),
        ]

    def __str__(self) -> str:
        return self.title


class Reminder(TimestampedModel):
    """The reminder of one task occurrence for its assignee, and the ledger of its email.

    The bell shows it once ``remind_at`` has passed (until ``seen_at``). The email is sent by
    the worker exactly once: a worker claims the row (``claim_expires_at``) before sending and
    stamps ``email_sent_at`` after; a worker killed in between leaves a claim that expires, and
    the next sweep takes the row again (``attempts`` counts the tries).
    """

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="reminders")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="+", db_index=False)
    due_at = models.DateTimeField()  # of the occurrence it reminds of
    remind_at = models.DateTimeField()
    seen_at = models.DateTimeField(null=True, blank=True)
    email_sent_at = models.DateTimeField(null=True, blank=True)
    # Not sent and never will be (the task was done, moved or the reminder came too late).
    email_skipped_at = models.DateTimeField(null=True, blank=True)
    claim_token = models.CharField(max_length=32, blank=True, default="")
    claim_expires_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True, default="")

    class Meta:
        indexes = [
            # The worker's sweep: unsent emails by when they are due.
            models.Index(fields=["remind_at", "id"], name="reminder_email_due_idx",
                         condition=models.Q(email_sent_at__isnull=True,
                                            email_skipped_at__isnull=True)),
            # The bell: one user's unseen reminders.
            models.Index(fields=["user", "remind_at"], name="reminder_unseen_idx",
                         condition=models.Q(seen_at__isnull=True)),
        ]
        constraints = [
            models.UniqueConstraint(fields=["task", "user", "due_at"],
                                    name="reminder_one_per_occurrence"),
        ]


class CalendarFeed(models.Model):
    """A user's private iCalendar feed: only the SHA-256 of its URL's token is kept."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="+")
    prefix = models.CharField(max_length=12)
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user"], condition=models.Q(revoked_at__isnull=True),
                                    name="calendarfeed_one_active_per_user"),
        ]


class TranscriptionStatus(models.TextChoices):
    PENDING = "pending", "transcribing"
    DONE = "done", "transcribed"
    UNAVAILABLE = "unavailable", "not transcribed"
    FAILED = "failed", "transcription failed"


class CallRecording(models.Model):
    """The audio of a logged call and the state of its transcription.

    The bytes are kept in the database (as an import's file is), so a worker on any machine
    can read them; the call's ``recording_ref`` names this row (``recording:<id>``). What the
    transcript mentions is kept here: ``mentions`` = ``{"dates": [{"said", "date"}],
    "products": [{"id", "name"}], "preferences": [text]}``.
    """

    interaction = models.OneToOneField(Interaction, on_delete=models.CASCADE,
                                       related_name="recording")
    content = models.BinaryField()
    file_name = models.CharField(max_length=255, blank=True, default="")
    size = models.PositiveBigIntegerField(default=0)
    status = models.CharField(max_length=16, default=TranscriptionStatus.PENDING,
                              choices=TranscriptionStatus.choices)
    # Why it was not transcribed (not installed, failed), as shown to people.
    note = models.CharField(max_length=500, blank=True, default="")
    language = models.CharField(max_length=16, blank=True, default="")
    mentions = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    transcribed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(status__in=TranscriptionStatus.values),
                                   name="callrecording_status_valid"),
        ]

    def __str__(self) -> str:
        return f"recording of {self.interaction_id}"
