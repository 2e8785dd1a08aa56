"""iCalendar (RFC 5545) for a user's feed and for one meeting, built with ``icalendar``.

Tasks are events (VEVENT), not to-dos: Google Calendar shows only events from a subscribed
calendar. Times are written in UTC, so no time-zone definitions are needed; all-day tasks
are dates. UIDs are stable, so a calendar that subscribes updates an item in place.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import Any

from django.utils import timezone
from icalendar import Calendar, Event, vCalAddress, vText

from rapport.activities.dates import business_zone
from rapport.activities.models import Interaction, Task

PRODID = "-//Rapport//Rapport CRM//EN"
TASK_LENGTH = dt.timedelta(minutes=30)
MEETING_LENGTH = dt.timedelta(hours=1)


def _calendar(name: str, *, method: str | None = None) -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    if method:
        calendar.add("method", method)
    calendar.add("x-wr-calname", name)
    return calendar


def _utc(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(dt.UTC)


def task_event(task: Task, *, host: str, url: str = "") -> Event:
    event = Event()
    event.add("uid", f"task-{task.id}@{host}")
    event.add("dtstamp", _utc(timezone.now()))
    done = task.completed_at is not None
    event.add("summary", f"{'✓' if done else '☐'} {task.title}")
    if task.all_day:
        day = task.due_at.astimezone(business_zone()).date()
        event.add("dtstart", day)
        event.add("dtend", day + dt.timedelta(days=1))
        event.add("transp", "TRANSPARENT")
    else:
        event.add("dtstart", _utc(task.due_at))
        event.add("dtend", _utc(task.due_at + TASK_LENGTH))
    lines = [task.notes] if task.notes else []
    if task.contact_id and task.contact:
        lines.append(f"About: {task.contact.full_name}")
    if url:
        lines.append(url)
        event.add("url", url)
    if lines:
        event.add("description", "\n".join(lines))
    event.add("categories", ["Task"])
    event.add("last-modified", _utc(task.updated_at))
    event.add("status", "CONFIRMED")
    return event


def meeting_event(meeting: Interaction, *, host: str, url: str = "") -> Event:
    event = Event()
    event.add("uid", f"meeting-{meeting.id}@{host}")
    event.add("dtstamp", _utc(timezone.now()))
    person = meeting.contact.full_name if meeting.contact_id else ""
    event.add("summary", meeting.subject or (f"Meeting with {person}" if person else "Meeting"))
    event.add("dtstart", _utc(meeting.occurred_at))
    event.add("dtend", _utc(meeting.ends_at or meeting.occurred_at + MEETING_LENGTH))
    if meeting.location:
        event.add("location", meeting.location)
    description = [meeting.body] if meeting.body else []
    if url:
        description.append(url)
        event.add("url", url)
    if description:
        event.add("description", "\n".join(description))
    for attendee in meeting.attendees:
        if "@" in attendee and " " not in attendee.strip():
            address = vCalAddress(f"mailto:{attendee.strip()}")
            address.params["cn"] = vText(attendee.strip())
            event.add("attendee", address, encode=0)
    event.add("categories", ["Meeting"])
    event.add("last-modified", _utc(meeting.updated_at))
    event.add("status", "CONFIRMED")
    return event


def feed(*, name: str, tasks: Iterable[Task], meetings: Iterable[Interaction], host: str,
         url_of: Callable[[Any], str] = lambda _: "") -> bytes:
    """A subscribable calendar of these tasks and meetings."""
    calendar = _calendar(name)
    calendar.add("refresh-interval", dt.timedelta(minutes=15), parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", "PT15M")
    for task in tasks:
        calendar.add_component(task_event(task, host=host, url=url_of(task)))
    for meeting in meetings:
        calendar.add_component(meeting_event(meeting, host=host, url=url_of(meeting)))
    return calendar.to_ical()


def meeting_file(meeting: Interaction, *, host: str, url: str = "") -> bytes:
    """One meeting as a .ics file a calendar program imports."""
    calendar = _calendar("Rapport meeting", method="PUBLISH")
    calendar.add_component(meeting_event(meeting, host=host, url=url))
    return calendar.to_ical()
