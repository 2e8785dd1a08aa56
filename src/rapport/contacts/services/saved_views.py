"""Writes for saved list views (each user's own)."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from rapport.contacts.inputs import SavedViewInput
from rapport.contacts.models import SavedView
from rapport.core.errors import NotFound
from rapport.core.inputs import parse


@transaction.atomic
def saved_view_create(*, actor: Any, name: str, query: str,
                      object_type: str = "contact") -> SavedView:
    view = parse(SavedViewInput, {"name": name, "query": query.lstrip("?"),
                                  "object_type": object_type})
    saved, _ = SavedView.objects.update_or_create(
        user=actor, object_type=view.object_type, name=view.name,
        defaults={"query": view.query})
    return saved


@transaction.atomic
def saved_view_delete(*, actor: Any, view_id: int) -> None:
    deleted, _ = SavedView.objects.filter(id=view_id, user=actor).delete()
    if not deleted:
        raise NotFound("no such saved view")
