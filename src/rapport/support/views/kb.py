"""The knowledge base's pages (write, edit, publish, delete articles and FAQ entries) and the
public help centre (``/help/``: by category, a search box, each article with "was this
helpful?"), which needs neither a login nor JavaScript."""

from __future__ import annotations

import secrets

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.http import require_POST

from rapport.core.errors import PermissionDenied
from rapport.core.pages import act, done, list_page, posted_version, submit
from rapport.core.permissions import can
from rapport.support import selectors, services
from rapport.support.models import ArticleStatus
from rapport.support.services.assistant import calibration, help_search

VISITOR_COOKIE = "rapport_visitor"
ARTICLE_FIELDS = ("title", "slug", "body", "category_id", "status", "is_faq")


def _require_change(request) -> None:
    if not can(request.user, "articles.change"):
        raise PermissionDenied("you may not write help articles")


def _values(post=None, article=None) -> dict:
    if post is not None:
        return {"title": post.get("title", ""), "slug": post.get("slug", ""),
                "body": post.get("body", ""), "category_id": post.get("category_id", ""),
                "status": post.get("status", ArticleStatus.DRAFT),
                "is_faq": post.get("is_faq") == "1", "version": post.get("version", "")}
    if article is not None:
        return {"title": article.title, "slug": article.slug, "body": article.body,
                "category_id": str(article.category_id or ""), "status": article.status,
                "is_faq": article.is_faq, "version": article.version}
    return {"title": "", "slug": "", "body": "", "category_id": "",
            "status": ArticleStatus.DRAFT, "is_faq": False}


def _data(post) -> dict:
    data = {name: value for name, value in _values(post=post).items() if name != "version"}
    if post.get("publish") == "1":
        data["status"] = ArticleStatus.PUBLISHED
    return data


@login_required
def kb_list(request):
    listing = list_page(request, selectors.article_list, ("status", "category", "faq", "q",
                                                          "cursor"))
    return render(request, "support/kb/list.html", {
        **listing.context(), "categories": selectors.article_categories(),
        "can_change": can(request.user, "articles.change"), "calibration": calibration(),
        "statuses": ArticleStatus.values,
        "section": "kb"})


@login_required
def kb_new(request):
    _require_change(request)
    outcome, values = submit(lambda: None), _values()
    if request.method == "POST":
        outcome = submit(lambda: services.article_create(actor=request.user,
                                                         data=_data(request.POST)))
        if outcome.ok:
            article = outcome.result
            return done(request, "Published." if article.status == "published"
                        else "Saved as a draft.", "kb_list")
        values = _values(post=request.POST)
    return render(request, "support/kb/edit.html", {
        "values": values, "errors": outcome.errors, "article": None,
        "title": "New article", "categories": selectors.article_categories(),
        "section": "kb"}, status=outcome.status)


@login_required
def kb_edit(request, article_id: int):
    article = selectors.article_get(user=request.user, article_id=article_id)
    _require_change(request)
    outcome, values = submit(lambda: None), _values(article=article)
    if request.method == "POST":
        outcome = submit(lambda: services.article_update(
            actor=request.user, article_id=article_id, version=posted_version(request),
            changes=_data(request.POST)))
        if outcome.ok:
            return done(request, "Published." if outcome.result.status == "published"
                        else "Saved.", "kb_list")
        values = _values(post=request.POST)
    return render(request, "support/kb/edit.html", {
        "values": values, "errors": outcome.errors, "conflict": outcome.conflict,
        "article": article, "title": f"Edit “{article.title}”",
        "categories": selectors.article_categories(), "section": "kb"},
        status=outcome.status)


@login_required
@require_POST
def kb_delete(request, article_id: int):
    services.article_delete(actor=request.user, article_id=article_id)
    return done(request, "Article deleted: gone from the help centre and the assistant.",
                "kb_list")


@login_required
@require_POST
def kb_category_new(request):
    return act(request, lambda: services.category_create(
        actor=request.user, data={"name": request.POST.get("name", "")}),
        success=lambda c: f"Category “{c.name}” added.", to="kb_list")


# --- the public help centre ------------------------------------------------------------------

def _visitor(request) -> tuple[str, bool]:
    key = request.COOKIES.get(VISITOR_COOKIE, "")
    if 16 <= len(key) <= 64 and key.replace("-", "").replace("_", "").isalnum():
        return key, False
    return secrets.token_urlsafe(18), True


def _remember(response, key: str, new: bool):
    if new:
        response.set_cookie(VISITOR_COOKIE, key, max_age=365 * 24 * 3600, httponly=True,
                            samesite="Lax")
    return response


def help_home(request):
    q = request.GET.get("q", "").strip()[:200]
    results = help_search(q) if q else []
    return render(request, "support/kb/help_home.html", {
        "shelves": [] if q else selectors.help_centre(), "q": q, "results": results})


def help_article(request, slug: str):
    article = selectors.public_article(slug=slug)
    key, new = _visitor(request)
    vote = article.votes.filter(visitor=key).values_list("helpful", flat=True).first()
    response = render(request, "support/kb/help_article.html", {
        "article": article, "vote": vote, "thanks": request.GET.get("voted") == "1"})
    return _remember(response, key, new)


@require_POST
def help_vote(request, slug: str):
    key, new = _visitor(request)
    helpful = request.POST.get("helpful") == "yes"
    services.article_vote(slug=slug, visitor=key, helpful=helpful)
    return _remember(redirect(f"/help/{slug}/?voted=1#helpful"), key, new)


urlpatterns = [
    path("kb/", kb_list, name="kb_list"),
    path("kb/new/", kb_new, name="kb_new"),
    path("kb/<int:article_id>/edit/", kb_edit, name="kb_edit"),
    path("kb/<int:article_id>/delete/", kb_delete, name="kb_delete"),
    path("kb/categories/new/", kb_category_new, name="kb_category_new"),
    path("help/", help_home, name="help_home"),
    path("help/<slug:slug>/", help_article, name="help_article"),
    path("help/<slug:slug>/vote/", help_vote, name="help_vote"),
]
