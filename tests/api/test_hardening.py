"""What an independent probe of the API found, each kept fixed by a test (issue 8)."""

from __future__ import annotations

import base64
import json

import pytest
from django.core import signing
from django.test import Client

from rapport.contacts import services as contacts
from rapport.core.pagination import CURSOR_SALT, encode_cursor

pytestmark = pytest.mark.django_db


def _b64(value) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


FORGED = [
    _b64([None, None, None]), _b64(["a", "b", "x"]), _b64([]), _b64({"id": 1}), _b64("text"),
    _b64([1, 2, 3, 4, 5]), "garbage!!", "%00", "a" * 5000, "====",
    # Signed, but not by this server, or by it for something else.
    signing.dumps(["Smith", "Ann", 5], salt=CURSOR_SALT, key="not-our-secret"),
    signing.dumps(["Smith", "Ann", 5], salt="another.purpose"),
]


@pytest.mark.parametrize("cursor", FORGED)
@pytest.mark.parametrize("path", ["/contacts", "/companies", "/orders", "/products"])
def test_a_forged_cursor_is_a_422_naming_cursor(owner, api_as, path, cursor):
    response = api_as(owner).get(path, cursor=cursor)
    assert response.status_code == 422, response.content
    assert list(response.json()["errors"]) == ["cursor"]


def test_a_cursor_of_the_right_shape_but_wrong_types_is_refused(owner, api_as):
    # Signed by us, three values, but the id is not a number and the names are not text.
    wrong = encode_cursor([["x"], {"y": 1}, "not-an-id"])
    response = api_as(owner).get("/contacts", cursor=wrong)
    assert response.status_code == 422
    assert list(response.json()["errors"]) == ["cursor"]


def test_a_cursor_from_one_list_is_refused_by_another(owner, api_as):
    for i in range(3):
        contacts.contact_create(actor=owner, data={"first_name": f"P{i}"})
    api = api_as(owner)
    by_name = api.get("/contacts", limit=1).json()["next_cursor"]
    recent = api.get("/contacts", limit=1, sort="-updated")
    assert recent.status_code == 200
    assert api.get("/contacts", sort="-updated", cursor=by_name).status_code == 422


def test_a_timeline_page_with_a_forged_cursor_is_not_found(owner, web_as):
    anna = contacts.contact_create(actor=owner, data={"first_name": "Anna"})
    response = web_as(owner).get(f"/contacts/{anna.id}/timeline/",
                                 {"before": _b64([None, None])})
    assert response.status_code == 404


def test_the_session_cookie_alone_does_not_open_the_api(owner):
    client = Client()
    client.force_login(owner, backend="django.contrib.auth.backends.ModelBackend")
    assert client.get("/api/v1/contacts").status_code == 401


# --- access beyond the matrix ------------------------------------------------------------------

def test_search_finds_the_one_namesake_a_restricted_user_may_see(sales_a, sales_b, api_as):
    """650 people of another team share the name; the search must not stop at them."""
    from rapport.contacts.models import Contact
    from rapport.contacts.search import build_search_text

    Contact.objects.bulk_create([
        Contact(first_name=f"P{i}", last_name="Zqnsbuqycrowd", owner=sales_b,
                search_text=build_search_text(first_name=f"P{i}", last_name="Zqnsbuqycrowd",
                                              emails=[], phones=[]))
        for i in range(650)])
    mine = contacts.contact_create(actor=sales_a, data={"first_name": "Mine",
                                                        "last_name": "Zqnsbuqycrowd"})
    for q in ("Zqnsbuqycrowd", "zqnsbuqycrowd mine", "zqnsbuqycrowd"):
        hits = api_as(sales_a).get("/search", q=q).json()["results"]
        assert [h["id"] for h in hits] == [mine.id], q
    typo = api_as(sales_a).get("/search", q="Zqnsbuqycrwd").json()["results"]
    assert [h["id"] for h in typo] == [mine.id]


