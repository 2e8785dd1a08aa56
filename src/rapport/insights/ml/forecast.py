"""Forecast many series at once (sales per product, orders per week), choosing per series.

Every series is sorted into one of four kinds, each with its own methods:

- ``regular``: AutoETS, AutoTheta, AutoARIMA, seasonal naive and their ensemble (the mean of the
  first three). A rolling-origin backtest (``n_windows`` cuts of ``horizon`` periods each at the
  end of the history) measures each method on the series itself; the method with the lowest mean
  absolute error is chosen. The ensemble is kept unless another method beats it by more than
  ``selection_margin`` (a relative margin), since a combination is the safer bet when the
  backtest evidence is thin.
- ``intermittent``: many periods without demand (average interval between non-zero values of
  1.32 or more, Syntetos & Boylan). CrostonOptimized and ADIDA, chosen the same way.
- ``short``: fewer than ``min_length`` values. The last value is repeated (naive forecast).
- ``constant``: every value the same (all zeros included). The value is repeated, with no spread.

Intervals: the statsforecast models give their own 80%/95% intervals; the ensemble averages its
members' bounds; intermittent methods use the spread of the series around its mean (demand per
period does not grow more uncertain with the horizon); the naive forecast uses the spread of
period-to-period changes, widening with the square root of the step. Non-negative series never get
a negative bound. Nothing non-finite leaves :meth:`Forecaster.forecast`: a method that returns one
for a series is dropped for that series.
"""

from __future__ import annotations

import os
import time
import warnings
from collections import Counter

import numpy as np
import pandas as pd
from scipy.stats import norm

from rapport.insights.ml.base import VersionedEstimator
from rapport.insights.ml.errors import DataValidationError, InsufficientDataError
from rapport.insights.ml.explain import Explanation, Factor
from rapport.insights.ml.metrics import smape

# statsforecast compiles its models with numba; caching the compiled code on disk makes the first
# forecast of every later process (workers, the CLI) seconds instead of a minute.
os.environ.setdefault("NIXTLA_NUMBA_CACHE", "1")

REGULAR_METHODS = ("AutoETS", "AutoTheta", "AutoARIMA", "SeasonalNaive", "Ensemble")
ENSEMBLE_MEMBERS = ("AutoETS", "AutoTheta", "AutoARIMA")
INTERMITTENT_METHODS = ("CrostonOptimized", "ADIDA")
ADI_THRESHOLD = 1.32

DESCRIPTIONS = {
    "AutoETS": "exponential smoothing (ETS)",
    "AutoTheta": "the Theta method",
    "AutoARIMA": "ARIMA",
    "SeasonalNaive": "repeating the last season",
    "Ensemble": "the average of ETS, Theta and ARIMA",
    "CrostonOptimized": "Croston's method for intermittent demand",
    "ADIDA": "ADIDA (aggregate, forecast, spread) for intermittent demand",
    "Naive": "repeating the last value",
    "Constant": "repeating the constant value",
}


def _statsforecast_model(name: str, season_length: int, arima_search: str = "full"):
    from statsforecast import models

    if name == "AutoETS":
        # ETS supports seasons of at most 24 periods; longer ones are left to Theta and ARIMA.
        return models.AutoETS(season_length=season_length if season_length <= 24 else 1)
    if name == "AutoTheta":
        return models.AutoTheta(season_length=season_length)
    if name == "AutoARIMA":
        if arima_search == "fast":
            # Orders up to (2, d, 2) chosen on the quicker CSS fit: about 3x faster, but on all
            # of M4 Weekly ARIMA alone went from sMAPE 8.94 to 9.22, so it is not the default.
            return models.AutoARIMA(
                season_length=season_length, max_p=2, max_q=2, approximation=True
            )
        return models.AutoARIMA(season_length=season_length)
    if name == "SeasonalNaive":
        return models.SeasonalNaive(season_length=season_length)
    if name == "CrostonOptimized":
        return models.CrostonOptimized()
    if name == "ADIDA":
        return models.ADIDA()
    raise ValueError(f"unknown method {name}")


