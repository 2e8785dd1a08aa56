"""The chat assistant: the widget's script and its JSON endpoints under ``/w/`` (called from
the business's own website: CSRF-exempt, CORS only for the allowed origins), and its settings
page (Settings → Chat assistant: allowed sites, greeting, the snippet to copy).

The widget posts ``text/plain`` bodies holding JSON (a "simple" cross-origin request, so no
preflight round trip); a client that sends ``application/json`` gets its preflight answered
for the allowed origins only. A request from any other site is refused with 403 and a message
that says what to do; that refusal carries ``Access-Control-Allow-Origin`` so the widget can
show it (it reveals nothing else).
"""

from __future__ import annotations

import json
import pathlib
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import path, reverse
from django.views.decorators.csrf import csrf_exempt

from rapport.core.errors import NotFound, PermissionDenied, ValidationFailed
from rapport.core.pages import done, submit
from rapport.core.permissions import can
from rapport.support import services
from rapport.support.services import assistant

STATIC = pathlib.Path(__file__).resolve().parents[1] / "static" / "support"
ASSETS = {"widget.js": "text/javascript; charset=utf-8", "widget.css": "text/css; charset=utf-8"}


def widget_asset(request: HttpRequest, name: str) -> HttpResponse:
    """``/w/widget.js`` and ``/w/widget.css``: served by Rapport itself, cacheable for 5 min."""
    if name not in ASSETS:
        raise NotFound("no such file")
    response = HttpResponse((STATIC / name).read_bytes(), content_type=ASSETS[name])
    response["Cache-Control"] = "public, max-age=300"
    response["Access-Control-Allow-Origin"] = "*"  # a static file, the same for everyone
    return response


def _own_origin(request: HttpRequest) -> str:
    return request.build_absolute_uri("/").rstrip("/")


def _cors(response: HttpResponse, origin: str) -> HttpResponse:
    response["Access-Control-Allow-Origin"] = origin
    response["Vary"] = "Origin"
    return response


def _json(body: dict[str, Any], origin: str, status: int = 200) -> JsonResponse:
    return _cors(JsonResponse(body, status=status), origin)  # type: ignore[return-value]


def _client_ip(request: HttpRequest) -> str:
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def widget_endpoint(handler: Callable[[HttpRequest, dict, str], dict]) -> Callable:
    """The origin check, CORS, JSON in and out, and the errors mapped to status codes."""

    @csrf_exempt
    @wraps(handler)
    def view(request: HttpRequest) -> HttpResponse:
        origin = request.headers.get("Origin", "")
        allowed = origin and (origin == _own_origin(request)
                              or origin in assistant.allowed_origins())
        if request.method == "OPTIONS":
            response = HttpResponse(status=204 if allowed else 403)
            if allowed:
                _cors(response, origin)
                response["Access-Control-Allow-Methods"] = "POST, OPTIONS"
                response["Access-Control-Allow-Headers"] = "Content-Type"
                response["Access-Control-Max-Age"] = "600"
            return response
        if request.method != "POST":
            return JsonResponse({"detail": "POST only"}, status=405)
        if not origin:
            return JsonResponse({"detail": "The assistant answers browsers on the sites "
                                 "allowed in Settings → Chat assistant (this request has no "
                                 "Origin header)."}, status=403)
        if not allowed:
            return _json({"detail": f"This site ({origin[:200]}) is not allowed to use the "
                          "assistant. The business can add it under Settings → Chat "
                          "assistant → Allowed sites.", "code": "origin_not_allowed"},
                         origin, 403)
        try:
            data = json.loads(request.body or b"{}")
            if not isinstance(data, dict):
                raise ValueError
        except (ValueError, UnicodeDecodeError):
            return _json({"detail": "The body must be a JSON object.",
                          "errors": {"body": ["is not a JSON object"]}}, origin, 422)
        try:
            return _json(handler(request, data, origin), origin)
        except services.ChatRateLimited as limited:
            response = _json({"detail": str(limited), "code": "rate_limited",
                              "retry_after": limited.retry_after}, origin, 429)
            response["Retry-After"] = str(limited.retry_after)
            return response
        except ValidationFailed as failure:
            detail = "; ".join(f"{name}: {msg}" for name, msgs in failure.errors.items()
                               for msg in msgs)
            return _json({"detail": detail, "errors": failure.errors}, origin, 422)
        except NotFound as missing:
            return _json({"detail": str(missing)}, origin, 404)
        except PermissionDenied as refused:
            return _json({"detail": str(refused)}, origin, 403)

    return view


