"""Writes for products and orders.

Every write validates everything first (all field errors together), changes the database in
one transaction, and records an event. An order's event carries the customer's ``contact_id``
and happens at the order's date, so it sits in the right place on their timeline.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, NamedTuple

from django.db import IntegrityError, transaction
from django.utils import timezone

from rapport.contacts.selectors import owner_ids
from rapport.core.bulk import insert_rows
from rapport.core.errors import PermissionDenied, ValidationFailed, VersionConflict
from rapport.core.events import NewEvent, diff, record_events
from rapport.core.inputs import parse
from rapport.core.permissions import can, get_for, require
from rapport.orders import events
from rapport.orders.inputs import (
    CENT,
    MAX_TOTAL,
    BulkOrder,
    OrderInput,
    OrdersBulkInput,
    ProductChanges,
    ProductInput,
)
from rapport.orders.models import Order, OrderLine, Product
from rapport.orders.selectors import catalogue_for, contact_for_orders, sku_taken

# --- products ----------------------------------------------------------------------------------

def _require_catalogue(actor) -> None:
    require(actor, "products.change",
            message="only owner and manager roles may change the product catalogue")


def product_snapshot(product: Product) -> dict[str, Any]:
    return {"name": product.name, "sku": product.sku, "category": product.category,
            "price": str(product.price), "version": product.version}


def _product_for_update(actor, product_id: int) -> Product:
    return get_for(actor, "change", Product.objects.filter(deleted_at__isnull=True), product_id,
                   noun="product")


@transaction.atomic
def product_create(*, actor, data: ProductInput | Mapping[str, Any]) -> Product:
    _require_catalogue(actor)
    fields = parse(ProductInput, data, context={}).model_dump()
    product = Product(**fields)
    try:
        with transaction.atomic():
            product.save()
    except IntegrityError:  # someone took the SKU between the check and the insert
        raise ValidationFailed({"sku": f"SKU {fields['sku']} is already taken"}) from None
    record_events([events.product_created(product_id=product.id, actor_id=actor.id,
                                          snapshot=product_snapshot(product))])
    return product


@transaction.atomic
def product_update(*, actor, product_id: int, version: int | None,
                   changes: ProductChanges | Mapping[str, Any]) -> Product:
    """Change some fields. ``version`` is the one the caller read; a stale one raises 409."""
    _require_catalogue(actor)
    product = _product_for_update(actor, product_id)
    before = product_snapshot(product)
    if version is None:
        raise ValidationFailed({"version": "is required (the version you last read)"})
    if version != product.version:
        raise VersionConflict(current=before, current_version=product.version,
                              given_version=version)
    fields = {name: value for name, value in
              parse(ProductChanges, changes).model_dump(exclude_unset=True).items()
              if name in ProductInput.model_fields}
    errors = {name: "is required" for name, value in fields.items() if value is None}
    if fields.get("sku") and fields["sku"].lower() != product.sku.lower():
        taken = sku_taken(fields["sku"], other_than=product.id)
        if taken:
            errors["sku"] = taken
    if errors:
        raise ValidationFailed(errors)
    for name, value in fields.items():
        setattr(product, name, value)
    changed_before, changed_after = diff(
        {k: v for k, v in before.items() if k != "version"},
        {k: v for k, v in product_snapshot(product).items() if k != "version"},
    )
    if not changed_after:
        return product
    product.version += 1
    try:
        with transaction.atomic():
            product.save()
    except IntegrityError:
        raise ValidationFailed({"sku": f"SKU {product.sku} is already taken"}) from None
    record_events([events.product_updated(product_id=product.id, actor_id=actor.id,
                                          before=changed_before, after=changed_after)])
    return product


@transaction.atomic
def product_delete(*, actor, product_id: int) -> None:
    """Soft delete: gone from the catalogue, still named on the orders that include it."""
    _require_catalogue(actor)
    product = _product_for_update(actor, product_id)
    product.deleted_at = timezone.now()
    product.version += 1
    product.save(update_fields=["deleted_at", "version", "updated_at"])
    record_events([events.product_deleted(product_id=product.id, actor_id=actor.id,
                                          snapshot=product_snapshot(product))])


# --- orders ------------------------------------------------------------------------------------

class ProductRef(NamedTuple):
    """What an order's event says about a product (the bulk path reads no more of it)."""

    id: int
    name: str
    sku: str


