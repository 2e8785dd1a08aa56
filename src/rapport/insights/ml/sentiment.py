"""Sentiment of customer messages and feedback: a score in [-1, 1] and a label.

Out of the box it is VADER (Hutto & Gilbert 2014), a rule-based English lexicon that needs no
training data. When the business has labelled its own feedback (any language), :meth:`fit`
trains the :class:`~rapport.insights.ml.text.TextClassifier` on it and keeps it only if it beats
VADER in cross-validation on that same feedback; the choice and both accuracies are recorded.
VADER knows English only: on other languages without the business's own model, scores stay near 0
(neutral).
"""

from __future__ import annotations

import functools
import re

import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import StratifiedKFold

from rapport.insights.ml.base import VersionedEstimator
from rapport.insights.ml.errors import DataValidationError
from rapport.insights.ml.explain import Explanation, Factor, strongest
from rapport.insights.ml.text import TextClassifier, clean_texts

POSITIVE, NEGATIVE, NEUTRAL = "positive", "negative", "neutral"
_ALIASES = {
    "positive": POSITIVE,
    "pos": POSITIVE,
    "+": POSITIVE,
    "1": POSITIVE,
    "negative": NEGATIVE,
    "neg": NEGATIVE,
    "-": NEGATIVE,
    "-1": NEGATIVE,
    "neutral": NEUTRAL,
    "neu": NEUTRAL,
    "0": NEUTRAL,
}
_WORD = re.compile(r"\S+")


@functools.lru_cache(maxsize=1)
def _vader():
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


def vader_scores(texts) -> np.ndarray:
    """VADER's compound score of each text, in [-1, 1] (0 for empty or missing text)."""
    analyzer = _vader()
    return np.asarray(
        [analyzer.polarity_scores(t)["compound"] if t.strip() else 0.0 for t in clean_texts(texts)],
        dtype=float,
    )


def normalise_labels(labels) -> np.ndarray:
    """Labels as "positive" / "negative" / "neutral"; accepts pos/neg/neu, +/-, and numbers.

    Numbers are read by their sign (a 1-5 star scale is not a sentiment label: map it first).
    """
    out = []
    unknown = set()
    for value in labels:
        text = "" if value is None else str(value).strip().lower()
        if text in _ALIASES:
            out.append(_ALIASES[text])
            continue
        try:
            number = float(text)
        except ValueError:
            number = float("nan")
        if np.isfinite(number):
            out.append(POSITIVE if number > 0 else NEGATIVE if number < 0 else NEUTRAL)
        else:
            unknown.add(str(value))
    if unknown:
        shown = ", ".join(sorted(map(repr, unknown))[:5])
        raise DataValidationError(
            f"sentiment labels must be positive, negative or neutral (or a signed number); "
            f"got {shown}"
        )
    return np.asarray(out, dtype=object)


def vader_labels(scores: np.ndarray, with_neutral: bool, threshold: float = 0.05) -> np.ndarray:
    """VADER's usual cut-offs (±0.05); without a neutral class, the sign decides."""
    if with_neutral:
        return np.where(
            scores >= threshold, POSITIVE, np.where(scores <= -threshold, NEGATIVE, NEUTRAL)
        )
    return np.where(scores >= 0, POSITIVE, NEGATIVE)


