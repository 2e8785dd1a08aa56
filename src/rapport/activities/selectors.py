"""Reads for interactions, tasks, reminders and calendar feeds, always through restrict().

An interaction is visible to whoever may see its person (``activities`` follows the contact's
owner); a task, to whoever may see its assignee's work (``tasks`` follows the assignee).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone

from rapport.activities.dates import FollowUp, business_zone, find_follow_up
from rapport.activities.mail.signature import parse_signature, without_quotes
from rapport.activities.models import (
    INTERACTION_TYPES,
    SEND_STATUSES,
    CalendarFeed,
    CallRecording,
    EmailTemplate,
    Interaction,
    InteractionType,
    MailAttachment,
    Mailbox,
    MailRejection,
    OutboundEmail,
    OutgoingMail,
    Reminder,
    Task,
)
from rapport.contacts.selectors import contact_get, joined_contact_deferred
from rapport.core.errors import NotFound, ValidationFailed
from rapport.core.pagination import Page, keyset, merged_page, page_limit, page_of
from rapport.core.permissions import can, visible_owners
from rapport.core.validation import CONTROL_CHARACTERS
from rapport.orders.selectors import order_list

MAX_ID = 2**63 - 1
UPCOMING_DAYS = 7
MY_DAY_LIMIT = 200


def _clean(params: dict[str, Any] | None) -> dict[str, Any]:
    cleaned = {}
    for key, value in (params or {}).items():
        if isinstance(value, str):
            value = "".join(ch for ch in value if ch not in CONTROL_CHARACTERS).strip()
        if value not in (None, ""):
            cleaned[key] = value
    return cleaned


def _id(params: dict[str, Any], name: str, what: str) -> int | None:
    if params.get(name) in (None, ""):
        return None
    try:
        number = int(params[name])
    except (TypeError, ValueError):
        raise ValidationFailed({name: f"must be {what}"}) from None
    if not 1 <= number <= MAX_ID:
        raise ValidationFailed({name: f"must be {what}"})
    return number


def _day(params: dict[str, Any], name: str) -> dt.date | None:
    value = params.get(name)
    if value in (None, ""):
        return None
    if not isinstance(value, dt.date):
        try:
            value = dt.date.fromisoformat(str(value)[:10])
        except ValueError:
            raise ValidationFailed({name: "must be a date (YYYY-MM-DD)"}) from None
    if not 1900 <= value.year <= 2200:
        raise ValidationFailed({name: "must be between the years 1900 and 2200"})
    return value


def day_start(day: dt.date) -> dt.datetime:
    """Midnight of ``day`` in the business's time zone."""
    return dt.datetime.combine(day, dt.time(), tzinfo=business_zone())


def local_today(now: dt.datetime | None = None) -> dt.date:
    return (now or timezone.now()).astimezone(business_zone()).date()


# --- interactions ------------------------------------------------------------------------------

def visible_interactions(user: Any) -> QuerySet[Interaction]:
    return Interaction.objects.restrict(user, "view").filter(
        deleted_at__isnull=True, contact__deleted_at__isnull=True)


def can_log_for(user: Any, contact: Any) -> bool:
    """Whoever may see a person may log a conversation with them (as the roles allow)."""
    return can(user, "activities.add", owner_id=contact.owner_id)


def can_change_interaction(user: Any, interaction: Interaction) -> bool:
    """Edits and deletions count from who logged it (``activities.change``)."""
    return can(user, "activities.change", owner_id=interaction.author_id)


