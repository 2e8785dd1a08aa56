"""The shape of writes to orders: one typed input per write, shared by the API, forms and services.

``OrdersBulkInput`` is what the bulk path takes (the CSV import and the demo): orders whose
values are already checked, each naming its customer and products by id and carrying the
reference it has where it came from. ``OrdersImportOptions`` are the options of an orders
import (the page's and the API's form fields besides the file).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal, NamedTuple

from pydantic import AfterValidator, AwareDatetime, Field

from rapport.core.inputs import Input, text_of
from rapport.orders.models import CHANNELS, Order

MAX_QUANTITY = 100_000
MAX_LINES = 500
MAX_PRICE = Decimal("9999999999.99")  # Product.price and OrderLine.unit_price: 12 digits, 2 dp
MAX_BULK_ORDERS = 10_000

RecordId = Annotated[int, Field(ge=1, le=2**63 - 1)]
Channel = Literal[CHANNELS]  # type: ignore[valid-type]  # the model's list of channels


def _not_zero(quantity: int) -> int:
    if quantity == 0:
        raise ValueError("must not be 0 (use a negative number for a return)")
    return quantity


Quantity = Annotated[int, Field(ge=-MAX_QUANTITY, le=MAX_QUANTITY), AfterValidator(_not_zero)]
Money = Annotated[Decimal, Field(ge=0, le=MAX_PRICE, max_digits=12, decimal_places=2)]


class BulkLine(NamedTuple):
    """One line of a bulk order: a tuple, as bulk data is (cheap to make by the 100,000)."""

    product_id: RecordId
    quantity: Quantity  # negative for a return
    unit_price: Money


class BulkOrder(Input):
    contact_id: RecordId
    ordered_at: AwareDatetime
    channel: Channel = "in_store"
    external_ref: text_of(Order, "external_ref", min_length=1)  # type: ignore[valid-type]
    lines: list[BulkLine] = Field(..., min_length=1, max_length=MAX_LINES)
    recorded_at: AwareDatetime | None = Field(
        None, description="when it entered the books (default: now); the demo replays history")


class OrdersBulkInput(Input):
    """Orders already checked line by line; an order whose reference exists is skipped."""

    orders: list[BulkOrder] = Field(..., max_length=MAX_BULK_ORDERS)


class OrdersImportOptions(Input):
    default_channel: Channel = Field("in_store", title="Channel for rows without one")
