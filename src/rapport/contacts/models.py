"""People, companies, tags, custom field definitions and saved list views."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.db import models

from rapport.core.models import EditableModel, deleted_index
from rapport.core.permissions import OwnedBy, RestrictedQuerySet
from rapport.core.validation import has_control_characters


class LifecycleStage(models.TextChoices):
    SUBSCRIBER = "subscriber", "subscriber"
    LEAD = "lead", "lead"
    OPPORTUNITY = "opportunity", "opportunity"
    CUSTOMER = "customer", "customer"
    FORMER_CUSTOMER = "former_customer", "former customer"


class CompanySize(models.TextChoices):
    TINY = "1-10"
    SMALL = "11-50"
    MEDIUM = "51-200"
    LARGE = "201-1000"
    HUGE = "1000+"


class FieldType(models.TextChoices):
    TEXT = "text"
    NUMBER = "number"
    DATE = "date"
    CHOICE = "choice"
    BOOLEAN = "boolean"


class ObjectType(models.TextChoices):
    CONTACT = "contact"
    COMPANY = "company"


LIFECYCLE_STAGES = tuple(LifecycleStage.values)
FIELD_TYPES = tuple(FieldType.values)
OBJECT_TYPES = tuple(ObjectType.values)
COMPANY_SIZES = tuple(CompanySize.values)
CUSTOM_TEXT_LIMIT = 1000


class Tag(models.Model):
    name = models.CharField(max_length=50, unique=True)

    def __str__(self) -> str:
        return self.name


class Company(EditableModel):
    name = models.CharField(max_length=200)
    domain = models.CharField(max_length=200, blank=True, default="")
    industry = models.CharField(max_length=100, blank=True, default="")
    size = models.CharField(max_length=16, blank=True, default="", choices=CompanySize.choices)
    address = models.TextField(max_length=2000, blank=True, default="")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+", db_index=False)
    tags = models.ManyToManyField(Tag, through="CompanyTag", related_name="companies")
    custom_fields = models.JSONField(default=dict, blank=True)

    policy = OwnedBy("companies")
    objects = RestrictedQuerySet.as_manager()
    # Not a column: a list page's tag names of the company, loaded for the page at once.
    tag_names: list[str]

    class Meta:
        indexes = [
            models.Index(fields=["name", "id"], name="company_name_idx"),
            # One owner's companies by name (a team's list merges its members').
            models.Index(fields=["owner", "name", "id"], name="company_owner_name_idx"),
            models.Index(fields=["domain"], name="company_domain_idx"),
            deleted_index("company_deleted_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=~models.Q(name=""), name="company_name_not_empty"),
        ]

    def __str__(self) -> str:
        return self.name


class Contact(EditableModel):
    first_name = models.CharField(max_length=100, blank=True, default="")
    last_name = models.CharField(max_length=100, blank=True, default="")
    emails = models.JSONField(default=list, blank=True)
    primary_email = models.CharField(max_length=254, blank=True, default="", db_index=True)
    phones = models.JSONField(default=list, blank=True)
    addresses = models.JSONField(default=list, blank=True)
    job_title = models.CharField(max_length=150, blank=True, default="")
    # Their single-column indexes would repeat the first column of the list indexes below.
    company = models.ForeignKey(Company, null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="contacts", db_index=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+", db_index=False)
    tags = models.ManyToManyField(Tag, through="ContactTag", related_name="contacts")
    lifecycle_stage = models.CharField(max_length=20, default=LifecycleStage.LEAD,
                                       choices=LifecycleStage.choices)
    source = models.CharField(max_length=100, blank=True, default="")
    email_opt_in = models.BooleanField(default=False)
    email_opt_in_at = models.DateTimeField(null=True, blank=True)
    email_opt_in_source = models.CharField(max_length=100, blank=True, default="")
    do_not_call = models.BooleanField(default=False)
    notes = models.TextField(blank=True, default="")
    preferences = models.JSONField(default=list, blank=True)
    custom_fields = models.JSONField(default=dict, blank=True)
    # Lower-cased name, emails, phone digits and company name: what search matches against.
    search_text = models.TextField(blank=True, default="")

    policy = OwnedBy("contacts")
    objects = RestrictedQuerySet.as_manager()
    # Not a column: the company as this viewer may see it (contacts.shown).
    shown_company: Company | None
    # Not a column: a list page's tag names of the person, loaded for the page at once.
    tag_names: list[str]

    class Meta:
        indexes = [
            models.Index(fields=["last_name", "first_name", "id"], name="contact_name_idx"),
            # One owner's people in each list order: a team's list merges its members' (the
            # plan cannot flip to sorting a whole team, whatever the statistics say).
            models.Index(fields=["owner", "id"], name="contact_owner_idx"),
            models.Index(fields=["owner", "last_name", "first_name", "id"],
                         name="contact_owner_name_idx"),
            models.Index(fields=["owner", "updated_at", "id"], name="contact_owner_updated_idx"),
            models.Index(fields=["company", "id"], name="contact_company_idx"),
            models.Index(fields=["updated_at", "id"], name="contact_updated_idx"),
            deleted_index("contact_deleted_idx"),
            # No index starts with lifecycle_stage: the list walks the name index and filters
            # (a stage is never rare enough to pay for sorting what an index on it would find).
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(lifecycle_stage__in=LIFECYCLE_STAGES),
                name="contact_stage_valid",
            ),
            models.CheckConstraint(
                condition=~(models.Q(first_name="") & models.Q(last_name="")),
                name="contact_has_name",
            ),
        ]

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


class ContactTag(models.Model):
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE)
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["contact", "tag"], name="contacttag_unique"),
        ]
        indexes = [models.Index(fields=["tag", "contact"], name="contacttag_tag_idx")]


class CompanyTag(models.Model):
    company = models.ForeignKey(Company, on_delete=models.CASCADE)
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["company", "tag"], name="companytag_unique"),
        ]


class CustomFieldDefinition(models.Model):
    object_type = models.CharField(max_length=16, choices=ObjectType.choices)
    key = models.SlugField(max_length=50)
    label = models.CharField(max_length=100)
    field_type = models.CharField(max_length=16, choices=FieldType.choices)
    choices = models.JSONField(default=list, blank=True)
    required = models.BooleanField(default=False)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["object_type", "key"], name="customfield_unique_key"),
            models.CheckConstraint(condition=models.Q(field_type__in=FIELD_TYPES),
                                   name="customfield_type_valid"),
            models.CheckConstraint(condition=models.Q(object_type__in=OBJECT_TYPES),
                                   name="customfield_object_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.object_type}.{self.key}"

    def coerce(self, raw: Any) -> Any:
        """A value typed by someone as this field stores it; ValueError says why not."""
        kind = self.field_type
        if kind == FieldType.TEXT:
            text = str(raw).strip()
            if has_control_characters(text):
                raise ValueError("contains control characters (such as NUL)")
            if len(text) > CUSTOM_TEXT_LIMIT:
                raise ValueError(f"must be at most {CUSTOM_TEXT_LIMIT} characters")
            return text
        if kind == FieldType.NUMBER:
            if isinstance(raw, bool):
                raise ValueError("must be a number")
            try:
                number = Decimal(str(raw).strip())
            except InvalidOperation:
                raise ValueError(f"{raw!r} is not a number") from None
            if not number.is_finite():
                raise ValueError("must be a finite number")
            return int(number) if number == number.to_integral_value() else float(number)
        if kind == FieldType.DATE:
            try:
                return dt.date.fromisoformat(str(raw).strip()).isoformat()
            except ValueError:
                raise ValueError(f"{raw!r} is not a date (use YYYY-MM-DD)") from None
        if kind == FieldType.BOOLEAN:
            if isinstance(raw, bool):
                return raw
            text = str(raw).strip().lower()
            if text in ("true", "1", "yes", "on"):
                return True
            if text in ("false", "0", "no", "off"):
                return False
            raise ValueError(f"{raw!r} is not yes or no")
        if kind == FieldType.CHOICE:
            text = str(raw).strip()
            if text not in self.choices:
                raise ValueError(f"{text!r} is not one of {', '.join(self.choices)}")
            return text
        raise ValueError(f"unknown field type {kind}")


class NameWord(models.Model):
    """Every distinct word of people's names, folded ("zoe"): what typo-tolerant search
    corrects a mistyped name against. Small (thousands of words) even at a million people."""

    word = models.CharField(max_length=100, unique=True)

    def __str__(self) -> str:
        return self.word


class SavedView(models.Model):
    """A named list filter a user can come back to (e.g. "Wholesale customers in Leeds")."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="saved_views")
    object_type = models.CharField(max_length=16, default="contact")
    name = models.CharField(max_length=100)
    query = models.CharField(max_length=1000)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "object_type", "name"],
                                    name="savedview_unique_name"),
        ]
