"""Pages for conversations, tasks, My day, reminders and the calendar feed: parse the request,
call a service or selector, render (core.pages maps the errors)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET, require_POST

from rapport.accounts.selectors import user_list
from rapport.activities import ical, merge, selectors, services
from rapport.activities.forms import (
    REMIND_CHOICES,
    interaction_data_from_post,
    interaction_form_values,
    mailbox_data_from_post,
    mailbox_form_values,
    offer_fields,
    task_data_from_post,
    task_form_values,
)
from rapport.activities.models import (
    INTERACTION_TYPES,
    Direction,
    InteractionType,
    Mailbox,
    Priority,
    Recurrence,
)
from rapport.contacts.selectors import contact_get
from rapport.core.errors import NotFound
from rapport.core.pages import act, done, list_page, posted_version, submit
from rapport.core.permissions import can, require

LOGGED = {"call": "Call logged.", "email": "Email logged.", "meeting": "Meeting logged.",
          "note": "Note logged.", "message": "Message logged."}


def _choices() -> dict:
    return {"types": InteractionType.choices, "directions": Direction.choices[1:],
            "priorities": [label for _, label in Priority.choices],
            "recurrences": Recurrence.choices, "remind_choices": REMIND_CHOICES}


# --- interactions ------------------------------------------------------------------------------

@login_required
@require_POST
def interaction_quick_log(request, contact_id: int):
    """The contact page's quick forms: log it and go back to the person."""
    data = interaction_data_from_post(request.POST, contact_id=contact_id)
    with_task = "follow_up" in data

    def success(interaction) -> str:
        said = LOGGED.get(interaction.type, "Logged.")
        return f"{said} Task created." if with_task else said

    return act(request, lambda: services.interaction_log(actor=request.user, data=data),
               success=success, to="contact_detail", contact_id=contact_id)


@login_required
@require_GET
def follow_up_hint(request):
    """While the outcome is typed: the task it offers to create (htmx), or nothing."""
    offer = selectors.follow_up_offer(text=request.GET.get("outcome", ""),
                                      contact_name=request.GET.get("name", "")[:100])
    return render(request, "activities/_follow_up_hint.html",
                  {"offer": offer, "fields": offer_fields(offer) if offer else {}})


@login_required
def interaction_list(request):
    listing = list_page(request, selectors.interaction_list,
                        ("type", "contact", "company", "author", "since", "until", "cursor"),
                        rename={"contact": "contact_id", "company": "company_id"})
    return render(request, "activities/interaction_list.html", {
        **listing.context(), "contact": listing.page.filters.get("contact"),
        "types": INTERACTION_TYPES, "section": "activities"})


@login_required
def interaction_detail(request, interaction_id: int):
    interaction = selectors.interaction_get(user=request.user, interaction_id=interaction_id)
    return render(request, "activities/interaction_detail.html", {
        "i": interaction, "headline": selectors.headline(interaction),
        "can_change": selectors.can_change_interaction(request.user, interaction),
        "tasks": selectors.interaction_tasks(user=request.user, interaction=interaction),
        "mail": selectors.mail_details(interaction=interaction),
        "recording": selectors.call_recording(interaction=interaction)
        if interaction.type == InteractionType.CALL else None,
        "section": "activities"})


@login_required
@require_GET
def mail_attachment(request, interaction_id: int, attachment_id: int):
    """A file that came with an email, always as a download (never shown in the page, so a
    file pretending to be a page cannot run in the CRM's origin)."""
    found = selectors.mail_attachment(user=request.user, interaction_id=interaction_id,
                                      attachment_id=attachment_id)
    response = HttpResponse(bytes(found.data or b""), content_type="application/octet-stream")
    response["Content-Disposition"] = content_disposition_header(True, found.filename)
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
def mail_settings(request):
    """Where mail comes in: the forwarding address, the IMAP mailbox to poll (the owner sets
    it) and the newest refused messages with their reasons."""
    box = selectors.mailbox_get()
    outcome = submit(lambda: None)
    values = mailbox_form_values(box)
    if request.method == "POST" and request.POST.get("action") == "poll":
        return act(request, lambda: services.mailbox_poll(),
                   success=lambda found: f"Mailbox read: {len(found)} new message(s).",
                   to="mail_settings")
    if request.method == "POST":
        values = mailbox_data_from_post(request.POST)
        outcome = submit(lambda: services.mailbox_save(
            actor=request.user, data=values, version=posted_version(request)))
        if outcome.ok:
            return done(request, "Mailbox saved: it is read every minute.", "mail_settings")
    return render(request, "activities/mail_settings.html", {
        "box": box, "values": values, "errors": outcome.errors, "conflict": outcome.conflict,
        "can_change": can(request.user, "settings.change"),
        "securities": Mailbox._meta.get_field("security").choices,
        "listen": {"host": settings.RAPPORT_MAIL_LISTEN_HOST,
                   "port": settings.RAPPORT_MAIL_LISTEN_PORT},
        "rejections": selectors.mail_rejections(limit=20), "section": "settings"})


