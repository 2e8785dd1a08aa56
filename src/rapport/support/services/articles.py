"""The knowledge base: categories, articles and FAQ entries (draft → published), soft deletion,
and the help centre's "was this helpful?" votes (one per article and visitor, changeable).

Every change records an ``article.changed`` event; the assistant's index and intent model see
it (the index is keyed by the newest ``updated_at``, the intent model is retrained by a
subscriber of the event).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.text import slugify

from rapport.core.errors import NotFound, ValidationFailed, VersionConflict
from rapport.core.events import diff, record_events
from rapport.core.inputs import parse
from rapport.core.permissions import require
from rapport.support import events
from rapport.support.inputs import (
    ArticleCategoryInput,
    ArticleChanges,
    ArticleInput,
)
from rapport.support.models import Article, ArticleCategory, ArticleStatus, ArticleVote

SLUG_LIMIT: int = Article._meta.get_field("slug").max_length or 200


def snapshot(article: Article) -> dict[str, Any]:
    return {"title": article.title, "slug": article.slug, "status": article.status,
            "is_faq": article.is_faq, "category_id": article.category_id,
            "body_chars": len(article.body), "version": article.version}


def _require_change(actor: Any) -> None:
    require(actor, "articles.change", message="you may not write help articles")


def _free_slug(wanted: str, title: str, *, other_than: int | None = None) -> str:
    base = (wanted or slugify(title) or "article")[:SLUG_LIMIT - 4].strip("-") or "article"
    taken = Article.objects.filter(slug__startswith=base)
    if other_than is not None:
        taken = taken.exclude(id=other_than)
    used = set(taken.values_list("slug", flat=True))
    if wanted and wanted in used:
        raise ValidationFailed({"slug": f"“{wanted}” is used by another article"})
    if base not in used:
        return base
    n = 2
    while f"{base}-{n}" in used:
        n += 1
    return f"{base}-{n}"


def _check_category(category_id: int | None) -> None:
    if category_id is not None and not ArticleCategory.objects.filter(id=category_id).exists():
        raise ValidationFailed({"category_id": f"no category {category_id}"})


def category_create(*, actor: Any, data: ArticleCategoryInput | Mapping[str, Any]
                    ) -> ArticleCategory:
    _require_change(actor)
    entry = parse(ArticleCategoryInput, data)
    slug = slugify(entry.name)[:100] or "category"
    if ArticleCategory.objects.filter(name__iexact=entry.name).exists():
        raise ValidationFailed({"name": f"there is already a category “{entry.name}”"})
    n, base = 2, slug
    while ArticleCategory.objects.filter(slug=slug).exists():
        slug, n = f"{base[:95]}-{n}", n + 1
    position = ArticleCategory.objects.count() + 1
    try:
        with transaction.atomic():
            return ArticleCategory.objects.create(name=entry.name, slug=slug, position=position)
    except IntegrityError:
        raise ValidationFailed({"name": f"there is already a category “{entry.name}”"}) from None


@transaction.atomic
def article_create(*, actor: Any, data: ArticleInput | Mapping[str, Any]) -> Article:
    _require_change(actor)
    entry = parse(ArticleInput, data)
    _check_category(entry.category_id)
    article = Article(title=entry.title, body=entry.body, category_id=entry.category_id,
                      status=entry.status, is_faq=entry.is_faq, author_id=actor.id,
                      slug=_free_slug(entry.slug, entry.title))
    if article.status == ArticleStatus.PUBLISHED:
        article.published_at = timezone.now()
    try:
        with transaction.atomic():
            article.save()
    except IntegrityError:  # the same slug a moment ago
        raise ValidationFailed({"slug": f"“{article.slug}” is used by another article"}) from None
    record_events([events.article_changed(article_id=article.id, actor_id=actor.id,
                                          before=None, after=snapshot(article))])
    return article


def _for_update(actor: Any, article_id: int) -> Article:
    article = (Article.objects.restrict(actor, "change").select_for_update()
               .filter(id=article_id, deleted_at__isnull=True).first())
    if article is None:
        raise NotFound(f"no article {article_id}")
    return article


@transaction.atomic
def article_update(*, actor: Any, article_id: int, version: int | None,
                   changes: ArticleChanges | Mapping[str, Any]) -> Article:
    """Change some fields (publishing is ``status="published"``). ``version`` is the one the
    caller read; a stale one raises 409 and changes nothing."""
    _require_change(actor)
    article = _for_update(actor, article_id)
    before, before_body = snapshot(article), article.body
    if version is None:
        raise ValidationFailed({"version": "is required (the version you last read)"})
    if version != article.version:
        raise VersionConflict(current=before, current_version=article.version,
                              given_version=version)
    fields = parse(ArticleChanges, changes).model_dump(exclude_unset=True)
    errors = {name: "is required" for name, value in fields.items()
              if value is None and name not in ("category_id",)}
    if errors:
        raise ValidationFailed(errors)
    if "category_id" in fields:
        _check_category(fields["category_id"])
    if "slug" in fields and fields["slug"] != article.slug:
        fields["slug"] = _free_slug(fields["slug"], fields.get("title") or article.title,
                                    other_than=article.id)
    elif "slug" in fields:
        fields.pop("slug")
    for name, value in fields.items():
        setattr(article, name, value)
    if article.status == ArticleStatus.PUBLISHED and article.published_at is None:
        article.published_at = timezone.now()
    if article.status == ArticleStatus.DRAFT:
        article.published_at = None
    old, new = diff({k: v for k, v in before.items() if k != "version"},
                    {k: v for k, v in snapshot(article).items() if k != "version"})
    if not new and article.body == before_body:
        return article
    article.version += 1
    article.save()
    record_events([events.article_changed(article_id=article.id, actor_id=actor.id,
                                          before=old or {"version": before["version"]},
                                          after={**new, "version": article.version})])
    return article


@transaction.atomic
def article_delete(*, actor: Any, article_id: int) -> None:
    """Soft delete: gone from the help centre and the assistant's answers."""
    _require_change(actor)
    article = _for_update(actor, article_id)
    before = snapshot(article)
    article.deleted_at = timezone.now()
    article.version += 1
    article.save(update_fields=["deleted_at", "version", "updated_at"])
    record_events([events.article_changed(article_id=article.id, actor_id=actor.id,
                                          before=before, after=None)])


