"""Reads for products and orders, scoped through the contact's visibility.

The catalogue is shared: every logged-in user reads every product. An order is visible to
whoever may see its customer (``restrict`` on the contact's owner).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Count, Max, Min, Prefetch, Q, QuerySet, Sum
from django.db.models.functions import Lower, TruncMonth
from django.utils import timezone

from rapport.contacts.selectors import contact_get, joined_contact_deferred
from rapport.core.errors import NotFound, PermissionDenied
from rapport.core.pagination import Page, id_param, keyset, page_limit, page_of
from rapport.core.permissions import can
from rapport.core.validation import has_control_characters, has_lone_surrogates
from rapport.orders.models import Order, OrderLine, Product

# --- products ----------------------------------------------------------------------------------

def can_edit_catalogue(user) -> bool:
    """The catalogue is shared: everyone reads it, owner and manager roles change it."""
    return can(user, "products.change")


def product_list(*, user, params: dict[str, Any] | None = None) -> Page:
    """One page of the catalogue by name, optionally filtered by text or category."""
    params = {k: v for k, v in (params or {}).items() if v not in (None, "")}
    queryset = Product.objects.restrict(user, "view").filter(deleted_at__isnull=True)
    if params.get("q"):
        q = str(params["q"]).strip()[:200]
        queryset = queryset.filter(Q(name__icontains=q) | Q(sku__icontains=q))
    if params.get("category"):
        queryset = queryset.filter(category=params["category"])
    fields = ("name", "id")
    return page_of(keyset(queryset, fields, False, params.get("cursor")), fields,
                 page_limit(params), params)


def product_get(*, user, product_id: int) -> Product:
    product = Product.objects.restrict(user, "view").filter(id=product_id,
                                                            deleted_at__isnull=True).first()
    if product is None:
        raise NotFound(f"no product with id {product_id}")
    return product


@dataclass
class Catalogue:
    """Products (not deleted) by id and by lower-cased SKU: what order lines may name."""

    by_id: dict[int, Product] = field(default_factory=dict)
    by_sku: dict[str, Product] = field(default_factory=dict)

    def product(self, product_id: int | None, sku: str | None) -> Product:
        return self.by_id[product_id] if product_id is not None else self.by_sku[
            (sku or "").lower()]


def catalogue_for(*, ids: Iterable[Any] = (), skus: Iterable[Any] = ()) -> Catalogue:
    """The products these ids and SKUs name, in two queries at most."""
    # Only ids a database can hold: lines are looked up before their shape is checked.
    wanted_ids = {i for i in ids if isinstance(i, int) and not isinstance(i, bool)
                  and 0 < i < 2**63}
    # Only text a database can hold: NUL or a lone surrogate is an error for the shape to name.
    wanted_skus = {s.strip().lower() for s in skus if isinstance(s, str) and s.strip()
                   and not has_control_characters(s) and not has_lone_surrogates(s)}
    live = Product.objects.filter(deleted_at__isnull=True)
    return Catalogue(
        by_id={p.id: p for p in live.filter(id__in=wanted_ids)} if wanted_ids else {},
        by_sku=({p.sku.lower(): p for p in live.annotate(sku_lower=Lower("sku"))
                 .filter(sku_lower__in=wanted_skus)} if wanted_skus else {}),
    )


def sku_taken(sku: str, *, other_than: int | None = None) -> str | None:
    """Why this SKU cannot be used ("RYE-800" and "rye-800" are one product), or None."""
    same = Product.objects.annotate(sku_lower=Lower("sku")).filter(sku_lower=sku.lower())
    if other_than is not None:
        same = same.exclude(id=other_than)
    clash = same.first()
    if clash is None:
        return None
    where = " (deleted; restore or rename it)" if clash.deleted_at else ""
    return f"{clash.name} already has SKU {clash.sku}{where}"


def catalogue_for_lines(lines: Any) -> Catalogue:
    """The products that order lines as typed (dicts, or anything) may name."""
    lines = lines if isinstance(lines, list | tuple) else []
    rows = [line if isinstance(line, Mapping) else {} for line in lines]
    return catalogue_for(ids=[row.get("product_id") for row in rows],
                         skus=[row.get("sku") for row in rows])


def product_categories() -> list[str]:
    return list(Product.objects.filter(deleted_at__isnull=True).exclude(category="")
                .order_by("category").values_list("category", flat=True).distinct()[:200])


def products_by_sku(*, skus: list[str] | set[str]) -> dict[str, Product]:
    """Products (deleted ones too, so a caller can say so) by lower-cased SKU, in one query."""
    wanted = {sku.lower() for sku in skus}
    if not wanted:
        return {}
    return {product.sku.lower(): product for product in Product.objects
            .annotate(sku_lower=Lower("sku")).filter(sku_lower__in=wanted)}


def product_choices(*, limit: int = 1000) -> list[Product]:
    """Products to pick from in an order form (a small business has hundreds at most)."""
    return list(Product.objects.filter(deleted_at__isnull=True).order_by("name", "id")[:limit])


# --- orders ------------------------------------------------------------------------------------

def can_add_orders(user, contact) -> bool:
    """Orders are part of the customer's record: whoever may change the contact adds them."""
    return can(user, "orders.add", owner_id=contact.owner_id)


def contact_for_orders(*, user, contact_id: int):
    """The contact, if ``user`` may add orders for it: 404 when unseen, 403 when read-only."""
    contact = contact_get(user=user, contact_id=contact_id)
    if not can_add_orders(user, contact):
        raise PermissionDenied("you may not add orders for this contact")
    return contact


