"""Leads, the rules that score and hand them out, web forms, and the pipeline deals move in.

Data and database constraints only: what a lead scores, who gets it and how it converts are
the services' business.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q

from rapport.core.models import EditableModel, deleted_index
from rapport.core.permissions import OwnedBy, RestrictedQuerySet, scope_filter, scope_for


class LeadStatus(models.TextChoices):
    NEW = "new", "new"
    WORKING = "working", "working"
    QUALIFIED = "qualified", "qualified"
    DISQUALIFIED = "disqualified", "disqualified"
    CONVERTED = "converted", "converted"


class Grade(models.TextChoices):
    A = "A"
    B = "B"
    C = "C"
    D = "D"


class OptIn(models.TextChoices):
    NONE = "", "not asked"
    PENDING = "pending", "waiting for confirmation"
    CONFIRMED = "confirmed", "confirmed"


LEAD_STATUSES = tuple(LeadStatus.values)
OPT_IN_STATES = tuple(OptIn.values)
OPEN_STATUSES = (LeadStatus.NEW, LeadStatus.WORKING, LeadStatus.QUALIFIED)
GRADES = tuple(Grade.values)


class Lead(EditableModel):
    """Someone who showed interest, before they are a contact with a deal."""

    name = models.CharField(max_length=200, blank=True, default="")
    email = models.CharField(max_length=254, blank=True, default="")
    phone = models.CharField(max_length=32, blank=True, default="")
    company_name = models.CharField(max_length=200, blank=True, default="")
    website = models.CharField(max_length=200, blank=True, default="")
    job_title = models.CharField(max_length=200, blank=True, default="")
    country = models.CharField(max_length=2, blank=True, default="")  # ISO 3166 alpha-2
    postcode = models.CharField(max_length=20, blank=True, default="")
    industry = models.CharField(max_length=100, blank=True, default="")
    company_size = models.CharField(max_length=16, blank=True, default="")
    message = models.TextField(max_length=5000, blank=True, default="")
    source = models.CharField(max_length=50, blank=True, default="")
    utm_source = models.CharField(max_length=100, blank=True, default="")
    utm_medium = models.CharField(max_length=100, blank=True, default="")
    utm_campaign = models.CharField(max_length=100, blank=True, default="")
    utm_term = models.CharField(max_length=100, blank=True, default="")
    utm_content = models.CharField(max_length=100, blank=True, default="")
    status = models.CharField(max_length=16, choices=LeadStatus.choices, default=LeadStatus.NEW)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+", db_index=False)
    # Qualification: the rules' points, the grade they give, and each rule's part in words.
    score = models.IntegerField(default=0)
    grade = models.CharField(max_length=1, choices=Grade.choices, default=Grade.D)
    score_reasons = models.JSONField(default=list, blank=True)
    # Enrichment: what was found without asking the person.
    matched_company_id = models.BigIntegerField(null=True, blank=True)
    email_domain = models.CharField(max_length=200, blank=True, default="")
    free_mail = models.BooleanField(default=False)
    phone_country = models.CharField(max_length=2, blank=True, default="")
    phone_line_type = models.CharField(max_length=20, blank=True, default="")
    enriched_by = models.JSONField(default=list, blank=True)
    # Distribution: the rule that chose the owner, in words ("Nordics (round robin)").
    assigned_by = models.CharField(max_length=200, blank=True, default="")
    assigned_at = models.DateTimeField(null=True, blank=True)
    submissions = models.PositiveIntegerField(default=1)
    web_form = models.ForeignKey("WebForm", null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="+")
    converted_at = models.DateTimeField(null=True, blank=True)
    converted_contact_id = models.BigIntegerField(null=True, blank=True)
    converted_company_id = models.BigIntegerField(null=True, blank=True)
    converted_deal_id = models.BigIntegerField(null=True, blank=True)
    # What the lead asked about: matched by assignment rules with product lines (skills).
    product_interest = models.CharField(max_length=100, blank=True, default="")
    # The model's conversion probability (0–1) beside the rule points, once the business has
    # enough won and lost leads to train one; its strongest factors, in plain words.
    ml_probability = models.FloatField(null=True, blank=True)
    ml_factors = models.JSONField(default=list, blank=True)
    ml_scored_at = models.DateTimeField(null=True, blank=True)
    # First response: a lead nobody touched by ``respond_by`` goes to someone else.
    respond_by = models.DateTimeField(null=True, blank=True)
    first_touched_at = models.DateTimeField(null=True, blank=True)
    reassignments = models.PositiveSmallIntegerField(default=0)
    # Double opt-in: "pending" until the person clicks the link mailed to them.
    opt_in = models.CharField(max_length=16, choices=OptIn.choices, blank=True, default="")
    opt_in_token = models.CharField(max_length=64, blank=True, default="")
    opt_in_confirmed_at = models.DateTimeField(null=True, blank=True)

    policy = OwnedBy("leads")
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        indexes = [
            models.Index(fields=["-created_at", "-id"], name="lead_recent_idx"),
            models.Index(fields=["owner", "-created_at", "-id"], name="lead_owner_idx"),
            models.Index(fields=["owner", "status"], name="lead_owner_status_idx"),
            models.Index(fields=["phone"], name="lead_phone_idx",
                         condition=~Q(phone="")),
            deleted_index("lead_deleted_idx"),
            # The first-response sweep: open leads with a deadline nobody has met yet.
            models.Index(fields=["respond_by"], name="lead_respond_by_idx",
                         condition=Q(respond_by__isnull=False, first_touched_at__isnull=True)),
            models.Index(fields=["opt_in_token"], name="lead_opt_in_token_idx",
                         condition=~Q(opt_in_token="")),
        ]
        constraints = [
            # One lead per address: a repeat submission updates it (and a race loses cleanly).
            models.UniqueConstraint(fields=["email"], name="lead_email_unique",
                                    condition=~Q(email="") & Q(deleted_at__isnull=True)),
            models.CheckConstraint(condition=Q(status__in=LEAD_STATUSES),
                                   name="lead_status_valid"),
            models.CheckConstraint(condition=Q(grade__in=GRADES), name="lead_grade_valid"),
            models.CheckConstraint(condition=Q(opt_in__in=OPT_IN_STATES),
                                   name="lead_opt_in_valid"),
            models.CheckConstraint(
                condition=Q(ml_probability__isnull=True)
                | (Q(ml_probability__gte=0) & Q(ml_probability__lte=1)),
                name="lead_ml_probability_range"),
        ]

    def __str__(self) -> str:
        return self.name or self.email or self.phone or f"Lead {self.id}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class ScoringField(models.TextChoices):
    COUNTRY = "country", "country"
    SOURCE = "source", "source"
    INDUSTRY = "industry", "industry"
    COMPANY_SIZE = "company_size", "company size"
    JOB_TITLE = "job_title", "job title"
    EMAIL_DOMAIN = "email_domain", "email domain"
    FREE_MAIL = "free_mail", "free-mail address"
    PHONE_LINE_TYPE = "phone_line_type", "phone line type"
    COMPANY_NAME = "company_name", "company name"
    WEBSITE = "website", "website"
    PHONE = "phone", "phone"
    MESSAGE = "message", "message"
    UTM_SOURCE = "utm_source", "UTM source"
    UTM_MEDIUM = "utm_medium", "UTM medium"
    UTM_CAMPAIGN = "utm_campaign", "UTM campaign"
    KNOWN_COMPANY = "matched_company_id", "known company"


class Operator(models.TextChoices):
    EQUALS = "equals", "is"
    NOT_EQUALS = "not_equals", "is not"
    CONTAINS = "contains", "contains"
    STARTS_WITH = "starts_with", "starts with"
    ONE_OF = "one_of", "is one of"
    IS_SET = "is_set", "is filled in"
    IS_EMPTY = "is_empty", "is empty"


class LeadScoringRule(models.Model):
    """``field operator value`` → ``points`` (negative to mark a lead down)."""

    field = models.CharField(max_length=32, choices=ScoringField.choices)
    operator = models.CharField(max_length=16, choices=Operator.choices)
    value = models.CharField(max_length=200, blank=True, default="")
    points = models.IntegerField()
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(points__gte=-1000) & Q(points__lte=1000),
                                   name="scoring_points_range"),
        ]


class AssignmentMethod(models.TextChoices):
    ROUND_ROBIN = "round_robin", "round robin within the team"
    LEAST_LOADED = "least_loaded", "least loaded (fewest open leads)"
    USER = "user", "one person"


class AssignmentRule(models.Model):
    """Evaluated in ``position`` order; the first that matches a lead and has a rep free wins.

    Every condition left empty matches anything: a rule with none is a catch-all.
    """

    name = models.CharField(max_length=100)
    position = models.PositiveIntegerField()
    countries = models.JSONField(default=list, blank=True)  # ["SE", "NO"]
    postcode_prefixes = models.JSONField(default=list, blank=True)  # ["11", "12"]
    industries = models.JSONField(default=list, blank=True)  # lower-cased
    company_sizes = models.JSONField(default=list, blank=True)  # CompanySize values
    # A lead's product interest must be one of these (a skill: the reps who know the line).
    product_lines = models.JSONField(default=list, blank=True)
    # The territory's own rules match the lead and its members share it out.
    territory = models.ForeignKey("Territory", null=True, blank=True, on_delete=models.CASCADE,
                                  related_name="+")
    method = models.CharField(max_length=16, choices=AssignmentMethod.choices)
    # Untouched this many minutes after assignment → handed on and the manager told.
    first_response_minutes = models.PositiveIntegerField(null=True, blank=True)
    team = models.ForeignKey("accounts.Team", null=True, blank=True, on_delete=models.CASCADE,
                             related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                             on_delete=models.CASCADE, related_name="+")
    cap = models.PositiveIntegerField(null=True, blank=True)  # open leads per rep at most
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(method="user", user__isnull=False)
                           | (~Q(method="user") & (Q(team__isnull=False)
                                                   | Q(territory__isnull=False)))),
                name="assignmentrule_target"),
        ]

    def __str__(self) -> str:
        return self.name


class RoundRobinCursor(models.Model):
    """Whose turn it was last under a round-robin rule. Locked (``select_for_update``) by each
    assignment, so two leads arriving at once never take the same turn."""

    rule = models.OneToOneField(AssignmentRule, primary_key=True, on_delete=models.CASCADE,
                                related_name="cursor")
    last_user_id = models.BigIntegerField(null=True, blank=True)
    turns = models.PositiveBigIntegerField(default=0)


class RepAvailability(models.Model):
    """A rep's out-of-office flag: no new leads while it is set."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, primary_key=True,
                                on_delete=models.CASCADE, related_name="+")
    out_of_office = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)


