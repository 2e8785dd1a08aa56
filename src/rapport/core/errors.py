"""Errors services raise; the API and the views turn them into 422/409/404/403 answers."""

from __future__ import annotations

from typing import Any


class ServiceError(Exception):
    status = 400


class ValidationFailed(ServiceError):
    """Bad input: ``errors`` maps each field name to a list of reasons. Nothing was changed."""

    status = 422

    def __init__(self, errors: dict[str, list[str]] | dict[str, str]):
        self.errors = {k: (v if isinstance(v, list) else [v]) for k, v in errors.items()}
        super().__init__("; ".join(f"{k}: {', '.join(v)}" for k, v in self.errors.items()))


class VersionConflict(ServiceError):
    """A stale update: someone saved the record since the caller read it. Nothing was changed."""

    status = 409

    def __init__(self, *, current: dict[str, Any], current_version: int, given_version: int):
        self.current = current
        self.current_version = current_version
        self.given_version = given_version
        super().__init__(
            f"the record was changed by someone else (version {current_version}, "
            f"you sent {given_version})"
        )


class NotFound(ServiceError):
    status = 404


class PermissionDenied(ServiceError):
    status = 403
