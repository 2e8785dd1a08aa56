"""The help desk: tickets and their threads, the rules that assign them and time them (SLAs),
the knowledge base, the chat assistant's conversations and the machines that open tickets.

Data and database constraints only: who gets a ticket, when it breaches and what the assistant
answers are the services' business.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from rapport.core.models import EditableModel, TimestampedModel, deleted_index
from rapport.core.permissions import OwnedBy, RestrictedQuerySet

# A ticket's human reference is ``T-`` and its number: the id plus this, so that the first
# ticket reads like a help desk's (T-10001) and the number never needs a second counter.
REFERENCE_OFFSET = 10000


class Status(models.TextChoices):
    NEW = "new", "new"
    OPEN = "open", "open"
    WAITING = "waiting", "waiting on customer"
    RESOLVED = "resolved", "resolved"
    CLOSED = "closed", "closed"


class Priority(models.TextChoices):
    LOW = "low", "low"
    NORMAL = "normal", "normal"
    HIGH = "high", "high"
    URGENT = "urgent", "urgent"


class Channel(models.TextChoices):
    EMAIL = "email", "email"
    WEB = "web", "web form"
    CHAT = "chat", "chat assistant"
    PHONE = "phone", "phone call"
    API = "api", "API"
    DEVICE = "device", "machine event"


class Tier(models.TextChoices):
    STANDARD = "standard", "standard"
    PREMIUM = "premium", "premium"


class SlaState(models.TextChoices):
    NONE = "", "no target"
    OK = "ok", "on track"
    AT_RISK = "at_risk", "at risk"
    BREACHED = "breached", "breached"
    MET = "met", "met"


STATUSES = tuple(Status.values)
OPEN_STATUSES = (Status.NEW, Status.OPEN, Status.WAITING)
PRIORITIES = tuple(Priority.values)
PRIORITY_RANK = {Priority.LOW: 0, Priority.NORMAL: 1, Priority.HIGH: 2, Priority.URGENT: 3}
CHANNELS = tuple(Channel.values)
TIERS = tuple(Tier.values)
SLA_STATES = tuple(SlaState.values)


class Ticket(EditableModel):
    """One request from a customer, from receipt to close."""

    subject = models.CharField(max_length=200)
    description = models.TextField(max_length=20000, blank=True, default="")
    # A person erased or purged from the bin takes their requests with them.
    contact = models.ForeignKey("contacts.Contact", on_delete=models.CASCADE, related_name="+")
    # The address replies go to and the acknowledgement went to (the contact's may change).
    requester_email = models.CharField(max_length=254, blank=True, default="")
    channel = models.CharField(max_length=16, choices=Channel.choices)
    category = models.CharField(max_length=100, blank=True, default="")
    priority = models.CharField(max_length=16, choices=Priority.choices,
                                default=Priority.NORMAL)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.NEW)
    tier = models.CharField(max_length=16, choices=Tier.choices, default=Tier.STANDARD)
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="+", db_index=False)
    deal = models.ForeignKey("sales.Deal", null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="+")
    # A duplicate merged into another ticket is closed and points there.
    merged_into = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="merged_tickets")
    # The Message-ID of the acknowledgement: replies to it (In-Reply-To/References) land here.
    thread_message_id = models.CharField(max_length=255, blank=True, default="")
    # AI for agents: what the model trained on closed tickets predicts, with its confidence;
    # the agent's category/priority stay the truth (corrections train the next model).
    predicted_category = models.CharField(max_length=100, blank=True, default="")
    category_confidence = models.FloatField(null=True, blank=True)
    predicted_priority = models.CharField(max_length=16, blank=True, default="")
    priority_confidence = models.FloatField(null=True, blank=True)
    # The customer's mood in their latest message (-1 … 1) and whether they sound angry/urgent.
    sentiment = models.FloatField(null=True, blank=True)
    flagged_angry = models.BooleanField(default=False)
    # SLA timers (business time, paused while waiting on the customer).
    sla_policy = models.ForeignKey("SlaPolicy", null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    first_response_due = models.DateTimeField(null=True, blank=True)
    resolution_due = models.DateTimeField(null=True, blank=True)
    first_responded_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    paused_at = models.DateTimeField(null=True, blank=True)
    paused_seconds = models.PositiveIntegerField(default=0)  # business seconds spent waiting
    sla_state = models.CharField(max_length=16, choices=SlaState.choices, blank=True,
                                 default="")
    at_risk_notified_at = models.DateTimeField(null=True, blank=True)
    breached_at = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)
    last_customer_message_at = models.DateTimeField(null=True, blank=True)
    reopened_count = models.PositiveSmallIntegerField(default=0)
    # Where it came from, when not a person: a chat conversation or a machine's event.
    conversation = models.ForeignKey("ChatConversation", null=True, blank=True,
                                     on_delete=models.SET_NULL, related_name="+")
    device = models.ForeignKey("Device", null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="+")

    # Not a column: the survey the service just mailed when it closed the ticket (pages say so).
    survey: Survey | None = None

    policy = OwnedBy("tickets", owner="assignee")
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        indexes = [
            models.Index(fields=["-created_at", "-id"], name="ticket_recent_idx"),
            models.Index(fields=["assignee", "status", "-created_at", "-id"],
                         name="ticket_assignee_idx"),
            models.Index(fields=["status", "-created_at", "-id"], name="ticket_status_idx"),
            models.Index(fields=["contact", "-created_at"], name="ticket_contact_idx"),
            models.Index(fields=["thread_message_id"], name="ticket_thread_idx",
                         condition=~Q(thread_message_id="")),
            # The SLA check reads only tickets with a running clock.
            models.Index(fields=["resolution_due"], name="ticket_sla_open_idx",
                         condition=Q(status__in=("new", "open", "waiting"))),
            deleted_index("ticket_deleted_idx"),
            # --- desk: one person's tickets newest first, whatever their status (a team's
            # list reads one branch per member through it) ---
            models.Index(fields=["assignee", "-created_at", "-id"],
                         name="ticket_assignee_recent_idx"),
            # --- end desk ---
        ]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=STATUSES), name="ticket_status_valid"),
            models.CheckConstraint(condition=Q(priority__in=PRIORITIES),
                                   name="ticket_priority_valid"),
            models.CheckConstraint(condition=Q(channel__in=CHANNELS),
                                   name="ticket_channel_valid"),
            models.CheckConstraint(condition=Q(tier__in=TIERS), name="ticket_tier_valid"),
            models.CheckConstraint(condition=Q(sla_state__in=SLA_STATES),
                                   name="ticket_sla_state_valid"),
            models.CheckConstraint(condition=~Q(merged_into=models.F("id")),
                                   name="ticket_not_merged_into_itself"),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.subject}"

    @property
    def reference(self) -> str:
        return f"T-{self.id + REFERENCE_OFFSET}" if self.id else "T-?"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class MessageKind(models.TextChoices):
    CUSTOMER = "customer", "from the customer"
    REPLY = "reply", "public reply"
    NOTE = "note", "internal note"
    SYSTEM = "system", "automatic"


MESSAGE_KINDS = tuple(MessageKind.values)


class TicketMessage(models.Model):
    """One entry of a ticket's thread: the customer's messages, agents' public replies (mailed)
    and internal notes (never mailed). Bodies are plain text, sanitised on the way in."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="messages")
    kind = models.CharField(max_length=16, choices=MessageKind.choices)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                               on_delete=models.SET_NULL, related_name="+")
    body = models.TextField(max_length=100000)
    channel = models.CharField(max_length=16, choices=Channel.choices, blank=True, default="")
    # Mail: the message's own Message-ID (inbound or outbound) for threading and once-only.
    message_id = models.CharField(max_length=255, blank=True, default="")
    mail_message_id = models.BigIntegerField(null=True, blank=True)  # activities.MailMessage
    outbound_email_id = models.BigIntegerField(null=True, blank=True)  # activities.OutboundEmail
    sentiment = models.FloatField(null=True, blank=True)
    urgent = models.BooleanField(default=False)
    created_at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["ticket", "created_at", "id"], name="ticketmsg_ticket_idx"),
            models.Index(fields=["message_id"], name="ticketmsg_message_id_idx",
                         condition=~Q(message_id="")),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=MESSAGE_KINDS),
                                   name="ticketmsg_kind_valid"),
        ]


