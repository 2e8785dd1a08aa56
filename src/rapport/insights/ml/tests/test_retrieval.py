"""HybridRetriever: finds the passage that answers, says when none does, learns from votes,
calibrates on the business's questions, and works on keywords alone without the encoder."""

from __future__ import annotations

import pytest

from rapport.insights.ml import encoder as encoders
from rapport.insights.ml.errors import DataValidationError, InsufficientDataError
from rapport.insights.ml.persistence import load_model, save_model
from rapport.insights.ml.retrieval import HybridRetriever, Passage, sentences

ARTICLES = [
    Passage("refunds", "You can ask for a refund within 30 days of purchase. Open your order and "
            "press Request refund. The money is back on your card in 5 to 10 working days.",
            "Refunds and returns"),
    Passage("password", "To reset your password, click Forgot password on the sign-in page. We "
            "email you a link that works for one hour. If the email does not arrive, check your "
            "spam folder.", "Resetting your password"),
    Passage("shipping", "We ship to the UK, the EU and the US. Standard delivery takes 3 to 5 "
            "days. Express delivery arrives the next working day if you order before 2 pm.",
            "Shipping and delivery times"),
    Passage("opening", "Our shop is open Monday to Saturday from 9 am to 6 pm. On Sundays and "
            "bank holidays we are closed.", "Opening hours"),
    Passage("invoice", "Every order has an invoice in your account under Orders. You can "
            "download it as a PDF. Business customers can add a VAT number before paying.",
            "Invoices and VAT"),
    Passage("gift", "Gift cards come in amounts from 10 to 200 pounds and never expire. They can "
            "be used in the shop and online.", "Gift cards"),
]
PARAPHRASES = [
    ("how do I get my money back", "refunds"),
    ("I forgot my password and cannot sign in", "password"),
    ("when are you open on sunday", "opening"),
    ("how long does it take for my parcel to come", "shipping"),
    ("can I get a VAT invoice for my company", "invoice"),
]
OFF_TOPIC = ["What will the weather be like in Rome next week?",
             "Who scored the winning goal in the final?",
             "How many legs does a spider have?"]


@pytest.fixture(scope="module")
def minilm():
    if (reason := encoders.unavailable()) is not None:
        pytest.skip(reason)
    return encoders.encoder_by_name(encoders.DEFAULT)


@pytest.fixture
def hybrid(minilm):
    return HybridRetriever(encoder=minilm).fit(ARTICLES)


def test_finds_the_passage_that_answers_a_paraphrase(hybrid):
    for question, expected in PARAPHRASES:
        results = hybrid.search(question, k=3)
        assert results[0].id == expected, question
        assert results.answerable, question
        assert results.best is results[0]
        assert results[0].semantic_score is not None
        assert [h.score for h in results] == sorted((h.score for h in results), reverse=True)


def test_off_topic_questions_are_not_answerable(hybrid):
    for question in OFF_TOPIC:
        results = hybrid.search(question)
        assert not results.answerable, (question, results[0].score, hybrid.threshold_)
        assert results.best is None
        assert not any(hit.answerable for hit in results)
    assert hybrid.search("   ").answerable is False


def test_the_snippet_is_the_window_of_sentences_that_matches(hybrid):
    (hit,) = hybrid.search("does the reset link expire", k=1)
    assert hit.id == "password"
    assert "one hour" in hit.snippet
    assert set(sentences(hit.snippet)) <= set(sentences(hit.passage.text))
    assert len(sentences(hit.snippet)) <= hybrid.window


def test_votes_change_the_ranking(hybrid):
    question = "what payment documents do I get"
    before = [hit.id for hit in hybrid.search(question, k=6)]
    target = before[1]
    for _ in range(3):
        hybrid.feedback(question, target, helpful=True)
    hybrid.feedback(question, before[0], helpful=False)
    after = [hit.id for hit in hybrid.search(question, k=6)]
    assert after[0] == target
    # A similar question benefits; the prior alone moves the passage a little everywhere.
    assert hybrid.search("which payment documents will I receive", k=1)[0].id == target
    assert hybrid.summary()["votes"] == 4


def test_feedback_names_bad_input(hybrid):
    with pytest.raises(DataValidationError, match="no passage with id 'nope'"):
        hybrid.feedback("x", "nope", helpful=True)
    with pytest.raises(DataValidationError, match="helpful must be True or False"):
        hybrid.feedback("x", "refunds", helpful="yes")


def test_calibrating_on_the_business_s_questions(hybrid):
    self_supervised = hybrid.threshold_
    assert hybrid.calibration_["source"].startswith("self-supervised")
    figures = hybrid.calibrate(PARAPHRASES, OFF_TOPIC)
    assert figures["source"] == "the business's questions"
    assert figures["f1"] == 1.0 and figures["unrelated_answered"] == 0.0
    assert figures["n_questions"] == 5 and figures["n_unrelated"] == 3
    assert hybrid.threshold_ == figures["threshold"] != self_supervised
    strict = HybridRetriever(encoder=hybrid.encoder_, target_precision=1.0).fit(ARTICLES)
    assert strict.calibrate(PARAPHRASES, OFF_TOPIC)["precision"] == 1.0
    with pytest.raises(DataValidationError, match="names passage 'faq-9'"):
        hybrid.calibrate([("where is it", "faq-9")], OFF_TOPIC)
    with pytest.raises(InsufficientDataError, match="at least one answerable"):
        hybrid.calibrate([], OFF_TOPIC)


def test_keywords_alone_when_the_encoder_is_turned_off(monkeypatch):
    monkeypatch.setenv(encoders.ENV, "none")
    keywords = HybridRetriever().fit(ARTICLES)
    assert keywords.encoder_ is None
    assert keywords.model_version_.startswith("retrieval-bm25-")
    results = keywords.search("reset password link", k=2)
    assert results[0].id == "password" and results.answerable
    assert results[0].semantic_score is None
    assert results[0].score == pytest.approx(results[0].keyword_score)
    assert not keywords.search("Who scored the winning goal in the final?").answerable
    assert keywords.search("gift card expire", k=1)[0].id == "gift"


def test_saved_and_loaded_it_answers_the_same(hybrid, tmp_path):
    hybrid.feedback("money back please", "refunds", helpful=True)
    loaded = load_model(save_model(hybrid, tmp_path / "kb.joblib"))
    for question, _ in PARAPHRASES:
        assert ([(h.id, round(h.score, 6)) for h in loaded.search(question)]
                == [(h.id, round(h.score, 6)) for h in hybrid.search(question)])
    assert loaded.threshold_ == hybrid.threshold_


def test_bad_passages_are_named():
    with pytest.raises(DataValidationError, match="repeated: \\['a'\\]"):
        HybridRetriever(encoder=None).fit([Passage("a", "x"), Passage("a", "y")])
    with pytest.raises(DataValidationError, match="passages\\[1\\] is not a Passage"):
        HybridRetriever(encoder=None).fit([Passage("a", "x"), "text"])
    with pytest.raises(InsufficientDataError, match="at least one passage with text"):
        HybridRetriever(encoder=None).fit([Passage("a", " ")])
    with pytest.raises(DataValidationError, match="k must be at least 1"):
        HybridRetriever(encoder=None).fit(ARTICLES).search("refund", k=0)
