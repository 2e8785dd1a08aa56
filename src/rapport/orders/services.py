"""Writes for products and orders.

Every write validates everything first (all field errors together), changes the database in
one transaction, and records an event. An order's event carries the customer's ``contact_id``
and happens at the order's date, so it sits in the right place on their timeline.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from charset_normalizer import from_bytes
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone

from rapport.contacts.selectors import visible_contacts
from rapport.core.errors import ValidationFailed, VersionConflict
from rapport.core.events import NewEvent, diff, record_events
from rapport.core.inputs import parse
from rapport.core.permissions import get_for, require
from rapport.core.validation import normalise_email
from rapport.orders import events
from rapport.orders.inputs import (
    CENT,
    MAX_LINES,
    MAX_TOTAL,
    REF_LENGTH,
    OrderInput,
    ProductChanges,
    ProductInput,
    clean_channel,
    parse_money,
    parse_ordered_at,
    parse_quantity,
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

@dataclass(frozen=True)
class LineDraft:
    product: Product
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
        OrderLine(order=order, product=d.product, quantity=d.quantity, unit_price=d.unit_price)
        for d in drafts
    ])
    record_events([order_event(order, drafts, actor_id=actor.id)])
    return order


# --- CSV import of orders ------------------------------------------------------------------

MAX_IMPORT_BYTES = 20 * 1024 * 1024
MAX_IMPORT_ROWS = 100_000
MAX_CELL_CHARS = 1000
MAX_REPORTED_ERRORS = 1000
IMPORT_BATCH_ORDERS = 500
LOOKUP_CHUNK = 500

COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "order_ref": ("order_ref", "order_reference", "order_id", "order_number", "order_no",
                  "order", "reference", "ref"),
    "date": ("date", "ordered_at", "order_date"),
    "customer_email": ("customer_email", "email", "customer"),
    "sku": ("sku", "product_sku"),
    "quantity": ("quantity", "qty"),
    "unit_price": ("unit_price", "price"),
    "channel": ("channel",),
}
REQUIRED_COLUMNS = ("order_ref", "date", "customer_email", "sku", "quantity")
DELIMITERS = (",", ";", "\t", "|")


@dataclass
class RowError:
    """One problem in the file: the spreadsheet row (the header is row 1) and the column."""

    row: int
    column: str
    value: str
    reason: str


@dataclass
class ImportReport:
    encoding: str = ""
    delimiter: str = ","
    rows: int = 0  # data rows read (blank rows not counted)
    blank_rows: int = 0
    orders: int = 0  # distinct order references in the file
    created: int = 0  # orders written by this run (or that would be, in a dry run)
    lines_created: int = 0
    skipped_duplicates: int = 0  # orders already imported before, left as they are
    failed: int = 0  # orders not imported because one of their rows has an error
    error_count: int = 0
    errors: list[RowError] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    dry_run: bool = False

    @property
    def errors_truncated(self) -> bool:
        return self.error_count > len(self.errors)

    def add_error(self, row: int, column: str, value: Any, reason: str) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_REPORTED_ERRORS:
            self.errors.append(RowError(row=row, column=column, value=str(value or "")[:100],
                                        reason=reason))


@dataclass
class _Row:
    number: int
    cells: dict[str, str]
    errors: list[tuple[str, str]] = field(default_factory=list)  # (column, reason)
    ordered_at: dt.datetime | None = None
    email: str = ""
    quantity: int | None = None
    unit_price: Decimal | None = None
    channel: str = "in_store"
    contact_id: int | None = None
    product: Product | None = None


def _read_upload(file: Any) -> bytes:
    if file is None:
        raise ValidationFailed({"file": "choose a CSV file to upload"})
    size = getattr(file, "size", None)
    if isinstance(size, int) and size > MAX_IMPORT_BYTES:
        raise ValidationFailed({"file": _too_big(size)})
    data = file if isinstance(file, bytes) else file.read(MAX_IMPORT_BYTES + 1)
    if isinstance(data, str):
        data = data.encode()
    if len(data) > MAX_IMPORT_BYTES:
        raise ValidationFailed({"file": _too_big(len(data))})
    if not data.strip():
        raise ValidationFailed({"file": "is empty"})
    return data


def _too_big(size: int) -> str:
    return (f"is {size / 1024 / 1024:.1f} MB; the limit is {MAX_IMPORT_BYTES // 1024 // 1024} MB "
            "(split it into several files)")


def decode_csv_bytes(data: bytes, encoding: str | None = None) -> tuple[str, str]:
    """The text and the encoding it was read with: ``encoding`` if given, UTF-8 if valid,
    else the one charset-normalizer finds most plausible."""
    if data.startswith(b"PK\x03\x04"):
        raise ValidationFailed({"file": "is an Excel workbook or a zip, not CSV; save it as "
                                        "CSV and upload that"})
    if encoding:
        try:
            codec = codecs.lookup(encoding).name
        except LookupError:
            raise ValidationFailed({"encoding": f"unknown encoding {encoding[:40]!r}"}) from None
        try:
            return data.decode("utf-8-sig" if codec == "utf-8" else codec), codec
        except UnicodeDecodeError as error:
            raise ValidationFailed({"encoding": f"the file is not valid {codec} (byte "
                                                f"{error.start}); try another"}) from None
        except (LookupError, UnicodeError, ValueError, TypeError):  # e.g. base64: not text
            raise ValidationFailed({"encoding": f"{codec} is not a text encoding"}) from None
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError:
            pass
    if b"\x00" in data[:4096]:
        raise ValidationFailed({"file": "is not a CSV text file; save it as CSV and upload that"})
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        pass
    matches = from_bytes(data)
    best = matches.best()
    if best is None:
        raise ValidationFailed({"file": "could not tell which text encoding this file uses; "
                                        "choose the encoding, or save it as CSV UTF-8"})
    # Short files fit several single-byte encodings about equally well, and the detector may
    # then pick e.g. Baltic cp1257 for French text. Among near-equal candidates prefer
    # Windows-1252, which is what spreadsheets save in western Europe and the Americas.
    for match in matches:
        if match.chaos <= best.chaos + 0.05 and "cp1252" in match.could_be_from_charset:
            return data.decode("cp1252"), "cp1252"
    return str(best), best.encoding


def _pick_delimiter(text: str) -> str:
    header = text.split("\n", 1)[0]
    counts = {d: header.count(d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])  # ties keep the earlier (the comma)
    return best if counts[best] else ","


def _header_map(header: list[str], report: ImportReport) -> dict[str, int]:
    aliases = {alias: column for column, names in COLUMN_ALIASES.items() for alias in names}
    positions: dict[str, int] = {}
    errors: dict[str, str] = {}
    for i, raw in enumerate(header):
        name = raw.strip().strip("\ufeff").lower().replace(" ", "_").replace("-", "_")
        column = aliases.get(name)
        if column is None:
            if raw.strip():
                report.ignored_columns.append(raw.strip()[:100])
            continue
        if column in positions:
            errors["columns"] = (f"{header[positions[column]].strip()!r} and {raw.strip()!r} "
                                 f"both mean {column}; keep one")
            continue
        positions[column] = i
    missing = [c for c in REQUIRED_COLUMNS if c not in positions]
    if missing:
        errors["columns"] = (f"missing required column{'s' if len(missing) > 1 else ''}: "
                             f"{', '.join(missing)} (the first row must name the columns: "
                             f"{', '.join(COLUMN_ALIASES)})")
    if errors:
        raise ValidationFailed(errors)
    return positions


def _read_rows(text: str, report: ImportReport) -> list[_Row]:
    report.delimiter = _pick_delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=report.delimiter)
    rows: list[_Row] = []
    try:
        header = next(reader, None)
        if not header or not any(cell.strip() for cell in header):
            raise ValidationFailed({"file": "the first row must name the columns"})
        positions = _header_map(header, report)
        for number, record in enumerate(reader, start=2):
            if not any(cell.strip() for cell in record):
                report.blank_rows += 1
                continue
            if len(rows) >= MAX_IMPORT_ROWS:
                raise ValidationFailed({"file": f"has more than {MAX_IMPORT_ROWS} rows; "
                                                "split it into several files"})
            row = _Row(number=number, cells={
                column: record[i].strip() if i < len(record) else ""
                for column, i in positions.items()
            })
            if len(record) > len(header) and any(c.strip() for c in record[len(header):]):
                row.errors.append(("row", f"has {len(record)} cells but the header names "
                                          f"{len(header)} columns (an unquoted "
                                          f"{report.delimiter!r} in a value?)"))
            for column, value in row.cells.items():
                if len(value) > MAX_CELL_CHARS:
                    row.errors.append((column, f"is longer than {MAX_CELL_CHARS} characters"))
            rows.append(row)
    except csv.Error as error:
        raise ValidationFailed({"file": f"row {reader.line_num}: {error}"}) from None
    if not rows:
        raise ValidationFailed({"file": "has no order rows below the header"})
    report.rows = len(rows)
    return rows


def _money_cell(text: str) -> str:
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


def _parse_cells(rows: list[_Row], default_channel: str) -> None:
    # Files repeat the same dates and customers on many rows: parse each distinct text once.
    emails: dict[str, str | Exception] = {}
    dates: dict[str, dt.datetime | Exception] = {}
    for row in rows:
        cells = row.cells
        if not cells["order_ref"]:
            row.errors.append(("order_ref", "is required (rows with the same order_ref "
                                            "form one order)"))
        elif len(cells["order_ref"]) > REF_LENGTH:
            row.errors.append(("order_ref", f"must be at most {REF_LENGTH} characters"))
        if cells["date"] not in dates:
            try:
                dates[cells["date"]] = parse_ordered_at(cells["date"])
            except ValueError as error:
                dates[cells["date"]] = error
        moment = dates[cells["date"]]
        if isinstance(moment, Exception):
            row.errors.append(("date", str(moment)))
        else:
            row.ordered_at = moment
        raw_email = cells["customer_email"]
        if not raw_email:
            row.errors.append(("customer_email", "is required"))
        else:
            if raw_email not in emails:
                try:
                    emails[raw_email] = normalise_email(raw_email)
                except ValidationFailed as failure:
                    emails[raw_email] = ValueError(failure.errors["email"][0])
            found = emails[raw_email]
            if isinstance(found, Exception):
                row.errors.append(("customer_email", str(found)))
            else:
                row.email = found
        if not cells["sku"]:
            row.errors.append(("sku", "is required"))
        try:
            row.quantity = parse_quantity(cells["quantity"] or None)
        except ValueError as error:
            row.errors.append(("quantity", str(error)))
        if cells.get("unit_price"):
            try:
                row.unit_price = parse_money(_money_cell(cells["unit_price"]))
            except ValueError as error:
                row.errors.append(("unit_price", str(error)))
        try:
            row.channel = clean_channel(cells.get("channel") or default_channel)
        except ValueError as error:
            row.errors.append(("channel", str(error)))


def _chunks(items: list, size: int = LOOKUP_CHUNK):
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _resolve_contacts(actor, rows: list[_Row]) -> None:
    """Match each row's email to one contact the actor may add orders for; never invent one."""
    wanted = sorted({row.email for row in rows if row.email})
    matches: dict[str, set[int]] = {email: set() for email in wanted}
    owners: dict[int, int | None] = {}
    for chunk in _chunks(wanted):
        for contact_id, email, owner_id in (visible_contacts(actor).filter(primary_email__in=chunk)
                                            .values_list("id", "primary_email", "owner_id")):
            matches[email].add(contact_id)
            owners[contact_id] = owner_id
    # Second and later addresses live only in the emails list (and the search text).
    unmatched = [email for email in wanted if not matches[email]]
    for chunk in _chunks(unmatched, 50):
        condition = Q()
        for email in chunk:
            condition |= Q(search_text__contains=email)
        for contact_id, addresses, owner_id in (visible_contacts(actor).filter(condition)
                                                .values_list("id", "emails", "owner_id")):
            for email in chunk:
                if email in (addresses or []):
                    matches[email].add(contact_id)
                    owners[contact_id] = owner_id
    changeable: set[int] = set()
    for chunk in _chunks(sorted(owners)):
        changeable.update(visible_contacts(actor, "change").filter(id__in=chunk)
                          .values_list("id", flat=True))
    for row in rows:
        if not row.email:
            continue
        found = matches[row.email]
        if not found:
            row.errors.append(("customer_email", "no contact has this email; add the customer "
                                                 "first (the import never creates contacts)"))
        elif len(found) > 1:
            row.errors.append(("customer_email", f"{len(found)} contacts have this email; "
                                                 "merge them first"))
        elif next(iter(found)) not in changeable:
            row.errors.append(("customer_email", "you may not add orders for this contact"))
        else:
            row.contact_id = next(iter(found))


