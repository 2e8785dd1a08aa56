"""AI for agents: category and priority predicted for new tickets, the mood and urgency of
each customer message, and the assist panel beside a ticket (the customer in three lines,
similar resolved tickets, likely articles, a suggested reply).

Models. Every night (and on demand) a :class:`~rapport.insights.ml.text.TextClassifier` is
trained on the business's own resolved and closed tickets, subject + description → the
category the agent finally set, and another → the priority. Each attempt is a
:class:`SupportModel` row: ``ready`` with its cross-validated accuracy, or not ready with the
message that says what is missing. The newest ready model of a kind predicts; a later decline
does not take it away. Corrections train the next model because training reads the ticket's
category/priority as they are at the end, not what was predicted. Priorities the SLA check
raised (``escalated_at`` set) are not what a person chose, so those tickets train the category
model only.

Predictions are written when a ticket opens (a subscriber of ``ticket.opened``): the
``predicted_*`` fields and their confidence. An empty category is filled in when the model is
at least :data:`AUTO_CATEGORY` sure (recorded as a ``ticket.updated`` event by nobody, so the
timeline says where it came from); the priority is never changed by the model (it drives the
SLA targets: the agent decides).

Mood. Each customer message gets the sentiment model's polarity (-1 … 1) and an ``urgent``
flag from rules a person can read (:func:`urgency`); the ticket keeps the latest customer
message's polarity and ``flagged_angry`` when that message reads angry (:func:`is_angry`).

Retrieval for the assist panel is TF-IDF (word 1–2-grams and character 3–5-grams inside words)
with cosine similarity, over the resolved tickets (the newest :data:`INDEX_LIMIT`) and the
published articles; each index is built once per process and rebuilt when what it covers
changes.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import pathlib
import re
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from django.conf import settings
from django.db.models import Count, Max, Q
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.html import strip_tags
from scipy.sparse import hstack
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import normalize

from rapport.contacts import selectors as contacts
from rapport.core.errors import NotFound, PermissionDenied
from rapport.core.events import record_events
from rapport.core.permissions import require
from rapport.insights.ml.errors import DataValidationError, InsufficientDataError
from rapport.insights.ml.persistence import load_model, save_model
from rapport.insights.ml.sentiment import SentimentAnalyzer
from rapport.insights.ml.text import TextClassifier
from rapport.orders import selectors as orders
from rapport.support import events, selectors
from rapport.support.models import (
    Article,
    ArticleStatus,
    MessageKind,
    Status,
    SupportModel,
    Ticket,
    TicketMessage,
)
from rapport.support.selectors import ticket_get, visible_tickets

logger = logging.getLogger(__name__)

KINDS = ("category", "priority")
TRAINED_ON = (Status.RESOLVED, Status.CLOSED)
MIN_PER_LABEL = 3  # a label with fewer examples is left out (named in the model's metrics)
AUTO_CATEGORY = 0.8  # fill an empty category when the model is at least this sure
INDEX_LIMIT = 20_000  # newest resolved tickets the "similar tickets" index covers
TRAIN_LIMIT = 50_000  # newest resolved/closed tickets a model learns from
SIMILAR_MIN = 0.12  # cosine below this is not "similar"
ARTICLE_MIN = 0.12
ANGRY = -0.6  # polarity at or below this reads angry on its own
CROSS = -0.3  # … or at or below this with shouting or several exclamation marks


def min_tickets() -> int:
    """Fewest labelled resolved/closed tickets before a model is trained
    (``RAPPORT_SUPPORT_MIN_TICKETS``, default 20)."""
    return int(getattr(settings, "RAPPORT_SUPPORT_MIN_TICKETS", 20))


# --- training -----------------------------------------------------------------------------------

def ticket_text(subject: str, description: str) -> str:
    subject, description = subject.strip(), description.strip()
    return subject if not description or description == subject else f"{subject}\n{description}"


def training_rows(kind: str) -> tuple[list[str], list[str]]:
    """Texts and the labels agents finally set, of the resolved and closed tickets (the
    newest :data:`TRAIN_LIMIT`, newest first)."""
    if kind not in KINDS:
        raise DataValidationError(f"kind must be one of {', '.join(KINDS)}; got {kind!r}")
    tickets = Ticket.objects.filter(status__in=TRAINED_ON, deleted_at__isnull=True,
                                    merged_into__isnull=True)
    if kind == "category":
        tickets = tickets.exclude(category="")
    else:
        tickets = tickets.filter(escalated_at__isnull=True)
    rows = tickets.order_by("-id").values_list("subject", "description", kind)[:TRAIN_LIMIT]
    texts, labels = [], []
    for subject, description, label in rows.iterator(chunk_size=5000):
        texts.append(ticket_text(subject, description))
        labels.append(label.strip())
    return texts, labels


def _counts_text(counts: dict[str, int]) -> str:
    return ", ".join(f"{name} {n}" for name, n in sorted(counts.items(), key=lambda x: -x[1]))


def _artifact(model: TextClassifier) -> bytes:
    with tempfile.TemporaryDirectory() as folder:
        return save_model(model, pathlib.Path(folder) / "model.joblib").read_bytes()


def support_model_train(*, kind: str, now: dt.datetime | None = None) -> SupportModel:
    """Train the ``kind`` model (category or priority) on resolved/closed tickets, or record
    why not (the counts it has and needs)."""
    now = now or timezone.now()
    texts, labels = training_rows(kind)
    counts: dict[str, int] = {}
    for label in labels:
        counts[label] = counts.get(label, 0) + 1
    kept = {name: n for name, n in counts.items() if n >= MIN_PER_LABEL}
    scarce = {name: n for name, n in counts.items() if n < MIN_PER_LABEL}
    usable = sum(kept.values())
    need = min_tickets()
    row = SupportModel(kind=kind, rows=usable, trained_at=now,
                       metrics={"label_counts": counts, "left_out": scarce})
    what = f"resolved or closed tickets with a {kind}"
    if usable < need or len(kept) < 2:
        reasons = []
        if usable < need:
            reasons.append(f"needs at least {need} {what}; you have {usable}")
        if len(kept) < 2:
            reasons.append(f"needs at least 2 {kind}s with {MIN_PER_LABEL} tickets each; "
                           f"you have {len(kept)}")
        row.message = "; ".join(reasons) + (f" (by {kind}: {_counts_text(counts)})"
                                            if counts else "")
        row.save()
        return row
    keep = [i for i, label in enumerate(labels) if label in kept]
    model = TextClassifier(min_examples=need, min_per_label=MIN_PER_LABEL)
    try:
        model.fit([texts[i] for i in keep], [labels[i] for i in keep])
    except (InsufficientDataError, DataValidationError) as error:
        row.message = f"could not train: {error}"
        row.save()
        return row
    summary = model.summary()
    row.ready = True
    row.metrics = {**row.metrics, "cv_accuracy": summary["cv_accuracy"],
                   "labels": sorted(kept), "fit_seconds": summary["fit_seconds"],
                   "model_version": summary["model_version"]}
    row.message = (f"trained on {usable} {what}: {summary['cv_accuracy']:.0%} right in "
                   f"cross-validation ({_counts_text(kept)})"
                   + (f"; too few to learn: {_counts_text(scarce)}" if scarce else ""))
    row.artifact = _artifact(model)
    row.save()
    return row


def support_models_train(*, now: dt.datetime | None = None) -> dict[str, dict[str, Any]]:
    """The nightly job: both models; what each came to."""
    out = {}
    for kind in KINDS:
        row = support_model_train(kind=kind, now=now)
        out[kind] = {"ready": row.ready, "message": row.message}
    return out


def support_models_train_now(*, actor: Any) -> dict[str, dict[str, Any]]:
    """"Train now" on the reports page: what the nightly job does, at once."""
    require(actor, "tickets.assign", message="only who may assign tickets trains the models")
    return support_models_train()


def current_support_model(kind: str) -> SupportModel | None:
    return (SupportModel.objects.filter(kind=kind, ready=True)
            .order_by("-trained_at", "-id").first())


_loaded: dict[int, TextClassifier] = {}


def _classifier(row: SupportModel) -> TextClassifier:
    """The fitted classifier of a ready model, loaded once per process."""
    if row.id not in _loaded:
        with tempfile.TemporaryDirectory() as folder:
            path = pathlib.Path(folder) / "model.joblib"
            path.write_bytes(bytes(row.artifact or b""))
            model = load_model(path)
        for old in [k for k in _loaded if k != row.id][:-1]:  # one or two per kind
            _loaded.pop(old)
        _loaded[row.id] = model
    return _loaded[row.id]


# --- predictions at open ------------------------------------------------------------------------

def predict_tickets(*, ticket_ids: Sequence[int]) -> int:
    """Write the predicted category and priority (with confidence) of these tickets; fill an
    empty category when the model is sure enough. Returns how many tickets got predictions."""
    models = {kind: row for kind in KINDS
              if (row := current_support_model(kind)) is not None}
    if not models or not ticket_ids:
        return 0
    tickets = list(Ticket.objects.filter(id__in=ticket_ids, deleted_at__isnull=True)
                   .only("id", "subject", "description", "category", "contact_id"))
    if not tickets:
        return 0
    texts = [ticket_text(t.subject, t.description) for t in tickets]
    found: dict[str, list[tuple[str, float]]] = {}
    for kind, row in models.items():
        found[kind] = [best[0] for best in _classifier(row).top_k(texts, k=1)]
    filled = []
    for i, ticket in enumerate(tickets):
        values: dict[str, Any] = {}
        if "category" in found:
            label, confidence = found["category"][i]
            values.update(predicted_category=label, category_confidence=confidence)
        if "priority" in found:
            label, confidence = found["priority"][i]
            values.update(predicted_priority=label, priority_confidence=confidence)
        # Only an empty category is filled, and only if nobody set one meanwhile.
        if ("category" in found and not ticket.category
                and values["category_confidence"] >= AUTO_CATEGORY):
            changed = Ticket.objects.filter(id=ticket.id, category="").update(
                category=values["predicted_category"])
            if changed:
                filled.append((ticket, values["predicted_category"],
                               values["category_confidence"]))
        Ticket.objects.filter(id=ticket.id).update(**values)
    if filled:
        record_events([events.ticket_updated(
            ticket_id=ticket.id, contact_id=ticket.contact_id, actor_id=None,
            before={"category": ""},
            after={"reference": ticket.reference, "category": category,
                   "set_by": f"the model ({confidence:.0%} sure)"})
            for ticket, category, confidence in filled])
    return len(tickets)


def predict_opened(rows: Sequence[Any]) -> None:
    """Subscriber of ``ticket.opened``."""
    ids = sorted({row.entity_id for row in rows if row.entity_type == "ticket"})
    predict_tickets(ticket_ids=ids)


# --- mood and urgency -----------------------------------------------------------------------------

@functools.lru_cache(maxsize=1)
def _sentiment() -> SentimentAnalyzer:
    return SentimentAnalyzer().fit()


URGENT_WORDS = re.compile(
    r"\b(urgent(ly)?|asap|a\.s\.a\.p|immediately|emergency|right (away|now)|straight away|"
    r"as soon as possible|critical|dringend|urgente|sofort|tout de suite)\b", re.I)
DEADLINE = re.compile(
    r"\b((by|before|until|no later than)\s+(today|tonight|tomorrow|noon|midnight|"
    r"(this |next )?(monday|tuesday|wednesday|thursday|friday|saturday|sunday|week)|"
    r"end of (the )?(day|week|month)|eod|\d{1,2}([:.]\d{2})?\s?(am|pm|h)?\b|"
    r"\d{1,2}(st|nd|rd|th)\b)|within \d+ (minutes?|hours?|days?)|deadline|"
    r"(today|tonight) (please|or)|need (it|this|them) (today|tonight|tomorrow))", re.I)
SHOUTED = re.compile(r"\b[A-Z]{3,}\b")
ACRONYMS = {"ASAP", "FAQ", "PDF", "URL", "USB", "EUR", "USD", "GBP", "SEK", "VAT", "API",
            "SMS", "DHL", "UPS", "ETA", "CEO", "IBAN", "PIN", "ATM", "EOD", "OK"}


@dataclass(frozen=True)
class Mood:
    polarity: float
    urgent: bool
    angry: bool
    reasons: tuple[str, ...]  # why it reads urgent, in words


def _shouting(text: str) -> bool:
    return len([w for w in SHOUTED.findall(text) if w not in ACRONYMS]) >= 2


def urgency(text: str, polarity: float) -> tuple[str, ...]:
    """Why a message reads urgent (empty: it does not): urgency words, a deadline, or an
    upset customer (negative mood) shouting or piling up exclamation marks."""
    reasons = []
    word = URGENT_WORDS.search(text)
    if word:
        reasons.append(f'says "{word.group(0)}"')
    deadline = DEADLINE.search(text)
    if deadline:
        reasons.append(f'gives a deadline ("{deadline.group(0)}")')
    if polarity <= CROSS:
        if text.count("!") >= 2:
            reasons.append(f"upset, with {text.count('!')} exclamation marks")
        elif _shouting(text):
            reasons.append("upset, writing in capitals")
    return tuple(reasons)


def is_angry(text: str, polarity: float) -> bool:
    """Very negative, or clearly negative while shouting or exclaiming."""
    return polarity <= ANGRY or (polarity <= CROSS and (text.count("!") >= 2
                                                        or _shouting(text)))


def moods(texts: Sequence[str]) -> list[Mood]:
    if not texts:
        return []
    polarity = _sentiment().polarity(list(texts))
    out = []
    for text, value in zip(texts, polarity, strict=True):
        value = round(float(value), 4)
        reasons = urgency(text, value)
        out.append(Mood(value, bool(reasons), is_angry(text, value), reasons))
    return out


def score_messages(*, ticket_ids: Sequence[int]) -> int:
    """Score the customer messages of these tickets that have no sentiment yet, then set each
    ticket's sentiment and angry flag from its latest customer message. Returns how many
    messages were scored."""
    if not ticket_ids:
        return 0
    tickets = {t.id: t for t in Ticket.objects.filter(id__in=ticket_ids)
               .only("id", "subject", "description")}
    first: dict[int, int] = {}
    for ticket_id, message_id in (TicketMessage.objects
                                  .filter(ticket_id__in=tickets, kind=MessageKind.CUSTOMER)
                                  .order_by("ticket_id", "created_at", "id")
                                  .values_list("ticket_id", "id")):
        first.setdefault(ticket_id, message_id)
    fresh = list(TicketMessage.objects.filter(ticket_id__in=tickets, kind=MessageKind.CUSTOMER,
                                              sentiment__isnull=True).order_by("id"))
    texts = []
    for message in fresh:
        ticket = tickets[message.ticket_id]
        text = message.body
        if first.get(message.ticket_id) == message.id and ticket.subject not in text:
            text = f"{ticket.subject}. {text}"  # the subject is part of what they first said
        texts.append(text)
    for message, mood in zip(fresh, moods(texts), strict=True):
        message.sentiment = mood.polarity
        message.urgent = mood.urgent
    TicketMessage.objects.bulk_update(fresh, ["sentiment", "urgent"], batch_size=500)
    latest: dict[int, TicketMessage] = {}
    for message in (TicketMessage.objects.filter(ticket_id__in=tickets,
                                                 kind=MessageKind.CUSTOMER,
                                                 sentiment__isnull=False)
                    .order_by("ticket_id", "-created_at", "-id")):
        latest.setdefault(message.ticket_id, message)
    for ticket_id, message in latest.items():
        text = message.body
        if first.get(ticket_id) == message.id:
            text = f"{tickets[ticket_id].subject}. {text}"
        Ticket.objects.filter(id=ticket_id).update(
            sentiment=message.sentiment,
            flagged_angry=is_angry(text, message.sentiment or 0.0))
    return len(fresh)


def score_message_events(rows: Sequence[Any]) -> None:
    """Subscriber of ``ticket.opened`` and ``ticket.message``."""
    ids = sorted({row.entity_id for row in rows if row.entity_type == "ticket"})
    score_messages(ticket_ids=ids)


# --- retrieval ----------------------------------------------------------------------------------

_WORDS = r"(?u)\b\w+\b"


class TextIndex:
    """TF-IDF of word 1–2-grams and character 3–5-grams, rows L2-normalised: cosine = dot."""

    def __init__(self, keys: list[int], texts: list[str]):
        self.keys = np.asarray(keys)
        self.words = TfidfVectorizer(token_pattern=_WORDS, ngram_range=(1, 2),
                                     sublinear_tf=True, strip_accents="unicode",
                                     dtype=np.float32)
        self.chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True,
                                     strip_accents="unicode", dtype=np.float32)
        self.matrix = None
        if texts:
            try:
                self.matrix = self._stack(self.words.fit_transform(texts),
                                          self.chars.fit_transform(texts))
            except ValueError:  # nothing but stop characters
                self.matrix = None

    @staticmethod
    def _stack(words, chars):
        return normalize(hstack([normalize(words), normalize(chars)]).tocsr())

    def vectors(self, texts: list[str]):
        return self._stack(self.words.transform(texts), self.chars.transform(texts))

    def search(self, text: str, k: int,
               exclude: frozenset[int] | set[int] = frozenset()) -> list[tuple[int, float]]:
        if self.matrix is None or not text.strip():
            return []
        scores = (self.matrix @ self.vectors([text]).T).toarray().ravel()
        order = np.argsort(-scores, kind="stable")
        out: list[tuple[int, float]] = []
        for j in order:
            key = int(self.keys[j])
            if key in exclude:
                continue
            if len(out) >= k or scores[j] <= 0:
                break
            out.append((key, float(scores[j])))
        return out


_indexes: dict[str, tuple[Any, TextIndex]] = {}


def _resolved_tickets():
    return Ticket.objects.filter(status__in=TRAINED_ON, deleted_at__isnull=True,
                                 merged_into__isnull=True)


def _ticket_index() -> TextIndex:
    signature = tuple(_resolved_tickets().aggregate(n=Count("id"), top=Max("id"),
                                                    changed=Max("updated_at")).values())
    cached = _indexes.get("tickets")
    if cached is None or cached[0] != signature:
        rows = list(_resolved_tickets().order_by("-id")
                    .values_list("id", "subject", "description")[:INDEX_LIMIT])
        cached = (signature, TextIndex([r[0] for r in rows],
                                       [ticket_text(r[1], r[2]) for r in rows]))
        _indexes["tickets"] = cached
    return cached[1]


def _published_articles():
    return Article.objects.filter(status=ArticleStatus.PUBLISHED, deleted_at__isnull=True)


def article_text(article_body: str) -> str:
    return strip_tags(article_body)


def _article_index() -> TextIndex:
    signature = tuple(_published_articles().aggregate(n=Count("id"), top=Max("id"),
                                                      changed=Max("updated_at")).values())
    cached = _indexes.get("articles")
    if cached is None or cached[0] != signature:
        rows = list(_published_articles().values_list("id", "title", "body"))
        cached = (signature, TextIndex([r[0] for r in rows],
                                       [f"{r[1]}\n{article_text(r[2])}" for r in rows]))
        _indexes["articles"] = cached
    return cached[1]


def passages(body: str) -> list[str]:
    """An article's paragraphs (blank-line separated; a single block: its sentences in
    groups of up to three)."""
    text = article_text(body).strip()
    parts = [" ".join(p.split()) for p in re.split(r"\n\s*\n", text) if p.strip()]
    if len(parts) == 1 and len(parts[0]) > 500:
        sentences = re.split(r"(?<=[.!?])\s+", parts[0])
        parts = [" ".join(sentences[i:i + 3]) for i in range(0, len(sentences), 3)]
    return parts


def best_passage(index: TextIndex, body: str, query: str) -> str:
    parts = passages(body)
    if len(parts) <= 1:
        return parts[0] if parts else ""
    scores = (index.vectors(parts) @ index.vectors([query]).T).toarray().ravel()
    return parts[int(np.argmax(scores))]


# --- the assist panel ---------------------------------------------------------------------------

@dataclass
class Similar:
    id: int
    reference: str
    subject: str
    status: str
    score: float
    resolved_at: dt.datetime | None
    reply: str  # its first public reply, greeting and sign-off taken off ("" if none)
    url: str = ""  # its ticket page


@dataclass
class LikelyArticle:
    id: int
    title: str
    slug: str
    url: str  # the public help-centre page ("" until the help centre has one)
    score: float
    passage: str


@dataclass
class Prediction:
    category: str
    category_confidence: float | None
    priority: str
    priority_confidence: float | None
    category_model: str  # what the model is (or why there is none), in words
    priority_model: str


@dataclass
class Assist:
    ticket: Ticket
    history: list[str]  # three lines
    similar: list[Similar]
    articles: list[LikelyArticle]
    prediction: Prediction
    sentiment: float | None
    angry: bool
    urgent: bool
    urgent_reasons: list[str]
    suggested_reply: str
    reply_source: str  # "article", "ticket" or "" (a holding reply)
    notes: list[str] = field(default_factory=list)


GREETING = re.compile(r"^\s*(hi|hello|hey|dear|good (morning|afternoon|evening)|hej|hallo|"
                      r"bonjour|hola)\b[^\n]*\n+", re.I)
SIGN_OFF = re.compile(r"\n\s*(best( regards| wishes)?|kind regards|regards|many thanks|"
                      r"thanks( again)?|thank you|cheers|sincerely|all the best|"
                      r"med vänliga hälsningar|mit freundlichen grüßen|cordialement)\b[^\n]*"
                      r"(\n.*)*$", re.I)


def reply_core(body: str) -> str:
    """A past reply without its greeting and sign-off (they named another customer and
    another agent)."""
    text = body.strip()
    text = GREETING.sub("", text, count=1)
    text = SIGN_OFF.sub("", text, count=1)
    return text.strip()


def ticket_url(ticket_id: int) -> str:
    """The ticket's page (``ticket_detail``), else its assist page."""
    try:
        return reverse("ticket_detail", kwargs={"ticket_id": ticket_id})
    except NoReverseMatch:
        return reverse("ticket_assist", kwargs={"ticket_id": ticket_id})