def interaction_list(*, user: Any, params: dict[str, Any] | None = None) -> Page:
    """Newest first; filters: ``type``, ``contact_id`` (the person), ``company_id``,
    ``author`` ("me" or a user id), ``since`` and ``until`` (local dates, inclusive)."""
    params = _clean(params)
    limit = page_limit(params)
    queryset = visible_interactions(user)
    kind = params.get("type")
    if kind:
        if kind not in INTERACTION_TYPES:
            raise ValidationFailed({"type": f"must be one of {', '.join(INTERACTION_TYPES)}"})
        queryset = queryset.filter(type=kind)
    contact_id = _id(params, "contact_id", "a contact id")
    if contact_id is not None:
        params["contact"] = contact_get(user=user, contact_id=contact_id)  # 404 if unseen
        queryset = queryset.filter(contact_id=contact_id)
    company_id = _id(params, "company_id", "a company id")
    if company_id is not None:
        queryset = queryset.filter(company_id=company_id)
    author = params.get("author")
    if author == "me":
        queryset = queryset.filter(author_id=user.id)
    elif author:
        queryset = queryset.filter(author_id=_id(params, "author", "a user id or 'me'"))
    since, until = _day(params, "since"), _day(params, "until")
    if since and until and until < since:
        raise ValidationFailed({"until": "must not be before since"})
    if since:
        queryset = queryset.filter(occurred_at__gte=day_start(since))
    if until:
        queryset = queryset.filter(occurred_at__lt=day_start(until + dt.timedelta(days=1)))
    fields = ("occurred_at", "id")
    queryset = keyset(queryset, fields, True, params.get("cursor"))
    return page_of(queryset.select_related("contact", "author")
                   .defer(*joined_contact_deferred(), *_user_deferred("author")),
                   fields, limit, params)


def interaction_get(*, user: Any, interaction_id: int) -> Interaction:
    interaction = (visible_interactions(user).select_related("contact", "author", "company", "mail")
                   .filter(id=interaction_id).first())
    if interaction is None:
        raise NotFound(f"no interaction with id {interaction_id}")
    return interaction


def call_recording(*, interaction: Interaction) -> CallRecording | None:
    """The recording of a call (without its bytes) and its transcription's state, if any."""
    return CallRecording.objects.defer("content").filter(interaction_id=interaction.id).first()


def company_interactions(*, user: Any, company_id: int, limit: int = 10) -> list[Interaction]:
    """The latest conversations with a company's people (logged while they worked there)."""
    return list(visible_interactions(user).filter(company_id=company_id)
                .order_by("-occurred_at", "-id").select_related("contact")[:limit])


def headline(interaction: Interaction) -> str:
    """What an interaction is about in one line: its subject, or what it was."""
    if interaction.subject:
        return interaction.subject
    kind = InteractionType(interaction.type).label
    parts = [interaction.direction] if interaction.direction else []
    if interaction.channel:
        parts.append(interaction.channel)
    if interaction.duration_seconds:
        parts.append(f"{max(1, round(interaction.duration_seconds / 60))} min")
    if interaction.location:
        parts.append(interaction.location)
    described = f"{kind.capitalize()} ({', '.join(parts)})" if parts else kind.capitalize()
    return described


def summary_text(interaction: Interaction, *, limit: int = 300) -> str:
    """Its summary (a transcript's, when there is one), else the start of what was noted."""
    text = interaction.summary or interaction.outcome or interaction.body or ""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(frozen=True)
class FollowUpOffer:
    title: str
    due_at: dt.datetime
    all_day: bool
    matched: str


def follow_up_offer(*, text: str, contact_name: str = "",
                    now: dt.datetime | None = None) -> FollowUpOffer | None:
    """The task that "call back Friday 10am" offers to create, or None."""
    found: FollowUp | None = find_follow_up(text[:500], now=now)
    if found is None:
        return None
    what = found.rest[:150] or "Follow up"
    what = what[0].upper() + what[1:]
    if contact_name and contact_name.lower() not in what.lower():
        joiner = " with " if what == "Follow up" else " — "
        what = f"{what}{joiner}{contact_name}"
    return FollowUpOffer(title=what[:200], due_at=found.due_at, all_day=found.all_day,
                         matched=found.matched)


# --- tasks -------------------------------------------------------------------------------------

def visible_tasks(user: Any, action: str = "view") -> QuerySet[Task]:
    return Task.objects.restrict(user, action).filter(deleted_at__isnull=True)


