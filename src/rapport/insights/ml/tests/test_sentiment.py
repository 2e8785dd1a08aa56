"""SentimentAnalyzer: VADER out of the box, the business's own model when it does better."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from rapport.insights.ml.errors import DataValidationError, NotFittedError
from rapport.insights.ml.evaluate import sentiment as sentiment_eval
from rapport.insights.ml.persistence import load_model, save_model
from rapport.insights.ml.sentiment import SentimentAnalyzer, normalise_labels, vader_scores


def domain_feedback() -> tuple[list[str], list[str]]:
    """Feedback whose sentiment lies in words VADER has no opinion on (delivery speed)."""
    good = ["arrived the next morning", "came a day early", "delivered within hours"]
    bad = ["arrived three weeks later", "parcel went missing", "still waiting after a month"]
    tails = [
        "",
        " order 17",
        " for the chair",
        " with spare parts",
        " again",
        " to Lyon",
        " x",
        " y",
    ]
    texts, labels = [], []
    for phrases, label in ((good, "positive"), (bad, "negative")):
        for phrase, tail in itertools.product(phrases, tails):
            texts.append(phrase + tail)
            labels.append(label)
    return texts, labels


def test_vader_scores_english_feedback_out_of_the_box():
    analyzer = SentimentAnalyzer().fit()
    scores = analyzer.polarity(
        ["I love this shop, great service!", "Terrible, I want a refund", ""]
    )
    assert scores[0] > 0.5
    assert scores[1] < -0.3
    assert scores[2] == 0.0
    assert list(analyzer.predict(["I love it", "awful", "the box is blue"])) == [
        "positive",
        "negative",
        "neutral",
    ]
    assert analyzer.summary()["method"] == "vader"
    assert list(analyzer.classes_) == ["negative", "neutral", "positive"]


def test_scores_stay_in_range_and_finite_for_missing_text():
    scores = (
        SentimentAnalyzer().fit().polarity([None, float("nan"), "GREAT!!! :) :) best ever", 42])
    )
    assert np.isfinite(scores).all()
    assert np.all((scores >= -1) & (scores <= 1))
    assert scores[0] == 0.0 and scores[1] == 0.0


def test_labels_are_normalised_and_unknown_ones_rejected():
    assert list(normalise_labels(["Positive", "neg", "NEU", -2, "1", 0.5])) == [
        "positive",
        "negative",
        "neutral",
        "negative",
        "positive",
        "positive",
    ]
    with pytest.raises(DataValidationError, match="got 'meh'"):
        normalise_labels(["positive", "meh"])


def test_own_model_replaces_vader_when_it_does_better_in_cross_validation():
    texts, labels = domain_feedback()
    analyzer = SentimentAnalyzer(random_state=0).fit(texts, labels)
    assert analyzer.method_ == "own_model"
    own = analyzer.cv_scores_["own_model"]["accuracy"]
    vader = analyzer.cv_scores_["vader"]["accuracy"]
    assert own > vader
    assert analyzer.reason_.startswith("own model trained on 48 labelled texts")
    scores = analyzer.polarity(["parcel went missing", "arrived the next morning"])
    assert scores[0] < 0 < scores[1]
    assert list(analyzer.predict(["parcel went missing"])) == ["negative"]


def test_too_few_labels_keep_vader_and_say_why():
    texts, labels = domain_feedback()
    analyzer = SentimentAnalyzer().fit(texts[:24], labels[:24])
    assert analyzer.method_ == "vader"
    assert analyzer.reason_ == (
        "own model needs at least 2 kinds of label; all 24 are positive: VADER used"
    )
    assert list(analyzer.classes_) == ["negative", "positive"]  # no neutral texts labelled
    analyzer = SentimentAnalyzer().fit(texts[:24] + texts[-3:], labels[:24] + labels[-3:])
    assert analyzer.method_ == "vader"
    assert analyzer.reason_ == (
        "own model needs at least 20 examples of each label; negative has 3: VADER used"
    )


def test_explain_with_vader_names_the_lexicon_words():
    (explanation,) = (
        SentimentAnalyzer().fit().explain(["The staff were rude but the cake is great"])
    )
    words = [factor.feature for factor in explanation.factors]
    assert words[:2] == ["great", "rude"]
    assert explanation.factors[0].text == '"great": positive word'
    assert explanation.details == {"method": "vader"}


def test_explain_with_own_model_uses_the_classifier():
    texts, labels = domain_feedback()
    analyzer = SentimentAnalyzer().fit(texts, labels)
    (explanation,) = analyzer.explain(["parcel went missing"])
    assert explanation.label == "negative"
    assert explanation.score < 0
    assert explanation.details == {"method": "own_model"}
    assert explanation.factors[0].weight > 0
    assert explanation.model_version == analyzer.model_version_


def test_save_and_load_round_trip(tmp_path):
    texts, labels = domain_feedback()
    analyzer = SentimentAnalyzer().fit(texts, labels)
    loaded = load_model(save_model(analyzer, tmp_path / "sentiment.joblib"))
    sample = ["came a day early", "still waiting"]
    assert np.array_equal(loaded.polarity(sample), analyzer.polarity(sample))


def test_unfitted_analyzer_says_so():
    with pytest.raises(NotFittedError, match="not fitted yet"):
        SentimentAnalyzer().polarity(["hello"])


def test_vader_scores_helper_matches_the_analyzer():
    assert vader_scores(["good"])[0] == pytest.approx(0.4404)


@pytest.mark.datasets
def test_sentiment_benchmark_reports_speed_and_says_accuracy_is_not_measured(datasets_dir):
    rows = sentiment_eval.benchmark_rows(datasets_dir, quick=True)
    assert rows[0]["metric"] == "ms per text"
    assert float(rows[0]["figure"]) > 0
    assert rows[1]["figure"] == "not measured: no public labelled sentiment data in shared/datasets"