class AssignmentLog(models.Model):
    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="assignments")
    rule = models.ForeignKey(AssignmentRule, null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="+")
    rule_text = models.CharField(max_length=200)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+")
    reason = models.CharField(max_length=500, blank=True, default="")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["lead", "-id"], name="assignmentlog_lead_idx")]


class WebForm(models.Model):
    """An embeddable form: the fields the business picked, posted to ``/f/<key>/``."""

    key = models.CharField(max_length=32, unique=True)
    name = models.CharField(max_length=100)
    fields = models.JSONField(default=list)  # lead field names, in order
    required = models.JSONField(default=list)
    source = models.CharField(max_length=50, default="web form")
    redirect_url = models.CharField(max_length=500, blank=True, default="")
    # Mail the person a confirmation link; the lead is assigned once they click it.
    double_opt_in = models.BooleanField(default=False)
    active = models.BooleanField(default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name


class Pipeline(models.Model):
    name = models.CharField(max_length=100, unique=True)
    is_default = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["is_default"], condition=Q(is_default=True),
                                               name="pipeline_one_default")]

    def __str__(self) -> str:
        return self.name


class Stage(models.Model):
    pipeline = models.ForeignKey(Pipeline, on_delete=models.CASCADE, related_name="stages")
    name = models.CharField(max_length=100)
    position = models.PositiveIntegerField()
    probability = models.PositiveSmallIntegerField()  # percent
    is_won = models.BooleanField(default=False)
    is_lost = models.BooleanField(default=False)

    class Meta:
        ordering = ["pipeline", "position"]
        constraints = [
            models.UniqueConstraint(fields=["pipeline", "position"], name="stage_position_unique"),
            models.CheckConstraint(condition=Q(probability__lte=100), name="stage_probability"),
        ]

    def __str__(self) -> str:
        return self.name