def task_list(*, user: Any, params: dict[str, Any] | None = None) -> Page:
    """Tasks by due time; filters: ``status`` (open, done, all; open by default),
    ``assignee`` ("me" or a user id), ``contact_id``, ``due_before``/``due_after`` (dates)."""
    params = _clean(params)
    limit = page_limit(params)
    status = params.get("status", "open")
    if status not in ("open", "done", "all"):
        raise ValidationFailed({"status": "must be one of open, done, all"})
    queryset = visible_tasks(user)
    if status == "open":
        queryset = queryset.filter(completed_at__isnull=True)
    elif status == "done":
        queryset = queryset.filter(completed_at__isnull=False)
    assignee = params.get("assignee")
    if assignee == "me":
        queryset = queryset.filter(assignee_id=user.id)
    elif assignee:
        queryset = queryset.filter(assignee_id=_id(params, "assignee", "a user id or 'me'"))
    contact_id = _id(params, "contact_id", "a contact id")
    if contact_id is not None:
        queryset = queryset.filter(contact_id=contact_id)
    before, after = _day(params, "due_before"), _day(params, "due_after")
    if before:
        queryset = queryset.filter(due_at__lt=day_start(before + dt.timedelta(days=1)))
    if after:
        queryset = queryset.filter(due_at__gte=day_start(after))
    fields = ("due_at", "id")
    descending = status == "done"
    owners = visible_owners(user, "tasks.view")
    if status != "all" and not assignee and owners and len(owners) > 1:
        # A team's open (or done) tasks: each member's read in order through an (assignee,
        # due) index, merged (sorting a team's every open task took a second at 100,000).
        return merged_page(
            [queryset.filter(assignee_id=owner) for owner in owners], fields, descending,
            params.get("cursor"), limit, filters=params, lead=("assignee_id",),
            load=lambda ids: _listed_tasks(Task.objects.filter(id__in=ids)))
    one_assignee = bool(assignee) or (owners is not None and len(owners) == 1)
    lead = ("assignee_id",) if status != "all" and one_assignee else ()
    queryset = keyset(queryset, fields, descending, params.get("cursor"), lead=lead)
    return page_of(_listed_tasks(queryset), fields, limit, params)


def _user_deferred(path: str) -> tuple[str, ...]:
    """What a row that names a user never reads of them."""
    return tuple(f"{path}__{name}" for name in ("password", "last_login", "date_joined"))


def _listed_tasks(queryset: QuerySet[Task]) -> QuerySet[Task]:
    """A list's tasks with the names of their person and assignee (not their whole rows)."""
    return queryset.select_related("contact", "assignee").defer(
        *joined_contact_deferred(), *_user_deferred("assignee"))


def task_get(*, user: Any, task_id: int) -> Task:
    task = (visible_tasks(user).select_related("contact", "assignee", "interaction")
            .filter(id=task_id).first())
    if task is None:
        raise NotFound(f"no task with id {task_id}")
    return task


def interaction_tasks(*, user: Any, interaction: Interaction, limit: int = 20) -> list[Task]:
    """The follow-up tasks made from a conversation (those this user may see)."""
    return list(visible_tasks(user).filter(interaction_id=interaction.id)
                .order_by("due_at", "id").select_related("contact", "assignee")[:limit])


def can_change_task(user: Any, task: Task) -> bool:
    return can(user, "tasks.change", task)


@dataclass
class MyDay:
    today: dt.date
    overdue: list[Task] = field(default_factory=list)
    due_today: list[Task] = field(default_factory=list)
    done_today: list[Task] = field(default_factory=list)
    upcoming: list[Task] = field(default_factory=list)
    meetings: list[Interaction] = field(default_factory=list)

    @property
    def open_count(self) -> int:
        return len(self.overdue) + len(self.due_today)


def my_day(*, user: Any, now: dt.datetime | None = None) -> MyDay:
    """The user's own tasks: overdue, due today (and done today), the next week; and today's
    meetings they logged. Three queries, however many tasks."""
    now = now or timezone.now()
    today = local_today(now)
    start, tomorrow = day_start(today), day_start(today + dt.timedelta(days=1))
    horizon = day_start(today + dt.timedelta(days=UPCOMING_DAYS + 1))
    mine = Task.objects.filter(assignee_id=user.id, deleted_at__isnull=True)
    day = MyDay(today=today)
    for task in (mine.filter(completed_at__isnull=True, due_at__lt=horizon)
                 .order_by("due_at", "id").select_related("contact")[:MY_DAY_LIMIT]):
        if task.due_at < start:
            day.overdue.append(task)
        elif task.due_at < tomorrow:
            day.due_today.append(task)
        else:
            day.upcoming.append(task)
    day.done_today = list(mine.filter(completed_at__gte=start).order_by("completed_at", "id")
                          .select_related("contact")[:MY_DAY_LIMIT])
    day.meetings = list(visible_interactions(user).filter(
        author_id=user.id, type=InteractionType.MEETING, occurred_at__gte=start,
        occurred_at__lt=tomorrow).order_by("occurred_at", "id").select_related("contact"))
    return day


