"""Base models shared by every app, and the event table that records every change."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models


class TimestampedModel(models.Model):
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class EditableModel(TimestampedModel):
    """A record people edit: optimistic locking by ``version``, soft deletion by ``deleted_at``."""

    version = models.PositiveIntegerField(default=1)
    # Indexed by each model for deleted rows only (``deleted_index``): an index over every row's
    # NULL tempted SQLite into reading a million rows for "deleted_at IS NULL".
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True


def deleted_index(name: str) -> models.Index:
    """The index of a model's soft-deleted rows (what the purge and the bin read)."""
    return models.Index(fields=["deleted_at"], name=name,
                        condition=models.Q(deleted_at__isnull=False))


class Event(models.Model):
    """One change or happening, written by a service in the same transaction as the change.

    The customer timeline, the audit log, automation triggers and ML features all read this
    table. ``hash`` chains each entry to the previous one so tampering is detectable.
    """

    occurred_at = models.DateTimeField()  # queried through event_timeline_idx only
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    kind = models.CharField(max_length=64)  # e.g. contact.created, contact.updated, note.added
    entity_type = models.CharField(max_length=32)
    entity_id = models.BigIntegerField()
    # The person this event belongs to on their timeline (null for events about no one).
    contact_id = models.BigIntegerField(null=True, blank=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    # Not columns: what a timeline selector attaches for showing the event (its kind's label,
    # its partial, and its changes with ids shown as names).
    kind_label: str
    template: str
    changes: list[tuple[str, Any, Any]]

    class Meta:
        indexes = [
            models.Index(fields=["contact_id", "-occurred_at", "-id"], name="event_timeline_idx"),
            models.Index(fields=["entity_type", "entity_id"], name="event_entity_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.entity_type}#{self.entity_id}"


class AuditHead(models.Model):
    """A single row holding the newest hash; locking it serialises appends to the chain."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    last_hash = models.CharField(max_length=64)
    count = models.BigIntegerField(default=0)

    class Meta:
        constraints = [models.CheckConstraint(condition=models.Q(id=1), name="audithead_singleton")]