class Deal(EditableModel):
    name = models.CharField(max_length=200)
    amount = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    currency = models.CharField(max_length=3, default="USD")
    expected_close = models.DateField(null=True, blank=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+", db_index=False)
    pipeline = models.ForeignKey(Pipeline, on_delete=models.PROTECT, related_name="deals")
    stage = models.ForeignKey(Stage, on_delete=models.PROTECT, related_name="deals")
    contact = models.ForeignKey("contacts.Contact", null=True, blank=True,
                                on_delete=models.PROTECT, related_name="+")
    company = models.ForeignKey("contacts.Company", null=True, blank=True,
                                on_delete=models.PROTECT, related_name="+")
    lead = models.ForeignKey(Lead, null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="+")
    territory = models.ForeignKey("Territory", null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="+", db_index=False)
    next_step = models.CharField(max_length=200, blank=True, default="")
    stage_entered_at = models.DateTimeField(null=True, blank=True)
    # Set when the deal reaches a won or lost stage, cleared if it is reopened.
    closed_at = models.DateTimeField(null=True, blank=True)
    lost_reason = models.CharField(max_length=200, blank=True, default="")
    # The learned chance of winning (0–1), once enough deals have closed to train on; the
    # stage's probability stands in until then.
    win_probability = models.FloatField(null=True, blank=True)

    policy = OwnedBy("deals")
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        indexes = [
            models.Index(fields=["-created_at", "-id"], name="deal_recent_idx"),
            models.Index(fields=["owner", "-created_at", "-id"], name="deal_owner_idx"),
            deleted_index("deal_deleted_idx"),
            # A kanban column, a page at a time: newest in the stage first.
            models.Index(fields=["stage", "-stage_entered_at", "-id"], name="deal_column_idx",
                         condition=Q(deleted_at__isnull=True)),
            models.Index(fields=["owner", "stage", "-stage_entered_at", "-id"],
                         name="deal_owner_column_idx", condition=Q(deleted_at__isnull=True)),
            models.Index(fields=["territory", "stage"], name="deal_territory_idx",
                         condition=Q(territory__isnull=False)),
            models.Index(fields=["closed_at"], name="deal_closed_idx",
                         condition=Q(closed_at__isnull=False)),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="deal_amount_nonneg"),
            models.CheckConstraint(
                condition=Q(win_probability__isnull=True)
                | (Q(win_probability__gte=0) & Q(win_probability__lte=1)),
                name="deal_win_probability_range"),
        ]

    def __str__(self) -> str:
        return self.name


