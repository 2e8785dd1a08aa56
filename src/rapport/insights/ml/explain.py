"""What every model's ``explain`` returns, and the wording its factor sentences share.

Every ``explain`` returns a list of :class:`Explanation`: one prediction (its score, label and
other figures), the model version that made it, and its strongest :class:`Factor` s. A factor is
one input that pushed the prediction up or down, e.g. "no order in 94 days: +31% risk". The
effect is in percentage points of the predicted probability (or in the model's own unit for
non-probability outputs), so factors of one prediction can be compared with each other.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np

# How a feature's value reads in a sentence. Keys are feature names the feature builders make;
# any other column falls back to "<column>: <value>".
PHRASES: dict[str, str] = {
    "recency_days": "no order in {value:.0f} days",
    "frequency": "{value:.0f} orders",
    "orders_90d": "{value:.0f} orders in the last 90 days",
    "orders_prev_90d": "{value:.0f} orders in the 90 days before that",
    "monetary_total": "{value:,.2f} spent in total",
    "monetary_mean": "{value:,.2f} per order on average",
    "spend_90d": "{value:,.2f} spent in the last 90 days",
    "tenure_days": "customer for {value:.0f} days",
    "order_trend": "order trend {value:+.0f}",
    "spend_trend": "spend trend {value:+,.2f}",
    "mean_gap_days": "{value:.0f} days between orders on average",
    "distinct_products": "{value:.0f} different products bought",
    "returns": "{value:.0f} returned items",
    "interactions_90d": "{value:.0f} interactions in the last 90 days",
    "interactions_total": "{value:.0f} interactions in total",
    "tickets_90d": "{value:.0f} support tickets in the last 90 days",
    "tickets_total": "{value:.0f} support tickets in total",
    "days_since_interaction": "no contact in {value:.0f} days",
}


@dataclass(frozen=True)
class Factor:
    """One input's push on one prediction.

    ``effect``: change of the outcome this input causes, in percentage points of a probability
    (positive = more likely) or the model's own unit; None when the model does not split its
    prediction into per-input effects (the sentence then states a fact behind the figure).
    ``weight``: what the factors were ranked by, when that is not the effect (the text
    classifier ranks words by how much they widen the chosen label's lead).
    """

    feature: str
    value: object
    effect: float | None
    text: str
    weight: float | None = None

    def as_dict(self) -> dict:
        return {
            "feature": self.feature,
            "value": _plain(self.value),
            "effect": self.effect,
            "text": self.text,
            "weight": self.weight,
        }


@dataclass(frozen=True)
class Explanation:
    """One prediction and why, in words a shop owner understands; what every ``explain`` returns.

    ``subject``: what was explained: the row's index label, a customer id, the text itself or a
    series id. ``score``: the headline figure: a probability (binary scorer, churn), the
    confidence in ``label`` (text classifier), a sentiment in [-1, 1], expected orders (lifetime
    value) or the mean forecast (forecaster). ``factors``: the strongest reasons, strongest first.
    ``model_version``: the ``model_version_`` of the model that made the prediction.
    ``label``: the predicted class or the method chosen, where there is one. ``details``: other
    figures of the same prediction (e.g. ``probability_alive``).
    """

    subject: object
    score: float
    factors: tuple[Factor, ...]
    model_version: str
    label: str | None = None
    details: Mapping[str, object] = field(default_factory=dict)

    def as_dict(self) -> dict:
        """Plain JSON-ready values."""
        return {
            "subject": _plain(self.subject),
            "score": self.score,
            "label": self.label,
            "factors": [factor.as_dict() for factor in self.factors],
            "model_version": self.model_version,
            "details": {key: _plain(value) for key, value in self.details.items()},
        }


def _plain(value: object) -> object:
    if isinstance(value, np.generic):
        return value.item()
    return value


def _is_missing(value: object) -> bool:
    if value is None:
        return True
    try:
        return bool(isinstance(value, float) and math.isnan(value)) or value is np.nan
    except TypeError:
        return False


def describe_value(feature: str, value: object) -> str:
    """Read ``feature = value`` as words: "no order in 94 days", "Contract: Month-to-month"."""
    label = feature.replace("_", " ")
    if _is_missing(value) or (isinstance(value, float) and not math.isfinite(value)):
        return f"{label} unknown"
    phrase = PHRASES.get(feature)
    if phrase is not None:
        try:
            return phrase.format(value=float(value))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            pass
    if isinstance(value, (float, np.floating)):
        shown = f"{float(value):,.2f}".rstrip("0").rstrip(".")
        return f"{label}: {shown}"
    return f"{label}: {value}"


def format_effect(effect: float, unit: str = "chance") -> str:
    """``0.31`` -> "+31% chance"; effects are fractions of probability."""
    points = round(100 * float(effect))
    if points == 0:
        return f"{'+' if effect >= 0 else '-'}<1% {unit}"
    return f"{points:+d}% {unit}"


def factor_sentence(feature: str, value: object, effect: float, unit: str = "chance") -> str:
    """ "no order in 94 days: +31% risk"."""
    return f"{describe_value(feature, value)}: {format_effect(effect, unit)}"


def logit_effects(contributions: np.ndarray, total_logit: float) -> np.ndarray:
    """Turn log-odds contributions into probability changes.

    Each effect is how much the probability would drop if that one contribution were removed:
    ``sigmoid(total) - sigmoid(total - contribution)``, so signs and sizes read directly.
    """
    contributions = np.asarray(contributions, dtype=float)
    return _sigmoid(total_logit) - _sigmoid(total_logit - contributions)


def _sigmoid(x: float | np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(x, -500, 500)))


def top_factors(
    features: list[str],
    values: list[object],
    effects: np.ndarray,
    k: int = 3,
    unit: str = "chance",
) -> list[Factor]:
    """The ``k`` largest effects by size, as :class:`Factor` with their sentence."""
    effects = np.nan_to_num(np.asarray(effects, dtype=float), nan=0.0, posinf=0.0, neginf=0.0)
    order = np.argsort(-np.abs(effects), kind="stable")[:k]
    return [
        Factor(
            features[i],
            values[i],
            float(effects[i]),
            factor_sentence(features[i], values[i], effects[i], unit),
        )
        for i in order
    ]


def strongest(factors: Iterable[Factor], k: int) -> tuple[Factor, ...]:
    """The ``k`` factors of largest size (``weight`` where given, else ``effect``), in order."""

    def size(factor: Factor) -> float:
        return abs(factor.weight if factor.weight is not None else factor.effect or 0.0)

    return tuple(sorted(factors, key=size, reverse=True)[:k])
