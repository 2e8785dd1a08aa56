"""Text classifier for tickets and messages (category, intent) in any language.

TF-IDF over word n-grams and character n-grams (the character n-grams carry languages without
spaces, typos and word forms) read by a linear support vector machine and, when a sentence
encoder is installed (insights/ml/encoder.py), a second linear model on the texts' sentence
embeddings (a logistic regression when labels have few examples, a linear SVM when many).
Their scores are mixed with the share ``embedding_share_`` that does best in cross-validation
(more embedding with few examples per label, where words have not been seen, less with many),
and temperature scaling fitted on the same cross-validated scores makes the confidences mean
what they say: of the texts given 80%, about 80% are right.

The classifier refuses to guess: :meth:`TextClassifier.predict` answers ``unknown_label`` when
the confidence is below ``threshold_``. With examples of what is out of scope (training rows
labelled ``unknown_label``, or ``fit(..., unknown_texts=...)``), the threshold is the one that
does best on them against the cross-validated confidences of the known texts (the mean of
in-scope accuracy and unknown recall, so the share of each in the data does not matter);
without, it is the quantile of the known texts' cross-validated confidences that keeps
``keep_known`` of them (95% by default), at most 0.5.

Explanations attribute each word's push on the chosen label, counting both the word's own
n-grams and the character n-grams inside it (the embedding model's share belongs to no one
word).
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
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.svm import LinearSVC

from rapport.insights.ml.base import VersionedEstimator
from rapport.insights.ml.encoder import Encoder, get_encoder
from rapport.insights.ml.errors import DataValidationError, InsufficientDataError
from rapport.insights.ml.explain import Explanation, Factor, format_effect, strongest

_TOKEN_PATTERN = r"(?u)\b\w+\b"
_TOKEN = re.compile(_TOKEN_PATTERN)
# Without out-of-scope examples the threshold never exceeds this (see fit).
MAX_UNTUNED_THRESHOLD = 0.5
# Below this median number of examples per label the embedding model is a logistic regression.
FEW_PER_LABEL = 25


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


def _full_logits(svm: LinearSVC, features, classes: np.ndarray) -> np.ndarray:
    """The SVM's scores with one column per label of ``classes`` (a label missing from the
    SVM's training fold scores below every other)."""
    scores = _logits(svm.decision_function(features))
    full = np.full((scores.shape[0], classes.size), scores.min() - 1.0 if scores.size else 0.0)
    full[:, np.searchsorted(classes, svm.classes_)] = scores
    return full


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
    encoder : the sentence encoder: ``"auto"`` (the one ``RAPPORT_TEXT_ENCODER`` names, else the
        default when installed), a name, an :class:`~rapport.insights.ml.encoder.Encoder`, or
        None / ``"none"`` for TF-IDF alone.
    embedding_C : regularisation of the SVM on sentence embeddings (the logistic regression used
        with few examples per label takes 2.5 times it).
    embedding_shares : the mixes of embedding and TF-IDF scores cross-validation chooses from.
    unknown_label : what :meth:`predict` answers when unsure; training rows with this label are
        examples of out-of-scope texts and only tune the threshold.
    keep_known : without out-of-scope examples, the share of known texts the threshold keeps.
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
        encoder: str | Encoder | None = "auto",
        embedding_C: float = 4.0,
        embedding_shares: tuple[float, ...] = (0.0, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 1.0),
        unknown_label: str = "unknown",
        keep_known: float = 0.95,
    ):
        self.C = C
        self.word_ngrams = word_ngrams
        self.char_ngrams = char_ngrams
        self.min_examples = min_examples
        self.min_per_label = min_per_label
        self.calibration_folds = calibration_folds
        self.random_state = random_state
        self.encoder = encoder
        self.embedding_C = embedding_C
        self.embedding_shares = embedding_shares
        self.unknown_label = unknown_label
        self.keep_known = keep_known

    # -- fitting -------------------------------------------------------------------------------

    def _check_training_data(self, texts, labels) -> tuple[list[str], np.ndarray, int, list[str]]:
        texts = clean_texts(texts)
        labels = list(labels)
        if len(texts) != len(labels):
            raise DataValidationError(f"got {len(texts)} texts but {len(labels)} labels")
        if not 0.0 < self.keep_known <= 1.0:
            raise DataValidationError(f"keep_known must be in (0, 1]; got {self.keep_known}")
        keep = [
            i
            for i, (text, label) in enumerate(zip(texts, labels, strict=True))
            if text.strip() and not pd.isna(label) and str(label).strip()
        ]
        dropped = len(texts) - len(keep)
        unknown = str(self.unknown_label).strip()
        out_of_scope = [texts[i] for i in keep if str(labels[i]).strip() == unknown]
        keep = [i for i in keep if str(labels[i]).strip() != unknown]
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
        return texts, labels_array, dropped, out_of_scope

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

    def _embedding_model(self, per_label: float):
        """The linear model on sentence embeddings: logistic regression with few examples per
        label (it does better there on BANKING77: 84.5% against 82.4% with 10 per intent),
        a linear SVM with many (92.9% against 92.6% on 8,000 texts), see docs/text-models.md."""
        if per_label < FEW_PER_LABEL:
            return LogisticRegression(C=self.embedding_C * 2.5, max_iter=300)
        return LinearSVC(C=self.embedding_C, random_state=self.random_state)

    def fit(self, texts, labels, *, unknown_texts=None) -> TextClassifier:
        """Learn labels from texts; refuses (InsufficientDataError) when there are too few.

        Rows labelled ``unknown_label`` and ``unknown_texts`` are examples of texts the model
        should refuse: they are not learnt as a label, they only tune ``threshold_``.
        """
        started = time.perf_counter()
        texts, y, dropped, out_of_scope = self._check_training_data(texts, labels)
        if unknown_texts is not None:
            out_of_scope += [t for t in clean_texts(unknown_texts, "unknown_texts") if t.strip()]
        encoder = get_encoder(self.encoder)
        words, chars = self._make_vectorizers()
        X_words = words.fit_transform(texts)
        try:
            X_chars = chars.fit_transform(texts)
        except ValueError:  # min_df=2 found no shared character n-gram (tiny, varied data)
            chars.set_params(min_df=1)
            X_chars = chars.fit_transform(texts)
        self.word_vectorizer_ = words
        self.char_vectorizer_ = chars
        self.encoder_ = encoder
        X = hstack([X_words, X_chars]).tocsr()
        E = encoder.encode(texts, kind="query") if encoder is not None else None
        X_unknown = self._features(out_of_scope) if out_of_scope else None
        E_unknown = (encoder.encode(out_of_scope, kind="query")
                     if encoder is not None and out_of_scope else None)

        # Cross-validated scores of both models: the mix, the temperature and the threshold are
        # chosen on texts the models did not learn from.
        smallest = int(np.unique(y, return_counts=True)[1].min())
        folds = max(2, min(self.calibration_folds, smallest))
        splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=self.random_state)
        classes, counts = np.unique(y, return_counts=True)
        per_label = float(np.median(counts))
        oof = {part: np.zeros((len(y), classes.size)) for part in ("words", "meaning")}
        unknown_scores: dict[str, list[np.ndarray]] = {"words": [], "meaning": []}
        for train, test in splitter.split(X, y):
            parts = [("words", self._svm(), X)]
            if E is not None:
                parts.append(("meaning", self._embedding_model(per_label), E))
            for part, svm, features in parts:
                svm.fit(features[train], y[train])
                oof[part][test] = _full_logits(svm, features[test], classes)
                if out_of_scope:
                    unknown = X_unknown if part == "words" else E_unknown
                    unknown_scores[part].append(_full_logits(svm, unknown, classes))
        target = np.searchsorted(classes, y)

        shares = sorted({float(v) for v in self.embedding_shares}) if E is not None else [0.0]
        if any(not 0.0 <= v <= 1.0 for v in shares) or not shares:
            raise DataValidationError("embedding_shares must be numbers between 0 and 1")
        accuracy = [np.mean(classes[((1 - v) * oof["words"] + v * oof["meaning"]).argmax(axis=1)]
                            == y) for v in shares]
        self.embedding_share_ = shares[int(np.argmax(accuracy))]
        share = self.embedding_share_
        out_of_fold = (1 - share) * oof["words"] + share * oof["meaning"]
        unknown_folds = [(1 - share) * w + share * (m if m is not None else 0.0)
                         for w, m in zip(unknown_scores["words"],
                                         unknown_scores["meaning"] or [None] * folds,
                                         strict=False)]

        def log_loss(log_t: float) -> float:
            probabilities = _softmax(out_of_fold / np.exp(log_t))
            return float(-np.mean(np.log(probabilities[np.arange(len(y)), target] + 1e-12)))

        result = minimize_scalar(log_loss, bounds=(-5.0, 3.0), method="bounded")
        self.temperature_ = float(np.exp(result.x))

        # The refusal threshold, from out-of-sample confidences only.
        known_probabilities = _softmax(out_of_fold / self.temperature_)
        known_confidence = known_probabilities.max(axis=1)
        known_correct = classes[known_probabilities.argmax(axis=1)] == y
        if unknown_folds:
            unknown_confidence = np.mean(
                [_softmax(s / self.temperature_).max(axis=1) for s in unknown_folds], axis=0)
            self.threshold_, self.threshold_method_ = _tuned_threshold(
                known_confidence, known_correct, unknown_confidence)
        else:
            # On data the folds separate perfectly every confidence is near 1: the cap keeps
            # the model from refusing a label it finds more likely than not.
            quantile = float(np.quantile(known_confidence, 1.0 - self.keep_known))
            self.threshold_ = min(quantile, MAX_UNTUNED_THRESHOLD)
            self.threshold_method_ = (f"keeps {self.keep_known:.0%} of the known texts' "
                                      "cross-validated confidences")
            if quantile > MAX_UNTUNED_THRESHOLD:
                self.threshold_method_ += f" (capped at {MAX_UNTUNED_THRESHOLD})"
        self.n_unknown_ = len(out_of_scope)

        self.n_word_features_ = X_words.shape[1]
        self.n_char_features_ = X_chars.shape[1]
        self.svm_ = self._svm().fit(X, y)
        self.embedding_svm_ = (self._embedding_model(per_label).fit(E, y)
                               if E is not None and share > 0 else None)
        self.classes_ = self.svm_.classes_
        self.n_train_ = len(texts)
        self.n_dropped_ = dropped
        self.label_counts_ = dict(zip(*np.unique(y, return_counts=True), strict=True))
        self.cv_accuracy_ = float(np.mean(known_correct))
        self.cv_log_loss_ = float(result.fun)
        self.fit_seconds_ = time.perf_counter() - started
        self._stamp_version("svm" if encoder is None else f"svm+{encoder.name}")
        return self

    # -- predicting ------------------------------------------------------------------------------

    def _features(self, texts: list[str]):
        return hstack(
            [self.word_vectorizer_.transform(texts), self.char_vectorizer_.transform(texts)]
        ).tocsr()

    def _raw_logits(self, texts: list[str]) -> np.ndarray:
        words = _logits(self.svm_.decision_function(self._features(texts)))
        if self.embedding_svm_ is None:
            return words
        vectors = self.encoder_.encode(texts, kind="query")
        meaning = _logits(self.embedding_svm_.decision_function(vectors))
        return (1 - self.embedding_share_) * words + self.embedding_share_ * meaning

    def predict_proba(self, texts) -> np.ndarray:
        """Calibrated probability of every label (columns in ``classes_`` order)."""
        self._check_fitted()
        texts = clean_texts(texts)
        if not texts:
            return np.zeros((0, len(self.classes_)))
        return _softmax(self._raw_logits(texts) / self.temperature_)

    def predict(self, texts, *, refuse: bool = True) -> np.ndarray:
        """The most likely label of each text, or ``unknown_label`` where the model's confidence
        is below ``threshold_`` (``refuse=False``: always the most likely label)."""
        probabilities = self.predict_proba(texts)
        if not len(probabilities):
            return self.classes_[:0]
        labels = self.classes_[probabilities.argmax(axis=1)].astype(object)
        if refuse:
            labels[probabilities.max(axis=1) < self.threshold_] = self.unknown_label
        return labels

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
        coefficients = self.svm_.coef_ * (1 - self.embedding_share_)
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
        features = "TF-IDF word + character n-grams"
        if self.embedding_svm_ is not None:
            features += (f", linear SVM, mixed {self.embedding_share_:.0%} with a linear SVM on "
                         f"sentence embeddings ({self.encoder_.name})")
        else:
            features += ", linear SVM"
        return {
            "model": "TextClassifier",
            "method": f"{features}, temperature-scaled",
            "encoder": None if self.encoder_ is None else self.encoder_.name,
            "embedding_share": self.embedding_share_,
            "model_version": self.model_version_,
            "trained_at": self.trained_at_,
            "n_train": self.n_train_,
            "n_left_out": self.n_dropped_,
            "n_labels": len(self.classes_),
            "label_counts": {str(k): int(v) for k, v in self.label_counts_.items()},
            "cv_accuracy": self.cv_accuracy_,
            "cv_log_loss": self.cv_log_loss_,
            "temperature": self.temperature_,
            "threshold": self.threshold_,
            "threshold_method": self.threshold_method_,
            "unknown_label": self.unknown_label,
            "n_unknown_examples": self.n_unknown_,
            "fit_seconds": self.fit_seconds_,
        }


