"""Item-item recommendations from orders: "also bought" and "next product".

Similarity is the cosine between products' customer vectors (who bought them at all), with the
raw co-occurrence count kept for explanations. Customers without history get the most popular
products of their segment (or of everyone).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import sparse

from rapport.insights.ml.base import VersionedEstimator
from rapport.insights.ml.errors import InsufficientDataError
from rapport.insights.ml.features import clean_orders


class ItemRecommender(VersionedEstimator):
    """Products to suggest, each with its reason. Deterministic, so there is no ``random_state``.

    Parameters
    ----------
    recent_days: products a customer bought within this many days of their last order are
        not recommended to them again.
    min_together: fewest shared customers for two products to count as related.
    """

    _model_kind = "recommender"

    def __init__(self, *, recent_days: int = 30, min_together: int = 2):
        self.recent_days = recent_days
        self.min_together = min_together

    def fit(self, orders: pd.DataFrame, segments: pd.Series | None = None) -> ItemRecommender:
        """``segments``: optional customer id -> segment name, for cold-start popularity."""
        clean = clean_orders(orders)
        clean = clean[clean["quantity"] > 0]
        if clean["product_id"].nunique() < 2 or clean["customer_id"].nunique() < 2:
            raise InsufficientDataError(
                "recommendations need at least 2 customers and 2 products with purchases; has "
                f"{clean['customer_id'].nunique()} customers and "
                f"{clean['product_id'].nunique()} products"
            )
        customers, customer_codes = np.unique(clean["customer_id"].astype(str), return_inverse=True)
        products, product_codes = np.unique(clean["product_id"].astype(str), return_inverse=True)
        bought = sparse.csr_matrix(
            (np.ones(len(clean)), (customer_codes, product_codes)),
            shape=(len(customers), len(products)),
        )
        bought.data[:] = 1.0  # duplicates summed; presence is what counts
        together = (bought.T @ bought).tocsr().astype(float)
        counts = together.diagonal()
        together.setdiag(0)
        together.eliminate_zeros()
        together.data[together.data < self.min_together] = 0
        together.eliminate_zeros()
        norms = np.sqrt(np.maximum(counts, 1))
        similarity = sparse.diags(1 / norms) @ together @ sparse.diags(1 / norms)
        self.products_ = products
        self.product_index_ = {p: i for i, p in enumerate(products)}
        self.customer_index_ = {c: i for i, c in enumerate(customers)}
        self.together_ = together
        self.similarity_ = similarity.tocsr()
        self.popularity_ = counts
        self.bought_ = bought
        last = clean.groupby("customer_id")["date"].transform("max")
        recent = clean[clean["date"] > last - pd.Timedelta(days=self.recent_days)]
        self.recent_ = (
            recent.groupby(recent["customer_id"].astype(str))["product_id"]
            .agg(lambda s: set(s.astype(str)))
            .to_dict()
        )
        self.segment_popular_ = {}
        if segments is not None:
            seg = segments.rename(index=str).reindex(customers)
            for name in seg.dropna().unique():
                rows = np.flatnonzero((seg == name).to_numpy())
                popular = np.asarray(bought[rows].sum(axis=0)).ravel()
                self.segment_popular_[name] = popular
        self._stamp_version("cosine")
        return self

    def also_bought(self, product, k: int = 5) -> list[dict]:
        """Products most often bought by the same customers; empty for an unknown product."""
        self._check_fitted()
        index = self.product_index_.get(str(product))
        if index is None:
            return []
        row = self.similarity_.getrow(index)
        order = np.argsort(-row.data, kind="stable")[:k]
        return [
            {
                "product_id": self.products_[row.indices[i]],
                "score": float(row.data[i]),
                "reason": f"bought with {product} by {int(self.together_[index, row.indices[i]])}"
                " customers",
            }
            for i in order
        ]

    def popular(self, k: int = 5, segment=None, exclude=()) -> list[dict]:
        self._check_fitted()
        counts = self.segment_popular_.get(segment, self.popularity_)
        where = f"in segment {segment}" if segment in self.segment_popular_ else "overall"
        order = np.argsort(-counts, kind="stable")
        out = []
        for i in order:
            if self.products_[i] in exclude or counts[i] <= 0:
                continue
            out.append(
                {
                    "product_id": self.products_[i],
                    "score": float(counts[i]),
                    "reason": f"popular {where} ({int(counts[i])} customers)",
                }
            )
            if len(out) == k:
                break
        return out

    def next_product(self, customer, k: int = 5, segment=None) -> list[dict]:
        """Products similar to what the customer bought, minus their recent purchases; a
        customer without history gets the popular products of ``segment``."""
        self._check_fitted()
        index = self.customer_index_.get(str(customer))
        recent = self.recent_.get(str(customer), set())
        if index is None:
            return self.popular(k, segment, exclude=recent)
        history = self.bought_.getrow(index)
        scores = np.asarray((history @ self.similarity_).todense()).ravel()
        out = []
        for i in np.argsort(-scores, kind="stable"):
            if scores[i] <= 0 or len(out) == k:
                break
            if self.products_[i] in recent:
                continue
            related = history.indices[np.argmax(self.similarity_[history.indices, i].toarray())]
            out.append(
                {
                    "product_id": self.products_[i],
                    "score": float(scores[i]),
                    "reason": f"often bought with {self.products_[related]}",
                }
            )
        if len(out) < k:
            taken = recent | {o["product_id"] for o in out}
            out += self.popular(k - len(out), segment, exclude=taken)
        return out
