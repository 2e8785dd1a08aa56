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
