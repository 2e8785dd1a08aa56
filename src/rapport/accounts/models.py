from __future__ import annotations

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models

from rapport.core.permissions import ROLES


class Team(models.Model):
    name = models.CharField(max_length=100, unique=True)

    def __str__(self) -> str:
        return self.name


def login_name(username: str | None) -> str:
    """Emails are case-insensitive: "Helen@Bakery.com" logs in as helen@bakery.com."""
    return (username or "").strip().lower()


class RapportUserManager(UserManager):
    def get_by_natural_key(self, username):
        return self.get(**{self.model.USERNAME_FIELD: login_name(username)})

    def create_user(self, username=None, email=None, password=None, **extra):
        email = self.normalize_email(email or username).lower()
        return super().create_user(username=email, email=email, password=password, **extra)

    def create_superuser(self, username=None, email=None, password=None, **extra):
        extra.setdefault("role", "owner")
        email = self.normalize_email(email or username).lower()
        return super().create_superuser(username=email, email=email, password=password, **extra)


class User(AbstractUser):
    """A person who logs in. The username is the email address."""

    role = models.CharField(
        max_length=16, choices=[(r, r.title()) for r in ROLES], default="sales"
    )
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="members")

    objects = RapportUserManager()

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(role__in=ROLES), name="user_role_valid"),
        ]

    @property
    def display_name(self) -> str:
        return self.get_full_name() or self.email


class ApiToken(models.Model):
    """A token for `Authorization: Bearer`; only its SHA-256 is stored, the token is shown once."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, default="")
    prefix = models.CharField(max_length=12)
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"
