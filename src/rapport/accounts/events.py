"""The events accounts records: one kind constant and one builder per kind."""

from __future__ import annotations

from typing import Any

from rapport.core.events import EventKind, NewEvent

USER_CREATED = EventKind("user.created", "User created")
USER_UPDATED = EventKind("user.updated", "User changed")
TOKEN_CREATED = EventKind("token.created", "API token created")
TOKEN_REVOKED = EventKind("token.revoked", "API token revoked")
KINDS = [USER_CREATED, USER_UPDATED, TOKEN_CREATED, TOKEN_REVOKED]


def user_created(*, user_id: int, actor_id: int | None, email: str, role: str,
                 team: str | None) -> NewEvent:
    return NewEvent(kind=USER_CREATED.name, entity_type="user", entity_id=user_id,
                    actor_id=actor_id, after={"email": email, "role": role, "team": team})


def user_updated(*, user_id: int, actor_id: int, before: dict[str, Any],
                 after: dict[str, Any]) -> NewEvent:
    return NewEvent(kind=USER_UPDATED.name, entity_type="user", entity_id=user_id,
                    actor_id=actor_id, before=before, after=after)


def token_created(*, token_id: int, user_id: int, name: str, prefix: str) -> NewEvent:
    return NewEvent(kind=TOKEN_CREATED.name, entity_type="api_token", entity_id=token_id,
                    actor_id=user_id, after={"name": name, "prefix": prefix})


def token_revoked(*, token_id: int, user_id: int) -> NewEvent:
    return NewEvent(kind=TOKEN_REVOKED.name, entity_type="api_token", entity_id=token_id,
                    actor_id=user_id)
