"""Passage retrieval for a knowledge base with a threshold calibrated on the business's own
articles: BM25 (``bm25s``) over paragraphs, scores normalised to 0 … 1, and "is the best passage
good enough to answer with?" decided by :func:`choose_threshold` (the assistant's "I don't
know"). Used by the support app's assistant (services/assistant.py, docs/assistant.md).

Plain Python (no Django).
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import bm25s
import numpy as np

_WORD = re.compile(r"\w+", re.UNICODE)
STOPWORDS = frozenset("""
a about above after again all am an and any are as at be been being below between both but by
can could did do does doing down during each few for from further had has have having he her
here hers him his how i if in into is it its itself just me more most my myself no nor not of
off on once only or other our ours out over own same she should so some such than that the
their theirs them then there these they this those through to too under until up very was we
were which while whom will with would you your yours hi hello please thanks thank want wanted
like know tell get need
""".split())
_DOUBLE = re.compile(r"([bdfgklmnprt])\1$")


@functools.lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """A light English suffix stripper: orders → order, cancelling → cancel, refunded →
    refund, deliveries → delivery, storing/store → stor. Other languages' words pass through
    whole."""
    if len(word) <= 3 or not word.isascii():
        return word
    word = _strip(word)
    return word[:-1] if len(word) >= 5 and word.endswith("e") else word


def _strip(word: str) -> str:
    for suffix, keep in (("ies", "y"), ("ing", ""), ("ed", ""), ("es", ""), ("s", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            if suffix == "s" and word.endswith(("ss", "us", "is")):
                return word
            if suffix == "es" and not word.endswith(("ches", "shes", "xes", "sses", "zes")):
                continue
            word = word[: -len(suffix)] + keep
            if suffix in ("ing", "ed") and _DOUBLE.search(word):
                word = word[:-1]
            return word
    return word


def tokens(text: str) -> list[str]:
    return [stem(w) for w in _WORD.findall(text.lower()) if w not in STOPWORDS]


@dataclass(frozen=True)
class Passage:
    """A piece of an article: what the assistant quotes."""

    article_id: int
    title: str
    slug: str
    category: str
    text: str
    is_faq: bool = False


@dataclass(frozen=True)
class Hit:
    passage: Passage
    score: float  # the normalised match (0 … 1), what the threshold is compared with
    rank_score: float  # the score after feedback and intent, what orders the hits


@dataclass
class Calibration:
    threshold: float
    positives: int
    negatives: int
    true_accept: float  # of answerable questions, the share accepted at the threshold
    false_accept: float  # of questions whose answer is missing, the share accepted

    def as_dict(self) -> dict[str, Any]:
        return {"threshold": round(self.threshold, 4), "positives": self.positives,
                "negatives": self.negatives, "true_accept": round(self.true_accept, 3),
                "false_accept": round(self.false_accept, 3)}


PASSAGE_WORDS = 70
# With no articles to calibrate on, nothing is answered anyway; with very few, this floor
# keeps one shared word from counting as an answer.
MIN_THRESHOLD = 0.15


def split_passages(body: str, limit: int = PASSAGE_WORDS) -> list[str]:
    """Paragraphs, and windows of about ``limit`` words (whole sentences) of long ones."""
    passages: list[str] = []
    for paragraph in re.split(r"\n\s*\n", body.replace("\r\n", "\n")):
        paragraph = " ".join(paragraph.split())
        if not paragraph:
            continue
        if len(paragraph.split()) <= limit:
            passages.append(paragraph)
            continue
        window: list[str] = []
        for sentence in re.split(r"(?<=[.!?])\s+", paragraph):
            if window and len(" ".join([*window, sentence]).split()) > limit:
                passages.append(" ".join(window))
                window = []
            window.append(sentence)
        if window:
            passages.append(" ".join(window))
    return passages


class PassageRetriever:
    """BM25 over passages with scores normalised to 0 … 1 and a calibrated threshold.

    Each passage is indexed with its article's title in front (a question is often worded
    like the title), and quoted without it.
    """

    def __init__(self, passages: Sequence[Passage], *, k1: float = 1.2, b: float = 0.75):
        self.passages = list(passages)
        self.article_of = np.array([p.article_id for p in self.passages], dtype=np.int64)
        corpus = [tokens(f"{p.title}\n{p.text}") or [""] for p in self.passages]
        self.n = len(corpus)
        self.bm25 = bm25s.BM25(k1=k1, b=b)
        if self.n:
            self.bm25.index(corpus, show_progress=False)
        df: dict[str, int] = {}
        for doc in corpus:
            for word in set(doc):
                df[word] = df.get(word, 0) + 1
        self.idf = {w: math.log(1 + (self.n - d + 0.5) / (d + 0.5)) for w, d in df.items()}
        # A word no article uses weighs like one used once: it is what the question is about.
        self.unknown_idf = math.log(1 + (self.n - 1 + 0.5) / 1.5) if self.n else 1.0

    def scores(self, question: str) -> np.ndarray:
        """Every passage's normalised score for ``question``."""
        words = list(dict.fromkeys(tokens(question)))
        if not words or not self.n:
            return np.zeros(self.n, dtype=np.float32)
        known = [w for w in words if w in self.bm25.vocab_dict]
        ceiling = sum(self.idf.get(w, self.unknown_idf) for w in words)
        if not known:
            return np.zeros(self.n, dtype=np.float32)
        return np.asarray(self.bm25.get_scores(known), dtype=np.float32) / ceiling

    def search(self, question: str, *, k: int = 3,
               boost: Mapping[int, float] | None = None,
               category_boost: tuple[str, float] | None = None) -> list[Hit]:
        """The best passages, at most one per article. ``boost`` multiplies an article's rank
        (feedback); ``category_boost`` (name, factor) lifts the recognised intent's category."""
        raw = self.scores(question)
        if not raw.size or float(raw.max()) <= 0:
            return []
        rank = raw.copy()
        if boost:
            for index, article_id in enumerate(self.article_of.tolist()):
                factor = boost.get(article_id)
                if factor is not None:
                    rank[index] *= factor
        if category_boost:
            name, factor = category_boost
            for index, passage in enumerate(self.passages):
                if passage.category == name:
                    rank[index] *= factor
        hits: list[Hit] = []
        seen: set[int] = set()
        for index in np.argsort(-rank, kind="stable")[: max(k * 8, 32)].tolist():
            if raw[index] <= 0:
                break
            passage = self.passages[index]
            if passage.article_id in seen:
                continue
            seen.add(passage.article_id)
            hits.append(Hit(passage, float(raw[index]), float(rank[index])))
            if len(hits) == k:
                break
        return hits

    def calibration_scores(self, *, limit: int = 300) -> tuple[list[float], list[float]]:
        """(answerable, missing) scores from asking each article's title (up to ``limit``)."""
        titles: dict[int, str] = {}
        for passage in self.passages:
            titles.setdefault(passage.article_id, passage.title)
        ids = sorted(titles)
        if len(ids) > limit:  # an even spread, the same every time
            ids = [ids[round(i * (len(ids) - 1) / (limit - 1))] for i in range(limit)]
        positives, negatives = [], []
        if len(ids) < 2:
            return positives, negatives
        for article_id in ids:
            scores = self.scores(titles[article_id])
            own = self.article_of == article_id
            positives.append(float(scores[own].max()))
            negatives.append(float(scores[~own].max()))
        return positives, negatives

    def calibrate(self, *, answered: Iterable[float] = (), missed: Iterable[float] = (),
                  floor: float = MIN_THRESHOLD) -> Calibration:
        positives, negatives = self.calibration_scores()
        positives += list(answered)
        negatives += list(missed)
        return choose_threshold(positives, negatives, floor=floor)


