"""`rapport insights evaluate sentiment FILE --text COL --label COL`.

Labels are positive / negative / neutral (or pos/neg/neu, or signed numbers). The analyzer is
fitted on the file as a business would fit it: when the file has enough labels of each kind an own
model is tried, and the figures are its cross-validated accuracy and macro-F1 if it is kept;
otherwise they are VADER's on the whole file (VADER learns nothing from the file, so that is an
out-of-sample figure). VADER's figures are reported either way.
"""

from __future__ import annotations

import argparse
import pathlib
import time

import numpy as np
from sklearn.metrics import accuracy_score, f1_score

from rapport.insights.ml.errors import InsufficientDataError
from rapport.insights.ml.evaluate.text import read_labelled
from rapport.insights.ml.sentiment import (
    NEUTRAL,
    SentimentAnalyzer,
    normalise_labels,
    vader_labels,
    vader_scores,
)

MIN_ROWS = 10


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", type=pathlib.Path, help="CSV with texts and sentiment labels")
    parser.add_argument("--text", required=True, help="column holding the text")
    parser.add_argument("--label", required=True, help="column holding the sentiment label")


def evaluate_frame(texts: list[str], labels) -> dict:
    y = normalise_labels(labels)
    if len(y) < MIN_ROWS:
        raise InsufficientDataError(
            f"needs at least {MIN_ROWS} labelled texts to measure anything; has {len(y)}"
        )
    started = time.perf_counter()
    vader = vader_labels(vader_scores(texts), with_neutral=NEUTRAL in set(y))
    vader_figures = {
        "accuracy": float(accuracy_score(y, vader)),
        "macro_f1": float(f1_score(y, vader, average="macro", zero_division=0)),
    }
    analyzer = SentimentAnalyzer().fit(texts, y)
    chosen = analyzer.cv_scores_.get(analyzer.method_, vader_figures)
    figures = {
        "accuracy": chosen["accuracy"],
        "macro_f1": chosen["macro_f1"],
        "method": analyzer.method_,
        "reason": analyzer.reason_,
        "vader_accuracy": vader_figures["accuracy"],
        "vader_macro_f1": vader_figures["macro_f1"],
        "n": len(y),
        "label_counts": {
            str(k): int(v) for k, v in zip(*np.unique(y, return_counts=True), strict=True)
        },
        "seconds": round(time.perf_counter() - started, 2),
    }
    if "own_model" in analyzer.cv_scores_:
        figures["own_model_cv_accuracy"] = analyzer.cv_scores_["own_model"]["accuracy"]
    return figures


def run(args: argparse.Namespace) -> dict:
    frame = read_labelled(args.file, args.text, args.label)
    return evaluate_frame(frame["text"].tolist(), frame["label"].tolist())


def benchmark_rows(datasets_dir: pathlib.Path, quick: bool) -> list[dict]:
    """Speed only: ../shared/datasets holds no public labelled sentiment data to score against.

    The texts timed are BANKING77 customer messages (their labels are intents, not sentiment).
    """
    path = pathlib.Path(datasets_dir) / "banking77_train" / "train.csv"
    note = {
        "dataset": "none available",
        "task": "sentiment accuracy",
        "metric": "accuracy",
        "figure": "not measured: no public labelled sentiment data in shared/datasets",
        "reference": "",
        "seconds": "",
    }
    if not path.is_file():
        return [note]
    texts = read_labelled(path, "text", "category")["text"].tolist()
    texts = texts[:500] if quick else texts
    vader_scores(texts[:1])  # load the lexicon outside the timing
    started = time.perf_counter()
    vader_scores(texts)
    seconds = time.perf_counter() - started
    return [
        {
            "dataset": f"BANKING77 texts ({len(texts)}), labels unused",
            "task": "VADER sentiment score, one text at a time",
            "metric": "ms per text",
            "figure": f"{1000 * seconds / len(texts):.3f}",
            "reference": "",
            "seconds": round(seconds, 2),
        },
        note,
    ]
