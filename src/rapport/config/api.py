"""The HTTP API at /api/v1/: token auth, JSON errors that name the field."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.defaults import page_not_found
from ninja import NinjaAPI
from ninja.errors import AuthenticationError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.security import HttpBearer

from rapport.accounts.selectors import user_for_token
from rapport.core import registry
from rapport.core.errors import NotFound, PermissionDenied, ValidationFailed, VersionConflict
from rapport.core.inputs import message_of


class BearerToken(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str):
        user = user_for_token(raw_token=token)
        if user is not None:
            request.user = user
        return user


api = NinjaAPI(
    title="Rapport API",
    version="1",
    description="Contacts, companies, orders, custom fields, tags and search. "
    "Authenticate with `Authorization: Bearer <token>` (create one with "
    "`rapport token create --email you@example.com`).",
    # Tokens only: no cookie opens the API, so no request to it needs a CSRF check, and a
    # missing, unknown or revoked token is a 401 on every operation.
    auth=[BearerToken()],
    urls_namespace="api",
)


@api.exception_handler(ValidationFailed)
def _validation_failed(request, exc: ValidationFailed):
    detail = [{"loc": ["body", field], "msg": msg, "type": "value_error"}
              for field, msgs in exc.errors.items() for msg in msgs]
    return api.create_response(request, {"detail": detail, "errors": exc.errors}, status=422)


def not_found(request, exception=None):
    """Django's 404 for addresses no route matches: JSON under /api/, the page elsewhere."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "not found"}, status=404)
    return page_not_found(request, exception)


# Where ninja puts a parameter, not part of the field's name.
PARAMETER_PLACES = {"body", "payload", "query", "path", "form", "file", "header", "cookie",
                    "params", "filters"}


@api.exception_handler(NinjaValidationError)
def _schema_invalid(request, exc: NinjaValidationError):
    errors: dict[str, list[str]] = {}
    for item in exc.errors:
        loc = [str(part) for part in item.get("loc", [])]
        # --- events: only the leading place and parameter name go ("body", "payload"), so a
        # field that is itself called "payload" (POST /events) keeps its name ---
        lead = 0
        while lead < min(2, len(loc)) and loc[lead] in PARAMETER_PLACES:
            lead += 1
        loc = loc[lead:]
        errors.setdefault(".".join(loc) or "body", []).append(message_of(item))
    return api.create_response(request, {"detail": exc.errors, "errors": errors}, status=422)


@api.exception_handler(VersionConflict)
def _conflict(request, exc: VersionConflict):
    return api.create_response(
        request,
        {"detail": str(exc), "current_version": exc.current_version, "current": exc.current},
        status=409,
    )


@api.exception_handler(NotFound)
def _not_found(request, exc: NotFound):
    return api.create_response(request, {"detail": str(exc) or "not found"}, status=404)


@api.exception_handler(PermissionDenied)
def _forbidden(request, exc: PermissionDenied):
    return api.create_response(request, {"detail": str(exc) or "not allowed"}, status=403)


@api.exception_handler(AuthenticationError)
def _unauthorised(request, exc):
    return api.create_response(
        request, {"detail": "a valid API token is required (Authorization: Bearer <token>)"},
        status=401,
    )


for app in registry.installed():
    if app.api_router is not None:
        api.add_router("", app.api_router)
