"""/api/v1/ endpoints for the product catalogue and orders.

Money is JSON text with two decimals ("4.50"), never a float. The CSV import of orders
(``POST /orders/import``) is served by dataio's import pipeline (docs/imports.md).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from rapport.core.api_schemas import ERRORS, WRITE_ERRORS
from rapport.core.inputs import Text
from rapport.orders import selectors, services
from rapport.orders.inputs import OrderInput, ProductInput, ProductPatch
from rapport.orders.models import Order, OrderLine

router = Router(tags=["orders"])
Money = Decimal

class ProductOut(Schema):
    id: int
    name: str
    sku: str
    category: str
    price: Money
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime


class ProductPage(Schema):
    items: list[ProductOut]
    next_cursor: str | None


class ProductFilters(Schema):
    q: Annotated[str, Text(200)] | None = Field(None, description="part of the name or SKU")
    category: Annotated[str, Text(100)] | None = None
    cursor: str | None = None
    limit: int = Field(50, ge=1, le=200)


class OrderLineOut(Schema):
    id: int
    product_id: int
    sku: str
    product_name: str
    quantity: int
    unit_price: Money
    line_total: Money

    @staticmethod
    def resolve_sku(obj: OrderLine) -> str:
        return obj.product.sku

    @staticmethod
    def resolve_product_name(obj: OrderLine) -> str:
        return obj.product.name


class OrderOut(Schema):
    id: int
    contact_id: int
    ordered_at: dt.datetime
    channel: str
    external_ref: str | None
    total: Money
    created_at: dt.datetime
    lines: list[OrderLineOut]

    @staticmethod
    def resolve_lines(obj: Order) -> list[OrderLine]:
        listed = getattr(obj, "line_list", None)  # a list's page has them already
        return listed if listed is not None else list(obj.lines.all())


class OrderPage(Schema):
    items: list[OrderOut]
    next_cursor: str | None


class OrderFilters(Schema):
    contact_id: int | None = None
    cursor: str | None = None
    limit: int = Field(50, ge=1, le=200)


# --- products ----------------------------------------------------------------------------------

@router.get("/products", response={200: ProductPage, **ERRORS})
def list_products(request: HttpRequest, filters: Query[ProductFilters]):
    page = selectors.product_list(user=request.user, params=filters.model_dump())
    return {"items": page.items, "next_cursor": page.next_cursor}


@router.post("/products", response={201: ProductOut, **ERRORS})
def create_product(request: HttpRequest, payload: ProductInput):
    return Status(201, services.product_create(actor=request.user, data=payload))


@router.get("/products/{int:product_id}", response={200: ProductOut, **ERRORS})
def get_product(request: HttpRequest, product_id: int):
    return selectors.product_get(user=request.user, product_id=product_id)


@router.patch("/products/{int:product_id}", response={200: ProductOut, **WRITE_ERRORS})
def update_product(request: HttpRequest, product_id: int, payload: ProductPatch):
    return services.product_update(actor=request.user, product_id=product_id,
                                   version=payload.version, changes=payload)


@router.delete("/products/{int:product_id}", response={204: None, **ERRORS})
def delete_product(request: HttpRequest, product_id: int):
    services.product_delete(actor=request.user, product_id=product_id)
    return Status(204, None)


# --- orders ------------------------------------------------------------------------------------

@router.get("/orders", response={200: OrderPage, **ERRORS})
def list_orders(request: HttpRequest, filters: Query[OrderFilters]):
    page = selectors.order_list(user=request.user, params=filters.model_dump())
    return {"items": page.items, "next_cursor": page.next_cursor}


@router.post("/orders", response={201: OrderOut, **ERRORS})
def create_order(request: HttpRequest, payload: OrderInput):
    order = services.order_create(actor=request.user, data=payload)
    return Status(201, selectors.order_get(user=request.user, order_id=order.id))


@router.get("/orders/{int:order_id}", response={200: OrderOut, **ERRORS})
def get_order(request: HttpRequest, order_id: int):
    return selectors.order_get(user=request.user, order_id=order_id)
