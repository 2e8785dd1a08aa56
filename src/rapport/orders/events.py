"""The events orders records: one kind constant and one builder per kind.

An order's event carries the customer's ``contact_id`` and happens at the order's date, so it
sits in the right place on their timeline.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any, Protocol

from rapport.core.events import EventKind, NewEvent

PRODUCT_CREATED = EventKind("product.created", "Product added")
PRODUCT_UPDATED = EventKind("product.updated", "Product changed")
PRODUCT_DELETED = EventKind("product.deleted", "Product deleted")
ORDER_PLACED = EventKind("order.placed", "Order", "orders/timeline/order_placed.html")
KINDS = [PRODUCT_CREATED, PRODUCT_UPDATED, PRODUCT_DELETED, ORDER_PLACED]


class Line(Protocol):
    @property
    def product(self) -> Any: ...

    @property
    def quantity(self) -> int: ...

    @property
    def unit_price(self) -> Decimal: ...


def product_created(*, product_id: int, actor_id: int | None,
                    snapshot: dict[str, Any]) -> NewEvent:
    return NewEvent(kind=PRODUCT_CREATED.name, entity_type="product", entity_id=product_id,
                    actor_id=actor_id, after=snapshot)


def product_updated(*, product_id: int, actor_id: int, before: dict[str, Any],
                    after: dict[str, Any]) -> NewEvent:
    return NewEvent(kind=PRODUCT_UPDATED.name, entity_type="product", entity_id=product_id,
                    actor_id=actor_id, before=before, after=after)


def product_deleted(*, product_id: int, actor_id: int, snapshot: dict[str, Any]) -> NewEvent:
    return NewEvent(kind=PRODUCT_DELETED.name, entity_type="product", entity_id=product_id,
                    actor_id=actor_id, before=snapshot)


def order_placed(*, order_id: int, contact_id: int, ordered_at: dt.datetime, total: Decimal,
                 channel: str, external_ref: str | None, lines: Sequence[Line],
                 actor_id: int | None) -> NewEvent:
    """The timeline entry for a placed order (returns have negative quantities)."""
    return NewEvent(
        kind=ORDER_PLACED.name, entity_type="order", entity_id=order_id,
        contact_id=contact_id, actor_id=actor_id, occurred_at=ordered_at,
        after={
            "total": str(total), "channel": channel, "external_ref": external_ref,
            "items": [f"{line.quantity} × {line.product.name}" for line in lines],
            "lines": [{"product_id": line.product.id, "sku": line.product.sku,
                       "quantity": line.quantity, "unit_price": str(line.unit_price)}
                      for line in lines],
        },
    )
