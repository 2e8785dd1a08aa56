"""Edges the generated run only hits by luck: no token on any operation, ids too big to store."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from tests.api.test_schemathesis import OPERATIONS

TOO_BIG = 2**63  # one more than the largest id SQLite and PostgreSQL can store


@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda operation: operation.label)
def test_every_operation_needs_a_token(db, operation):
    path = re.sub(r"\{[^}]+\}", "1", operation.full_path)
    method = operation.method.lower()
    body = {} if method == "get" else {"data": "{}", "content_type": "application/json"}
    response = getattr(Client(), method)(
        path, headers={"Authorization": "Bearer not-a-real-token"}, **body)
    assert response.status_code == 401
    assert response.json() == {
        "detail": "a valid API token is required (Authorization: Bearer <token>)"}


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
