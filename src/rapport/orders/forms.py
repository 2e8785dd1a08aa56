"""Turning posted HTML forms into what the order services take (and back, to re-show them)."""

from __future__ import annotations

import re
from typing import Any

from django.utils import timezone

from rapport.orders.models import Product

ORDER_FORM_ROWS = 5
MAX_FORM_ROWS = 100
LINE_FIELDS = ("product_id", "quantity", "unit_price")


def product_data_from_post(post) -> dict[str, Any]:
    return {"name": post.get("name", ""), "sku": post.get("sku", ""),
            "category": post.get("category", ""), "price": post.get("price", "")}


def product_form_values(product: Product | None = None, post=None) -> dict[str, Any]:
    """What the form shows: what the user typed if there was a POST, else the record."""
    if post is not None:
        return {k: post.get(k, "") for k in post}
    if product is None:
        return {}
    return {"name": product.name, "sku": product.sku, "category": product.category,
            "price": product.price, "version": product.version}


def order_rows_from_post(post) -> list[dict[str, str]]:
    """The line rows as typed, one dict per row of the form (blank rows included)."""
    columns = {name: post.getlist(name)[:MAX_FORM_ROWS] for name in LINE_FIELDS}
    count = max((len(values) for values in columns.values()), default=0)
    return [{name: (columns[name][i] if i < len(columns[name]) else "").strip()
             for name in LINE_FIELDS} for i in range(count)]


def order_lines_from_rows(rows: list[dict[str, str]]) -> tuple[list[dict], list[int]]:
    """Lines for ``order_create`` from the filled rows, and each line's row in the form."""
    lines, row_of_line = [], []
    for i, row in enumerate(rows):
        if not any(row.values()):
            continue
        product_id: Any = row["product_id"] or None
        if product_id is not None and product_id.isdigit():
            product_id = int(product_id)
        lines.append({"product_id": product_id, "quantity": row["quantity"],
                      "unit_price": row["unit_price"] or None})
        row_of_line.append(i)
    return lines, row_of_line


def errors_by_row(errors: dict[str, list[str]], row_of_line: list[int]) -> dict[str, list[str]]:
    """Service errors name ``lines.<line>.<field>``; the form shows them at its own rows.

    A line without a product is named ``sku`` by the service; the form's field is a product
    picker, so that error moves to ``product_id``.
    """
    shown: dict[str, list[str]] = {}
    for key, messages in errors.items():
        match = re.fullmatch(r"lines\.(\d+)\.(\w+)", key)
        if match and int(match[1]) < len(row_of_line):
            field = "product_id" if match[2] == "sku" else match[2]
            key = f"lines.{row_of_line[int(match[1])]}.{field}"
        shown.setdefault(key, []).extend(messages)
    return shown


def order_form_rows(rows: list[dict[str, str]], extra: int = 0) -> list[dict[str, Any]]:
    """Rows for the template, at least ORDER_FORM_ROWS; ``names`` are their error keys."""
    wanted = min(max(len(rows) + extra, ORDER_FORM_ROWS), MAX_FORM_ROWS)
    rows = rows + [dict.fromkeys(LINE_FIELDS, "") for _ in range(wanted - len(rows))]
    return [{**row, "names": {name: f"lines.{i}.{name}" for name in LINE_FIELDS}}
            for i, row in enumerate(rows)]


def order_form_values(post=None) -> dict[str, Any]:
    if post is not None:
        return {k: post.get(k, "") for k in ("ordered_at", "channel", "external_ref")}
    now = timezone.localtime().replace(second=0, microsecond=0, tzinfo=None)
    return {"ordered_at": now.isoformat(timespec="minutes"), "channel": "in_store",
            "external_ref": ""}
