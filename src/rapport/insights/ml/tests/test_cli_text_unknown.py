"""`rapport insights evaluate text TRAIN TEST --unknown-label LABEL [--encoder none]`."""

from __future__ import annotations

import itertools
import json

import pandas as pd

from rapport.insights.cli import main
from rapport.insights.ml import encoder as encoders

INTENTS = {
    "billing": ["I was charged twice", "refund my payment", "wrong amount on my invoice"],
    "delivery": ["my parcel has not arrived", "where is my package", "the delivery is late"],
    "login": ["I cannot log in", "reset my password", "my account is locked"],
}
OTHER = ["what is the weather tomorrow", "who won the football game", "tell me a joke",
         "best pizza recipe", "how tall is the eiffel tower", "play some music"]
TAILS = ["", " please", " today", " help", " again"]


def write(path, tails, other):
    rows = [{"message": p + t, "intent": i}
            for i, phrases in INTENTS.items() for p, t in itertools.product(phrases, tails)]
    rows += [{"message": text, "intent": "out of scope"} for text in other]
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def run(argv, capsys):
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_unknown_rows_tune_the_threshold_and_are_scored(tmp_path, capsys):
    train = write(tmp_path / "train.csv", TAILS, OTHER[:3])
    test = write(tmp_path / "test.csv", [" thanks"], OTHER[3:])
    argv = ["evaluate", "text", str(train), str(test), "--text", "message", "--label", "intent",
            "--unknown-label", "out of scope", "--json"]
    code, out, err = run(argv, capsys)
    assert code == 0, err
    figures = json.loads(out)
    assert figures["n_train"] == 45 and figures["n_train_unknown"] == 3
    assert figures["n_test_known"] == 9 and figures["n_test_unknown"] == 3
    assert figures["n_labels"] == 3
    assert figures["threshold_method"].startswith("tuned on 3 out-of-scope")
    assert figures["accuracy_without_refusal"] == 1.0
    assert 0.0 <= figures["accuracy"] <= figures["accuracy_without_refusal"]
    assert figures["unknown_recall"] > 0.5
    expected = None if encoders.unavailable() else encoders.DEFAULT
    assert figures["encoder"] == expected


def test_tf_idf_alone_and_no_unknown_rows_in_train(tmp_path, capsys):
    train = write(tmp_path / "train.csv", TAILS, [])
    test = write(tmp_path / "test.csv", [" thanks"], OTHER)
    code, out, err = run(["evaluate", "text", str(train), str(test), "--text", "message",
                          "--label", "intent", "--unknown-label", "out of scope",
                          "--encoder", "none"], capsys)
    assert code == 0, err
    table = dict(line.split(None, 1) for line in out.splitlines())
    assert table["encoder"] == "None"
    assert table["n_train_unknown"] == "0"
    assert table["threshold_method"].startswith("keeps 95% of the known texts")


def test_a_test_file_of_only_unknown_rows_and_an_unknown_encoder_are_refused(tmp_path, capsys):
    train = write(tmp_path / "train.csv", TAILS, OTHER[:3])
    only_other = tmp_path / "other.csv"
    pd.DataFrame({"message": OTHER, "intent": "out of scope"}).to_csv(only_other, index=False)
    base = ["evaluate", "text", str(train), str(only_other), "--text", "message", "--label",
            "intent", "--unknown-label", "out of scope"]
    code, _, err = run(base, capsys)
    assert code == 2
    assert "the test file has no rows with a label other than 'out of scope'" in err
    code, _, err = run([*base[:3], str(train), *base[4:], "--encoder", "bert-huge"], capsys)
    assert code == 2
    assert "unknown sentence encoder 'bert-huge'" in err
