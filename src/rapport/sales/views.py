"""Pages for leads, deals and the sales settings, and the public web form endpoint: parse the
request, call one service or selector, render (core.pages maps the errors)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from rapport.accounts.selectors import team_list, user_list
from rapport.contacts.inputs import CompanySize
from rapport.core.errors import NotFound, PermissionDenied, ValidationFailed, VersionConflict
from rapport.core.pages import act, done, list_page, posted_version, submit
from rapport.core.permissions import can
from rapport.sales import selectors, services
from rapport.sales.inputs import FORM_FIELDS
from rapport.sales.models import (
    GRADES,
    LEAD_STATUSES,
    AssignmentMethod,
    LeadStatus,
    Operator,
    ScoringField,
)
from rapport.sales.services.assignment import conditions_of, rule_text
from rapport.sales.services.scoring import GRADE_FLOORS, describe
from rapport.sales.services.territories import territory_rules_text

FORM_INPUTS = {"email": "email", "phone": "tel", "website": "url"}


def _require_settings(request) -> None:
    if not can(request.user, "settings.change"):
        raise PermissionDenied("only the owner role changes the sales settings")


# --- leads -------------------------------------------------------------------------------------

@login_required
def lead_list(request):
    listing = list_page(request, selectors.lead_list,
                        ("status", "owner", "grade", "source", "q", "cursor"))
    return render(request, "sales/lead_list.html", {
        **listing.context(), "statuses": ("open", *LEAD_STATUSES), "grades": GRADES,
        "sources": selectors.lead_sources(user=request.user),
        "owners": user_list(user=request.user), "section": "leads"})


@login_required
def lead_detail(request, lead_id: int):
    lead = selectors.lead_get(user=request.user, lead_id=lead_id)
    can_assign = can(request.user, "leads.assign", lead)
    return render(request, "sales/lead_detail.html", {
        "lead": lead, "timeline": selectors.lead_timeline(lead_id=lead.id),
        "assignments": selectors.lead_assignments(lead_id=lead.id),
        "can_convert": selectors.can_convert(request.user, lead),
        "can_change": selectors.can_change_lead(request.user, lead) and lead.is_open,
        "can_assign": can_assign,
        "owners": user_list(user=request.user) if can_assign else [],
        "statuses": [s for s in LEAD_STATUSES if s != LeadStatus.CONVERTED],
        "grade_floors": GRADE_FLOORS, "section": "leads"})


@login_required
@require_POST
def lead_edit(request, lead_id: int):
    """The status and owner boxes on the lead's page."""
    changes = {name: request.POST[name] for name in ("status", "owner_id")
               if request.POST.get(name)}
    return act(request, lambda: services.lead_update(
        actor=request.user, lead_id=lead_id, version=posted_version(request), changes=changes),
        success="Saved.", to="lead_detail", lead_id=lead_id)


@login_required
@require_POST
def lead_convert(request, lead_id: int):
    try:
        converted = services.lead_convert(actor=request.user, lead_id=lead_id, data={
            "version": posted_version(request),
            "amount": request.POST.get("amount") or "0",
            "deal_name": request.POST.get("deal_name", "")})
    except (ValidationFailed, VersionConflict) as error:
        messages.error(request, f"Not converted: {error}")
        return redirect("lead_detail", lead_id=lead_id)
    if converted.deal_id:
        return done(request, "Converted: a contact, their company and a deal.", "deal_detail",
                    deal_id=converted.deal_id)
    return done(request, "Converted to a contact.", "contact_detail",
                contact_id=converted.contact_id)


# --- deals -------------------------------------------------------------------------------------

@login_required
def deal_list(request):
    listing = list_page(request, selectors.deal_list, ("owner", "stage", "cursor"))
    return render(request, "sales/deal_list.html", {**listing.context(), "section": "deals"})


@login_required
def deal_detail(request, deal_id: int):
    deal = selectors.deal_get(user=request.user, deal_id=deal_id)
    return render(request, "sales/deal_detail.html", {
        "deal": deal, "stages": selectors.pipeline_stages(pipeline_id=deal.pipeline_id),
        "section": "deals"})


# --- settings ----------------------------------------------------------------------------------

def snippet_for(request, form) -> str:
    """The HTML a business pastes into its website: a plain form, no JavaScript."""
    action = request.build_absolute_uri(reverse("web_form_public", args=[form.key]))
    return render_to_string("sales/_form_snippet.html", {
        "form": form, "action": action, "fields": _form_fields(form), "values": {},
        "honeypot": services.HONEYPOT}).strip()


def _form_fields(form) -> list[dict]:
    return [{"name": name, "label": FORM_FIELDS[name], "required": name in form.required,
             "type": FORM_INPUTS.get(name, "text"), "long": name == "message"}
            for name in form.fields if name in FORM_FIELDS]


