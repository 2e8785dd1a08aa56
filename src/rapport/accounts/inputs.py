"""The shape of every write to users and API tokens."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, Field

from rapport.accounts.models import ApiToken, Team, User
from rapport.core.inputs import Input, text_of
from rapport.core.permissions import ROLES
from rapport.core.validation import email_value

Role = Literal[*ROLES]  # type: ignore[valid-type]
TeamName = text_of(Team, "name")


class UserInput(Input):
    email: Annotated[str, AfterValidator(email_value)]
    role: Role
    first_name: text_of(User, "first_name") = ""  # type: ignore[valid-type]
    last_name: text_of(User, "last_name") = ""  # type: ignore[valid-type]
    team: TeamName | None = Field(None, description="created if new")  # type: ignore[valid-type]


class UserChanges(Input):
    role: Role
    team: TeamName | None = None  # type: ignore[valid-type]
    is_active: bool = True


class TokenInput(Input):
    name: text_of(ApiToken, "name") = ""  # type: ignore[valid-type]