def tasks_due_count(*, user: Any, now: dt.datetime | None = None) -> int:
    """The user's open tasks due by the end of today (overdue ones too)."""
    tomorrow = day_start(local_today(now) + dt.timedelta(days=1))
    return Task.objects.filter(assignee_id=user.id, deleted_at__isnull=True,
                               completed_at__isnull=True, due_at__lt=tomorrow).count()


def contact_open_tasks(*, user: Any, contact_id: int, limit: int = 5) -> list[Task]:
    return list(visible_tasks(user).filter(contact_id=contact_id, completed_at__isnull=True)
                .order_by("due_at", "id").select_related("contact", "assignee")[:limit])


# --- reminders ---------------------------------------------------------------------------------

def _due_reminders(user: Any, now: dt.datetime) -> QuerySet[Reminder]:
    return Reminder.objects.filter(user_id=user.id, seen_at__isnull=True, remind_at__lte=now,
                                   task__completed_at__isnull=True,
                                   task__deleted_at__isnull=True)


def bell_count(*, user: Any, now: dt.datetime | None = None) -> int:
    """How many reminders have come for this user and are not seen yet (one query)."""
    return _due_reminders(user, now or timezone.now()).count()


def reminder_list(*, user: Any, now: dt.datetime | None = None, limit: int = 20
                  ) -> list[Reminder]:
    return list(_due_reminders(user, now or timezone.now()).select_related("task__contact")
                .order_by("-remind_at", "-id")[:limit])


# --- calendar feeds ----------------------------------------------------------------------------

def feed_digest(raw_token: str) -> str:
    return hashlib.sha256(raw_token.encode()).hexdigest()


def active_feed(*, user: Any) -> CalendarFeed | None:
    return CalendarFeed.objects.filter(user_id=user.id, revoked_at__isnull=True).first()


def feed_owner(*, raw_token: str) -> Any:
    """The active user whose live feed this token opens, or None."""
    feed = (CalendarFeed.objects.select_related("user")
            .filter(digest=feed_digest(raw_token), revoked_at__isnull=True,
                    user__is_active=True).first())
    return None if feed is None else feed.user


@dataclass
class CalendarItems:
    tasks: list[Task]
    meetings: list[Interaction]


def calendar_items(*, user: Any, now: dt.datetime | None = None, past_days: int = 60,
                   limit: int = 2000) -> CalendarItems:
    """A user's calendar: their tasks (open, or done lately) and the meetings they logged,
    from ``past_days`` ago on."""
    now = now or timezone.now()
    since = now - dt.timedelta(days=past_days)
    tasks = list(Task.objects.filter(assignee_id=user.id, deleted_at__isnull=True)
                 .filter(Q(completed_at__isnull=True) | Q(completed_at__gte=since))
                 .filter(due_at__gte=since - dt.timedelta(days=305))
                 .select_related("contact").order_by("due_at", "id")[:limit])
    meetings = list(visible_interactions(user).filter(
        author_id=user.id, type=InteractionType.MEETING, occurred_at__gte=since)
        .select_related("contact").order_by("occurred_at", "id")[:limit])
    return CalendarItems(tasks=tasks, meetings=meetings)


def mailbox_get() -> Mailbox | None:
    """The IMAP mailbox the scheduler polls, if one is set."""
    return Mailbox.objects.order_by("id").first()


def mail_rejections(*, limit: int = 50) -> list[MailRejection]:
    """The newest messages the CRM refused, and why."""
    return list(MailRejection.objects.order_by("-received_at", "-id")[:limit])