class TicketAttachment(models.Model):
    message = models.ForeignKey(TicketMessage, on_delete=models.CASCADE,
                                related_name="attachments")
    filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100, blank=True, default="")
    size = models.PositiveIntegerField(default=0)
    data = models.BinaryField()


class StatusChange(models.Model):
    """Every status a ticket passed through, with when: SLA pauses and reopen rates read it."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="status_changes")
    from_status = models.CharField(max_length=16, blank=True, default="")
    to_status = models.CharField(max_length=16)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["ticket", "at"], name="statuschange_ticket_idx")]


class AssignmentLog(models.Model):
    """Who got a ticket, by which rule or whose hand, and why (in words)."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="assignments")
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="+")
    rule = models.CharField(max_length=100, blank=True, default="")
    reason = models.CharField(max_length=500)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["ticket", "at"], name="assignlog_ticket_idx")]


class AgentProfile(models.Model):
    """An agent's skills (categories they take), whether they take tickets now, their hours."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                related_name="+")
    skills = models.JSONField(default=list, blank=True)  # category names
    accepts_tickets = models.BooleanField(default=True)
    # {"mon": [["09:00", "17:00"]], ...}; empty: the business's hours.
    working_hours = models.JSONField(default=dict, blank=True)


class DeskSettings(models.Model):
    """The help desk's one row of settings: business hours and holidays for SLAs, the support
    address, the assistant's allowed origins and limits."""

    time_zone = models.CharField(max_length=64, default="UTC")
    holiday_country = models.CharField(max_length=2, blank=True, default="")  # ISO 3166
    holiday_subdivision = models.CharField(max_length=10, blank=True, default="")
    # {"mon": [["09:00", "17:00"]], "tue": ..., "sat": [], "sun": []}
    business_hours = models.JSONField(default=dict, blank=True)
    support_address = models.CharField(max_length=254, blank=True, default="")
    acknowledge = models.BooleanField(default=True)
    widget_origins = models.JSONField(default=list, blank=True)  # "https://shop.example"
    widget_greeting = models.CharField(max_length=300, blank=True, default="")
    updated_at = models.DateTimeField(auto_now=True)
    # One row: a second (two first uses at once) fails on this and reads the first.
    one = models.BooleanField(default=True, unique=True, editable=False)