@transaction.atomic
def article_vote(*, slug: str, visitor: str, helpful: bool) -> Article:
    """A help-centre visitor's "was this helpful?": one vote per visitor (their cookie's key)
    and article; voting again changes it. The article's counts move with it."""
    if not visitor or len(visitor) > 64:
        raise ValidationFailed({"visitor": "is missing: cookies must be allowed to vote"})
    article = (Article.objects.select_for_update()
               .filter(slug=slug, status=ArticleStatus.PUBLISHED, deleted_at__isnull=True)
               .first())
    if article is None:
        raise NotFound("no such article")
    vote = ArticleVote.objects.select_for_update().filter(article=article,
                                                          visitor=visitor).first()
    if vote is not None and vote.helpful == helpful:
        return article
    yes, no = (1, 0) if helpful else (0, 1)
    if vote is not None:  # changed their mind: move the vote from one count to the other
        yes, no = (1, -1) if helpful else (-1, 1)
        vote.helpful = helpful
        vote.save(update_fields=["helpful"])
    else:
        ArticleVote.objects.create(article=article, visitor=visitor, helpful=helpful)
    # Counts only: the article's updated_at (what the assistant's index is keyed by) stays.
    Article.objects.filter(id=article.id).update(helpful_yes=F("helpful_yes") + yes,
                                                 helpful_no=F("helpful_no") + no)
    article.refresh_from_db(fields=["helpful_yes", "helpful_no"])
    return article
