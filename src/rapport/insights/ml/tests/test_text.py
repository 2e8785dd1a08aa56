"""TextClassifier: contract, determinism, refusals, bad data, explanations, persistence."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from rapport.insights.ml.errors import DataValidationError, InsufficientDataError, NotFittedError
from rapport.insights.ml.evaluate import text as text_eval
from rapport.insights.ml.persistence import load_model, save_model
from rapport.insights.ml.text import TextClassifier

PHRASES = {
    "billing": ["I was charged twice", "refund my payment", "wrong amount on my invoice"],
    "delivery": ["my parcel has not arrived", "where is my package", "delivery is late"],
    "login": ["cannot log in", "reset my password", "my account is locked"],
    "lieferung": ["mein Paket ist nicht angekommen", "wo bleibt meine Lieferung"],
}
ENDINGS = ["", " please help", " since yesterday", " what should I do", " thanks"]


def corpus() -> tuple[list[str], list[str]]:
    texts, labels = [], []
    for label, phrases in PHRASES.items():
        for phrase, ending in itertools.product(phrases, ENDINGS):
            texts.append(phrase + ending)
            labels.append(label)
    return texts, labels


@pytest.fixture(scope="module")
def model() -> TextClassifier:
    texts, labels = corpus()
    return TextClassifier(random_state=0).fit(texts, labels)


def test_fit_returns_self_and_learns_the_labels(model):
    assert list(model.classes_) == ["billing", "delivery", "lieferung", "login"]
    assert model.n_train_ == 55
    predicted = model.predict(["I was charged twice this month", "Paket nicht angekommen"])
    assert list(predicted) == ["billing", "lieferung"]


def test_predict_proba_is_a_distribution(model):
    probabilities = model.predict_proba(["where is my package", "reset my password now"])
    assert probabilities.shape == (2, 4)
    assert np.allclose(probabilities.sum(axis=1), 1.0)
    assert np.all((probabilities >= 0) & (probabilities <= 1))
    assert probabilities[0].argmax() == list(model.classes_).index("delivery")


def test_top_k_is_sorted_and_has_k_labels(model):
    (ranked,) = model.top_k(["my account is locked"], k=3)
    assert len(ranked) == 3
    assert ranked[0][0] == "login"
    assert [p for _, p in ranked] == sorted((p for _, p in ranked), reverse=True)
    with pytest.raises(DataValidationError, match="k must be at least 1"):
        model.top_k(["x"], k=0)


def test_same_random_state_gives_identical_models():
    texts, labels = corpus()
    first = TextClassifier(random_state=3).fit(texts, labels)
    second = TextClassifier(random_state=3).fit(texts, labels)
    sample = ["refund please", "late parcel", "locked out"]
    assert np.array_equal(first.predict_proba(sample), second.predict_proba(sample))
    assert first.temperature_ == second.temperature_


def test_refuses_too_few_texts():
    with pytest.raises(InsufficientDataError, match="needs at least 10 labelled texts; has 4"):
        TextClassifier().fit(["a b", "c d", "e f", "g h"], ["x", "y", "x", "y"])


def test_refuses_a_single_label():
    with pytest.raises(InsufficientDataError, match="every text is labelled 'billing'"):
        TextClassifier().fit([f"text {i}" for i in range(12)], ["billing"] * 12)


def test_refuses_a_label_with_one_example_and_names_it():
    texts, labels = corpus()
    with pytest.raises(
        InsufficientDataError, match="needs at least 2 examples of every label; 'refunds' has 1"
    ):
        TextClassifier().fit([*texts, "money back"], [*labels, "refunds"])


def test_empty_and_missing_texts_are_left_out_of_training_and_counted():
    texts, labels = corpus()
    model = TextClassifier().fit([*texts, "", None, float("nan"), "   "], [*labels, *"abcd"])
    assert model.n_train_ == 55
    assert model.n_dropped_ == 4
    assert model.summary()["n_left_out"] == 4


def test_missing_labels_are_left_out():
    texts, labels = corpus()
    model = TextClassifier().fit([*texts, "orphan"], [*labels, None])
    assert model.n_dropped_ == 1
    assert "None" not in model.classes_


def test_predicting_empty_or_missing_text_gives_finite_probabilities(model):
    probabilities = model.predict_proba(["", None, float("nan"), 12345])
    assert probabilities.shape == (4, 4)
    assert np.isfinite(probabilities).all()
    assert np.allclose(probabilities.sum(axis=1), 1.0)


def test_mismatched_lengths_and_a_bare_string_are_rejected(model):
    with pytest.raises(DataValidationError, match="got 2 texts but 1 labels"):
        TextClassifier().fit(["a", "b"], ["x"])
    with pytest.raises(DataValidationError, match="not one string"):
        model.predict("where is my package")


def test_unfitted_model_says_so():
    with pytest.raises(NotFittedError, match="not fitted yet"):
        TextClassifier().predict(["hello"])


def test_explain_names_the_words_that_decided(model):
    (explanation,) = model.explain(["please refund my payment"], k=2)
    assert explanation.subject == "please refund my payment"
    assert explanation.label == "billing"
    assert explanation.score == pytest.approx(
        model.predict_proba(["please refund my payment"]).max()
    )
    assert len(explanation.factors) == 2
    words = [f.feature for f in explanation.factors]
    assert set(words) <= {"please", "refund", "my", "payment"}
    assert "refund" in words or "payment" in words
    top = explanation.factors[0]
    assert top.weight > 0
    assert top.effect >= 0
    assert top.text.startswith(f'"{top.feature}": +')
    assert top.text.endswith("chance of billing")
    assert explanation.model_version == model.model_version_


def test_summary_reports_size_date_quality_and_method(model):
    summary = model.summary()
    assert summary["n_train"] == 55
    assert summary["n_labels"] == 4
    assert summary["label_counts"] == {"billing": 15, "delivery": 15, "lieferung": 10, "login": 15}
    assert summary["method"].startswith("TF-IDF word + character n-grams")
    assert 0.0 <= summary["cv_accuracy"] <= 1.0
    assert summary["trained_at"].startswith("20")


def test_save_and_load_round_trip(model, tmp_path):
    path = save_model(model, tmp_path / "text.joblib")
    loaded = load_model(path)
    sample = ["where is my package", "reset my password"]
    assert np.array_equal(loaded.predict_proba(sample), model.predict_proba(sample))
    assert loaded.saved_with_version_ == "0.1.0"
    assert loaded.model_version_ == model.model_version_


def test_binary_labels_work():
    texts, labels = corpus()
    keep = [i for i, label in enumerate(labels) if label in ("billing", "login")]
    model = TextClassifier().fit([texts[i] for i in keep], [labels[i] for i in keep])
    probabilities = model.predict_proba(["refund my payment"])
    assert probabilities.shape == (1, 2)
    assert model.predict(["refund my payment"])[0] == "billing"
    assert model.explain(["refund my payment"])[0].factors[0].weight > 0


@pytest.mark.datasets
def test_banking77_benchmark_smoke(datasets_dir):
    rows = text_eval.benchmark_rows(datasets_dir, quick=True)
    assert [row["metric"] for row in rows] == [
        "accuracy",
        "macro-F1",
        "accuracy",
        "seconds",
        "milliseconds",
    ]
    assert rows[0]["dataset"] == "BANKING77 (300 texts, quick)"
    full, few = float(rows[0]["figure"]), float(rows[2]["figure"])
    assert 0.5 < full <= 1.0
    assert 0.3 < few <= 1.0
    assert float(rows[4]["figure"]) < 1000