def article_url(slug: str) -> str:
    """The public help-centre page of an article (URL name ``help_article``, by slug), or ""
    when the help centre does not serve one."""
    try:
        return reverse("help_article", kwargs={"slug": slug})
    except NoReverseMatch:
        return ""


def _money(value: Any) -> str:
    return f"{value:,.2f}"


def _day(value: dt.datetime | dt.date | None) -> str:
    if value is None:
        return "—"
    if isinstance(value, dt.datetime):
        value = timezone.localtime(value).date()
    return f"{value.day} {value:%b %Y}"


def customer_history(*, user: Any, ticket: Ticket) -> list[str]:
    """The customer in three lines: orders, tickets before this one, and their value."""
    try:
        contact = contacts.contact_get(user=user, contact_id=ticket.contact_id)
    except (NotFound, PermissionDenied):
        return ["Orders: not shown (you may not see this contact).",
                "Tickets before: not shown.", "Value: not shown."]
    summary = orders.purchase_summary(user=user, contact=contact, recent=0)
    if summary.order_count:
        line1 = (f"Orders: {summary.order_count} for {_money(summary.total_spent)} in total, "
                 f"the last on {_day(summary.last_order_at)}.")
    else:
        line1 = "Orders: none yet."
    before = (visible_tickets(user).filter(contact_id=ticket.contact_id,
                                           created_at__lt=ticket.created_at)
              .exclude(id=ticket.id))
    counted = before.aggregate(n=Count("id"), open=Count("id", filter=~Q(status__in=TRAINED_ON)))
    last = before.order_by("-created_at", "-id").only("id", "subject", "created_at").first()
    if counted["n"]:
        line2 = (f"Tickets before: {counted['n']} ({counted['open']} still open), the last "
                 f"{last.reference} “{last.subject}” on {_day(last.created_at)}.")
    else:
        line2 = "Tickets before: none, this is their first."
    parts = [f"{contact.get_lifecycle_stage_display()}"]
    if summary.first_order_at:
        parts.append(f"customer since {_day(summary.first_order_at)}")
    if summary.order_count:
        parts.append(f"average order {_money(summary.total_spent / summary.order_count)}")
    if summary.days_between_orders:
        parts.append(f"orders every {summary.days_between_orders:g} days")
    line3 = "Value: " + ", ".join(parts) + "."
    return [line1, line2, line3]


