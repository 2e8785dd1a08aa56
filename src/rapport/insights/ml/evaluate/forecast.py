"""`rapport insights evaluate forecast TRAIN.csv TEST.csv --horizon H [--season M]`.

Both files are in the M4 layout: one series per row, an id column, then the values in time order
(padded with blanks). The forecaster is fitted on TRAIN, forecasts H periods, and is scored
against the first H values of the same id in TEST with sMAPE and MASE (M4 definitions, MASE
scaled by the seasonal naive error over the whole training series).
"""

from __future__ import annotations

import argparse
import pathlib
import time

import numpy as np
import pandas as pd

from rapport.insights.ml.errors import DataValidationError, InsufficientDataError
from rapport.insights.ml.forecast import Forecaster, default_jobs, wide_to_long
from rapport.insights.ml.metrics import mase, smape

M4_REFERENCES = {
    "Theta": (9.093, 2.637),
    "Comb": (8.944, 2.432),
    "winner": (7.817, 2.356),
}


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("train", type=pathlib.Path, help="CSV: id column, then values")
    parser.add_argument("test", type=pathlib.Path, help="CSV: id column, then the next values")
    parser.add_argument("--horizon", type=int, required=True, help="periods to forecast")
    parser.add_argument("--season", type=int, default=1, help="periods per season (1: none)")
    parser.add_argument("--jobs", type=int, default=None, help="processes (default: all cores)")


def _read_wide(path: pathlib.Path) -> pd.DataFrame:
    if not pathlib.Path(path).is_file():
        raise DataValidationError(f"{path}: no such file")
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    if frame.shape[1] < 2:
        raise DataValidationError(f"{path}: needs an id column followed by value columns")
    if frame.empty:
        raise InsufficientDataError(f"{path}: has no series")
    return frame


def evaluate_files(
    train: pd.DataFrame,
    test: pd.DataFrame,
    *,
    horizon: int,
    season: int = 1,
    n_jobs: int = 1,
    forecaster: Forecaster | None = None,
) -> dict:
    """Fit on ``train`` (M4 layout), score against ``test``; figures as a plain dict."""
    if horizon < 1:
        raise DataValidationError(f"--horizon must be at least 1; got {horizon}")
    if season < 1:
        raise DataValidationError(f"--season must be at least 1; got {season}")
    started = time.perf_counter()
    long = wide_to_long(train)
    actual_long = wide_to_long(test)
    actual = {sid: rows["y"].to_numpy() for sid, rows in actual_long.groupby("unique_id")}
    insample = {sid: rows["y"].to_numpy() for sid, rows in long.groupby("unique_id")}
    missing = [sid for sid in insample if sid not in actual]
    if missing:
        raise DataValidationError(
            f"the test file has no row for series {', '.join(map(repr, missing[:5]))}"
        )
    short = [sid for sid in insample if actual[sid].size < horizon]
    if short:
        raise DataValidationError(
            f"series {short[0]!r} has {actual[short[0]].size} test values; "
            f"--horizon {horizon} needs {horizon}"
        )
    holes = [sid for sid in insample if np.isnan(actual[sid][:horizon]).any()]
    if holes:
        raise DataValidationError(f"series {holes[0]!r} has blanks among its test values")

    forecaster = forecaster or Forecaster(horizon=horizon, season_length=season, n_jobs=n_jobs)
    forecaster.fit(long)
    everything = forecaster.forecast_all_methods(horizon)
    seconds = time.perf_counter() - started

    chosen = everything["method"] == everything["unique_id"].map(forecaster.choice_)
    scores: dict[str, dict[str, list[float]]] = {}
    for (series_id, method), rows in everything.groupby(["unique_id", "method"], sort=False):
        predicted = rows["forecast"].to_numpy()
        truth = actual[series_id][:horizon]
        history = insample[series_id][~np.isnan(insample[series_id])]
        labels = [method]
        if chosen[rows.index].all():
            labels.append("selected")
        for label in labels:
            bucket = scores.setdefault(label, {"smape": [], "mase": []})
            bucket["smape"].append(smape(truth, predicted))
            scale_ok = history.size > season
            bucket["mase"].append(mase(truth, predicted, history, season) if scale_ok else np.nan)

    def summarise(bucket: dict[str, list[float]]) -> dict:
        mase_values = np.asarray(bucket["mase"], dtype=float)
        return {
            "smape": float(np.mean(bucket["smape"])),
            "mase": float(np.nanmean(mase_values)) if np.isfinite(mase_values).any() else None,
            "n_series": len(bucket["smape"]),
            "mase_undefined": int(np.isnan(mase_values).sum()),
        }

    selected = summarise(scores.pop("selected"))
    return {
        "smape": selected["smape"],
        "mase": selected["mase"],
        "n_series": selected["n_series"],
        "mase_undefined": selected["mase_undefined"],
        "horizon": horizon,
        "season": season,
        "chosen": forecaster.summary()["chosen"],
        "per_model": {method: summarise(bucket) for method, bucket in sorted(scores.items())},
        "seconds": round(seconds, 2),
    }