def mail_details(*, interaction: Interaction) -> dict[str, Any]:
    """What an email interaction's page shows beyond its own fields: the attachments (without
    their bytes), what was worked around reading it, and the rest of its conversation that
    the viewer may see."""
    if interaction.type != InteractionType.EMAIL:
        return {}
    attachments = []
    problems: list[str] = []
    if interaction.mail_id:
        attachments = list(MailAttachment.objects.filter(message_id=interaction.mail_id)
                           .order_by("id").defer("data"))
        problems = list(interaction.mail.problems) if interaction.mail else []
    thread: list[Interaction] = []
    if interaction.thread:
        thread = list(Interaction.objects.filter(
            thread=interaction.thread, contact_id=interaction.contact_id,
            deleted_at__isnull=True).exclude(id=interaction.id)
            .order_by("occurred_at", "id")[:50])
    return {"attachments": attachments, "problems": problems, "thread": thread}


def mail_attachment(*, user, interaction_id: int, attachment_id: int) -> MailAttachment:
    """An attachment of an email this user may see (404 otherwise, or when it was dropped)."""
    interaction = interaction_get(user=user, interaction_id=interaction_id)
    found = MailAttachment.objects.filter(id=attachment_id, message_id=interaction.mail_id,
                                          dropped=False).first()
    if interaction.mail_id is None or found is None:
        raise NotFound("no such attachment")
    return found
# --- email templates and sent email ------------------------------------------------------------

def visible_templates(user: Any, action: str = "view") -> QuerySet[EmailTemplate]:
    return EmailTemplate.objects.restrict(user, action).filter(deleted_at__isnull=True)


def email_template_list(*, user: Any, params: dict[str, Any] | None = None) -> Page:
    """By name; filters: ``q`` (in the name), ``owner`` ("me" or a user id)."""
    params = _clean(params)
    limit = page_limit(params)
    queryset = visible_templates(user)
    if params.get("q"):
        queryset = queryset.filter(name__icontains=str(params["q"])[:150])
    owner = params.get("owner")
    if owner == "me":
        queryset = queryset.filter(owner_id=user.id)
    elif owner:
        queryset = queryset.filter(owner_id=_id(params, "owner", "a user id or 'me'"))
    fields = ("name", "id")
    queryset = keyset(queryset, fields, False, params.get("cursor"))
    return page_of(queryset.select_related("owner"), fields, limit, params)


def email_template_get(*, user: Any, template_id: int) -> EmailTemplate:
    template = visible_templates(user).filter(id=template_id).first()
    if template is None:
        raise NotFound(f"no email template with id {template_id}")
    return template


def email_template_choices(*, user: Any, limit: int = 500) -> list[EmailTemplate]:
    return list(visible_templates(user).order_by("name", "id")[:limit])


def can_change_template(user: Any, template: EmailTemplate) -> bool:
    return can(user, "email_templates.change", template)


def visible_emails(user: Any) -> QuerySet[OutboundEmail]:
    """Emails to people (those to an address alone, a lead's, are shown by whoever queued
    them: ``outbound_email_states``)."""
    return OutboundEmail.objects.restrict(user, "view").filter(
        contact__isnull=False, contact__deleted_at__isnull=True)


def outbound_email_states(*, email_ids: list[int] | set[int]) -> dict[int, dict[str, Any]]:
    """Where these emails are on their way out, by id (for the app that queued them with
    ``email_queue_to_address``, which has checked who may see them)."""
    rows = OutboundEmail.objects.filter(id__in=list(email_ids)).values(
        "id", "status", "subject", "to_address", "sent_at", "last_error")
    return {row["id"]: dict(row) for row in rows}


def interactions_with_addresses(*, interaction_ids: list[int] | set[int]
                                ) -> list[dict[str, Any]]:
    """Who these conversations were with, for event subscribers (no user: they act for the
    business): type, direction, the sender's address and every address of the person."""
    rows = (Interaction.objects.filter(id__in=list(interaction_ids), deleted_at__isnull=True)
            .select_related("contact").order_by("id"))
    out = []
    for row in rows:
        addresses = {str(a).lower() for a in [row.contact.primary_email,
                                                *(row.contact.emails or [])] if a}
        out.append({"id": row.id, "type": row.type, "direction": row.direction,
                    "from_address": row.from_address.lower(), "contact_id": row.contact_id,
                    "contact_addresses": sorted(addresses), "subject": row.subject,
                    "occurred_at": row.occurred_at})
    return out


