"""What the activities writers share: reading a change against the version it was made from."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import BaseModel

from rapport.core.errors import ValidationFailed, VersionConflict
from rapport.core.inputs import parse


def changes_since(record: Any, before: dict[str, Any], version: int | None,
                  shape: type[BaseModel], changes: Any, *,
                  required: Iterable[str]) -> dict[str, Any]:
    """The fields a change sets, once its ``version`` is the record's (409 otherwise) and no
    field that must have a value is emptied (422 naming it)."""
    if version is None:
        raise ValidationFailed({"version": "is required (the version you last read)"})
    if version != record.version:
        raise VersionConflict(current={**before, "version": record.version},
                              current_version=record.version, given_version=version)
    given = parse(shape, changes if isinstance(changes, BaseModel | Mapping) else dict(changes)
                  ).model_dump(exclude_unset=True)
    given.pop("version", None)
    required = set(required)
    emptied = {name: "is required" for name, value in given.items()
               if value is None and name in required}
    if emptied:
        raise ValidationFailed(emptied)
    return given