def wide_to_long(frame: pd.DataFrame) -> pd.DataFrame:
    """M4 layout (an id column, then one column per period, padded with blanks) to long rows.

    Raises DataValidationError naming the series and the cell when a value is not a number.
    """
    if frame.shape[1] < 2:
        raise DataValidationError("needs an id column followed by at least one value column")
    ids = frame.iloc[:, 0].astype(str)
    if ids.duplicated().any():
        raise DataValidationError(f"series id {ids[ids.duplicated()].iloc[0]!r} appears twice")
    values = frame.iloc[:, 1:]
    numeric = values.apply(pd.to_numeric, errors="coerce")
    bad = (
        numeric.isna() & values.notna() & (values.astype(str).apply(lambda c: c.str.strip()) != "")
    )
    if bad.to_numpy().any():
        row, col = np.argwhere(bad.to_numpy())[0]
        raise DataValidationError(
            f"series {ids.iloc[row]!r}, column {values.columns[col]!r}: "
            f"{values.iat[row, col]!r} is not a number"
        )
    rows = []
    for series_id, row in zip(ids, numeric.to_numpy(dtype=float), strict=True):
        present = np.flatnonzero(~np.isnan(row))
        if present.size == 0:
            raise InsufficientDataError(f"series {series_id!r} has no values")
        row = row[: present[-1] + 1]  # trailing blanks are padding
        rows.append(pd.DataFrame({"unique_id": series_id, "ds": np.arange(row.size), "y": row}))
    return pd.concat(rows, ignore_index=True)


