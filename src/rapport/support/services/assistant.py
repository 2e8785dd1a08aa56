"""The 24/7 assistant: answers a website visitor from the published articles and FAQ entries,
says "I don't know" when nothing is good enough, recognises what they want, and hands them to
a person (a ticket with the whole transcript, and a lead for sales).

How an answer is chosen (docs/assistant.md):

1. The published articles are split into passages (paragraphs, long ones in windows) and
   indexed with BM25 (``bm25s``); the index lives per process, keyed by the number of articles
   and the newest ``updated_at``, so every worker rebuilds it when any article changes.
2. A question's score against a passage is BM25 divided by the most the question's words
   could score (each word's IDF; a word the articles never use counts as a rare one), so 0 is
   "no word in common" and values near 1 "every word, often".
3. Whether the best passage is good enough is decided by a threshold calibrated on the
   business's own articles: each article's title is asked as a question; the best score on its
   own passages is what an answerable question reaches, the best score on the *other* articles
   is what a question reaches whose answer is missing (as if the article did not exist). The
   threshold is the one that separates the two best (largest true-minus-false acceptance rate),
   just above the missing answers' scores it excludes, and visitors' thumbs join them: an
   answer given a thumbs down counts as a missing answer's score, a thumbs up as an
   answerable one's.
4. Thumbs and help-centre votes also move an article up or down among passages that match.
5. The intent (the text classifier trained on FAQ questions and article titles labelled by
   their category, and closed tickets' subjects labelled by theirs) lifts the passages of the
   recognised category, and names the queue (the ticket's category) when the visitor hands over.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import pathlib
import secrets
import tempfile
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count, F, Max, OuterRef, Q, Subquery, Sum
from django.utils import timezone

from rapport.core.errors import NotFound, ValidationFailed
from rapport.core.events import record_events
from rapport.core.inputs import parse
from rapport.core.permissions import require
from rapport.core.ratelimit import over_limit
from rapport.insights.ml import retrieval
from rapport.insights.ml.errors import InsufficientDataError
from rapport.insights.ml.passages import (
    MIN_THRESHOLD,
    Calibration,
    Hit,
    Passage,
    PassageRetriever,
    split_passages,
)
from rapport.insights.ml.persistence import load_model, save_model
from rapport.insights.ml.text import TextClassifier
from rapport.support import events
from rapport.support.inputs import (
    AssistantSettingsInput,
    ChatFeedbackInput,
    ChatHandoverInput,
    ChatMessageInput,
    ChatStartInput,
)
from rapport.support.models import (
    Article,
    ArticleStatus,
    ChatConversation,
    ChatMessage,
    ConversationStatus,
    DeskSettings,
    Sender,
    SupportModel,
    Ticket,
)
from rapport.support.services.assignment import locked_desk_settings
from rapport.support.services.tickets import excerpt, support_actor, ticket_open

log = logging.getLogger("rapport.support.assistant")

# --- the shared hybrid retriever (insights/ml/retrieval.py), when it is there ----------------

# Keywords + the sentence encoder when the hybrid retriever is there; without it,
# PassageRetriever (keywords alone).
hybrid: Any = retrieval if hasattr(retrieval, "HybridRetriever") else None


class HybridAdapter:
    """``insights.ml.retrieval.HybridRetriever`` behind PassageRetriever's interface: one
    passage per article (it cuts its own windows and quotes the best), its votes replayed
    from the database, its threshold calibrated on the articles (titles and first sentences)
    and the visitors' thumbs (a thumbs-up question with its article counts as answerable, a
    thumbs-down one as unrelated, beside the retriever's general questions)."""

    wants_questions = True

    def __init__(self, passages: Sequence[Passage]):
        bodies: dict[int, list[str]] = {}
        firsts: dict[int, Passage] = {}
        for passage in passages:
            bodies.setdefault(passage.article_id, []).append(passage.text)
            firsts.setdefault(passage.article_id, passage)
        self.passages = list(passages)
        self.firsts = firsts
        self.model = hybrid.HybridRetriever().fit([
            hybrid.Passage(id=str(article_id), title=first.title, url=f"/help/{first.slug}/",
                           text="\n\n".join(bodies[article_id]))
            for article_id, first in firsts.items()])

    def search(self, question: str, *, k: int = 3,
               boost: Mapping[int, float] | None = None,
               category_boost: tuple[str, float] | None = None) -> list[Hit]:
        found = self.model.search(question, k=k) if question.strip() else []
        hits = []
        for hit in found:
            if hit.score <= 0:
                continue
            first = self.firsts[int(hit.id)]
            rank = hit.score
            if category_boost and first.category == category_boost[0]:
                rank *= category_boost[1]
            hits.append(Hit(Passage(first.article_id, first.title, first.slug, first.category,
                                    hit.snippet, first.is_faq), hit.score, rank))
        return sorted(hits, key=lambda h: -h.rank_score)

    def apply_feedback(self, votes: Mapping[int, tuple[int, int]],
                       rated: Sequence[tuple[str, int, int]]) -> Calibration:
        model = self.model
        model.votes_up_[:] = 0
        model.votes_down_[:] = 0
        model.query_votes_ = []
        for article_id, (up, down) in votes.items():
            position = model.position_.get(str(article_id))
            if position is not None:
                model.votes_up_[position] += up
                model.votes_down_[position] += down
        questions, unrelated = [], list(hybrid.GENERAL_QUESTIONS)
        for question, article_id, feedback in rated:
            if not question or str(article_id) not in model.position_:
                continue
            model.feedback(question, str(article_id), feedback > 0)
            if feedback > 0:
                questions.append((question, str(article_id)))
            else:
                unrelated.append(question)
        for passage in model.passages_:  # the retriever's self-supervised questions
            if passage.title.strip():
                questions.append((passage.title, str(passage.id)))
            first = hybrid.sentences(passage.text)[:1]
            if first and first[0] != passage.title:
                questions.append((first[0], str(passage.id)))
        figures = model.calibrate(questions=questions, unrelated=unrelated)
        return Calibration(float(model.threshold_), len(questions), len(unrelated),
                           float(figures.get("recall", 0.0)),
                           float(figures.get("unrelated_answered", 0.0)))


