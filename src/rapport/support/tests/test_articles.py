"""The knowledge base: writing, publishing and deleting articles (services, API, pages) and the
public help centre with its "was this helpful?" votes."""

import pytest
from django.test import Client

from rapport.core.errors import PermissionDenied, ValidationFailed, VersionConflict
from rapport.core.models import Event
from rapport.support import services
from rapport.support.models import Article, ArticleVote
from rapport.support.tests.assistant_kb import build
from rapport.testing import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent(db):
    return make_user("ada@bakery.example.com", "support")


def test_write_publish_edit_and_delete_an_article(agent):
    category = services.category_create(actor=agent, data={"name": "Orders and delivery"})
    article = services.article_create(actor=agent, data={
        "title": "Tracking your order", "body": "Open the link in the email.",
        "category_id": category.id})
    assert (article.slug, article.status, article.published_at) == (
        "tracking-your-order", "draft", None)
    # The same title again gets an address of its own.
    twin = services.article_create(actor=agent, data={"title": "Tracking your order",
                                                      "body": "Another."})
    assert twin.slug == "tracking-your-order-2"
    published = services.article_update(actor=agent, article_id=article.id, version=1,
                                        changes={"status": "published"})
    assert published.status == "published" and published.published_at is not None
    assert published.version == 2
    with pytest.raises(VersionConflict):
        services.article_update(actor=agent, article_id=article.id, version=1,
                                changes={"title": "Stale"})
    assert Article.objects.get(id=article.id).title == "Tracking your order"
    services.article_delete(actor=agent, article_id=article.id)
    assert Article.objects.get(id=article.id).deleted_at is not None
    kinds = list(Event.objects.filter(kind="article.changed", entity_id=article.id)
                 .values_list("after", flat=True))
    assert len(kinds) == 3 and kinds[-1] is None


def test_bad_input_names_the_field_and_changes_nothing(agent, sales_b):
    cases = [({"title": "", "body": "x"}, "title"), ({"title": "T", "body": ""}, "body"),
             ({"title": "T", "body": "x", "status": "live"}, "status"),
             ({"title": "T", "body": "x", "slug": "Not A Slug"}, "slug"),
             ({"title": "T", "body": "x", "category_id": 999}, "category_id"),
             ({"title": "x" * 201, "body": "x"}, "title")]
    for data, field in cases:
        with pytest.raises(ValidationFailed) as failure:
            services.article_create(actor=agent, data=data)
        assert field in failure.value.errors, (data, failure.value.errors)
    with pytest.raises(PermissionDenied):
        services.article_create(actor=sales_b, data={"title": "T", "body": "x"})
    assert not Article.objects.exists()


def test_the_api_lists_creates_changes_with_versions_and_deletes(agent, api_as, sales_b):
    client = api_as(agent)
    made = client.post("/articles", {"title": "Delivery times", "body": "Mon-Sat.",
                                     "status": "published", "is_faq": True})
    assert made.status_code == 201, made.content
    body = made.json()
    assert body["url"] == "/help/delivery-times/" and body["is_faq"] and body["version"] == 1
    listed = client.get("/articles", status="published", faq="true").json()
    assert [a["id"] for a in listed["items"]] == [body["id"]]
    changed = client.patch(f"/articles/{body['id']}", {"title": "When we deliver",
                                                       "version": 1})
    assert changed.status_code == 200 and changed.json()["version"] == 2
    stale = client.patch(f"/articles/{body['id']}", {"title": "Old", "version": 1})
    assert stale.status_code == 409
    bad = client.post("/articles", {"title": "T", "body": ""})
    assert bad.status_code == 422 and "body" in bad.json()["errors"]
    refused = api_as(sales_b).post("/articles", {"title": "T", "body": "x"})
    assert refused.status_code == 403
    category = client.post("/article-categories", {"name": "Orders"})
    assert category.status_code == 201 and category.json()["slug"] == "orders"
    assert client.delete(f"/articles/{body['id']}").status_code == 204
    assert client.get(f"/articles/{body['id']}").status_code == 404


def test_staff_pages_write_and_publish(agent):
    client = Client()
    client.force_login(agent)
    assert client.get("/kb/").status_code == 200
    client.post("/kb/categories/new/", {"name": "Orders and delivery"})
    category = services.category_create(actor=agent, data={"name": "Account"})
    refused = client.post("/kb/new/", {"title": "", "body": "x"})
    assert refused.status_code == 422 and b"nothing was saved" in refused.content
    created = client.post("/kb/new/", {"title": "Resetting your password",
                                       "body": "Choose Forgot password.",
                                       "category_id": str(category.id), "status": "draft",
                                       "publish": "1"})
    assert created.status_code == 302
    article = Article.objects.get()
    assert article.status == "published" and article.category_id == category.id
    page = client.get(f"/kb/{article.id}/edit/")
    assert b"Resetting your password" in page.content
    stale = client.post(f"/kb/{article.id}/edit/", {"title": "New", "body": "x",
                                                    "status": "published", "version": "7"})
    assert stale.status_code == 409 and b"Someone else saved" in stale.content
    client.post(f"/kb/{article.id}/delete/")
    assert Article.objects.get().deleted_at is not None


def test_help_centre_without_login_or_javascript(owner):
    made = build(owner)
    services.article_create(actor=owner, data={"title": "Secret draft", "body": "Not yet."})
    visitor = Client()
    home = visitor.get("/help/")
    assert home.status_code == 200
    text = home.content.decode()
    assert "Orders and delivery" in text and "Tracking your order" in text
    assert "Secret draft" not in text and "<script" not in text
    found = visitor.get("/help/", {"q": "where is my parcel"}).content.decode()
    assert found.index("Tracking your order") < found.index("</main>")
    assert "Tracking your order" in found
    assert visitor.get("/help/secret-draft/").status_code == 404
    article = made["Tracking your order"]
    page = visitor.get(f"/help/{article.slug}/")
    assert page.status_code == 200 and b"Was this helpful?" in page.content


def test_helpful_votes_one_per_visitor_and_changeable(owner):
    article = build(owner)["Tracking your order"]
    visitor = Client(enforce_csrf_checks=True)
    page = visitor.get(f"/help/{article.slug}/")
    token = page.cookies["csrftoken"].value if "csrftoken" in page.cookies else (
        visitor.cookies["csrftoken"].value)
    vote = visitor.post(f"/help/{article.slug}/vote/", {"helpful": "yes",
                                                        "csrfmiddlewaretoken": token})
    assert vote.status_code == 302
    visitor.post(f"/help/{article.slug}/vote/", {"helpful": "yes",
                                                 "csrfmiddlewaretoken": token})
    article.refresh_from_db()
    assert (article.helpful_yes, article.helpful_no) == (1, 0)
    visitor.post(f"/help/{article.slug}/vote/", {"helpful": "no",
                                                 "csrfmiddlewaretoken": token})
    article.refresh_from_db()
    assert (article.helpful_yes, article.helpful_no) == (0, 1)
    assert ArticleVote.objects.count() == 1
    shown = visitor.get(f"/help/{article.slug}/?voted=1").content.decode()
    assert "you said “no”" in shown
    Client().post(f"/help/{article.slug}/vote/", {"helpful": "yes"})  # another visitor
    article.refresh_from_db()
    assert (article.helpful_yes, article.helpful_no) == (1, 1)
