from __future__ import annotations

import datetime as dt
import hashlib

from django.db.models import QuerySet
from django.utils import timezone

from rapport.accounts.models import ApiToken, Team, User
from rapport.core.permissions import scope_for

LAST_USED_RESOLUTION = dt.timedelta(minutes=5)


def user_for_token(*, raw_token: str) -> User | None:
    digest = hashlib.sha256(raw_token.encode()).hexdigest()
    token = (
        ApiToken.objects.select_related("user")
        .filter(digest=digest, revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if token is None:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        # At most one write per token every few minutes, not one per request.
        ApiToken.objects.filter(id=token.id).update(last_used_at=now)
    return token.user


def token_list(*, user: User) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user).order_by("-created_at")


def user_list(*, user: User) -> QuerySet[User]:
    """Users the given user may assign records to (everyone active; small businesses)."""
    return User.objects.filter(is_active=True).select_related("team").order_by("email")


def team_list() -> QuerySet[Team]:
    return Team.objects.order_by("name")


def all_users() -> QuerySet[User]:
    return User.objects.select_related("team").order_by("-is_active", "email")


def active_user_exists(*, user_id: int) -> bool:
    return User.objects.filter(id=user_id, is_active=True).exists()


def display_names(*, user_ids: set[int] | list[int]) -> dict[int, str]:
    """Each user's name as people read it (full name, else email), by id."""
    if not user_ids:
        return {}
    return {u.id: u.display_name for u in User.objects.filter(id__in=user_ids)}


def user_exists(*, email: str) -> bool:
    return User.objects.filter(username=email.strip().lower()).exists()


def user_ids_by_email(*, emails: list[str] | set[str]) -> dict[str, int]:
    """The active users with these addresses (lower-case), by address."""
    return dict(User.objects.filter(username__in=[e.lower() for e in emails], is_active=True)
                .values_list("username", "id"))


def user_by_name(*, username: str) -> User | None:
    return User.objects.filter(username=username.strip().lower(), is_active=True).first()


def first_user_with(*, permission: str, scope: str = "all") -> User | None:
    """The longest-standing active user whose role grants ``permission`` with ``scope``
    (e.g. who owns what the system does on nobody's behalf, like captured email)."""
    for user in User.objects.filter(is_active=True).order_by("id").iterator():
        if scope_for(user, permission) == scope:
            return user
    return None
