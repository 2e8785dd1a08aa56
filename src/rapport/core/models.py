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
    table. ``before``/``after`` and ``salt`` are the erasable payload; ``payload_hash`` is the
    salted commitment to them that the chain covers. ``seq``, ``prev_hash`` and ``hash`` are
    empty until the sealer puts the row in the chain (just after its commit): see
    ``core/events.py`` and ``docs/audit.md``.
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
    # Null once erased (with before and after): the commitment can no longer be opened.
    salt = models.CharField(max_length=32, null=True, blank=True)
    payload_hash = models.CharField(max_length=64, default="")
    seq = models.BigIntegerField(null=True, blank=True, unique=True)
    prev_hash = models.CharField(max_length=64, null=True, blank=True)
    hash = models.CharField(max_length=64, null=True, blank=True, unique=True)

    # Not columns: what a timeline selector attaches for showing the event (its kind's label,
    # its partial, and its changes with ids shown as names).
    kind_label: str
    template: str
    changes: list[tuple[str, Any, Any]]

    class Meta:
        indexes = [
            models.Index(fields=["contact_id", "-occurred_at", "-id"], name="event_timeline_idx"),
            models.Index(fields=["entity_type", "entity_id"], name="event_entity_idx"),
            # What the sealer reads: the few rows not sealed yet.
            models.Index(fields=["id"], name="event_unsealed_idx",
                         condition=models.Q(seq__isnull=True)),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.entity_type}#{self.entity_id}"

    @property
    def is_erased(self) -> bool:
        """Its personal values were erased (the chain still holds their commitment)."""
        return self.salt is None


class AuditHead(models.Model):
    """A single row: the newest sealed event's hash, and ``count`` = its seq.

    Only the sealer writes it (under the seal lock); writers never read it.
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    last_hash = models.CharField(max_length=64)
    count = models.BigIntegerField(default=0)

    class Meta:
        constraints = [models.CheckConstraint(condition=models.Q(id=1), name="audithead_singleton")]
