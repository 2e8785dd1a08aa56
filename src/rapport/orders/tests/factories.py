"""Test data for orders: products straight into the catalogue, contacts and orders through
their services (so search text, events and totals are what the app itself writes)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import factory
from django.utils import timezone

from rapport.contacts import services as contact_services
from rapport.orders import services
from rapport.orders.models import Product


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    name = factory.Sequence(lambda n: f"Loaf {n}")
    sku = factory.Sequence(lambda n: f"SKU-{n:04d}")
    category = "bread"
    price = Decimal("4.00")


def make_contact(actor, *, first_name="Anna", email=None, owner=None, **data):
    data = {"first_name": first_name, "emails": [email] if email else [], **data}
    if owner is not None:
        data["owner_id"] = owner.id
    return contact_services.contact_create(actor=actor, data=data)


def make_order(actor, contact, *lines, days_ago: float = 0, **kwargs):
    """``lines`` are (product, quantity) or (product, quantity, unit_price)."""
    return services.order_create(actor=actor, data={
        "contact_id": contact.id,
        "ordered_at": kwargs.pop("ordered_at", timezone.now() - dt.timedelta(days=days_ago)),
        "lines": [{"product_id": line[0].id, "quantity": line[1],
                   **({"unit_price": line[2]} if len(line) > 2 else {})} for line in lines],
        **kwargs,
    })
