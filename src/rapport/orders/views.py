"""Pages for the catalogue and orders: parse the request, call a service or selector, render."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from rapport.core.errors import PermissionDenied, ValidationFailed
from rapport.core.pages import done, list_page, posted_version, submit
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

# --- products ----------------------------------------------------------------------------------

@login_required
def product_list(request):
    listing = list_page(request, selectors.product_list, ("q", "category", "cursor"))
    return render(request, "orders/product_list.html", {
        **listing.context(), "categories": selectors.product_categories(),
        "can_edit": selectors.can_edit_catalogue(request.user), "section": "orders",
    })


def _product_form_context(values, outcome, **extra):
    return {"values": values, "errors": outcome.errors, "conflict": outcome.conflict,
            "categories": selectors.product_categories(), "section": "orders", **extra}


def _require_catalogue(request):
    if not selectors.can_edit_catalogue(request.user):
        raise PermissionDenied("only owner and manager roles may change the catalogue")


@login_required
def product_create(request):
    _require_catalogue(request)
    outcome, values = submit(lambda: None), product_form_values()
    if request.method == "POST":
        outcome = submit(lambda: services.product_create(
            actor=request.user, data=product_data_from_post(request.POST)))
        if outcome.ok:
            return done(request, f"{outcome.result.name} added.", "product_list")
        values = product_form_values(post=request.POST)
    return render(request, "orders/product_form.html",
                  _product_form_context(values, outcome, title="New product"),
                  status=outcome.status)


@login_required
def product_edit(request, product_id: int):
    product = selectors.product_get(user=request.user, product_id=product_id)
    _require_catalogue(request)
    outcome, values = submit(lambda: None), product_form_values(product)
    if request.method == "POST":
        outcome = submit(lambda: services.product_update(
            actor=request.user, product_id=product_id, version=posted_version(request),
            changes=product_data_from_post(request.POST)))
        if outcome.ok:
            return done(request, "Saved.", "product_list")
        values = product_form_values(post=request.POST)
    return render(request, "orders/product_form.html",
                  _product_form_context(values, outcome, product=product,
                                        title=f"Edit {product.name}"),
                  status=outcome.status)


@login_required
@require_POST
def product_remove(request, product_id: int):
    services.product_delete(actor=request.user, product_id=product_id)
    return done(request, "Product deleted. Past orders still show it.", "product_list")


# --- orders ------------------------------------------------------------------------------------

@login_required
def order_list(request):
    listing = list_page(request, selectors.order_list, ("contact", "cursor"),
                        rename={"contact": "contact_id"})
    contact = listing.page.filters.get("contact")
    return render(request, "orders/order_list.html", {
        **listing.context(), "contact": contact,
        "can_add_orders": contact is not None and selectors.can_add_orders(request.user,
                                                                           contact),
        "section": "orders",
    })


@login_required
def order_detail(request, order_id: int):
    return render(request, "orders/order_detail.html", {
        "order": selectors.order_get(user=request.user, order_id=order_id),
        "section": "orders"})


@login_required
def order_create(request, contact_id: int):
    contact = selectors.contact_for_orders(user=request.user, contact_id=contact_id)
    errors: dict = {}
    extra_rows = 0
    if request.method == "POST":
        rows = order_rows_from_post(request.POST)
        if "more_lines" in request.POST:
            extra_rows = 5
        else:
            lines, row_of_line = order_lines_from_rows(rows)
            try:
                order = services.order_create(actor=request.user, data={
                    "contact_id": contact_id, "lines": lines,
                    "ordered_at": request.POST.get("ordered_at", ""),
                    "channel": request.POST.get("channel", ""),
                    "external_ref": request.POST.get("external_ref", "")})
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
