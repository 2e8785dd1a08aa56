"""The orders import: how a CSV file of order lines becomes orders (an import adapter).

dataio runs the file through its pipeline (decode, sniff, headers, batches, ledger, report) and
calls this adapter for what only orders knows: the columns, what a good cell is, who the
customer and the products are, when rows make one order, and how to write a batch of orders
(``services.orders_bulk_create``). It is registered in ``rapport_app.py``
(``import_adapters=[ORDERS]``) and implements dataio's ``ImportAdapter`` protocol without
importing dataio: orders comes before dataio in the dependency order.

Rows with the same ``order_ref`` form one order and must agree on date, customer and channel.
Customers are found by email, products by SKU; the import never creates either. The actor
may import an order only for a customer they may add orders to (``orders.add``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from django.db.models import Q

from rapport.contacts.selectors import visible_contacts
from rapport.core.errors import ValidationFailed
from rapport.core.permissions import can
from rapport.core.validation import normalise_email
from rapport.orders import selectors
from rapport.orders.inputs import (
    MAX_LINES,
    MAX_TOTAL,
    REF_LENGTH,
    BulkLine,
    BulkOrder,
    OrdersBulkInput,
    OrdersImportOptions,
    clean_channel,
    parse_money,
    parse_ordered_at,
    parse_quantity,
)
from rapport.orders.services import orders_bulk_create

LOOKUP_CHUNK = 500
SECOND_EMAIL_CHUNK = 50


def money_cell(text: str) -> str:
    """Accept what spreadsheets write: '£3.50', '3,50', '1,234.50', '1.234,50'."""
    text = text.strip().strip("£$€¥").strip()
    if "," in text and "." in text:
        if text.rfind(",") > text.rfind("."):
            text = text.replace(".", "").replace(",", ".")
        else:
            text = text.replace(",", "")
    elif re.fullmatch(r"-?\d+,\d{1,2}", text):
        text = text.replace(",", ".")
    elif re.fullmatch(r"-?\d{1,3}(,\d{3})+(\.\d+)?", text):
        text = text.replace(",", "")
    return text


def _column(rows: Sequence[Any], memo: dict[str, Any], column: str, parse: Any, value: str,
            *, default: str | None = None) -> None:
    """Set ``row.values[value]`` to ``parse(cell)`` for each row, or add the ValueError as
    the column's error. Empty cells are skipped unless there is a ``default`` for them. Each
    distinct text is parsed once per job: files repeat the same dates, customers, quantities
    and prices on many rows."""
    cache = memo.setdefault(column, {})
    for row in rows:
        text = row.cells.get(column) or default
        if text is None:
            continue
        parsed = cache.get(text)
        if parsed is None:
            try:
                parsed = parse(text)
            except ValueError as error:
                parsed = error
            cache[text] = parsed
        if isinstance(parsed, ValueError):
            row.error(column, str(parsed))
        else:
            row.values[value] = parsed


def _quantity(text: str) -> int:
    return parse_quantity(text or None)  # an empty cell "must be a whole number"


def _price(text: str) -> Any:
    return parse_money(money_cell(text))


def _email(text: str) -> str:
    try:
        return normalise_email(text)
    except ValidationFailed as failure:
        raise ValueError(failure.errors["email"][0]) from None


def _chunks(items: list, size: int):
    for start in range(0, len(items), size):
        yield items[start:start + size]


class OrdersImport:
    type = "orders"
    label = "Orders"
    noun = "order"
    permission = "orders.add"
    columns: Mapping[str, Sequence[str]] = {
        "order_ref": ("order_ref", "order_reference", "order_id", "order_number", "order_no",
                      "order", "reference", "ref"),
        "date": ("date", "ordered_at", "order_date"),
        "customer_email": ("customer_email", "email", "customer"),
        "sku": ("sku", "product_sku"),
        "quantity": ("quantity", "qty"),
        "unit_price": ("unit_price", "price"),
        "channel": ("channel",),
    }
    required = ("order_ref", "date", "customer_email", "sku", "quantity")
    examples = {
        "order_ref": "W-1042 (rows with the same order_ref form one order)",
        "date": "2026-03-01 or 2026-03-01 14:30",
        "customer_email": "anna@example.com",
        "sku": "RYE-800",
        "quantity": "2 (-1 for a return)",
        "unit_price": "4.50 (empty: the product's price)",
        "channel": "in_store, online, phone, wholesale, market or other",
    }
    description = ("One order line per row; rows with the same order_ref form one order. "
                   "Customers are found by email and products by SKU: the import never "
                   "creates either.")
    key = "order_ref"
    options = OrdersImportOptions

    def parse(self, rows: Sequence[Any], options: OrdersImportOptions,
              memo: dict[str, Any]) -> None:
        # Column by column, in the file's column order, so each row's errors come in that
        # order too.
        for row in rows:
            ref = row.cells["order_ref"]
            if not ref:
                row.error("order_ref", "is required (rows with the same order_ref form one "
                                       "order)")
            elif len(ref) > REF_LENGTH:
                row.error("order_ref", f"must be at most {REF_LENGTH} characters")
        _column(rows, memo, "date", parse_ordered_at, "ordered_at", default="")
        for row in rows:
            if not row.cells["customer_email"]:
                row.error("customer_email", "is required")
        _column(rows, memo, "customer_email", _email, "email")
        for row in rows:
            if not row.cells["sku"]:
                row.error("sku", "is required")
        _column(rows, memo, "quantity", _quantity, "quantity", default="")
        _column(rows, memo, "unit_price", _price, "unit_price")
        _column(rows, memo, "channel", clean_channel, "channel",
                default=options.default_channel)

    def known(self, keys: Sequence[str]) -> set[str]:
        return selectors.existing_order_refs(refs=set(keys))

    def resolve(self, actor: Any, rows: Sequence[Any], options: OrdersImportOptions,
                memo: dict[str, Any]) -> None:
        self._resolve_contacts(actor, rows, memo.setdefault("contacts", {}))
        self._resolve_products(rows, memo.setdefault("products", {}))

    def _resolve_contacts(self, actor: Any, rows: Sequence[Any],
                          known: dict[str, dict[int, int | None]]) -> None:
        """Match each row's email to one contact the actor may add orders for; never
        invent one. ``known`` keeps what earlier batches found (email -> {contact: owner})."""
        wanted = sorted({row.values["email"] for row in rows if "email" in row.values} - set(known))
        for email in wanted:
            known[email] = {}
        for chunk in _chunks(wanted, LOOKUP_CHUNK):
            for contact_id, email, owner_id in (visible_contacts(actor)
                                                .filter(primary_email__in=chunk)
                                                .values_list("id", "primary_email", "owner_id")):
                known[email][contact_id] = owner_id
        # Second and later addresses live only in the emails list (and the search text).
        unmatched = [email for email in wanted if not known[email]]
        for chunk in _chunks(unmatched, SECOND_EMAIL_CHUNK):
            condition = Q()
            for email in chunk:
                condition |= Q(search_text__contains=email)
            for contact_id, addresses, owner_id in (visible_contacts(actor).filter(condition)
                                                    .values_list("id", "emails", "owner_id")):
                for email in chunk:
                    if email in (addresses or []):
                        known[email][contact_id] = owner_id
        for row in rows:
            email = row.values.get("email")
            if email is None:
                continue
            found = known[email]
            if not found:
                row.error("customer_email", "no contact has this email; add the customer "
                                            "first (the import never creates contacts)")
            elif len(found) > 1:
                row.error("customer_email", f"{len(found)} contacts have this email; merge "
                                            "them first")
            else:
                [(contact_id, owner_id)] = found.items()
                if can(actor, "orders.add", owner_id=owner_id):
                    row.values["contact_id"] = contact_id
                else:
                    row.error("customer_email", "you may not add orders for this contact")

    def _resolve_products(self, rows: Sequence[Any], known: dict[str, Any]) -> None:
        """Each row's product by SKU (``known`` keeps earlier batches' lookups, None for a
        SKU no product has)."""
        wanted = {row.cells["sku"].lower() for row in rows if row.cells["sku"]} - set(known)
        if wanted:
            found = selectors.products_by_sku(skus=wanted)
            known.update({sku: found.get(sku) for sku in wanted})
        for row in rows:
            sku = row.cells["sku"]
            if not sku:
                continue
            product = known[sku.lower()]
            if product is None:
                row.error("sku", "no product has this SKU; add it to the catalogue first")
            elif product.deleted_at is not None:
                row.error("sku", f"{product.name} was deleted from the catalogue")
            else:
                row.values["product"] = product
                row.values.setdefault("unit_price", product.price)

    def check(self, record: Any) -> None:
        """Rows of one order must agree on who, when and how; the order must fit."""
        first = record.first
        for row in record.rows[1:]:
            for column, value in (("date", "ordered_at"), ("customer_email", "email"),
                                  ("channel", "channel")):
                mine, theirs = row.values.get(value), first.values.get(value)
                if mine and theirs and mine != theirs:
                    row.error(column, f"differs from row {first.number} of order {record.key} "
                                      f"({row.cells.get(column) or mine} vs "
                                      f"{first.cells.get(column) or theirs})")
        if len(record.rows) > MAX_LINES:
            first.error("order_ref", f"order {record.key} has {len(record.rows)} lines; at "
                                     f"most {MAX_LINES}")
        elif not any(row.errors for row in record.rows):
            total = sum(row.values["quantity"] * row.values["unit_price"]
                        for row in record.rows)
            if abs(total) > MAX_TOTAL:
                first.error("order_ref", f"order {record.key} totals {total}, too large")

    def write(self, actor: Any, records: Sequence[Any],
              options: OrdersImportOptions) -> tuple[int, int, int]:
        # The values were checked cell by cell above (with messages for a spreadsheet), so
        # the typed input is built as it is, not validated a second time.
        orders = []
        for record in records:
            first = record.first.values
            orders.append(BulkOrder.model_construct(
                contact_id=first["contact_id"], ordered_at=first["ordered_at"],
                channel=first["channel"], external_ref=record.key, recorded_at=None,
                lines=[BulkLine(row.values["product"].id, row.values["quantity"],
                                row.values["unit_price"]) for row in record.rows]))
        result = orders_bulk_create(actor=actor,
                                    data=OrdersBulkInput.model_construct(orders=orders))
        return len(result.created), result.lines, len(result.skipped)


ORDERS = OrdersImport()
