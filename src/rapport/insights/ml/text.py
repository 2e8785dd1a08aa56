"""Text classifier for tickets and messages (category, intent) in any language.

TF-IDF over word n-grams and character n-grams (the character n-grams carry languages without
spaces, typos and word forms), a linear support vector machine, and temperature scaling fitted
on cross-validated scores so that the confidences mean what they say: of the texts given 80%,
about 80% are right. Explanations attribute each word's push on the chosen label, counting both
the word's own n-grams and the character n-grams inside it.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable

import numpy as np
import pandas as pd
from scipy.optimize import minimize_scalar
from scipy.sparse import hstack
from sklearn.base import ClassifierMixin
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.model_selection import StratifiedKFold
from sklearn.svm import LinearSVC

from rapport.insights.ml.base import VersionedEstimator
from rapport.insights.ml.errors import DataValidationError, InsufficientDataError
from rapport.insights.ml.explain import Explanation, Factor, format_effect, strongest

_TOKEN_PATTERN = r"(?u)\b\w+\b"
_TOKEN = re.compile(_TOKEN_PATTERN)


def clean_texts(texts: Iterable | str, name: str = "texts") -> list[str]:
    """Texts as plain strings: missing values become empty strings, numbers become their text."""
    if isinstance(texts, str):
        raise DataValidationError(f"{name} must be a list of texts, not one string")
    cleaned = []
    for value in texts:
        if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
            cleaned.append("")
        else:
            cleaned.append(str(value))
    return cleaned


def _softmax(scores: np.ndarray) -> np.ndarray:
    shifted = scores - scores.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=1, keepdims=True)


def _logits(decision: np.ndarray) -> np.ndarray:
    """LinearSVC's decision values as one column per class (binary gives one column)."""
    if decision.ndim == 1:
        return np.column_stack([-decision / 2.0, decision / 2.0])
    return decision