def _use_hybrid() -> bool:
    """``RAPPORT_ASSISTANT_HYBRID``: False (the default), True, or "auto" (the hybrid retriever
    of insights.ml.retrieval when a sentence encoder is installed). Measured on the tests'
    bakery knowledge base, the keyword retriever (PassageRetriever) answered every answerable
    question with the right article and declined the others; the hybrid one, with the MiniLM
    encoder installed, answered 2 of 7 right and mis-set the threshold, so it stays opt-in
    until its calibration is tuned on such small knowledge bases."""
    choice = getattr(settings, "RAPPORT_ASSISTANT_HYBRID", False)
    if hybrid is None or choice is False:
        return False
    if choice is True:
        return True
    try:
        return hybrid.get_encoder("auto") is not None
    except Exception:  # noqa: BLE001 - an encoder that cannot load: keywords alone
        return False


def make_retriever(passages: Sequence[Passage]) -> PassageRetriever | HybridAdapter:
    """The one place that chooses the retriever."""
    if passages and _use_hybrid():
        return HybridAdapter(passages)
    return PassageRetriever(passages)


# --- the business's index: published articles, rebuilt when any changes ------------------------

@dataclass
class Index:
    key: tuple
    retriever: Any  # PassageRetriever or HybridAdapter (make_retriever)
    articles: dict[int, Passage]  # article id → its first passage (title, slug, category)
    feedback_key: tuple = ()
    boost: dict[int, float] = field(default_factory=dict)
    calibration: Calibration | None = None


_lock = threading.Lock()
_current: dict[str, Index] = {}


def _article_key() -> tuple:
    row = Article.objects.aggregate(n=Count("id"), newest=Max("updated_at"),
                                    yes=Sum("helpful_yes"), no=Sum("helpful_no"))
    return (row["n"], row["newest"]), (row["yes"] or 0, row["no"] or 0)


def _feedback_key() -> tuple:
    row = ChatMessage.objects.filter(feedback__isnull=False).aggregate(
        n=Count("id"), s=Sum("feedback"), w=Sum(F("id") * F("feedback")))
    return row["n"], row["s"] or 0, row["w"] or 0


def published_passages() -> list[Passage]:
    rows = (Article.objects.filter(status=ArticleStatus.PUBLISHED, deleted_at__isnull=True)
            .values_list("id", "title", "slug", "category__name", "body", "is_faq")
            .order_by("id"))
    passages = []
    for article_id, title, slug, category, body, is_faq in rows.iterator(chunk_size=500):
        for text in split_passages(body) or [title]:
            passages.append(Passage(article_id, title, slug, category or "", text, is_faq))
    return passages