def existing_order_refs(*, refs: list[str] | set[str]) -> set[str]:
    """Which of these references orders already have (whoever can see them: a reference is
    unique across the business)."""
    if not refs:
        return set()
    return {ref for ref in Order.objects.filter(external_ref__in=list(refs))
            .values_list("external_ref", flat=True) if ref}


def visible_orders(user) -> QuerySet[Order]:
    return Order.objects.restrict(user, "view").filter(contact__deleted_at__isnull=True)


def _with_lines(queryset: QuerySet[Order]) -> QuerySet[Order]:
    return queryset.select_related("contact").prefetch_related(
        Prefetch("lines", queryset=OrderLine.objects.select_related("product").order_by("id"))
    )


def order_list(*, user, params: dict[str, Any] | None = None) -> Page:
    """Newest orders first, optionally of one contact (404 if that contact is not visible)."""
    params = {k: v for k, v in (params or {}).items() if v not in (None, "")}
    limit = page_limit(params)
    queryset = visible_orders(user)
    contact_id = id_param(params, "contact_id", "a contact id")
    if contact_id is not None:
        params["contact"] = contact_get(user=user, contact_id=contact_id)  # permission check
        queryset = queryset.filter(contact_id=contact_id)
    fields = ("ordered_at", "id")
    queryset = keyset(queryset, fields, True, params.get("cursor"))
    # The list shows the customer's name: their other columns stay in the database.
    page = page_of(queryset.select_related("contact").defer(*joined_contact_deferred()),
                   fields, limit, params)
    _attach_lines(page.items)
    return page


def _attach_lines(orders: list[Order]) -> None:
    """Each order's lines (with their product) as ``line_list``: one query for the page, and
    no related manager or queryset made per order as ``prefetch_related`` does."""
    by_order: dict[int, list[OrderLine]] = {order.id: [] for order in orders}
    if by_order:
        for line in (OrderLine.objects.filter(order_id__in=list(by_order))
                     .select_related("product").order_by("id")):
            by_order[line.order_id].append(line)
    for order in orders:
        order.line_list = by_order[order.id]


def order_get(*, user, order_id: int) -> Order:
    order = _with_lines(visible_orders(user)).filter(id=order_id).first()
    if order is None:
        raise NotFound(f"no order with id {order_id}")
    return order


@dataclass
class PurchaseSummary:
    order_count: int = 0
    total_spent: Decimal = Decimal("0")
    first_order_at: dt.datetime | None = None
    last_order_at: dt.datetime | None = None
    days_between_orders: float | None = None
    favourite_products: list[Any] = field(default_factory=list)
    recent_orders: list[Order] = field(default_factory=list)
    contact_id: int | None = None
    can_add_orders: bool = False


def purchase_summary(*, user, contact_id: int | None = None, contact=None,
                     recent: int = 10) -> PurchaseSummary:
    """What this person bought: totals, how often, favourites and the latest orders.

    Give the ``contact`` when the caller has already loaded it for this user (the contact
    page does); otherwise it is loaded here, which is the permission check.
    """
    if contact is None:
        if contact_id is None:
            raise NotFound("no contact given")
        contact = contact_get(user=user, contact_id=contact_id)
    contact_id = contact.id
    orders = Order.objects.filter(contact_id=contact_id)
    totals = orders.aggregate(n=Count("id"), spent=Sum("total"), first=Min("ordered_at"),
                              last=Max("ordered_at"))
    summary = PurchaseSummary(
        order_count=totals["n"] or 0, total_spent=totals["spent"] or Decimal("0"),
        first_order_at=totals["first"], last_order_at=totals["last"],
        contact_id=contact_id, can_add_orders=can_add_orders(user, contact),
    )
    if summary.order_count > 1 and summary.last_order_at and summary.first_order_at:
        span = (summary.last_order_at - summary.first_order_at).total_seconds() / 86400
        summary.days_between_orders = round(span / (summary.order_count - 1), 1)
    summary.favourite_products = list(
        OrderLine.objects.filter(order__contact_id=contact_id)
        .values("product_id", "product__name")
        # A return does not make a product more of a favourite; it does lower the net count.
        # (``times`` first: once annotated, "quantity" means the sum, not the line's column.)
        .annotate(times=Count("order_id", distinct=True, filter=Q(quantity__gt=0)),
                  quantity=Sum("quantity"))
        .filter(times__gt=0)  # only ever returned: not a favourite
        .order_by("-times", "-quantity", "product__name")[:5]
    )
    summary.recent_orders = list(
        orders.order_by("-ordered_at", "-id").prefetch_related("lines__product")[:recent]
    )
    return summary


# --- revenue by month (for the sales forecast) -------------------------------------------------

def monthly_revenue(*, user, since: dt.date, until: dt.date) -> dict[dt.date, Decimal]:
    """Order revenue per calendar month (its first day) from ``since`` up to, not including,
    ``until``, of the orders ``user`` may see; months without orders are left out."""
    start = timezone.make_aware(dt.datetime.combine(since, dt.time.min))
    end = timezone.make_aware(dt.datetime.combine(until, dt.time.min))
    rows = (visible_orders(user).filter(ordered_at__gte=start, ordered_at__lt=end)
            .annotate(month=TruncMonth("ordered_at")).order_by()
            .values("month").annotate(revenue=Sum("total")).values_list("month", "revenue"))
    out: dict[dt.date, Decimal] = {}
    for month, revenue in rows:
        day = month.date() if isinstance(month, dt.datetime) else month
        out[day] = out.get(day, Decimal("0")) + (revenue or Decimal("0"))
    return out