@login_required
def web_form_settings(request):
    _require_settings(request)
    outcome, values = submit(lambda: None), {"fields": ["name", "email"],
                                             "required": ["email"], "source": "web form"}
    if request.method == "POST":
        values = {"name": request.POST.get("name", ""),
                  "fields": request.POST.getlist("fields"),
                  "required": request.POST.getlist("required"),
                  "source": request.POST.get("source", ""),
                  "redirect_url": request.POST.get("redirect_url", "")}
        outcome = submit(lambda: services.web_form_create(actor=request.user, data=values))
        if outcome.ok:
            return done(request, f"Form {outcome.result.name} made: copy its snippet below.",
                        "web_form_settings")
    forms = [{"form": f, "snippet": snippet_for(request, f)}
             for f in selectors.web_forms() if f.active]
    return render(request, "sales/web_form_settings.html", {
        "forms": forms, "values": values, "errors": outcome.errors,
        "field_choices": FORM_FIELDS, "section": "settings"}, status=outcome.status)


@login_required
@require_POST
def web_form_remove(request, form_id: int):
    services.web_form_delete(actor=request.user, form_id=form_id)
    return done(request, "The form no longer takes submissions.", "web_form_settings")


@login_required
def scoring_settings(request):
    _require_settings(request)
    outcome, values = submit(lambda: None), {}
    if request.method == "POST":
        values = {k: request.POST.get(k, "") for k in ("field", "operator", "value", "points")}
        outcome = submit(lambda: services.scoring_rule_create(actor=request.user, data=values))
        if outcome.ok:
            return done(request, "Rule added; open leads were scored again.",
                        "scoring_settings")
    rules = [{"rule": r, "text": describe(r)} for r in selectors.scoring_rules()]
    return render(request, "sales/scoring_settings.html", {
        "rules": rules, "values": values, "errors": outcome.errors,
        "fields": ScoringField.choices, "operators": Operator.choices,
        "grade_floors": GRADE_FLOORS, "section": "settings"}, status=outcome.status)


@login_required
@require_POST
def scoring_rule_remove(request, rule_id: int):
    services.scoring_rule_delete(actor=request.user, rule_id=rule_id)
    return done(request, "Rule removed; open leads were scored again.", "scoring_settings")


@login_required
def assignment_settings(request):
    _require_settings(request)
    outcome, values = submit(lambda: None), {"method": AssignmentMethod.ROUND_ROBIN}
    if request.method == "POST":
        values = {k: request.POST.get(k, "") for k in (
            "name", "countries", "postcode_prefixes", "industries", "method", "team_id",
            "user_id", "cap", "territory_id", "product_lines", "first_response_minutes")}
        values["company_sizes"] = request.POST.getlist("company_sizes")
        outcome = submit(lambda: services.assignment_rule_create(actor=request.user,
                                                                 data=values))
        if outcome.ok:
            return done(request, f"Rule {outcome.result.name} added at the end.",
                        "assignment_settings")
    rules = selectors.assignment_rules()
    overlaps = selectors.rule_overlaps(rules)
    shown = [{"rule": r, "text": rule_text(r), "conditions": conditions_of(r),
              "overlaps": overlaps.get(r.id, [])} for r in rules]
    return render(request, "sales/assignment_settings.html", {
        "rules": shown, "values": values, "errors": outcome.errors,
        "methods": AssignmentMethod.choices, "teams": team_list(),
        "users": user_list(user=request.user), "sizes": CompanySize.values,
        "reps": selectors.reps_with_availability(), "territories": selectors.territories(),
        "section": "settings"},
        status=outcome.status)


@login_required
@require_POST
def assignment_rule_remove(request, rule_id: int):
    services.assignment_rule_delete(actor=request.user, rule_id=rule_id)
    return done(request, "Rule removed.", "assignment_settings")


@login_required
@require_POST
def assignment_rule_move(request, rule_id: int):
    services.assignment_rule_move(actor=request.user, rule_id=rule_id,
                                  up=request.POST.get("direction") == "up")
    return redirect("assignment_settings")


@login_required
@require_POST
def out_of_office(request):
    try:
        user_id = int(request.POST.get("user_id", ""))
    except ValueError:
        raise NotFound("no such user") from None
    away = request.POST.get("away") == "1"
    return act(request, lambda: services.out_of_office_set(actor=request.user, user_id=user_id,
                                                           away=away),
               success="Marked out of office." if away else "Back: gets new leads again.",
               to="assignment_settings")


# --- the public form ---------------------------------------------------------------------------

def _client_ip(request) -> str:
    return request.META.get("REMOTE_ADDR", "") or "unknown"