def outbound_email_list(*, user: Any, params: dict[str, Any] | None = None) -> Page:
    """Newest first; filters: ``contact_id``, ``status``."""
    params = _clean(params)
    limit = page_limit(params)
    queryset = visible_emails(user)
    contact_id = _id(params, "contact_id", "a contact id")
    if contact_id is not None:
        params["contact"] = contact_get(user=user, contact_id=contact_id)
        queryset = queryset.filter(contact_id=contact_id)
    status = params.get("status")
    if status:
        if status not in SEND_STATUSES:
            raise ValidationFailed({"status": f"must be one of {', '.join(SEND_STATUSES)}"})
        queryset = queryset.filter(status=status)
    fields = ("created_at", "id")
    queryset = keyset(queryset, fields, True, params.get("cursor"))
    return page_of(queryset.select_related("contact"), fields, limit, params)


def outbound_email_get(*, user: Any, email_id: int) -> OutboundEmail:
    email = visible_emails(user).select_related("contact").filter(id=email_id).first()
    if email is None:
        raise NotFound(f"no email with id {email_id}")
    return email


def contact_outbound_emails(*, user: Any, contact_id: int, limit: int = 5
                            ) -> list[OutboundEmail]:
    """The latest emails to a person that are not sent (yet): what the contact page shows."""
    return list(visible_emails(user).filter(contact_id=contact_id).exclude(status="sent")
                .order_by("-created_at", "-id")[:limit])


@dataclass(frozen=True)
class MailServer:
    """The outgoing mail server as it is used: the settings page's overrides, else the
    environment's. ``host`` empty: Django's configured backend (the console by default)."""

    host: str
    port: int
    username: str
    password_set: bool
    use_tls: bool
    use_ssl: bool
    from_email: str
    business_name: str
    overridden: bool
    backend: str


def outgoing_mail_row() -> OutgoingMail | None:
    return OutgoingMail.objects.order_by("id").first()


def mail_server() -> MailServer:
    row = outgoing_mail_row()
    env: dict[str, Any] = getattr(settings, "RAPPORT_SMTP", {})
    host = (row.host if row and row.host else env.get("host", "")) or ""
    if row and row.host:
        use_tls, use_ssl = row.use_tls, row.use_ssl
        port = row.port or (465 if row.use_ssl else 587 if row.use_tls else 25)
        username = row.username
    else:
        use_tls, use_ssl = bool(env.get("use_tls")), bool(env.get("use_ssl"))
        port = int(env.get("port") or 25)
        username = env.get("username", "")
    backend = ("django.core.mail.backends.smtp.EmailBackend" if row and row.host else
               settings.MAILERS["default"].get("BACKEND", ""))
    return MailServer(
        host=host, port=port, username=username, password_set=bool(env.get("password")),
        use_tls=use_tls, use_ssl=use_ssl,
        from_email=(row.from_email if row and row.from_email else settings.DEFAULT_FROM_EMAIL),
        business_name=(row.business_name if row and row.business_name
                       else getattr(settings, "RAPPORT_BUSINESS_NAME", "")),
        overridden=bool(row and (row.host or row.from_email or row.business_name)),
        backend=backend)


def _money(value: Any) -> str:
    return f"{value:.2f}"


def merge_context(*, user: Any, contact_id: int) -> dict[str, Any]:
    """What a template may use for this person, as this user sees them (only dicts, lists,
    strings and numbers). Values the person does not have are left out, so a template's
    ``default`` applies (see ``merge.py``)."""
    contact = contact_get(user=user, contact_id=contact_id)
    company = getattr(contact, "shown_company", None)
    person: dict[str, Any] = {
        "first_name": contact.first_name, "last_name": contact.last_name,
        "name": contact.full_name, "email": contact.primary_email,
        "job_title": contact.job_title, "company": company.name if company else "",
        "preferences": [str(p) for p in contact.preferences or []],
    }
    person = {k: v for k, v in person.items() if v not in ("", [])}
    person["custom"] = {str(k): v for k, v in (contact.custom_fields or {}).items()
                        if v not in (None, "", [])}
    context: dict[str, Any] = {"contact": person}
    orders = order_list(user=user, params={"contact_id": contact.id, "limit": 1}).items
    if orders:
        order = orders[0]
        lines = [{"product": line.product.name, "quantity": line.quantity,
                  "price": _money(line.unit_price)} for line in order.lines.all()]
        day = order.ordered_at.astimezone(business_zone()).date()
        context["last_order"] = {
            "date": f"{day.day} {day:%B %Y}", "total": _money(order.total), "lines": lines,
            "products": ", ".join(dict.fromkeys(line["product"] for line in lines))}
    sender = {"first_name": getattr(user, "first_name", ""),
              "last_name": getattr(user, "last_name", ""),
              "name": (getattr(user, "display_name", "") or ""), "email": user.email}
    context["user"] = {k: v for k, v in sender.items() if v}
    business = mail_server().business_name
    context["business"] = {"name": business} if business else {}
    return context


