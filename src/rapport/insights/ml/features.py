"""Per-customer features from the orders and events tables, as of a cutoff date.

Orders: ``customer_id, order_id, date, product_id, quantity, unit_price`` (one row per line;
a negative quantity is a return). Events: ``entity_id, type, timestamp, properties``.
Only rows dated on or before the cutoff are used, so features never see the future; the number
of rows left out is in ``frame.attrs["future_rows"]``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from rapport.insights.ml.clv import parse_dates
from rapport.insights.ml.errors import DataValidationError

ORDER_COLUMNS = ("customer_id", "order_id", "date", "product_id", "quantity", "unit_price")
EVENT_COLUMNS = ("entity_id", "type", "timestamp")
WINDOW_DAYS = 90
INTERACTION_TYPES = r"call|email|meeting|note|interaction|chat|message|visit"
TICKET_TYPES = r"ticket"


def _require(frame: pd.DataFrame, columns, table: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataValidationError(
            f"{table} table is missing column(s) {missing}; columns are {list(frame.columns)}"
        )


def clean_orders(orders: pd.DataFrame) -> pd.DataFrame:
    """Orders with parsed dates and numeric quantity/price (unparseable numbers become 0),
    plus ``amount`` = quantity x unit price."""
    _require(orders, ORDER_COLUMNS, "orders")
    frame = orders.loc[:, list(ORDER_COLUMNS)].copy()
    frame["date"] = parse_dates(frame["date"], "date").dt.normalize()
    for column in ("quantity", "unit_price"):
        frame[column] = pd.to_numeric(frame[column], errors="coerce").fillna(0.0).astype(float)
    frame["amount"] = frame["quantity"] * frame["unit_price"]
    return frame.dropna(subset=["customer_id", "date"])


def order_features(orders: pd.DataFrame, cutoff, *, window_days: int = WINDOW_DAYS) -> pd.DataFrame:
    """One row per customer with at least one order on or before ``cutoff``."""
    cutoff = pd.Timestamp(cutoff).normalize()
    frame = clean_orders(orders) if "amount" not in orders.columns else orders
    future = frame["date"] > cutoff
    frame = frame[~future]
    sold = frame[frame["quantity"] > 0]
    per_order = sold.groupby(["customer_id", "order_id"], as_index=False).agg(
        date=("date", "min"), amount=("amount", "sum")
    )
    grouped = per_order.groupby("customer_id")
    out = pd.DataFrame(index=pd.Index(grouped.size().index, name="customer_id"))
    first, last = grouped["date"].min(), grouped["date"].max()
    out["recency_days"] = (cutoff - last).dt.days.astype(float)
    out["tenure_days"] = (cutoff - first).dt.days.astype(float)
    out["frequency"] = grouped.size().astype(float)
    out["monetary_total"] = grouped["amount"].sum()
    out["monetary_mean"] = out["monetary_total"] / out["frequency"]
    recent = per_order["date"] > cutoff - pd.Timedelta(days=window_days)
    before = ~recent & (per_order["date"] > cutoff - pd.Timedelta(days=2 * window_days))
    out["orders_90d"] = per_order[recent].groupby("customer_id").size()
    out["orders_prev_90d"] = per_order[before].groupby("customer_id").size()
    out["spend_90d"] = per_order[recent].groupby("customer_id")["amount"].sum()
    spend_before = per_order[before].groupby("customer_id")["amount"].sum()
    out[["orders_90d", "orders_prev_90d", "spend_90d"]] = out[
        ["orders_90d", "orders_prev_90d", "spend_90d"]
    ].fillna(0.0)
    out["order_trend"] = out["orders_90d"] - out["orders_prev_90d"]
    out["spend_trend"] = out["spend_90d"] - spend_before.reindex(out.index).fillna(0.0)
    span = (last - first).dt.days.astype(float)
    out["mean_gap_days"] = np.where(
        out["frequency"] > 1, span / (out["frequency"] - 1).clip(lower=1), np.nan
    )
    out["distinct_products"] = sold.groupby("customer_id")["product_id"].nunique()
    returns = frame[frame["quantity"] < 0].groupby("customer_id")["quantity"].sum().abs()
    out["returns"] = returns.reindex(out.index).fillna(0.0)
    out = out.astype(float)
    out.attrs["future_rows"] = int(future.sum())
    out.attrs["cutoff"] = str(cutoff.date())
    return out


def event_features(events: pd.DataFrame, cutoff, *, window_days: int = WINDOW_DAYS) -> pd.DataFrame:
    """Interaction and support ticket counts per entity, on or before ``cutoff``."""
    _require(events, EVENT_COLUMNS, "events")
    cutoff = pd.Timestamp(cutoff)
    frame = pd.DataFrame(
        {
            "entity_id": events["entity_id"],
            "type": events["type"].astype("string").str.lower(),
            "when": parse_dates(events["timestamp"], "timestamp"),
        }
    ).dropna(subset=["entity_id", "when"])
    frame = frame[frame["when"] <= cutoff + pd.Timedelta(days=1) - pd.Timedelta(microseconds=1)]
    recent = frame["when"] > cutoff - pd.Timedelta(days=window_days)
    interaction = frame["type"].str.contains(INTERACTION_TYPES, regex=True).fillna(False)
    ticket = frame["type"].str.contains(TICKET_TYPES, regex=True).fillna(False)
    by = frame.groupby("entity_id")
    out = pd.DataFrame(index=pd.Index(by.size().index, name="customer_id"))
    out["interactions_total"] = frame[interaction].groupby("entity_id").size()
    out["interactions_90d"] = frame[interaction & recent].groupby("entity_id").size()
    out["tickets_total"] = frame[ticket].groupby("entity_id").size()
    out["tickets_90d"] = frame[ticket & recent].groupby("entity_id").size()
    out = out.fillna(0.0)
    last = frame[interaction].groupby("entity_id")["when"].max()
    out["days_since_interaction"] = (cutoff.normalize() - last.dt.normalize()).dt.days
    return out.astype(float)


def customer_features(
    orders: pd.DataFrame, events: pd.DataFrame | None = None, *, cutoff
) -> pd.DataFrame:
    """Order features joined with event features (customers without events get zero counts)."""
    features = order_features(orders, cutoff)
    if events is not None and len(events):
        extra = event_features(events, cutoff).reindex(features.index)
        counts = [c for c in extra.columns if c != "days_since_interaction"]
        extra[counts] = extra[counts].fillna(0.0)
        attrs = dict(features.attrs)
        features = features.join(extra)
        features.attrs.update(attrs)
    return features