def choose_threshold(positives: Sequence[float], negatives: Sequence[float], *,
                     floor: float = MIN_THRESHOLD, margin: float = 0.01) -> Calibration:
    """The threshold with the largest (true accept − false accept) rate, tried just above
    each missing answer's score (``margin``); among equals the lowest. Never below ``floor``.

    The answerable scores come from titles asked verbatim and sit high, so the threshold
    lands just above what questions with a missing answer reach: in effect, as few of those
    as possible are answered, unless answerable ones (visitors' thumbs up) sit among them."""
    if not positives or not negatives:
        return Calibration(floor, len(positives), len(negatives),
                           float(np.mean([p >= floor for p in positives])) if positives else 0.0,
                           float(np.mean([n >= floor for n in negatives])) if negatives else 0.0)
    pos, neg = np.asarray(positives), np.asarray(negatives)
    candidates = np.unique(np.concatenate([neg + margin, [floor]]))
    candidates = candidates[candidates >= floor]
    best, best_gain = floor, -2.0
    for t in candidates.tolist():
        # A missing answer's score within ``margin`` below the threshold counts as accepted.
        gain = float(np.mean(pos >= t) - np.mean(neg > t - margin + 1e-9))
        if gain > best_gain + 1e-9:
            best, best_gain = t, gain
    return Calibration(float(best), int(pos.size), int(neg.size),
                       float(np.mean(pos >= best)), float(np.mean(neg >= best)))