def test_a_contact_cannot_be_linked_to_a_company_its_writer_cannot_see(sales_a, sales_b,
                                                                        api_as):
    theirs = contacts.company_create(actor=sales_b, data={"name": "Private Bakery Ltd"})
    api = api_as(sales_a)
    created = api.post("/contacts", {"first_name": "Anna", "company_id": theirs.id})
    assert created.status_code == 422
    assert created.json()["errors"] == {"company_id": [f"no company with id {theirs.id}"]}
    anna = api.post("/contacts", {"first_name": "Anna"}).json()
    changed = api.patch(f"/contacts/{anna['id']}", {"version": anna["version"],
                                                    "company_id": theirs.id})
    assert changed.status_code == 422


def test_a_company_the_viewer_cannot_see_never_shows_its_name(owner, sales_a, sales_b, api_as,
                                                              web_as):
    theirs = contacts.company_create(actor=sales_b, data={"name": "Secret Supplies"})
    # An owner may link anyone to anything; the sales user sees the person, not the company.
    anna = contacts.contact_create(actor=owner, data={
        "first_name": "Anna", "last_name": "Quill", "owner_id": sales_a.id,
        "company_id": theirs.id})
    pages = [web_as(sales_a).get(f"/contacts/{anna.id}/"),
             web_as(sales_a).get("/contacts/"), web_as(sales_a).get("/contacts/export.csv"),
             web_as(sales_a).get("/search/", {"q": "quill"})]
    for page in pages:
        body = b"".join(page.streaming_content) if page.streaming else page.content
        assert page.status_code == 200
        assert b"Secret Supplies" not in body
    hits = api_as(sales_a).get("/search", q="quill").json()["results"]
    assert hits and all("Secret" not in h["subtitle"] for h in hits)
    assert "Secret Supplies" in web_as(owner).get(f"/contacts/{anna.id}/").content.decode()


def test_records_go_only_to_users_the_writer_may_hand_them_to(sales_a, sales_a2, sales_b,
                                                              manager_a, api_as, web_as):
    api = api_as(sales_a)
    # Creating for another team's user, through the API and the page form.
    made = api.post("/contacts", {"first_name": "Anna", "owner_id": sales_b.id})
    assert made.status_code == 422 and list(made.json()["errors"]) == ["owner_id"]
    form = web_as(sales_a).post("/contacts/new/", {"first_name": "Anna",
                                                   "owner_id": str(sales_b.id)})
    assert form.status_code == 422
    # Bulk assign to another team's user.
    mine = api.post("/contacts", {"first_name": "Mine"}).json()
    bulk = web_as(sales_a).post("/contacts/bulk/", {"ids": [mine["id"]], "action": "assign",
                                                     "owner_id": sales_b.id}, follow=True)
    assert "you may not hand records to that user" in bulk.content.decode()
    from rapport.contacts.models import Contact

    assert Contact.objects.get(id=mine["id"]).owner_id == sales_a.id
    # A manager hands within the team, not outside it.
    assert api_as(manager_a).patch(f"/contacts/{mine['id']}", {
        "version": mine["version"], "owner_id": sales_a2.id}).status_code == 200
    refused = api_as(manager_a).patch(f"/contacts/{mine['id']}", {
        "version": mine["version"] + 1, "owner_id": sales_b.id})
    assert refused.status_code == 422


def test_editing_a_person_keeps_a_company_link_the_editor_cannot_see(owner, sales_a, sales_b,
                                                                     web_as):
    theirs = contacts.company_create(actor=sales_b, data={"name": "Secret Supplies"})
    anna = contacts.contact_create(actor=owner, data={
        "first_name": "Anna", "owner_id": sales_a.id, "company_id": theirs.id})
    form = web_as(sales_a).get(f"/contacts/{anna.id}/edit/").content.decode()
    assert "Secret Supplies" not in form
    saved = web_as(sales_a).post(f"/contacts/{anna.id}/edit/", {
        "first_name": "Anna", "last_name": "Quill", "company": "", "version": "1",
        "lifecycle_stage": "lead", "owner_id": str(sales_a.id)})
    assert saved.status_code == 302
    anna.refresh_from_db()
    assert (anna.last_name, anna.company_id) == ("Quill", theirs.id)