def _boosts(votes: Mapping[int, tuple[int, int]]) -> dict[int, float]:
    """An article's rank factor from its thumbs and votes: 0.7 … 1.3, 1 with none."""
    return {article_id: 1 + 0.3 * (up - down) / (up + down + 2)
            for article_id, (up, down) in votes.items() if up or down}


def current_index() -> Index:
    """The index of the published articles as they are now (rebuilt here when they changed)
    with the feedback and calibration as they are now."""
    articles_key, votes_key = _article_key()
    feedback_key = (votes_key, _feedback_key())
    index = _current.get("index")
    if index is None or index.key != articles_key:
        with _lock:
            index = _current.get("index")
            if index is None or index.key != articles_key:
                passages = published_passages()
                firsts: dict[int, Passage] = {}
                for passage in passages:
                    firsts.setdefault(passage.article_id, passage)
                index = Index(key=articles_key, retriever=make_retriever(passages),
                              articles=firsts)
                _current["index"] = index
    if index.feedback_key != feedback_key or index.calibration is None:
        _refresh_feedback(index, feedback_key)
    return index


def _refresh_feedback(index: Index, feedback_key: tuple) -> None:
    votes: dict[int, list[int]] = {}
    for article_id, yes, no in (Article.objects.filter(Q(helpful_yes__gt=0) | Q(helpful_no__gt=0))
                                .values_list("id", "helpful_yes", "helpful_no")):
        votes[article_id] = [yes, no]
    help_votes = {k: list(v) for k, v in votes.items()}
    answered: list[float] = []
    missed: list[float] = []
    rated = (ChatMessage.objects.filter(feedback__isnull=False, sender=Sender.BOT,
                                        article__isnull=False)
             .values_list("article_id", "feedback", "score"))
    for article_id, feedback, score in rated.iterator(chunk_size=2000):
        if article_id is None or feedback is None:
            continue
        counts = votes.setdefault(article_id, [0, 0])
        counts[0 if feedback > 0 else 1] += 1
        if score is not None:
            (answered if feedback > 0 else missed).append(float(score))
    if getattr(index.retriever, "wants_questions", False):
        index.boost = {}  # the retriever weighs the votes itself
        index.calibration = index.retriever.apply_feedback(
            {k: (v[0], v[1]) for k, v in help_votes.items()}, _rated_questions())
    else:
        index.boost = _boosts({k: (v[0], v[1]) for k, v in votes.items()})
        index.calibration = index.retriever.calibrate(answered=answered, missed=missed)
    index.feedback_key = feedback_key


def _rated_questions() -> list[tuple[str, int, int]]:
    """(the visitor's question, the article answered, +1/-1) for every rated answer."""
    question = (ChatMessage.objects.filter(conversation_id=OuterRef("conversation_id"),
                                           sender=Sender.VISITOR, id__lt=OuterRef("id"))
                .order_by("-id").values("text")[:1])
    return [(q or "", article_id, feedback) for q, article_id, feedback in
            ChatMessage.objects.filter(feedback__isnull=False, sender=Sender.BOT,
                                       article__isnull=False)
            .annotate(question=Subquery(question))
            .values_list("question", "article_id", "feedback")
            if article_id is not None and feedback is not None]


@dataclass
class Answer:
    known: bool
    hits: list[Hit]
    intent: str = ""
    intent_confidence: float | None = None
    threshold: float = 0.0

    @property
    def best(self) -> Hit | None:
        return self.hits[0] if self.hits else None


INTENT_SURE = 0.6  # a recognised intent lifts its category and names the queue from here
INTENT_LIFT = 1.15


def answer(question: str) -> Answer:
    """What the assistant would say to ``question``: the best passage if it is good enough,
    else nothing ("I don't know"). Reads, writes nothing."""
    index = current_index()
    intent, confidence = predict_intent(question)
    lift = (intent, INTENT_LIFT) if intent and (confidence or 0) >= INTENT_SURE else None
    hits = index.retriever.search(question, k=3, boost=index.boost, category_boost=lift)
    threshold = index.calibration.threshold if index.calibration else MIN_THRESHOLD
    known = bool(hits) and hits[0].score >= threshold
    return Answer(known=known, hits=hits if known else [], intent=intent,
                  intent_confidence=confidence, threshold=threshold)


def help_search(q: str, *, limit: int = 10) -> list[Hit]:
    """The help centre's search box: the best passage of each matching article, best first
    (no threshold: a reader sees weak matches too, ranked)."""
    index = current_index()
    return index.retriever.search(q, k=limit, boost=index.boost)


