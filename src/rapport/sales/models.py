"""Leads, the rules that score and hand them out, web forms, and the pipeline deals move in.

Data and database constraints only: what a lead scores, who gets it and how it converts are
the services' business.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from rapport.core.models import EditableModel, deleted_index
from rapport.core.permissions import OwnedBy, RestrictedQuerySet


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


LEAD_STATUSES = tuple(LeadStatus.values)
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
        ]
        constraints = [
            # One lead per address: a repeat submission updates it (and a race loses cleanly).
            models.UniqueConstraint(fields=["email"], name="lead_email_unique",
                                    condition=~Q(email="") & Q(deleted_at__isnull=True)),
            models.CheckConstraint(condition=Q(status__in=LEAD_STATUSES),
                                   name="lead_status_valid"),
            models.CheckConstraint(condition=Q(grade__in=GRADES), name="lead_grade_valid"),
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
    method = models.CharField(max_length=16, choices=AssignmentMethod.choices)
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
                           | (~Q(method="user") & Q(team__isnull=False))),
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

    policy = OwnedBy("deals")
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        indexes = [
            models.Index(fields=["-created_at", "-id"], name="deal_recent_idx"),
            models.Index(fields=["owner", "-created_at", "-id"], name="deal_owner_idx"),
            deleted_index("deal_deleted_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="deal_amount_nonneg"),
        ]

    def __str__(self) -> str:
        return self.name
