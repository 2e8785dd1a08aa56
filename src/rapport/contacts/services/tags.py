"""Writes for tags: anyone may add one; renaming and deleting are owner-role settings."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from rapport.contacts import events
from rapport.contacts.inputs import TagInput
from rapport.contacts.models import CompanyTag, ContactTag, Tag
from rapport.contacts.services.fields import SETTINGS_MESSAGE
from rapport.core.errors import NotFound, ValidationFailed
from rapport.core.events import record_events
from rapport.core.inputs import parse
from rapport.core.permissions import require


def _tag_name(name: str) -> str:
    return parse(TagInput, {"name": name}).name.lower()


@transaction.atomic
def tag_create(*, actor: Any, name: str) -> Tag:
    tag, created = Tag.objects.get_or_create(name=_tag_name(name))
    if created:
        record_events([events.tag_created(tag_id=tag.id, actor_id=actor.id, name=tag.name)])
    return tag


@transaction.atomic
def tag_rename(*, actor: Any, tag_id: int, name: str) -> Tag:
    """Rename a tag everywhere it is used (tags are shared)."""
    require(actor, "settings.change", message=SETTINGS_MESSAGE)
    new_name = _tag_name(name)
    tag = Tag.objects.select_for_update().filter(id=tag_id).first()
    if tag is None:
        raise NotFound(f"no tag with id {tag_id}")
    if Tag.objects.filter(name=new_name).exclude(id=tag_id).exists():
        raise ValidationFailed({"name": f"a tag named {new_name!r} already exists"})
    before = tag.name
    tag.name = new_name
    tag.save(update_fields=["name"])
    record_events([events.tag_renamed(tag_id=tag.id, actor_id=actor.id, before=before,
                                      after=tag.name)])
    return tag


@transaction.atomic
def tag_delete(*, actor: Any, tag_id: int) -> None:
    """Remove a tag from every contact and company."""
    require(actor, "settings.change", message=SETTINGS_MESSAGE)
    tag = Tag.objects.filter(id=tag_id).first()
    if tag is None:
        raise NotFound(f"no tag with id {tag_id}")
    used = ContactTag.objects.filter(tag=tag).count() + CompanyTag.objects.filter(tag=tag).count()
    tag.delete()
    record_events([events.tag_deleted(tag_id=tag_id, actor_id=actor.id, name=tag.name,
                                      used_by=used)])
