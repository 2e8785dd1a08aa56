"""What every app's pages share: service errors become HTTP answers, list pages, form pages.

A page is three steps: parse the request, call one service or selector, render. What goes
wrong in the middle is mapped here, once, the way ``config/api.py`` maps it for the API:

- ``NotFound`` → 404 and ``PermissionDenied`` → 403, by :class:`ServiceErrorMiddleware`, so
  views just call the service and let those through;
- ``ValidationFailed`` → the form again with each field's error (422), and
  ``VersionConflict`` → the form again with the other person's version (409), by
  :func:`submit` and :func:`form_status`;
- list pages read their filters and cursor with :func:`list_page`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.loader import render_to_string

from rapport.core.errors import NotFound, PermissionDenied, ValidationFailed, VersionConflict
from rapport.core.pagination import Page


class ServiceErrorMiddleware:
    """A record the user cannot see is a 404 page; one they may not change, a 403 page."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, NotFound):
            return error_page(request, 404, str(exception) or "Not found")
        if isinstance(exception, PermissionDenied):
            return error_page(request, 403, str(exception) or "Not allowed")
        return None


def error_page(request: HttpRequest, status: int, message: str) -> HttpResponse:
    title = {403: "Not allowed", 404: "Not found"}.get(status, "Something went wrong")
    body = render_to_string("web/error.html", {"status": status, "title": title,
                                               "message": message}, request=request)
    return HttpResponse(body, status=status)


@dataclass
class Outcome:
    """What a form submission came to: the saved result, or why not."""

    result: Any = None
    errors: dict[str, list[str]] = field(default_factory=dict)
    conflict: VersionConflict | None = None

    @property
    def ok(self) -> bool:
        return not self.errors and self.conflict is None

    @property
    def status(self) -> int:
        return 409 if self.conflict else (422 if self.errors else 200)


def submit(save: Callable[[], Any], *, errors: Mapping[str, list[str]] | None = None) -> Outcome:
    """Call ``save`` unless the form itself already found ``errors``; catch what a person
    can fix (bad fields, someone else's newer version) and let the rest through."""
    if errors:
        return Outcome(errors=dict(errors))
    try:
        return Outcome(result=save())
    except ValidationFailed as failure:
        return Outcome(errors=failure.errors)
    except VersionConflict as clash:
        return Outcome(conflict=clash)


def posted_version(request: HttpRequest) -> int | None:
    """The record version the form was filled from (None if missing: the service says so)."""
    try:
        return int(request.POST.get("version", ""))
    except ValueError:
        return None


def done(request: HttpRequest, message: str, to: str, *args: Any, **kwargs: Any) -> HttpResponse:
    """Say what happened and go on (after a successful POST)."""
    messages.success(request, message)
    return redirect(to, *args, **kwargs)


def act(request: HttpRequest, action: Callable[[], Any], *, success: str | Callable[[Any], str],
        to: str, **kwargs: Any) -> HttpResponse:
    """A button that changes something: run it, say how it went, go back to ``to``.

    Bad input is shown as an error message, not a page of its own.
    """
    try:
        result = action()
    except (ValidationFailed, VersionConflict) as error:
        messages.error(request, _plain(error))
    else:
        messages.success(request, success(result) if callable(success) else success)
    return redirect(to, **kwargs)


def _plain(error: Exception) -> str:
    if isinstance(error, ValidationFailed):
        return "; ".join(m for msgs in error.errors.values() for m in msgs)
    return f"Not saved: {error}"


@dataclass
class ListPage:
    page: Page
    params: dict[str, str]
    errors: dict[str, list[str]]
    next_url: str
    query: str

    def context(self) -> dict[str, Any]:
        return {"page": self.page, "params": self.params, "errors": self.errors,
                "next_url": self.next_url, "query": self.query}


def list_page(request: HttpRequest, selector: Callable[..., Page], names: Iterable[str], *,
              prefixes: Iterable[str] = (), rename: Mapping[str, str] | None = None,
              **selector_kwargs: Any) -> ListPage:
    """One page of a keyset list: the filters ``names`` (and any starting with ``prefixes``)
    from the query string, bad filters shown as errors over an empty page, and the link to
    the next page that keeps the filters."""
    params: dict[str, str] = {name: str(request.GET.get(name, "")) for name in names}
    prefixes = tuple(prefixes)
    if prefixes:
        params.update({k: str(v) for k, v in request.GET.items() if k.startswith(prefixes)})
    selector_params = {(rename or {}).get(k, k): v for k, v in params.items()}
    try:
        page = selector(user=request.user, params=selector_params, **selector_kwargs)
        errors: dict[str, list[str]] = {}
    except ValidationFailed as failure:
        page, errors = Page(items=[], next_cursor=None), failure.errors
    kept = {k: v for k, v in params.items() if v and k != "cursor"}
    next_url = f"?{urlencode({**kept, 'cursor': page.next_cursor})}" if page.next_cursor else ""
    return ListPage(page=page, params=params, errors=errors, next_url=next_url,
                    query=urlencode(kept))