def _model_words(kind: str) -> str:
    row = current_support_model(kind)
    if row is not None:
        return row.message
    last = SupportModel.objects.filter(kind=kind).order_by("-trained_at", "-id").first()
    return last.message if last else "not trained yet (the scheduler trains it nightly)"


def suggested_reply(*, first_name: str, subject: str, agent_name: str,
                    article: LikelyArticle | None, similar: Similar | None) -> tuple[str, str]:
    """A reply for the agent to edit: greeting, what answers it, the article's link, sign-off.
    Returns the text and where its answer came from ("article", "ticket" or "")."""
    lines = [f"Hello {first_name or 'there'},", "",
             f"Thank you for getting in touch about “{subject}”.", ""]
    source = ""
    if article is not None and article.passage:
        lines += [article.passage, ""]
        if article.url:
            lines += [f"You can read more in our help article “{article.title}”: {article.url}",
                      ""]
        else:
            lines += [f"You can read more in our help article “{article.title}”.", ""]
        source = "article"
    elif similar is not None and similar.reply:
        lines += [similar.reply, ""]
        source = "ticket"
    else:
        lines += ["We are looking into it and will get back to you as soon as we can.", ""]
    lines += ["Best regards,", agent_name]
    return "\n".join(lines), source


def ticket_assist(*, user: Any, ticket_id: int, base_url: str = "") -> Assist:
    """Everything the assist panel shows beside a ticket ``user`` may view (else NotFound).
    ``base_url`` ("https://desk.example") makes the article link absolute in the reply."""
    ticket = ticket_get(user=user, ticket_id=ticket_id)
    query = ticket_text(ticket.subject, ticket.description)
    latest = (TicketMessage.objects.filter(ticket_id=ticket.id, kind=MessageKind.CUSTOMER)
              .order_by("-created_at", "-id").first())
    if latest is not None and latest.body not in query:
        query = f"{query}\n{latest.body}"

    candidates = _ticket_index().search(query, k=20, exclude={ticket.id})
    shown = {t.id: t for t in visible_tickets(user).filter(id__in=[c for c, _ in candidates])
             .only("id", "subject", "status", "resolved_at")}
    similar = [Similar(id=key, reference=shown[key].reference, subject=shown[key].subject,
                       status=shown[key].status, score=score,
                       resolved_at=shown[key].resolved_at, reply="", url=ticket_url(key))
               for key, score in candidates if key in shown and score >= SIMILAR_MIN][:3]
    if similar:
        replies: dict[int, str] = {}
        for ticket_key, body in (TicketMessage.objects
                                 .filter(ticket_id__in=[s.id for s in similar],
                                         kind=MessageKind.REPLY)
                                 .order_by("ticket_id", "created_at", "id")
                                 .values_list("ticket_id", "body")):
            replies.setdefault(ticket_key, reply_core(body))
        for item in similar:
            item.reply = replies.get(item.id, "")

    index = _article_index()
    found = [(key, score) for key, score in index.search(query, k=3) if score >= ARTICLE_MIN]
    bodies = _published_articles().in_bulk([key for key, _ in found])
    articles = []
    for key, score in found:
        article = bodies[key]
        url = article_url(article.slug)
        articles.append(LikelyArticle(
            id=key, title=article.title, slug=article.slug, url=f"{base_url}{url}" if url else "",
            score=score, passage=best_passage(index, article.body, query)))

    first_name = ticket.contact.first_name.strip()
    agent = (user.get_full_name() or "").strip() or getattr(user, "display_name", "") \
        or user.get_username()
    best_similar = next((s for s in similar if s.reply), None)
    reply, source = suggested_reply(first_name=first_name, subject=ticket.subject,
                                    agent_name=agent, article=articles[0] if articles else None,
                                    similar=best_similar)
    reasons: list[str] = []
    if latest is not None and latest.sentiment is not None:
        text = latest.body
        reasons = list(urgency(text if text else ticket.subject, latest.sentiment))
    return Assist(
        ticket=ticket,
        history=customer_history(user=user, ticket=ticket),
        similar=similar,
        articles=articles,
        prediction=Prediction(
            category=ticket.predicted_category, category_confidence=ticket.category_confidence,
            priority=ticket.predicted_priority, priority_confidence=ticket.priority_confidence,
            category_model=_model_words("category"), priority_model=_model_words("priority")),
        sentiment=ticket.sentiment, angry=ticket.flagged_angry,
        urgent=bool(latest and latest.urgent), urgent_reasons=reasons,
        suggested_reply=reply, reply_source=source)


# --- the reports' clock ---------------------------------------------------------------------

def ticket_report(*, user: Any, since: dt.date | None = None,
                  until: dt.date | None = None) -> Any:
    """The reports (``selectors.ticket_report``) timed in the desk's business hours when the
    SLA part's calendar is installed (``services.hours`` and ``services.sla``), else in
    wall-clock hours; the report's ``time_basis`` says which."""
    try:
        from rapport.support.services import hours, sla  # the SLA part, when installed
    except ImportError:
        return selectors.ticket_report(user=user, since=since, until=until)
    cal = sla.business_calendar()
    return selectors.ticket_report(
        user=user, since=since, until=until, time_basis="business hours",
        clock=lambda start, end: hours.business_seconds(cal, start, end))


__all__ = ["Assist", "Mood", "current_support_model", "customer_history", "is_angry", "moods",
           "predict_opened", "predict_tickets", "reply_core", "score_message_events",
           "score_messages", "suggested_reply", "support_model_train", "support_models_train",
           "support_models_train_now", "ticket_assist", "ticket_report", "ticket_text",
           "training_rows",
           "urgency"]
