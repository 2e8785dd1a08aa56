"""People, companies, tags, custom field definitions and saved list views."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from rapport.core.models import EditableModel

LIFECYCLE_STAGES = ("subscriber", "lead", "opportunity", "customer", "former_customer")
FIELD_TYPES = ("text", "number", "date", "choice", "boolean")
OBJECT_TYPES = ("contact", "company")
COMPANY_SIZES = ("1-10", "11-50", "51-200", "201-1000", "1000+")


class Tag(models.Model):
    name = models.CharField(max_length=50, unique=True)

    def __str__(self) -> str:
        return self.name


class Company(EditableModel):
    name = models.CharField(max_length=200)
    domain = models.CharField(max_length=200, blank=True, default="")
    industry = models.CharField(max_length=100, blank=True, default="")
    size = models.CharField(max_length=16, blank=True, default="")
    address = models.TextField(blank=True, default="")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+")
    tags = models.ManyToManyField(Tag, through="CompanyTag", related_name="companies")
    custom_fields = models.JSONField(default=dict, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["name", "id"], name="company_name_idx"),
            models.Index(fields=["owner", "id"], name="company_owner_idx"),
            models.Index(fields=["domain"], name="company_domain_idx"),
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
    company = models.ForeignKey(Company, null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="contacts")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+")
    tags = models.ManyToManyField(Tag, through="ContactTag", related_name="contacts")
    lifecycle_stage = models.CharField(
        max_length=20, default="lead", choices=[(s, s.replace("_", " ")) for s in LIFECYCLE_STAGES]
    )
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

    class Meta:
        indexes = [
            models.Index(fields=["last_name", "first_name", "id"], name="contact_name_idx"),
            models.Index(fields=["owner", "id"], name="contact_owner_idx"),
            models.Index(fields=["lifecycle_stage", "id"], name="contact_stage_idx"),
            models.Index(fields=["company", "id"], name="contact_company_idx"),
            models.Index(fields=["updated_at", "id"], name="contact_updated_idx"),
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
    object_type = models.CharField(max_length=16, choices=[(o, o) for o in OBJECT_TYPES])
    key = models.SlugField(max_length=50)
    label = models.CharField(max_length=100)
    field_type = models.CharField(max_length=16, choices=[(t, t) for t in FIELD_TYPES])
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
