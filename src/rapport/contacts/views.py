"""Pages for people and companies: parse the request, call a service or selector, render.

A record the user cannot see is a 404 and one they may not change a 403 (core.pages maps the
service errors); forms come back with each field's error (422) or the other version (409).
"""

from __future__ import annotations

import csv

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponseBadRequest, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from rapport.accounts.selectors import user_list
from rapport.contacts import selectors, services
from rapport.contacts.forms import (
    company_data_from_post,
    company_form_values,
    contact_data_from_post,
    contact_form_values,
    custom_field_data_from_post,
)
from rapport.contacts.models import COMPANY_SIZES, FIELD_TYPES, LIFECYCLE_STAGES
from rapport.core import registry
from rapport.core.errors import PermissionDenied, ValidationFailed
from rapport.core.pages import act, done, list_page, posted_version, submit
from rapport.core.permissions import can
from rapport.core.text import csv_safe

LIST_PARAMS = ("owner", "tag", "stage", "company", "sort", "cursor")
SORTS = [("name", "Name A–Z"), ("-name", "Name Z–A"), ("-updated", "Recently changed"),
         ("-created", "Newest"), ("created", "Oldest")]


def _contact_form_context(request, values, outcome, **extra):
    return {
        "values": values, "errors": outcome.errors, "conflict": outcome.conflict,
        "theirs": (selectors.describe_snapshot(outcome.conflict.current, user=request.user)
                   if outcome.conflict else []),
        "stages": LIFECYCLE_STAGES, "owners": user_list(user=request.user),
        "company_names": selectors.company_names(user=request.user),
        "custom_fields": list(selectors.custom_field_list(object_type="contact")),
        "section": "contacts", **extra,
    }


@login_required
def contact_list(request):
    listing = list_page(request, selectors.contact_list, LIST_PARAMS, prefixes=("cf_",),
                        rows_only=True)
    return render(request, "contacts/contact_list.html", {
        **listing.context(), "stages": LIFECYCLE_STAGES,
        "owners": user_list(user=request.user), "tags": selectors.tag_list(),
        "custom_fields": list(selectors.custom_field_list(object_type="contact")),
        "saved_views": selectors.saved_view_list(user=request.user), "sorts": SORTS,
        "section": "contacts",
    })


class _Echo:
    def write(self, value):
        return value


