"""Edges the generated run only hits by luck: no token on any operation, ids too big to store."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from tests.api.test_schemathesis import OPERATIONS

TOO_BIG = 2**63  # one more than the largest id SQLite and PostgreSQL can store


WITHOUT_A_TOKEN = {
    "no header": {},
    "unknown token": {"Authorization": "Bearer not-a-real-token"},
    "basic auth": {"Authorization": "Basic b3duZXI6cGFzc3dvcmQ="},
    "made-up session": {"Cookie": "sessionid=made-up; csrftoken=made-up"},
}


@pytest.mark.parametrize("how", WITHOUT_A_TOKEN)
@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda operation: operation.label)
def test_every_operation_needs_a_token(db, operation, how):
    """Reads and writes alike: 401, never a CSRF 403, whatever else the request carries."""
    path = re.sub(r"\{[^}]+\}", "1", operation.full_path)
    method = operation.method.lower()
    body = {} if method == "get" else {"data": "{}", "content_type": "application/json"}
    response = getattr(Client(enforce_csrf_checks=True), method)(
        path, headers=WITHOUT_A_TOKEN[how], **body)
    assert response.status_code == 401
    assert response.json() == {
        "detail": "a valid API token is required (Authorization: Bearer <token>)"}


def test_a_revoked_token_is_401_on_reads_and_writes(db):
    from rapport.accounts import services

    owner = services.user_create(email="olivia@bakery.example.com", role="owner",
                                 password="rye-sourdough-42")
    issued = services.token_create(user=owner, name="old script")
    headers = {"Authorization": f"Bearer {issued.raw}"}
    assert Client().get("/api/v1/contacts", headers=headers).status_code == 200
    services.token_revoke(user=owner, token_id=issued.token.id)
    assert Client().get("/api/v1/contacts", headers=headers).status_code == 401
    response = Client(enforce_csrf_checks=True).post(
        "/api/v1/contacts", '{"first_name": "X"}', content_type="application/json",
        headers=headers)
    assert response.status_code == 401


@pytest.fixture
def bearer(db):
    from rapport.accounts import services

    owner = services.user_create(email="olivia@bakery.example.com", role="owner",
                                 password="rye-sourdough-42")
    return {"Authorization": f"Bearer {services.token_create(user=owner, name='edges').raw}"}


@pytest.mark.parametrize("query", [f"company={TOO_BIG}", f"owner={TOO_BIG}",
                                   "company=-1", "owner=12abc"])
def test_contact_list_filters_refuse_ids_that_cannot_exist(bearer, query):
    response = Client().get(f"/api/v1/contacts?{query}", headers=bearer)
    assert response.status_code == 422
    assert list(response.json()["errors"]) == [query.split("=")[0]]


@pytest.mark.parametrize("path", [f"/api/v1/contacts/{TOO_BIG}", f"/api/v1/companies/{TOO_BIG}",
                                  f"/api/v1/products/{TOO_BIG}", f"/api/v1/orders/{TOO_BIG}"])
def test_reading_an_id_too_big_to_exist_is_not_found(bearer, path):
    assert Client().get(path, headers=bearer).status_code == 404


@pytest.mark.parametrize("query, named", [
    ("colour=blue", "colour"), ("tag=a&tag=b", "tag"), ("q=x&q=y", "q"),
    ("limit=5&limit=6", "limit")])
def test_a_query_parameter_nobody_declared_or_given_twice_is_named(bearer, query, named):
    for path in ("/api/v1/companies", "/api/v1/contacts"):
        response = Client().get(f"{path}?{query}", headers=bearer)
        assert response.status_code == 422, (path, query)
        assert list(response.json()["errors"]) == [named]


def test_an_api_address_no_operation_matches_is_a_json_404(bearer):
    for path in ("/api/v1/nothing-here", "/api/v1/contacts/not-a-number",
                 "/api/v1/orders/%F1%88%A5"):
        response = Client().get(path, headers=bearer)
        assert response.status_code == 404
        assert response.json() == {"detail": "not found"}