def _resolve_products(rows: list[_Row]) -> None:
    wanted = sorted({row.cells["sku"].lower() for row in rows if row.cells["sku"]})
    products: dict[str, Product] = {}
    for chunk in _chunks(wanted):
        for product in (Product.objects.annotate(sku_lower=Lower("sku"))
                        .filter(sku_lower__in=chunk)):
            products[product.sku.lower()] = product
    for row in rows:
        sku = row.cells["sku"]
        if not sku:
            continue
        product = products.get(sku.lower())
        if product is None:
            row.errors.append(("sku", "no product has this SKU; add it to the catalogue first"))
        elif product.deleted_at is not None:
            row.errors.append(("sku", f"{product.name} was deleted from the catalogue"))
        else:
            row.product = product
            if row.unit_price is None:
                row.unit_price = product.price


@dataclass
class _OrderDraft:
    ref: str
    rows: list[_Row]

    @property
    def first(self) -> _Row:
        return self.rows[0]

    def lines(self) -> list[LineDraft]:
        return [LineDraft(product=r.product, quantity=r.quantity, unit_price=r.unit_price)
                for r in self.rows]


def _check_order(draft: _OrderDraft) -> None:
    """Rows of one order must agree on who, when and how; the order must fit the columns."""
    first = draft.first
    for row in draft.rows[1:]:
        for column, mine, theirs in (("date", row.ordered_at, first.ordered_at),
                                     ("customer_email", row.email, first.email),
                                     ("channel", row.channel, first.channel)):
            if mine and theirs and mine != theirs:
                row.errors.append((column, f"differs from row {first.number} of order "
                                           f"{draft.ref} ({row.cells.get(column) or mine} vs "
                                           f"{first.cells.get(column) or theirs})"))
    if len(draft.rows) > MAX_LINES:
        first.errors.append(("order_ref", f"order {draft.ref} has {len(draft.rows)} lines; "
                                          f"at most {MAX_LINES}"))
    elif not any(row.errors for row in draft.rows):
        total = order_total(draft.lines())
        if abs(total) > MAX_TOTAL:
            first.errors.append(("order_ref", f"order {draft.ref} totals {total}, too large"))