class ClosedDay(models.Model):
    """A day the desk is closed beyond the country's public holidays."""

    day = models.DateField(unique=True)
    name = models.CharField(max_length=100, blank=True, default="")


class SlaPolicy(models.Model):
    """Targets for one priority and customer tier, in business minutes."""

    name = models.CharField(max_length=100)
    priority = models.CharField(max_length=16, choices=Priority.choices)
    tier = models.CharField(max_length=16, choices=Tier.choices, default=Tier.STANDARD)
    first_response_minutes = models.PositiveIntegerField()
    resolution_minutes = models.PositiveIntegerField()
    at_risk_percent = models.PositiveSmallIntegerField(default=80)
    active = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["priority", "tier"], name="sla_priority_tier_unique"),
            models.CheckConstraint(condition=Q(at_risk_percent__gte=1)
                                   & Q(at_risk_percent__lte=99), name="sla_at_risk_range"),
            models.CheckConstraint(condition=Q(first_response_minutes__gte=1)
                                   & Q(resolution_minutes__gte=1), name="sla_minutes_positive"),
        ]


class Survey(models.Model):
    """The satisfaction survey mailed when a ticket closes: one click gives the score."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="surveys")
    token = models.CharField(max_length=64, unique=True)
    score = models.PositiveSmallIntegerField(null=True, blank=True)
    comment = models.TextField(max_length=2000, blank=True, default="")
    sent_at = models.DateTimeField()
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(score__isnull=True)
                                   | (Q(score__gte=1) & Q(score__lte=5)),
                                   name="survey_score_range"),
        ]


class TicketView(models.Model):
    """A user's saved ticket list: a name and the list's query string."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="+")
    name = models.CharField(max_length=100)
    query = models.CharField(max_length=1000, blank=True, default="")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "name"],
                                               name="ticketview_user_name_unique")]


