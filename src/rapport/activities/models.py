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
    # An email's conversation (the first Message-ID of its References chain) and the message
    # it was captured from (one message matched to three people is three interactions).
    thread = models.CharField(max_length=500, blank=True, default="")
    mail = models.ForeignKey("MailMessage", null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="interactions", db_index=False)

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
            models.Index(fields=["thread", "occurred_at"], name="interaction_thread_idx",
                         condition=~models.Q(thread="")),
            models.Index(fields=["mail"], name="interaction_mail_idx",
                         condition=models.Q(mail__isnull=False)),
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
            # A person's (or, merged per member, a team's) done tasks, newest due first.
            models.Index(fields=["assignee", "due_at", "id"], name="task_assignee_done_due_idx",
                         condition=models.Q(completed_at__isnull=False,
                                            deleted_at__isnull=True)),
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


class MailSource(models.TextChoices):
    SMTP = "smtp", "forwarded to the CRM address"
    IMAP = "imap", "mailbox"
    FILE = "file", "imported file"
    API = "api", "API"


class MailMessage(TimestampedModel):
    """One email as it reached the CRM, once: ``key`` is its Message-ID, else a hash of its
    content, so the copy that comes by BCC and the one IMAP finds are stored once."""

    key = models.CharField(max_length=500, unique=True)
    message_id = models.CharField(max_length=500, blank=True, default="")
    thread = models.CharField(max_length=500, blank=True, default="")
    source = models.CharField(max_length=8, choices=MailSource.choices)
    from_address = models.CharField(max_length=254, blank=True, default="")
    subject = models.CharField(max_length=300, blank=True, default="")
    sent_at = models.DateTimeField(null=True, blank=True)  # its Date header
    size = models.PositiveIntegerField(default=0)
    auto_submitted = models.BooleanField(default=False)
    # What was worked around while reading it (malformed parts, dropped attachments…).
    problems = models.JSONField(default=list, blank=True)

    class Meta:
        indexes = [models.Index(fields=["from_address", "created_at"],
                                name="mailmessage_sender_idx")]


class MailAttachment(models.Model):
    """A file that came with a message: kept up to the configured size, else only named."""

    message = models.ForeignKey(MailMessage, on_delete=models.CASCADE,
                                related_name="attachments")
    filename = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    data = models.BinaryField(null=True, blank=True)  # None: dropped, over the limit
    dropped = models.BooleanField(default=False)


class MailRejection(models.Model):
    """A message the CRM would not take, and why (the listener logs and goes on)."""

    received_at = models.DateTimeField(auto_now_add=True)
    source = models.CharField(max_length=8, choices=MailSource.choices)
    sender = models.CharField(max_length=254, blank=True, default="")
    subject = models.CharField(max_length=300, blank=True, default="")
    reason = models.CharField(max_length=500)
    size = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["-received_at"], name="mailrejection_recent_idx")]


class Mailbox(TimestampedModel):
    """The IMAP mailbox the scheduler polls (one per business; set on the settings page).

    The password is stored as typed and never shown again: the database holds the business's
    data anyway, and a mailbox that must be read without a person present needs it.
    ``last_uid`` and ``uid_validity`` say where the last poll stopped.
    """

    host = models.CharField(max_length=200)
    port = models.PositiveIntegerField(default=993)
    security = models.CharField(max_length=8, default="ssl",
                                choices=[("ssl", "SSL/TLS"), ("starttls", "STARTTLS"),
                                         ("none", "none (local servers only)")])
    username = models.CharField(max_length=200)
    password = models.CharField(max_length=500)
    folder = models.CharField(max_length=200, default="INBOX")
    enabled = models.BooleanField(default=True)
    uid_validity = models.BigIntegerField(null=True, blank=True)
    last_uid = models.BigIntegerField(default=0)
    last_polled_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True, default="")
    version = models.PositiveIntegerField(default=1)
