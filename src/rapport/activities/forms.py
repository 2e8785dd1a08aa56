"""Turning posted HTML forms into what the activities services take (and back, to re-show)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from rapport.activities.dates import business_zone
from rapport.activities.models import Interaction, Task

INTERACTION_TEXT = ("type", "direction", "subject", "body", "outcome", "location", "channel")
TASK_TEXT = ("title", "notes", "priority", "recurrence")
REMIND_CHOICES = [("", "no reminder"), ("0", "when it is due"), ("15", "15 minutes before"),
                  ("60", "1 hour before"), ("1440", "1 day before")]


def _minutes_to_seconds(text: str) -> Any:
    text = text.strip()
    if not text:
        return None
    try:
        return round(float(text.replace(",", ".")) * 60)
    except ValueError:
        return text  # the service names the field and says why


def _id_or_none(text: str | None) -> Any:
    text = (text or "").strip()
    return int(text) if text.isdigit() else (text or None)


def interaction_data_from_post(post, *, contact_id: int | None = None) -> dict[str, Any]:
    """What the quick-log forms and the full form send, as ``InteractionInput`` names it."""
    data: dict[str, Any] = {name: post.get(name, "") for name in INTERACTION_TEXT
                            if name in post}
    data["contact_id"] = contact_id if contact_id is not None else _id_or_none(
        post.get("contact_id"))
    for name in ("occurred_at", "ends_at"):
        if post.get(name, "").strip():
            data[name] = post[name]
    if "duration_minutes" in post:
        data["duration_seconds"] = _minutes_to_seconds(post.get("duration_minutes", ""))
    if "attendees" in post:
        data["attendees"] = post.get("attendees", "")
    if post.get("follow_up") == "on":
        data["follow_up"] = {"title": post.get("follow_up_title", ""),
                             "due_at": post.get("follow_up_due", ""),
                             "all_day": post.get("follow_up_all_day") == "1"}
    return data


def local_input(moment: dt.datetime | None) -> str:
    """A moment as an ``<input type=datetime-local>`` shows it (local time, minutes)."""
    if moment is None:
        return ""
    return moment.astimezone(business_zone()).replace(tzinfo=None).isoformat(timespec="minutes")


def interaction_form_values(interaction: Interaction | None = None, post=None,
                            **initial: Any) -> dict[str, Any]:
    if post is not None:
        return {k: post.get(k, "") for k in post}
    if interaction is None:
        now = timezone.now()
        return {"type": "call", "direction": "outbound", "occurred_at": local_input(now),
                **initial}
    values: dict[str, Any] = {name: getattr(interaction, name) for name in INTERACTION_TEXT}
    values.update(
        occurred_at=local_input(interaction.occurred_at),
        ends_at=local_input(interaction.ends_at),
        duration_minutes=("" if interaction.duration_seconds is None
                          else f"{interaction.duration_seconds / 60:g}"),
        attendees=", ".join(interaction.attendees), version=interaction.version)
    return values


def task_data_from_post(post) -> dict[str, Any]:
    """A due date and an optional time (none: a task for the day)."""
    data: dict[str, Any] = {name: post.get(name, "") for name in TASK_TEXT if name in post}
    day, time = post.get("due_date", "").strip(), post.get("due_time", "").strip()
    data["all_day"] = not time
    data["due_at"] = f"{day}T{time or '00:00'}" if day else ""
    for name in ("contact_id", "interaction_id", "assignee_id"):
        if name in post:
            data[name] = _id_or_none(post.get(name))
    if "remind_before" in post:
        data["remind_before"] = post.get("remind_before", "") or None
    return data


def task_form_values(task: Task | None = None, post=None, **initial: Any) -> dict[str, Any]:
    if post is not None:
        return {k: post.get(k, "") for k in post}
    if task is None:
        return {"priority": "normal", "remind_before": "15", "recurrence": "", **initial}
    local = task.due_at.astimezone(business_zone())
    return {"title": task.title, "notes": task.notes, "due_date": local.date().isoformat(),
            "due_time": "" if task.all_day else local.strftime("%H:%M"),
            "priority": task.get_priority_display(), "recurrence": task.recurrence,
            "remind_before": "" if task.remind_before is None else str(task.remind_before),
            "assignee_id": task.assignee_id, "contact_id": task.contact_id or "",
            "interaction_id": task.interaction_id or "", "version": task.version}


def offer_fields(offer) -> dict[str, str]:
    """The hidden inputs that carry an offered follow-up into the log form."""
    return {"follow_up_title": offer.title, "follow_up_due": local_input(offer.due_at),
            "follow_up_all_day": "1" if offer.all_day else "0"}


MAILBOX_FIELDS = ("host", "port", "security", "username", "password", "folder")


def mailbox_form_values(box: Any) -> dict[str, Any]:
    """The mailbox form as stored (never the password)."""
    if box is None:
        return {"host": "", "port": 993, "security": "ssl", "username": "", "password": "",
                "folder": "INBOX", "enabled": True, "version": ""}
    return {"host": box.host, "port": box.port, "security": box.security,
            "username": box.username, "password": "", "folder": box.folder,
            "enabled": box.enabled, "version": box.version}


def mailbox_data_from_post(post: Any) -> dict[str, Any]:
    data: dict[str, Any] = {name: post.get(name, "") for name in MAILBOX_FIELDS}
    data["enabled"] = post.get("enabled") == "on"
    return data
