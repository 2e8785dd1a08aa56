"""Tasks: creating, changing, completing (and the next occurrence of a repeating one)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from dateutil.rrule import DAILY, MONTHLY, WEEKLY, rrule
from django.db import transaction
from django.utils import timezone

from rapport.accounts.selectors import active_user_exists
from rapport.activities import events
from rapport.activities.dates import business_zone
from rapport.activities.inputs import TaskChanges, TaskInput
from rapport.activities.models import Recurrence, Reminder, Task
from rapport.activities.selectors import interaction_get
from rapport.activities.services._common import changes_since
from rapport.contacts.selectors import company_get, contact_get
from rapport.core.errors import NotFound, PermissionDenied, ValidationFailed
from rapport.core.events import NewEvent, diff, record_events
from rapport.core.inputs import parse
from rapport.core.permissions import can, get_for

FIELDS = ("title", "notes", "due_at", "all_day", "assignee_id", "priority", "contact_id",
          "company_id", "interaction_id", "recurrence", "remind_before")
# An all-day task reminds its assignee at this local hour of its day.
ALL_DAY_REMINDER_HOUR = 8
FREQUENCIES = {Recurrence.DAILY: DAILY, Recurrence.WEEKLY: WEEKLY, Recurrence.MONTHLY: MONTHLY}


def snapshot(task: Task) -> dict[str, Any]:
    return {name: getattr(task, name) for name in FIELDS}


def shown(task: Task) -> dict[str, Any]:
    """What a task's timeline entry shows."""
    return {"title": task.title, "due_at": task.due_at, "all_day": task.all_day,
            "assignee_id": task.assignee_id, "priority": task.get_priority_display(),
            "recurrence": task.recurrence}


def _local_midnight(moment: dt.datetime) -> dt.datetime:
    day = moment.astimezone(business_zone()).date()
    return dt.datetime.combine(day, dt.time(), tzinfo=business_zone())


def next_due(due_at: dt.datetime, recurrence: str, *, after: dt.datetime) -> dt.datetime:
    """The first occurrence of the rule strictly after ``after``, counted from ``due_at``.

    Counted in local wall-clock time, so "every day at 10:00" stays at 10:00 across daylight
    saving changes; a monthly task on the 31st falls on the last day of shorter months.
    """
    zone = business_zone()
    start = due_at.astimezone(zone).replace(tzinfo=None)
    options: dict[str, Any] = {}
    if recurrence == Recurrence.MONTHLY and start.day > 28:
        options = {"bymonthday": (start.day, -1), "bysetpos": 1}
    rule = rrule(FREQUENCIES[Recurrence(recurrence)], dtstart=start, **options)
    floor = max(after.astimezone(zone).replace(tzinfo=None), start)
    following = rule.after(floor)
    assert following is not None  # the rules are endless
    return following.replace(tzinfo=zone)


def _links(actor: Any, values: dict[str, Any], previous: dict[str, Any] | None = None) -> None:
    """Check the records a task links to, each one the user may see (those it already had
    stay). The person comes from the interaction, and the company from the person, when
    they are left out."""
    previous = previous or {}
    errors: dict[str, str] = {}

    def changed(name: str) -> bool:
        return values.get(name) is not None and values[name] != previous.get(name)

    if changed("interaction_id"):
        try:
            interaction = interaction_get(user=actor, interaction_id=values["interaction_id"])
        except NotFound:
            errors["interaction_id"] = f"no interaction with id {values['interaction_id']}"
        else:
            values["contact_id"] = values.get("contact_id") or interaction.contact_id
    company_given = values.get("company_id") is not None
    if changed("contact_id"):
        try:
            contact = contact_get(user=actor, contact_id=values["contact_id"])
        except NotFound:
            errors["contact_id"] = f"no contact with id {values['contact_id']}"
        else:
            if not company_given:
                values["company_id"] = contact.company_id  # the person's, as it is
    if company_given and changed("company_id"):
        try:
            company_get(user=actor, company_id=values["company_id"])
        except NotFound:
            errors["company_id"] = f"no company with id {values['company_id']}"
    if errors:
        raise ValidationFailed(errors)


def _assignee(actor: Any, assignee_id: int | None, *, current: int | None = None) -> int:
    assignee_id = assignee_id or current or actor.id
    if assignee_id != current:
        if not active_user_exists(user_id=assignee_id):
            raise ValidationFailed({"assignee_id": f"no active user with id {assignee_id}"})
        if not can(actor, "tasks.assign", owner_id=assignee_id):
            raise PermissionDenied("you may not give tasks to this user")
    return assignee_id


def _normalised(values: dict[str, Any]) -> dict[str, Any]:
    if values["all_day"]:
        values["due_at"] = _local_midnight(values["due_at"])
    return values


