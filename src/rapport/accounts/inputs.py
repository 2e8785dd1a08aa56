"""The shape of every write to users and API tokens."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, Field

from rapport.accounts.models import ApiToken, Team, User
from rapport.core.inputs import Input, Text
from rapport.core.permissions import ROLES
from rapport.core.validation import email_value

Role = Literal[*ROLES]  # type: ignore[valid-type]
TeamName = Annotated[str, Text.of(Team, "name")]


class UserInput(Input):
    email: Annotated[str, AfterValidator(email_value)]
    role: Role
    first_name: Annotated[str, Text.of(User, "first_name")] = ""
    last_name: Annotated[str, Text.of(User, "last_name")] = ""
    team: TeamName | None = Field(None, description="created if new")


class UserChanges(Input):
    role: Role
    team: TeamName | None = None
    is_active: bool = True


class TokenInput(Input):
    name: Annotated[str, Text.of(ApiToken, "name")] = ""



