"""Customer lifetime value: BG/NBD (how many more orders, is the customer still active) and
Gamma-Gamma (how much per order), Fader, Hardie & Lee (2005) and Fader & Hardie (2013).

Fitting uses ``lifetimes`` (0.11.3), the field's reference implementation. Its fitters hold
lambdas and cannot be pickled, so a fitted :class:`LifetimeValue` keeps only the parameters and
rebuilds a ``lifetimes`` fitter when it predicts. Summaries from transactions and the
log-likelihood are computed here (the first so pandas 3 is not an issue, the second because
``lifetimes`` reports a per-customer mean; the paper reports the sum: -9582.4 on CDNOW).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy.special import gammaln
from sklearn.base import DensityMixin

from rapport.insights.ml.base import VersionedEstimator
from rapport.insights.ml.errors import DataValidationError, InsufficientDataError
from rapport.insights.ml.explain import Explanation, Factor

DAYS_PER_UNIT = {"D": 1.0, "W": 7.0}
SUMMARY_COLUMNS = ("frequency", "recency", "T")


def _import_lifetimes():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from lifetimes import BetaGeoFitter, GammaGammaFitter
        from lifetimes.fitters import ConvergenceError
    return BetaGeoFitter, GammaGammaFitter, ConvergenceError


def parse_dates(series: pd.Series, name: str) -> pd.Series:
    """Dates (timezone dropped) from text, datetimes or YYYYMMDD numbers; refuses other columns
    (plain numbers would otherwise read as nanoseconds after 1970)."""
    if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
        ok = series.dropna()
        if len(ok) and (ok == ok.round()).all() and ok.between(19000101, 21001231).all():
            series = ok.astype("int64").astype(str).reindex(series.index)
        else:
            raise DataValidationError(f"column {name!r} must hold dates; it holds numbers")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if pd.api.types.is_datetime64_any_dtype(series):
            dates = series
        elif series.dropna().astype(str).str.fullmatch(r"\d{8}").all():
            dates = pd.to_datetime(series, errors="coerce", format="%Y%m%d")
        else:
            dates = pd.to_datetime(series, errors="coerce", format="mixed")
    if dates.notna().sum() == 0 or dates.notna().mean() < 0.9:
        raise DataValidationError(
            f"column {name!r} must hold dates; {int(dates.isna().sum())} of {len(dates)} "
            "values are not dates"
        )
    return dates.dt.tz_localize(None) if dates.dt.tz is not None else dates


def rfm_summary(
    transactions: pd.DataFrame,
    *,
    customer: str = "customer_id",
    date: str = "date",
    value: str | None = None,
    observation_end=None,
    unit: str = "W",
) -> pd.DataFrame:
    """Per-customer ``frequency`` (repeat purchase days), ``recency`` (first to last purchase),
    ``T`` (first purchase to ``observation_end``) in ``unit`` ("W" weeks or "D" days), and
    ``monetary_value`` (mean value of the repeat purchase days) when ``value`` is given.

    Purchases on the same day count once (the convention of the BG/NBD papers). Rows with a
    negative value are returns, not purchases; rows after
    ``observation_end`` are ignored. Both counts are in ``frame.attrs``.
    """
    if unit not in DAYS_PER_UNIT:
        raise ValueError(f"unit must be one of {sorted(DAYS_PER_UNIT)}; got {unit!r}")
    needed = [customer, date] + ([value] if value else [])
    missing = [c for c in needed if c not in transactions.columns]
    if missing:
        raise DataValidationError(
            f"column(s) not in the transactions: {missing}; "
            f"columns are {list(transactions.columns)}"
        )
    frame = pd.DataFrame({"customer": transactions[customer]})
    dates = parse_dates(transactions[date], date)
    frame["day"] = dates.dt.normalize()
    if value:
        amounts = pd.to_numeric(transactions[value], errors="coerce")
        if amounts.notna().mean() < 0.9:
            raise DataValidationError(
                f"column {value!r} must hold numbers; {int(amounts.isna().sum())} of "
                f"{len(amounts)} values are not numbers"
            )
        frame["value"] = amounts
    frame = frame.dropna(subset=["customer", "day"])
    end = pd.Timestamp(observation_end) if observation_end is not None else frame["day"].max()
    future = frame["day"] > end
    returns = frame["value"] < 0 if value else pd.Series(False, index=frame.index)
    frame = frame[~future & ~returns.fillna(False)]
    if frame.empty:
        raise InsufficientDataError("no purchases on or before the observation end")
    daily = frame
    if value:
        daily = frame.groupby(["customer", "day"], as_index=False)["value"].sum()
    grouped = daily.groupby("customer")
    unit_days = DAYS_PER_UNIT[unit]
    stats = grouped.agg(first=("day", "min"), last=("day", "max"), days=("day", "nunique"))
    summary = pd.DataFrame(index=stats.index)
    summary["frequency"] = (stats["days"] - 1).astype("int64")
    summary["recency"] = (stats["last"] - stats["first"]).dt.days / unit_days
    summary["T"] = (end - stats["first"]).dt.days / unit_days
    if value:
        first_value = daily.sort_values("day").groupby("customer")["value"].first()
        total = grouped["value"].sum()
        repeat_total = total - first_value
        summary["monetary_value"] = np.where(
            summary["frequency"] > 0, repeat_total / summary["frequency"].clip(lower=1), 0.0
        )
    summary.index.name = customer
    summary.attrs["future_rows"] = int(future.sum())
    summary.attrs["return_rows"] = int(returns.fillna(False).sum())
    summary.attrs["observation_end"] = str(end.date())
    return summary


def bgnbd_log_likelihood(params, frequency, recency, T) -> float:
    """The BG/NBD log-likelihood summed over customers (Fader, Hardie & Lee 2005, eq. 6)."""
    r, alpha, a, b = params
    x = np.asarray(frequency, dtype=float)
    t_x = np.asarray(recency, dtype=float)
    T = np.asarray(T, dtype=float)
    a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    a2 = gammaln(a + b) + gammaln(b + x) - gammaln(b) - gammaln(a + b + x)
    a3 = -(r + x) * np.log(alpha + T)
    a4 = np.where(
        x > 0, np.log(a) - np.log(b + np.maximum(x, 1) - 1) - (r + x) * np.log(alpha + t_x), -np.inf
    )
    return float(np.sum(a1 + a2 + np.logaddexp(a3, a4)))


class LifetimeValue(DensityMixin, VersionedEstimator):
    """Expected orders, probability of still being a customer, and expected value.

    A density estimator in scikit-learn's terms: BG/NBD is a probability model of each
    customer's purchases, and :meth:`score` is the mean log-likelihood of a summary under it.
    The fits are deterministic, so there is no ``random_state``.

    Parameters
    ----------
    unit: time unit of ``recency`` and ``T`` ("W" weeks, "D" days).
    penalizer: L2 penalty on the parameters (``lifetimes``' ``penalizer_coef``); 0 reproduces
        the paper, a little (0.001-0.1) steadies fits on small or odd data.
    min_customers, min_repeat_customers: fewest customers, and customers with a repeat
        purchase, before the model refuses.
    discount_rate: monthly discount rate for the expected value.
    """

    _model_kind = "clv"

    def __init__(
        self,
        *,
        unit: str = "W",
        penalizer: float = 0.0,
        min_customers: int = 50,
        min_repeat_customers: int = 20,
        discount_rate: float = 0.01,
    ):
        self.unit = unit
        self.penalizer = penalizer
        self.min_customers = min_customers
        self.min_repeat_customers = min_repeat_customers
        self.discount_rate = discount_rate

    @staticmethod
    def _columns(summary: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        missing = [c for c in SUMMARY_COLUMNS if c not in summary.columns]
        if missing:
            raise DataValidationError(
                f"summary is missing column(s) {missing}; build it with rfm_summary()"
            )
        arrays = []
        for column in SUMMARY_COLUMNS:
            values = pd.to_numeric(summary[column], errors="coerce").to_numpy(dtype=float)
            if not np.isfinite(values).all() or (values < 0).any():
                raise DataValidationError(
                    f"column {column!r} must hold non-negative numbers in every row"
                )
            arrays.append(values)
        x, t_x, T = arrays
        if (t_x > T + 1e-9).any():
            raise DataValidationError("recency is larger than T for some customers")
        if (t_x[x == 0] != 0).any():
            raise DataValidationError("customers without repeat purchases must have recency 0")
        return x, t_x, T

    def fit(self, summary: pd.DataFrame, y=None) -> LifetimeValue:
        """Fit on a per-customer summary (see :func:`rfm_summary`); ``y`` is ignored."""
        if self.unit not in DAYS_PER_UNIT:
            raise ValueError(f"unit must be one of {sorted(DAYS_PER_UNIT)}; got {self.unit!r}")
        x, t_x, T = self._columns(summary)
        repeaters = int((x > 0).sum())
        if len(x) < self.min_customers or repeaters < self.min_repeat_customers:
            raise InsufficientDataError(
                f"needs at least {self.min_customers} customers, {self.min_repeat_customers} of "
                f"them with a repeat purchase; has {len(x)} customers, {repeaters} with a "
                "repeat purchase" + (" (every customer ordered once)" if repeaters == 0 else "")
            )
        beta_geo, gamma_gamma, convergence_error = _import_lifetimes()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                fitter = beta_geo(penalizer_coef=self.penalizer).fit(x, t_x, T)
        except convergence_error as error:
            raise InsufficientDataError(
                f"the purchase model did not converge on this data: {error}"
            ) from error
        self.params_ = {k: float(fitter.params_[k]) for k in ("r", "alpha", "a", "b")}
        self.log_likelihood_ = bgnbd_log_likelihood(
            [self.params_[k] for k in ("r", "alpha", "a", "b")], x, t_x, T
        )
        self.spend_params_ = None
        self.spend_refusal_ = "no monetary_value column"
        if "monetary_value" in summary.columns:
            self._fit_spend(summary, x, gamma_gamma, convergence_error)
        self.n_customers_ = len(x)
        self.n_repeat_customers_ = repeaters
        self._stamp_version("bgnbd")
        return self

    def _fit_spend(self, summary, x, gamma_gamma, convergence_error) -> None:
        m = pd.to_numeric(summary["monetary_value"], errors="coerce").to_numpy(dtype=float)
        usable = (x > 0) & np.isfinite(m) & (m > 0)
        if usable.sum() < self.min_repeat_customers:
            self.spend_refusal_ = (
                f"spend model needs at least {self.min_repeat_customers} repeat customers with a "
                f"positive order value; has {int(usable.sum())}"
            )
            return
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                spend = gamma_gamma(penalizer_coef=self.penalizer).fit(x[usable], m[usable])
        except convergence_error as error:
            self.spend_refusal_ = f"spend model did not converge on this data: {error}"
            return
        params = {k: float(spend.params_[k]) for k in ("p", "q", "v")}
        if params["q"] <= 1:
            self.spend_refusal_ = "spend model has no finite mean (q <= 1); order values too skewed"
            return
        self.spend_params_ = params
        self.spend_refusal_ = None

    # ---- predictions

    def score(self, summary: pd.DataFrame, y=None) -> float:
        """Mean BG/NBD log-likelihood per customer of ``summary`` (higher fits better)."""
        self._check_fitted()
        x, t_x, T = self._columns(summary)
        params = [self.params_[k] for k in ("r", "alpha", "a", "b")]
        return bgnbd_log_likelihood(params, x, t_x, T) / len(x)

    def _bgf(self):
        beta_geo, _, _ = _import_lifetimes()
        fitter = beta_geo()
        fitter.params_ = pd.Series(self.params_)
        return fitter

    def _periods(self, days: float) -> float:
        return days / DAYS_PER_UNIT[self.unit]

    def expected_purchases(self, summary: pd.DataFrame, days: float) -> np.ndarray:
        """Expected number of orders each customer places in the next ``days`` days."""
        self._check_fitted()
        x, t_x, T = self._columns(summary)
        with np.errstate(all="ignore"):
            out = self._bgf().conditional_expected_number_of_purchases_up_to_time(
                self._periods(days), x, t_x, T
            )
        return np.nan_to_num(np.asarray(out, dtype=float), nan=0.0, posinf=0.0)

    def probability_alive(self, summary: pd.DataFrame) -> np.ndarray:
        """Probability each customer is still a customer (has not silently left)."""
        self._check_fitted()
        x, t_x, T = self._columns(summary)
        with np.errstate(all="ignore"):
            out = self._bgf().conditional_probability_alive(x, t_x, T)
        return np.clip(np.nan_to_num(np.asarray(out, dtype=float), nan=1.0), 0.0, 1.0)

    def expected_order_value(self, summary: pd.DataFrame) -> np.ndarray:
        """Gamma-Gamma expected value per future order (shrunk towards the average)."""
        self._check_fitted()
        if self.spend_params_ is None:
            raise InsufficientDataError(self.spend_refusal_)
        x, _, _ = self._columns(summary)
        m = pd.to_numeric(summary["monetary_value"], errors="coerce").to_numpy(dtype=float)
        m = np.where(np.isfinite(m) & (m > 0), m, 0.0)
        p, q, v = (self.spend_params_[k] for k in ("p", "q", "v"))
        weight = p * x / (p * x + q - 1)
        return (1 - weight) * (v * p / (q - 1)) + weight * m

    def expected_value(self, summary: pd.DataFrame, months: int = 12) -> np.ndarray:
        """Discounted expected value over the next ``months`` months (``lifetimes``' formula)."""
        order_value = self.expected_order_value(summary)
        total = np.zeros(len(summary))
        previous = np.zeros(len(summary))
        for month in range(1, months + 1):
            cumulative = self.expected_purchases(summary, month * 30.4375)
            total += order_value * (cumulative - previous) / (1 + self.discount_rate) ** month
            previous = cumulative
        return np.nan_to_num(total)

    def predict(self, summary: pd.DataFrame, days: float = 90) -> pd.DataFrame:
        """Table of expected orders in ``days``, probability alive and 12-month value."""
        self._check_fitted()
        out = pd.DataFrame(index=summary.index)
        out[f"expected_orders_{int(days)}d"] = self.expected_purchases(summary, days)
        out["probability_alive"] = self.probability_alive(summary)
        if self.spend_params_ is not None:
            out["expected_value_12m"] = self.expected_value(summary, 12)
        return out

    def explain(self, summary: pd.DataFrame, days: float = 90) -> list[Explanation]:
        """Each customer's expected orders in ``days`` (the score), probability alive and
        12-month value (details), and the facts behind them in words."""
        predicted = self.predict(summary, days)
        x, t_x, T = self._columns(summary)
        unit_days = DAYS_PER_UNIT[self.unit]
        out = []
        for i in range(len(summary)):
            since_last = (T[i] - t_x[i]) * unit_days
            alive = float(predicted["probability_alive"].iloc[i])
            factors = (
                Factor(
                    "frequency",
                    int(x[i]),
                    None,
                    f"{int(x[i])} repeat orders in {T[i] * unit_days:.0f} days as a customer",
                ),
                Factor(
                    "recency_days",
                    float(since_last),
                    None,
                    f"no order in {since_last:.0f} days: {alive:.0%} chance still a customer",
                ),
            )
            details = {"probability_alive": alive}
            if "expected_value_12m" in predicted:
                details["expected_value_12m"] = float(predicted["expected_value_12m"].iloc[i])
            out.append(
                Explanation(
                    subject=summary.index[i],
                    score=float(predicted.iloc[i, 0]),
                    factors=factors,
                    model_version=self.model_version_,
                    details=details,
                )
            )
        return out

    def summary(self) -> dict:
        self._check_fitted()
        return {
            "method": "bg/nbd" + (" + gamma-gamma" if self.spend_params_ else ""),
            "model_version": self.model_version_,
            "trained_at": self.trained_at_,
            "n_customers": self.n_customers_,
            "n_repeat_customers": self.n_repeat_customers_,
            "params": dict(self.params_),
            "spend_params": dict(self.spend_params_) if self.spend_params_ else None,
            "spend_refusal": self.spend_refusal_,
            "metrics": {"log_likelihood": self.log_likelihood_},
            "unit": self.unit,
        }