def _tuned_threshold(known_confidence: np.ndarray, known_correct: np.ndarray,
                     unknown_confidence: np.ndarray) -> tuple[float, str]:
    """The confidence threshold that does best on known and out-of-scope texts.

    Best means the most texts answered right: a known text kept with the right label, an
    out-of-scope text refused. Among equally good thresholds, the middle of the best run.
    """
    candidates = np.unique(np.concatenate([known_confidence, unknown_confidence, [0.0]]))
    # A threshold t keeps confidences >= t: cumulative counts over the sorted candidates.
    known_sorted = np.sort(known_confidence)
    correct_sorted = np.sort(known_confidence[known_correct])
    unknown_sorted = np.sort(unknown_confidence)
    kept_correct = len(correct_sorted) - np.searchsorted(correct_sorted, candidates, side="left")
    refused_unknown = np.searchsorted(unknown_sorted, candidates, side="left")
    figure = (kept_correct + refused_unknown) / (len(known_sorted) + len(unknown_sorted))
    # Thresholds in (candidates[i - 1], candidates[i]] all do what candidates[i] does: the best
    # ones form a run, and its middle leaves room on both sides for texts not seen yet.
    best = np.flatnonzero(figure >= figure.max() - 1e-12)
    first = last = int(best[0])
    while last + 1 < len(candidates) and figure[last + 1] >= figure.max() - 1e-12:
        last += 1
    lower = candidates[first - 1] if first > 0 else 0.0
    threshold = float((lower + candidates[last]) / 2.0)
    return threshold, (f"tuned on {len(unknown_sorted)} out-of-scope and {len(known_sorted)} "
                       f"known texts ({figure.max():.1%} of them answered right)")