def _message_out(reply: services.Reply, request: HttpRequest) -> dict[str, Any]:
    found = reply.answer
    article = None
    if found.known and found.best is not None:
        passage = found.best.passage
        article = {"title": passage.title,
                   "url": request.build_absolute_uri(f"/help/{passage.slug}/")}
    return {"message_id": reply.reply.id, "known": found.known, "text": reply.reply.text,
            "article": article, "intent": found.intent if (found.intent_confidence or 0)
            >= assistant.INTENT_SURE else "", "offer_handover": not found.known}


@widget_endpoint
def chat_start(request: HttpRequest, data: dict, origin: str) -> dict:
    conversation = services.chat_start(data={k: data.get(k, "") for k in ("visitor",
                                                                          "page_url")},
                                       origin=origin, ip=_client_ip(request))
    return {"token": conversation.token, "greeting": assistant.greeting()}


@widget_endpoint
def chat_message(request: HttpRequest, data: dict, origin: str) -> dict:
    reply = services.chat_message(data=data, ip=_client_ip(request))
    return _message_out(reply, request)


@widget_endpoint
def chat_feedback(request: HttpRequest, data: dict, origin: str) -> dict:
    message = services.chat_feedback(data=data)
    return {"message_id": message.id, "feedback": message.feedback}


@widget_endpoint
def chat_handover(request: HttpRequest, data: dict, origin: str) -> dict:
    handed = services.chat_handover(data=data, ip=_client_ip(request))
    return {"reference": handed.ticket.reference,
            "text": f"Thank you, {handed.conversation.name}. A person will answer you by "
                    f"email at {handed.conversation.email} (your reference: "
                    f"{handed.ticket.reference})."}


# --- Settings → Chat assistant ---------------------------------------------------------------

def snippet(request: HttpRequest) -> str:
    src = request.build_absolute_uri(reverse("assistant_widget_asset", args=["widget.js"]))
    return f'<script src="{src}" defer></script>'


@login_required
def assistant_settings(request):
    if not can(request.user, "settings.change"):
        raise PermissionDenied("only the owner role sets up the chat assistant")
    row = services.desk_settings()
    values = {"widget_origins": "\n".join(row.widget_origins),
              "widget_greeting": row.widget_greeting}
    outcome = submit(lambda: None)
    if request.method == "POST":
        values = {"widget_origins": request.POST.get("widget_origins", ""),
                  "widget_greeting": request.POST.get("widget_greeting", "")}
        outcome = submit(lambda: services.assistant_settings_update(actor=request.user,
                                                                    data=values))
        if outcome.ok:
            return done(request, "Saved: the widget answers on these sites.",
                        "assistant_settings")
    return render(request, "support/assistant/settings.html", {
        "values": values, "errors": outcome.errors, "snippet": snippet(request),
        "default_greeting": assistant.DEFAULT_GREETING,
        "calibration": assistant.calibration(), "limits": assistant.rate_limits()},
        status=outcome.status)


urlpatterns = [
    path("w/<str:name>", widget_asset, name="assistant_widget_asset"),
    path("w/api/start", chat_start, name="assistant_start"),
    path("w/api/message", chat_message, name="assistant_message"),
    path("w/api/feedback", chat_feedback, name="assistant_feedback"),
    path("w/api/handover", chat_handover, name="assistant_handover"),
    path("settings/assistant/", assistant_settings, name="assistant_settings"),
]
