"""Reads for products and orders, scoped through the contact's visibility."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, Max, Min, Sum

from rapport.contacts.selectors import contact_get
from rapport.orders.models import Order, OrderLine


@dataclass
class PurchaseSummary:
    order_count: int = 0
    total_spent: Decimal = Decimal("0")
    first_order_at: object = None
    last_order_at: object = None
    days_between_orders: float | None = None
    favourite_products: list[dict] = field(default_factory=list)
    recent_orders: list[Order] = field(default_factory=list)


def purchase_summary(*, user, contact_id: int, recent: int = 10) -> PurchaseSummary:
    """What this person bought: totals, how often, favourites and the latest orders."""
    contact_get(user=user, contact_id=contact_id)  # permission check
    orders = Order.objects.filter(contact_id=contact_id)
    totals = orders.aggregate(n=Count("id"), spent=Sum("total"), first=Min("ordered_at"),
                              last=Max("ordered_at"))
    summary = PurchaseSummary(
        order_count=totals["n"] or 0, total_spent=totals["spent"] or Decimal("0"),
        first_order_at=totals["first"], last_order_at=totals["last"],
    )
    if summary.order_count > 1:
        span = (summary.last_order_at - summary.first_order_at).total_seconds() / 86400
        summary.days_between_orders = round(span / (summary.order_count - 1), 1)
    summary.favourite_products = list(
        OrderLine.objects.filter(order__contact_id=contact_id)
        .values("product_id", "product__name")
        .annotate(quantity=Sum("quantity"), times=Count("order_id", distinct=True))
        .order_by("-times", "-quantity", "product__name")[:5]
    )
    summary.recent_orders = list(
        orders.order_by("-ordered_at", "-id").prefetch_related("lines__product")[:recent]
    )
    return summary
