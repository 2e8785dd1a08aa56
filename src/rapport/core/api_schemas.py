"""Schemas every API router shares: strict input, and the error bodies."""

from __future__ import annotations

from typing import Any

from ninja import Schema
from pydantic import ConfigDict


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
