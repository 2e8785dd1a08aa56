"""Customer segments: RFM quintile scores with named segments, and behavioural clusters.

RFM: recency, frequency and monetary value each scored 1-5 by quintile (5 = best: most recent,
most orders, most spent); the recency score and the mean of the frequency and monetary scores
place each customer on a grid of eight named segments.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import ClusterMixin
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score
from sklearn.preprocessing import StandardScaler

from rapport.insights.ml.base import VersionedEstimator
from rapport.insights.ml.errors import DataValidationError, InsufficientDataError
from rapport.insights.ml.features import order_features

SEGMENTS = (
    "champions",
    "loyal",
    "potential loyalist",
    "new",
    "at risk",
    "can't lose",
    "hibernating",
    "lost",
)

# How a feature reads when a cluster is high or low on it.
WORDS = {
    "recency_days": ("have not ordered for a long time", "ordered recently"),
    "frequency": ("order often", "order rarely"),
    "monetary_total": ("spend a lot in total", "spend little in total"),
    "monetary_mean": ("place large orders", "place small orders"),
    "tenure_days": ("long-standing customers", "recent customers"),
    "order_trend": ("ordering more lately", "ordering less lately"),
    "distinct_products": ("buy many different products", "buy few products"),
    "returns": ("return a lot", "rarely return anything"),
    "tickets_total": ("open many support tickets", "rarely need support"),
}


def _quintile(values: pd.Series) -> pd.Series:
    """Scores 1-5 by rank (ties share the average rank), so heavy ties do not break bins."""
    pct = values.rank(method="average", pct=True)
    return np.ceil(pct * 5).clip(1, 5).astype("int64")


def segment_name(r: int, fm: int) -> str:
    """The named segment for a recency score and a frequency-monetary score (both 1-5)."""
    if r >= 4:
        return "champions" if fm >= 4 else "potential loyalist" if fm >= 2 else "new"
    if r == 3:
        return "loyal" if fm >= 3 else "hibernating"
    if fm >= 5:
        return "can't lose"
    if fm >= 3:
        return "at risk"
    return "hibernating" if r == 2 else "lost"


def rfm_segments(orders: pd.DataFrame, cutoff) -> pd.DataFrame:
    """Per customer: recency_days, frequency, monetary_total, R/F/M scores, segment."""
    features = order_features(orders, cutoff)
    if len(features) < 5:
        raise InsufficientDataError(
            f"RFM scores need at least 5 customers with orders; has {len(features)}"
        )
    out = features[["recency_days", "frequency", "monetary_total"]].copy()
    out["r_score"] = 6 - _quintile(out["recency_days"])
    out["f_score"] = _quintile(out["frequency"])
    out["m_score"] = _quintile(out["monetary_total"])
    fm = np.floor((out["f_score"] + out["m_score"]) / 2 + 0.5).astype("int64")
    out["segment"] = [segment_name(r, f) for r, f in zip(out["r_score"], fm, strict=True)]
    return out


class BehaviourClusters(ClusterMixin, VersionedEstimator):
    """K-means on scaled (log for skewed counts and money) features, k chosen by silhouette.

    ``random_state`` seeds k-means and the sample the silhouettes are measured on.
    """

    _model_kind = "clusters"

    def __init__(
        self, *, k_min: int = 2, k_max: int = 8, sample_size: int = 5000, random_state: int = 0
    ):
        self.k_min = k_min
        self.k_max = k_max
        self.sample_size = sample_size
        self.random_state = random_state

    def _matrix(self, features: pd.DataFrame) -> np.ndarray:
        values = features.loc[:, self.columns_].apply(pd.to_numeric, errors="coerce")
        values = values.fillna(pd.Series(self.medians_))
        values = values.to_numpy(dtype=float)
        values[:, self.logged_] = np.log1p(np.clip(values[:, self.logged_], 0, None))
        return self.scaler_.transform(np.nan_to_num(values))

    def fit(self, features: pd.DataFrame, y=None) -> BehaviourClusters:
        """Cluster customers on the numeric columns of ``features`` that vary; ``y`` is ignored."""
        numeric = features.apply(pd.to_numeric, errors="coerce")
        usable = [c for c in numeric.columns if numeric[c].notna().any() and numeric[c].std() > 0]
        if not usable:
            raise DataValidationError("no numeric column varies; nothing to cluster on")
        if len(features) < 10 * self.k_min:
            raise InsufficientDataError(
                f"clustering needs at least {10 * self.k_min} customers; has {len(features)}"
            )
        self.columns_ = usable
        self.medians_ = numeric[usable].median().to_dict()
        filled = numeric[usable].fillna(numeric[usable].median())
        self.logged_ = np.array(
            [bool((filled[c] >= 0).all() and filled[c].skew() > 1) for c in usable]
        )
        raw = filled.to_numpy(dtype=float)
        raw[:, self.logged_] = np.log1p(raw[:, self.logged_])
        self.scaler_ = StandardScaler().fit(raw)
        matrix = self.scaler_.transform(raw)
        rng = np.random.default_rng(self.random_state)
        sample = rng.choice(len(matrix), min(len(matrix), self.sample_size), replace=False)
        self.silhouettes_ = {}
        models = {}
        for k in range(self.k_min, min(self.k_max, len(matrix) // 10) + 1):
            model = KMeans(k, n_init=4, random_state=self.random_state).fit(matrix)
            self.silhouettes_[k] = float(silhouette_score(matrix[sample], model.labels_[sample]))
            models[k] = model
        self.k_ = max(self.silhouettes_, key=self.silhouettes_.get)
        self.model_ = models[self.k_]
        self.labels_ = self.model_.labels_
        self.sizes_ = np.bincount(self.labels_, minlength=self.k_).tolist()
        self.descriptions_ = self._describe(matrix)
        self._stamp_version("kmeans")
        return self

    def _describe(self, matrix: np.ndarray) -> list[str]:
        """One line per cluster from its two most distinguishing features (mean z-score)."""
        out = []
        for cluster in range(self.k_):
            centre = matrix[self.labels_ == cluster].mean(axis=0)
            parts = []
            for j in np.argsort(-np.abs(centre))[:2]:
                if abs(centre[j]) < 0.25:
                    continue
                name = self.columns_[j]
                high, low = WORDS.get(
                    name, (f"high {name.replace('_', ' ')}", f"low {name.replace('_', ' ')}")
                )
                parts.append(high if centre[j] > 0 else low)
            text = ", ".join(parts) if parts else "close to the average customer"
            out.append(f"{self.sizes_[cluster]} customers who {text}")
        return out

    def predict(self, features: pd.DataFrame) -> np.ndarray:
        """The cluster of each customer (row of ``features``)."""
        self._check_fitted()
        missing = [c for c in self.columns_ if c not in features.columns]
        if missing:
            raise DataValidationError(f"missing column(s) the clusters were built on: {missing}")
        return self.model_.predict(self._matrix(features))

    def summary(self) -> dict:
        self._check_fitted()
        return {
            "method": "k-means, k by silhouette",
            "model_version": self.model_version_,
            "trained_at": self.trained_at_,
            "k": self.k_,
            "silhouettes": dict(self.silhouettes_),
            "sizes": list(self.sizes_),
            "descriptions": list(self.descriptions_),
            "features": list(self.columns_),
        }