def _interaction_form(request, values, outcome, **extra):
    return {"values": values, "errors": outcome.errors, "conflict": outcome.conflict,
            "section": "activities", **_choices(), **extra}


@login_required
def interaction_create(request, contact_id: int):
    """The full form (meetings with a place and attendees, emails, messages)."""
    contact = contact_get(user=request.user, contact_id=contact_id)
    kind = request.GET.get("type", "call")
    outcome, values = submit(lambda: None), interaction_form_values(
        type=kind if kind in INTERACTION_TYPES else "call")
    if request.method == "POST":
        outcome = submit(lambda: services.interaction_log(
            actor=request.user,
            data=interaction_data_from_post(request.POST, contact_id=contact_id)))
        if outcome.ok:
            return done(request, LOGGED.get(outcome.result.type, "Logged."), "contact_detail",
                        contact_id=contact_id)
        values = interaction_form_values(post=request.POST)
    return render(request, "activities/interaction_form.html", _interaction_form(
        request, values, outcome, contact=contact, title=f"Log a conversation with "
                                                         f"{contact.full_name}"),
        status=outcome.status)


def _uploaded_message(interaction) -> str:
    recording = selectors.call_recording(interaction=interaction)
    if recording is not None and recording.note:
        return f"Call logged with its recording. Not transcribed: {recording.note}."
    return "Call logged with its recording; its transcript will appear here in a minute."


@login_required
def call_upload(request, contact_id: int):
    """Upload a call's recording: the call is logged at once, a worker transcribes it."""
    contact = contact_get(user=request.user, contact_id=contact_id)
    outcome = submit(lambda: None)
    values = {"direction": "inbound"}
    if request.method == "POST":
        values = {name: request.POST.get(name, "") for name in ("direction", "outcome",
                                                                "occurred_at")}
        outcome = submit(lambda: services.call_upload(
            actor=request.user, file=request.FILES.get("recording"),
            data={"contact_id": contact_id, **{k: v for k, v in values.items() if v}}))
        if outcome.ok:
            return done(request, _uploaded_message(outcome.result), "interaction_detail",
                        interaction_id=outcome.result.id)
    return render(request, "activities/call_upload.html", {
        "contact": contact, "values": values, "errors": outcome.errors,
        "directions": Direction.choices[1:], "unavailable": services.transcription_unavailable(),
        "section": "activities", "title": f"Upload a call with {contact.full_name}"},
        status=outcome.status)


@login_required
def interaction_edit(request, interaction_id: int):
    interaction = selectors.interaction_get(user=request.user, interaction_id=interaction_id)
    outcome, values = submit(lambda: None), interaction_form_values(interaction)
    if request.method == "POST":
        data = interaction_data_from_post(request.POST, contact_id=interaction.contact_id)
        outcome = submit(lambda: services.interaction_update(
            actor=request.user, interaction_id=interaction_id,
            version=posted_version(request), changes=data))
        if outcome.ok:
            return done(request, "Saved.", "interaction_detail", interaction_id=interaction_id)
        values = interaction_form_values(post=request.POST)
    return render(request, "activities/interaction_form.html", _interaction_form(
        request, values, outcome, contact=interaction.contact, interaction=interaction,
        title="Edit conversation"), status=outcome.status)


@login_required
@require_POST
def interaction_remove(request, interaction_id: int):
    interaction = selectors.interaction_get(user=request.user, interaction_id=interaction_id)
    services.interaction_delete(actor=request.user, interaction_id=interaction_id)
    return done(request, "Deleted.", "contact_detail", contact_id=interaction.contact_id)


