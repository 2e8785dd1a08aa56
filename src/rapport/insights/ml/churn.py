"""Churn: will a customer place no order in the next ``horizon_days`` days?

Time split without leakage: with data up to ``as_of``, the model learns from features computed
on or before ``as_of - horizon_days`` and labels taken from the ``horizon_days`` after that
date; it then scores every customer from features as of ``as_of``. Nothing the features see
comes after the point they describe.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from rapport.insights.ml.base import VersionedEstimator
from rapport.insights.ml.binary import BinaryScorer
from rapport.insights.ml.errors import InsufficientDataError
from rapport.insights.ml.explain import Explanation
from rapport.insights.ml.features import clean_orders, customer_features


class ChurnModel(VersionedEstimator):
    """Binary scorer on order/event features; positive outcome = churned (no order).

    Not a scikit-learn classifier: it reads order lines and scores customers, so its
    predictions do not line up with the rows it is given (see :mod:`rapport.insights.ml.base`).
    """

    _model_kind = "churn"

    def __init__(
        self,
        *,
        horizon_days: int = 90,
        min_per_class: int = 30,
        method: str = "auto",
        cv: int = 5,
        random_state: int = 0,
    ):
        self.horizon_days = horizon_days
        self.min_per_class = min_per_class
        self.method = method
        self.cv = cv
        self.random_state = random_state

    def training_table(
        self, orders: pd.DataFrame, events: pd.DataFrame | None = None, *, as_of=None
    ) -> tuple[pd.DataFrame, pd.Series, pd.Timestamp]:
        """Features at the training cutoff, the churn label after it, and the cutoff."""
        clean = clean_orders(orders)
        as_of = pd.Timestamp(as_of).normalize() if as_of is not None else clean["date"].max()
        cutoff = as_of - pd.Timedelta(days=self.horizon_days)
        if clean["date"].min() > cutoff:
            raise InsufficientDataError(
                f"needs order history older than {self.horizon_days} days before {as_of.date()} "
                f"to learn from; the first order is on {clean['date'].min().date()}"
            )
        features = customer_features(clean, events, cutoff=cutoff)
        window = clean[
            (clean["date"] > cutoff) & (clean["date"] <= as_of) & (clean["quantity"] > 0)
        ]
        bought = features.index.isin(window["customer_id"].unique())
        label = pd.Series(np.where(bought, "stayed", "churned"), index=features.index)
        return features, label, cutoff

    def fit(
        self, orders: pd.DataFrame, events: pd.DataFrame | None = None, *, as_of=None
    ) -> ChurnModel:
        features, label, cutoff = self.training_table(orders, events, as_of=as_of)
        self.scorer_ = BinaryScorer(
            method=self.method,
            min_per_class=self.min_per_class,
            positive_label="churned",
            positive_name="churned",
            negative_name="returning",
            entity_name="customers",
            effect_unit="risk",
            cv=self.cv,
            random_state=self.random_state,
        ).fit(features, label)
        self.training_cutoff_ = cutoff
        self.as_of_ = cutoff + pd.Timedelta(days=self.horizon_days)
        self.method_ = self.scorer_.method_
        self._stamp_version(self.method_)
        return self

    def features(self, orders, events=None, *, as_of=None) -> pd.DataFrame:
        clean = clean_orders(orders)
        as_of = pd.Timestamp(as_of).normalize() if as_of is not None else clean["date"].max()
        return customer_features(clean, events, cutoff=as_of)

    def predict_proba(self, orders, events=None, *, as_of=None) -> pd.Series:
        """Each customer's risk of placing no order in the next ``horizon_days`` days."""
        self._check_fitted()
        features = self.features(orders, events, as_of=as_of)
        return pd.Series(
            self.scorer_.predict_proba(features)[:, 1], index=features.index, name="churn_risk"
        )

    def explain(self, orders, events=None, *, as_of=None, k: int = 3) -> list[Explanation]:
        """Each customer's risk and top factors ("no order in 94 days: +31% risk");
        the subject is the customer id."""
        self._check_fitted()
        features = self.features(orders, events, as_of=as_of)
        return [
            dataclasses.replace(explanation, model_version=self.model_version_)
            for explanation in self.scorer_.explain(features, k=k)
        ]

    def summary(self) -> dict:
        self._check_fitted()
        summary = self.scorer_.summary()
        summary.update(
            model_version=self.model_version_,
            trained_at=self.trained_at_,
            horizon_days=self.horizon_days,
            training_cutoff=str(self.training_cutoff_.date()),
            label_window_end=str(self.as_of_.date()),
        )
        return summary