def run(args: argparse.Namespace) -> dict:
    train = _read_wide(args.train)
    test = _read_wide(args.test)
    jobs = args.jobs if args.jobs else default_jobs()
    return evaluate_files(train, test, horizon=args.horizon, season=args.season, n_jobs=jobs)


def benchmark_rows(datasets_dir: pathlib.Path, quick: bool) -> list[dict]:
    """M4 Weekly, h = 13: sMAPE and MASE over all 359 series (a few with ``quick``)."""
    folder = pathlib.Path(datasets_dir) / "m4_weekly"
    if not (folder / "Weekly-train.csv").is_file():
        return [
            {
                "dataset": "M4 Weekly",
                "task": "forecast",
                "metric": "sMAPE",
                "figure": f"not run: {folder} not found",
            }
        ]
    train = _read_wide(folder / "Weekly-train.csv")
    test = _read_wide(folder / "Weekly-test.csv")
    if quick:
        lengths = train.iloc[:, 1:].notna().sum(axis=1)
        keep = lengths.sort_values(kind="stable").index[:4]
        train, test = train.loc[keep], test.loc[keep]
    jobs = 1 if quick else min(2, default_jobs())
    figures = evaluate_files(train, test, horizon=13, season=1, n_jobs=jobs)
    name = f"M4 Weekly ({figures['n_series']} series{', quick' if quick else ''})"
    theta, comb, winner = (M4_REFERENCES[k] for k in ("Theta", "Comb", "winner"))
    rows = [
        {
            "dataset": name,
            "task": "forecast h=13, per-series choice",
            "metric": "sMAPE",
            "figure": f"{figures['smape']:.3f}",
            "reference": f"Comb {comb[0]}, winner {winner[0]}, Theta {theta[0]}",
            "seconds": figures["seconds"],
        },
        {
            "dataset": name,
            "task": "forecast h=13, per-series choice",
            "metric": "MASE",
            "figure": f"{figures['mase']:.3f}",
            "reference": f"Comb {comb[1]}, winner {winner[1]}, Theta {theta[1]}",
            "seconds": "",
        },
    ]
    for method, figure in figures["per_model"].items():
        if figure["n_series"] == figures["n_series"]:
            rows.append(
                {
                    "dataset": name,
                    "task": f"forecast h=13, {method} on every series",
                    "metric": "sMAPE / MASE",
                    "figure": f"{figure['smape']:.3f} / {figure['mase']:.3f}",
                    "reference": "",
                    "seconds": "",
                }
            )
    rows.append(
        {
            "dataset": name,
            "task": "fit, backtest, forecast every method for every series (2 processes)",
            "metric": "seconds",
            "figure": f"{figures['seconds']:.1f}",
            "reference": "target < 300 s on 2 cores",
            "seconds": figures["seconds"],
        }
    )
    return rows
