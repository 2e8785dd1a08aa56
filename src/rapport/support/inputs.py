"""The shape of every write to the help desk: the API takes these as request bodies, the pages
fill them from forms and the services take them (limits from the model columns, choices from
their ``TextChoices``)."""

from __future__ import annotations

import html
from typing import Annotated, Any

import nh3
from pydantic import AfterValidator, BeforeValidator, Field

from rapport.core.inputs import Input, Text
from rapport.core.validation import email_value
from rapport.support.models import Channel, Priority, Ticket, TicketMessage

RecordId = Annotated[int, Field(ge=1, le=2**63 - 1)]


def plain_message(value: str) -> str:
    """What a customer or agent wrote, as plain text: tags and what scripts and styles hold are
    dropped (a message may arrive as HTML from a mail client or a pasted page), entities read."""
    if not value:
        return ""
    if "<" not in value and "&" not in value:
        return value.strip()
    cleaned = nh3.clean(value, tags=set(), clean_content_tags={"script", "style"})
    return html.unescape(cleaned).strip()


def _email(value: str) -> str:
    return email_value(value) if value else ""


def _blank_is_none(value: Any) -> Any:
    return None if isinstance(value, str) and not value.strip() else value


MessageBody = Annotated[str, Text.of(TicketMessage, "body"), AfterValidator(plain_message)]


class TicketOpenInput(Input):
    """A new request from any channel. The requester is ``contact_id`` or, by ``email``, the
    person with that address (made if unknown)."""

    subject: Annotated[str, Text.of(Ticket, "subject", min_length=1),
                       AfterValidator(plain_message)]
    description: Annotated[str, Text.of(Ticket, "description"),
                           AfterValidator(plain_message)] = ""
    channel: Channel = Channel.API
    contact_id: Annotated[RecordId | None, BeforeValidator(_blank_is_none)] = None
    email: Annotated[str, Text(254), AfterValidator(_email)] = ""
    name: Annotated[str, Text(200), AfterValidator(plain_message)] = ""
    category: Annotated[str, Text.of(Ticket, "category")] = ""
    priority: Priority = Priority.NORMAL



# --- assistant: knowledge base, help-centre votes, the chat widget and its settings ---

from typing import TYPE_CHECKING, Literal  # noqa: E402

from rapport.core.inputs import partial, with_version  # noqa: E402
from rapport.support.models import (  # noqa: E402
    Article,
    ArticleCategory,
    ArticleStatus,
    ChatConversation,
    ChatMessage,
    DeskSettings,
)


class ArticleCategoryInput(Input):
    name: Annotated[str, Text.of(ArticleCategory, "name", min_length=1)]


class ArticleInput(Input):
    """A help article or an FAQ entry (``is_faq``: the title is the question). ``slug`` is
    made from the title when left out; ``category_id`` is one of the knowledge base's."""

    title: Annotated[str, Text.of(Article, "title", min_length=1),
                     AfterValidator(plain_message)]
    body: Annotated[str, Text.of(Article, "body", min_length=1)]
    slug: Annotated[str, Text.of(Article, "slug"), Field(pattern=r"^[-a-z0-9]*$")] = ""
    category_id: Annotated[RecordId | None, BeforeValidator(_blank_is_none)] = None
    status: ArticleStatus = ArticleStatus.DRAFT
    is_faq: bool = False


if TYPE_CHECKING:
    ArticleChanges = ArticleInput
    ArticlePatch = ArticleInput
else:
    ArticleChanges = partial(ArticleInput, "ArticleChanges")
    ArticlePatch = with_version(ArticleChanges, "ArticlePatch")

# What a visitor may send the assistant: one message at most this long (the column's limit).
CHAT_MESSAGE_LIMIT = ChatMessage._meta.get_field("text").max_length
VisitorKey = Annotated[str, Text(64, min_length=8), Field(pattern=r"^[-_A-Za-z0-9]+$")]


class ChatStartInput(Input):
    visitor: VisitorKey
    page_url: Annotated[str, Text.of(ChatConversation, "page_url")] = ""


class ChatMessageInput(Input):
    token: Annotated[str, Text(64, min_length=8)]
    text: Annotated[str, Text(CHAT_MESSAGE_LIMIT or 4000), AfterValidator(plain_message)]


class ChatFeedbackInput(Input):
    token: Annotated[str, Text(64, min_length=8)]
    message_id: RecordId
    value: Literal[1, -1]


class ChatHandoverInput(Input):
    token: Annotated[str, Text(64, min_length=8)]
    name: Annotated[str, Text.of(ChatConversation, "name", min_length=1),
                    AfterValidator(plain_message)]
    email: Annotated[str, Text(254, min_length=3), AfterValidator(_email)]


def _origins(value: Any) -> list[str]:
    if isinstance(value, str):
        value = value.split()
    return [str(v).strip() for v in value if str(v).strip()]


def _origin_list(values: list[str]) -> list[str]:
    from urllib.parse import urlsplit

    seen: list[str] = []
    for value in values:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.path not in (
                "", "/") or parts.query or parts.fragment:
            raise ValueError(f"{value!r} is not an origin like https://shop.example "
                             "(scheme and host, optional port, no path)")
        origin = f"{parts.scheme}://{parts.netloc.lower()}"
        if origin not in seen:
            seen.append(origin)
    if len(seen) > 50:
        raise ValueError("at most 50 origins")
    return seen


class AssistantSettingsInput(Input):
    """The widget's allowed sites (origins, one per line in the form) and its greeting."""

    widget_origins: Annotated[list[Annotated[str, Text(200)]], BeforeValidator(_origins),
                              AfterValidator(_origin_list)] = Field(default_factory=list)
    widget_greeting: Annotated[str, Text.of(DeskSettings, "widget_greeting"),
                               AfterValidator(plain_message)] = ""
