import pandas as pd
import pytest

from rapport.insights.ml.errors import DataValidationError
from rapport.insights.ml.features import customer_features, event_features, order_features


def orders_table():
    return pd.DataFrame(
        {
            "customer_id": ["a", "a", "a", "a", "b", "a"],
            "order_id": [1, 1, 2, 3, 4, 5],
            "date": [
                "2024-01-01",
                "2024-01-01",
                "2024-03-01",
                "2024-03-20",
                "2024-03-30",
                "2024-05-01",
            ],
            "product_id": ["bread", "jam", "bread", "jam", "cake", "bread"],
            "quantity": [2, 1, 1, -1, "three", 5],
            "unit_price": [3.0, 4.0, 3.0, 4.0, 10.0, 3.0],
        }
    )


def test_order_features_as_of_cutoff():
    features = order_features(orders_table(), "2024-03-31")
    a = features.loc["a"]
    assert a["recency_days"] == 30.0  # order 3 is a pure return, not a purchase
    assert a["tenure_days"] == 90.0
    assert a["frequency"] == 2.0
    assert a["monetary_total"] == 13.0
    assert a["monetary_mean"] == 6.5
    assert a["orders_90d"] == 1.0 and a["orders_prev_90d"] == 1.0
    assert a["order_trend"] == 0.0
    assert a["mean_gap_days"] == 60.0
    assert a["distinct_products"] == 2.0
    assert a["returns"] == 1.0
    # "three" is not a number: that line counts as quantity 0, so b never bought.
    assert "b" not in features.index
    assert features.attrs["future_rows"] == 1
    assert list(features.index) == ["a"]
    assert features.loc["a"].notna().all()


def test_event_features_and_join():
    events = pd.DataFrame(
        {
            "entity_id": ["a", "a", "a", "b"],
            "type": ["call", "ticket.opened", "email", "call"],
            "timestamp": ["2024-03-30T10:00", "2024-02-01", "2024-06-01", "2024-01-05"],
            "properties": [{}, {}, {}, {}],
        }
    )
    ev = event_features(events, "2024-03-31")
    assert ev.loc["a"].to_dict() == {
        "interactions_total": 1.0,
        "interactions_90d": 1.0,
        "tickets_total": 1.0,
        "tickets_90d": 1.0,
        "days_since_interaction": 1.0,
    }
    joined = customer_features(orders_table(), events, cutoff="2024-03-31")
    assert joined.loc["a", "tickets_total"] == 1.0
    assert joined.attrs["cutoff"] == "2024-03-31"


def test_missing_columns_are_named():
    with pytest.raises(
        DataValidationError, match=r"orders table is missing column\(s\) \['unit_price'\]"
    ):
        order_features(orders_table().drop(columns=["unit_price"]), "2024-03-31")