class DealLine(models.Model):
    """A product from the catalogue on a deal (or a free-text line)."""

    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey("orders.Product", null=True, blank=True,
                                on_delete=models.PROTECT, related_name="+")
    description = models.CharField(max_length=200, blank=True, default="")
    quantity = models.DecimalField(max_digits=12, decimal_places=3, default=1)
    unit_price = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["deal", "position", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="dealline_quantity_pos"),
            models.CheckConstraint(condition=Q(unit_price__gte=0), name="dealline_price_nonneg"),
        ]


class StageChange(models.Model):
    """A deal's move from one stage to another: its stage history and time in stage."""

    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="stage_changes")
    from_stage = models.ForeignKey(Stage, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    to_stage = models.ForeignKey(Stage, on_delete=models.PROTECT, related_name="+")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+")
    changed_at = models.DateTimeField()
    # How long the deal sat in ``from_stage`` before this move.
    seconds_in_stage = models.PositiveBigIntegerField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["deal", "changed_at", "id"], name="stagechange_deal_idx")]


class Territory(models.Model):
    """A patch of the market: its rules say which leads and deals fall in it (the first
    territory by ``position`` wins where two overlap); its members work it."""

    name = models.CharField(max_length=100, unique=True)
    position = models.PositiveIntegerField()
    countries = models.JSONField(default=list, blank=True)  # ["SE", "NO"]
    regions = models.JSONField(default=list, blank=True)  # free text, lower-cased
    postcode_prefixes = models.JSONField(default=list, blank=True)
    industries = models.JSONField(default=list, blank=True)  # lower-cased
    company_sizes = models.JSONField(default=list, blank=True)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")
    manager = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.name


