"""Thompson sampling over message variants with Beta posteriors."""

from __future__ import annotations

import numpy as np

from rapport.insights.ml.errors import DataValidationError


class ThompsonBandit:
    """Which variant to send next, and how likely each one is the best.

    Each variant's success rate has a Beta(prior_successes + successes,
    prior_failures + failures) posterior; the next variant is the one whose posterior draw is
    highest, so variants that might still be best keep getting tried.
    """

    def __init__(self, variants, *, prior=(1.0, 1.0), random_state: int = 0):
        self.variants = list(variants)
        self.prior = prior
        self.random_state = random_state

    def _init(self) -> None:
        if len(self.variants) < 2 or len(set(self.variants)) != len(self.variants):
            raise DataValidationError("needs at least two distinct variants")
        self.successes_ = dict.fromkeys(self.variants, 0)
        self.failures_ = dict.fromkeys(self.variants, 0)
        self.rng_ = np.random.default_rng(self.random_state)

    def fit(self, results) -> ThompsonBandit:
        """``results``: iterable of (variant, successes, failures)."""
        self._init()
        for variant, successes, failures in results:
            self.update(variant, successes, failures)
        return self

    def update(self, variant, successes: int = 0, failures: int = 0) -> ThompsonBandit:
        if not hasattr(self, "successes_"):
            self._init()
        if variant not in self.successes_:
            raise DataValidationError(f"unknown variant {variant!r}; known: {self.variants}")
        if successes < 0 or failures < 0:
            raise DataValidationError("successes and failures cannot be negative")
        self.successes_[variant] += int(successes)
        self.failures_[variant] += int(failures)
        return self

    def _posterior(self) -> tuple[np.ndarray, np.ndarray]:
        if not hasattr(self, "successes_"):
            self._init()
        a = np.array([self.successes_[v] for v in self.variants], dtype=float) + self.prior[0]
        b = np.array([self.failures_[v] for v in self.variants], dtype=float) + self.prior[1]
        return a, b

    def next_variant(self):
        a, b = self._posterior()
        return self.variants[int(np.argmax(self.rng_.beta(a, b)))]

    def probability_best(self, draws: int = 20_000) -> dict:
        a, b = self._posterior()
        samples = self.rng_.beta(a[:, None], b[:, None], size=(len(a), draws))
        wins = np.bincount(samples.argmax(axis=0), minlength=len(a)) / draws
        return dict(zip(self.variants, wins.tolist(), strict=True))

    def summary(self) -> dict:
        a, b = self._posterior()
        return {
            "method": "thompson sampling, beta posteriors",
            "variants": {
                v: {
                    "sent": self.successes_[v] + self.failures_[v],
                    "successes": self.successes_[v],
                    "mean_rate": float(a[i] / (a[i] + b[i])),
                }
                for i, v in enumerate(self.variants)
            },
            "probability_best": self.probability_best(),
        }
