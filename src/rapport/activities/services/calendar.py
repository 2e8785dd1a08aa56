"""Each user's private calendar feed: a revocable secret address, kept only as a hash."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from rapport.activities import events
from rapport.activities.models import CalendarFeed
from rapport.activities.selectors import feed_digest
from rapport.core.errors import NotFound
from rapport.core.events import NewEvent, record_events


@dataclass(frozen=True)
class IssuedFeed:
    feed: CalendarFeed
    raw: str  # shown once: only its hash is kept


def _revoke_active(actor: Any) -> list[NewEvent]:
    now = timezone.now()
    revoked = []
    for feed in CalendarFeed.objects.select_for_update().filter(user_id=actor.id,
                                                                revoked_at__isnull=True):
        CalendarFeed.objects.filter(id=feed.id).update(revoked_at=now)
        revoked.append(events.calendar_feed_revoked(feed_id=feed.id, user_id=actor.id,
                                                    prefix=feed.prefix))
    return revoked


@transaction.atomic
def calendar_feed_create(*, actor: Any) -> IssuedFeed:
    """A new feed address for the actor; the one they had stops working."""
    recorded = _revoke_active(actor)
    raw = "rcal_" + secrets.token_urlsafe(32)
    feed = CalendarFeed.objects.create(user_id=actor.id, prefix=raw[:12],
                                       digest=feed_digest(raw))
    recorded.append(events.calendar_feed_created(feed_id=feed.id, user_id=actor.id,
                                                 prefix=feed.prefix))
    record_events(recorded)
    return IssuedFeed(feed=feed, raw=raw)


@transaction.atomic
def calendar_feed_revoke(*, actor: Any) -> None:
    recorded = _revoke_active(actor)
    if not recorded:
        raise NotFound("you have no calendar feed")
    record_events(recorded)
