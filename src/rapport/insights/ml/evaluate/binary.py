"""`rapport insights evaluate binary FILE.csv --target COL [--drop COL ...]`.

Fits :class:`~rapport.insights.ml.binary.BinaryScorer`, which cross-validates (5 folds,
stratified) while choosing its method, and reports those out-of-fold figures.
"""

from __future__ import annotations

import argparse
import pathlib
import time

import numpy as np
import pandas as pd

from rapport.insights.ml.binary import BinaryScorer
from rapport.insights.ml.errors import DataValidationError

TELCO_REFERENCE = "0.842 (logistic regression, 10-fold CV, Grigorev's ML Bookcamp)"


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", type=pathlib.Path, help="CSV file, one row per entity")
    parser.add_argument("--target", required=True, help="column holding the outcome (2 values)")
    parser.add_argument("--drop", action="append", default=[], help="column to leave out")
    parser.add_argument("--positive", help="outcome value that counts as positive")
    parser.add_argument("--random-state", type=int, default=0)


def read_table(path: pathlib.Path) -> pd.DataFrame:
    if not path.is_file():
        raise FileNotFoundError(f"no such file: {path}")
    try:
        return pd.read_csv(path, sep=None, engine="python")
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as error:
        raise DataValidationError(f"{path} is not a readable CSV file: {error}") from error


def evaluate(
    frame: pd.DataFrame,
    target: str,
    drop: list[str] | None = None,
    positive: object = None,
    random_state: int = 0,
) -> dict:
    """Out-of-fold figures for ``frame`` predicting ``target``."""
    drop = list(drop or [])
    missing = [c for c in [target, *drop] if c not in frame.columns]
    if missing:
        raise DataValidationError(
            f"column(s) not in the file: {missing}; columns are {list(frame.columns)}"
        )
    if positive is not None and pd.api.types.is_numeric_dtype(frame[target]):
        positive = pd.to_numeric(pd.Series([positive])).iloc[0]
    scorer = BinaryScorer(positive_label=positive, random_state=random_state)
    started = time.perf_counter()
    scorer.fit(frame.drop(columns=[target, *drop]), frame[target])
    summary = scorer.summary()
    return {
        "rows": summary["n_train"],
        "positive": str(scorer.positive_label_),
        "positive_rate": summary["metrics"]["positive_rate"],
        "roc_auc": summary["metrics"]["roc_auc"],
        "pr_auc": summary["metrics"]["pr_auc"],
        "calibration_error": summary["metrics"]["calibration_error"],
        "folds": summary["metrics"]["folds"],
        "method": summary["method"],
        "cv_roc_auc_by_method": summary["cv_roc_auc_by_method"],
        "dropped_columns": summary["dropped_columns"],
        "top_factors": [f["text"] for f in summary["top_factors"]],
        "seconds": round(time.perf_counter() - started, 2),
    }


def run(args: argparse.Namespace) -> dict:
    frame = read_table(args.file)
    return evaluate(frame, args.target, args.drop, args.positive, args.random_state)


def _telco(datasets_dir: pathlib.Path) -> pd.DataFrame:
    return pd.read_csv(datasets_dir / "telco_churn" / "Telco-Customer-Churn.csv")


def benchmark_rows(datasets_dir: pathlib.Path, quick: bool) -> list[dict]:
    frame = _telco(datasets_dir)
    if quick:
        frame = frame.sample(1500, random_state=0)
    figures = evaluate(frame, "Churn", ["customerID"], positive="Yes")
    rows = [
        {
            "dataset": f"telco_churn ({len(frame)} rows)",
            "task": f"churn, binary scorer ({figures['method']})",
            "metric": "ROC AUC, 5-fold stratified CV",
            "figure": f"{figures['roc_auc']:.4f}",
            "reference": TELCO_REFERENCE + "; aim > 0.85",
            "seconds": figures["seconds"],
        },
        {
            "dataset": "telco_churn",
            "task": "churn, binary scorer",
            "metric": "PR AUC / calibration error",
            "figure": f"{figures['pr_auc']:.4f} / {figures['calibration_error']:.4f}",
            "reference": "-",
            "seconds": "",
        },
    ]
    rows.append(_speed_row(frame, 20_000 if quick else 1_000_000))
    return rows


def _speed_row(frame: pd.DataFrame, n_rows: int) -> dict:
    scorer = BinaryScorer(random_state=0).fit(
        frame.drop(columns=["Churn", "customerID"]), frame["Churn"]
    )
    big = frame.drop(columns=["Churn"]).sample(n_rows, replace=True, random_state=0)
    started, cpu_started = time.perf_counter(), time.process_time()
    scores = scorer.predict_proba(big)[:, 1]
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    if not np.isfinite(scores).all():
        raise RuntimeError("the scorer returned a non-finite score")
    return {
        "dataset": f"telco_churn resampled to {n_rows:,} rows",
        "task": f"score ({scorer.method_})",
        # CPU time too: on a shared machine wall time mostly measures the neighbours.
        "metric": "seconds to score all rows (wall / CPU)",
        "figure": f"{seconds:.2f} / {cpu:.2f}",
        "reference": "target < 10 s for 1,000,000 rows",
        "seconds": round(seconds, 2),
    }