def _existing_refs(refs: list[str]) -> set[str]:
    found: set[str] = set()
    for chunk in _chunks(refs):
        found.update(Order.objects.filter(external_ref__in=chunk)
                     .values_list("external_ref", flat=True))
    return found


def _write_orders(actor, drafts: list[_OrderDraft]) -> tuple[int, int, int]:
    """Insert one batch in one transaction: (orders created, lines created, duplicates)."""
    with transaction.atomic():
        taken = _existing_refs([d.ref for d in drafts])
        fresh = [d for d in drafts if d.ref not in taken]
        orders = Order.objects.bulk_create([
            Order(contact_id=d.first.contact_id, ordered_at=d.first.ordered_at,
                  channel=d.first.channel, external_ref=d.ref, total=order_total(d.lines()))
            for d in fresh
        ])
        lines = [OrderLine(order=order, product=line.product, quantity=line.quantity,
                           unit_price=line.unit_price)
                 for order, draft in zip(orders, fresh, strict=True) for line in draft.lines()]
        OrderLine.objects.bulk_create(lines, batch_size=1000)
        record_events(order_event(order, draft.lines(), actor_id=actor.id)
                      for order, draft in zip(orders, fresh, strict=True))
    return len(orders), len(lines), len(taken)


def orders_import_csv(*, actor, file: Any, default_channel: str = "in_store",
                      encoding: str | None = None, dry_run: bool = False,
                      batch_size: int = IMPORT_BATCH_ORDERS) -> ImportReport:
    """Import orders from a CSV file, one order line per row; returns what happened.

    Rows with the same ``order_ref`` form one order. Every bad row is reported with its row
    number, column and reason, and its whole order is left out (a partial order would have a
    wrong total); the good orders are imported. Orders whose ``order_ref`` is already in the
    database are skipped, so importing a file twice, or again after a crash, adds only what
    is missing. Each batch of orders commits on its own.

    ``encoding`` overrides detection (UTF-8 if valid, else charset-normalizer's guess). A file
    that cannot be read at all (too big, not CSV, missing columns) raises ValidationFailed
    naming ``file``, ``encoding`` or ``columns``; nothing is imported then.
    """
    try:
        default_channel = clean_channel(default_channel)
    except ValueError as error:
        raise ValidationFailed({"default_channel": str(error)}) from None
    report = ImportReport(dry_run=dry_run)
    text, report.encoding = decode_csv_bytes(_read_upload(file), encoding or None)
    rows = _read_rows(text, report)
    _parse_cells(rows, default_channel)
    groups: dict[str, _OrderDraft] = {}
    for row in rows:
        ref = row.cells["order_ref"]
        if ref and len(ref) <= REF_LENGTH:
            groups.setdefault(ref, _OrderDraft(ref=ref, rows=[])).rows.append(row)
    report.orders = len(groups)
    already = _existing_refs(list(groups))
    report.skipped_duplicates = len(already)
    pending = [r for r in rows if r.cells["order_ref"] not in already]
    _resolve_contacts(actor, pending)
    _resolve_products(pending)
    ready: list[_OrderDraft] = []
    for ref, draft in groups.items():
        if ref in already:
            continue
        _check_order(draft)
        bad = [row for row in draft.rows if row.errors]
        if not bad:
            ready.append(draft)
            continue
        report.failed += 1
        for row in draft.rows:
            if not row.errors:
                row.errors.append(("order_ref", f"not imported because row {bad[0].number} of "
                                                f"order {ref} has an error"))
    for row in rows:
        for column, reason in row.errors:
            report.add_error(row.number, column, row.cells.get(column, ""), reason)
    if dry_run:
        report.created = len(ready)
        report.lines_created = sum(len(d.rows) for d in ready)
        return report
    for start in range(0, len(ready), batch_size):
        batch = ready[start:start + batch_size]
        try:
            created, lines, duplicates = _write_orders(actor, batch)
        except IntegrityError:
            # Another import saved some of these references after our check; the batch
            # rolled back whole, and the retry skips what is now there.
            created, lines, duplicates = _write_orders(actor, batch)
        report.created += created
        report.lines_created += lines
        report.skipped_duplicates += duplicates
    return report