class SupportModel(models.Model):
    """A text model the scheduler trained on the business's closed tickets (category or
    priority); the newest ``ready`` one of a kind predicts. ``message`` says why none could."""

    kind = models.CharField(max_length=16)  # "category" or "priority"
    ready = models.BooleanField(default=False)
    message = models.CharField(max_length=500, blank=True, default="")
    rows = models.PositiveIntegerField(default=0)
    metrics = models.JSONField(default=dict, blank=True)
    artifact = models.BinaryField(null=True, blank=True)
    trained_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["kind", "-trained_at"], name="supportmodel_kind_idx")]


# --- knowledge base ------------------------------------------------------------------------


class ArticleStatus(models.TextChoices):
    DRAFT = "draft", "draft"
    PUBLISHED = "published", "published"


class ArticleCategory(models.Model):
    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True)
    position = models.PositiveIntegerField(default=0)


class Article(EditableModel):
    """A help-centre article or FAQ entry (``is_faq``: a question as title, a short answer)."""

    title = models.CharField(max_length=200)
    slug = models.SlugField(max_length=200, unique=True)
    body = models.TextField(max_length=50000)
    category = models.ForeignKey(ArticleCategory, null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="articles")
    status = models.CharField(max_length=16, choices=ArticleStatus.choices,
                              default=ArticleStatus.DRAFT)
    is_faq = models.BooleanField(default=False)
    published_at = models.DateTimeField(null=True, blank=True)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                               on_delete=models.SET_NULL, related_name="+")
    helpful_yes = models.PositiveIntegerField(default=0)
    helpful_no = models.PositiveIntegerField(default=0)

    policy = OwnedBy("articles", owner=None)
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(fields=["status", "-published_at"], name="article_status_idx"),
                   deleted_index("article_deleted_idx")]
        constraints = [models.CheckConstraint(condition=Q(status__in=("draft", "published")),
                                              name="article_status_valid")]

    def __str__(self) -> str:
        return self.title