@login_required
def meeting_ics(request, interaction_id: int):
    meeting = selectors.interaction_get(user=request.user, interaction_id=interaction_id)
    if meeting.type != InteractionType.MEETING:
        raise Http404("only meetings go into a calendar")
    body = ical.meeting_file(meeting, host=request.get_host().split(":")[0],
                             url=request.build_absolute_uri(
                                 reverse("interaction_detail", args=[meeting.id])))
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="meeting-{meeting.id}.ics"'
    return response


# --- tasks -------------------------------------------------------------------------------------

@login_required
def task_list(request):
    listing = list_page(request, selectors.task_list,
                        ("status", "assignee", "contact", "due_before", "due_after", "cursor"),
                        rename={"contact": "contact_id"})
    return render(request, "activities/task_list.html",
                  {**listing.context(), "section": "tasks"})


def _task_form(request, values, outcome, **extra):
    return {"values": values, "errors": outcome.errors, "conflict": outcome.conflict,
            "assignees": user_list(user=request.user), "section": "tasks", **_choices(),
            **extra}


def _linked(request, values):
    """The person (and conversation) a task form is about, for showing their names."""
    contact = None
    if str(values.get("contact_id") or "").isdigit():
        contact = contact_get(user=request.user, contact_id=int(values["contact_id"]))
    return contact


@login_required
def task_create(request):
    initial = {name: request.GET.get(name, "") for name in ("contact_id", "interaction_id",
                                                            "title", "due_date", "due_time")}
    initial["due_date"] = initial["due_date"] or selectors.local_today().isoformat()
    outcome, values = submit(lambda: None), task_form_values(
        **{k: v for k, v in initial.items() if v}, assignee_id=request.user.id)
    if request.method == "POST":
        outcome = submit(lambda: services.task_create(actor=request.user,
                                                      data=task_data_from_post(request.POST)))
        if outcome.ok:
            return done(request, f"Task “{outcome.result.title}” created.", "my_day")
        values = task_form_values(post=request.POST)
    return render(request, "activities/task_form.html", _task_form(
        request, values, outcome, contact=_linked(request, values), title="New task"),
        status=outcome.status)


@login_required
def task_edit(request, task_id: int):
    task = selectors.task_get(user=request.user, task_id=task_id)
    outcome, values = submit(lambda: None), task_form_values(task)
    if request.method == "POST":
        outcome = submit(lambda: services.task_update(
            actor=request.user, task_id=task_id, version=posted_version(request),
            changes=task_data_from_post(request.POST)))
        if outcome.ok:
            return done(request, "Saved.", "task_list")
        values = task_form_values(post=request.POST)
    return render(request, "activities/task_form.html", _task_form(
        request, values, outcome, task=task, contact=task.contact, title="Edit task"),
        status=outcome.status)


def _back(request, fallback: str) -> dict:
    """Go back where the button was (My day, the task list, a contact page)."""
    target = request.POST.get("next", "")
    return {"to": target if target.startswith("/") and not target.startswith("//")
            else fallback}


@login_required
@require_POST
def task_done(request, task_id: int):
    return act(request, lambda: services.task_complete(actor=request.user, task_id=task_id),
               success=lambda task: f"Done: {task.title}.", **_back(request, "/my-day/"))


@login_required
@require_POST
def task_undo(request, task_id: int):
    return act(request, lambda: services.task_reopen(actor=request.user, task_id=task_id),
               success=lambda task: f"Reopened: {task.title}.", **_back(request, "/my-day/"))


@login_required
@require_POST
def task_remove(request, task_id: int):
    services.task_delete(actor=request.user, task_id=task_id)
    return done(request, "Task deleted.", "task_list")


@login_required
def my_day(request):
    return render(request, "activities/my_day.html", {
        "day": selectors.my_day(user=request.user), "section": "my_day"})


# --- reminders ---------------------------------------------------------------------------------

@login_required
@require_GET
def bell(request):
    """The top bar's bell: how many reminders have come (htmx polls it)."""
    return render(request, "activities/_bell.html",
                  {"count": selectors.bell_count(user=request.user)})


@login_required
def reminders(request):
    if request.method == "POST":
        services.reminders_mark_seen(actor=request.user)
        return done(request, "All caught up.", "my_day")
    return render(request, "activities/reminders.html", {
        "reminders": selectors.reminder_list(user=request.user), "section": "my_day"})


# --- calendar feed -----------------------------------------------------------------------------

