"""Pages for the catalogue and orders: parse the request, call a service or selector, render."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponseForbidden
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from rapport.core.errors import NotFound, PermissionDenied, ValidationFailed, VersionConflict
from rapport.orders import selectors, services
from rapport.orders.forms import (
    errors_by_row,
    order_form_rows,
    order_form_values,
    order_lines_from_rows,
    order_rows_from_post,
    product_data_from_post,
    product_form_values,
)
from rapport.orders.models import CHANNELS


def _next_url(params: dict, cursor: str | None) -> str:
    base = {k: v for k, v in params.items() if v and k != "cursor"}
    return f"?{urlencode({**base, 'cursor': cursor})}" if cursor else ""


# --- products ----------------------------------------------------------------------------------

@login_required
def product_list(request):
    params = {k: request.GET.get(k, "") for k in ("q", "category", "cursor")}
    try:
        page = selectors.product_list(user=request.user, params=params)
        errors = {}
    except ValidationFailed as failure:
        page, errors = selectors.Page(items=[], next_cursor=None), failure.errors
    return render(request, "orders/product_list.html", {
        "page": page, "params": params, "errors": errors,
        "next_url": _next_url(params, page.next_cursor),
        "categories": selectors.product_categories(),
        "can_edit": selectors.can_edit_catalogue(request.user), "section": "orders",
    })


def _product_form_context(values, errors, **extra):
    return {"values": values, "errors": errors, "categories": selectors.product_categories(),
            "section": "orders", **extra}


@login_required
def product_create(request):
    if not selectors.can_edit_catalogue(request.user):
        return HttpResponseForbidden("only owner and manager roles may change the catalogue")
    errors: dict = {}
    if request.method == "POST":
        try:
            product = services.product_create(actor=request.user,
                                              data=product_data_from_post(request.POST))
        except ValidationFailed as failure:
            errors = failure.errors
        else:
            messages.success(request, f"{product.name} added.")
            return redirect("product_list")
        values = product_form_values(post=request.POST)
    else:
        values = product_form_values()
    return render(request, "orders/product_form.html",
                  _product_form_context(values, errors, title="New product"),
                  status=422 if errors else 200)


@login_required
def product_edit(request, product_id: int):
    try:
        product = selectors.product_get(user=request.user, product_id=product_id)
    except NotFound:
        raise Http404("no such product") from None
    if not selectors.can_edit_catalogue(request.user):
        return HttpResponseForbidden("only owner and manager roles may change the catalogue")
    errors: dict = {}
    conflict = None
    if request.method == "POST":
        try:
            version = int(request.POST.get("version", ""))
        except ValueError:
            version = None
        try:
            services.product_update(actor=request.user, product_id=product_id,
                                    version=version,
                                    changes=product_data_from_post(request.POST))
        except ValidationFailed as failure:
            errors = failure.errors
        except VersionConflict as clash:
            conflict = clash
        else:
            messages.success(request, "Saved.")
            return redirect("product_list")
        values = product_form_values(post=request.POST)
    else:
        values = product_form_values(product)
    status = 409 if conflict else (422 if errors else 200)
    return render(request, "orders/product_form.html",
                  _product_form_context(values, errors, product=product, conflict=conflict,
                                        title=f"Edit {product.name}"),
                  status=status)


@login_required
@require_POST
def product_remove(request, product_id: int):
    try:
        services.product_delete(actor=request.user, product_id=product_id)
    except NotFound:
        raise Http404("no such product") from None
    except PermissionDenied as denied:
        return HttpResponseForbidden(str(denied))
    messages.success(request, "Product deleted. Past orders still show it.")
    return redirect("product_list")


# --- orders ------------------------------------------------------------------------------------

@login_required
def order_list(request):
    params = {"contact_id": request.GET.get("contact", ""),
              "cursor": request.GET.get("cursor", "")}
    try:
        page = selectors.order_list(user=request.user, params=params)
        errors = {}
    except NotFound:
        raise Http404("no such contact") from None
    except ValidationFailed as failure:
        page, errors = selectors.Page(items=[], next_cursor=None), failure.errors
    contact = page.filters.get("contact")
    return render(request, "orders/order_list.html", {
        "page": page, "params": params, "errors": errors, "contact": contact,
        "can_add_orders": contact is not None and selectors.can_add_orders(request.user,
                                                                           contact),
        "next_url": _next_url({"contact": params["contact_id"]}, page.next_cursor),
        "section": "orders",
    })


@login_required
def order_detail(request, order_id: int):
    try:
        order = selectors.order_get(user=request.user, order_id=order_id)
    except NotFound:
        raise Http404("no such order") from None
    return render(request, "orders/order_detail.html", {"order": order, "section": "orders"})


@login_required
def order_create(request, contact_id: int):
    try:
        contact = selectors.contact_for_orders(user=request.user, contact_id=contact_id)
    except NotFound:
        raise Http404("no such contact") from None
    except PermissionDenied as denied:
        return HttpResponseForbidden(str(denied))
    errors: dict = {}
    extra_rows = 0
    if request.method == "POST":
        rows = order_rows_from_post(request.POST)
        if "more_lines" in request.POST:
            extra_rows = 5
        else:
            lines, row_of_line = order_lines_from_rows(rows)
            try:
                order = services.order_create(
                    actor=request.user, contact_id=contact_id, lines=lines,
                    ordered_at=request.POST.get("ordered_at", ""),
                    channel=request.POST.get("channel", ""),
                    external_ref=request.POST.get("external_ref", ""))
            except ValidationFailed as failure:
                errors = errors_by_row(failure.errors, row_of_line)
            else:
                messages.success(request, f"Order of {order.total} added.")
                return redirect("contact_detail", contact_id=contact_id)
        values = order_form_values(post=request.POST)
    else:
        rows, values = [], order_form_values()
    return render(request, "orders/order_form.html", {
        "contact": contact, "values": values, "errors": errors,
        "rows": order_form_rows(rows, extra=extra_rows), "channels": CHANNELS,
        "products": selectors.product_choices(), "section": "orders",
    }, status=422 if errors else 200)
