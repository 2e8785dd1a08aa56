"""Reading transcripts: sentences, products and preferences mentioned, summary, tone; and the
speech module's audio checks (which need no model)."""

import io
import sys
import wave

import pytest

from rapport.insights.ml import conversation, speech

SAID = ("Hello, it's Margaret from the flower shop. I'd like two rye loaves and a sour dough "
        "for Friday. Could you slice the rye please? No nuts, my grandson is allergic. "
        "Okay. Thanks, bye.")


def test_sentences_and_singulars():
    assert conversation.sentences("Hi. Two loaves? Yes!  Thanks") == [
        "Hi.", "Two loaves?", "Yes!", "Thanks"]
    assert [conversation.singular(w) for w in ("loaves", "berries", "peaches", "buns", "glass")
            ] == ["loaf", "berry", "peach", "bun", "glass"]


def test_products_and_preferences_are_found_by_their_words():
    catalogue = ["Baguette", "Rye Loaf", "Seeded Rye Loaf", "Sourdough", "Croissant"]
    assert conversation.mentions(SAID, catalogue) == ["Rye Loaf", "Sourdough"]
    preferences = ["sliced bread", "allergic to nuts", "collects on Saturdays"]
    assert conversation.mentions(SAID, preferences) == ["allergic to nuts"]
    assert conversation.mentions("I want a rue loaf", ["Rye Loaf"]) == []  # 3 letters: exact
    assert conversation.mentions("", catalogue) == []


def test_the_summary_keeps_the_sentences_that_say_most_in_order():
    summary = conversation.summarise(SAID, keywords=["Rye Loaf", "Friday"])
    assert summary.startswith("I'd like two rye loaves")
    assert "Okay." not in summary and len(summary) <= 400
    assert conversation.summarise("Just one sentence.") == "Just one sentence."
    assert conversation.summarise("") == ""


def test_tone():
    assert conversation.tone("Thank you, it was lovely, perfect.").label == "positive"
    assert conversation.tone("The bread was stale and awful.").label == "negative"
    assert conversation.tone("").label == "neutral"


def _wav(seconds=0.5):
    out = io.BytesIO()
    with wave.open(out, "wb") as sound:
        sound.setnchannels(1)
        sound.setsampwidth(2)
        sound.setframerate(8000)
        sound.writeframes(b"\x00\x01" * int(8000 * seconds))
    return out.getvalue()


def test_probe_without_pyav_reads_headers(monkeypatch):
    monkeypatch.setitem(sys.modules, "av", None)
    assert speech.probe(_wav(0.5)) == pytest.approx(0.5)
    assert speech.probe(b"ID3\x04" + bytes(100)) is None  # MP3: the decoder will tell
    for bad in (b"", b"hello, this is text" * 10, b"%PDF-1.7 ..."):
        with pytest.raises(speech.NotAudio):
            speech.probe(bad)


def test_unavailable_when_the_packages_cannot_be_imported(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "faster_whisper", None)
    assert speech.unavailable() == speech.NOT_INSTALLED
    with pytest.raises(speech.TranscriptionUnavailable):
        speech.model_dir(tmp_path)


@pytest.mark.skipif(speech.unavailable() is not None, reason="the extra 'voice' is not installed")
def test_probe_with_pyav_decodes():
    assert speech.probe(_wav(0.5)) == pytest.approx(0.5, abs=0.05)
    with pytest.raises(speech.NotAudio):
        speech.probe(b"RIFF\x00\x00\x00\x00WAVEjunkjunkjunk" * 10)