@login_required
def calendar_settings(request):
    raw = None
    if request.method == "POST":
        if request.POST.get("action") == "revoke":
            try:
                services.calendar_feed_revoke(actor=request.user)
                messages.success(request, "The feed address no longer works.")
            except NotFound as error:  # nothing to revoke
                messages.error(request, str(error))
        else:
            raw = services.calendar_feed_create(actor=request.user).raw
    feed = selectors.active_feed(user=request.user)
    url = request.build_absolute_uri(reverse("calendar_feed", args=[raw])) if raw else ""
    return render(request, "activities/calendar_settings.html", {
        "feed": feed, "url": url, "section": "settings"})


def calendar_feed(request, token: str):
    """The feed itself: no session, the unguessable token is the key (404 for any other)."""
    user = selectors.feed_owner(raw_token=token[:100])
    if user is None:
        raise Http404("no such calendar")
    items = selectors.calendar_items(user=user)
    base = request.build_absolute_uri("/").rstrip("/")

    def url_of(item) -> str:
        name = "task_edit" if hasattr(item, "assignee_id") else "interaction_detail"
        return base + reverse(name, args=[item.id])

    body = ical.feed(name=f"Rapport: {user.display_name}", tasks=items.tasks,
                     meetings=items.meetings, host=request.get_host().split(":")[0],
                     url_of=url_of)
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Cache-Control"] = "private, max-age=300"
    return response




# --- email to customers ------------------------------------------------------------------------

def _email_data(post, contact_id: int) -> dict:
    data = {"contact_id": contact_id, "subject": post.get("subject", ""),
            "body": post.get("body", ""), "to": post.get("to", "")}
    template = post.get("template_id", "")
    if template.isdigit():
        data["template_id"] = int(template)
    elif template:
        data["template_id"] = template  # the input shape names it
    return data


def _compose_context(request, contact, values, outcome, draft=None) -> dict:
    addresses = [a for a in dict.fromkeys([contact.primary_email, *(contact.emails or [])])
                 if a]
    return {"contact": contact, "values": values, "errors": outcome.errors,
            "templates": selectors.email_template_choices(user=request.user),
            "addresses": addresses, "draft": draft, "section": "contacts",
            "server": selectors.mail_server()}


@login_required
def email_compose(request, contact_id: int):
    """Write to a person, from a template or not; the preview follows as you type (htmx)."""
    contact = contact_get(user=request.user, contact_id=contact_id)
    chosen = request.GET.get("template_id") or request.GET.get("template", "")
    values: dict = {"template_id": chosen, "subject": "", "body": "", "to": ""}
    if values["template_id"].isdigit():
        template = selectors.visible_templates(request.user).filter(
            id=int(values["template_id"])).first()
        if template is not None:
            values.update(subject=template.subject, body=template.body)
    outcome = submit(lambda: None)
    if request.method == "POST":
        data = _email_data(request.POST, contact_id)
        outcome = submit(lambda: services.email_send(actor=request.user, data=data))
        if outcome.ok:
            return done(request, f"Email to {outcome.result.to_address} queued; it goes out in "
                                 "a moment.", "contact_detail", contact_id=contact_id)
        values = {k: request.POST.get(k, "") for k in ("template_id", "subject", "body", "to")}
    return render(request, "activities/email_compose.html", _compose_context(
        request, contact, values, outcome), status=outcome.status)


@login_required
@require_POST
def email_preview(request, contact_id: int):
    """The compose page's preview: the email as it would go out, or what is wrong (htmx)."""
    data = _email_data(request.POST, contact_id)
    if not data.get("template_id") and not (data["subject"] or data["body"]):
        return render(request, "activities/_email_preview.html", {"empty": True})
    outcome = submit(lambda: services.email_render(actor=request.user, data=data))
    return render(request, "activities/_email_preview.html",
                  {"draft": outcome.result, "errors": outcome.errors})


@login_required
@require_POST
def email_requeue(request, email_id: int):
    email = selectors.outbound_email_get(user=request.user, email_id=email_id)
    return act(request, lambda: services.email_requeue(actor=request.user, email_id=email_id),
               success="Queued again, with the same Message-ID.", to="contact_detail",
               contact_id=email.contact_id)


@login_required
def email_template_list(request):
    listing = list_page(request, selectors.email_template_list, ("q", "owner", "cursor"))
    return render(request, "activities/email_template_list.html", {
        **listing.context(), "section": "settings"})


