"""`rapport insights evaluate text TRAIN.csv TEST.csv --text COL --label COL [--per-class N]
[--unknown-label LABEL] [--encoder NAME|none]`.

Trains the text classifier on TRAIN (optionally on only N examples of each label, drawn with a
fixed seed) and reports accuracy and macro-F1 on TEST. Test labels never seen in training count
as errors and are reported.

With ``--unknown-label LABEL``, rows labelled LABEL are out of scope: in TRAIN they only tune
the refusal threshold (without any, the threshold keeps 95% of the known texts' cross-validated
confidences); on TEST the figures are the accuracy on the known rows (a refusal counts as an
error; ``accuracy_without_refusal`` beside it) and the precision and recall of LABEL (the
model answering LABEL when it refuses).
"""

from __future__ import annotations

import argparse
import pathlib
import statistics
import time

import numpy as np
import pandas as pd
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import train_test_split

from rapport.insights.ml.encoder import get_encoder
from rapport.insights.ml.errors import DataValidationError, InsufficientDataError
from rapport.insights.ml.text import TextClassifier

SEED = 0


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("train", type=pathlib.Path, help="CSV with labelled texts to learn from")
    parser.add_argument("test", type=pathlib.Path, help="CSV with labelled texts to score")
    parser.add_argument("--text", required=True, help="column holding the text")
    parser.add_argument("--label", required=True, help="column holding the label")
    parser.add_argument(
        "--per-class", type=int, default=None, help="train on only N examples of each label"
    )
    parser.add_argument(
        "--unknown-label", default=None, metavar="LABEL",
        help="label of out-of-scope rows: they tune the refusal threshold, and the model's "
             "refusals are scored against them",
    )
    parser.add_argument(
        "--encoder", default="auto",
        help="sentence encoder: auto (the default when installed), a name, or none (TF-IDF alone)",
    )


def read_labelled(path: pathlib.Path, text: str, label: str) -> pd.DataFrame:
    """The text and label columns of a CSV, checked; rows without a label are left out."""
    if not pathlib.Path(path).is_file():
        raise DataValidationError(f"{path}: no such file")
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    for column in (text, label):
        if column not in frame.columns:
            raise DataValidationError(
                f"{path.name} has no column {column!r}; its columns are {list(frame.columns)}"
            )
    values = frame[text].dropna()
    if len(values) and pd.to_numeric(values, errors="coerce").notna().all():
        raise DataValidationError(f"column {text!r} in {path.name} holds numbers, not text")
    out = pd.DataFrame({"text": frame[text].fillna(""), "label": frame[label]})
    return out[out["label"].notna()].reset_index(drop=True)


def sample_per_class(frame: pd.DataFrame, n: int, random_state: int = SEED) -> pd.DataFrame:
    """Up to ``n`` rows of every label (all of a label that has fewer), drawn reproducibly."""
    if n < 1:
        raise DataValidationError(f"--per-class must be at least 1; got {n}")
    parts = [
        rows.sample(min(n, len(rows)), random_state=random_state)
        for _, rows in frame.groupby("label", sort=True)
    ]
    return pd.concat(parts).reset_index(drop=True)


def score(train: pd.DataFrame, test: pd.DataFrame, random_state: int = SEED,
          encoder="auto", **params) -> dict:
    """Fit on ``train``, figures on ``test`` (both with text and label columns)."""
    if test.empty:
        raise InsufficientDataError("the test file has no labelled rows")
    started = time.perf_counter()
    model = TextClassifier(random_state=random_state, encoder=encoder, **params).fit(
        train["text"], train["label"])
    fit_seconds = time.perf_counter() - started
    predicted = model.predict(test["text"], refuse=False)
    truth = test["label"].to_numpy(dtype=object)
    unseen = ~np.isin(truth, model.classes_)
    return {
        "accuracy": float(accuracy_score(truth, predicted)),
        "macro_f1": float(f1_score(truth, predicted, average="macro", zero_division=0)),
        "n_train": model.n_train_,
        "n_test": len(test),
        "n_labels": len(model.classes_),
        "test_rows_with_unseen_label": int(unseen.sum()),
        "encoder": None if model.encoder_ is None else model.encoder_.name,
        "fit_seconds": round(fit_seconds, 2),
        "model": model,
    }