class TextClassifier(ClassifierMixin, VersionedEstimator):
    """Assign a label (category, intent, sentiment) to short texts, with calibrated confidence.

    Parameters
    ----------
    C : regularisation of the linear SVM (larger fits the training texts more closely).
    word_ngrams, char_ngrams : n-gram ranges of the word and character TF-IDF features.
    min_examples : fewest labelled texts the model accepts.
    min_per_label : fewest examples of every label (calibration needs two folds of each).
    calibration_folds : folds of the cross-validation that fits the temperature.
    random_state : seed for the SVM's solver and the calibration folds.
    """

    _model_kind = "text"

    def __init__(
        self,
        *,
        C: float = 0.5,
        word_ngrams: tuple[int, int] = (1, 2),
        char_ngrams: tuple[int, int] = (2, 5),
        min_examples: int = 10,
        min_per_label: int = 2,
        calibration_folds: int = 3,
        random_state: int | None = 0,
    ):
        self.C = C
        self.word_ngrams = word_ngrams
        self.char_ngrams = char_ngrams
        self.min_examples = min_examples
        self.min_per_label = min_per_label
        self.calibration_folds = calibration_folds
        self.random_state = random_state

    # -- fitting -------------------------------------------------------------------------------

    def _check_training_data(self, texts, labels) -> tuple[list[str], np.ndarray, int]:
        texts = clean_texts(texts)
        labels = list(labels)
        if len(texts) != len(labels):
            raise DataValidationError(f"got {len(texts)} texts but {len(labels)} labels")
        keep = [
            i
            for i, (text, label) in enumerate(zip(texts, labels, strict=True))
            if text.strip() and not pd.isna(label) and str(label).strip()
        ]
        dropped = len(texts) - len(keep)
        texts = [texts[i] for i in keep]
        labels_array = np.asarray([str(labels[i]).strip() for i in keep], dtype=object)
        if len(texts) < self.min_examples:
            raise InsufficientDataError(
                f"needs at least {self.min_examples} labelled texts; has {len(texts)}"
                + (f" ({dropped} empty texts or missing labels left out)" if dropped else "")
            )
        names, counts = np.unique(labels_array, return_counts=True)
        if names.size < 2:
            raise InsufficientDataError(
                f"needs at least 2 different labels; every text is labelled {names[0]!r}"
            )
        scarce = [f"{name!r} has {count}" for name, count in zip(names, counts, strict=True)]
        scarce = [s for s, count in zip(scarce, counts, strict=True) if count < self.min_per_label]
        if scarce:
            raise InsufficientDataError(
                f"needs at least {self.min_per_label} examples of every label; " + ", ".join(scarce)
            )
        return texts, labels_array, dropped

    def _make_vectorizers(self) -> tuple[TfidfVectorizer, TfidfVectorizer]:
        words = TfidfVectorizer(
            token_pattern=_TOKEN_PATTERN,
            ngram_range=tuple(self.word_ngrams),
            sublinear_tf=True,
            dtype=np.float32,
        )
        chars = TfidfVectorizer(
            analyzer="char_wb",
            ngram_range=tuple(self.char_ngrams),
            sublinear_tf=True,
            min_df=2,
            dtype=np.float32,
        )
        return words, chars

    def _svm(self) -> LinearSVC:
        return LinearSVC(C=self.C, random_state=self.random_state)

    def fit(self, texts, labels) -> TextClassifier:
        """Learn labels from texts; refuses (InsufficientDataError) when there are too few."""
        started = time.perf_counter()
        texts, y, dropped = self._check_training_data(texts, labels)
        words, chars = self._make_vectorizers()
        X_words = words.fit_transform(texts)
        try:
            X_chars = chars.fit_transform(texts)
        except ValueError:  # min_df=2 found no shared character n-gram (tiny, varied data)
            chars.set_params(min_df=1)
            X_chars = chars.fit_transform(texts)
        X = hstack([X_words, X_chars]).tocsr()

        # Temperature from cross-validated scores, so confidences are honest out of sample.
        smallest = int(np.unique(y, return_counts=True)[1].min())
        folds = max(2, min(self.calibration_folds, smallest))
        splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=self.random_state)
        classes = np.unique(y)
        out_of_fold = np.zeros((len(y), classes.size))
        for train, test in splitter.split(X, y):
            svm = self._svm().fit(X[train], y[train])
            scores = _logits(svm.decision_function(X[test]))
            columns = np.searchsorted(classes, svm.classes_)
            out_of_fold[np.ix_(test, columns)] = scores
            missing = np.setdiff1d(np.arange(classes.size), columns)
            out_of_fold[np.ix_(test, missing)] = scores.min() - 1.0
        target = np.searchsorted(classes, y)

        def log_loss(log_t: float) -> float:
            probabilities = _softmax(out_of_fold / np.exp(log_t))
            return float(-np.mean(np.log(probabilities[np.arange(len(y)), target] + 1e-12)))

        result = minimize_scalar(log_loss, bounds=(-5.0, 3.0), method="bounded")
        self.temperature_ = float(np.exp(result.x))

        self.word_vectorizer_ = words
        self.char_vectorizer_ = chars
        self.n_word_features_ = X_words.shape[1]
        self.svm_ = self._svm().fit(X, y)
        self.classes_ = self.svm_.classes_
        self.n_train_ = len(texts)
        self.n_dropped_ = dropped
        self.label_counts_ = dict(zip(*np.unique(y, return_counts=True), strict=True))
        self.cv_accuracy_ = float(np.mean(classes[out_of_fold.argmax(axis=1)] == y))
        self.cv_log_loss_ = float(result.fun)
        self.fit_seconds_ = time.perf_counter() - started
        self._stamp_version("svm")
        return self

    # -- predicting ------------------------------------------------------------------------------

    def _features(self, texts: list[str]):
        return hstack(
            [self.word_vectorizer_.transform(texts), self.char_vectorizer_.transform(texts)]
        ).tocsr()

    def _raw_logits(self, texts: list[str]) -> np.ndarray:
        return _logits(self.svm_.decision_function(self._features(texts)))

    def predict_proba(self, texts) -> np.ndarray:
        """Calibrated probability of every label (columns in ``classes_`` order)."""
        self._check_fitted()
        texts = clean_texts(texts)
        if not texts:
            return np.zeros((0, len(self.classes_)))
        return _softmax(self._raw_logits(texts) / self.temperature_)

    def predict(self, texts) -> np.ndarray:
        """The most likely label of each text."""
        probabilities = self.predict_proba(texts)
        return (
            self.classes_[probabilities.argmax(axis=1)] if len(probabilities) else self.classes_[:0]
        )

    def top_k(self, texts, k: int = 3) -> list[list[tuple[str, float]]]:
        """The ``k`` most likely labels of each text with their probability, best first."""
        if k < 1:
            raise DataValidationError(f"k must be at least 1; got {k}")
        probabilities = self.predict_proba(texts)
        order = np.argsort(-probabilities, axis=1, kind="stable")[:, :k]
        return [
            [(str(self.classes_[j]), float(row[j])) for j in ranks]
            for row, ranks in zip(probabilities, order, strict=True)
        ]

    # -- explaining ------------------------------------------------------------------------------

    def _word_contributions(self, text: str) -> dict[str, np.ndarray]:
        """Each word's contribution to every label's score (one array over ``classes_``)."""
        coefficients = self.svm_.coef_
        if coefficients.shape[0] == 1:  # binary: one score for the second class
            coefficients = np.vstack([-coefficients / 2.0, coefficients / 2.0])
        X = self._features([text])
        tokens = _TOKEN.findall(text.lower())
        per_word: dict[str, np.ndarray] = {t: np.zeros(coefficients.shape[0]) for t in tokens}
        word_names = self.word_vectorizer_.get_feature_names_out()
        char_names = self.char_vectorizer_.get_feature_names_out()
        for column, value in zip(X.indices, X.data, strict=True):
            contribution = coefficients[:, column] * value
            if column < self.n_word_features_:
                owners = [t for t in word_names[column].split(" ") if t in per_word]
            else:
                gram = char_names[column - self.n_word_features_].strip()
                owners = [t for t in per_word if gram and gram in t]
            for owner in owners:
                per_word[owner] = per_word[owner] + contribution / len(owners)
        return per_word

    def explain(self, texts, k: int = 3) -> list[Explanation]:
        """Each text's label, confidence (the score) and the ``k`` words that pushed it there.

        Words are ranked by their weight: how much they widen the chosen label's score lead over
        the runner-up. A word's effect is how much the label's probability would fall without
        it (near 0 when the text is decided several times over).
        """
        self._check_fitted()
        texts = clean_texts(texts)
        explanations = []
        for text in texts:
            logits = self._raw_logits([text])[0]
            probabilities = _softmax(logits[None, :] / self.temperature_)[0]
            order = np.argsort(-probabilities, kind="stable")
            best, runner_up = int(order[0]), int(order[1])
            label = str(self.classes_[best])
            factors = []
            for word, contribution in self._word_contributions(text).items():
                without = _softmax((logits - contribution)[None, :] / self.temperature_)[0]
                effect = float(probabilities[best] - without[best])
                weight = float(contribution[best] - contribution[runner_up])
                sentence = f'"{word}": {format_effect(effect, "chance of " + label)}'
                factors.append(Factor(word, word, effect, sentence, weight))
            explanations.append(
                Explanation(
                    subject=text,
                    score=float(probabilities[best]),
                    factors=strongest(factors, k),
                    model_version=self.model_version_,
                    label=label,
                )
            )
        return explanations

    def summary(self) -> dict:
        """Training size, date, cross-validated quality and the method, for people and logs."""
        self._check_fitted()
        return {
            "model": "TextClassifier",
            "method": "TF-IDF word + character n-grams, linear SVM, temperature-scaled",
            "model_version": self.model_version_,
            "trained_at": self.trained_at_,
            "n_train": self.n_train_,
            "n_left_out": self.n_dropped_,
            "n_labels": len(self.classes_),
            "label_counts": {str(k): int(v) for k, v in self.label_counts_.items()},
            "cv_accuracy": self.cv_accuracy_,
            "cv_log_loss": self.cv_log_loss_,
            "temperature": self.temperature_,
            "fit_seconds": self.fit_seconds_,
        }