class Forecaster(VersionedEstimator):
    """Forecast many series, choosing a method per series by rolling-origin backtest.

    The methods are deterministic, so there is no ``random_state``.

    Parameters
    ----------
    horizon : periods ahead that the backtest measures (and the default of ``forecast``).
    season_length : periods in a season (7 for daily data with a weekly rhythm, 12 for
        monthly, 52 or 1 for weekly); 1 means no seasonality.
    n_windows : backtest cuts per series (fewer when a series is too short).
    levels : interval coverages in percent.
    max_history : most recent values used per series; older history rarely helps these models
        and costs time.
    min_length : series shorter than this get the naive forecast.
    selection_margin : relative error advantage another method needs over the ensemble.
    arima_search : "full" (statsforecast's default stepwise search) or "fast" (orders up to 2,
        approximate fit while searching: about 3x faster, less accurate; for big catalogues).
    n_jobs : processes for statsforecast (-1: all cores).
    """

    _model_kind = "forecast"

    def __init__(
        self,
        *,
        horizon: int = 13,
        season_length: int = 1,
        n_windows: int = 2,
        levels: tuple[int, ...] = (80, 95),
        max_history: int | None = 300,
        min_length: int = 10,
        selection_margin: float = 0.1,
        arima_search: str = "full",
        n_jobs: int = 1,
    ):
        self.horizon = horizon
        self.season_length = season_length
        self.n_windows = n_windows
        self.levels = levels
        self.max_history = max_history
        self.min_length = min_length
        self.selection_margin = selection_margin
        self.arima_search = arima_search
        self.n_jobs = n_jobs

    # -- input -----------------------------------------------------------------------------------

    def _check_params(self) -> None:
        for name in ("horizon", "season_length", "n_windows", "min_length"):
            value = getattr(self, name)
            if not isinstance(value, (int, np.integer)) or value < (
                0 if name == "n_windows" else 1
            ):
                raise DataValidationError(f"{name} must be a positive whole number; got {value!r}")
        if self.arima_search not in ("fast", "full"):
            raise DataValidationError(
                f"arima_search must be 'fast' or 'full'; got {self.arima_search!r}"
            )
        for level in self.levels:
            if not 0 < level < 100:
                raise DataValidationError(f"interval levels are percentages; got {level!r}")

    def _prepare(self, df: pd.DataFrame, id_col: str, time_col: str, target_col: str):
        if not isinstance(df, pd.DataFrame):
            raise DataValidationError("expects a DataFrame with id, time and value columns")
        missing = [c for c in (id_col, time_col, target_col) if c not in df.columns]
        if missing:
            raise DataValidationError(
                f"missing column(s) {', '.join(map(repr, missing))}; has {list(df.columns)}"
            )
        if df.empty:
            raise InsufficientDataError("needs at least one series with values; got none")
        frame = pd.DataFrame(
            {"unique_id": df[id_col].astype(str), "ds": df[time_col], "y": df[target_col]}
        )
        y = pd.to_numeric(frame["y"], errors="coerce")
        bad = y.isna() & frame["y"].notna()
        if bad.any():
            first = frame.loc[bad].iloc[0]
            raise DataValidationError(
                f"column {target_col!r} must hold numbers; series {first['unique_id']!r} "
                f"has {first['y']!r} at {first['ds']}"
            )
        frame["y"] = y.astype(float)
        if np.isinf(frame["y"]).any():
            raise DataValidationError(f"column {target_col!r} contains infinite values")
        if frame["ds"].isna().any():
            raise DataValidationError(f"column {time_col!r} has missing times")
        if not pd.api.types.is_numeric_dtype(frame["ds"]):
            try:
                frame["ds"] = pd.to_datetime(frame["ds"])
            except (ValueError, TypeError) as error:
                raise DataValidationError(
                    f"column {time_col!r} must hold dates or period numbers"
                ) from error
        if frame.duplicated(["unique_id", "ds"]).any():
            dup = frame.loc[frame.duplicated(["unique_id", "ds"])].iloc[0]
            raise DataValidationError(f"series {dup['unique_id']!r} has two values at {dup['ds']}")
        frame = frame.sort_values(["unique_id", "ds"], kind="stable", ignore_index=True)
        return frame

    def _infer_freq(self, frame: pd.DataFrame, freq):
        if freq is not None:
            return freq
        if pd.api.types.is_numeric_dtype(frame["ds"]):
            return 1
        for _, times in frame.groupby("unique_id", sort=False)["ds"]:
            if len(times) >= 3:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")  # pandas 4 will return an offset here
                    inferred = pd.infer_freq(pd.DatetimeIndex(times))
                inferred = getattr(inferred, "freqstr", inferred)
                if inferred is not None:
                    return inferred
        raise DataValidationError(
            "cannot tell the spacing of the dates; pass freq (e.g. 'D', 'W-MON', 'MS')"
        )

    # -- fitting ---------------------------------------------------------------------------------

    def fit(
        self,
        df: pd.DataFrame,
        *,
        id_col: str = "unique_id",
        time_col: str = "ds",
        target_col: str = "y",
        freq=None,
    ) -> Forecaster:
        """Learn each series' kind and best method from its history (long format)."""
        started = time.perf_counter()
        self._check_params()
        frame = self._prepare(df, id_col, time_col, target_col)
        self.freq_ = self._infer_freq(frame, freq)

        series: dict[str, pd.DataFrame] = {}
        profile = {}
        for series_id, group in frame.groupby("unique_id", sort=False):
            values = group["y"].to_numpy()
            present = np.flatnonzero(~np.isnan(values))
            if present.size == 0:
                raise InsufficientDataError(f"series {series_id!r} has no values")
            group = group.iloc[present[0] : present[-1] + 1].reset_index(drop=True)
            filled = int(group["y"].isna().sum())
            group["y"] = group["y"].interpolate(method="linear")
            if self.max_history:
                group = group.iloc[-self.max_history :].reset_index(drop=True)
            series[series_id] = group
            profile[series_id] = self._profile(group["y"].to_numpy(), filled)
        self.series_ = series
        self.profile_ = pd.DataFrame.from_dict(profile, orient="index")
        self.profile_.index.name = "unique_id"

        self.backtest_ = self._backtest()
        self.choice_ = self._choose()
        self.n_series_ = len(series)
        self.n_observations_ = int(sum(len(g) for g in series.values()))
        self.fit_seconds_ = time.perf_counter() - started
        self._stamp_version()
        return self

    def _profile(self, y: np.ndarray, filled: int) -> dict:
        n = y.size
        nonzero = int(np.count_nonzero(y))
        adi = n / nonzero if nonzero else float("inf")
        if np.all(y == y[0]):
            kind = "constant"
        elif n < self.min_length:
            kind = "short"
        elif adi >= ADI_THRESHOLD and y.min() >= 0:
            kind = "intermittent"
        else:
            kind = "regular"
        # A season needs two full cycles to be estimated; otherwise model without one.
        season = self.season_length if n >= 2 * self.season_length + 1 else 1
        windows = 0
        if kind in ("regular", "intermittent"):
            min_train = max(self.min_length, 2 * season + 1)
            windows = int(max(0, min(self.n_windows, (n - min_train) // self.horizon)))
        return {
            "kind": kind,
            "n": n,
            "season": season,
            "windows": windows,
            "zero_share": 1 - nonzero / n,
            "non_negative": bool(y.min() >= 0),
            "filled": filled,
        }

    def _long(self, ids) -> pd.DataFrame:
        return pd.concat([self.series_[i] for i in ids], ignore_index=True)

    def _run(self, ids, methods, season, *, h, windows=0) -> pd.DataFrame:
        """statsforecast over ``ids``: forecasts (windows=0) or cross-validation."""
        from statsforecast import StatsForecast

        models = [
            _statsforecast_model(m, season, self.arima_search) for m in methods if m != "Ensemble"
        ]
        frame = self._long(ids)
        if pd.api.types.is_numeric_dtype(frame["ds"]):
            frame["ds"] = frame["ds"].astype(np.int64)
        levels = list(self.levels) if methods[0] in REGULAR_METHODS else None
        forecaster = StatsForecast(models=models, freq=self.freq_, n_jobs=self.n_jobs)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # ARIMA's convergence notes; results are checked
            if windows:
                result = forecaster.cross_validation(df=frame, h=h, n_windows=windows, step_size=h)
            else:
                result = forecaster.forecast(df=frame, h=h, level=levels)
        result = result.reset_index() if "unique_id" not in result.columns else result
        result["unique_id"] = result["unique_id"].astype(str)
        if "Ensemble" in methods:
            result["Ensemble"] = result[list(ENSEMBLE_MEMBERS)].mean(axis=1)
            for level in self.levels if not windows else ():
                for side in ("lo", "hi"):
                    result[f"Ensemble-{side}-{level}"] = result[
                        [f"{m}-{side}-{level}" for m in ENSEMBLE_MEMBERS]
                    ].mean(axis=1)
        return result

    def _methods_for(self, kind: str) -> tuple[str, ...]:
        return REGULAR_METHODS if kind == "regular" else INTERMITTENT_METHODS

    def _backtest(self) -> pd.DataFrame:
        """Per series and method: mean absolute error and sMAPE over the backtest windows."""
        records = []
        eligible = self.profile_[self.profile_["windows"] > 0]
        for (kind, season, windows), group in eligible.groupby(["kind", "season", "windows"]):
            methods = self._methods_for(kind)
            cv = self._run(list(group.index), methods, int(season), h=self.horizon, windows=windows)
            for series_id, rows in cv.groupby("unique_id", sort=False):
                actual = rows["y"].to_numpy(dtype=float)
                for method in methods:
                    predicted = rows[method].to_numpy(dtype=float)
                    finite = bool(np.all(np.isfinite(predicted)))
                    records.append(
                        {
                            "unique_id": series_id,
                            "method": method,
                            "mae": float(np.mean(np.abs(actual - predicted)))
                            if finite
                            else float("inf"),
                            "smape": smape(actual, predicted) if finite else float("inf"),
                            "windows": int(windows),
                        }
                    )
        columns = ["unique_id", "method", "mae", "smape", "windows"]
        return pd.DataFrame.from_records(records, columns=columns)

    def _choose(self) -> dict[str, str]:
        choice = {}
        errors = {
            series_id: rows.set_index("method")["mae"]
            for series_id, rows in self.backtest_.groupby("unique_id", sort=False)
        }
        for series_id, row in self.profile_.iterrows():
            kind = row["kind"]
            if kind == "constant":
                choice[series_id] = "Constant"
            elif kind == "short":
                choice[series_id] = "Naive"
            elif series_id not in errors:
                choice[series_id] = "Ensemble" if kind == "regular" else "CrostonOptimized"
            else:
                mae = errors[series_id]
                best = str(mae.idxmin())
                default = "Ensemble" if kind == "regular" else "CrostonOptimized"
                if not np.isfinite(mae[best]):
                    best = default
                elif (
                    np.isfinite(mae[default])
                    and mae[best] >= (1 - self.selection_margin) * mae[default]
                ):
                    best = default
                choice[series_id] = best
        return choice

    # -- forecasting -----------------------------------------------------------------------------

    def _future_times(self, last, h: int):
        if isinstance(last, pd.Timestamp):
            return pd.date_range(last, periods=h + 1, freq=self.freq_)[1:]
        return np.arange(1, h + 1) * int(self.freq_) + last

    def _simple(self, series_id: str, method: str, h: int) -> pd.DataFrame:
        """Naive, constant and fallback forecasts, with intervals from the series' own spread."""
        group = self.series_[series_id]
        y = group["y"].to_numpy()
        steps = np.arange(1, h + 1)
        point = np.full(h, y[-1])
        if method == "Constant":
            spread = np.zeros(h)
        else:
            changes = np.diff(y)
            sigma = float(np.sqrt(np.mean(changes**2))) if changes.size else 0.0
            spread = sigma * np.sqrt(steps)
        out = pd.DataFrame(
            {"unique_id": series_id, "ds": self._future_times(group["ds"].iloc[-1], h)}
        )
        out["method"] = method
        out["forecast"] = point
        for level in self.levels:
            z = norm.ppf(0.5 + level / 200)
            out[f"lo_{level}"] = point - z * spread
            out[f"hi_{level}"] = point + z * spread
        return out

    def _intermittent_intervals(self, out: pd.DataFrame) -> pd.DataFrame:
        sigma = out["unique_id"].map(
            {i: float(np.std(self.series_[i]["y"].to_numpy())) for i in out["unique_id"].unique()}
        )
        for level in self.levels:
            z = norm.ppf(0.5 + level / 200)
            out[f"lo_{level}"] = out["forecast"] - z * sigma
            out[f"hi_{level}"] = out["forecast"] + z * sigma
        return out

    def _model_rows(self, ids, methods, kind, season, h, keep) -> list[pd.DataFrame]:
        """Run ``methods`` on ``ids``; return tidy rows for the (series, method) pairs in keep."""
        result = self._run(ids, methods, season, h=h)
        parts = []
        for method in methods:
            columns = {"unique_id": "unique_id", "ds": "ds", method: "forecast"}
            if kind == "regular":
                for level in self.levels:
                    columns[f"{method}-lo-{level}"] = f"lo_{level}"
                    columns[f"{method}-hi-{level}"] = f"hi_{level}"
            part = result[list(columns)].rename(columns=columns)
            part = part[part["unique_id"].map(lambda i, m=method: keep(i, m))].copy()
            part["method"] = method
            if kind == "intermittent":
                part = self._intermittent_intervals(part)
            parts.append(part)
        return parts

    def _forecast(self, ids, h: int, all_methods: bool) -> pd.DataFrame:
        parts: list[pd.DataFrame] = []
        profile = self.profile_.loc[list(ids)]
        for (kind, season), group in profile.groupby(["kind", "season"]):
            group_ids = list(group.index)
            if kind in ("constant", "short"):
                parts += [self._simple(i, self.choice_[i], h) for i in group_ids]
                continue
            if all_methods:
                methods = self._methods_for(kind)
            else:
                wanted = {self.choice_[i] for i in group_ids}
                if "Ensemble" in wanted:
                    wanted |= set(ENSEMBLE_MEMBERS)
                methods = tuple(m for m in self._methods_for(kind) if m in wanted)

            def keep(series_id, method):
                return all_methods or self.choice_[series_id] == method

            parts += self._model_rows(group_ids, methods, kind, int(season), h, keep)
        out = pd.concat(parts, ignore_index=True)
        return self._finish(out, h, all_methods)

    def _finish(self, out: pd.DataFrame, h: int, all_methods: bool) -> pd.DataFrame:
        """Replace any non-finite output by the naive forecast; keep bounds sane."""
        value_columns = ["forecast"] + [f"{s}_{lv}" for lv in self.levels for s in ("lo", "hi")]
        broken = ~np.isfinite(out[value_columns].to_numpy(dtype=float)).all(axis=1)
        if broken.any():
            pairs = out.loc[broken, ["unique_id", "method"]].drop_duplicates()
            for series_id, method in pairs.itertuples(index=False):
                mask = (out["unique_id"] == series_id) & (out["method"] == method)
                out = out.loc[~mask]
                fallback = self._simple(series_id, "Naive", h)
                if all_methods:
                    fallback["method"] = method
                out = pd.concat([out, fallback], ignore_index=True)
                if not all_methods:
                    self.choice_[series_id] = "Naive"
        non_negative = out["unique_id"].map(self.profile_["non_negative"]).to_numpy(dtype=bool)
        for column in value_columns:
            out[column] = np.where(non_negative, out[column].clip(lower=0.0), out[column])
        for level in self.levels:  # bounds never cross the forecast
            out[f"lo_{level}"] = np.minimum(out[f"lo_{level}"], out["forecast"])
            out[f"hi_{level}"] = np.maximum(out[f"hi_{level}"], out["forecast"])
        order = {series_id: i for i, series_id in enumerate(self.series_)}
        out["_order"] = out["unique_id"].map(order)
        out = out.sort_values(["_order", "method", "ds"], kind="stable").drop(columns="_order")
        columns = ["unique_id", "ds", "method", *value_columns]
        return out[columns].reset_index(drop=True)

    def forecast(self, h: int | None = None, ids=None) -> pd.DataFrame:
        """Tidy forecasts of the chosen method: unique_id, ds, method, forecast, lo_80, hi_80, ...

        ``h`` defaults to the backtest horizon; ``ids`` to every series.
        """
        self._check_fitted()
        h = self.horizon if h is None else h
        if not isinstance(h, (int, np.integer)) or h < 1:
            raise DataValidationError(f"h must be a positive whole number; got {h!r}")
        ids = list(self.series_) if ids is None else [str(i) for i in ids]
        unknown = [i for i in ids if i not in self.series_]
        if unknown:
            raise DataValidationError(f"unknown series: {', '.join(map(repr, unknown[:5]))}")
        return self._forecast(ids, h, all_methods=False)

    def forecast_all_methods(self, h: int | None = None) -> pd.DataFrame:
        """Like :meth:`forecast`, with one block of rows per candidate method of each series."""
        self._check_fitted()
        return self._forecast(list(self.series_), self.horizon if h is None else h, True)

    # -- explaining ------------------------------------------------------------------------------

    def summary(self) -> dict:
        """Training size, date, method per series and the backtest errors."""
        self._check_fitted()
        backtest = self.backtest_
        chosen = backtest[backtest["unique_id"].map(self.choice_) == backtest["method"]]
        per_method = {}
        for method, rows in backtest.groupby("method"):
            finite = rows[np.isfinite(rows["smape"])]
            per_method[method] = {"backtest_smape": float(finite["smape"].mean())}
        return {
            "model": "Forecaster",
            "method": "per-series choice by rolling-origin backtest (mean absolute error)",
            "model_version": self.model_version_,
            "trained_at": self.trained_at_,
            "n_series": self.n_series_,
            "n_observations": self.n_observations_,
            "horizon": self.horizon,
            "season_length": self.season_length,
            "n_windows": self.n_windows,
            "kinds": dict(Counter(self.profile_["kind"])),
            "chosen": dict(Counter(self.choice_.values())),
            "backtest_smape_chosen": float(chosen["smape"].mean()) if len(chosen) else None,
            "backtest_by_method": per_method,
            "fit_seconds": self.fit_seconds_,
            "per_series": {
                series_id: {
                    "kind": self.profile_.at[series_id, "kind"],
                    "method": method,
                    "n": int(self.profile_.at[series_id, "n"]),
                }
                for series_id, method in self.choice_.items()
            },
        }

    def explain(self, ids=None, h: int | None = None) -> list[Explanation]:
        """Per series (the subject): the mean forecast (the score), the chosen method (the
        label), and two sentences: why that method, and where the forecast is heading."""
        self._check_fitted()
        ids = list(self.series_) if ids is None else [str(i) for i in ids]
        forecasts = self.forecast(h, ids=ids)
        explanations = []
        for series_id in ids:
            profile = self.profile_.loc[series_id]
            method = self.choice_[series_id]
            history = self.series_[series_id]["y"].to_numpy()
            ahead = forecasts.loc[forecasts["unique_id"] == series_id, "forecast"].to_numpy()
            recent = float(np.mean(history[-len(ahead) :]))
            change = float(ahead.mean()) / recent - 1 if recent != 0 else None
            factors = (
                Factor("method", method, None, self._why(series_id, profile, method)),
                Factor("trend", change, change, self._trend(ahead, recent, change)),
            )
            explanations.append(
                Explanation(
                    subject=series_id,
                    score=float(ahead.mean()),
                    factors=factors,
                    model_version=self.model_version_,
                    label=method,
                    details={"kind": profile["kind"], "recent_average": recent},
                )
            )
        return explanations

    def _why(self, series_id: str, profile, method: str) -> str:
        name = DESCRIPTIONS[method]
        kind, n = profile["kind"], int(profile["n"])
        if kind == "constant" and n == 1:
            return "Only one value so far, so the forecast repeats it; no spread can be estimated."
        if kind == "constant":
            return f"Every one of the {n} values is the same, so the forecast repeats it."
        if kind == "short":
            return (
                f"Only {n} values (fewer than {self.min_length}), too few to fit a model, "
                f"so the forecast repeats the last value."
            )
        prefix = ""
        if kind == "intermittent":
            prefix = (
                f"{profile['zero_share']:.0%} of periods have no demand, so only methods for "
                f"intermittent demand were tried. "
            )
        rows = self.backtest_[self.backtest_["unique_id"] == series_id]
        if rows.empty:
            return prefix + (
                f"Too short for a backtest ({n} values), so {name} was used as the safe default."
            )
        mae = rows.set_index("method")["mae"]
        windows = int(rows["windows"].iloc[0])
        ranked = mae[np.isfinite(mae)].sort_values()
        runner_up = [m for m in ranked.index if m != method]
        sentence = (
            f"Chose {name}: over {windows} backtest{'s' if windows > 1 else ''} of "
            f"{self.horizon} periods its average error was {mae[method]:,.2f}"
        )
        if runner_up:
            other = runner_up[0]
            if mae[other] < mae[method]:
                sentence += (
                    f"; {DESCRIPTIONS[other]} was {_percent(1 - mae[other] / mae[method])} "
                    f"lower, not enough to leave the safer average"
                )
            else:
                gap = mae[other] / mae[method] - 1 if mae[method] > 0 else 0.0
                sentence += f", {_percent(gap)} below the next best ({DESCRIPTIONS[other]})"
        return prefix + sentence + "."

    @staticmethod
    def _trend(ahead: np.ndarray, recent: float, change: float | None) -> str:
        """The forecast's average against the same number of last values, in words."""
        h, ahead = len(ahead), float(ahead.mean())
        if change is None:
            return f"The next {h} periods average {ahead:,.2f}, after a recent average of 0."
        direction = "flat" if abs(change) < 0.02 else ("rising" if change > 0 else "falling")
        return (
            f"The next {h} periods average {ahead:,.2f}, {_percent(abs(change))} "
            f"{'above' if change >= 0 else 'below'} the last {h} ({direction})."
        )


def _percent(fraction: float) -> str:
    return "under 1%" if abs(fraction) < 0.005 else f"{fraction:.0%}"


def default_jobs() -> int:
    """All cores: statsforecast spreads series over processes."""
    return os.cpu_count() or 1
