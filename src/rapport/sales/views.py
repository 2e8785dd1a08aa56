"""Pages for leads, deals and the sales settings, and the public web form endpoint: parse the
request, call one service or selector, render (core.pages maps the errors)."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from rapport.accounts.selectors import team_list, user_list
from rapport.activities.selectors import email_template_choices
from rapport.contacts.inputs import CompanySize
from rapport.core.errors import NotFound, PermissionDenied, ValidationFailed, VersionConflict
from rapport.core.pages import act, done, list_page, posted_version, submit
from rapport.core.permissions import can
from rapport.orders.selectors import product_choices
from rapport.sales import selectors, services
from rapport.sales.inputs import FORM_FIELDS
from rapport.sales.models import (
    GRADES,
    LEAD_STATUSES,
    AssignmentMethod,
    LeadStatus,
    ModelKind,
    Operator,
    ScoringField,
    StepKind,
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
        "grade_floors": GRADE_FLOORS, "section": "leads",
        # sequences (nurturing)
        "enrollments": selectors.lead_enrollments(lead_id=lead.id),
        "sequence_choices": selectors.sequence_choices(user=request.user)
        if lead.is_open and selectors.can_change_lead(request.user, lead) else [],
        # the learned score (mlscore)
        "lead_model": selectors.learned_model(kind=ModelKind.LEAD_SCORE),
        "min_outcomes": selectors.min_outcomes()})


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
    listing = list_page(request, selectors.deal_list,
                        ("owner", "stage", "pipeline", "territory", "status", "cursor"))
    return render(request, "sales/deal_list.html", {**listing.context(), "section": "deals"})


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
                  "redirect_url": request.POST.get("redirect_url", ""),
                  "double_opt_in": request.POST.get("double_opt_in") == "1"}
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
        "grade_floors": GRADE_FLOORS, "section": "settings",
        "learned": [{"kind": label, **selectors.learned_model(kind=kind)}
                    for kind, label in ModelKind.choices],
        "min_outcomes": selectors.min_outcomes()}, status=outcome.status)


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
            referer=request.headers.get("referer", ""), site=request.build_absolute_uri("/"))
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


# --- sequences (nurturing) ---------------------------------------------------------------------

BLANK_STEP_ROWS = 3
STEP_FIELDS = ("kind", "wait_days", "template_id", "task_title")


def _require_sequences(request, action: str = "view") -> None:
    if not can(request.user, f"sequences.{action}"):
        raise PermissionDenied("you may not see or change nurturing sequences" if action == "view"
                               else "you may not change nurturing sequences")


@login_required
def sequence_list(request):
    _require_sequences(request)
    listing = list_page(request, selectors.sequence_list, ("active", "q", "cursor"))
    return render(request, "sales/sequence_list.html", {
        **listing.context(), "can_change": can(request.user, "sequences.change"),
        "section": "sequences"})


def _posted_sequence(request) -> tuple[dict, list[dict], list[int]]:
    """The form's values, its step rows as typed, and which row each step given came from
    (rows left without a kind are not steps)."""
    post = request.POST
    rows = [{name: post.get(f"step-{i}-{name}", "") for name in STEP_FIELDS}
            for i in range(min(int(post.get("step_rows") or 0), 60))]
    given = [i for i, row in enumerate(rows) if row["kind"]]
    values = {"name": post.get("name", ""), "active": post.get("active") == "on",
              "stop_on_reply": post.get("stop_on_reply") == "on",
              "stop_on_meeting": post.get("stop_on_meeting") == "on",
              "stop_on_convert": post.get("stop_on_convert") == "on",
              "auto_enrol": post.get("auto_enrol") == "on",
              "auto_source": post.get("auto_source", ""),
              "auto_web_form_id": post.get("auto_web_form_id", ""),
              "auto_grades": post.getlist("auto_grades"),
              "steps": [{k: v for k, v in rows[i].items() if v != "" or k == "kind"}
                        for i in given]}
    return values, rows, given


def _row_errors(errors: dict, given: list[int]) -> dict:
    """``steps.1.template_id`` → ``step-<row>-template_id``: each error beside its row."""
    out = {}
    for key, reasons in errors.items():
        parts = key.split(".")
        if parts[0] == "steps" and len(parts) == 3 and parts[1].isdigit() and \
                int(parts[1]) < len(given):
            out[f"step-{given[int(parts[1])]}-{parts[2]}"] = reasons
        else:
            out[key] = reasons
    return out


# --- pipeline: the kanban board, moves, the deal page (issue 10, pipeline) ---------------------

BOARD_PARAMS = ("pipeline", "owner", "territory")


def _board_query(source) -> dict[str, str]:
    """The board's filters from a request's GET or POST (kept across moves and "more")."""
    return {name: str(source.get(name, "")) for name in BOARD_PARAMS if source.get(name)}


def _wants_json(request) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _mark_movable(request, deals) -> None:
    for deal in deals:
        deal.can_move = selectors.can_change_deal(request.user, deal)


def _card_context(request, deal, stages, params) -> dict:
    _mark_movable(request, [deal])
    return {"d": deal, "stages": stages, "params": params}


@login_required
def deal_board(request):
    """One column per stage of the chosen pipeline, with counts, totals and the first cards."""
    params = _board_query(request.GET)
    try:
        board = selectors.deal_board(user=request.user, params=params)
        errors: dict = {}
    except ValidationFailed as failure:
        board, errors = None, failure.errors
    if board is None and not errors:
        services.ensure_default_pipeline()
        board = selectors.deal_board(user=request.user, params={})
    for column in board.columns if board else []:
        _mark_movable(request, column.page.items)
    return render(request, "sales/deal_board.html", {
        "board": board, "errors": errors, "params": board.params if board else params,
        "owners": user_list(user=request.user), "territories": selectors.territory_choices(),
        # how this month's and quarter's goals stand, for the viewer's scope
        "attainment": selectors.goal_attainment(user=request.user),
        "can_set_goals": selectors.can_set_goals(request.user),
        "section": "deals"}, status=422 if errors else 200)


@login_required
def deal_board_column(request, stage_id: int):
    """The next cards of one column ("more", loaded by htmx after the ones shown)."""
    stage = selectors.stage_get(stage_id=stage_id)
    params = _board_query(request.GET)
    try:
        page = selectors.board_column(user=request.user, stage=stage, params={
            **params, "cursor": request.GET.get("cursor", "")})
    except ValidationFailed as failure:
        return HttpResponse(f'<p class="error">{escape(str(failure))}</p>', status=422)
    stages = selectors.pipeline_stages(pipeline_id=stage.pipeline_id)
    _mark_movable(request, page.items)
    return render(request, "sales/_board_more.html", {
        "page": page, "stage": stage, "stages": stages, "params": params})


def _move_answer(request, deal_id: int, params: dict, *, status: int, message: str):
    """What the board's script gets after a move: the card as it now is, in its stage, and the
    column headers with their new counts and totals."""
    deal = selectors.deal_get(user=request.user, deal_id=deal_id)
    stages = selectors.pipeline_stages(pipeline_id=deal.pipeline_id)
    totals = selectors.column_totals(user=request.user, stages=stages, params=params)
    headers = {str(stage.id): render_to_string("sales/_board_header.html", {
        "column": selectors.Column(stage=stage, count=totals[stage.id][0],
                                   totals=totals[stage.id][1], page=None)}, request=request)
        for stage in stages}
    card = render_to_string("sales/_deal_card.html", _card_context(request, deal, stages,
                                                                   params), request=request)
    return JsonResponse({"message": message, "stage_id": deal.stage_id, "card": card,
                         "version": deal.version, "headers": headers}, status=status)


@login_required
@require_POST
def deal_move(request, deal_id: int):
    """A move from the board (dragged, or the card's "Move to" box) or the deal page. Without
    JavaScript it is a plain form post that comes back to where it was sent from."""
    params = _board_query(request.POST)
    try:
        stage_id = int(request.POST.get("stage_id", ""))
    except ValueError:
        stage_id = 0
    back = request.POST.get("back") == "deal"
    try:
        deal = services.deal_move(actor=request.user, deal_id=deal_id, stage_id=stage_id,
                                  version=posted_version(request),
                                  lost_reason=request.POST.get("lost_reason", ""))
    except VersionConflict as clash:
        message = (f"Not moved: someone else changed this deal first (it is now in "
                   f"{clash.current.get('stage')}). Here it is as they left it.")
        if _wants_json(request):
            return _move_answer(request, deal_id, params, status=409, message=message)
        messages.error(request, message)
    except ValidationFailed as failure:
        message = "Not moved: " + "; ".join(
            f"{'lost reason' if k == 'lost_reason' else k.replace('_id', '')} {m}"
            for k, msgs in failure.errors.items() for m in msgs)
        if _wants_json(request):
            return JsonResponse({"message": message, "errors": failure.errors}, status=422)
        messages.error(request, message)
        if "lost_reason" in failure.errors and not back:
            return redirect(f"{reverse('deal_detail', args=[deal_id])}#close")
    else:
        message = f"Moved {deal.name} to {deal.stage.name}."
        if _wants_json(request):
            return _move_answer(request, deal_id, params, status=200, message=message)
        messages.success(request, message)
    if back:
        return redirect("deal_detail", deal_id=deal_id)
    query = urlencode(params)
    return redirect(f"{reverse('deal_board')}{'?' + query if query else ''}#deal-{deal_id}")


@login_required
@require_POST
def deal_close(request, deal_id: int):
    """The deal page's Won, Lost (with a reason) and Reopen buttons."""
    deal = selectors.deal_get(user=request.user, deal_id=deal_id)
    outcome = request.POST.get("outcome")
    if outcome == "reopen":
        stage = services.first_open_stage(deal.pipeline_id)
    elif outcome in ("won", "lost"):
        stage = services.closing_stage(deal.pipeline_id, won=outcome == "won")
    else:
        raise NotFound("no such outcome")
    done_words = {"won": "Marked won. Well done!", "lost": "Marked lost.",
                  "reopen": f"Reopened in {stage.name}."}
    return act(request, lambda: services.deal_move(
        actor=request.user, deal_id=deal_id, stage_id=stage.id,
        version=posted_version(request), lost_reason=request.POST.get("lost_reason", "")),
        success=done_words[outcome], to="deal_detail", deal_id=deal_id)


def _deal_page(request, deal, *, values=None, errors=None, conflict=None, status=200,
               line_errors=None):
    can_change = selectors.can_change_deal(request.user, deal)
    lines = list(deal.lines.all())
    for line in lines:
        line.line_total = line.quantity * line.unit_price
    return render(request, "sales/deal_detail.html", {
        "deal": deal, "stages": selectors.pipeline_stages(pipeline_id=deal.pipeline_id),
        "history": selectors.deal_stage_history(deal=deal),
        "timeline": selectors.deal_timeline(deal_id=deal.id),
        "lines": lines, "blank_lines": range(len(lines), len(lines) + 3),
        "products": product_choices(), "can_change": can_change,
        "can_delete": selectors.can_delete_deal(request.user, deal),
        "owners": user_list(user=request.user) if can_change else [],
        "territories": selectors.territory_choices() if can_change else [],
        "values": values or {}, "errors": errors or {}, "line_errors": line_errors or {},
        "conflict": conflict, "section": "deals"}, status=status)


@login_required
def deal_detail(request, deal_id: int):
    deal = selectors.deal_get(user=request.user, deal_id=deal_id)
    return _deal_page(request, deal)


DEAL_FORM_FIELDS = ("name", "amount", "currency", "expected_close", "next_step", "owner_id",
                    "territory_id")


@login_required
@require_POST
def deal_edit(request, deal_id: int):
    values = {k: request.POST.get(k, "") for k in DEAL_FORM_FIELDS if k in request.POST}
    outcome = submit(lambda: services.deal_update(
        actor=request.user, deal_id=deal_id, version=posted_version(request), changes=values))
    if outcome.ok:
        return done(request, "Saved.", "deal_detail", deal_id=deal_id)
    deal = selectors.deal_get(user=request.user, deal_id=deal_id)
    return _deal_page(request, deal, values=values, errors=outcome.errors,
                      conflict=outcome.conflict, status=outcome.status)


@login_required
@require_POST
def deal_lines_edit(request, deal_id: int):
    """The line items editor: every row posted (blank rows and ticked "remove" ones skipped)
    replaces the deal's lines."""
    rows, shown_as = [], []
    try:
        count = min(int(request.POST.get("rows", "0") or 0), 500)
    except ValueError:
        count = 0
    for i in range(count):
        def get(name: str, i: int = i) -> str:
            return request.POST.get(f"lines-{i}-{name}", "").strip()

        if request.POST.get(f"lines-{i}-remove") or not (get("product_id")
                                                        or get("description")):
            continue
        rows.append({"product_id": get("product_id") or None,
                     "description": get("description"), "quantity": get("quantity") or "1",
                     "unit_price": get("unit_price") or None})
        shown_as.append(i + 1)
    outcome = submit(lambda: services.deal_lines_set(
        actor=request.user, deal_id=deal_id,
        data={"version": posted_version(request), "lines": rows}))
    if outcome.ok:
        return done(request, f"Lines saved: the deal is worth {outcome.result.amount} "
                             f"{outcome.result.currency}.", "deal_detail", deal_id=deal_id)
    deal = selectors.deal_get(user=request.user, deal_id=deal_id)
    return _deal_page(request, deal, line_errors=_line_errors(outcome.errors, shown_as),
                      conflict=outcome.conflict, status=outcome.status)


def _line_errors(errors: dict, shown_as: list[int]) -> dict[str, list[str]]:
    """``lines.1.unit_price`` → ``Line 3, unit price``: the row as the person sees it."""
    out: dict[str, list[str]] = {}
    for key, msgs in errors.items():
        parts = key.split(".")
        if len(parts) >= 3 and parts[0] == "lines" and parts[1].isdigit() \
                and int(parts[1]) < len(shown_as):
            key = f"Line {shown_as[int(parts[1])]}, {' '.join(parts[2:]).replace('_', ' ')}"
        out[key] = msgs
    return out


@login_required
def sequence_edit(request, sequence_id: int | None = None):
    """Make a sequence (no id) or change one: its settings and its steps, in order."""
    _require_sequences(request, "change")
    sequence = selectors.sequence_get(user=request.user, sequence_id=sequence_id) \
        if sequence_id else None
    outcome = submit(lambda: None)
    if request.method == "POST":
        values, rows, given = _posted_sequence(request)
        if sequence is None:
            outcome = submit(lambda: services.sequence_create(actor=request.user, data=values))
        else:
            outcome = submit(lambda: services.sequence_update(
                actor=request.user, sequence_id=sequence.id, changes=values))
        if outcome.ok:
            return done(request, f"Sequence {outcome.result.name} saved.", "sequence_list")
        errors = _row_errors(outcome.errors, given)
    else:
        values = services.sequence_snapshot(sequence) if sequence else {
            "active": True, "stop_on_reply": True, "stop_on_meeting": True,
            "stop_on_convert": True, "auto_grades": [], "steps": []}
        rows = [{k: "" if v is None else str(v) for k, v in step.items()}
                for step in values["steps"]]
        errors = {}
    while rows and not any(rows[-1].values()):
        rows.pop()  # trailing empty rows: the blank ones below stand for them
    rows = [*rows, *({name: "" for name in STEP_FIELDS} for _ in range(BLANK_STEP_ROWS))]
    for i, row in enumerate(rows):
        row["errors"] = {name: errors[f"step-{i}-{name}"] for name in STEP_FIELDS
                         if f"step-{i}-{name}" in errors}
    return render(request, "sales/sequence_edit.html", {
        "sequence": sequence, "values": values, "rows": rows, "errors": errors,
        "kinds": StepKind.choices, "grades": GRADES,
        "templates": email_template_choices(user=request.user),
        "forms": [f for f in selectors.web_forms() if f.active],
        "section": "sequences"}, status=outcome.status)


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
def sequence_remove(request, sequence_id: int):
    services.sequence_delete(actor=request.user, sequence_id=sequence_id)
    return done(request, "Sequence deleted; its leads were taken out of it.", "sequence_list")


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
def lead_enrol(request, lead_id: int):
    return act(request, lambda: services.lead_enrol(
        actor=request.user, lead_id=lead_id,
        data={"sequence_id": request.POST.get("sequence_id") or None}),
        success=lambda e: f"Enrolled in {e.sequence.name}.", to="lead_detail", lead_id=lead_id)


@login_required
@require_POST
def lead_unenrol(request, lead_id: int):
    return act(request, lambda: services.lead_unenrol(
        actor=request.user, lead_id=lead_id,
        data={"sequence_id": request.POST.get("sequence_id") or None}),
        success=lambda e: f"Taken out of {e.sequence.name}.", to="lead_detail",
        lead_id=lead_id)


# --- capture: double opt-in ---------------------------------------------------------------

def lead_opt_in_confirm(request, token: str):
    """The link mailed by a double opt-in form (public, no login): confirms the lead once;
    following it again says so and changes nothing; a token no lead has is a 404 page."""
    try:
        lead, now = services.lead_opt_in_confirm(token=token)
    except NotFound:
        return render(request, "sales/opt_in_confirm.html", {"state": "unknown"}, status=404)
    return render(request, "sales/opt_in_confirm.html", {
        "state": "confirmed" if now else "again", "lead": lead})


@login_required
@require_POST
def deal_remove(request, deal_id: int):
    services.deal_delete(actor=request.user, deal_id=deal_id)
    return done(request, "Deal deleted.", "deal_board")


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
        "attainment": selectors.goal_attainment(user=request.user, currency=found.currency),
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


# --- mlscore: the learned lead score and deal win probability -------------------------------

@login_required
@require_POST
def models_train(request):
    """Settings → Lead scoring → Train now: both models trained and every open lead and deal
    scored, as the nightly job does."""
    def say(result) -> str:
        return (f"Lead model: {result['lead_message']}. Deal model: {result['deal_message']}. "
                f"Scored {result['leads_scored']} open leads and {result['deals_scored']} "
                f"open deals.")
    return act(request, lambda: services.models_train_now(actor=request.user), success=say,
               to="scoring_settings")