def calibration() -> Calibration | None:
    return current_index().calibration


# --- intent: the text classifier trained on the business's own data ---------------------------

INTENT = "intent"


def intent_training_data() -> tuple[list[str], list[str]]:
    """FAQ questions and article titles labelled by category; closed tickets' subjects by
    theirs. Labels with a single example are left out (the classifier needs two)."""
    texts, labels = [], []
    for title, category in (Article.objects.filter(status=ArticleStatus.PUBLISHED,
                                                   deleted_at__isnull=True,
                                                   category__isnull=False)
                            .values_list("title", "category__name")):
        texts.append(title)
        labels.append(category)
    for subject, category in (Ticket.objects.filter(status__in=("resolved", "closed"),
                                                    deleted_at__isnull=True)
                              .exclude(category="").order_by("-id")
                              .values_list("subject", "category")[:20000]):
        texts.append(subject)
        labels.append(category)
    counts: dict[str, int] = {}
    for label in labels:
        counts[label] = counts.get(label, 0) + 1
    kept = [(t, lab) for t, lab in zip(texts, labels, strict=True) if counts[lab] >= 2]
    return [t for t, _ in kept], [lab for _, lab in kept]


def intent_train(now: dt.datetime | None = None) -> SupportModel:
    """Train the intent classifier now and keep it (or keep why it could not be)."""
    now = now or timezone.now()
    texts, labels = intent_training_data()
    model = TextClassifier(min_examples=6)
    try:
        model.fit(texts, labels)
    except InsufficientDataError as refusal:
        return SupportModel.objects.create(kind=INTENT, ready=False, message=str(refusal)[:500],
                                           rows=len(texts), trained_at=now)
    with tempfile.TemporaryDirectory() as folder:
        artifact = save_model(model, pathlib.Path(folder) / "intent.joblib").read_bytes()
    row = SupportModel.objects.create(
        kind=INTENT, ready=True, rows=len(texts), artifact=artifact, trained_at=now,
        metrics={"labels": sorted(set(labels)), "cv_accuracy": round(model.cv_accuracy_, 3)})
    SupportModel.objects.filter(kind=INTENT, trained_at__lt=now - dt.timedelta(days=7)).delete()
    return row


_intent: dict[str, Any] = {}


def _intent_model() -> TextClassifier | None:
    newest = (SupportModel.objects.filter(kind=INTENT, ready=True).order_by("-trained_at", "-id")
              .values_list("id", flat=True).first())
    if newest is None:
        return None
    if _intent.get("id") != newest:
        row = SupportModel.objects.get(id=newest)
        with tempfile.TemporaryDirectory() as folder:
            path = pathlib.Path(folder) / "intent.joblib"
            path.write_bytes(bytes(row.artifact or b""))
            _intent.update(id=newest, model=load_model(path))
    return _intent["model"]


def predict_intent(text: str) -> tuple[str, float | None]:
    """(category, confidence) the visitor's words point to, or ("", None) with no model."""
    model = _intent_model()
    if model is None or not text.strip():
        return "", None
    best = model.top_k([text], k=1)[0][0]
    return str(best[0]), float(best[1])


def retrain_intent_soon(rows: Sequence[Any]) -> None:
    """Subscriber of ``article.changed``: retrain the intent model in the background."""
    from rapport.support import tasks_assistant as tasks

    try:
        tasks.assistant_intent_train.enqueue()
    except Exception:  # noqa: BLE001 - the nightly job retrains anyway
        log.warning("could not enqueue the intent training; the nightly job will do it",
                    exc_info=True)


# --- the desk's settings for the widget --------------------------------------------------------

def allowed_origins() -> list[str]:
    row = DeskSettings.objects.order_by("id").values_list("widget_origins", flat=True).first()
    return list(row or [])


DEFAULT_GREETING = ("Hello! Ask me anything about our products, orders and services. "
                    "If I don't know, I'll pass you to a person.")


def greeting() -> str:
    row = DeskSettings.objects.order_by("id").values_list("widget_greeting", flat=True).first()
    return row or DEFAULT_GREETING


