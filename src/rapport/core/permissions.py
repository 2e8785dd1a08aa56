"""Who may see and change which records: the one policy behind the UI, the API, search and exports.

The vocabulary (NetBox's ``restrict()`` idea, with owner scopes):

- A **resource** is a kind of record an app owns ("contacts", "orders", "products"). The app
  declares it in its ``rapport_app.py`` with the scope each role gets for each action.
- A **permission** is ``"<resource>.<action>"``, e.g. ``"contacts.change"``.
- A **scope** is how far a permission reaches: ``"own"`` (records the user owns), ``"team"``
  (records owned by anyone in the user's team), ``"all"``, or ``None`` (not at all).
- A **model** says how its records reach their owner (``policy = OwnedBy("contacts",
  owner="owner")``; an order reaches it through ``"contact__owner"``) and uses
  :class:`RestrictedQuerySet`, so ``Model.objects.restrict(user, "change")`` is how selectors
  and services load records. :func:`can` answers for one record from the same
  :func:`scope_for`, so a list and a check can never disagree.

Roles are checked here and nowhere else: no other module compares ``user.role``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from django.contrib.auth import get_user_model
from django.db import models
from django.db.models import Q

from rapport.core.errors import NotFound, PermissionDenied

ROLES = ("owner", "manager", "sales", "support", "marketing")
ROLE_LABELS = {"owner": "Owner", "manager": "Manager", "sales": "Sales", "support": "Support",
               "marketing": "Marketing"}
SCOPES = ("own", "team", "all")

Scope = Literal["own", "team", "all"] | None


def grant(**scopes: Scope) -> dict[str, Scope]:
    """One action's scope per role; roles left out get None (not allowed)."""
    unknown = set(scopes) - set(ROLES)
    if unknown:
        raise ValueError(f"unknown roles {sorted(unknown)}; roles are {ROLES}")
    bad = {role: scope for role, scope in scopes.items() if scope not in (*SCOPES, None)}
    if bad:
        raise ValueError(f"scopes must be one of {SCOPES} or None, got {bad}")
    return {role: scopes.get(role) for role in ROLES}


@dataclass(frozen=True)
class Resource:
    """A kind of record and, per action, the scope each role gets.

    ``owned`` is False for shared things with no owner (the product catalogue, settings):
    their scopes can only be "all" or None.
    """

    name: str
    label: str
    actions: Mapping[str, Mapping[str, Scope]]
    owned: bool = True
    description: str = ""

    def __post_init__(self) -> None:
        if not self.owned:
            for action, scopes in self.actions.items():
                if any(scope not in ("all", None) for scope in scopes.values()):
                    raise ValueError(f"{self.name}.{action}: a resource without owners can "
                                     "only grant 'all' or nothing")


_resources: dict[str, Resource] = {}


def register_resource(resource: Resource) -> None:
    existing = _resources.get(resource.name)
    if existing is not None and existing != resource:
        raise ValueError(f"two apps declare the resource {resource.name!r}")
    _resources[resource.name] = resource


def resources() -> list[Resource]:
    return sorted(_resources.values(), key=lambda r: r.name)


def _split(permission: str) -> tuple[Resource, str]:
    name, _, action = permission.partition(".")
    resource = _resources.get(name)
    if resource is None or action not in resource.actions:
        raise LookupError(f"unknown permission {permission!r}")
    return resource, action


def scope_for(user: Any, permission: str) -> Scope:
    """How far ``permission`` ("contacts.change") reaches for this user; None = not at all."""
    resource, action = _split(permission)
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    return resource.actions[action].get(user.role)


def team_member_ids(user: Any) -> list[int]:
    """Ids of everyone in the user's team (just the user without a team), once per request."""
    cached = getattr(user, "_rapport_team_ids", None)
    if cached is None:
        if user.team_id is None:
            cached = [user.id]
        else:
            cached = list(get_user_model().objects.filter(team_id=user.team_id)
                          .order_by("id").values_list("id", flat=True))
        user._rapport_team_ids = cached
    return cached


