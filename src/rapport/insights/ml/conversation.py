"""Reading a conversation's transcript: its sentences, a short extractive summary, the catalogue
products and the customer's preferences it mentions, and its sentiment.

Plain Python. The summary picks the sentences closest to the whole conversation (TF-IDF over
words, cosine similarity to the transcript's centroid, a small bonus for sentences that name a
product or a day) and keeps them in the order they were said. Products and preferences are
found by their words, singular or plural and with small transcription slips ("rye loaves"
finds "Rye Loaf", "sour dough" finds "Sourdough").
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from rapidfuzz import fuzz

from rapport.insights.ml.sentiment import vader_labels, vader_scores

_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+(?=\S)")
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
STOPWORDS = frozenset(
    "a an and are as at be but by can could do does for from has have i i'd i'll i'm if in is "
    "it it's its just like likes me my no not of on or our please prefers so that the their "
    "them then there they this to too very was we were what when will with would you your "
    "always never only usually some any".split())
# Irregular plurals a shop hears: "two loaves", "three knives".
_IRREGULAR = {"loaves": "loaf", "knives": "knife", "leaves": "leaf", "halves": "half",
              "shelves": "shelf", "children": "child", "women": "woman", "men": "man",
              "teeth": "tooth", "feet": "foot", "mice": "mouse", "geese": "goose"}


def sentences(text: str) -> list[str]:
    """The transcript cut into sentences (speech recognisers punctuate what they hear)."""
    return [part.strip() for part in _SENTENCE_END.split(text.strip()) if part.strip()]


def singular(word: str) -> str:
    """A rough English singular, good enough to match "loaves" with "loaf"."""
    if word in _IRREGULAR:
        return _IRREGULAR[word]
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 4 and word.endswith(("ches", "shes", "sses", "xes", "zes")):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def words(text: str) -> list[str]:
    return [singular(w) for w in _WORD.findall(text.lower().replace("’", "'"))]


def content_words(text: str) -> list[str]:
    return [w for w in words(text) if w not in STOPWORDS]


def _close(a: str, b: str, threshold: float) -> bool:
    if a == b:
        return True
    if min(len(a), len(b)) < 4:  # "rye" and "rue" are different things
        return False
    return fuzz.ratio(a, b) >= threshold


def mentions(text: str, phrases: Iterable[str], *, threshold: float = 85) -> list[str]:
    """The phrases (product names, preferences) the text mentions, in the given order.

    A phrase is mentioned when its content words occur in the text as consecutive words
    (each word singular-folded and allowed a small slip), or, for a phrase of one word, that
    word, or the text's words run together ("sour dough" for "sourdough").
    """
    said = words(text)
    meaningful = [w for w in said if w not in STOPWORDS]
    joined_pairs = [a + b for a, b in zip(said, said[1:], strict=False)]
    found: list[str] = []
    for phrase in phrases:
        wanted = content_words(phrase)
        if not wanted or phrase in found:
            continue
        n = len(wanted)
        hit = any(all(_close(said[i + k], wanted[k], threshold) for k in range(n))
                  for i in range(len(said) - n + 1))
        if not hit and n == 1:
            hit = any(_close(pair, wanted[0], threshold) for pair in joined_pairs)
        if not hit and n > 1:
            # The words of the phrase close together, in any order ("loaf of rye", "nuts,
            # he is allergic"): within a window of the text's content words.
            for i in range(len(meaningful)):
                window = meaningful[i:i + n + 2]
                if all(any(_close(w, want, threshold) for w in window) for want in wanted):
                    hit = True
                    break
        if hit:
            found.append(phrase)
    return found


def summarise(text: str, *, max_sentences: int = 2, max_chars: int = 400,
              keywords: Sequence[str] = ()) -> str:
    """A short extractive summary: the most representative sentences, in the order said."""
    parts = sentences(text)
    if len(parts) <= max_sentences:
        return _cut(" ".join(parts), max_chars)
    from sklearn.feature_extraction.text import TfidfVectorizer

    documents = [" ".join(content_words(part)) or "_" for part in parts]
    try:
        matrix = TfidfVectorizer(token_pattern=r"(?u)\b\w+\b").fit_transform(documents)
    except ValueError:  # no words at all
        return _cut(" ".join(parts[:max_sentences]), max_chars)
    centroid = np.asarray(matrix.mean(axis=0)).ravel()
    norm = np.linalg.norm(centroid) or 1.0
    scores = (matrix @ centroid) / norm
    important = {w for phrase in keywords for w in content_words(phrase)}
    for i, part in enumerate(parts):
        own = set(content_words(part))
        if not own:
            scores[i] = -1.0  # "Yes." "Okay."
        elif own & important:
            scores[i] += 0.25
    chosen = sorted(int(i) for i in np.argsort(-scores, kind="stable")[:max_sentences])
    return _cut(" ".join(parts[i] for i in chosen), max_chars)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


@dataclass(frozen=True)
class Tone:
    label: str  # positive, neutral or negative
    score: float  # VADER's compound score, in [-1, 1]


def tone(text: str) -> Tone:
    """The conversation's sentiment: VADER over the whole transcript (neutral when empty)."""
    score = float(vader_scores([text])[0])
    return Tone(label=str(vader_labels(np.asarray([score]), with_neutral=True)[0]), score=score)