@transaction.atomic
def assistant_settings_update(*, actor: Any, data: AssistantSettingsInput | Mapping[str, Any]
                              ) -> DeskSettings:
    require(actor, "settings.change", message="only the owner role sets up the chat assistant")
    entry = parse(AssistantSettingsInput, data)
    row = locked_desk_settings()
    before = {"widget_origins": row.widget_origins, "widget_greeting": row.widget_greeting}
    row.widget_origins, row.widget_greeting = entry.widget_origins, entry.widget_greeting
    row.save(update_fields=["widget_origins", "widget_greeting", "updated_at"])
    record_events([events.desk_settings_changed(
        actor_id=actor.id, what="assistant", before=before,
        after={"widget_origins": row.widget_origins, "widget_greeting": row.widget_greeting})])
    return row


# --- conversations ----------------------------------------------------------------------------

class RateLimited(Exception):
    """Too many messages from one visitor or address: 429, nothing stored."""

    def __init__(self, retry_after: int, who: str):
        self.retry_after = retry_after
        super().__init__(f"Too many messages from {who}. Please wait {retry_after} seconds "
                         "and try again.")


def _limit(name: str, default: int) -> int:
    """A Django setting, else the environment variable of the same name, else ``default``."""
    value = getattr(settings, name, None)
    if value is None:
        value = os.environ.get(name) or default
    return int(value)


def rate_limits() -> dict[str, tuple[int, int]]:
    """(messages allowed, per seconds) per visitor and per IP address."""
    window = _limit("RAPPORT_ASSISTANT_WINDOW", 60)
    return {"visitor": (_limit("RAPPORT_ASSISTANT_VISITOR_LIMIT", 20), window),
            "ip": (_limit("RAPPORT_ASSISTANT_IP_LIMIT", 60), window)}


def _count(kind: str, key: str) -> None:
    allowed, window = rate_limits()[kind]
    if over_limit(f"support:assistant-rate:{kind}:{key}", allowed=allowed, window=window):
        raise RateLimited(window, "this visitor" if kind == "visitor" else "your address")


def rate_check(*, visitor: str, ip: str) -> None:
    _count("ip", ip or "unknown")
    _count("visitor", visitor)


def chat_start(*, data: ChatStartInput | Mapping[str, Any], origin: str, ip: str,
               now: dt.datetime | None = None) -> ChatConversation:
    entry = parse(ChatStartInput, data)
    rate_check(visitor=entry.visitor, ip=ip)
    return ChatConversation.objects.create(
        token=secrets.token_urlsafe(24), visitor=entry.visitor, origin=origin[:200],
        page_url=entry.page_url, last_message_at=now or timezone.now())


def conversation_by_token(token: str) -> ChatConversation:
    conversation = ChatConversation.objects.filter(token=token).first()
    if conversation is None:
        raise NotFound("no such conversation: start a new one")
    return conversation


@dataclass
class Reply:
    question: ChatMessage
    reply: ChatMessage
    answer: Answer


I_DONT_KNOW = ("I don't know the answer to that, and I'd rather not guess. "
               "Leave your name and email and a person will get back to you.")


def chat_message(*, data: ChatMessageInput | Mapping[str, Any], ip: str,
                 now: dt.datetime | None = None) -> Reply:
    """A visitor's message and the assistant's reply (a quoted passage, or "I don't know")."""
    entry = parse(ChatMessageInput, data)
    if not entry.text:
        raise ValidationFailed({"text": "is empty: type a question"})
    conversation = conversation_by_token(entry.token)
    rate_check(visitor=conversation.visitor, ip=ip)
    found = answer(entry.text)
    now = now or timezone.now()
    best = found.best
    if found.known and best is not None:
        text = best.passage.text
    else:
        text = I_DONT_KNOW
    with transaction.atomic():
        question = ChatMessage.objects.create(
            conversation=conversation, sender=Sender.VISITOR, text=entry.text,
            intent=found.intent[:100], intent_confidence=found.intent_confidence,
            created_at=now)
        reply = ChatMessage.objects.create(
            conversation=conversation, sender=Sender.BOT, text=text[:4000],
            article_id=best.passage.article_id if found.known and best else None,
            passage=best.passage.text[:4000] if found.known and best else "",
            score=best.score if best else None, answered=found.known,
            created_at=now + dt.timedelta(microseconds=1))
        ChatConversation.objects.filter(id=conversation.id).update(last_message_at=now,
                                                                   updated_at=now)
    return Reply(question=question, reply=reply, answer=found)