class GoalPeriod(models.TextChoices):
    MONTH = "month", "month"
    QUARTER = "quarter", "quarter"


class GoalQuerySet(RestrictedQuerySet):
    """Goals are owned by their rep; a team's goal belongs to that team. ``restrict`` adds the
    viewer's own team's goal to an "own" or "team" scope (a rep sees the target they share);
    a territory's goal and the business's (no target) need the "all" scope."""

    def restrict(self, user: Any, action: str = "view") -> RestrictedQuerySet:
        condition = scope_filter(user, f"goals.{action}", "user")
        if condition is None:
            return self.none()
        if scope_for(user, f"goals.{action}") != "all" and getattr(user, "team_id", None):
            condition |= Q(team_id=user.team_id)
        return self.filter(condition)


class Goal(models.Model):
    """Revenue to win in a month or quarter, for a rep, a team, a territory or (none set)
    the whole business."""

    period = models.CharField(max_length=8, choices=GoalPeriod.choices)
    starts_on = models.DateField()  # the first day of the month or quarter
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    currency = models.CharField(max_length=3, default="USD")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                             on_delete=models.CASCADE, related_name="+")
    team = models.ForeignKey("accounts.Team", null=True, blank=True, on_delete=models.CASCADE,
                             related_name="+")
    territory = models.ForeignKey(Territory, null=True, blank=True, on_delete=models.CASCADE,
                                  related_name="goals")
    created_at = models.DateTimeField(auto_now_add=True)

    policy = OwnedBy("goals", owner="user")
    objects = GoalQuerySet.as_manager()

    class Meta:
        ordering = ["starts_on", "id"]
        indexes = [models.Index(fields=["starts_on", "period"], name="goal_period_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="goal_amount_nonneg"),
            models.CheckConstraint(condition=Q(period__in=("month", "quarter")),
                                   name="goal_period_valid"),
            # At most one of rep, team, territory.
            models.CheckConstraint(
                condition=(Q(user__isnull=True, team__isnull=True)
                           | Q(user__isnull=True, territory__isnull=True)
                           | Q(team__isnull=True, territory__isnull=True)),
                name="goal_one_target"),
        ]


class Sequence(models.Model):
    """A nurturing sequence: emails and tasks spaced by days, stopped by a reply, a meeting
    or conversion."""

    name = models.CharField(max_length=100)
    active = models.BooleanField(default=True)
    stop_on_reply = models.BooleanField(default=True)
    stop_on_meeting = models.BooleanField(default=True)
    stop_on_convert = models.BooleanField(default=True)
    # Enrol new leads by itself: each lead captured from then on that matches every condition
    # set here (none set: every new lead).
    auto_enrol = models.BooleanField(default=False)
    auto_source = models.CharField(max_length=50, blank=True, default="")
    auto_web_form = models.ForeignKey("WebForm", null=True, blank=True,
                                      on_delete=models.SET_NULL, related_name="+")
    auto_grades = models.CharField(max_length=4, blank=True, default="")  # "AB": A or B
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    # Shared settings: no owner ("sequences.view" / "sequences.change").
    policy = OwnedBy("sequences", owner=None)
    objects = RestrictedQuerySet.as_manager()

    def __str__(self) -> str:
        return self.name


class StepKind(models.TextChoices):
    EMAIL = "email", "send an email"
    TASK = "task", "create a task"


class SequenceStep(models.Model):
    sequence = models.ForeignKey(Sequence, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveSmallIntegerField()
    wait_days = models.PositiveSmallIntegerField(default=0)  # after the step before
    kind = models.CharField(max_length=8, choices=StepKind.choices)
    template = models.ForeignKey("activities.EmailTemplate", null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="+")
    task_title = models.CharField(max_length=200, blank=True, default="")

    class Meta:
        ordering = ["sequence", "position"]
        constraints = [
            models.UniqueConstraint(fields=["sequence", "position"], name="seqstep_position"),
            models.CheckConstraint(
                condition=(Q(kind="email", template__isnull=False)
                           | (Q(kind="task") & ~Q(task_title=""))),
                name="seqstep_has_content"),
        ]


class EnrollmentStatus(models.TextChoices):
    ACTIVE = "active", "active"
    COMPLETED = "completed", "completed"
    STOPPED = "stopped", "stopped"


class Enrollment(models.Model):
    """A lead going through a sequence; ``next_step``/``next_run_at`` say what the worker does
    next and when."""

    sequence = models.ForeignKey(Sequence, on_delete=models.CASCADE, related_name="enrollments")
    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="enrollments")
    status = models.CharField(max_length=10, choices=EnrollmentStatus.choices,
                              default=EnrollmentStatus.ACTIVE)
    next_position = models.PositiveSmallIntegerField(default=1)
    next_run_at = models.DateTimeField(null=True, blank=True)
    stop_reason = models.CharField(max_length=200, blank=True, default="")
    enrolled_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    enrolled_at = models.DateTimeField(auto_now_add=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["next_run_at"], name="enrollment_due_idx",
                                condition=Q(status="active"))]
        constraints = [
            models.UniqueConstraint(fields=["sequence", "lead"], name="enrollment_once_active",
                                    condition=Q(status="active")),
        ]


