"""`rapport insights evaluate clv TRANSACTIONS.csv --customer COL --date COL [--value COL]
--calibration-end DATE`: fit BG/NBD (+ Gamma-Gamma) on purchases up to the calibration end
and compare predicted with actual repeat purchases after it.
"""

from __future__ import annotations

import argparse
import pathlib
import time

import numpy as np
import pandas as pd

from rapport.insights.ml.clv import (
    DAYS_PER_UNIT,
    LifetimeValue,
    _import_lifetimes,
    parse_dates,
    rfm_summary,
)
from rapport.insights.ml.errors import DataValidationError
from rapport.insights.ml.evaluate.binary import read_table

PAPER = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426, "log_likelihood": -9582.4}


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", type=pathlib.Path, help="CSV file, one row per purchase")
    parser.add_argument("--customer", required=True, help="column identifying the customer")
    parser.add_argument("--date", required=True, help="column holding the purchase date")
    parser.add_argument("--value", help="column holding the purchase value")
    parser.add_argument(
        "--calibration-end", required=True, help="last date (inclusive) the model may see"
    )
    parser.add_argument("--unit", choices=sorted(DAYS_PER_UNIT), default="W")


def evaluate(
    transactions: pd.DataFrame,
    *,
    customer: str,
    date: str,
    value: str | None,
    calibration_end,
    unit: str = "W",
) -> dict:
    """Parameters and holdout predicted vs actual repeat purchases."""
    try:
        end = pd.Timestamp(calibration_end)
    except (ValueError, TypeError) as error:
        raise DataValidationError(f"--calibration-end {calibration_end!r} is not a date") from error
    summary = rfm_summary(
        transactions, customer=customer, date=date, value=value, observation_end=end, unit=unit
    )
    dates = parse_dates(transactions[date], date)
    later = pd.DataFrame({"customer": transactions[customer], "day": dates.dt.normalize()})
    if value:
        later = later[pd.to_numeric(transactions[value], errors="coerce").fillna(0) >= 0]
    later = later[(later["day"] > end) & later["customer"].isin(summary.index)]
    if later.empty:
        raise DataValidationError(
            f"no purchases after the calibration end {end.date()} by customers seen before it; "
            "choose an earlier --calibration-end"
        )
    holdout_end = later["day"].max()
    holdout_days = (holdout_end - end).days
    actual = later.drop_duplicates().groupby("customer").size()
    actual = actual.reindex(summary.index, fill_value=0).to_numpy(dtype=float)
    _import_lifetimes()  # import once outside the timing: it loads autograd
    started = time.perf_counter()
    model = LifetimeValue(unit=unit).fit(summary)
    fit_seconds = time.perf_counter() - started
    predicted = model.expected_purchases(summary, holdout_days)
    figures = {
        **{k: model.params_[k] for k in ("r", "alpha", "a", "b")},
        "log_likelihood": model.log_likelihood_,
        "customers": model.n_customers_,
        "repeat_customers": model.n_repeat_customers_,
        "calibration_end": str(end.date()),
        "holdout_end": str(holdout_end.date()),
        "holdout_days": holdout_days,
        "holdout_predicted_purchases": float(predicted.sum()),
        "holdout_actual_purchases": float(actual.sum()),
        "holdout_mae_per_customer": float(np.mean(np.abs(predicted - actual))),
        "holdout_correlation": float(np.corrcoef(predicted, actual)[0, 1]),
        "fit_seconds": round(fit_seconds, 3),
    }
    if model.spend_params_:
        figures.update(model.spend_params_)
    else:
        figures["spend_model"] = model.spend_refusal_
    return figures


def run(args: argparse.Namespace) -> dict:
    return evaluate(
        read_table(args.file),
        customer=args.customer,
        date=args.date,
        value=args.value,
        calibration_end=args.calibration_end,
        unit=args.unit,
    )


def read_cdnow_sample(datasets_dir: pathlib.Path) -> pd.DataFrame:
    """CDNOW_sample.txt: master id, sample id, date (YYYYMMDD), CDs, dollars; no header."""
    frame = pd.read_csv(
        datasets_dir / "cdnow" / "CDNOW_sample.txt",
        sep=r"\s+",
        header=None,
        names=["master_id", "customer_id", "date", "cds", "value"],
        dtype={"date": str},
    )
    frame["date"] = pd.to_datetime(frame["date"], format="%Y%m%d")
    return frame


def benchmark_rows(datasets_dir: pathlib.Path, quick: bool) -> list[dict]:
    summary = pd.read_csv(datasets_dir / "cdnow" / "cdnow_customers_summary.csv")
    _import_lifetimes()
    started = time.perf_counter()
    model = LifetimeValue().fit(summary)
    seconds = time.perf_counter() - started
    params = model.params_
    rows = [
        {
            "dataset": "cdnow summary (2,357 customers)",
            "task": "BG/NBD parameters",
            "metric": "r / alpha / a / b",
            "figure": " / ".join(f"{params[k]:.3f}" for k in ("r", "alpha", "a", "b")),
            "reference": "0.243 / 4.414 / 0.793 / 2.426 (Fader, Hardie & Lee 2005; +-0.005)",
            "seconds": round(seconds, 3),
        },
        {
            "dataset": "cdnow summary",
            "task": "BG/NBD fit",
            "metric": "log-likelihood",
            "figure": f"{model.log_likelihood_:.1f}",
            "reference": "-9582.4",
            "seconds": "",
        },
        {
            "dataset": "cdnow summary",
            "task": "BG/NBD fit speed",
            "metric": "seconds to fit (lifetimes imported)",
            "figure": f"{seconds:.3f}",
            "reference": "target < 2 s",
            "seconds": round(seconds, 3),
        },
    ]
    transactions = read_cdnow_sample(datasets_dir)
    if quick:
        keep = transactions["customer_id"].drop_duplicates().sample(800, random_state=0)
        transactions = transactions[transactions["customer_id"].isin(keep)]
    started = time.perf_counter()
    figures = evaluate(
        transactions,
        customer="customer_id",
        date="date",
        value="value",
        calibration_end="1997-09-30",
    )
    seconds = time.perf_counter() - started
    rows += [
        {
            "dataset": f"cdnow sample ({figures['customers']:,} customers)",
            "task": "repeat purchases, holdout weeks 40-78",
            "metric": "predicted / actual (distinct purchase days)",
            "figure": f"{figures['holdout_predicted_purchases']:.1f} / "
            f"{figures['holdout_actual_purchases']:.0f}",
            "reference": "1,653.4 predicted / 1,882 actual (dataset SOURCE.md, lifetimes run)",
            "seconds": round(seconds, 2),
        },
        {
            "dataset": "cdnow sample",
            "task": "Gamma-Gamma spend",
            "metric": "p / q / v",
            "figure": " / ".join(f"{figures.get(k, float('nan')):.2f}" for k in "pqv"),
            "reference": "6.25 / 3.74 / 15.44 (lifetimes test, Hardie note 025)",
            "seconds": "",
        },
    ]
    return rows