def chat_feedback(*, data: ChatFeedbackInput | Mapping[str, Any]) -> ChatMessage:
    """Thumbs up (1) or down (-1) on one of the assistant's answers (changeable)."""
    entry = parse(ChatFeedbackInput, data)
    conversation = conversation_by_token(entry.token)
    message = ChatMessage.objects.filter(id=entry.message_id, conversation=conversation,
                                         sender=Sender.BOT).first()
    if message is None:
        raise NotFound("no such answer in this conversation")
    if not message.answered:
        raise ValidationFailed({"message_id": "only answers quoting an article can be rated"})
    message.feedback = entry.value
    message.save(update_fields=["feedback"])
    return message


TRANSCRIPT_LIMIT = Ticket._meta.get_field("description").max_length or 20000


def transcript(conversation: ChatConversation) -> str:
    lines = []
    for message in (conversation.messages.select_related("article")
                    .order_by("created_at", "id")):
        who = {str(Sender.VISITOR): "Visitor", str(Sender.BOT): "Assistant"}.get(
            str(message.sender), "Agent")
        line = f"{who} ({timezone.localtime(message.created_at):%H:%M}): {message.text}"
        if message.article is not None:
            line += f"\n  — quoted from “{message.article.title}” (/help/{message.article.slug}/)"
        if message.feedback:
            line += "\n  — visitor: " + ("helpful" if message.feedback > 0 else "not helpful")
        lines.append(line)
    text = "\n".join(lines) or "(the visitor asked for a person before writing anything)"
    if conversation.page_url:
        text = f"On the page {conversation.page_url}\n\n{text}"
    if len(text) > TRANSCRIPT_LIMIT:
        text = text[: TRANSCRIPT_LIMIT - 60].rstrip() + "\n… (the rest is in the conversation)"
    return text


@dataclass
class Handover:
    conversation: ChatConversation
    ticket: Ticket
    lead_id: int | None
    lead_created: bool


def _queue(conversation: ChatConversation) -> str:
    """The ticket's category: the intent the visitor's messages point to most surely."""
    best = (conversation.messages.filter(sender=Sender.VISITOR,
                                         intent_confidence__gte=INTENT_SURE)
            .exclude(intent="").order_by("-intent_confidence", "-id")
            .values_list("intent", flat=True).first())
    return best or ""


def chat_handover(*, data: ChatHandoverInput | Mapping[str, Any], ip: str,
                  now: dt.datetime | None = None) -> Handover:
    """The visitor leaves name and email: a ticket with the whole transcript (channel chat,
    the recognised intent as its category), a lead for sales (source "chatbot"; a known
    address updates its lead), and the conversation on the contact's timeline."""
    from rapport.sales.services import lead_capture

    entry = parse(ChatHandoverInput, data)
    conversation = conversation_by_token(entry.token)
    rate_check(visitor=conversation.visitor, ip=ip)
    if conversation.status == ConversationStatus.HANDED_OVER:
        ticket = Ticket.objects.filter(conversation=conversation).order_by("-id").first()
        if ticket is not None:
            return Handover(conversation, ticket, conversation.lead_id, False)
    now = now or timezone.now()
    first = (conversation.messages.filter(sender=Sender.VISITOR).order_by("created_at", "id")
             .values_list("text", flat=True).first())
    subject = excerpt(f"Chat: {first}" if first else f"Chat with {entry.name}", 200)
    with transaction.atomic():
        conversation = ChatConversation.objects.select_for_update().get(id=conversation.id)
        conversation.name, conversation.email = entry.name, entry.email
        opened = ticket_open(actor=support_actor(), now=now, conversation=conversation, data={
            "subject": subject, "description": transcript(conversation), "email": entry.email,
            "name": entry.name, "channel": "chat", "category": _queue(conversation)[:100]})
        captured = lead_capture(actor=None, data={
            "name": entry.name, "email": entry.email, "source": "chatbot",
            "message": excerpt(first or "asked for a person in the chat", 5000)})
        conversation.contact_id = opened.ticket.contact_id
        conversation.lead_id = captured.lead.id
        conversation.status = ConversationStatus.HANDED_OVER
        conversation.save(update_fields=["name", "email", "contact", "lead_id", "status",
                                         "updated_at"])
        record_events([events.chat_conversation(
            conversation_id=conversation.id, contact_id=opened.ticket.contact_id,
            shown={"messages": conversation.messages.count(),
                   "question": excerpt(first or ""),
                   "ticket_reference": opened.ticket.reference,
                   "ticket_id": opened.ticket.id})])
    return Handover(conversation, opened.ticket, captured.lead.id, captured.created)
