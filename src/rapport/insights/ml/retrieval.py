"""Hybrid passage retrieval for a knowledge base: keywords (BM25) and meaning (the encoder).

Each passage (an article, a saved answer, a solved ticket) is cut into windows of a few
sentences, each prefixed with the passage's title. A query is scored against every window two
ways and the two are fused into one relevance between 0 and 1:

- keywords: ``bm25s`` (BM25, Lucene's variant), divided by what a window of average length
  holding each of the query's words once scores (the sum of their idf), capped at 1, so the
  figure means the same for a long query as for a short one; words the knowledge base never
  uses count in that sum, so a query about something else scores low;
- meaning: the cosine of the query's and the window's sentence embeddings (0 when negative),
  when a sentence encoder is installed (insights/ml/encoder.py). Without one, keywords alone.

Relevance = ``semantic_weight`` × meaning + (1 − ``semantic_weight``) × keywords. A passage
scores as its best window, which is also the snippet to quote.

Votes (:meth:`HybridRetriever.feedback`) move passages: each passage has a prior learnt from
its thumbs up and down (a smoothed share of helpful votes), and a vote also counts, more
strongly, for queries like the one it was given on (cosine of their embeddings, or shared
words without the encoder).

Whether the best passage answers the query at all is decided by ``threshold_``, calibrated on
the business's own data by :meth:`HybridRetriever.calibrate`: questions with the passage that
answers them and unrelated questions, the threshold that maximises F1 of answering right (or
the lowest one reaching a precision). Without labelled questions (and right after ``fit``)
the calibration is self-supervised: the passages' titles and first sentences are the questions
(their passage is the answer) and general questions about other things (weather, sport,
cooking, travel…) the unrelated ones.

Plain Python (no Django). Persist with :mod:`rapport.insights.ml.persistence`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import bm25s
import numpy as np
from bm25s.stopwords import STOPWORDS_EN

from rapport.insights.ml.base import VersionedEstimator
from rapport.insights.ml.encoder import Encoder, get_encoder
from rapport.insights.ml.errors import DataValidationError, InsufficientDataError

_WORD = re.compile(r"(?u)\b\w+\b")
_SENTENCE_END = re.compile(r"(?<=[.!?。！？])\s+|\n\s*\n|\n(?=\s*[-*•\d])")
_STOPWORDS = frozenset(STOPWORDS_EN)
SELF_SUPERVISED_PASSAGES = 300

# Questions about other things than a small business's knowledge base: the self-supervised
# calibration's unrelated questions. A few in other languages, since customers write in many.
GENERAL_QUESTIONS = (
    "What will the weather be like tomorrow?",
    "Who won the football match last night?",
    "How do I bake a chocolate cake?",
    "What is the capital of Australia?",
    "Can you recommend a good movie to watch tonight?",
    "How tall is Mount Everest?",
    "What time does the sun set today?",
    "Tell me a joke",
    "How many calories are in a banana?",
    "Who wrote Pride and Prejudice?",
    "What is the best way to learn to play guitar?",
    "How do I get rid of weeds in my garden?",
    "What is the square root of 144?",
    "Which planet is closest to the sun?",
    "How long should I boil an egg?",
    "What are the symptoms of the flu?",
    "Where can I go hiking near the mountains?",
    "How do I train my puppy to sit?",
    "What is the population of Brazil?",
    "Who painted the Mona Lisa?",
    "How do you say thank you in Japanese?",
    "What is photosynthesis?",
    "When did the Second World War end?",
    "What is a good name for a cat?",
    "How do I fix a flat bicycle tyre?",
    "Is it going to rain this weekend?",
    "What are the rules of chess?",
    "How far is the moon from the earth?",
    "Recommend a song for a road trip",
    "What should I cook for dinner tonight?",
    "Quel temps fera-t-il demain à Paris ?",
    "Wer hat die Fußball-Weltmeisterschaft gewonnen?",
    "¿Cómo se prepara una paella?",
    "Qual é a montanha mais alta do mundo?",
)


@dataclass(frozen=True)
class Passage:
    """A piece of the knowledge base: an article, a saved answer, a solved ticket."""

    id: str
    text: str
    title: str = ""
    url: str = ""
    metadata: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)


@dataclass(frozen=True)
class Hit:
    """A passage found for a query: relevance 0–1 (votes included) and the window to quote."""

    id: str
    score: float
    passage: Passage
    snippet: str
    answerable: bool
    keyword_score: float
    semantic_score: float | None


class SearchResults(list):
    """The hits, best first; ``answerable`` is False when none is good enough to answer with."""

    def __init__(self, hits: Iterable[Hit], *, query: str, threshold: float):
        super().__init__(hits)
        self.query = query
        self.threshold = threshold

    @property
    def answerable(self) -> bool:
        return bool(self) and self[0].answerable

    @property
    def best(self) -> Hit | None:
        return self[0] if self.answerable else None

    def __repr__(self) -> str:
        return f"SearchResults(answerable={self.answerable}, hits={list.__repr__(self)})"


def tokens(text: str) -> list[str]:
    """Lower-case words without English stop words, a final plural s taken off."""
    out = []
    for word in _WORD.findall(text.lower()):
        if word in _STOPWORDS:
            continue
        if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
            word = word[:-1]
        out.append(word)
    return out


def sentences(text: str) -> list[str]:
    """The text's sentences (and list items), stripped, none empty."""
    return [s.strip() for s in _SENTENCE_END.split(text) if s and s.strip()]


