"""The one search box: every app's search provider, asked in turn.

Apps register providers in their ``rapport_app.py``; each returns the hits the user may see
(visibility is the provider's job, through ``restrict``).
"""

from __future__ import annotations

from typing import Any

from rapport.core import registry
from rapport.core.errors import ValidationFailed
from rapport.core.registry import SearchHit
from rapport.core.validation import CONTROL_CHARACTERS

MAX_QUERY = 200


def clean_query(q: str | None) -> str:
    """What was typed, without control characters (they mean nothing in a search and break
    FTS5 and PostgreSQL); ValidationFailed naming ``q`` when it is too long."""
    q = "".join(" " if ch in CONTROL_CHARACTERS else ch for ch in (q or "")).strip()
    if len(q) > MAX_QUERY:
        raise ValidationFailed({"q": f"at most {MAX_QUERY} characters"})
    return q


def search_everything(*, user: Any, q: str | None, limit: int = 20) -> list[SearchHit]:
    """Hits from every app, each app's best first, in the order apps are installed."""
    q = clean_query(q)
    if not q:
        return []
    limit = max(1, min(limit, 50))
    hits: list[SearchHit] = []
    for provider in registry.search_providers():
        hits.extend(provider(user=user, q=q, limit=limit))
    return hits
