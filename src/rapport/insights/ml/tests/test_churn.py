import numpy as np
import pandas as pd
import pytest

from rapport.insights.ml.churn import ChurnModel
from rapport.insights.ml.errors import InsufficientDataError
from rapport.insights.ml.persistence import load_model, save_model
from rapport.insights.ml.tests.orders_data import shop_events, shop_orders


@pytest.fixture(scope="module")
def data():
    orders = shop_orders(400)
    return orders, shop_events(orders)


@pytest.fixture(scope="module")
def fitted(data):
    orders, events = data
    return ChurnModel(horizon_days=90, cv=3, random_state=0).fit(orders, events)


def test_labels_come_only_from_the_window_after_the_cutoff(data):
    orders, events = data
    model = ChurnModel(horizon_days=90)
    features, label, cutoff = model.training_table(orders, events)
    assert cutoff == orders["date"].max() - pd.Timedelta(days=90)
    assert features["recency_days"].min() >= 0
    assert features.attrs["future_rows"] == int((orders["date"] > cutoff).sum())
    window = orders[(orders["date"] > cutoff)]
    assert set(label[label == "stayed"].index) == set(window["customer_id"]) & set(features.index)


def test_no_leakage_changing_later_orders_does_not_change_the_training_features(data):
    orders, events = data
    model = ChurnModel(horizon_days=90)
    features, _, cutoff = model.training_table(orders, events)
    later = orders["date"] > cutoff
    shuffled = orders.copy()
    shuffled.loc[later, "quantity"] = 99
    shuffled.loc[later, "unit_price"] = 1000.0
    again, _, _ = model.training_table(shuffled, events)
    pd.testing.assert_frame_equal(features, again)


def test_fit_predict_explain(fitted, data):
    orders, events = data
    risk = fitted.predict_proba(orders, events)
    assert risk.between(0, 1).all() and np.isfinite(risk).all()
    assert fitted.summary()["metrics"]["roc_auc"] > 0.7
    explained = fitted.explain(orders.head(200), events)
    first = explained[0]
    assert first.subject in set(orders["customer_id"])
    assert first.factors[0].text.endswith("% risk")
    assert first.model_version == fitted.model_version_
    assert first.model_version.startswith("churn-")
    # Long-silent customers score riskier than recent buyers on average.
    features = fitted.features(orders, events)
    silent = risk[features["recency_days"] > 180].mean()
    recent = risk[features["recency_days"] < 14].mean()
    assert silent > recent


def test_refuses_short_history():
    orders = shop_orders(50, days=60)
    with pytest.raises(InsufficientDataError, match="needs order history older than 90 days"):
        ChurnModel().fit(orders)


def test_save_load(tmp_path, fitted, data):
    orders, events = data
    loaded = load_model(save_model(fitted, tmp_path / "churn.joblib"))
    pd.testing.assert_series_equal(
        loaded.predict_proba(orders, events), fitted.predict_proba(orders, events)
    )
