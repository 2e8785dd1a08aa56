"""Query strings the API documents, and nothing else.

A parameter no operation declares, or one given twice where the operation takes one value, is
a 422 naming it, not silently ignored (or the last one silently used). Which parameters each
operation takes is read from the API's own OpenAPI document, so it cannot drift from it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache

from django.http import HttpRequest, HttpResponse, JsonResponse

from rapport.config.api import api

PREFIX = "/api/v1"


@cache
def _operations() -> list[tuple[str, re.Pattern, dict[str, bool]]]:
    """(method, path pattern, {query parameter: takes several values}) for every operation."""
    found = []
    for path, methods in api.get_openapi_schema()["paths"].items():
        pattern = re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(path)) + "$")
        for method, operation in methods.items():
            params = {p["name"]: p.get("schema", {}).get("type") == "array"
                      for p in operation.get("parameters", []) if p.get("in") == "query"}
            found.append((method.upper(), pattern, params))
    return found


def problems(method: str, path: str, query) -> dict[str, list[str]]:
    for op_method, pattern, params in _operations():
        if op_method == method and pattern.match(path):
            errors: dict[str, list[str]] = {}
            for name in query:
                if name not in params:
                    errors[name or "query"] = ["unknown query parameter"]
                elif not params[name] and len(query.getlist(name)) > 1:
                    errors[name] = ["given more than once"]
            return errors
    return {}


class QueryCheckMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith(PREFIX + "/") and request.GET:
            errors = problems(request.method or "GET", request.path, request.GET)
            if errors:
                return JsonResponse({"detail": [{"loc": ["query", name], "msg": msgs[0],
                                                 "type": "value_error"}
                                                for name, msgs in errors.items()],
                                     "errors": errors}, status=422)
        return self.get_response(request)
