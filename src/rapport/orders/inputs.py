"""The shape of every write to the catalogue and to orders, and the values they hold.

``OrdersBulkInput`` is what the bulk path takes (the CSV import and the demo): orders whose
values are already checked, each naming its customer and products by id and carrying the
reference it has where it came from. ``OrdersImportOptions`` are the options of an orders
import (the page's and the API's form fields besides the file).


The API takes these as request bodies, the pages fill them from their forms, the CSV import
parses its cells with the same value parsers, and the services take them: a limit or a choice
is declared once. What needs the database (does this product exist, may this user add orders
for this customer) is checked when the shape is parsed with the catalogue in its context
(:func:`parse_order`) or by the services.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Annotated, Any, Literal, NamedTuple

from django.utils import timezone
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BeforeValidator,
    Field,
    PrivateAttr,
    ValidationInfo,
    field_validator,
    model_validator,
)

from rapport.core.inputs import Input, Text, partial, with_version
from rapport.orders.models import CHANNELS, Channel, Order, Product
from rapport.orders.selectors import Catalogue, catalogue_for_lines, sku_taken

MAX_PRICE = Decimal("9999999999.99")  # Product.price and OrderLine.unit_price: 12 digits, 2 dp
MAX_TOTAL = Decimal("999999999999.99")  # Order.total: 14 digits, 2 dp
MAX_QUANTITY = 100_000
MAX_LINES = 500
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
    if amount > MAX_PRICE:  # before quantize, which fails on amounts beyond its precision
        raise ValueError(f"must be at most {MAX_PRICE}")
    if amount != amount.quantize(CENT, rounding="ROUND_DOWN"):
        raise ValueError("at most two decimal places")
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


Money = Annotated[Decimal, BeforeValidator(parse_money)]
Quantity = Annotated[int, BeforeValidator(parse_quantity)]
OrderedAt = Annotated[dt.datetime, BeforeValidator(parse_ordered_at)]
ChannelName = Annotated[Channel, BeforeValidator(clean_channel)]
RecordId = Annotated[int, Field(ge=1, le=2**63 - 1)]


def _sku(value: str) -> str:
    if any(ch.isspace() for ch in value):
        raise ValueError("must not contain spaces")
    return value


Sku = Annotated[str, Text.of(Product, "sku", min_length=1), AfterValidator(_sku)]


class ProductInput(Input):
    name: Annotated[str, Text.of(Product, "name", min_length=1)]
    sku: Sku
    category: Annotated[str, Text.of(Product, "category")] = ""
    price: Money

    @field_validator("sku")
    @classmethod
    def _free_sku(cls, value: str, info: ValidationInfo) -> str:
        if isinstance(info.context, dict):  # the API and the services check the catalogue
            taken = sku_taken(value)
            if taken:
                raise ValueError(taken)
        return value


if TYPE_CHECKING:  # a change has the fields of the full shape, each may be left out
    ProductChanges = ProductInput
    ProductPatch = ProductInput
else:
    ProductChanges = partial(ProductInput, "ProductChanges")
    ProductPatch = with_version(ProductChanges, "ProductPatch")


class OrderLineInput(Input):
    product_id: RecordId | None = Field(None, description="the product, or give its sku")
    sku: Annotated[str, Text(REF_LENGTH)] | None = Field(None, validate_default=True)
    quantity: Quantity = Field(..., description="negative for a return")
    unit_price: Money | None = Field(None, description="defaults to the product's price")

    @field_validator("unit_price", mode="before")
    @classmethod
    def _blank_price(cls, value: Any) -> Any:
        return None if value == "" else value

    @field_validator("product_id")
    @classmethod
    def _known_id(cls, value: int | None, info: ValidationInfo) -> int | None:
        catalogue = (info.context or {}).get("catalogue")
        if value is not None and catalogue is not None and value not in catalogue.by_id:
            raise ValueError(f"no product with id {value}")
        return value

    @field_validator("sku")
    @classmethod
    def _known_sku(cls, value: str | None, info: ValidationInfo) -> str | None:
        product_id = info.data.get("product_id")
        if product_id is None and "product_id" in info.data and not value:
            raise ValueError("choose a product (product_id or sku)")
        catalogue = (info.context or {}).get("catalogue")
        if catalogue is None or not value:
            return value
        if product_id is not None:
            product = catalogue.by_id.get(product_id)
            if product is not None and value.lower() != product.sku.lower():
                raise ValueError(f"does not match product {product_id} ({product.sku})")
        elif value.lower() not in catalogue.by_sku:
            raise ValueError(f"no product with SKU {value[:64]!r}")
        return value


class OrderInput(Input):
    """An order and its lines. Validated with a context (the API and the services give one),
    its lines are checked against the catalogue, loaded once for the whole order."""

    contact_id: RecordId
    ordered_at: OrderedAt
    channel: ChannelName = Channel.IN_STORE
    lines: list[OrderLineInput] = Field(..., min_length=1, max_length=MAX_LINES)
    _catalogue: Catalogue | None = PrivateAttr(default=None)
    external_ref: Annotated[str, Text.of(Order, "external_ref")] | None = Field(
        None, description="the order's id where it came from; unique")

    @field_validator("lines", mode="before")
    @classmethod
    def _some_lines(cls, value: Any) -> Any:
        if not value:
            raise ValueError("an order needs at least one line")
        if isinstance(value, list | tuple) and len(value) > MAX_LINES:
            raise ValueError(f"at most {MAX_LINES} lines in one order (got {len(value)})")
        return value

    @field_validator("external_ref", mode="before")
    @classmethod
    def _ref(cls, value: Any) -> Any:
        return clean_external_ref(value)

    @model_validator(mode="before")
    @classmethod
    def _load_catalogue(cls, data: Any, info: ValidationInfo) -> Any:
        if isinstance(info.context, dict) and "catalogue" not in info.context:
            lines = data.get("lines") if isinstance(data, Mapping) else None
            info.context["catalogue"] = catalogue_for_lines(lines)
        return data

    @model_validator(mode="after")
    def _keep_catalogue(self, info: ValidationInfo) -> OrderInput:
        self._catalogue = (info.context or {}).get("catalogue")
        return self

    @property
    def catalogue(self) -> Catalogue | None:
        """The products the lines name, when validated with a context."""
        return self._catalogue


# --- the bulk path (CSV import, demo) -------------------------------------------------------

MAX_BULK_ORDERS = 10_000


def _not_zero(quantity: int) -> int:
    if quantity == 0:
        raise ValueError("must not be 0 (use a negative number for a return)")
    return quantity


# Values already parsed by the import's cells: plain constraints, cheap by the 100,000.
BulkQuantity = Annotated[int, Field(ge=-MAX_QUANTITY, le=MAX_QUANTITY),
                         AfterValidator(_not_zero)]
BulkMoney = Annotated[Decimal, Field(ge=0, le=MAX_PRICE, max_digits=12, decimal_places=2)]


class BulkLine(NamedTuple):
    """One line of a bulk order: a tuple, as bulk data is (cheap to make by the 100,000)."""

    product_id: RecordId
    quantity: BulkQuantity  # negative for a return
    unit_price: BulkMoney


# Plain text, not the enum: bulk rows go to the database as they are.
ChannelValue = Literal[*CHANNELS]  # type: ignore[valid-type]


class BulkOrder(Input):
    contact_id: RecordId
    ordered_at: AwareDatetime
    channel: ChannelValue = "in_store"
    external_ref: Annotated[str, Text.of(Order, "external_ref", min_length=1)]
    lines: list[BulkLine] = Field(..., min_length=1, max_length=MAX_LINES)
    recorded_at: AwareDatetime | None = Field(
        None, description="when it entered the books (default: now); the demo replays history")


class OrdersBulkInput(Input):
    """Orders already checked line by line; an order whose reference exists is skipped."""

    orders: list[BulkOrder] = Field(..., max_length=MAX_BULK_ORDERS)


class OrdersImportOptions(Input):
    default_channel: ChannelValue = Field("in_store", title="Channel for rows without one")
