"""Showing activities' values: moments stored in events as ISO text, durations, type icons."""

from __future__ import annotations

import datetime as dt

from django import template
from django.utils import timezone
from django.utils.safestring import mark_safe

from rapport.activities.mail.parse import sanitise_html

register = template.Library()

# Symbols every system font has (emoji may be missing on a server's or an old PC's fonts).
ICONS = {"call": "☎", "email": "✉", "meeting": "◷", "note": "✎", "message": "❝"}


@register.filter
def moment(value):
    """An ISO text (as events keep dates) or a datetime, as a local datetime."""
    if isinstance(value, str) and value:
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, dt.datetime):
        return timezone.localtime(value) if timezone.is_aware(value) else value
    return value


@register.filter
def minutes(seconds):
    if seconds in (None, ""):
        return ""
    return f"{max(1, round(int(seconds) / 60))} min"


@register.filter
def icon(kind):
    return ICONS.get(kind, "•")


@register.filter
def email_html(value):
    """An email's HTML, sanitised again as it is shown (it was when stored): what a browser
    may safely render inside the page."""
    return mark_safe(sanitise_html(value or ""))  # noqa: S308 - nh3 has just cleaned it