class SentimentAnalyzer(ClassifierMixin, VersionedEstimator):
    """VADER, or the business's own text classifier when its labelled feedback supports one.

    ``classes_`` are the labels :meth:`predict` can return; :meth:`polarity` gives the
    sentiment as a number in [-1, 1] (``score`` is scikit-learn's accuracy on labelled texts).

    Parameters
    ----------
    min_per_label : labelled examples of every label needed before an own model is tried.
    neutral_threshold : VADER compound scores within ±this are neutral.
    cv_folds : folds of the cross-validation comparing the own model with VADER.
    random_state : seed of the folds and the text classifier.
    """

    _model_kind = "sentiment"

    def __init__(
        self,
        *,
        min_per_label: int = 20,
        neutral_threshold: float = 0.05,
        cv_folds: int = 5,
        random_state: int | None = 0,
    ):
        self.min_per_label = min_per_label
        self.neutral_threshold = neutral_threshold
        self.cv_folds = cv_folds
        self.random_state = random_state

    def _classifier(self) -> TextClassifier:
        return TextClassifier(random_state=self.random_state)

    def fit(self, texts=None, labels=None) -> SentimentAnalyzer:
        """Without labels: VADER. With labels: try an own model and keep the better one."""
        self.method_ = "vader"
        self.model_ = None
        seen = (POSITIVE, NEGATIVE, NEUTRAL)
        self.n_train_ = 0
        self.cv_scores_: dict[str, dict[str, float]] = {}
        self.reason_ = "no labelled feedback given: VADER (English lexicon)"
        if labels is not None:
            texts = clean_texts(texts)
            labels = list(labels)
            if len(texts) != len(labels):
                raise DataValidationError(f"got {len(texts)} texts but {len(labels)} labels")
            keep = [i for i, t in enumerate(texts) if t.strip() and labels[i] is not None]
            texts = [texts[i] for i in keep]
            y = normalise_labels([labels[i] for i in keep])
            self.n_train_ = len(texts)
            names, counts = np.unique(y, return_counts=True)
            seen = tuple(str(n) for n in names)
            short = [f"{n} has {c}" for n, c in zip(names, counts, strict=True)]
            short = [s for s, c in zip(short, counts, strict=True) if c < self.min_per_label]
            if names.size < 2:
                self.reason_ = (
                    f"own model needs at least 2 kinds of label; all {len(texts)} are "
                    f"{names[0] if names.size else 'missing'}: VADER used"
                )
            elif short:
                self.reason_ = (
                    f"own model needs at least {self.min_per_label} examples of each label; "
                    + ", ".join(short)
                    + ": VADER used"
                )
            else:
                self._choose(texts, y, int(counts.min()), with_neutral=NEUTRAL in seen)
        if self.model_ is not None:
            self.classes_ = self.model_.classes_
        else:  # VADER tells neutral apart only when the labelled feedback has neutral texts
            vader = (NEGATIVE, NEUTRAL, POSITIVE) if NEUTRAL in seen else (NEGATIVE, POSITIVE)
            self.classes_ = np.asarray(vader, dtype=object)
        self._stamp_version(self.method_)
        return self

    def _choose(self, texts: list[str], y: np.ndarray, smallest: int, with_neutral: bool) -> None:
        folds = max(2, min(self.cv_folds, smallest))
        splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=self.random_state)
        texts_array = np.asarray(texts, dtype=object)
        own = np.empty(len(y), dtype=object)
        for train, test in splitter.split(texts_array, y):
            model = self._classifier().fit(list(texts_array[train]), y[train])
            own[test] = model.predict(list(texts_array[test]))
        vader = vader_labels(vader_scores(texts), with_neutral, self.neutral_threshold)
        self.cv_scores_ = {
            name: {
                "accuracy": float(accuracy_score(y, predicted)),
                "macro_f1": float(f1_score(y, predicted, average="macro")),
            }
            for name, predicted in (("own_model", own.astype(str)), ("vader", vader))
        }
        own_accuracy = self.cv_scores_["own_model"]["accuracy"]
        vader_accuracy = self.cv_scores_["vader"]["accuracy"]
        if own_accuracy > vader_accuracy:
            self.method_ = "own_model"
            self.model_ = self._classifier().fit(texts, y)
            self.reason_ = (
                f"own model trained on {len(y)} labelled texts: {own_accuracy:.0%} right in "
                f"{folds}-fold cross-validation, VADER {vader_accuracy:.0%}"
            )
        else:
            self.reason_ = (
                f"VADER kept: {vader_accuracy:.0%} right on the labelled texts, own model "
                f"{own_accuracy:.0%} in {folds}-fold cross-validation"
            )

    def polarity(self, texts) -> np.ndarray:
        """Sentiment in [-1, 1]: VADER's compound, or P(positive) - P(negative) of the own model."""
        self._check_fitted()
        texts = clean_texts(texts)
        if self.method_ == "vader":
            return vader_scores(texts)
        probabilities = self.model_.predict_proba(texts)
        classes = list(self.model_.classes_)

        def column(label: str) -> np.ndarray:
            return probabilities[:, classes.index(label)] if label in classes else 0.0

        return np.clip(column(POSITIVE) - column(NEGATIVE), -1.0, 1.0)

    def predict(self, texts) -> np.ndarray:
        """positive / negative / neutral for each text."""
        self._check_fitted()
        texts = clean_texts(texts)
        if self.method_ == "vader":
            return vader_labels(
                vader_scores(texts), NEUTRAL in self.classes_, self.neutral_threshold
            )
        return self.model_.predict(texts)

    def explain(self, texts, k: int = 3) -> list[Explanation]:
        """Each text's polarity (the score) and label with the words that moved it the most;
        ``details["method"]`` says whether VADER or the own model judged it."""
        self._check_fitted()
        texts = clean_texts(texts)
        scores = self.polarity(texts)
        labels = self.predict(texts)
        if self.method_ == "own_model":
            factors = [e.factors for e in self.model_.explain(texts, k=k)]
        else:
            lexicon = _vader().lexicon
            factors = []
            for text in texts:
                found = []
                for token in _WORD.findall(text):
                    word = token.strip(".,!?;:\"'()").lower()
                    if word in lexicon:
                        valence = float(lexicon[word]) / 4.0  # VADER rates words -4..4
                        sentence = f'"{word}": {"positive" if valence > 0 else "negative"} word'
                        found.append(Factor(word, word, valence, sentence))
                factors.append(strongest(found, k))
        return [
            Explanation(
                subject=text,
                score=float(score),
                factors=text_factors,
                model_version=self.model_version_,
                label=str(label),
                details={"method": self.method_},
            )
            for text, score, label, text_factors in zip(texts, scores, labels, factors, strict=True)
        ]

    def summary(self) -> dict:
        self._check_fitted()
        return {
            "model": "SentimentAnalyzer",
            "method": self.method_,
            "reason": self.reason_,
            "model_version": self.model_version_,
            "trained_at": self.trained_at_,
            "n_train": self.n_train_,
            "labels": [str(label) for label in self.classes_],
            "cv_scores": {k: dict(v) for k, v in self.cv_scores_.items()},
        }
