"""`rapport insights evaluate text|forecast|sentiment` on small files: exit codes and JSON keys."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pandas as pd
import pytest

from rapport.insights.cli import main

INTENTS = {
    "billing": ["charged twice", "refund my payment", "wrong invoice amount"],
    "delivery": ["parcel not arrived", "where is my package", "delivery is late"],
}
TAILS = ["", " please", " today", " help", " again", " now"]


def write_texts(path, tails=TAILS):
    rows = [
        {"message": phrase + tail, "intent": intent}
        for intent, phrases in INTENTS.items()
        for phrase, tail in itertools.product(phrases, tails)
    ]
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def run(argv, capsys):
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_text_evaluation_prints_accuracy_and_macro_f1(tmp_path, capsys):
    train = write_texts(tmp_path / "train.csv")
    test = write_texts(tmp_path / "test.csv", tails=[" thanks", " asap"])
    code, out, _ = run(
        [
            "evaluate",
            "text",
            str(train),
            str(test),
            "--text",
            "message",
            "--label",
            "intent",
            "--json",
        ],
        capsys,
    )
    assert code == 0
    figures = json.loads(out)
    assert figures["accuracy"] == 1.0
    assert figures["macro_f1"] == 1.0
    assert figures["n_train"] == 36
    assert figures["n_test"] == 12
    assert figures["n_labels"] == 2


def test_text_evaluation_with_few_per_class_and_a_table(tmp_path, capsys):
    train = write_texts(tmp_path / "train.csv")
    test = write_texts(tmp_path / "test.csv", tails=[" thanks"])
    argv = ["evaluate", "text", str(train), str(test), "--text", "message", "--label", "intent"]
    code, out, _ = run([*argv, "--per-class", "6"], capsys)
    assert code == 0
    table = dict(line.split(None, 1) for line in out.splitlines())
    assert table["n_train"] == "12"
    assert list(table)[:2] == ["accuracy", "macro_f1"]


def test_text_evaluation_names_a_missing_column(tmp_path, capsys):
    train = write_texts(tmp_path / "train.csv")
    code, _, err = run(
        ["evaluate", "text", str(train), str(train), "--text", "body", "--label", "intent"], capsys
    )
    assert code == 2
    assert "train.csv has no column 'body'" in err


def test_text_evaluation_refuses_numbers_as_text(tmp_path, capsys):
    path = tmp_path / "numbers.csv"
    pd.DataFrame({"message": [1, 2, 3], "intent": ["a", "b", "a"]}).to_csv(path, index=False)
    code, _, err = run(
        ["evaluate", "text", str(path), str(path), "--text", "message", "--label", "intent"], capsys
    )
    assert code == 2
    assert "column 'message' in numbers.csv holds numbers, not text" in err


def test_text_evaluation_refuses_too_little_data(tmp_path, capsys):
    path = tmp_path / "tiny.csv"
    pd.DataFrame({"message": ["a b", "c d", "e f"], "intent": ["x", "y", "x"]}).to_csv(
        path, index=False
    )
    code, _, err = run(
        ["evaluate", "text", str(path), str(path), "--text", "message", "--label", "intent"], capsys
    )
    assert code == 2
    assert "needs at least 10 labelled texts; has 3" in err


def write_wide(path, series: dict[str, list]):
    width = max(len(v) for v in series.values())
    rows = [[sid, *values, *[""] * (width - len(values))] for sid, values in series.items()]
    pd.DataFrame(rows, columns=["V1", *[f"V{i + 2}" for i in range(width)]]).to_csv(
        path, index=False
    )
    return path


@pytest.fixture
def m4_like(tmp_path):
    rng = np.random.default_rng(3)
    t = np.arange(33)
    full = {
        "s1": 50 + 1.5 * t + rng.normal(0, 2, t.size),
        "s2": 200 - 1.0 * t + rng.normal(0, 3, t.size),
    }
    train = write_wide(tmp_path / "train.csv", {k: list(v[:30]) for k, v in full.items()})
    test = write_wide(tmp_path / "test.csv", {k: list(v[30:]) for k, v in full.items()})
    return train, test


def test_forecast_evaluation_prints_smape_mase_and_per_model(m4_like, capsys):
    train, test = m4_like
    code, out, _ = run(
        ["evaluate", "forecast", str(train), str(test), "--horizon", "3", "--jobs", "1", "--json"],
        capsys,
    )
    assert code == 0
    figures = json.loads(out)
    assert {"smape", "mase", "per_model", "chosen", "n_series"} <= set(figures)
    assert figures["n_series"] == 2
    assert sorted(figures["per_model"]) == [
        "AutoARIMA",
        "AutoETS",
        "AutoTheta",
        "Ensemble",
        "SeasonalNaive",
    ]
    assert 0 < figures["smape"] < 20
    assert np.isfinite(figures["mase"])


def test_forecast_evaluation_names_a_non_numeric_cell(m4_like, tmp_path, capsys):
    train, test = m4_like
    frame = pd.read_csv(train, dtype=str)
    frame.loc[0, "V5"] = "abc"
    frame.to_csv(tmp_path / "bad.csv", index=False)
    code, _, err = run(
        ["evaluate", "forecast", str(tmp_path / "bad.csv"), str(test), "--horizon", "3"], capsys
    )
    assert code == 2
    assert "series 's1', column 'V5': 'abc' is not a number" in err


def test_forecast_evaluation_refuses_a_test_file_that_is_too_short(m4_like, capsys):
    train, test = m4_like
    code, _, err = run(["evaluate", "forecast", str(train), str(test), "--horizon", "5"], capsys)
    assert code == 2
    assert "series 's1' has 3 test values; --horizon 5 needs 5" in err


def test_forecast_evaluation_refuses_a_missing_test_series(m4_like, tmp_path, capsys):
    train, _ = m4_like
    test = write_wide(tmp_path / "other.csv", {"s1": [1.0, 2.0, 3.0]})
    code, _, err = run(["evaluate", "forecast", str(train), str(test), "--horizon", "3"], capsys)
    assert code == 2
    assert "the test file has no row for series 's2'" in err


def test_forecast_evaluation_reports_a_missing_file(tmp_path, capsys):
    code, _, err = run(
        [
            "evaluate",
            "forecast",
            str(tmp_path / "nope.csv"),
            str(tmp_path / "x.csv"),
            "--horizon",
            "3",
        ],
        capsys,
    )
    assert code == 2
    assert "nope.csv" in err


def write_feedback(path, n_each: int):
    good = ["I love it", "great service", "wonderful cake", "very happy", "excellent", "amazing"]
    bad = ["terrible", "awful delivery", "I hate waiting", "rude staff", "horrible", "bad taste"]
    rows = [{"comment": good[i % 6], "mood": "positive"} for i in range(n_each)]
    rows += [{"comment": bad[i % 6], "mood": "negative"} for i in range(n_each)]
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def test_sentiment_evaluation_prints_accuracy_and_macro_f1(tmp_path, capsys):
    path = write_feedback(tmp_path / "feedback.csv", 6)
    code, out, _ = run(
        ["evaluate", "sentiment", str(path), "--text", "comment", "--label", "mood", "--json"],
        capsys,
    )
    assert code == 0
    figures = json.loads(out)
    assert figures["accuracy"] == 1.0
    assert figures["macro_f1"] == 1.0
    assert figures["method"] == "vader"
    assert figures["vader_accuracy"] == 1.0
    assert figures["n"] == 12
    assert figures["label_counts"] == {"negative": 6, "positive": 6}


def test_sentiment_evaluation_refuses_too_few_rows_and_unknown_labels(tmp_path, capsys):
    path = write_feedback(tmp_path / "few.csv", 3)
    argv = ["evaluate", "sentiment", str(path), "--text", "comment", "--label", "mood"]
    code, _, err = run(argv, capsys)
    assert code == 2
    assert "needs at least 10 labelled texts to measure anything; has 6" in err

    frame = pd.read_csv(write_feedback(tmp_path / "odd.csv", 6))
    frame.loc[0, "mood"] = "meh"
    frame.to_csv(tmp_path / "odd.csv", index=False)
    code, _, err = run(["evaluate", "sentiment", str(tmp_path / "odd.csv"), *argv[3:]], capsys)
    assert code == 2
    assert "got 'meh'" in err
    code, _, err = run([*argv[:3], "--text", "comment", "--label", "stars"], capsys)
    assert code == 2
    assert "few.csv has no column 'stars'" in err