def sync_reminder(task: Task) -> None:
    """Keep one reminder for the task's current occurrence and assignee (none once it is done
    or without ``remind_before``). Reminders already emailed stay as the ledger of that."""
    pending = Reminder.objects.filter(task_id=task.id, email_sent_at__isnull=True)
    if task.completed_at is not None or task.deleted_at is not None or \
            task.remind_before is None:
        pending.delete()
        return
    if task.all_day:
        remind_at = task.due_at.astimezone(business_zone()).replace(
            hour=ALL_DAY_REMINDER_HOUR) - dt.timedelta(minutes=task.remind_before)
    else:
        remind_at = task.due_at - dt.timedelta(minutes=task.remind_before)
    pending.exclude(user_id=task.assignee_id, due_at=task.due_at).delete()
    reminder, created = Reminder.objects.get_or_create(
        task_id=task.id, user_id=task.assignee_id, due_at=task.due_at,
        defaults={"remind_at": remind_at})
    if not created and reminder.email_sent_at is None and reminder.remind_at != remind_at:
        Reminder.objects.filter(id=reminder.id, email_sent_at__isnull=True).update(
            remind_at=remind_at, seen_at=None)


def _created(actor: Any, values: dict[str, Any]) -> Task:
    task = Task.objects.create(created_by_id=actor.id, **values)
    sync_reminder(task)
    return task


@transaction.atomic
def task_create(*, actor: Any, data: TaskInput | Mapping[str, Any]) -> Task:
    values = parse(TaskInput, data).model_dump()
    values["assignee_id"] = _assignee(actor, values["assignee_id"])
    _links(actor, values)
    task = _created(actor, _normalised(values))
    record_events([events.task_created(task_id=task.id, contact_id=task.contact_id,
                                       actor_id=actor.id, shown=shown(task))])
    return task


def _for_change(actor: Any, task_id: int) -> Task:
    return get_for(actor, "change", Task.objects.filter(deleted_at__isnull=True), task_id,
                   noun="task")


@transaction.atomic
def task_update(*, actor: Any, task_id: int, version: int | None,
                changes: TaskChanges | Mapping[str, Any]) -> Task:
    task = _for_change(actor, task_id)
    before = snapshot(task)
    given = changes_since(task, before, version, TaskChanges, changes,
                          required=("title", "due_at", "all_day", "priority", "recurrence"))
    values = parse(TaskInput, {**before, **given}).model_dump()
    values["assignee_id"] = _assignee(actor, values["assignee_id"], current=task.assignee_id)
    _links(actor, values, previous=before)
    after = _normalised(values)
    changed_before, changed_after = diff(before, after)
    if not changed_after:
        return task
    for name, value in changed_after.items():
        setattr(task, name, value)
    task.version += 1
    task.save()
    sync_reminder(task)
    record_events([events.task_updated(task_id=task.id, contact_id=task.contact_id,
                                       actor_id=actor.id, before=changed_before,
                                       after=changed_after)])
    return task


@transaction.atomic
def task_complete(*, actor: Any, task_id: int, now: dt.datetime | None = None) -> Task:
    """Mark it done (logged on its person's timeline). A repeating task gets its next
    occurrence, due at the rule's first time after now. Completing a done task changes
    nothing."""
    task = _for_change(actor, task_id)
    if task.completed_at is not None:
        return task
    now = now or timezone.now()
    task.completed_at, task.completed_by_id = now, actor.id
    task.version += 1
    task.save(update_fields=["completed_at", "completed_by", "version", "updated_at"])
    sync_reminder(task)
    recorded: list[NewEvent] = [events.task_completed(
        task_id=task.id, contact_id=task.contact_id, actor_id=actor.id, shown=shown(task))]
    if task.recurrence:
        following = _created(actor, {
            **snapshot(task), "due_at": next_due(task.due_at, task.recurrence, after=now)})
        recorded.append(events.task_created(task_id=following.id,
                                            contact_id=following.contact_id,
                                            actor_id=actor.id, shown=shown(following)))
    record_events(recorded)
    return task


@transaction.atomic
def task_reopen(*, actor: Any, task_id: int) -> Task:
    task = _for_change(actor, task_id)
    if task.completed_at is None:
        return task
    task.completed_at, task.completed_by_id = None, None
    task.version += 1
    task.save(update_fields=["completed_at", "completed_by", "version", "updated_at"])
    sync_reminder(task)
    record_events([events.task_reopened(task_id=task.id, contact_id=task.contact_id,
                                        actor_id=actor.id, shown=shown(task))])
    return task


@transaction.atomic
def task_delete(*, actor: Any, task_id: int) -> None:
    task = get_for(actor, "delete", Task.objects.filter(deleted_at__isnull=True), task_id,
                   noun="task")
    task.deleted_at = timezone.now()
    task.version += 1
    task.save(update_fields=["deleted_at", "version", "updated_at"])
    sync_reminder(task)
    record_events([events.task_deleted(task_id=task.id, contact_id=task.contact_id,
                                       actor_id=actor.id, shown=shown(task))])
