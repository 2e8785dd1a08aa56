"""Pages for people and companies: parse the request, call a service or selector, render."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponseBadRequest, HttpResponseForbidden
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from rapport.accounts.selectors import user_list
from rapport.contacts import selectors, services
from rapport.contacts.forms import (
    company_data_from_post,
    company_form_values,
    contact_data_from_post,
    contact_form_values,
)
from rapport.contacts.models import COMPANY_SIZES, FIELD_TYPES, LIFECYCLE_STAGES
from rapport.core import registry
from rapport.core.errors import NotFound, PermissionDenied, ValidationFailed, VersionConflict
from rapport.core.permissions import can
from rapport.core.text import csv_safe

LIST_PARAMS = ("owner", "tag", "stage", "company", "sort", "cursor")


def _contact_form_context(request, values, errors, **extra):
    return {
        "values": values, "errors": errors, "stages": LIFECYCLE_STAGES,
        "owners": user_list(user=request.user),
        "company_names": selectors.company_names(user=request.user),
        "custom_fields": list(selectors.custom_field_list(object_type="contact")),
        "section": "contacts", **extra,
    }


@login_required
def contact_list(request):
    params = {k: request.GET.get(k, "") for k in LIST_PARAMS}
    params.update({k: v for k, v in request.GET.items() if k.startswith("cf_")})
    try:
        page = selectors.contact_list(user=request.user, params=params)
        errors = {}
    except ValidationFailed as failure:
        page, errors = selectors.Page(items=[], next_cursor=None), failure.errors
    base_query = {k: v for k, v in params.items() if v and k != "cursor"}
    next_url = f"?{urlencode({**base_query, 'cursor': page.next_cursor})}" if page.next_cursor \
        else ""
    return render(request, "contacts/contact_list.html", {
        "page": page, "params": params, "errors": errors, "next_url": next_url,
        "query": urlencode(base_query), "stages": LIFECYCLE_STAGES,
        "owners": user_list(user=request.user), "tags": selectors.tag_list(),
        "custom_fields": list(selectors.custom_field_list(object_type="contact")),
        "saved_views": selectors.saved_view_list(user=request.user),
        "sorts": [("name", "Name A–Z"), ("-name", "Name Z–A"), ("-updated", "Recently changed"),
                  ("-created", "Newest"), ("created", "Oldest")],
        "section": "contacts",
    })


class _Echo:
    def write(self, value):
        return value


@login_required
def contact_export(request):
    import csv

    from django.http import StreamingHttpResponse

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


@login_required
def contact_create(request):
    errors: dict = {}
    custom_fields = list(selectors.custom_field_list(object_type="contact"))
    if request.method == "POST":
        data, errors = contact_data_from_post(
            request.POST, custom_fields,
            lambda name: selectors.company_id_by_name(user=request.user, name=name))
        if not errors:
            try:
                contact = services.contact_create(actor=request.user, data=data)
            except ValidationFailed as failure:
                errors = failure.errors
            else:
                messages.success(request, f"{contact.full_name} added.")
                return redirect("contact_detail", contact_id=contact.id)
        values = contact_form_values(post=request.POST)
    else:
        values = contact_form_values()
    return render(request, "contacts/contact_form.html",
                  _contact_form_context(request, values, errors, title="New contact"),
                  status=422 if errors else 200)


def _contact_or_404(request, contact_id):
    try:
        return selectors.contact_get(user=request.user, contact_id=contact_id)
    except NotFound:
        raise Http404("no such contact") from None


@login_required
def contact_detail(request, contact_id: int):
    contact = _contact_or_404(request, contact_id)
    timeline = selectors.contact_timeline(user=request.user, contact_id=contact_id)
    definitions = {d.key: d for d in selectors.custom_field_list(object_type="contact")}
    return render(request, "contacts/contact_detail.html", {
        "contact": contact, "timeline": timeline,
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
    except (NotFound, ValidationFailed):
        raise Http404("no such contact") from None
    return render(request, "contacts/_timeline.html", {"timeline": page,
                                                       "contact_id": contact_id})


@login_required
def contact_edit(request, contact_id: int):
    contact = _contact_or_404(request, contact_id)
    errors: dict = {}
    conflict = None
    custom_fields = list(selectors.custom_field_list(object_type="contact"))
    if request.method == "POST":
        data, errors = contact_data_from_post(
            request.POST, custom_fields,
            lambda name: selectors.company_id_by_name(user=request.user, name=name))
        try:
            version = int(request.POST.get("version", ""))
        except ValueError:
            errors["version"] = ["missing; reload the page"]
            version = None
        if not errors:
            try:
                services.contact_update(actor=request.user, contact_id=contact_id,
                                        version=version, changes=data)
            except ValidationFailed as failure:
                errors = failure.errors
            except VersionConflict as clash:
                conflict = clash
            except PermissionDenied as denied:
                return HttpResponseForbidden(str(denied))
            else:
                messages.success(request, "Saved.")
                return redirect("contact_detail", contact_id=contact_id)
        values = contact_form_values(post=request.POST)
    else:
        values = contact_form_values(contact)
    status = 409 if conflict else (422 if errors else 200)
    theirs = selectors.describe_snapshot(conflict.current, user=request.user) if conflict else []
    return render(request, "contacts/contact_form.html",
                  _contact_form_context(request, values, errors, contact=contact,
                                        conflict=conflict, theirs=theirs,
                                        title=f"Edit {contact.full_name}"),
                  status=status)


@login_required
@require_POST
def preference_add(request, contact_id: int):
    try:
        services.contact_add_preference(actor=request.user, contact_id=contact_id,
                                        text=request.POST.get("preference", ""))
    except ValidationFailed as failure:
        messages.error(request, failure.errors["preference"][0])
    except NotFound:
        raise Http404("no such contact") from None
    except PermissionDenied as denied:
        return HttpResponseForbidden(str(denied))
    return redirect("contact_detail", contact_id=contact_id)


@login_required
@require_POST
def note_add(request, contact_id: int):
    try:
        services.contact_note_add(actor=request.user, contact_id=contact_id,
                                  text=request.POST.get("note", ""))
    except ValidationFailed as failure:
        messages.error(request, failure.errors["note"][0])
    except NotFound:
        raise Http404("no such contact") from None
    return redirect("contact_detail", contact_id=contact_id)


@login_required
@require_POST
def contact_remove(request, contact_id: int):
    try:
        services.contact_delete(actor=request.user, contact_id=contact_id)
    except NotFound:
        raise Http404("no such contact") from None
    except PermissionDenied as denied:
        return HttpResponseForbidden(str(denied))
    messages.success(request, "Contact deleted. You can restore it for 30 days.")
    return redirect("contact_list")


@login_required
def contact_deleted(request):
    return render(request, "contacts/contact_deleted.html", {
        "contacts": selectors.deleted_contacts(user=request.user)[:200],
        "companies": selectors.deleted_companies(user=request.user)[:200],
        "section": "contacts"})


@login_required
@require_POST
def contact_restore(request, contact_id: int):
    try:
        services.contact_restore(actor=request.user, contact_id=contact_id)
    except (NotFound, PermissionDenied, ValidationFailed) as error:
        messages.error(request, str(error))
        return redirect("contact_deleted")
    messages.success(request, "Contact restored.")
    return redirect("contact_detail", contact_id=contact_id)


@login_required
@require_POST
def company_restore(request, company_id: int):
    try:
        services.company_restore(actor=request.user, company_id=company_id)
    except (NotFound, PermissionDenied, ValidationFailed) as error:
        messages.error(request, str(error))
        return redirect("contact_deleted")
    messages.success(request, "Company restored.")
    return redirect("company_detail", company_id=company_id)


def _n_contacts(count: int) -> str:
    return f"{count} contact" if count == 1 else f"{count} contacts"


@login_required
@require_POST
def contact_bulk(request):
    try:
        ids = [int(i) for i in request.POST.getlist("ids")]
    except ValueError:
        ids = []
    action = request.POST.get("action", "")
    try:
        if action == "tag":
            count = services.contacts_bulk_tag(actor=request.user, contact_ids=ids,
                                               tag=request.POST.get("tag", ""))
            messages.success(request, f"Tagged {_n_contacts(count)}.")
        elif action == "assign":
            count = services.contacts_bulk_assign(actor=request.user, contact_ids=ids,
                                                  owner_id=request.POST.get("owner_id"))
            messages.success(request, f"Assigned {_n_contacts(count)}.")
        elif action == "delete" and request.POST.get("confirmed") != "yes":
            # Without the page's script (or with it bypassed) ask on a page of its own.
            return render(request, "contacts/contact_bulk_delete.html", {
                "contacts": selectors.visible_contacts(request.user).filter(id__in=ids)[:1000],
                "query": request.POST.get("query", ""), "section": "contacts"})
        elif action == "delete":
            count = services.contacts_bulk_delete(actor=request.user, contact_ids=ids)
            messages.success(request, f"Deleted {_n_contacts(count)}. You can restore them "
                                      "for 30 days.")
        else:
            messages.error(request, "Choose an action.")
    except (ValidationFailed, PermissionDenied) as error:
        messages.error(request, str(error))
    return redirect(f"/contacts/?{request.POST.get('query', '')}")


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
    try:
        services.saved_view_delete(actor=request.user, view_id=view_id)
    except NotFound:
        raise Http404("no such view") from None
    return redirect("contact_list")


# --- companies -----------------------------------------------------------------------------

def _company_form_context(request, values, errors, **extra):
    return {
        "values": values, "errors": errors, "sizes": COMPANY_SIZES,
        "owners": user_list(user=request.user),
        "custom_fields": list(selectors.custom_field_list(object_type="company")),
        "section": "companies", **extra,
    }


@login_required
def company_list(request):
    params = {"q": request.GET.get("q", ""), "tag": request.GET.get("tag", ""),
              "cursor": request.GET.get("cursor", "")}
    try:
        page = selectors.company_list(user=request.user, params=params)
    except ValidationFailed:
        page = selectors.Page(items=[], next_cursor=None)
    base = {k: v for k, v in params.items() if v and k != "cursor"}
    next_url = f"?{urlencode({**base, 'cursor': page.next_cursor})}" if page.next_cursor else ""
    return render(request, "contacts/company_list.html",
                  {"page": page, "params": params, "next_url": next_url,
                   "section": "companies"})


@login_required
def company_create(request):
    errors: dict = {}
    custom_fields = list(selectors.custom_field_list(object_type="company"))
    if request.method == "POST":
        try:
            company = services.company_create(
                actor=request.user, data=company_data_from_post(request.POST, custom_fields))
        except ValidationFailed as failure:
            errors = failure.errors
        else:
            messages.success(request, f"{company.name} added.")
            return redirect("company_detail", company_id=company.id)
        values = company_form_values(post=request.POST)
    else:
        values = company_form_values()
    return render(request, "contacts/company_form.html",
                  _company_form_context(request, values, errors, title="New company"),
                  status=422 if errors else 200)


def _company_or_404(request, company_id):
    try:
        return selectors.company_get(user=request.user, company_id=company_id)
    except NotFound:
        raise Http404("no such company") from None


@login_required
def company_detail(request, company_id: int):
    company = _company_or_404(request, company_id)
    return render(request, "contacts/company_detail.html", {
        "company": company,
        "people": selectors.company_contacts(user=request.user, company_id=company_id),
        "section": "companies"})


@login_required
def company_edit(request, company_id: int):
    company = _company_or_404(request, company_id)
    errors: dict = {}
    conflict = None
    custom_fields = list(selectors.custom_field_list(object_type="company"))
    if request.method == "POST":
        try:
            version = int(request.POST.get("version", ""))
        except ValueError:
            version = None
        try:
            services.company_update(actor=request.user, company_id=company_id, version=version,
                                    changes=company_data_from_post(request.POST, custom_fields))
        except ValidationFailed as failure:
            errors = failure.errors
        except VersionConflict as clash:
            conflict = clash
        except PermissionDenied as denied:
            return HttpResponseForbidden(str(denied))
        else:
            messages.success(request, "Saved.")
            return redirect("company_detail", company_id=company_id)
        values = company_form_values(post=request.POST)
    else:
        values = company_form_values(company)
    status = 409 if conflict else (422 if errors else 200)
    theirs = selectors.describe_snapshot(conflict.current, user=request.user) if conflict else []
    return render(request, "contacts/company_form.html",
                  _company_form_context(request, values, errors, company=company,
                                        conflict=conflict, theirs=theirs,
                                        title=f"Edit {company.name}"),
                  status=status)


@login_required
@require_POST
def company_remove(request, company_id: int):
    try:
        services.company_delete(actor=request.user, company_id=company_id)
    except NotFound:
        raise Http404("no such company") from None
    except PermissionDenied as denied:
        return HttpResponseForbidden(str(denied))
    messages.success(request, "Company deleted. You can restore it for 30 days.")
    return redirect("company_list")


# --- custom fields -------------------------------------------------------------------------

@login_required
def custom_fields(request):
    errors: dict = {}
    values: dict = {}
    if request.method == "POST":
        values = {k: request.POST.get(k, "") for k in request.POST}
        try:
            services.custom_field_define(actor=request.user, data={
                "object_type": request.POST.get("object_type", ""),
                "key": request.POST.get("key", ""), "label": request.POST.get("label", ""),
                "field_type": request.POST.get("field_type", ""),
                "choices": [c for c in request.POST.get("choices", "").split(",") if c.strip()],
                "required": request.POST.get("required") == "on"})
        except ValidationFailed as failure:
            errors = failure.errors
        except PermissionDenied as denied:
            return HttpResponseForbidden(str(denied))
        else:
            messages.success(request, "Custom field added.")
            return redirect("custom_fields")
    return render(request, "contacts/custom_fields.html", {
        "definitions": selectors.custom_field_list(), "field_types": FIELD_TYPES,
        "errors": errors, "values": values, "section": "settings",
        "can_edit": can(request.user, "settings.change"),
    }, status=422 if errors else 200)


@login_required
@require_POST
def custom_field_edit(request, definition_id: int):
    changes: dict = {"label": request.POST.get("label", ""),
                     "required": request.POST.get("required") == "on"}
    if "choices" in request.POST:
        changes["choices"] = [c for c in request.POST.get("choices", "").split(",") if c.strip()]
    try:
        version = int(request.POST.get("version", ""))
    except ValueError:
        version = -1
    try:
        services.custom_field_update(actor=request.user, definition_id=definition_id,
                                     version=version, changes=changes)
    except PermissionDenied as denied:
        return HttpResponseForbidden(str(denied))
    except NotFound:
        raise Http404("no such field") from None
    except (ValidationFailed, VersionConflict) as error:
        messages.error(request, f"Not saved: {error}")
    else:
        messages.success(request, "Custom field saved.")
    return redirect("custom_fields")


@login_required
@require_POST
def custom_field_remove(request, definition_id: int):
    try:
        services.custom_field_delete(actor=request.user, definition_id=definition_id)
    except NotFound:
        raise Http404("no such field") from None
    except PermissionDenied as denied:
        return HttpResponseForbidden(str(denied))
    messages.success(request, "Custom field removed.")
    return redirect("custom_fields")