def score_with_unknown(train: pd.DataFrame, test: pd.DataFrame, unknown_label: str,
                       random_state: int = SEED, encoder="auto", **params) -> dict:
    """Fit on ``train`` (rows labelled ``unknown_label`` only tune the threshold); on ``test``,
    accuracy on the known rows and precision/recall of refusing the unknown ones."""
    truth = test["label"].to_numpy(dtype=object)
    is_unknown = truth == unknown_label
    if test.empty:
        raise InsufficientDataError("the test file has no labelled rows")
    if is_unknown.all():
        raise InsufficientDataError(f"the test file has no rows with a label other than "
                                    f"{unknown_label!r}")
    started = time.perf_counter()
    model = TextClassifier(random_state=random_state, encoder=encoder,
                           unknown_label=unknown_label, **params).fit(train["text"], train["label"])
    fit_seconds = time.perf_counter() - started
    probabilities = model.predict_proba(test["text"])
    best = model.classes_[probabilities.argmax(axis=1)].astype(object)
    refused = probabilities.max(axis=1) < model.threshold_
    known = ~is_unknown
    right = (best == truth) & ~refused
    figures = {
        "accuracy": float(right[known].mean()),
        "accuracy_without_refusal": float((best == truth)[known].mean()),
        "unknown_precision": float((refused & is_unknown).sum() / refused.sum())
        if refused.any() else None,
        "unknown_recall": float(refused[is_unknown].mean()) if is_unknown.any() else None,
        "refused_known": float(refused[known].mean()),
        "threshold": model.threshold_,
        "threshold_method": model.threshold_method_,
        "n_train": model.n_train_,
        "n_train_unknown": model.n_unknown_,
        "n_test_known": int(known.sum()),
        "n_test_unknown": int(is_unknown.sum()),
        "n_labels": len(model.classes_),
        "test_rows_with_unseen_label": int((known & ~np.isin(truth, model.classes_)).sum()),
        "encoder": None if model.encoder_ is None else model.encoder_.name,
        "fit_seconds": round(fit_seconds, 2),
        "model": model,
    }
    return figures


def run(args: argparse.Namespace) -> dict:
    train = read_labelled(args.train, args.text, args.label)
    test = read_labelled(args.test, args.text, args.label)
    if args.per_class is not None:
        train = sample_per_class(train, args.per_class)
    encoder = get_encoder(args.encoder)
    if args.unknown_label is not None:
        figures = score_with_unknown(train, test, args.unknown_label, encoder=encoder)
    else:
        figures = score(train, test, encoder=encoder)
    figures.pop("model")
    return figures


def benchmark_rows(datasets_dir: pathlib.Path, quick: bool) -> list[dict]:
    """BANKING77: a stratified 20% held aside (seed 0), all the rest or 10 per intent."""
    path = pathlib.Path(datasets_dir) / "banking77_train" / "train.csv"
    if not path.is_file():
        return [{"dataset": "BANKING77", "task": "intent", "figure": f"not run: {path} not found"}]
    data = read_labelled(path, "text", "category")
    if quick:
        labels = sorted(data["label"].unique())[:20]
        data = sample_per_class(data[data["label"].isin(labels)], 15)
    train, test = train_test_split(data, test_size=0.2, stratify=data["label"], random_state=SEED)
    name = f"BANKING77 ({len(data)} texts{', quick' if quick else ''})"
    full = score(train, test)
    few = score(sample_per_class(train, 10), test)

    texts = test["text"].tolist()[:200]
    model = full["model"]
    model.predict(texts[:1])
    latencies = []
    for text in texts:
        started = time.perf_counter()
        model.predict([text])
        latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    TextClassifier(random_state=SEED).fit(data["text"], data["label"])
    all_seconds = time.perf_counter() - started
    return [
        {
            "dataset": name,
            "task": f"intent, held-out 20% ({len(test)}), trained on the rest ({len(train)})",
            "metric": "accuracy",
            "figure": f"{full['accuracy']:.4f}",
            "reference": "0.9366 BERT-large (official test split)",
            "seconds": full["fit_seconds"],
        },
        {
            "dataset": name,
            "task": "intent, same split, trained on the rest",
            "metric": "macro-F1",
            "figure": f"{full['macro_f1']:.4f}",
            "reference": "",
            "seconds": "",
        },
        {
            "dataset": name,
            "task": f"intent, held-out 20%, 10 examples per intent ({few['n_train']})",
            "metric": "accuracy",
            "figure": f"{few['accuracy']:.4f}",
            "reference": "0.8519 USE+ConveRT 10-shot (official test split)",
            "seconds": few["fit_seconds"],
        },
        {
            "dataset": name,
            "task": f"train on all {len(data)} texts",
            "metric": "seconds",
            "figure": f"{all_seconds:.1f}",
            "reference": "target < 120 s on 2 cores (10,000 texts)",
            "seconds": round(all_seconds, 2),
        },
        {
            "dataset": name,
            "task": f"predict one text (median of {len(latencies)})",
            "metric": "milliseconds",
            "figure": f"{1000 * statistics.median(latencies):.2f}",
            "reference": "target < 20 ms",
            "seconds": round(sum(latencies), 3),
        },
    ]
