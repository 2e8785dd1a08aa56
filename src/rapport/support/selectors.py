"""Reads of the help desk, always through ``Model.objects.restrict(user, action)``."""

from __future__ import annotations

from typing import Any

from rapport.core.errors import NotFound
from rapport.support.models import REFERENCE_OFFSET, Ticket


def visible_tickets(user: Any, action: str = "view"):
    return Ticket.objects.restrict(user, action).filter(deleted_at__isnull=True)


def ticket_get(*, user: Any, ticket_id: int, action: str = "view") -> Ticket:
    ticket = (visible_tickets(user, action).select_related("contact", "assignee")
              .filter(id=ticket_id).first())
    if ticket is None:
        raise NotFound(f"no ticket with id {ticket_id}")
    return ticket


def ticket_id_of(reference: str) -> int | None:
    """``T-10234`` → the ticket's id (None if it is not a reference)."""
    reference = reference.strip().upper()
    if not reference.startswith("T-") or not reference[2:].isdigit():
        return None
    number = int(reference[2:]) - REFERENCE_OFFSET
    return number if number >= 1 else None


# --- assistant: the knowledge base and the help centre ---

from django.db.models import Q  # noqa: E402

from rapport.core.errors import ValidationFailed  # noqa: E402
from rapport.core.pagination import Page, keyset, page_limit, page_of  # noqa: E402
from rapport.support.models import (  # noqa: E402
    Article,
    ArticleCategory,
    ArticleStatus,
    ChatConversation,
)


def visible_articles(user: Any, action: str = "view"):
    return (Article.objects.restrict(user, action).filter(deleted_at__isnull=True)
            .select_related("category"))


def article_list(*, user: Any, params: dict[str, Any] | None = None) -> Page:
    """Articles newest change first, filtered by ``status``, ``category`` (id), ``faq``
    ("1"/"0") and ``q`` (part of the title)."""
    params = {k: v for k, v in (params or {}).items() if v not in (None, "")}
    queryset = visible_articles(user)
    if params.get("status"):
        if params["status"] not in ArticleStatus.values:
            raise ValidationFailed({"status": f"is one of {', '.join(ArticleStatus.values)}"})
        queryset = queryset.filter(status=params["status"])
    if params.get("category"):
        try:
            queryset = queryset.filter(category_id=int(params["category"]))
        except (TypeError, ValueError):
            raise ValidationFailed({"category": "is a category id"}) from None
    if str(params.get("faq", "")) in ("1", "true", "True"):
        queryset = queryset.filter(is_faq=True)
    elif str(params.get("faq", "")) in ("0", "false", "False"):
        queryset = queryset.filter(is_faq=False)
    if params.get("q"):
        q = str(params["q"]).strip()[:200]
        queryset = queryset.filter(Q(title__icontains=q) | Q(slug__icontains=q))
    fields = ("updated_at", "id")
    return page_of(keyset(queryset, fields, True, params.get("cursor")), fields,
                   page_limit(params), params)


def article_get(*, user: Any, article_id: int) -> Article:
    article = visible_articles(user).filter(id=article_id).first()
    if article is None:
        raise NotFound(f"no article with id {article_id}")
    return article


def article_categories() -> list[ArticleCategory]:
    return list(ArticleCategory.objects.order_by("position", "name"))


def published_articles():
    return (Article.objects.filter(status=ArticleStatus.PUBLISHED, deleted_at__isnull=True)
            .select_related("category"))


def help_centre() -> list[tuple[ArticleCategory | None, list[Article]]]:
    """The published articles by category (the categories' order, then "Other")."""
    groups: dict[int | None, list[Article]] = {}
    for article in published_articles().order_by("-is_faq", "title").only(
            "id", "title", "slug", "is_faq", "category_id", "body"):
        groups.setdefault(article.category_id, []).append(article)
    shelves: list[tuple[ArticleCategory | None, list[Article]]] = [
        (category, groups[category.id]) for category in article_categories()
        if category.id in groups]
    if None in groups:
        shelves.append((None, groups[None]))
    return shelves


def public_article(*, slug: str) -> Article:
    article = published_articles().filter(slug=slug).first()
    if article is None:
        raise NotFound("no such article in the help centre")
    return article


def recent_conversations(*, limit: int = 20) -> list[ChatConversation]:
    return list(ChatConversation.objects.order_by("-created_at", "-id")[:limit])