class EmailTemplate(EditableModel):
    """A saved email to send to a customer: its subject and body are Jinja2 templates
    (``{{ contact.first_name | default("there") }}``), checked when saved (see ``merge.py``)
    and rendered in a sandbox with only the data the sender passes in."""

    name = models.CharField(max_length=150)
    subject = models.CharField(max_length=300)
    body = models.TextField(max_length=20_000)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+", db_index=False)

    policy = OwnedBy("email_templates", owner="owner")
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        indexes = [
            models.Index(fields=["name", "id"], name="emailtemplate_name_idx"),
            models.Index(fields=["owner", "name", "id"], name="emailtemplate_owner_idx"),
            deleted_index("emailtemplate_deleted_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=~models.Q(name=""), name="emailtemplate_has_name"),
        ]

    def __str__(self) -> str:
        return self.name


class SendStatus(models.TextChoices):
    QUEUED = "queued", "queued"
    SENDING = "sending", "sending"
    SENT = "sent", "sent"
    # The worker handed it to the mail server and died (or the line dropped) before it knew
    # the answer: it may have gone out. Never resent by itself: a person decides.
    UNCERTAIN = "uncertain", "may have been sent"
    FAILED = "failed", "not sent"


SEND_STATUSES = tuple(SendStatus.values)


class OutboundEmail(TimestampedModel):
    """One email to a customer and the ledger of its sending (docs/email.md).

    Rendered when it is queued (what is sent is what the sender saw), with its Message-ID
    made then too. The worker claims the row (``claim_token``, ``claim_expires_at``), stamps
    ``handed_over_at`` in its own commit just before giving the message to the mail server,
    and stamps ``sent_at`` once the server accepted it. A claim that runs out without
    ``handed_over_at`` was never sent and is queued again; one with it may have been sent
    and becomes ``uncertain`` instead of being sent a second time.
    """

    # None for an email to someone who is not a contact yet (a sales lead in a nurturing
    # sequence): ``reference`` then says whose it is, and no conversation is logged.
    contact = models.ForeignKey("contacts.Contact", null=True, blank=True,
                                on_delete=models.CASCADE, related_name="+", db_index=False)
    reference = models.CharField(max_length=100, blank=True, default="")  # "lead:42"
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                               on_delete=models.SET_NULL, related_name="+", db_index=False)
    template = models.ForeignKey(EmailTemplate, null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="+", db_index=False)
    from_address = models.CharField(max_length=254)
    to_address = models.CharField(max_length=254)
    subject = models.CharField(max_length=300)
    body = models.TextField(max_length=50_000)
    message_id = models.CharField(max_length=500, unique=True)
    status = models.CharField(max_length=16, default=SendStatus.QUEUED,
                              choices=SendStatus.choices)
    claim_token = models.CharField(max_length=32, blank=True, default="")
    claim_expires_at = models.DateTimeField(null=True, blank=True)
    not_before = models.DateTimeField(null=True, blank=True)  # a retry waits until then
    handed_over_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True, default="")
    # The conversation on the person's timeline, logged once it was sent.
    interaction = models.OneToOneField(Interaction, null=True, blank=True,
                                       on_delete=models.SET_NULL, related_name="outbound")
    # --- desk: threading headers of a reply (a help desk ticket's thread) ---
    in_reply_to = models.CharField(max_length=500, blank=True, default="")
    references = models.TextField(max_length=20_000, blank=True, default="")
    # --- end desk ---

    # Whoever may see the person sees what was sent to them.
    policy = OwnedBy("activities", owner="contact__owner")
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        indexes = [
            # The worker's sweep: what is waiting or held by a claim that may have run out.
            models.Index(fields=["status", "id"], name="outbound_pending_idx",
                         condition=models.Q(status__in=("queued", "sending"))),
            models.Index(fields=["contact", "-created_at", "-id"], name="outbound_contact_idx"),
            models.Index(fields=["-created_at", "-id"], name="outbound_recent_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(status__in=SEND_STATUSES),
                                   name="outbound_status_valid"),
            models.CheckConstraint(
                condition=~models.Q(status="sent") | models.Q(sent_at__isnull=False),
                name="outbound_sent_has_time"),
        ]

    def __str__(self) -> str:
        return f"email {self.message_id} ({self.status})"


class OutboundAttachment(models.Model):
    """A file sent with an outbound email (a help desk reply's attachment)."""

    email = models.ForeignKey(OutboundEmail, on_delete=models.CASCADE,
                              related_name="attachments")
    filename = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100, blank=True, default="")
    data = models.BinaryField()


class OutgoingMail(models.Model):
    """Overrides of the outgoing mail server made on the settings page (one row at most).

    Empty fields fall back to the environment (``EMAIL_HOST``…). The password is never kept
    here: it comes from ``EMAIL_HOST_PASSWORD`` only, so no page or backup shows it.
    """

    host = models.CharField(max_length=253, blank=True, default="")
    port = models.PositiveIntegerField(null=True, blank=True)
    username = models.CharField(max_length=254, blank=True, default="")
    use_tls = models.BooleanField(default=False)
    use_ssl = models.BooleanField(default=False)
    from_email = models.CharField(max_length=254, blank=True, default="")
    business_name = models.CharField(max_length=150, blank=True, default="")
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")

    class Meta:
        constraints = [
            models.CheckConstraint(condition=~(models.Q(use_tls=True) & models.Q(use_ssl=True)),
                                   name="outgoingmail_tls_or_ssl"),
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
