"""Forecast accuracy measures with the M4 competition's definitions.

Both are computed per series; the M4 score of a method is their plain mean over series.

- sMAPE (percent): ``200 / h * sum(|y - f| / (|y| + |f|))``. A step where actual and forecast
  are both zero is a perfect forecast and counts 0 (the M4 R code would divide by zero there).
- MASE: ``mean(|y - f|) / mean(|x_t - x_{t-m}|)``, the scale being the in-sample mean absolute
  error of the seasonal naive forecast with period ``m`` over the training series ``x``.
  A series whose in-sample values never change has no scale: MASE is undefined and returned as
  NaN, so an evaluation can leave it out and say how many it left out.
"""

from __future__ import annotations

import numpy as np

from rapport.insights.ml.errors import DataValidationError, InsufficientDataError


def _as_vector(values, name: str) -> np.ndarray:
    array = np.asarray(values, dtype=float).ravel()
    if array.size == 0:
        raise InsufficientDataError(f"{name} is empty")
    if not np.all(np.isfinite(array)):
        raise DataValidationError(f"{name} contains missing or infinite values")
    return array


def _pair(actual, forecast) -> tuple[np.ndarray, np.ndarray]:
    actual = _as_vector(actual, "actual")
    forecast = _as_vector(forecast, "forecast")
    if actual.shape != forecast.shape:
        raise DataValidationError(
            f"actual has {actual.size} values but forecast has {forecast.size}"
        )
    return actual, forecast


def smape(actual, forecast) -> float:
    """Symmetric mean absolute percentage error in percent (0 to 200), M4 definition."""
    actual, forecast = _pair(actual, forecast)
    denominator = np.abs(actual) + np.abs(forecast)
    error = np.abs(actual - forecast)
    terms = np.divide(error, denominator, out=np.zeros_like(error), where=denominator > 0)
    return float(200.0 * terms.mean())


def mase_scale(insample, season_length: int = 1) -> float:
    """In-sample mean absolute error of the seasonal naive forecast (MASE's denominator)."""
    insample = _as_vector(insample, "insample")
    if season_length < 1:
        raise DataValidationError(f"season_length must be at least 1; got {season_length}")
    if insample.size <= season_length:
        raise InsufficientDataError(
            f"MASE needs more than {season_length} in-sample values "
            f"(the season length); has {insample.size}"
        )
    return float(np.mean(np.abs(insample[season_length:] - insample[:-season_length])))


def mase(actual, forecast, insample, season_length: int = 1) -> float:
    """Mean absolute scaled error, M4 definition; NaN when the in-sample series is constant."""
    actual, forecast = _pair(actual, forecast)
    scale = mase_scale(insample, season_length)
    if scale == 0.0:
        return float("nan")
    return float(np.mean(np.abs(actual - forecast)) / scale)
