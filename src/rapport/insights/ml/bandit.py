"""Thompson sampling over message variants with Beta posteriors."""

from __future__ import annotations

import numpy as np

from rapport.insights.ml.base import VersionedEstimator
from rapport.insights.ml.errors import DataValidationError


class ThompsonBandit(VersionedEstimator):
    """Which variant to send next, and how likely each one is the best.

    Each variant's success rate has a Beta(prior_successes + successes,
    prior_failures + failures) posterior; the next variant is the one whose posterior draw is
    highest, so variants that might still be best keep getting tried. ``fit([])`` starts from
    the prior alone; ``random_state`` seeds the draws.
    """

    _model_kind = "bandit"

    def __init__(self, variants, *, prior=(1.0, 1.0), random_state: int | None = 0):
        self.variants = variants
        self.prior = prior
        self.random_state = random_state

    def fit(self, results) -> ThompsonBandit:
        """``results``: iterable of (variant, successes, failures); empty for the prior alone."""
        variants = list(self.variants)
        if len(variants) < 2 or len(set(variants)) != len(variants):
            raise DataValidationError("needs at least two distinct variants")
        self.variants_ = variants
        self.successes_ = dict.fromkeys(variants, 0)
        self.failures_ = dict.fromkeys(variants, 0)
        self.rng_ = np.random.default_rng(self.random_state)
        for variant, successes, failures in results:
            self._add(variant, successes, failures)
        self._stamp_version("thompson")
        return self

    def update(self, variant, successes: int = 0, failures: int = 0) -> ThompsonBandit:
        """Add one variant's new results. Like ``partial_fit``, the first call on an unfitted
        bandit starts it from the prior."""
        if not self.__sklearn_is_fitted__():
            self.fit([])
        self._add(variant, successes, failures)
        return self

    def _add(self, variant, successes: int, failures: int) -> None:
        if variant not in self.successes_:
            raise DataValidationError(f"unknown variant {variant!r}; known: {self.variants_}")
        if successes < 0 or failures < 0:
            raise DataValidationError("successes and failures cannot be negative")
        self.successes_[variant] += int(successes)
        self.failures_[variant] += int(failures)

    def _posterior(self) -> tuple[np.ndarray, np.ndarray]:
        self._check_fitted()
        a = np.array([self.successes_[v] for v in self.variants_], dtype=float) + self.prior[0]
        b = np.array([self.failures_[v] for v in self.variants_], dtype=float) + self.prior[1]
        return a, b

    def next_variant(self):
        a, b = self._posterior()
        return self.variants_[int(np.argmax(self.rng_.beta(a, b)))]

    def probability_best(self, draws: int = 20_000) -> dict:
        a, b = self._posterior()
        samples = self.rng_.beta(a[:, None], b[:, None], size=(len(a), draws))
        wins = np.bincount(samples.argmax(axis=0), minlength=len(a)) / draws
        return dict(zip(self.variants_, wins.tolist(), strict=True))

    def summary(self) -> dict:
        a, b = self._posterior()
        return {
            "method": "thompson sampling, beta posteriors",
            "model_version": self.model_version_,
            "variants": {
                v: {
                    "sent": self.successes_[v] + self.failures_[v],
                    "successes": self.successes_[v],
                    "mean_rate": float(a[i] / (a[i] + b[i])),
                }
                for i, v in enumerate(self.variants_)
            },
            "probability_best": self.probability_best(),
        }
