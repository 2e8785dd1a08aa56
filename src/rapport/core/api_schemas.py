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


ERRORS = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 413: ErrorOut, 422: ErrorOut}
WRITE_ERRORS = {**ERRORS, 409: ConflictOut}