def _template_values(request, template=None) -> dict:
    if request.method == "POST":
        return {k: request.POST.get(k, "") for k in ("name", "subject", "body", "version")}
    if template is None:
        return {"name": "", "subject": "", "body": ""}
    return {"name": template.name, "subject": template.subject, "body": template.body,
            "version": template.version}


@login_required
def email_template_create(request):
    outcome = submit(lambda: None)
    if request.method == "POST":
        data = {k: request.POST.get(k, "") for k in ("name", "subject", "body")}
        outcome = submit(lambda: services.email_template_create(actor=request.user, data=data))
        if outcome.ok:
            return done(request, f"Template “{outcome.result.name}” saved.",
                        "email_template_list")
    return render(request, "activities/email_template_form.html", {
        "values": _template_values(request), "errors": outcome.errors, "conflict": None,
        "title": "New email template", "names": merge_names(), "section": "settings"},
        status=outcome.status)


@login_required
def email_template_edit(request, template_id: int):
    template = selectors.email_template_get(user=request.user, template_id=template_id)
    outcome = submit(lambda: None)
    if request.method == "POST":
        data = {k: request.POST.get(k, "") for k in ("name", "subject", "body")}
        outcome = submit(lambda: services.email_template_update(
            actor=request.user, template_id=template_id, version=posted_version(request),
            changes=data))
        if outcome.ok:
            return done(request, "Saved.", "email_template_list")
    return render(request, "activities/email_template_form.html", {
        "values": _template_values(request, template), "errors": outcome.errors,
        "conflict": outcome.conflict, "template": template, "title": "Edit email template",
        "can_change": selectors.can_change_template(request.user, template),
        "names": merge_names(), "section": "settings"}, status=outcome.status)


@login_required
@require_POST
def email_template_remove(request, template_id: int):
    services.email_template_delete(actor=request.user, template_id=template_id)
    return done(request, "Template deleted.", "email_template_list")


def merge_names() -> list[tuple[str, str]]:
    """What a template may use, for the form's help."""
    return [(name, ", ".join(attrs)) for name, attrs in merge.NAMES.items()]


@login_required
def outgoing_mail_settings(request):
    """The outgoing mail server: the environment's, with the owner's overrides; and a test
    message to yourself (sent now, not queued: it tells you whether the server works)."""
    require(request.user, "settings.change", message="only the owner sets up outgoing mail")
    outcome = submit(lambda: None)
    test_result = None
    if request.method == "POST" and request.POST.get("action") == "test":
        test_result = _test_message(request.user)
    elif request.method == "POST":
        data = {k: request.POST.get(k, "") for k in ("host", "port", "username", "from_email",
                                                      "business_name")}
        data.update(use_tls="use_tls" in request.POST, use_ssl="use_ssl" in request.POST)
        outcome = submit(lambda: services.outgoing_mail_update(actor=request.user, data=data))
        if outcome.ok:
            return done(request, "Mail settings saved.", "outgoing_mail")
    row = selectors.outgoing_mail_row()
    values = ({k: request.POST.get(k, "") for k in ("host", "port", "username", "from_email",
                                                    "business_name", "use_tls", "use_ssl")}
              if outcome.errors else {
                  "host": row.host if row else "", "port": (row.port or "") if row else "",
                  "username": row.username if row else "",
                  "from_email": row.from_email if row else "",
                  "business_name": row.business_name if row else "",
                  "use_tls": row.use_tls if row else False,
                  "use_ssl": row.use_ssl if row else False})
    return render(request, "activities/outgoing_mail.html", {
        "server": selectors.mail_server(), "values": values, "errors": outcome.errors,
        "test_result": test_result, "section": "settings"}, status=outcome.status)


def _test_message(user) -> tuple[bool, str]:
    from django.core.mail import EmailMessage

    server = selectors.mail_server()
    message = EmailMessage(subject="Rapport: test message",
                           body="Outgoing mail works: this came through "
                                f"{server.host or server.backend}.",
                           from_email=server.from_email, to=[user.email])
    try:
        connection = services.mailer()
        sent = connection.send_messages([message])
    except Exception as error:  # noqa: BLE001 - shown to the owner as it is
        return False, f"Not sent: {error}"
    return bool(sent), (f"Sent to {user.email}." if sent else "Not sent.")
