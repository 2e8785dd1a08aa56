"""Fixtures every test may use (loaded by the repository's conftest.py): users of each role in two
teams, API clients that send a real Bearer token, logged-in page clients."""

from __future__ import annotations

import pytest
from django.test import Client

from rapport.accounts import services as account_services


def make_user(email: str, role: str, team: str | None = None, password: str = "pw-for-tests-1"):
    return account_services.user_create(email=email, role=role, team_name=team,
                                        password=password, first_name=email.split("@")[0])


@pytest.fixture
def owner(db):
    return make_user("owner@bakery.example.com", "owner")


@pytest.fixture
def sales_a(db):
    return make_user("sam@bakery.example.com", "sales", team="north")


@pytest.fixture
def sales_a2(db):
    return make_user("sara@bakery.example.com", "sales", team="north")


@pytest.fixture
def sales_b(db):
    return make_user("bob@bakery.example.com", "sales", team="south")


@pytest.fixture
def manager_a(db):
    return make_user("mia@bakery.example.com", "manager", team="north")


class ApiClient:
    """A test client that sends JSON with a real Bearer token."""

    def __init__(self, user):
        self.client = Client()
        self.token = account_services.token_create(user=user, name="tests").raw
        self.headers = {"Authorization": f"Bearer {self.token}"}

    def get(self, path, **params):
        return self.client.get(f"/api/v1{path}", params, headers=self.headers)

    def post(self, path, body=None):
        return self.client.post(f"/api/v1{path}", body or {}, content_type="application/json",
                                headers=self.headers)

    def patch(self, path, body):
        return self.client.patch(f"/api/v1{path}", body, content_type="application/json",
                                 headers=self.headers)

    def delete(self, path):
        return self.client.delete(f"/api/v1{path}", headers=self.headers)


@pytest.fixture
def api_as():
    return ApiClient


@pytest.fixture
def web_as(db):
    def login(user):
        client = Client()
        client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
        return client

    return login