class LineDraft(NamedTuple):
    """A checked order line (a tuple: the bulk path makes them by the hundred thousand)."""

    product: Product | ProductRef
    quantity: int
    unit_price: Decimal

    @property
    def total(self) -> Decimal:
        return self.quantity * self.unit_price


def order_total(lines: Iterable[LineDraft]) -> Decimal:
    return sum((line.total for line in lines), Decimal("0")).quantize(CENT)


def order_event(order: Order, lines: list[LineDraft], *, actor_id: int | None) -> NewEvent:
    return events.order_placed(order_id=order.id, contact_id=order.contact_id,
                               ordered_at=order.ordered_at, total=order.total,
                               channel=order.channel, external_ref=order.external_ref,
                               lines=lines, actor_id=actor_id)


def products_by_keys(*, ids: Iterable[int] = (), skus: Iterable[str] = ()) -> tuple[dict, dict]:
    """Catalogue products (not deleted) by id and by lower-cased SKU, in two queries at most."""
    catalogue = catalogue_for(ids=ids, skus=skus)
    return catalogue.by_id, catalogue.by_sku


@transaction.atomic
def order_create(*, actor, data: OrderInput | Mapping[str, Any]) -> Order:
    """Record an order with its lines; the total is computed here, never taken from input.

    Each line names its product by ``product_id`` or ``sku``; ``unit_price`` defaults to the
    product's current price; a negative ``quantity`` is a return. Every field's problem is
    reported at once, lines as ``lines.<n>.<field>``.
    """
    if isinstance(data, OrderInput) and data.catalogue is None:
        data = data.model_dump()
    order_input = parse(OrderInput, data, context={})
    catalogue = order_input.catalogue
    assert catalogue is not None  # validated with a context, so the lines were checked
    contact = contact_for_orders(user=actor, contact_id=order_input.contact_id)
    errors: dict[str, str] = {}
    ref = order_input.external_ref
    if ref:
        existing = Order.objects.filter(external_ref=ref).values_list("id", flat=True).first()
        if existing is not None:
            errors["external_ref"] = f"order {existing} already has this reference"
    drafts = [LineDraft(product=product, quantity=line.quantity,
                        unit_price=product.price if line.unit_price is None
                        else line.unit_price)
              for line in order_input.lines
              for product in [catalogue.product(line.product_id, line.sku)]]
    total = order_total(drafts)
    if abs(total) > MAX_TOTAL:
        errors["lines"] = f"the total {total} is too large"
    if errors:
        raise ValidationFailed(errors)
    order = Order(contact=contact, ordered_at=order_input.ordered_at,
                  channel=order_input.channel, external_ref=ref, total=total)
    try:
        with transaction.atomic():
            order.save()
    except IntegrityError:  # a concurrent request or import saved the same reference
        raise ValidationFailed({"external_ref": "an order already has this reference"}) from None
    OrderLine.objects.bulk_create([
        OrderLine(order=order, product_id=d.product.id, quantity=d.quantity,
                  unit_price=d.unit_price)
        for d in drafts
    ])
    record_events([order_event(order, drafts, actor_id=actor.id)])
    return order


@dataclass
class BulkResult:
    """What ``orders_bulk_create`` did: new order ids by reference, lines written, and the
    references skipped because an order already has them."""

    created: dict[str, int] = field(default_factory=dict)
    lines: int = 0
    skipped: list[str] = field(default_factory=list)


