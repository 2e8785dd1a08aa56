import numpy as np
import pandas as pd
import pytest

from rapport.insights.ml.errors import InsufficientDataError
from rapport.insights.ml.features import order_features
from rapport.insights.ml.segmentation import (
    SEGMENTS,
    BehaviourClusters,
    rfm_segments,
    segment_name,
)
from rapport.insights.ml.tests.orders_data import shop_orders


def test_segment_grid_uses_exactly_the_eight_names():
    names = {segment_name(r, fm) for r in range(1, 6) for fm in range(1, 6)}
    assert names == set(SEGMENTS)
    assert segment_name(5, 5) == "champions"
    assert segment_name(1, 1) == "lost"
    assert segment_name(1, 5) == "can't lose"
    assert segment_name(5, 1) == "new"


def test_rfm_scores_and_segments():
    orders = shop_orders(200)
    table = rfm_segments(orders, orders["date"].max())
    assert len(table) == orders["customer_id"].nunique()
    for column in ("r_score", "f_score", "m_score"):
        assert set(table[column]) <= {1, 2, 3, 4, 5}
    assert table.groupby("r_score")["recency_days"].mean().is_monotonic_decreasing
    assert table.groupby("f_score")["frequency"].mean().is_monotonic_increasing
    assert set(table["segment"]) <= set(SEGMENTS)
    champions = table[table["segment"] == "champions"]
    assert (champions["r_score"] >= 4).all()


def test_rfm_refuses_too_few_customers():
    orders = shop_orders(3)
    with pytest.raises(InsufficientDataError, match="at least 5 customers"):
        rfm_segments(orders, orders["date"].max())


def two_kinds_of_customers(n=100, seed=0):
    rng = np.random.default_rng(seed)
    big = pd.DataFrame(
        {
            "frequency": rng.normal(40, 3, n),
            "monetary_total": rng.normal(900, 50, n),
            "recency_days": rng.normal(5, 1, n).clip(0),
        }
    )
    small = pd.DataFrame(
        {
            "frequency": rng.normal(2, 0.5, n),
            "monetary_total": rng.normal(30, 5, n),
            "recency_days": rng.normal(200, 20, n),
        }
    )
    return pd.concat([big, small], ignore_index=True).assign(constant=1.0)


def test_clusters_find_k_by_silhouette_and_describe_them():
    features = two_kinds_of_customers()
    model = BehaviourClusters(k_min=2, k_max=5, random_state=0).fit(features)
    assert model.k_ == 2
    assert sorted(model.sizes_) == [100, 100]
    assert "constant" not in model.columns_
    assert set(model.silhouettes_) == {2, 3, 4, 5}
    texts = sorted(model.descriptions_)
    assert any("order often" in t or "spend a lot in total" in t for t in texts)
    assert all(t.startswith("100 customers who ") for t in texts)
    again = BehaviourClusters(k_min=2, k_max=5, random_state=0).fit(features)
    np.testing.assert_array_equal(model.labels_, again.labels_)
    np.testing.assert_array_equal(model.predict(features), model.labels_)


def test_clusters_on_real_features_and_refusal():
    orders = shop_orders(150)
    features = order_features(orders, orders["date"].max())
    model = BehaviourClusters(random_state=0).fit(features)
    assert 2 <= model.k_ <= 8
    assert np.isfinite(model.predict(features)).all()
    with pytest.raises(InsufficientDataError, match="at least 20 customers"):
        BehaviourClusters().fit(features.head(10))
