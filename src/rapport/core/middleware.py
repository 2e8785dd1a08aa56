"""Refusing bodies that are too big with a clean 413, whatever way they are sent."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse

CHUNK = 64 * 1024
# An over-large body is read and thrown away (up to this much) before answering: a server
# that answers and closes while the client is still sending resets the connection, and the
# client never sees the 413. Beyond this much, it is not worth reading.
DRAIN_LIMIT = 64 * 1024 * 1024


class BodySizeLimitMiddleware:
    """413 JSON for bodies over the limit: with a Content-Length (answered before Django reads
    it) and chunked (read up to the limit, no further)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        content_type = request.META.get("CONTENT_TYPE", "")
        # Files (forms with uploads, whole emails) may be larger than JSON bodies.
        limit = (settings.RAPPORT_MAX_UPLOAD_BYTES
                 if content_type.startswith(("multipart/", "message/rfc822"))
                 else settings.RAPPORT_MAX_BODY_BYTES)
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        stream = request.META.get("wsgi.input")
        if length > limit:
            _drain(stream, min(length, DRAIN_LIMIT))
            return _too_large(length, limit)
        if not length and "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower():
            body = _read_up_to(stream, limit + 1)
            if len(body) > limit:
                _drain(stream, DRAIN_LIMIT)
                return _too_large(None, limit)
            request._body = body  # what Django reads as the body from here on
        return self.get_response(request)


def _too_large(length: int | None, limit: int) -> HttpResponse:
    size = f"{length} bytes" if length is not None else "more than that"
    response = JsonResponse({"detail": f"request body too large: {size}, limit {limit} bytes"},
                            status=413)
    response["Connection"] = "close"
    return response


def _read_up_to(stream, size: int) -> bytes:
    parts, got = [], 0
    while stream is not None and got < size:
        part = stream.read(min(CHUNK, size - got))
        if not part:
            break
        parts.append(part)
        got += len(part)
    return b"".join(parts)


def _drain(stream, size: int) -> None:
    got = 0
    while stream is not None and got < size:
        part = stream.read(min(CHUNK, size - got))
        if not part:
            return
        got += len(part)
