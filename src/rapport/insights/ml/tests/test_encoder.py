"""The sentence encoder: unit vectors, meaning, per-process loading, and the TF-IDF fallback."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

from rapport.insights.ml import encoder as encoders
from rapport.insights.ml.encoder import ENV, EncoderUnavailable, get_encoder


@pytest.fixture(scope="module")
def minilm():
    if (reason := encoders.unavailable()) is not None:
        pytest.skip(reason)
    return encoders.encoder_by_name(encoders.DEFAULT)


def test_vectors_are_float32_unit_length_one_row_per_text(minilm):
    vectors = minilm.encode(["My card has not arrived yet", "", "Où est ma carte ?"])
    assert vectors.shape == (3, minilm.dim) == (3, 384)
    assert vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert minilm.encode([]).shape == (0, 384)


def test_similar_sentences_are_closer_than_unrelated_ones(minilm):
    lost, missing, rate, pizza = minilm.encode([
        "I lost my credit card",
        "My bank card is missing, I can't find it",
        "What is today's exchange rate for dollars?",
        "Pizza with extra cheese and olives",
    ])
    assert lost @ missing > 0.6
    assert lost @ missing > lost @ rate + 0.3
    assert lost @ missing > lost @ pizza + 0.3


def test_batches_and_order_do_not_change_a_text_s_vector(minilm):
    texts = ["short", "a much longer sentence about a refund that never came", "mid length text"]
    together = minilm.encode(texts)
    alone = np.vstack([minilm.encode([t]) for t in texts])
    assert np.allclose(together, alone, atol=1e-4)


def test_the_loaded_model_is_shared_and_a_handle_pickles_as_its_name(minilm):
    again = encoders.encoder_by_name(minilm.name)
    minilm.encode(["warm up"])
    assert encoders._minilm_runtime(None) is encoders._minilm_runtime(again.threads)
    assert pickle.loads(pickle.dumps(minilm)) == minilm
    assert copy.deepcopy(minilm) is minilm
    assert len(pickle.dumps(minilm)) < 500  # the name, not the weights


def test_one_string_is_refused(minilm):
    with pytest.raises(ValueError, match="not one string"):
        minilm.encode("hello")


def test_auto_gives_the_default_when_installed_and_none_turns_it_off(minilm, monkeypatch):
    monkeypatch.delenv(ENV, raising=False)
    assert get_encoder("auto") == minilm
    assert get_encoder(None) is None
    assert get_encoder("none") is None
    monkeypatch.setenv(ENV, "none")
    assert get_encoder("auto") is None
    monkeypatch.setenv(ENV, minilm.name)
    assert get_encoder("auto") == minilm


def test_an_unknown_encoder_name_is_an_error(monkeypatch):
    monkeypatch.setenv(ENV, "bert-huge")
    with pytest.raises(EncoderUnavailable, match="names no sentence encoder"):
        get_encoder("auto")
    monkeypatch.delenv(ENV)
    with pytest.raises(ValueError, match="unknown sentence encoder 'bert-huge'"):
        get_encoder("bert-huge")


def test_without_the_package_auto_falls_back_and_a_named_encoder_says_why(monkeypatch):
    # What a machine without the extra "text" sees: the model package cannot be imported.
    monkeypatch.delenv(ENV, raising=False)
    monkeypatch.setitem(__import__("sys").modules, encoders.MINILM_PACKAGE, None)
    assert encoders.unavailable() == encoders.NOT_INSTALLED
    assert get_encoder("auto") is None
    with pytest.raises(EncoderUnavailable, match="extra “text”"):
        get_encoder(encoders.DEFAULT)
    with pytest.raises(EncoderUnavailable, match="extra “text”"):
        encoders.encoder_by_name(encoders.DEFAULT).encode(["hello"])