def scope_filter(user: Any, permission: str, owner_path: str | None) -> Q | None:
    """The condition on records (reaching their owner through ``owner_path``) that ``user``
    may ``permission``; None when they may not at all."""
    scope = scope_for(user, permission)
    if scope == "all":
        return Q()
    if scope is None or owner_path is None:
        return None
    if scope == "team" and user.team_id is not None:
        return Q(**{f"{owner_path}_id__in": team_member_ids(user)})
    return Q(**{f"{owner_path}_id": user.id})


def visible_owners(user: Any, permission: str) -> list[int] | None:
    """Whose records ``user`` may ``permission``: None for everyone's, else the owners' ids
    (empty: nobody's). Lists that read each owner's records in order use it."""
    scope = scope_for(user, permission)
    if scope == "all":
        return None
    if scope is None:
        return []
    if scope == "team":
        return team_member_ids(user)
    return [user.id]


@dataclass(frozen=True)
class OwnedBy:
    """How a model's records map to a resource and reach their owner (None: shared records)."""

    resource: str
    owner: str | None = "owner"

    def owner_id_of(self, obj: Any) -> int | None:
        if self.owner is None:
            return None
        *hops, last = self.owner.split("__")
        target = obj
        for hop in hops:
            target = getattr(target, hop, None)
        return getattr(target, f"{last}_id", None) if target is not None else None


class RestrictedQuerySet(models.QuerySet):
    """``Model.objects.restrict(user, action)``: only the records ``user`` may ``action``."""

    def restrict(self, user: Any, action: str = "view") -> RestrictedQuerySet:
        policy: OwnedBy = self.model.policy  # type: ignore[attr-defined]
        condition = scope_filter(user, f"{policy.resource}.{action}", policy.owner)
        if condition is None:
            return self.none()
        return self.filter(condition)


_UNSET: Any = object()


def can(user: Any, permission: str, obj: Any = None, *, owner_id: Any = _UNSET) -> bool:
    """May ``user`` do ``permission`` on ``obj`` (or on a record owned by ``owner_id``)?

    Without a record, only an "all" scope answers yes: e.g. ``can(user, "settings.change")``.
    ``owner_id`` also answers "may this user hand a record to that owner" for "*.assign".
    """
    scope = scope_for(user, permission)
    if scope is None:
        return False
    if scope == "all":
        return True
    if owner_id is _UNSET:
        if obj is None:
            return False
        owner_id = obj.policy.owner_id_of(obj)
    if owner_id is None:
        return False
    if scope == "team":
        return owner_id in team_member_ids(user)
    return owner_id == user.id


def require(user: Any, permission: str, obj: Any = None, *, message: str = "") -> None:
    """Raise PermissionDenied unless ``can(user, permission, obj)``."""
    if not can(user, permission, obj):
        resource, action = _split(permission)
        raise PermissionDenied(message or f"you may not {action} {resource.label.lower()}")


def get_for(user: Any, action: str, queryset: RestrictedQuerySet, pk: Any, *,
            noun: str) -> Any:
    """The record ``pk``, locked for this transaction, if ``user`` may ``action`` it.

    NotFound when they cannot see it (so ids of invisible records reveal nothing),
    PermissionDenied when they can see it but may not ``action`` it.
    """
    obj = queryset.restrict(user, "view").select_for_update().filter(pk=pk).first()
    if obj is None:
        raise NotFound(f"no {noun} with id {pk}")
    if action != "view":
        policy: OwnedBy = queryset.model.policy
        if not can(user, f"{policy.resource}.{action}", obj):
            raise PermissionDenied(f"you may not {action} this {noun}")
    return obj


def role_table() -> list[tuple[str, str, dict[str, Scope]]]:
    """(resource, action, scope per role) for every declared permission, for the docs."""
    return [(resource.name, action, dict(scopes))
            for resource in resources() for action, scopes in resource.actions.items()]


def role_table_markdown() -> str:
    header = "| permission | " + " | ".join(ROLE_LABELS[r] for r in ROLES) + " |"
    lines = [header, "|" + "---|" * (len(ROLES) + 1)]
    for name, action, scopes in role_table():
        cells = " | ".join(scopes.get(role) or "—" for role in ROLES)
        lines.append(f"| `{name}.{action}` | {cells} |")
    return "\n".join(lines)
