"""Counting requests per key in a time window (public forms, the chat widget): one counter in
Django's cache per key, made by the first request of a window and counted up by the rest."""

from __future__ import annotations

from django.core.cache import cache


def over_limit(counter: str, *, allowed: int, window: int) -> bool:
    """Count one request against ``counter``; True when it is more than ``allowed`` in the
    ``window`` seconds that began with the counter's first request."""
    cache.add(counter, 0, timeout=window)
    try:
        count = cache.incr(counter)
    except ValueError:  # the counter expired between add and incr: a new window
        cache.set(counter, 1, timeout=window)
        count = 1
    return count > allowed
