"""The ticket desk's pages: the ticket list (the support role's landing page) with saved views,
a ticket's page (thread, reply box, controls, merge, deal, SLA timers), the new-ticket page (a
logged phone call), the public support form, the survey page, and Settings → Help desk agents.
Parse the request, call one service or selector, render (core.pages maps the errors)."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.http import content_disposition_header
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from rapport.accounts.selectors import all_users
from rapport.contacts.selectors import contact_get
from rapport.core.errors import NotFound, PermissionDenied, ValidationFailed
from rapport.core.pages import list_page, posted_version, submit
from rapport.core.permissions import can
from rapport.sales.selectors import deal_list
from rapport.support import selectors, services
from rapport.support.models import CHANNELS, PRIORITIES, STATUSES, SlaState
from rapport.support.services import mail as desk_mail
from rapport.support.services.assignment import open_counts
from rapport.support.services.desk import SCORES

LIST_FILTERS = ("view", "status", "assignee", "priority", "category", "channel", "q", "cursor")
CALL_FIELDS = ("subject", "description", "email", "name", "contact_id", "category", "priority")


def _site(request) -> str:
    return request.build_absolute_uri("/")


# --- the list -----------------------------------------------------------------------------------

def _categories(agents) -> list[str]:
    """The categories agents take (their skills): what the category boxes suggest, without
    reading every ticket for its category."""
    return sorted({skill for agent in agents for skill in agent.skills}, key=str.lower)


@login_required
def ticket_list(request):
    listing = list_page(request, selectors.ticket_list, LIST_FILTERS)
    if listing.params.get("view"):  # show what the view chose (status active, assignee me)
        listing.params.update({k: str(v) for k, v in listing.page.filters.items()
                               if k in ("status", "assignee") and not listing.params.get(k)})
    agents = services.agents()
    kept = {k: v for k, v in listing.params.items() if v and k not in ("cursor", "view")}
    return render(request, "support/tickets/list.html", {
        **listing.context(), "views": selectors.TICKET_VIEWS,
        "saved": selectors.saved_views(user=request.user), "current_query": urlencode(kept),
        "statuses": ("active", *STATUSES), "priorities": PRIORITIES, "channels": CHANNELS,
        "categories": _categories(agents), "agents": [a.user for a in agents],
        "can_add": can(request.user, "tickets.add"), "section": "tickets"})


@login_required
@require_POST
def ticket_view_save(request):
    outcome = submit(lambda: services.ticket_view_save(actor=request.user, data={
        "name": request.POST.get("name", ""), "query": request.POST.get("query", "")}))
    if outcome.ok:
        messages.success(request, f"Saved the view “{outcome.result.name}”.")
        return redirect(f"{reverse('ticket_list')}?{outcome.result.query}")
    messages.error(request, "View not saved: " + "; ".join(
        f"{k} {', '.join(v)}" for k, v in outcome.errors.items()))
    return redirect(f"{reverse('ticket_list')}?{request.POST.get('query', '')}")


@login_required
@require_POST
def ticket_view_delete(request, view_id: int):
    services.ticket_view_delete(actor=request.user, view_id=view_id)
    messages.success(request, "View removed.")
    return redirect("ticket_list")


# --- one ticket ---------------------------------------------------------------------------------

def _ticket_page(request, ticket_id: int, *, status: int = 200, errors=None, values=None,
                 conflict=None):
    ticket = selectors.ticket_get(user=request.user, ticket_id=ticket_id)
    can_change = can(request.user, "tickets.change", ticket)
    return render(request, "support/tickets/detail.html", {
        "ticket": ticket, "thread": selectors.ticket_thread(ticket_id=ticket.id),
        "assignments": selectors.ticket_assignments(ticket_id=ticket.id),
        "history": selectors.ticket_statuses(ticket_id=ticket.id),
        "can_change": can_change and not ticket.merged_into_id,
        "can_assign": can(request.user, "tickets.assign"),
        "agents": [a.user for a in services.agents()],
        "statuses": STATUSES, "priorities": PRIORITIES,
        "sla_states": dict(SlaState.choices),
        "deals": deal_list(user=request.user, params={"status": "open", "limit": 50}).items
        if can_change else [],
        "errors": errors or {}, "values": values or {}, "conflict": conflict,
        "section": "tickets"}, status=status)


@login_required
def ticket_detail(request, ticket_id: int):
    return _ticket_page(request, ticket_id)


@login_required
@require_POST
def ticket_message(request, ticket_id: int):
    """The reply box: a public reply (mailed) or an internal note."""
    body = request.POST.get("body", "")
    public = request.POST.get("kind", "reply") == "reply"
    service = services.ticket_reply if public else services.ticket_note
    files = request.FILES.getlist("files")
    outcome = submit(lambda: service(actor=request.user, ticket_id=ticket_id,
                                     data={"body": body}, files=files))
    if not outcome.ok:
        return _ticket_page(request, ticket_id, status=outcome.status, errors=outcome.errors,
                            values={"body": body, "kind": "reply" if public else "note"})
    messages.success(request, "Reply sent." if public else "Note added.")
    return redirect("ticket_detail", ticket_id=ticket_id)


@login_required
@require_POST
def ticket_edit(request, ticket_id: int):
    """Status, priority, category, assignee and the linked deal, with the version read."""
    changes = {name: request.POST[name] for name in ("status", "priority", "category",
                                                     "assignee_id", "deal_id")
               if name in request.POST}
    outcome = submit(lambda: services.ticket_update(
        actor=request.user, ticket_id=ticket_id, version=posted_version(request),
        changes=changes, site=_site(request)))
    if not outcome.ok:
        return _ticket_page(request, ticket_id, status=outcome.status, errors=outcome.errors,
                            conflict=outcome.conflict)
    survey = getattr(outcome.result, "survey", None)
    messages.success(request, "Saved." + (" The satisfaction survey is on its way."
                                          if survey else ""))
    return redirect("ticket_detail", ticket_id=ticket_id)


@login_required
@require_POST
def ticket_close(request, ticket_id: int):
    outcome = submit(lambda: services.ticket_close(
        actor=request.user, ticket_id=ticket_id, version=posted_version(request),
        site=_site(request)))
    if not outcome.ok:
        return _ticket_page(request, ticket_id, status=outcome.status, errors=outcome.errors,
                            conflict=outcome.conflict)
    messages.success(request, "Closed." + (" The satisfaction survey is on its way."
                                           if outcome.result.survey else ""))
    return redirect("ticket_detail", ticket_id=ticket_id)


@login_required
@require_POST
def ticket_merge(request, ticket_id: int):
    into = request.POST.get("into", "").strip()
    into_id = selectors.ticket_id_of(into) if into.upper().startswith("T-") else into
    outcome = submit(lambda: services.ticket_merge(
        actor=request.user, ticket_id=ticket_id,
        data={"version": posted_version(request), "into_id": into_id or None}))
    if not outcome.ok:
        return _ticket_page(request, ticket_id, status=outcome.status, errors=outcome.errors,
                            conflict=outcome.conflict, values={"into": into})
    messages.success(request, f"Merged into {outcome.result.reference}.")
    return redirect("ticket_detail", ticket_id=outcome.result.id)


# --- a new ticket (a logged phone call) ---------------------------------------------------------

@login_required
def ticket_new(request):
    if not can(request.user, "tickets.add"):
        raise PermissionDenied("you may not open tickets")
    values = {"channel": "phone", "priority": "normal"}
    contact = None
    if request.GET.get("contact_id"):
        try:
            contact = contact_get(user=request.user, contact_id=int(request.GET["contact_id"]))
        except (ValueError, NotFound):
            contact = None
    if contact is not None:
        values["contact_id"] = str(contact.id)
    if request.method != "POST":
        return render(request, "support/tickets/new.html", {
            "values": values, "errors": {}, "contact": contact, "priorities": PRIORITIES,
            "categories": _categories(services.agents()), "section": "tickets"})
    values = {k: request.POST.get(k, "").strip() for k in CALL_FIELDS}
    data = {k: v for k, v in values.items() if v}
    data["channel"] = request.POST.get("channel", "phone")
    outcome = submit(lambda: desk_mail.open_and_acknowledge(actor=request.user, data=data))
    if not outcome.ok:
        return render(request, "support/tickets/new.html", {
            "values": values, "errors": outcome.errors, "contact": contact,
            "priorities": PRIORITIES, "section": "tickets",
            "categories": _categories(services.agents())}, status=422)
    ticket = outcome.result.ticket
    messages.success(request, f"Opened {ticket.reference}.")
    return redirect("ticket_detail", ticket_id=ticket.id)


# --- the public support form and the survey -----------------------------------------------------

def _client_ip(request) -> str:
    return request.META.get("REMOTE_ADDR", "") or "unknown"


@csrf_exempt  # a public form, often embedded or linked from the business's own site
def support_form(request):
    context = {"values": {}, "errors": {}, "honeypot": desk_mail.HONEYPOT}
    if request.method != "POST":
        return render(request, "support/tickets/help_request.html", context)
    try:
        opened = desk_mail.support_request(posted=request.POST, ip=_client_ip(request))
    except desk_mail.RateLimited as limited:
        response = render(request, "support/tickets/help_request.html",
                          {**context, "limited": True}, status=429)
        response["Retry-After"] = str(limited.retry_after)
        return response
    except ValidationFailed as failure:
        return render(request, "support/tickets/help_request.html", {
            **context, "errors": failure.errors,
            "values": {k: request.POST.get(k, "") for k in
                       ("name", "email", "subject", "description")}}, status=422)
    return render(request, "support/tickets/help_thanks.html",
                  {"reference": opened.ticket.reference if opened else ""})


@csrf_exempt  # the customer's one click comes from an email; the comment form follows it
def survey_answer(request, token: str, score: int):
    if score not in SCORES:
        raise Http404("scores are 1 to 5")
    data = {"score": score}
    if request.method == "POST":
        data["comment"] = request.POST.get("comment", "")
    try:
        survey = services.survey_answer(token=token, data=data)
    except NotFound:
        raise Http404("no such survey") from None
    except ValidationFailed as failure:
        survey = services.survey_by_token(token)
        return render(request, "support/tickets/survey.html", {
            "survey": survey, "scores": SCORES, "errors": failure.errors}, status=422)
    return render(request, "support/tickets/survey.html", {
        "survey": survey, "scores": SCORES, "errors": {},
        "thanked": request.method == "POST"})


# --- Settings → Help desk agents ----------------------------------------------------------------

DAY_NAMES = (("mon", "Mon"), ("tue", "Tue"), ("wed", "Wed"), ("thu", "Thu"), ("fri", "Fri"),
             ("sat", "Sat"), ("sun", "Sun"))


def _hours_text(hours: dict) -> str:
    return "; ".join(f"{day} " + ", ".join(f"{a}-{b}" for a, b in spans)
                     for day, spans in hours.items() if spans)


def _hours_from(text: str) -> dict | str:
    """``mon 09:00-17:00; tue 09:00-12:00, 13:00-17:00`` → the hours dict (or the text, for
    the input to refuse with its field named)."""
    text = text.strip()
    if not text:
        return {}
    hours: dict[str, list[list[str]]] = {}
    for part in text.split(";"):
        part = part.strip()
        if not part:
            continue
        day, _, spans = part.partition(" ")
        try:
            hours[day.strip().lower()[:3] if len(day) > 3 else day.strip().lower()] = [
                [a.strip(), b.strip()] for a, b in
                (span.split("-", 1) for span in spans.split(",") if span.strip())]
        except ValueError:
            return {"?": text}
    return hours


@login_required
def agent_settings(request):
    if not can(request.user, "tickets.assign"):
        raise PermissionDenied("only those who assign tickets change the agents")
    errors: dict = {}
    status = 200
    if request.method == "POST":
        user_id = int(request.POST.get("user_id", "0") or 0)
        outcome = submit(lambda: services.agent_profile_save(
            actor=request.user, user_id=user_id, data={
                "skills": request.POST.get("skills", ""),
                "accepts_tickets": request.POST.get("accepts_tickets") == "on",
                "working_hours": _hours_from(request.POST.get("working_hours", ""))}))
        if outcome.ok:
            messages.success(request, "Saved.")
            return redirect("agent_settings")
        errors, status = {user_id: outcome.errors}, outcome.status
    rows = []
    agents = services.agents()
    load = open_counts([a.user.id for a in agents])
    for agent in agents:
        rows.append({"agent": agent, "open": load.get(agent.user.id, 0),
                     "hours": _hours_text(agent.hours), "errors": errors.get(agent.user.id, {})})
    settings_row = services.desk_settings()
    return render(request, "support/tickets/agents.html", {
        "rows": rows, "others": [u for u in all_users().filter(is_active=True)
                                 if u.id not in {a.user.id for a in agents}],
        "business_hours": _hours_text(settings_row.business_hours or {}),
        "time_zone": settings_row.time_zone, "section": "settings"}, status=status)


urlpatterns = [
    path("tickets/", ticket_list, name="ticket_list"),
    path("tickets/new/", ticket_new, name="ticket_new"),
    path("tickets/views/", ticket_view_save, name="ticket_view_save"),
    path("tickets/views/<int:view_id>/delete/", ticket_view_delete, name="ticket_view_delete"),
    path("tickets/<int:ticket_id>/", ticket_detail, name="ticket_detail"),
    path("tickets/<int:ticket_id>/messages/", ticket_message, name="ticket_message"),
    path("tickets/<int:ticket_id>/edit/", ticket_edit, name="ticket_edit"),
    path("tickets/<int:ticket_id>/close/", ticket_close, name="ticket_close"),
    path("tickets/<int:ticket_id>/merge/", ticket_merge, name="ticket_merge"),
    path("help/request/", support_form, name="support_form"),
    path("s/<str:token>/<int:score>/", survey_answer, name="survey_answer"),
    path("settings/help-desk-agents/", agent_settings, name="agent_settings"),
]


@login_required
def ticket_attachment(request, ticket_id: int, attachment_id: int):
    """A file of the thread, to who may see the ticket; always a download, never inline."""
    selectors.ticket_get(user=request.user, ticket_id=ticket_id)
    found = selectors.ticket_attachment(ticket_id=ticket_id, attachment_id=attachment_id)
    response = HttpResponse(bytes(found.data), content_type="application/octet-stream")
    response["Content-Disposition"] = content_disposition_header(True, found.filename)
    response["X-Content-Type-Options"] = "nosniff"
    return response


urlpatterns.append(path("tickets/<int:ticket_id>/files/<int:attachment_id>/", ticket_attachment,
                        name="ticket_attachment"))