class ArticleVote(models.Model):
    """"Was this helpful?": one vote per article and visitor (a cookie's key), changeable."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="votes")
    visitor = models.CharField(max_length=64)
    helpful = models.BooleanField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["article", "visitor"],
                                               name="articlevote_once")]


# --- the chat assistant ----------------------------------------------------------------------


class ConversationStatus(models.TextChoices):
    OPEN = "open", "open"
    HANDED_OVER = "handed_over", "handed to a person"
    CLOSED = "closed", "closed"


class ChatConversation(TimestampedModel):
    """A visitor's conversation with the assistant on the business's website."""

    token = models.CharField(max_length=64, unique=True)  # the widget's handle
    visitor = models.CharField(max_length=64)  # a key the widget keeps (rate limits, votes)
    origin = models.CharField(max_length=200, blank=True, default="")
    page_url = models.CharField(max_length=500, blank=True, default="")
    name = models.CharField(max_length=200, blank=True, default="")
    email = models.CharField(max_length=254, blank=True, default="")
    contact = models.ForeignKey("contacts.Contact", null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="+")
    lead_id = models.BigIntegerField(null=True, blank=True)  # sales.Lead it fed
    status = models.CharField(max_length=16, choices=ConversationStatus.choices,
                              default=ConversationStatus.OPEN)
    last_message_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["-created_at"], name="chatconv_recent_idx")]


class Sender(models.TextChoices):
    VISITOR = "visitor", "visitor"
    BOT = "bot", "assistant"
    AGENT = "agent", "agent"


class ChatMessage(models.Model):
    conversation = models.ForeignKey(ChatConversation, on_delete=models.CASCADE,
                                     related_name="messages")
    sender = models.CharField(max_length=16, choices=Sender.choices)
    text = models.TextField(max_length=4000)
    intent = models.CharField(max_length=100, blank=True, default="")
    intent_confidence = models.FloatField(null=True, blank=True)
    # The assistant's answer: the article and passage it quoted and how sure it was; or none
    # ("I don't know").
    article = models.ForeignKey(Article, null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="+")
    passage = models.TextField(max_length=4000, blank=True, default="")
    score = models.FloatField(null=True, blank=True)
    answered = models.BooleanField(default=False)
    feedback = models.SmallIntegerField(null=True, blank=True)  # +1 thumbs up, -1 down
    created_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["conversation", "created_at", "id"],
                                name="chatmsg_conv_idx")]
        constraints = [models.CheckConstraint(
            condition=Q(feedback__isnull=True) | Q(feedback__in=(-1, 1)),
            name="chatmsg_feedback_valid")]


# --- machines that open tickets --------------------------------------------------------------


class Device(models.Model):
    """A customer's machine that reports events (a fridge, a coffee machine…)."""

    device_id = models.CharField(max_length=100, unique=True)
    name = models.CharField(max_length=200, blank=True, default="")
    contact = models.ForeignKey("contacts.Contact", on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name or self.device_id


class RuleOperator(models.TextChoices):
    EQ = "eq", "equals"
    NE = "ne", "is not"
    LT = "lt", "is less than"
    GT = "gt", "is greater than"
    CONTAINS = "contains", "contains"


RULE_OPERATORS = ("", *RuleOperator.values)


class EventRule(models.Model):
    """``event type`` (and optionally ``payload[field] operator value``) → open a ticket with
    this subject, category and priority; one open ticket per device and rule at a time."""

    name = models.CharField(max_length=100)
    event_type = models.CharField(max_length=100)
    field = models.CharField(max_length=100, blank=True, default="")
    operator = models.CharField(max_length=16, choices=RuleOperator.choices, blank=True,
                                default="")
    value = models.CharField(max_length=200, blank=True, default="")
    subject = models.CharField(max_length=200)
    category = models.CharField(max_length=100, blank=True, default="")
    priority = models.CharField(max_length=16, choices=Priority.choices,
                                default=Priority.NORMAL)
    position = models.PositiveIntegerField(default=0)
    active = models.BooleanField(default=True)

    # --- events: the operators a condition may use, checked by the database too ---
    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(operator__in=RULE_OPERATORS),
                name="eventrule_operator_valid"),
            models.CheckConstraint(condition=Q(priority__in=PRIORITIES),
                                   name="eventrule_priority_valid"),
            # A condition is a field and an operator, or neither.
            models.CheckConstraint(condition=Q(field="", operator="") | (~Q(field="")
                                                                          & ~Q(operator="")),
                                   name="eventrule_condition_whole"),
        ]

    def __str__(self) -> str:
        return self.name


class EventAction(models.TextChoices):
    OPENED = "opened", "opened a ticket"
    APPENDED = "appended", "added to the open ticket"
    LOGGED = "logged", "logged (no rule matched)"


EVENT_ACTIONS = tuple(EventAction.values)


class MachineEvent(models.Model):
    """Every event a device sent, and the ticket it opened or joined (if any)."""

    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="events")
    event_type = models.CharField(max_length=100)
    payload = models.JSONField(default=dict, blank=True)
    rule = models.ForeignKey(EventRule, null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="+")
    ticket = models.ForeignKey(Ticket, null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="+")
    received_at = models.DateTimeField()
    # --- events: when the machine says it happened, and what the event did ---
    occurred_at = models.DateTimeField(null=True, blank=True)
    action = models.CharField(max_length=16, choices=EventAction.choices,
                              default=EventAction.LOGGED)

    class Meta:
        indexes = [models.Index(fields=["device", "-received_at"], name="machineevent_dev_idx"),
                   # The ticket a rule opened for a device, while it is open.
                   models.Index(fields=["device", "rule", "-id"], name="machineevent_opened_idx",
                                condition=Q(action="opened"))]
        constraints = [models.CheckConstraint(condition=Q(action__in=EVENT_ACTIONS),
                                              name="machineevent_action_valid")]