@csrf_exempt  # posted from the business's own website: the one endpoint without a CSRF token
def web_form_public(request, key: str):
    form = selectors.web_form_by_key(key=key)
    context = {"form": form, "fields": _form_fields(form), "values": {}, "errors": {},
               "honeypot": services.HONEYPOT, "action": ""}
    if request.method != "POST":
        return render(request, "sales/form_public.html", context)
    try:
        submission = services.web_form_submit(
            key=key, posted=request.POST, ip=_client_ip(request),
            referer=request.headers.get("referer", ""))
    except services.RateLimited as limited:
        response = render(request, "sales/form_public.html", {
            **context, "limited": True}, status=429)
        response["Retry-After"] = str(limited.retry_after)
        return response
    except ValidationFailed as failure:
        return render(request, "sales/form_public.html", {
            **context, "errors": failure.errors,
            "values": {k: request.POST.get(k, "") for k in form.fields}}, status=422)
    target = submission.form.redirect_url or reverse("web_form_thanks", args=[key])
    return redirect(target)


def web_form_thanks(request, key: str):
    return render(request, "sales/form_thanks.html",
                  {"form": selectors.web_form_by_key(key=key)})


# --- territories and first response (territory branch) -----------------------------------------

TERRITORY_TEXT = ("name", "countries", "regions", "postcode_prefixes", "industries", "manager_id")


def _territory_values(request) -> dict:
    values = {k: request.POST.get(k, "") for k in TERRITORY_TEXT}
    values["company_sizes"] = request.POST.getlist("company_sizes")
    values["member_ids"] = request.POST.getlist("member_ids")
    return values


def _territory_shown(territory) -> dict:
    """A territory's values as the form shows them (lists as typed text)."""
    return {"name": territory.name, "countries": ", ".join(territory.countries),
            "regions": ", ".join(territory.regions),
            "postcode_prefixes": ", ".join(territory.postcode_prefixes),
            "industries": ", ".join(territory.industries),
            "company_sizes": territory.company_sizes,
            "member_ids": [str(u.id) for u in territory.members.all()],
            "manager_id": str(territory.manager_id or "")}


def _territory_form_context(request) -> dict:
    return {"sizes": CompanySize.values, "users": user_list(user=request.user),
            "section": "settings"}


@login_required
def territory_settings(request):
    _require_settings(request)
    outcome, values = submit(lambda: None), {"company_sizes": [], "member_ids": []}
    if request.method == "POST":
        values = _territory_values(request)
        outcome = submit(lambda: services.territory_create(actor=request.user, data=values))
        if outcome.ok:
            return done(request, f"Territory {outcome.result.name} added at the end.",
                        "territory_settings")
    items = selectors.territories()
    overlaps = selectors.territory_overlaps(items)
    shown = [{"territory": t, "rules": territory_rules_text(t),
              "loses": [o for o in overlaps if o.loser_id == t.id],
              "members": [u.display_name for u in t.members.all()]} for t in items]
    return render(request, "sales/territory_settings.html", {
        **_territory_form_context(request), "territories": shown, "values": values,
        "errors": outcome.errors}, status=outcome.status)


@login_required
def territory_edit(request, territory_id: int):
    _require_settings(request)
    territory = selectors.territory_get(territory_id=territory_id)
    outcome, values = submit(lambda: None), _territory_shown(territory)
    if request.method == "POST":
        values = _territory_values(request)
        changes = {**values, "manager_id": values["manager_id"] or None}
        outcome = submit(lambda: services.territory_update(
            actor=request.user, territory_id=territory_id, changes=changes))
        if outcome.ok:
            return done(request, f"Territory {outcome.result.name} saved.", "territory_settings")
    items = selectors.territories()
    overlaps = [o for o in selectors.territory_overlaps(items)
                if territory_id in (o.winner_id, o.loser_id)]
    return render(request, "sales/territory_edit.html", {
        **_territory_form_context(request), "territory": territory, "values": values,
        "overlaps": overlaps, "errors": outcome.errors}, status=outcome.status)


@login_required
@require_POST
def territory_move(request, territory_id: int):
    territory = selectors.territory_get(territory_id=territory_id)
    step = -1 if request.POST.get("direction") == "up" else 1
    return act(request, lambda: services.territory_move(
        actor=request.user, territory_id=territory_id,
        position=max(1, territory.position + step)),
        success=lambda t: f"{t.name} is now number {t.position}.", to="territory_settings")


@login_required
@require_POST
def territory_remove(request, territory_id: int):
    return act(request, lambda: services.territory_delete(actor=request.user,
                                                          territory_id=territory_id),
               success="Territory removed.", to="territory_settings")


@login_required
@require_POST
def lead_contact(request, lead_id: int):
    """The "log a call or email" box on a lead's page: the owner's first is the first
    response."""
    return act(request, lambda: services.lead_contact_log(
        actor=request.user, lead_id=lead_id,
        data={"channel": request.POST.get("channel", ""),
              "note": request.POST.get("note", "")}),
        success="Logged.", to="lead_detail", lead_id=lead_id)
