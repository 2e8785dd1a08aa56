"""The assistant: answers from the published articles, "I don't know" below a threshold
calibrated on the business's own articles, feedback in the ranking, intent, and the handover to
a ticket with the whole transcript and a lead."""

import pytest

from rapport.core.errors import ValidationFailed
from rapport.core.models import Event
from rapport.sales.models import Lead
from rapport.support import services
from rapport.support.models import ChatMessage, ConversationStatus, Ticket
from rapport.support.services import assistant
from rapport.support.tests.assistant_kb import build, close_tickets

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_limits():
    """The rate limits count in the cache: every test starts with none."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def kb(owner):
    made = build(owner)
    close_tickets(owner)
    assistant.intent_train()
    return made


def _chat(text: str = "", **kwargs):
    conversation = services.chat_start(data={"visitor": "visitor-0001"}, origin="https://shop",
                                       ip="10.0.0.1")
    if text:
        return conversation, services.chat_message(data={"token": conversation.token,
                                                         "text": text}, ip="10.0.0.1")
    return conversation, None


@pytest.mark.parametrize(("question", "title"), [
    ("where is my order", "Tracking your order"),
    ("I want to cancel", "Cancelling an order"),
    ("do you have vegan cake?", "Do you sell vegan cakes?"),
    ("how do I reset my password", "Resetting your password"),
    ("I would like a refund", "Refunds for damaged cakes"),
    ("my order has not arrived", "Tracking your order"),
    ("my cake arrived squashed", "Refunds for damaged cakes"),
])
def test_retrieval_answers_with_the_right_article(kb, question, title):
    _, reply = _chat(question)
    assert reply.answer.known
    assert reply.reply.article.title == title
    assert reply.reply.answered and reply.reply.passage == reply.reply.text
    assert reply.reply.passage in kb[title].body  # quoted, never made up


@pytest.mark.parametrize("question", ["do you repair bicycles", "what is the meaning of life",
                                      "hello", "I would like my money back"])
def test_unknown_questions_get_i_dont_know(kb, question):
    _, reply = _chat(question)
    assert not reply.answer.known
    assert reply.reply.text == assistant.I_DONT_KNOW
    assert reply.reply.article is None and not reply.reply.answered


def test_the_threshold_is_calibrated_on_the_business_s_articles(owner, kb):
    calibrated = assistant.calibration()
    assert calibrated.positives == calibrated.negatives == len(kb)
    assert calibrated.true_accept == 1.0 and calibrated.false_accept == 0.0
    # Just above what a question whose answer is missing reaches in these articles.
    _, missing = assistant.current_index().retriever.calibration_scores()
    assert calibrated.threshold == pytest.approx(max(missing) + 0.01)
    # Another business's articles give another threshold.
    services.article_create(actor=owner, data={
        "title": "Tracking your parcel order", "status": "published",
        "body": "Tracking order parcel: where your order parcel is, the tracking link."})
    assert assistant.calibration().threshold != calibrated.threshold


def test_thumbs_down_lowers_an_article_and_thumbs_up_raises_it(owner, kb):
    # Two articles that answer the same question about equally well, in the same category
    # (so the recognised intent lifts both alike).
    services.article_create(actor=owner, data={
        "title": "Delivery days", "status": "published",
        "category_id": kb["Delivery times and areas"].category_id,
        "body": "We deliver Monday to Saturday between 8 am and 6 pm. Orders placed before "
                "noon are delivered the next working day."})
    question = "do you deliver between 8 am and 6 pm"
    ranked = [h.passage.title for h in assistant.help_search(question)]
    assert ranked[:2] == ["Delivery days", "Delivery times and areas"]
    before = assistant.calibration()
    conversation, reply = _chat(question)
    assert reply.reply.article.title == "Delivery days"
    services.chat_feedback(data={"token": conversation.token, "message_id": reply.reply.id,
                                 "value": -1})
    ranked = [h.passage.title for h in assistant.help_search(question)]
    assert ranked[:2] == ["Delivery times and areas", "Delivery days"]
    # The thumbs down's score counts as a missing answer's: the threshold rose above it.
    after = assistant.calibration()
    assert after.negatives == before.negatives + 1
    assert after.threshold > reply.reply.score > before.threshold
    # Changed to a thumbs up: first again, and the threshold back.
    services.chat_feedback(data={"token": conversation.token, "message_id": reply.reply.id,
                                 "value": 1})
    ranked = [h.passage.title for h in assistant.help_search(question)]
    assert ranked[0] == "Delivery days"
    assert assistant.calibration().threshold == pytest.approx(before.threshold)


def test_feedback_is_only_for_answers_of_this_conversation(kb):
    conversation, reply = _chat("do you repair bicycles")
    with pytest.raises(ValidationFailed) as failure:
        services.chat_feedback(data={"token": conversation.token,
                                     "message_id": reply.reply.id, "value": 1})
    assert "message_id" in failure.value.errors
    with pytest.raises(ValidationFailed) as failure:
        services.chat_feedback(data={"token": conversation.token,
                                     "message_id": reply.reply.id, "value": 5})
    assert "value" in failure.value.errors


def test_changes_to_articles_reach_the_answers_at_once(owner, kb):
    _, reply = _chat("can I pay by invoice")
    assert reply.answer.known
    article = kb["Can I pay by invoice?"]
    services.article_update(actor=owner, article_id=article.id, version=article.version,
                            changes={"status": "draft"})
    _, reply = _chat("can I pay by invoice")
    assert not reply.answer.known or reply.reply.article_id != article.id


def test_intent_names_the_queue_on_handover(kb):
    conversation, reply = _chat("I would like my money back")
    assert not reply.answer.known
    assert reply.question.intent == "Cancellations and refunds"
    handed = services.chat_handover(data={"token": conversation.token, "name": "Nina Berg",
                                          "email": "nina@example.org"}, ip="10.0.0.1")
    assert handed.ticket.category == "Cancellations and refunds"


def test_handover_opens_a_ticket_with_the_transcript_and_a_lead(kb):
    conversation, _ = _chat("where is my order")
    services.chat_message(data={"token": conversation.token,
                                "text": "<b>and</b> do you repair <script>x()</script>bicycles"},
                          ip="10.0.0.1")
    handed = services.chat_handover(data={"token": conversation.token, "name": "Nina Berg",
                                          "email": "Nina@Example.org"}, ip="10.0.0.1")
    ticket = Ticket.objects.get(channel="chat")
    assert handed.ticket == ticket and ticket.channel == "chat"
    assert ticket.conversation_id == conversation.id
    assert ticket.subject == "Chat: where is my order"
    transcript = ticket.description
    assert "Visitor" in transcript and "where is my order" in transcript
    assert "“Tracking your order” (/help/tracking-your-order/)" in transcript
    assert "and do you repair bicycles" in transcript and "<script>" not in transcript
    assert assistant.I_DONT_KNOW in transcript
    assert ticket.messages.get().body == transcript
    lead = Lead.objects.get(email="nina@example.org")
    assert lead.source == "chatbot" and handed.lead_created
    conversation.refresh_from_db()
    assert conversation.status == ConversationStatus.HANDED_OVER
    assert conversation.contact_id == ticket.contact_id and conversation.lead_id == lead.id
    event = Event.objects.get(kind="chat.conversation")
    assert event.contact_id == ticket.contact_id
    assert event.after["ticket_reference"] == ticket.reference
    # Asking again is the same ticket; a second chat from the same person updates the lead.
    again = services.chat_handover(data={"token": conversation.token, "name": "Nina Berg",
                                         "email": "nina@example.org"}, ip="10.0.0.1")
    assert again.ticket == ticket
    later, _ = _chat("I want to cancel")
    second = services.chat_handover(data={"token": later.token, "name": "Nina Berg",
                                          "email": "nina@example.org"}, ip="10.0.0.1")
    assert not second.lead_created and Lead.objects.count() == 1
    assert second.ticket != ticket
    assert Lead.objects.get().submissions == 2
    assert second.ticket.contact_id == ticket.contact_id


def test_bad_messages_are_refused_naming_the_field(kb):
    conversation, _ = _chat()
    for text, field in [("", "text"), ("   ", "text"), ("<script>alert(1)</script>", "text"),
                        ("x" * 4001, "text")]:
        with pytest.raises(ValidationFailed) as failure:
            services.chat_message(data={"token": conversation.token, "text": text},
                                  ip="10.0.0.1")
        assert field in failure.value.errors
    with pytest.raises(ValidationFailed) as failure:
        services.chat_handover(data={"token": conversation.token, "name": "N",
                                     "email": "not an address"}, ip="10.0.0.1")
    assert "email" in failure.value.errors
    assert not ChatMessage.objects.exists() and not Ticket.objects.filter(channel="chat").exists()


def test_a_flood_of_messages_is_refused(kb, settings):
    settings.RAPPORT_ASSISTANT_VISITOR_LIMIT = 3
    conversation, _ = _chat()  # the start counts as one
    services.chat_message(data={"token": conversation.token, "text": "hi"}, ip="10.0.0.2")
    services.chat_message(data={"token": conversation.token, "text": "hi"}, ip="10.0.0.2")
    with pytest.raises(services.ChatRateLimited) as limited:
        services.chat_message(data={"token": conversation.token, "text": "hi"}, ip="10.0.0.2")
    assert "Too many messages" in str(limited.value)
    assert ChatMessage.objects.filter(sender="visitor").count() == 2


def test_intent_training_says_why_when_there_is_too_little(owner):
    row = assistant.intent_train()
    assert not row.ready and "needs at least" in row.message
    assert assistant.predict_intent("where is my order") == ("", None)
