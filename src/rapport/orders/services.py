"""Writes for products and orders.

Every write validates everything first (all field errors together), changes the database in
one transaction, and records an event. An order's event carries the customer's ``contact_id``
and happens at the order's date, so it sits in the right place on their timeline.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, NamedTuple

from django.db import IntegrityError, transaction
from django.db.models.functions import Lower
from django.utils import timezone

from rapport.contacts.selectors import owner_ids
from rapport.core.bulk import insert_rows
from rapport.core.errors import NotFound, PermissionDenied, ValidationFailed, VersionConflict
from rapport.core.events import NewEvent, diff, record_events
from rapport.core.inputs import parse
from rapport.core.permissions import can, require
from rapport.orders import events
from rapport.orders.inputs import MAX_LINES, MAX_PRICE, MAX_QUANTITY, BulkOrder, OrdersBulkInput
from rapport.orders.models import CHANNELS, Order, OrderLine, Product
from rapport.orders.selectors import contact_for_orders

PRODUCT_TEXT_FIELDS = {"name": 200, "sku": 64, "category": 100}
PRODUCT_FIELDS = ("name", "sku", "category", "price")
MAX_TOTAL = Decimal("999999999999.99")  # Order.total: 14 digits, 2 dp
REF_LENGTH = 64
CENT = Decimal("0.01")


# --- values shared by products, orders and the CSV import ------------------------------------

def parse_money(value: Any) -> Decimal:
    """A non-negative amount with at most two decimal places; raises ValueError saying why."""
    if isinstance(value, bool) or value is None:
        raise ValueError("must be an amount like 3.50")
    text = str(value).strip()
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"{text[:40]!r} is not an amount like 3.50") from None
    if not amount.is_finite():
        raise ValueError("must be a finite amount")
    if amount < 0:
        raise ValueError("must not be negative")
    if amount != amount.quantize(CENT, rounding="ROUND_DOWN"):
        raise ValueError("at most two decimal places")
    if amount > MAX_PRICE:
        raise ValueError(f"must be at most {MAX_PRICE}")
    return amount.quantize(CENT)


def parse_quantity(value: Any) -> int:
    """A whole, non-zero number of items; negative means items returned."""
    if isinstance(value, bool) or value is None:
        raise ValueError("must be a whole number")
    if isinstance(value, int):
        quantity = value
    else:
        text = str(value).strip()
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise ValueError(f"{text[:40]!r} is not a whole number") from None
        if not number.is_finite() or number != number.to_integral_value():
            raise ValueError(f"{text[:40]!r} is not a whole number")
        quantity = int(number)
    if quantity == 0:
        raise ValueError("must not be 0 (use a negative number for a return)")
    if abs(quantity) > MAX_QUANTITY:
        raise ValueError(f"must be between -{MAX_QUANTITY} and {MAX_QUANTITY}")
    return quantity


def parse_ordered_at(value: Any) -> dt.datetime:
    """When the order was placed: a datetime, a date, or ISO text; naive means local time."""
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, dt.date):
        moment = dt.datetime.combine(value, dt.time())
    elif isinstance(value, str) and value.strip():
        text = value.strip()
        if len(text) >= 10 and text[4] == "/" and text[7] == "/":
            text = text.replace("/", "-", 2)  # 2024/03/01 is as unambiguous as 2024-03-01
        try:
            moment = dt.datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(f"{value.strip()[:40]!r} is not a date; use YYYY-MM-DD "
                             "or YYYY-MM-DD HH:MM") from None
    else:
        raise ValueError("is required (YYYY-MM-DD or YYYY-MM-DD HH:MM)")
    if moment.year < 1900:
        raise ValueError("is before 1900")
    if moment.year > timezone.now().year + 1:
        raise ValueError("is in the future")
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    if moment > timezone.now() + dt.timedelta(days=1):
        raise ValueError("is in the future")
    return moment


def clean_channel(value: Any) -> str:
    text = str(value or "").strip().lower().replace("-", "_").replace(" ", "_")
    if not text:
        return "in_store"
    if text not in CHANNELS:
        raise ValueError(f"{str(value)[:40]!r} is not one of {', '.join(CHANNELS)}")
    return text


def clean_external_ref(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    if len(text) > REF_LENGTH:
        raise ValueError(f"must be at most {REF_LENGTH} characters (got {len(text)})")
    return text or None


# --- products ----------------------------------------------------------------------------------

def _require_catalogue(actor) -> None:
    require(actor, "products.change",
            message="only owner and manager roles may change the product catalogue")


def clean_product(data: dict[str, Any], *, current: Product | None = None) -> dict[str, Any]:
    """Validate product fields; raise ValidationFailed naming every bad field."""
    errors: dict[str, str] = {}
    for name in sorted(set(data) - set(PRODUCT_FIELDS)):
        errors[name] = "unknown field"
    cleaned: dict[str, Any] = {}
    for name, limit in PRODUCT_TEXT_FIELDS.items():
        if name not in data:
            continue
        value = data[name] if data[name] is not None else ""
        if not isinstance(value, str):
            errors[name] = "must be text"
            continue
        value = value.strip()
        if len(value) > limit:
            errors[name] = f"must be at most {limit} characters (got {len(value)})"
            continue
        cleaned[name] = value
    if "price" in data:
        try:
            cleaned["price"] = parse_money(data["price"])
        except ValueError as error:
            errors["price"] = str(error)
    elif current is None:
        errors["price"] = "is required"
    if not cleaned.get("name", current.name if current else "") and "name" not in errors:
        errors["name"] = "a product needs a name"
    sku = cleaned.get("sku", current.sku if current else "")
    if "sku" not in errors:
        if not sku:
            errors["sku"] = "a product needs a SKU"
        elif any(ch.isspace() for ch in sku):
            errors["sku"] = "must not contain spaces"
        elif "sku" in cleaned:
            clash = (Product.objects.annotate(sku_lower=Lower("sku"))
                     .filter(sku_lower=sku.lower()).exclude(id=current.id if current else None)
                     .first())
            if clash is not None:
                where = " (deleted; restore or rename it)" if clash.deleted_at else ""
                errors["sku"] = f"{clash.name} already has SKU {clash.sku}{where}"
    if errors:
        raise ValidationFailed(errors)
    return cleaned


def product_snapshot(product: Product) -> dict[str, Any]:
    return {"name": product.name, "sku": product.sku, "category": product.category,
            "price": str(product.price), "version": product.version}


def _product_for_update(product_id: int) -> Product:
    try:
        return Product.objects.select_for_update().get(id=product_id, deleted_at__isnull=True)
    except Product.DoesNotExist:
        raise NotFound(f"no product with id {product_id}") from None


@transaction.atomic
def product_create(*, actor, data: dict[str, Any]) -> Product:
    _require_catalogue(actor)
    cleaned = clean_product(data)
    product = Product(**cleaned)
    try:
        with transaction.atomic():
            product.save()
    except IntegrityError:  # someone took the SKU between the check and the insert
        raise ValidationFailed({"sku": f"SKU {cleaned['sku']} is already taken"}) from None
    record_events([events.product_created(product_id=product.id, actor_id=actor.id,
                                          snapshot=product_snapshot(product))])
    return product


@transaction.atomic
def product_update(*, actor, product_id: int, version: int | None,
                   changes: dict[str, Any]) -> Product:
    """Change some fields. ``version`` is the one the caller read; a stale one raises 409."""
    _require_catalogue(actor)
    product = _product_for_update(product_id)
    before = product_snapshot(product)
    if version is None:
        raise ValidationFailed({"version": "is required (the version you last read)"})
    if version != product.version:
        raise VersionConflict(current=before, current_version=product.version,
                              given_version=version)
    cleaned = clean_product(changes, current=product)
    for name, value in cleaned.items():
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
    product = _product_for_update(product_id)
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
    ids, skus = set(ids), {s.lower() for s in skus}
    by_id = ({p.id: p for p in Product.objects.filter(id__in=ids, deleted_at__isnull=True)}
             if ids else {})
    by_sku = ({p.sku.lower(): p for p in Product.objects.annotate(sku_lower=Lower("sku"))
               .filter(sku_lower__in=skus, deleted_at__isnull=True)} if skus else {})
    return by_id, by_sku


def _clean_lines(lines: Any, errors: dict[str, str]) -> list[LineDraft]:
    if not isinstance(lines, list | tuple) or not lines:
        errors["lines"] = "an order needs at least one line"
        return []
    if len(lines) > MAX_LINES:
        errors["lines"] = f"at most {MAX_LINES} lines in one order (got {len(lines)})"
        return []
    ids, skus = [], []
    for line in lines:
        if isinstance(line, Mapping):
            if isinstance(line.get("product_id"), int) and not isinstance(line["product_id"],
                                                                          bool):
                ids.append(line["product_id"])
            if isinstance(line.get("sku"), str) and line["sku"].strip():
                skus.append(line["sku"].strip())
    by_id, by_sku = products_by_keys(ids=ids, skus=skus)
    drafts: list[LineDraft] = []
    for i, line in enumerate(lines):
        name = f"lines.{i}"
        if not isinstance(line, Mapping):
            errors[name] = "must be an object with product_id or sku, quantity and unit_price"
            continue
        for key in sorted(set(line) - {"product_id", "sku", "quantity", "unit_price"}):
            errors[f"{name}.{key}"] = "unknown field"
        product = None
        product_id, sku = line.get("product_id"), (line.get("sku") or "")
        sku = sku.strip() if isinstance(sku, str) else sku
        if product_id is None and not sku:
            errors[f"{name}.sku"] = "choose a product (product_id or sku)"
        elif product_id is not None:
            product = by_id.get(product_id) if isinstance(product_id, int) else None
            if product is None:
                errors[f"{name}.product_id"] = f"no product with id {product_id}"
            elif sku and sku.lower() != product.sku.lower():
                errors[f"{name}.sku"] = f"does not match product {product_id} ({product.sku})"
        else:
            product = by_sku.get(sku.lower()) if isinstance(sku, str) else None
            if product is None:
                errors[f"{name}.sku"] = f"no product with SKU {str(sku)[:64]!r}"
        try:
            quantity = parse_quantity(line.get("quantity"))
        except ValueError as error:
            errors[f"{name}.quantity"] = str(error)
            quantity = None
        unit_price = None
        if line.get("unit_price") not in (None, ""):
            try:
                unit_price = parse_money(line["unit_price"])
            except ValueError as error:
                errors[f"{name}.unit_price"] = str(error)
                continue
        if product is not None and quantity is not None:
            drafts.append(LineDraft(product=product, quantity=quantity,
                                    unit_price=product.price if unit_price is None
                                    else unit_price))
    return drafts


@transaction.atomic
def order_create(*, actor, contact_id: int, ordered_at: Any, lines: list[dict[str, Any]],
                 channel: str = "in_store", external_ref: str | None = None) -> Order:
    """Record an order with its lines; the total is computed here, never taken from input.

    Each line names its product by ``product_id`` or ``sku``; ``unit_price`` defaults to the
    product's current price; a negative ``quantity`` is a return.
    """
    contact = contact_for_orders(user=actor, contact_id=contact_id)
    errors: dict[str, str] = {}
    try:
        moment = parse_ordered_at(ordered_at)
    except ValueError as error:
        errors["ordered_at"] = str(error)
    try:
        channel = clean_channel(channel)
    except ValueError as error:
        errors["channel"] = str(error)
    try:
        ref = clean_external_ref(external_ref)
    except ValueError as error:
        errors["external_ref"] = str(error)
        ref = None
    if ref and "external_ref" not in errors:
        existing = Order.objects.filter(external_ref=ref).values_list("id", flat=True).first()
        if existing is not None:
            errors["external_ref"] = f"order {existing} already has this reference"
    drafts = _clean_lines(lines, errors)
    total = order_total(drafts)
    if abs(total) > MAX_TOTAL and "lines" not in errors:
        errors["lines"] = f"the total {total} is too large"
    if errors:
        raise ValidationFailed(errors)
    order = Order(contact=contact, ordered_at=moment, channel=channel, external_ref=ref,
                  total=total)
    try:
        with transaction.atomic():
            order.save()
    except IntegrityError:  # a concurrent request or import saved the same reference
        raise ValidationFailed({"external_ref": "an order already has this reference"}) from None
    OrderLine.objects.bulk_create([
        OrderLine(order=order, product=d.product, quantity=d.quantity, unit_price=d.unit_price)
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