def _windows(passage: Passage, size: int) -> list[str]:
    parts = sentences(passage.text) or [passage.text.strip()]
    if len(parts) <= size:
        return [" ".join(parts)]
    step = max(1, size - 1)  # windows overlap by one sentence
    out = []
    for start in range(0, len(parts), step):
        out.append(" ".join(parts[start:start + size]))
        if start + size >= len(parts):
            break
    return out


class HybridRetriever(VersionedEstimator):
    """Find the passages that answer a query, and say when none does.

    Parameters
    ----------
    encoder : the sentence encoder (see :func:`rapport.insights.ml.encoder.get_encoder`);
        None / ``"none"`` for keywords alone.
    semantic_weight : share of the meaning score in the relevance when there is an encoder.
    window : sentences per window (windows overlap by one sentence).
    k1, b : BM25's term-frequency saturation and length normalisation.
    prior_weight : how far a passage's votes move it (a passage with only helpful votes gains
        up to half of it, one with only unhelpful votes loses as much).
    query_vote_weight : how far a vote given on a query moves the passage for similar queries.
    target_precision : when set, calibration picks the lowest threshold reaching it.
    """

    _model_kind = "retrieval"

    def __init__(
        self,
        *,
        encoder: str | Encoder | None = "auto",
        semantic_weight: float = 0.6,
        window: int = 2,
        k1: float = 1.2,
        b: float = 0.75,
        prior_weight: float = 0.1,
        query_vote_weight: float = 0.25,
        target_precision: float | None = None,
    ):
        self.encoder = encoder
        self.semantic_weight = semantic_weight
        self.window = window
        self.k1 = k1
        self.b = b
        self.prior_weight = prior_weight
        self.query_vote_weight = query_vote_weight
        self.target_precision = target_precision

    # -- indexing --------------------------------------------------------------------------------

    def fit(self, passages: Sequence[Passage]) -> HybridRetriever:
        """Index the passages and calibrate ``threshold_`` on them (self-supervised)."""
        passages = list(passages)
        if not 0.0 <= self.semantic_weight <= 1.0:
            raise DataValidationError(
                f"semantic_weight must be between 0 and 1; got {self.semantic_weight}")
        if self.window < 1:
            raise DataValidationError(f"window must be at least 1; got {self.window}")
        for i, passage in enumerate(passages):
            if not isinstance(passage, Passage):
                raise DataValidationError(f"passages[{i}] is not a Passage")
            if not str(passage.id).strip():
                raise DataValidationError(f"passages[{i}] has an empty id")
        ids = [str(p.id) for p in passages]
        if len(set(ids)) != len(ids):
            seen: set[str] = set()
            twice = sorted({i for i in ids if i in seen or seen.add(i)})  # type: ignore[func-returns-value]
            raise DataValidationError(f"passage ids must be unique; repeated: {twice[:5]}")
        passages = [p for p in passages if (p.text.strip() or p.title.strip())]
        if not passages:
            raise InsufficientDataError("needs at least one passage with text")

        windows, owners = [], []
        for index, passage in enumerate(passages):
            for text in _windows(passage, self.window):
                windows.append(text)
                owners.append(index)
        documents = [f"{p.title}. {w}" if p.title.strip() else w
                     for p, w in ((passages[o], w) for o, w in zip(owners, windows, strict=True))]
        corpus_tokens = [tokens(d) or [""] for d in documents]
        index = bm25s.BM25(k1=self.k1, b=self.b, method="lucene")
        index.index(corpus_tokens, show_progress=False)
        document_frequency: dict[str, int] = {}
        for words in corpus_tokens:
            for word in set(words):
                document_frequency[word] = document_frequency.get(word, 0) + 1

        self.passages_ = passages
        self.position_ = {str(p.id): i for i, p in enumerate(passages)}
        self.windows_ = windows
        self.owners_ = np.asarray(owners)
        self.bm25_ = index
        self.document_frequency_ = document_frequency
        self.n_windows_ = len(windows)
        self.encoder_ = get_encoder(self.encoder)
        self.window_vectors_ = (self.encoder_.encode(documents, kind="passage")
                                if self.encoder_ is not None else None)
        self.votes_up_ = np.zeros(len(passages))
        self.votes_down_ = np.zeros(len(passages))
        self.query_votes_: list[tuple[frozenset[str], np.ndarray | None, int, float]] = []
        self.threshold_ = 0.0
        self._stamp_version("bm25" if self.encoder_ is None else f"bm25+{self.encoder_.name}")
        self.calibration_ = self.calibrate()
        return self

    # -- scoring ---------------------------------------------------------------------------------

    def _idf(self, word: str) -> float:
        df = self.document_frequency_.get(word, 0)
        return math.log(1.0 + (self.n_windows_ - df + 0.5) / (df + 0.5))

    def _keyword_scores(self, query_words: list[str]) -> np.ndarray:
        known = [w for w in query_words if w in self.bm25_.vocab_dict]
        if not known:
            return np.zeros(self.n_windows_)
        raw = np.asarray(self.bm25_.get_scores(known), dtype=float)
        # Lucene's BM25 scores a word idf × tf / (tf + k1 × length norm): a window of average
        # length holding every query word once scores sum(idf) / (1 + k1).
        most = sum(self._idf(w) for w in query_words) / (1.0 + self.k1)
        return np.clip(raw / most, 0.0, 1.0) if most > 0 else np.zeros(self.n_windows_)

    def _window_scores(self, query: str, query_vector: np.ndarray | None
                       ) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
        keyword = self._keyword_scores(tokens(query))
        if query_vector is None or self.window_vectors_ is None:
            return keyword, None, keyword
        semantic = np.clip(self.window_vectors_ @ query_vector, 0.0, 1.0)
        fused = self.semantic_weight * semantic + (1.0 - self.semantic_weight) * keyword
        return keyword, semantic, fused

    def _query_vectors(self, queries: list[str]) -> list[np.ndarray | None]:
        if self.encoder_ is None:
            return [None] * len(queries)
        return list(self.encoder_.encode(queries, kind="query"))

    def _vote_adjustment(self, query_words: frozenset[str], query_vector: np.ndarray | None
                         ) -> np.ndarray:
        """How the votes move each passage for this query."""
        helpful = (self.votes_up_ + 1.0) / (self.votes_up_ + self.votes_down_ + 2.0)
        adjustment = self.prior_weight * (helpful - 0.5)
        for words, vector, position, sign in self.query_votes_:
            if vector is not None and query_vector is not None:
                similarity = float(vector @ query_vector)
            else:
                union = len(words | query_words)
                similarity = len(words & query_words) / union if union else 0.0
            if similarity > 0.5:  # only queries about the same thing
                adjustment[position] += self.query_vote_weight * sign * (similarity - 0.5) / 0.5
        return adjustment

    def _rank(self, query: str, query_vector: np.ndarray | None, *, votes: bool = True
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
        """Per passage: relevance, best window, keyword and meaning scores of that window."""
        keyword, semantic, fused = self._window_scores(query, query_vector)
        n = len(self.passages_)
        best = np.full(n, -1.0)
        best_window = np.zeros(n, dtype=int)
        order = np.lexsort((-fused, self.owners_))  # by passage, best window first
        first = np.ones(len(order), dtype=bool)
        first[1:] = self.owners_[order][1:] != self.owners_[order][:-1]
        chosen = order[first]
        best[self.owners_[chosen]] = fused[chosen]
        best_window[self.owners_[chosen]] = chosen
        if votes:
            best = np.clip(best + self._vote_adjustment(frozenset(tokens(query)), query_vector),
                           0.0, 1.0)
        return best, best_window, keyword, semantic

    # -- searching -------------------------------------------------------------------------------

    def search(self, query: str, k: int = 5) -> SearchResults:
        """The ``k`` best passages for ``query``, best first, each with the window to quote.

        ``results.answerable`` is False when even the best is below ``threshold_``: nothing in
        the knowledge base answers the query (each hit also says whether it clears it).
        """
        self._check_fitted()
        if not isinstance(query, str):
            raise DataValidationError("query must be a text")
        if k < 1:
            raise DataValidationError(f"k must be at least 1; got {k}")
        if not query.strip():
            return SearchResults([], query=query, threshold=self.threshold_)
        (vector,) = self._query_vectors([query])
        scores, windows, keyword, semantic = self._rank(query, vector)
        top = np.argsort(-scores, kind="stable")[:k]
        hits = []
        for position in top:
            window = int(windows[position])
            hits.append(Hit(
                id=str(self.passages_[position].id),
                score=float(scores[position]),
                passage=self.passages_[position],
                snippet=self.windows_[window],
                answerable=bool(scores[position] >= self.threshold_),
                keyword_score=float(keyword[window]),
                semantic_score=None if semantic is None else float(semantic[window]),
            ))
        return SearchResults(hits, query=query, threshold=self.threshold_)

    def feedback(self, query: str, passage_id: str, helpful: bool) -> None:
        """A thumbs up (``helpful=True``) or down for ``passage_id`` shown for ``query``."""
        self._check_fitted()
        if str(passage_id) not in self.position_:
            raise DataValidationError(f"no passage with id {passage_id!r}")
        if not isinstance(helpful, bool):
            raise DataValidationError("helpful must be True or False")
        position = self.position_[str(passage_id)]
        if helpful:
            self.votes_up_[position] += 1
        else:
            self.votes_down_[position] += 1
        (vector,) = self._query_vectors([query])
        self.query_votes_.append(
            (frozenset(tokens(query)), vector, position, 1.0 if helpful else -1.0))

    # -- calibrating -----------------------------------------------------------------------------

    def calibrate(self, questions: Iterable[tuple[str, str]] | None = None,
                  unrelated: Iterable[str] | None = None) -> dict:
        """Set ``threshold_`` from questions whose answering passage is known and unrelated
        questions; returns the figures at that threshold.

        Without ``questions`` the passages' titles and first sentences stand in for them;
        without ``unrelated``, general questions about other things (GENERAL_QUESTIONS).
        Votes are left out: the threshold is about the texts.
        """
        self._check_fitted()
        source = "the business's questions"
        if questions is None:
            source = "self-supervised (titles and first sentences)"
            questions = []
            # At most SELF_SUPERVISED_PASSAGES passages, evenly spread: enough to place a
            # threshold, and fit stays quick on a large knowledge base.
            step = max(1, len(self.passages_) // SELF_SUPERVISED_PASSAGES)
            for passage in self.passages_[::step][:SELF_SUPERVISED_PASSAGES]:
                if passage.title.strip():
                    questions.append((passage.title, str(passage.id)))
                first = sentences(passage.text)[:1]
                if first and first[0] != passage.title:
                    questions.append((first[0], str(passage.id)))
        questions = [(str(q), str(pid)) for q, pid in questions if str(q).strip()]
        for _, pid in questions:
            if pid not in self.position_:
                raise DataValidationError(f"a question names passage {pid!r}, which is not indexed")
        unrelated = [str(q) for q in (GENERAL_QUESTIONS if unrelated is None else unrelated)
                     if str(q).strip()]
        if not questions or not unrelated:
            raise InsufficientDataError(
                "calibration needs at least one answerable and one unrelated question")

        vectors = self._query_vectors([q for q, _ in questions] + unrelated)
        positive_scores, positive_right = [], []
        for (question, pid), vector in zip(questions, vectors[:len(questions)], strict=True):
            scores = self._rank(question, vector, votes=False)[0]
            positive_scores.append(float(scores.max()))
            positive_right.append(int(np.argmax(scores)) == self.position_[pid])
        negative_scores = [float(self._rank(q, v, votes=False)[0].max())
                           for q, v in zip(unrelated, vectors[len(questions):], strict=True)]
        threshold, figures = _answerable_threshold(
            np.asarray(positive_scores), np.asarray(positive_right),
            np.asarray(negative_scores), self.target_precision)
        self.threshold_ = threshold
        figures.update({"source": source, "n_questions": len(questions),
                        "n_unrelated": len(unrelated)})
        self.calibration_ = figures
        return figures

    def summary(self) -> dict:
        self._check_fitted()
        return {
            "model": "HybridRetriever",
            "method": "BM25 (bm25s)" + (
                "" if self.encoder_ is None
                else f" + {self.encoder_.name} cosine, weight {self.semantic_weight}"),
            "model_version": self.model_version_,
            "n_passages": len(self.passages_),
            "n_windows": self.n_windows_,
            "threshold": self.threshold_,
            "calibration": self.calibration_,
            "votes": int(self.votes_up_.sum() + self.votes_down_.sum()),
        }


def _answerable_threshold(positive: np.ndarray, right: np.ndarray, negative: np.ndarray,
                          target_precision: float | None) -> tuple[float, dict]:
    """The threshold on the best passage's relevance above which the retriever answers.

    Answering a known question with its passage is right; answering it with another passage
    or answering an unrelated question is wrong. Without a target precision: the threshold with
    the best F1 (precision = right answers / answers, recall = right answers / known
    questions); among equally good ones, a quarter of the way up their range, leaning to
    answering (the questions people really ask are harder than the calibration's). With one:
    the lowest threshold whose precision reaches it (else the best F1).
    """
    candidates = np.unique(np.concatenate([positive, negative, [0.0, 1.0 + 1e-9]]))
    figures = []
    for t in candidates:
        answered_right = int(np.sum((positive >= t) & right))
        answered = int(np.sum(positive >= t) + np.sum(negative >= t))
        precision = answered_right / answered if answered else 1.0
        recall = answered_right / len(positive)
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        figures.append((precision, recall, f1))
    f1s = np.asarray([f for _, _, f in figures])
    chosen = None
    if target_precision is not None:
        reaching = [i for i, (p, r, _) in enumerate(figures) if p >= target_precision and r > 0]
        if reaching:
            chosen = reaching[0]
            lower = candidates[chosen - 1] if chosen > 0 else 0.0
            threshold = float((lower + candidates[chosen]) / 2.0)
    if chosen is None:
        best = np.flatnonzero(f1s >= f1s.max() - 1e-12)
        first = last = int(best[0])
        while last + 1 < len(candidates) and f1s[last + 1] >= f1s.max() - 1e-12:
            last += 1
        lower = candidates[first - 1] if first > 0 else 0.0
        threshold = float(lower + 0.25 * (candidates[last] - lower))
        chosen = first
    precision, recall, f1 = figures[chosen]
    answered_negative = float(np.mean(negative >= threshold)) if len(negative) else 0.0
    return threshold, {"threshold": threshold, "precision": precision, "recall": recall,
                       "f1": f1, "unrelated_answered": answered_negative,
                       "target_precision": target_precision}
