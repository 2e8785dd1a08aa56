from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from django.contrib.auth.forms import PasswordResetForm
from django.db import transaction
from django.utils import timezone

from rapport.accounts import events
from rapport.accounts.inputs import TokenInput, UserChanges, UserInput
from rapport.accounts.models import ApiToken, Team, User
from rapport.core.errors import NotFound, ValidationFailed
from rapport.core.events import record_events
from rapport.core.inputs import parse
from rapport.core.permissions import require


@transaction.atomic
def user_create(*, email: str, role: str, password: str | None = None, first_name: str = "",
                last_name: str = "", team_name: str | None = None,
                actor: User | None = None) -> User:
    person = parse(UserInput, {"email": email, "role": role, "first_name": first_name,
                               "last_name": last_name, "team": team_name or None})
    email, role, team_name = person.email, person.role, person.team
    if User.objects.filter(username=email).exists():
        raise ValidationFailed({"email": "a user with this email already exists"})
    team = Team.objects.get_or_create(name=team_name)[0] if team_name else None
    user = User.objects.create_user(
        email=email, password=password, role=role, first_name=person.first_name,
        last_name=person.last_name, team=team, is_staff=role == "owner",
    )
    if password is None:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    record_events([events.user_created(user_id=user.id, actor_id=actor.id if actor else None,
                                       email=email, role=role, team=team_name)])
    return user


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    raw: str


@transaction.atomic
def token_create(*, user: User, name: str = "") -> IssuedToken:
    name = parse(TokenInput, {"name": name}).name
    raw = "rpt_" + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user, name=name, prefix=raw[:12],
        digest=hashlib.sha256(raw.encode()).hexdigest(),
    )
    record_events([events.token_created(token_id=token.id, user_id=user.id, name=token.name,
                                        prefix=token.prefix)])
    return IssuedToken(token=token, raw=raw)


@transaction.atomic
def token_revoke(*, user: User, token_id: int) -> None:
    updated = ApiToken.objects.filter(id=token_id, user=user, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    if not updated:
        raise NotFound("no such active token")
    record_events([events.token_revoked(token_id=token_id, user_id=user.id)])


def _require_owner(actor: User) -> None:
    require(actor, "users.manage", message="only an owner-role user may manage users")


@transaction.atomic
def user_invite(*, actor: User, email: str, role: str, first_name: str = "",
                last_name: str = "", team_name: str | None = None, request=None) -> User:
    """Create a user without a password and email them a link to choose one."""
    _require_owner(actor)
    user = user_create(email=email, role=role, first_name=first_name, last_name=last_name,
                       team_name=(team_name or "").strip() or None, actor=actor)
    form = PasswordResetForm({"email": user.email})
    form.is_valid()
    user.set_password(secrets.token_urlsafe(24))  # reset links need a usable password
    user.save(update_fields=["password"])
    transaction.on_commit(lambda: form.save(
        request=request, use_https=bool(request and request.is_secure()),
        subject_template_name="accounts/invite_subject.txt",
        email_template_name="accounts/invite_email.txt",
        domain_override=None if request else "127.0.0.1:8000",
    ))
    return user


@transaction.atomic
def user_update(*, actor: User, user_id: int, role: str, team_name: str | None,
                is_active: bool) -> User:
    _require_owner(actor)
    user = User.objects.select_for_update().filter(id=user_id).first()
    if user is None:
        raise NotFound(f"no user with id {user_id}")
    changes = parse(UserChanges, {"role": role, "team": (team_name or "").strip() or None,
                                  "is_active": is_active})
    role, team_name, is_active = changes.role, changes.team or "", changes.is_active
    if user.id == actor.id and (role != "owner" or not is_active):
        raise ValidationFailed({"role": "you cannot remove your own owner role or deactivate "
                                        "yourself"})
    before = {"role": user.role, "team": user.team.name if user.team else None,
              "is_active": user.is_active}
    user.role = role
    user.team = Team.objects.get_or_create(name=team_name)[0] if team_name else None
    user.is_active = is_active
    user.is_staff = role == "owner"
    user.save(update_fields=["role", "team", "is_active", "is_staff"])
    after = {"role": role, "team": team_name or None, "is_active": is_active}
    if before != after:
        record_events([events.user_updated(user_id=user.id, actor_id=actor.id, before=before,
                                           after=after)])
    return user
