"""Synthetic shop orders and events for the tabular model tests."""

import numpy as np
import pandas as pd

PRODUCTS = ["bread", "croissant", "coffee", "cake", "tea", "jam", "butter", "milk"]
BUNDLES = [["bread", "butter", "jam"], ["coffee", "croissant", "milk"], ["tea", "cake"]]


def shop_orders(n_customers: int = 300, days: int = 540, seed: int = 0) -> pd.DataFrame:
    """Customers with a taste (one bundle), a buying rate, and a day they stop coming."""
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2024-01-01")
    rows = []
    order_id = 0
    for c in range(n_customers):
        bundle = BUNDLES[c % len(BUNDLES)]
        first = int(rng.integers(0, days // 2))
        gap = float(rng.choice([7, 14, 30, 60]))
        stop = first + int(rng.exponential(days / 2))
        day = first
        while day < min(stop, days):
            order_id += 1
            for product in rng.choice(
                bundle, size=int(rng.integers(1, len(bundle) + 1)), replace=False
            ):
                rows.append(
                    (
                        f"C{c:04d}",
                        order_id,
                        start + pd.Timedelta(days=day),
                        product,
                        int(rng.integers(1, 4)),
                        float(PRODUCTS.index(product) + 2),
                    )
                )
            day += max(1, int(rng.exponential(gap)))
    frame = pd.DataFrame(
        rows, columns=["customer_id", "order_id", "date", "product_id", "quantity", "unit_price"]
    )
    return frame


def shop_events(orders: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    customers = orders["customer_id"].unique()
    picks = rng.choice(customers, size=len(customers) * 2)
    when = orders["date"].min() + pd.to_timedelta(rng.integers(0, 540, len(picks)), unit="D")
    kinds = rng.choice(["call", "email", "ticket.opened"], size=len(picks))
    return pd.DataFrame(
        {"entity_id": picks, "type": kinds, "timestamp": when, "properties": [{}] * len(picks)}
    )