@login_required
def contact_export(request):
    params = {k: request.GET.get(k, "") for k in LIST_PARAMS if k not in ("cursor", "sort")}
    params.update({k: v for k, v in request.GET.items() if k.startswith("cf_")})
    try:
        rows = selectors.contact_export_rows(user=request.user, params=params)
        header = next(rows)
    except ValidationFailed as failure:
        return HttpResponseBadRequest(str(failure))
    writer = csv.writer(_Echo())
    stream = (writer.writerow([csv_safe(v) for v in row]) for row in rows)
    response = StreamingHttpResponse(
        (chunk for part in ([writer.writerow(header)], stream) for chunk in part),
        content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="contacts.csv"'
    return response


def _find_company(request):
    return lambda name: selectors.company_id_by_name(user=request.user, name=name)


@login_required
def contact_create(request):
    outcome, values = submit(lambda: None), contact_form_values()
    if request.method == "POST":
        definitions = list(selectors.custom_field_list(object_type="contact"))
        data, form_errors = contact_data_from_post(request.POST, definitions,
                                                   _find_company(request))
        outcome = submit(lambda: services.contact_create(actor=request.user, data=data),
                         errors=form_errors)
        if outcome.ok:
            return done(request, f"{outcome.result.full_name} added.", "contact_detail",
                        contact_id=outcome.result.id)
        values = contact_form_values(post=request.POST)
    return render(request, "contacts/contact_form.html",
                  _contact_form_context(request, values, outcome, title="New contact"),
                  status=outcome.status)


@login_required
def contact_detail(request, contact_id: int):
    contact = selectors.contact_get(user=request.user, contact_id=contact_id)
    definitions = {d.key: d for d in selectors.custom_field_list(object_type="contact")}
    return render(request, "contacts/contact_detail.html", {
        "contact": contact,
        "timeline": selectors.contact_timeline(user=request.user, contact=contact),
        "panels": registry.render_panels("contact", request, contact),
        "custom_values": [(definitions[k].label if k in definitions else k, v)
                          for k, v in contact.custom_fields.items()],
        "section": "contacts",
    })


@login_required
def timeline(request, contact_id: int):
    try:
        page = selectors.contact_timeline(user=request.user, contact_id=contact_id,
                                          before=request.GET.get("before"))
    except ValidationFailed:
        raise Http404("no such page of the timeline") from None
    return render(request, "contacts/_timeline.html", {"timeline": page,
                                                       "contact_id": contact_id})


@login_required
def contact_edit(request, contact_id: int):
    contact = selectors.contact_get(user=request.user, contact_id=contact_id)
    outcome, values = submit(lambda: None), contact_form_values(contact)
    if request.method == "POST":
        definitions = list(selectors.custom_field_list(object_type="contact"))
        data, form_errors = contact_data_from_post(request.POST, definitions,
                                                   _find_company(request))
        if contact.company_id and contact.shown_company is None and data["company_id"] is None:
            del data["company_id"]  # a company this user cannot see stays linked, unshown
        outcome = submit(lambda: services.contact_update(
            actor=request.user, contact_id=contact_id, version=posted_version(request),
            changes=data), errors=form_errors)
        if outcome.ok:
            return done(request, "Saved.", "contact_detail", contact_id=contact_id)
        values = contact_form_values(post=request.POST)
    return render(request, "contacts/contact_form.html",
                  _contact_form_context(request, values, outcome, contact=contact,
                                        title=f"Edit {contact.full_name}"),
                  status=outcome.status)


@login_required
@require_POST
def preference_add(request, contact_id: int):
    return act(request, lambda: services.contact_add_preference(
        actor=request.user, contact_id=contact_id, text=request.POST.get("preference", "")),
        success="Remembered.", to="contact_detail", contact_id=contact_id)


@login_required
@require_POST
def note_add(request, contact_id: int):
    return act(request, lambda: services.contact_note_add(
        actor=request.user, contact_id=contact_id, text=request.POST.get("note", "")),
        success="Note added.", to="contact_detail", contact_id=contact_id)


@login_required
@require_POST
def contact_remove(request, contact_id: int):
    services.contact_delete(actor=request.user, contact_id=contact_id)
    return done(request, "Contact deleted. You can restore it for 30 days.", "contact_list")


@login_required
def contact_deleted(request):
    return render(request, "contacts/contact_deleted.html", {
        "contacts": selectors.deleted_contacts(user=request.user)[:200],
        "companies": selectors.deleted_companies(user=request.user)[:200],
        "section": "contacts"})


def _restore(request, restore, noun: str, to: str, **kwargs):
    try:
        restore()
    except (PermissionDenied, ValidationFailed) as error:
        messages.error(request, str(error))
        return redirect("contact_deleted")
    return done(request, f"{noun} restored.", to, **kwargs)


@login_required
@require_POST
def contact_restore(request, contact_id: int):
    return _restore(request, lambda: services.contact_restore(actor=request.user,
                                                              contact_id=contact_id),
                    "Contact", "contact_detail", contact_id=contact_id)


@login_required
@require_POST
def company_restore(request, company_id: int):
    return _restore(request, lambda: services.company_restore(actor=request.user,
                                                              company_id=company_id),
                    "Company", "company_detail", company_id=company_id)


def _n_contacts(count: int) -> str:
    return f"{count} contact" if count == 1 else f"{count} contacts"


@login_required
@require_POST
def contact_bulk(request):
    ids = [int(i) for i in request.POST.getlist("ids") if i.isdigit()]
    action = request.POST.get("action", "")
    back = f"/contacts/?{request.POST.get('query', '')}"
    if action == "delete" and request.POST.get("confirmed") != "yes":
        # Without the page's script (or with it bypassed) ask on a page of its own.
        return render(request, "contacts/contact_bulk_delete.html", {
            "contacts": selectors.visible_contacts(request.user).filter(id__in=ids)[:1000],
            "query": request.POST.get("query", ""), "section": "contacts"})
    writes = {
        "tag": (lambda: services.contacts_bulk_tag(actor=request.user, contact_ids=ids,
                                                   tag=request.POST.get("tag", "")), "Tagged"),
        "assign": (lambda: services.contacts_bulk_assign(
            actor=request.user, contact_ids=ids, owner_id=request.POST.get("owner_id")),
            "Assigned"),
        "delete": (lambda: services.contacts_bulk_delete(actor=request.user, contact_ids=ids),
                   "Deleted"),
    }
    if action not in writes:
        messages.error(request, "Choose an action.")
        return redirect(back)
    write, verb = writes[action]
    try:
        count = write()
    except (ValidationFailed, PermissionDenied) as error:
        messages.error(request, str(error))
    else:
        restore = " You can restore them for 30 days." if action == "delete" else ""
        messages.success(request, f"{verb} {_n_contacts(count)}.{restore}")
    return redirect(back)


@login_required
@require_POST
def saved_view_save(request):
    try:
        services.saved_view_create(actor=request.user, name=request.POST.get("name", ""),
                                   query=request.POST.get("query", ""))
        messages.success(request, "View saved.")
    except ValidationFailed as error:
        messages.error(request, str(error))
    return redirect(f"/contacts/?{request.POST.get('query', '')}")


@login_required
@require_POST
def saved_view_remove(request, view_id: int):
    services.saved_view_delete(actor=request.user, view_id=view_id)
    return redirect("contact_list")


# --- companies -----------------------------------------------------------------------------

def _company_form_context(request, values, outcome, **extra):
    return {
        "values": values, "errors": outcome.errors, "conflict": outcome.conflict,
        "theirs": (selectors.describe_snapshot(outcome.conflict.current, user=request.user)
                   if outcome.conflict else []),
        "sizes": COMPANY_SIZES, "owners": user_list(user=request.user),
        "custom_fields": list(selectors.custom_field_list(object_type="company")),
        "section": "companies", **extra,
    }


@login_required
def company_list(request):
    listing = list_page(request, selectors.company_list, ("q", "tag", "cursor"))
    return render(request, "contacts/company_list.html",
                  {**listing.context(), "section": "companies"})


@login_required
def company_create(request):
    outcome, values = submit(lambda: None), company_form_values()
    if request.method == "POST":
        definitions = list(selectors.custom_field_list(object_type="company"))
        outcome = submit(lambda: services.company_create(
            actor=request.user, data=company_data_from_post(request.POST, definitions)))
        if outcome.ok:
            return done(request, f"{outcome.result.name} added.", "company_detail",
                        company_id=outcome.result.id)
        values = company_form_values(post=request.POST)
    return render(request, "contacts/company_form.html",
                  _company_form_context(request, values, outcome, title="New company"),
                  status=outcome.status)


@login_required
def company_detail(request, company_id: int):
    company = selectors.company_get(user=request.user, company_id=company_id)
    return render(request, "contacts/company_detail.html", {
        "company": company,
        "people": selectors.company_contacts(user=request.user, company_id=company_id),
        "panels": registry.render_panels("company", request, company),
        "section": "companies"})


@login_required
def company_edit(request, company_id: int):
    company = selectors.company_get(user=request.user, company_id=company_id)
    outcome, values = submit(lambda: None), company_form_values(company)
    if request.method == "POST":
        definitions = list(selectors.custom_field_list(object_type="company"))
        outcome = submit(lambda: services.company_update(
            actor=request.user, company_id=company_id, version=posted_version(request),
            changes=company_data_from_post(request.POST, definitions)))
        if outcome.ok:
            return done(request, "Saved.", "company_detail", company_id=company_id)
        values = company_form_values(post=request.POST)
    return render(request, "contacts/company_form.html",
                  _company_form_context(request, values, outcome, company=company,
                                        title=f"Edit {company.name}"),
                  status=outcome.status)


@login_required
@require_POST
def company_remove(request, company_id: int):
    services.company_delete(actor=request.user, company_id=company_id)
    return done(request, "Company deleted. You can restore it for 30 days.", "company_list")


# --- custom fields -------------------------------------------------------------------------

@login_required
def custom_fields(request):
    outcome, values = submit(lambda: None), {}
    if request.method == "POST":
        values = {k: request.POST.get(k, "") for k in request.POST}
        outcome = submit(lambda: services.custom_field_define(
            actor=request.user, data=custom_field_data_from_post(request.POST)))
        if outcome.ok:
            return done(request, "Custom field added.", "custom_fields")
    return render(request, "contacts/custom_fields.html", {
        "definitions": selectors.custom_field_list(), "field_types": FIELD_TYPES,
        "errors": outcome.errors, "values": values, "section": "settings",
        "can_edit": can(request.user, "settings.change"),
    }, status=outcome.status)


@login_required
@require_POST
def custom_field_edit(request, definition_id: int):
    changes: dict = {"label": request.POST.get("label", ""),
                     "required": request.POST.get("required") == "on"}
    if "choices" in request.POST:
        changes["choices"] = [c for c in request.POST.get("choices", "").split(",") if c.strip()]
    return act(request, lambda: services.custom_field_update(
        actor=request.user, definition_id=definition_id,
        version=posted_version(request) or -1, changes=changes),
        success="Custom field saved.", to="custom_fields")


@login_required
@require_POST
def custom_field_remove(request, definition_id: int):
    services.custom_field_delete(actor=request.user, definition_id=definition_id)
    return done(request, "Custom field removed.", "custom_fields")
