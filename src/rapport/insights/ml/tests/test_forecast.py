"""Forecaster: kinds of series, per-series choice, intervals, bad data, persistence.

statsforecast compiles on first use, so one small panel is fitted once per module and shared.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rapport.insights.ml.errors import DataValidationError, InsufficientDataError, NotFittedError
from rapport.insights.ml.evaluate import forecast as forecast_eval
from rapport.insights.ml.forecast import Forecaster, wide_to_long
from rapport.insights.ml.persistence import load_model, save_model

H = 4


def panel() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    t = np.arange(36)
    series = {
        "trend": 100 + 2.0 * t + rng.normal(0, 3, t.size),
        "level": 50 + rng.normal(0, 2, t.size),
        "sparse": rng.poisson(0.25, t.size) * 4.0,
        "zeros": np.zeros(20),
        "short": np.array([3.0, 5.0, 4.0, 6.0]),
        "single": np.array([9.0]),
    }
    return pd.concat(
        [
            pd.DataFrame({"unique_id": k, "ds": np.arange(v.size), "y": v})
            for k, v in series.items()
        ],
        ignore_index=True,
    )


@pytest.fixture(scope="module")
def fitted() -> Forecaster:
    return Forecaster(horizon=H, n_windows=2).fit(panel())


@pytest.fixture(scope="module")
def forecasts(fitted) -> pd.DataFrame:
    return fitted.forecast()


def test_each_series_gets_its_kind_and_method(fitted):
    kinds = fitted.profile_["kind"].to_dict()
    assert kinds == {
        "trend": "regular",
        "level": "regular",
        "sparse": "intermittent",
        "zeros": "constant",
        "short": "short",
        "single": "constant",
    }
    assert fitted.choice_["zeros"] == "Constant"
    assert fitted.choice_["short"] == "Naive"
    assert fitted.choice_["sparse"] in ("CrostonOptimized", "ADIDA")
    assert fitted.choice_["trend"] in (
        "AutoETS",
        "AutoTheta",
        "AutoARIMA",
        "SeasonalNaive",
        "Ensemble",
    )
    windows = fitted.backtest_.groupby("unique_id")["windows"].first().to_dict()
    assert windows == {"trend": 2, "level": 2, "sparse": 2}


def test_forecast_is_tidy_finite_and_ordered(forecasts):
    assert list(forecasts.columns) == [
        "unique_id",
        "ds",
        "method",
        "forecast",
        "lo_80",
        "hi_80",
        "lo_95",
        "hi_95",
    ]
    assert forecasts.groupby("unique_id").size().to_dict() == dict.fromkeys(
        ["trend", "level", "sparse", "zeros", "short", "single"], H
    )
    values = forecasts[["forecast", "lo_80", "hi_80", "lo_95", "hi_95"]].to_numpy(dtype=float)
    assert np.isfinite(values).all()
    assert (forecasts["lo_95"] <= forecasts["lo_80"]).all()
    assert (forecasts["lo_80"] <= forecasts["forecast"]).all()
    assert (forecasts["forecast"] <= forecasts["hi_80"]).all()
    assert (forecasts["hi_80"] <= forecasts["hi_95"]).all()
    # the future continues the period numbers of each series
    assert forecasts.loc[forecasts["unique_id"] == "trend", "ds"].tolist() == [36, 37, 38, 39]
    assert forecasts.loc[forecasts["unique_id"] == "single", "ds"].tolist() == [1, 2, 3, 4]


def test_simple_kinds_repeat_the_last_value(forecasts):
    zeros = forecasts[forecasts["unique_id"] == "zeros"]
    assert (zeros[["forecast", "lo_95", "hi_95"]].to_numpy() == 0).all()
    short = forecasts[forecasts["unique_id"] == "short"]
    assert short["forecast"].tolist() == [6.0] * H
    # naive spread: RMS of changes (2, -1, 2) = sqrt(3), widening with sqrt(step)
    width = (short["hi_95"] - short["forecast"]).to_numpy()
    assert width == pytest.approx(1.959963984540054 * np.sqrt(3) * np.sqrt([1, 2, 3, 4]))
    single = forecasts[forecasts["unique_id"] == "single"]
    assert single["forecast"].tolist() == [9.0] * H
    assert (single["hi_95"] == single["lo_95"]).all()


def test_non_negative_series_never_get_negative_bounds(forecasts):
    sparse = forecasts[forecasts["unique_id"] == "sparse"]
    assert (sparse["lo_95"] >= 0).all()
    assert (sparse["hi_95"] > sparse["forecast"]).all()


def test_forecasting_the_same_data_twice_is_identical(fitted, forecasts):
    subset = panel()
    subset = subset[subset["unique_id"].isin(["trend", "sparse"])]
    again = Forecaster(horizon=H, n_windows=2).fit(subset)
    assert again.choice_ == {k: fitted.choice_[k] for k in ("sparse", "trend")}
    expected = forecasts[forecasts["unique_id"].isin(["trend", "sparse"])].reset_index(drop=True)
    pd.testing.assert_frame_equal(again.forecast(), expected)


def test_forecast_for_some_series_and_another_horizon(fitted):
    part = fitted.forecast(h=2, ids=["trend", "short"])
    # rows follow the order of the series at fit time (sorted ids), not the order asked
    assert part["unique_id"].tolist() == ["short", "short", "trend", "trend"]
    with pytest.raises(DataValidationError, match="unknown series: 'nope'"):
        fitted.forecast(ids=["nope"])
    with pytest.raises(DataValidationError, match="h must be a positive whole number"):
        fitted.forecast(h=0)


def test_forecast_all_methods_has_a_block_per_candidate(fitted):
    everything = fitted.forecast_all_methods()
    methods = everything.groupby("unique_id")["method"].unique().map(sorted).to_dict()
    assert methods["trend"] == ["AutoARIMA", "AutoETS", "AutoTheta", "Ensemble", "SeasonalNaive"]
    assert methods["sparse"] == ["ADIDA", "CrostonOptimized"]
    assert methods["zeros"] == ["Constant"]
    assert np.isfinite(everything[["forecast", "lo_95", "hi_95"]].to_numpy(dtype=float)).all()


def test_summary_and_explain_speak_plainly(fitted):
    summary = fitted.summary()
    assert summary["n_series"] == 6
    assert summary["kinds"] == {"regular": 2, "intermittent": 1, "constant": 2, "short": 1}
    assert sum(summary["chosen"].values()) == 6
    assert summary["per_series"]["short"] == {"kind": "short", "method": "Naive", "n": 4}
    assert summary["trained_at"].startswith("20")
    explained = {e.subject: e for e in fitted.explain()}
    assert explained["short"].label == "Naive"
    assert explained["zeros"].score == 0.0
    words = {i: " ".join(f.text for f in e.factors) for i, e in explained.items()}
    assert words["zeros"].startswith("Every one of the 20 values is the same")
    assert words["single"].startswith("Only one value so far")
    assert words["short"].startswith("Only 4 values (fewer than 10), too few to fit a model")
    assert "of periods have no demand, so only methods for intermittent demand" in words["sparse"]
    assert "over 2 backtests of 4 periods" in words["trend"]
    assert "The next 4 periods average" in words["trend"]


def test_save_and_load_round_trip(fitted, forecasts, tmp_path):
    loaded = load_model(save_model(fitted, tmp_path / "forecast.joblib"))
    pd.testing.assert_frame_equal(loaded.forecast(), forecasts)


def test_series_shorter_than_the_season_are_modelled_without_one():
    rng = np.random.default_rng(1)
    y = 20 + rng.normal(0, 1, 15)
    model = Forecaster(horizon=2, season_length=12, n_windows=1).fit(
        pd.DataFrame({"unique_id": "a", "ds": np.arange(15), "y": y})
    )
    assert model.profile_.at["a", "season"] == 1
    out = model.forecast()
    assert np.isfinite(out[["forecast", "lo_95", "hi_95"]].to_numpy(dtype=float)).all()


def test_dates_continue_at_the_series_frequency_and_gaps_are_filled():
    dates = pd.date_range("2024-01-01", periods=30, freq="W-MON")
    rng = np.random.default_rng(5)
    frame = pd.concat(
        [
            pd.DataFrame({"id": "x", "week": dates[:8], "sales": [1, 2, np.nan, 4, 5, 6, 7, 8]}),
            pd.DataFrame({"id": "long", "week": dates, "sales": 40 + rng.normal(0, 2, 30)}),
        ]
    )
    model = Forecaster(horizon=2).fit(frame, id_col="id", time_col="week", target_col="sales")
    assert model.freq_ == "W-MON"
    assert model.profile_.at["x", "filled"] == 1
    assert model.series_["x"]["y"].tolist()[2] == 3.0
    out = model.forecast()
    assert out.loc[out["unique_id"] == "x", "ds"].tolist() == list(
        pd.date_range("2024-02-26", periods=2, freq="W-MON")
    )
    assert out.loc[out["unique_id"] == "long", "ds"].tolist() == list(
        pd.date_range(dates[-1], periods=3, freq="W-MON")[1:]
    )
    assert model.profile_.at["long", "kind"] == "regular"


def test_text_in_the_value_column_is_refused_with_the_series_named():
    frame = pd.DataFrame({"unique_id": ["a", "a", "b"], "ds": [0, 1, 0], "y": [1, "lots", 2]})
    with pytest.raises(DataValidationError, match="series 'a' has 'lots' at 1"):
        Forecaster().fit(frame)


def test_bad_frames_are_refused():
    with pytest.raises(DataValidationError, match="missing column\\(s\\) 'y'"):
        Forecaster().fit(pd.DataFrame({"unique_id": ["a"], "ds": [0]}))
    with pytest.raises(InsufficientDataError, match="needs at least one series"):
        Forecaster().fit(pd.DataFrame({"unique_id": [], "ds": [], "y": []}))
    with pytest.raises(InsufficientDataError, match="series 'a' has no values"):
        Forecaster().fit(pd.DataFrame({"unique_id": ["a", "a"], "ds": [0, 1], "y": [None, None]}))
    with pytest.raises(DataValidationError, match="series 'a' has two values at 0"):
        Forecaster().fit(pd.DataFrame({"unique_id": ["a", "a"], "ds": [0, 0], "y": [1, 2]}))
    with pytest.raises(DataValidationError, match="horizon must be a positive whole number"):
        Forecaster(horizon=0).fit(panel())
    with pytest.raises(NotFittedError, match="not fitted yet"):
        Forecaster().forecast()


def test_wide_layout_is_read_and_bad_cells_named():
    wide = pd.DataFrame({"V1": ["a", "b"], "V2": ["1", "4"], "V3": ["2", None], "V4": ["3", None]})
    long = wide_to_long(wide)
    assert long.groupby("unique_id")["y"].apply(list).to_dict() == {"a": [1, 2, 3], "b": [4]}
    wide.loc[1, "V3"] = "n/a"
    with pytest.raises(DataValidationError, match="series 'b', column 'V3': 'n/a' is not a number"):
        wide_to_long(wide)


@pytest.mark.datasets
def test_m4_weekly_benchmark_smoke(datasets_dir):
    rows = forecast_eval.benchmark_rows(datasets_dir, quick=True)
    assert rows[0]["dataset"] == "M4 Weekly (4 series, quick)"
    assert [row["metric"] for row in rows[:2]] == ["sMAPE", "MASE"]
    assert 0 < float(rows[0]["figure"]) < 50
    assert 0 < float(rows[1]["figure"]) < 20
    assert rows[-1]["metric"] == "seconds"