class StepRun(models.Model):
    """One step done for one enrollment: unique, so a step is never done twice."""

    enrollment = models.ForeignKey(Enrollment, on_delete=models.CASCADE, related_name="runs")
    step = models.ForeignKey(SequenceStep, on_delete=models.CASCADE, related_name="+")
    outbound_email_id = models.BigIntegerField(null=True, blank=True)
    task_id = models.BigIntegerField(null=True, blank=True)
    ran_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["enrollment", "step"],
                                               name="steprun_once")]


class ModelKind(models.TextChoices):
    LEAD_SCORE = "lead_score", "lead conversion"
    DEAL_WIN = "deal_win", "deal win"


class TrainedModel(models.Model):
    """A model the scheduler trained on the business's own outcomes, with its quality; the
    newest ``ready`` one of a kind scores. ``message`` says why none could be trained."""

    kind = models.CharField(max_length=16, choices=ModelKind.choices)
    ready = models.BooleanField(default=False)
    message = models.CharField(max_length=500, blank=True, default="")
    rows = models.PositiveIntegerField(default=0)
    positives = models.PositiveIntegerField(default=0)
    roc_auc = models.FloatField(null=True, blank=True)
    calibration = models.JSONField(default=dict, blank=True)  # ECE, Brier, reliability bins
    artifact = models.BinaryField(null=True, blank=True)  # joblib bytes of the fitted model
    trained_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["kind", "-trained_at"], name="trainedmodel_kind_idx")]
