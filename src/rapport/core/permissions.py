"""Who may see and change which records: one place for the UI, the API, search and exports.

A role grants a scope per action: "own" (records the user owns), "team" (records owned by
anyone in the user's team), "all", or None (not allowed).
"""

from __future__ import annotations

from typing import Literal

from django.db.models import Q, QuerySet

Action = Literal["view", "change", "delete"]
Scope = Literal["own", "team", "all"] | None

ROLES = ("owner", "manager", "sales", "support", "marketing")

ROLE_SCOPES: dict[str, dict[str, Scope]] = {
    "owner": {"view": "all", "change": "all", "delete": "all", "settings": "all"},
    "manager": {"view": "team", "change": "team", "delete": "team", "settings": None},
    "sales": {"view": "team", "change": "own", "delete": "own", "settings": None},
    "support": {"view": "all", "change": "own", "delete": None, "settings": None},
    "marketing": {"view": "all", "change": "own", "delete": None, "settings": None},
}


def scope_for(user, action: str) -> Scope:
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    return ROLE_SCOPES.get(user.role, {}).get(action)


def owner_filter(user, action: str, *, owner_field: str = "owner") -> Q | None:
    """The filter that limits a queryset to what ``user`` may do ``action`` on; None = nothing."""
    scope = scope_for(user, action)
    if scope == "all":
        return Q()
    if scope == "team" and user.team_id is not None:
        from rapport.accounts.selectors import team_member_ids

        return Q(**{f"{owner_field}_id__in": team_member_ids(team_id=user.team_id)})
    if scope in ("team", "own"):
        return Q(**{f"{owner_field}_id": user.id})
    return None


def restrict(queryset: QuerySet, user, action: Action = "view", *,
             owner_field: str = "owner") -> QuerySet:
    condition = owner_filter(user, action, owner_field=owner_field)
    if condition is None:
        return queryset.none()
    return queryset.filter(condition)


def can(user, action: str, owner_id: int | None) -> bool:
    scope = scope_for(user, action)
    if scope == "all":
        return True
    if scope == "own":
        return owner_id == user.id
    if scope == "team":
        if user.team_id is None:
            return owner_id == user.id
        from rapport.accounts.selectors import team_member_ids

        return owner_id in team_member_ids(team_id=user.team_id)
    return False