# --- mail from new senders, for the apps that follow it up (sales: leads) ------------------------

def captured_mail_facts(*, interaction_ids: list[int]) -> list[dict[str, Any]]:
    """For captured inbound email interactions (by id): the sender's address and name, the
    message's new text (quoted replies left out) and what its signature says (website,
    company, job title). For an app's event subscriber (no user: the system reads what it
    just stored); interactions that are not captured inbound mail are left out."""
    facts = []
    for interaction in (Interaction.objects.filter(
            id__in=interaction_ids, type=InteractionType.EMAIL, direction="inbound",
            mail__isnull=False, deleted_at__isnull=True)
            .select_related("contact").order_by("id")):
        name = " ".join(part for part in (interaction.contact.first_name,
                                          interaction.contact.last_name) if part)
        sign = parse_signature(interaction.body, sender_name=name)
        facts.append({"interaction_id": interaction.id, "contact_id": interaction.contact_id,
                      "from_address": interaction.from_address, "name": name,
                      "subject": interaction.subject, "text": without_quotes(interaction.body),
                      "website": sign.website, "company": sign.company,
                      "job_title": sign.job_title,
                      # --- desk: whom it was sent to (sales leaves the help desk's mail) ---
                      "to": [str(a).lower() for a in [*(interaction.to_addresses or []),
                                                      *(interaction.cc_addresses or [])]]})
    return facts


# --- desk: captured inbound mail as the help desk reads it (threading, recipients, flags) ---

def captured_mail_threads(*, interaction_ids: list[int]) -> list[dict[str, Any]]:
    """For captured inbound email interactions (by id), one entry per stored message (a
    message logged for several people is read once): its MailMessage id, Message-ID,
    In-Reply-To and References (without angle brackets), To and Cc addresses, sender, subject,
    the whole text and the new text (quoted replies left out), its size and whether it is
    automatic (auto-reply, bounce, bulk or list mail). For an app's event subscriber (no user:
    the system reads what it just stored)."""
    seen: set[int] = set()
    facts = []
    for interaction in (Interaction.objects.filter(
            id__in=interaction_ids, type=InteractionType.EMAIL, direction="inbound",
            mail__isnull=False, deleted_at__isnull=True)
            .select_related("contact", "mail").order_by("id")):
        mail = interaction.mail
        if mail is None or mail.id in seen:
            continue
        seen.add(mail.id)
        name = " ".join(part for part in (interaction.contact.first_name,
                                          interaction.contact.last_name) if part)
        facts.append({
            "interaction_id": interaction.id, "mail_id": mail.id,
            "contact_id": interaction.contact_id, "from_address": interaction.from_address,
            "name": name, "subject": interaction.subject, "message_id": interaction.message_id,
            "in_reply_to": interaction.in_reply_to,
            "references": interaction.references.split(),
            "to": [str(a).lower() for a in [*(interaction.to_addresses or []),
                                            *(interaction.cc_addresses or [])]],
            "body": interaction.body, "text": without_quotes(interaction.body),
            "size": mail.size, "auto_submitted": mail.auto_submitted})
    return facts
# --- end desk ---


def mail_attachment_files(*, mail_id: int) -> list[dict[str, Any]]:
    """The files kept with a captured message (those over the size limit were only named:
    ``data`` None), for an app that files them elsewhere (the help desk's tickets)."""
    return [{"filename": a.filename, "content_type": a.content_type, "size": a.size,
             "data": bytes(a.data) if a.data is not None else None}
            for a in MailAttachment.objects.filter(message_id=mail_id).order_by("id")]
