"""TextClassifier with the sentence encoder: it beats TF-IDF on real intents, refuses what it
does not know, and runs on TF-IDF alone when the encoder is turned off."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rapport.insights.ml import encoder as encoders
from rapport.insights.ml.persistence import load_model, save_model
from rapport.insights.ml.tests.test_text import corpus
from rapport.insights.ml.text import TextClassifier

INTENTS = 12


@pytest.fixture(scope="module")
def minilm():
    if (reason := encoders.unavailable()) is not None:
        pytest.skip(reason)
    return encoders.encoder_by_name(encoders.DEFAULT)


@pytest.fixture(scope="module")
def banking(datasets_dir):
    """12 BANKING77 intents: 8 training texts each, 15 test texts each, and texts of 6 other
    intents as out-of-scope (half to tune the threshold, half to test it)."""
    data = pd.read_csv(datasets_dir / "banking77_train" / "train.csv")
    names = sorted(data["category"].unique())
    known, other = names[:INTENTS], names[INTENTS:INTENTS + 6]
    rows = {name: data[data["category"] == name].sample(23, random_state=0) for name in known}
    train = pd.concat([r.iloc[:8] for r in rows.values()])
    test = pd.concat([r.iloc[8:] for r in rows.values()])
    outside = data[data["category"].isin(other)].sample(120, random_state=0)["text"].tolist()
    return train, test, outside[:60], outside[60:]


def accuracy(model, frame) -> float:
    return float(np.mean(model.predict(frame["text"], refuse=False) == frame["category"]))


@pytest.mark.datasets
def test_the_encoder_beats_tf_idf_on_few_real_examples(banking, minilm):
    train, test, _, _ = banking
    words = TextClassifier(encoder=None).fit(train["text"], train["category"])
    both = TextClassifier(encoder=minilm).fit(train["text"], train["category"])
    assert both.encoder_ == minilm and words.encoder_ is None
    assert both.embedding_share_ > 0
    assert accuracy(both, test) > accuracy(words, test) + 0.08
    assert accuracy(both, test) > 0.8
    assert "sentence embeddings (minilm-l6-int8)" in both.summary()["method"]


@pytest.mark.datasets
def test_refuses_other_intents_after_tuning_on_examples_of_them(banking, minilm):
    train, test, tune, unseen = banking
    model = TextClassifier(encoder=minilm, unknown_label="other").fit(
        [*train["text"], *tune], [*train["category"], *["other"] * len(tune)])
    assert "other" not in model.classes_
    assert model.n_unknown_ == 60
    assert model.threshold_method_.startswith("tuned on 60 out-of-scope")
    refused_unseen = np.mean(model.predict(unseen) == "other")
    kept_known = np.mean(model.predict(test["text"]) != "other")
    assert refused_unseen > 0.5
    assert kept_known > 0.7
    # The same texts through unknown_texts= instead of a label.
    again = TextClassifier(encoder=minilm, unknown_label="other").fit(
        train["text"], train["category"], unknown_texts=tune)
    assert again.threshold_ == pytest.approx(model.threshold_)


def test_without_examples_the_threshold_keeps_95_percent_of_known_texts(minilm):
    texts, labels = corpus()
    model = TextClassifier(encoder=minilm).fit(texts, labels)
    assert model.threshold_method_.startswith(
        "keeps 95% of the known texts' cross-validated confidences")
    assert 0 < model.threshold_ <= 0.5
    probabilities = model.predict_proba(["please refund my payment", "zebra quantum banana"])
    predicted = model.predict(["please refund my payment", "zebra quantum banana"])
    for p, label in zip(probabilities, predicted, strict=True):
        assert (label == "unknown") == (p.max() < model.threshold_)
    assert predicted[0] == "billing"
    lenient = TextClassifier(encoder=minilm, keep_known=1.0).fit(texts, labels)
    assert lenient.threshold_ <= model.threshold_


def test_turned_off_by_the_environment_it_runs_on_tf_idf_alone(monkeypatch):
    monkeypatch.setenv(encoders.ENV, "none")
    texts, labels = corpus()
    model = TextClassifier().fit(texts, labels)
    assert model.encoder_ is None and model.embedding_svm_ is None
    assert model.summary()["method"] == (
        "TF-IDF word + character n-grams, linear SVM, temperature-scaled")
    assert model.model_version_.startswith("text-svm-")
    assert list(model.predict(["I was charged twice this month"])) == ["billing"]
    assert model.explain(["refund my payment"])[0].factors[0].weight > 0


def test_a_saved_model_keeps_its_encoder_by_name(minilm, tmp_path):
    texts, labels = corpus()
    model = TextClassifier(encoder=minilm).fit(texts, labels)
    loaded = load_model(save_model(model, tmp_path / "text.joblib"))
    assert loaded.encoder_ == minilm
    sample = ["where is my package", "mein Paket fehlt"]
    assert np.allclose(loaded.predict_proba(sample), model.predict_proba(sample))
    assert (tmp_path / "text.joblib").stat().st_size < 5_000_000
