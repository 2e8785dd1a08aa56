"""Schemas every API router shares: strict input, and the error bodies."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from ninja import Schema
from pydantic import BeforeValidator, ConfigDict


def _iso_day(value: Any) -> Any:
    """A day as ``YYYY-MM-DD`` only: pydantic would also read a number ("0.0") as a time."""
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            raise ValueError("must be a day written YYYY-MM-DD") from None
    if isinstance(value, (int, float)):
        raise ValueError("must be a day written YYYY-MM-DD")
    return value


# A date in a query string (filters): ISO only.
Day = Annotated[dt.date, BeforeValidator(_iso_day)]


class Strict(Schema):
    """Input that rejects unknown fields (422 naming them)."""

    model_config = ConfigDict(extra="forbid")


class ErrorOut(Schema):
    detail: Any
    errors: dict[str, list[str]] | None = None


class ConflictOut(Schema):
    detail: str
    current_version: int
    current: dict[str, Any]


# Every answer besides success an operation can give: 400 a body that is not JSON at all,
# 401 no valid token, 403 not allowed, 404 not found (or not visible), 413 too large, 422 a
# field that is wrong (named).
ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 413: ErrorOut,
          422: ErrorOut}
WRITE_ERRORS = {**ERRORS, 409: ConflictOut}
