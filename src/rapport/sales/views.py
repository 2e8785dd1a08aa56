"""Pages for leads, deals and the sales settings, and the public web form endpoint: parse the
request, call one service or selector, render (core.pages maps the errors)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
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
            "user_id", "cap")}
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
        "reps": selectors.reps_with_availability(), "section": "settings"},
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


# --- forecast and goals (issue 10: forecast) ---------------------------------------------------

def _chart(x: list[str], rows: list, goal_name: str = "Goal") -> dict:
    """Weighted vs committed vs best case (bars) and the goal (a line), for plotly."""
    return {"x": x, "traces": [
        {"name": "Weighted pipeline", "type": "bar", "y": [round(r.weighted) for r in rows]},
        {"name": "Committed", "type": "bar", "y": [round(r.committed) for r in rows]},
        {"name": "Best case", "type": "bar", "y": [round(r.best_case) for r in rows]},
        {"name": "Won", "type": "bar", "y": [round(r.won) for r in rows]},
        {"name": goal_name, "type": "goal",
         "y": [round(r.goal) if r.goal is not None else None for r in rows]}]}


@login_required
def forecast_page(request):
    """Weighted pipeline, committed, best case and goal by month, rep and territory; the
    revenue forecast from orders comes in by htmx (it may need fitting)."""
    params = {k: request.GET.get(k, "") for k in ("period", "months", "currency")}
    errors: dict[str, list[str]] = {}
    try:
        months = int(params["months"] or selectors.FORECAST_MONTHS)
    except ValueError:
        months, errors = selectors.FORECAST_MONTHS, {"months": ["must be a whole number"]}
    try:
        found = selectors.forecast(user=request.user, period=params["period"] or "month",
                                   months=months, currency=params["currency"] or None)
    except ValidationFailed as failure:
        errors.update(failure.errors)
        found = selectors.forecast(user=request.user)
    charts = {
        "month": _chart([r.label for r in found.months], found.months,
                        f"Goal ({found.scope_label})"),
        "rep": _chart([r.label for r in found.reps], found.reps),
        "territory": _chart([r.label for r in found.territories], found.territories),
    }
    return render(request, "sales/forecast.html", {
        "f": found, "charts": charts, "params": params, "errors": errors,
        "attainment": found.attainment,
        "can_set_goals": selectors.can_set_goals(request.user), "section": "forecast"})


@login_required
def forecast_revenue(request):
    """The revenue-from-orders part of the Forecast page (fitted once a day, then cached)."""
    result = selectors.revenue_forecast(user=request.user)
    chart = None
    if result.ok:
        chart = {"history": {"x": [m.isoformat() for m, _ in result.history],
                             "y": [round(v) for _, v in result.history]},
                 "ahead": {"x": [m.isoformat() for m, *_ in result.ahead],
                           "y": [round(f) for _, f, _, _ in result.ahead],
                           "lo": [round(lo) for _, _, lo, _ in result.ahead],
                           "hi": [round(hi) for _, _, _, hi in result.ahead]}}
    template = "sales/_revenue_forecast.html" if request.htmx else "sales/revenue_forecast.html"
    return render(request, template, {"r": result, "chart": chart, "section": "forecast"})


def _goal_values(request) -> dict[str, str]:
    """The add-a-goal form: "for" is "business", "user:5", "team:2" or "territory:3"."""
    values = {k: request.POST.get(k, "") for k in ("period", "starts_on", "amount", "currency")
              if request.POST.get(k, "").strip() or k != "currency"}
    kind, _, ident = request.POST.get("for", "business").partition(":")
    if kind in ("user", "team", "territory"):
        values[f"{kind}_id"] = ident
    return values


def _for_options(user) -> list[tuple[str, list[tuple[str, str]]]]:
    """Whom the add-a-goal form offers, grouped: the business, reps, teams, territories."""
    choices = selectors.goal_form_choices(user)
    groups: list[tuple[str, list[tuple[str, str]]]] = []
    if selectors.may_set_goal(user, user_id=None, team_id=None, territory_id=None):
        groups.append(("", [("business", "the whole business")]))
    groups += [(label, [(f"{kind}:{o.id}", prefix + str(getattr(o, "display_name", o)))
                        for o in choices[key]])
               for label, kind, key, prefix in (("Reps", "user", "users", ""),
                                                ("Teams", "team", "teams", "team "),
                                                ("Territories", "territory", "territories", ""))
               if choices[key]]
    return groups


@login_required
def goal_list(request):
    """Goals the viewer may see, with a form to add one for those who set goals."""
    outcome, values = submit(lambda: None), {"period": "month", "currency": "USD",
                                             "starts_on": f"{timezone.localdate():%Y-%m-01}"}
    if request.method == "POST":
        values = _goal_values(request)
        outcome = submit(lambda: services.goal_create(actor=request.user, data=values))
        values["for"] = request.POST.get("for", "business")
        if outcome.ok:
            return done(request, "Goal set.", "goal_list")
    listing = list_page(request, selectors.goal_list,
                        ("period", "target", "user", "starts_from", "starts_until", "cursor"))
    return render(request, "sales/goal_list.html", {
        **listing.context(), "values": values, "form_errors": outcome.errors,
        "can_set_goals": selectors.can_set_goals(request.user),
        "for_options": _for_options(request.user),
        "target_kinds": (("business", "the business"), ("user", "a rep"), ("team", "a team"),
                         ("territory", "a territory")),
        "editable": set(selectors.visible_goals(request.user, "change").filter(
            id__in=[g.id for g in listing.page.items]).values_list("id", flat=True)),
        "section": "forecast"}, status=outcome.status)


@login_required
@require_POST
def goal_edit(request, goal_id: int):
    changes = {k: request.POST[k] for k in ("amount", "currency") if request.POST.get(k)}
    return act(request, lambda: services.goal_update(actor=request.user, goal_id=goal_id,
                                                     changes=changes),
               success="Goal changed.", to="goal_list")


@login_required
@require_POST
def goal_remove(request, goal_id: int):
    services.goal_delete(actor=request.user, goal_id=goal_id)
    return done(request, "Goal removed.", "goal_list")
