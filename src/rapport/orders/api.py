"""/api/v1/ endpoints for the product catalogue and orders.

Money is JSON text with two decimals ("4.50"), never a float. The CSV import of orders
(``POST /orders/import``) is served by dataio's import pipeline (docs/imports.md).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Literal

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from rapport.core.api_schemas import ERRORS, WRITE_ERRORS, Strict
from rapport.orders import selectors, services
from rapport.orders.models import Order, OrderLine

router = Router(tags=["orders"])

Channel = Literal["in_store", "online", "phone", "wholesale", "market", "other"]
Money = Decimal


class ProductIn(Strict):
    name: str = Field(..., min_length=1, max_length=200)
    sku: str = Field(..., min_length=1, max_length=64)
    category: str = Field("", max_length=100)
    price: Money = Field(..., ge=0, max_digits=12, decimal_places=2)


class ProductPatch(Strict):
    version: int = Field(..., description="the version you last read; a stale one gets 409")
    name: str | None = Field(None, min_length=1, max_length=200)
    sku: str | None = Field(None, min_length=1, max_length=64)
    category: str | None = Field(None, max_length=100)
    price: Money | None = Field(None, ge=0, max_digits=12, decimal_places=2)


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
    q: str | None = Field(None, max_length=200, description="part of the name or SKU")
    category: str | None = Field(None, max_length=100)
    cursor: str | None = None
    limit: int = Field(50, ge=1, le=200)


class OrderLineIn(Strict):
    product_id: int | None = Field(None, description="the product, or give its sku")
    sku: str | None = Field(None, max_length=64)
    quantity: int = Field(..., ge=-100_000, le=100_000, description="negative for a return")
    unit_price: Money | None = Field(None, ge=0, max_digits=12, decimal_places=2,
                                     description="defaults to the product's price")


class OrderIn(Strict):
    contact_id: int
    ordered_at: dt.datetime
    channel: Channel = "in_store"
    lines: list[OrderLineIn] = Field(..., min_length=1, max_length=500)
    external_ref: str | None = Field(None, max_length=64,
                                     description="the order's id where it came from; unique")


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
        return list(obj.lines.all())


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
def create_product(request: HttpRequest, payload: ProductIn):
    return Status(201, services.product_create(actor=request.user, data=payload.model_dump()))


@router.get("/products/{product_id}", response={200: ProductOut, **ERRORS})
def get_product(request: HttpRequest, product_id: int):
    return selectors.product_get(user=request.user, product_id=product_id)


@router.patch("/products/{product_id}", response={200: ProductOut, **WRITE_ERRORS})
def update_product(request: HttpRequest, product_id: int, payload: ProductPatch):
    changes = payload.model_dump(exclude_unset=True)
    version = changes.pop("version")
    return services.product_update(actor=request.user, product_id=product_id, version=version,
                                   changes=changes)


@router.delete("/products/{product_id}", response={204: None, **ERRORS})
def delete_product(request: HttpRequest, product_id: int):
    services.product_delete(actor=request.user, product_id=product_id)
    return Status(204, None)


# --- orders ------------------------------------------------------------------------------------

@router.get("/orders", response={200: OrderPage, **ERRORS})
def list_orders(request: HttpRequest, filters: Query[OrderFilters]):
    page = selectors.order_list(user=request.user, params=filters.model_dump())
    return {"items": page.items, "next_cursor": page.next_cursor}


@router.post("/orders", response={201: OrderOut, **ERRORS})
def create_order(request: HttpRequest, payload: OrderIn):
    order = services.order_create(actor=request.user, **payload.model_dump())
    return Status(201, selectors.order_get(user=request.user, order_id=order.id))


@router.get("/orders/{int:order_id}", response={200: OrderOut, **ERRORS})
def get_order(request: HttpRequest, order_id: int):
    return selectors.order_get(user=request.user, order_id=order_id)