def _bulk_checks(actor, orders: list[BulkOrder]) -> dict[int, ProductRef]:
    """What a typed input cannot know: the customers and products exist, the actor may add
    orders for every customer, references are unique in the call. One query for customers
    and one for products, however many orders."""
    errors: dict[str, str] = {}
    owners = owner_ids(contact_ids={order.contact_id for order in orders})
    allowed = {contact_id for contact_id, owner_id in owners.items()
               if actor is None or can(actor, "orders.add", owner_id=owner_id)}
    products = {row[0]: ProductRef(*row) for row in Product.objects.filter(
        id__in={line.product_id for order in orders for line in order.lines},
        deleted_at__isnull=True).values_list("id", "name", "sku")}
    first_of: dict[str, int] = {}
    for i, order in enumerate(orders):
        if order.contact_id not in owners:
            errors[f"orders.{i}.contact_id"] = f"no contact with id {order.contact_id}"
        elif order.contact_id not in allowed:
            raise PermissionDenied(f"you may not add orders for contact {order.contact_id}")
        if first_of.setdefault(order.external_ref, i) != i:
            errors[f"orders.{i}.external_ref"] = (f"repeats orders.{first_of[order.external_ref]}"
                                                  ".external_ref")
        for j, line in enumerate(order.lines):
            if line.product_id not in products:
                errors[f"orders.{i}.lines.{j}.product_id"] = f"no product with id {line.product_id}"
    if errors:
        raise ValidationFailed(errors)
    return products


@transaction.atomic
def orders_bulk_create(*, actor, data: OrdersBulkInput | Mapping[str, Any]) -> BulkResult:
    """Write many checked orders with plain multi-row inserts and their events in one go.

    The bulk path of the CSV import and the demo. ``data`` is typed (an ``OrdersBulkInput``
    is taken as it is; a mapping is validated), so nothing is checked twice here: only what
    needs the database (see ``_bulk_checks``). An order whose ``external_ref`` is already in
    the database is skipped, not an error, so a re-run or a resumed import adds only what is
    missing; two imports racing on one reference cannot both write it (the unique column
    decides, ``ON CONFLICT DO NOTHING``). ``actor`` None is the system (the demo); the
    ``order.placed`` events then name no actor unless the order says so.
    """
    orders = parse(OrdersBulkInput, data).orders
    result = BulkResult()
    if not orders:
        return result
    products = _bulk_checks(actor, orders)
    now = timezone.now()
    drafts = []
    errors = {}
    for i, order in enumerate(orders):
        lines = [LineDraft(products[product_id], quantity, unit_price)
                 for product_id, quantity, unit_price in order.lines]
        total = order_total(lines)
        if abs(total) > MAX_TOTAL:
            errors[f"orders.{i}.lines"] = f"the total {total} is too large"
        drafts.append((order, lines, total))
    if errors:
        raise ValidationFailed(errors)
    inserted = insert_rows(
        Order, ("contact_id", "ordered_at", "channel", "external_ref", "total", "created_at"),
        ((order.contact_id, order.ordered_at, order.channel, order.external_ref, total,
          order.recorded_at or now) for order, _, total in drafts),
        skip_conflicts_on="external_ref", returning=("id", "external_ref"))
    result.created = {ref: order_id for order_id, ref in inserted}
    written = []
    for order, lines, total in drafts:
        order_id = result.created.get(order.external_ref)
        if order_id is None:
            result.skipped.append(order.external_ref)
        else:
            written.append((order_id, order, lines, total))
    insert_rows(OrderLine, ("order_id", "product_id", "quantity", "unit_price"),
                ((order_id, line.product.id, line.quantity, line.unit_price)
                 for order_id, _, lines, _ in written for line in lines))
    result.lines = sum(len(lines) for _, _, lines, _ in written)
    actor_id = actor.id if actor is not None else None
    record_events(events.order_placed(
        order_id=order_id, contact_id=order.contact_id, ordered_at=order.ordered_at,
        total=total, channel=order.channel, external_ref=order.external_ref, lines=lines,
        actor_id=actor_id) for order_id, order, lines, total in written)
    return result
