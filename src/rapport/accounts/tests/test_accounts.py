import re

import pytest
from django.core import mail
from django.core.management import call_command
from django.test import Client

from rapport.accounts.models import ApiToken, User
from rapport.accounts.services import token_create, token_revoke

pytestmark = pytest.mark.django_db


def test_login_and_logout_with_a_real_password(owner):
    client = Client()
    response = client.post("/login/", {"username": owner.email, "password": "pw-for-tests-1"})
    assert response.status_code == 302
    assert client.get("/contacts/").status_code == 200
    client.post("/logout/")
    assert client.get("/contacts/").status_code == 302


def test_an_email_typed_in_capitals_logs_in_and_is_one_account(owner):
    client = Client()
    response = client.post("/login/", {"username": "  Owner@Bakery.Example.COM ",
                                       "password": "pw-for-tests-1"})
    assert response.status_code == 302
    assert client.get("/contacts/").status_code == 200
    from rapport.accounts import services
    from rapport.core.errors import ValidationFailed

    with pytest.raises(ValidationFailed) as failure:
        services.user_create(email="OWNER@bakery.example.com", role="sales")
    assert failure.value.errors == {"email": ["a user with this email already exists"]}


def test_failed_logins_count_against_the_address_whatever_its_capitals(owner):
    client = Client()
    for typed in ("OWNER@bakery.example.com", "owner@BAKERY.example.com",
                  "Owner@Bakery.Example.Com", "owner@bakery.example.com",
                  "OWNER@BAKERY.EXAMPLE.COM"):
        client.post("/login/", {"username": typed, "password": "wrong"})
    response = client.post("/login/", {"username": owner.email, "password": "pw-for-tests-1"})
    assert response.status_code == 429


def test_passwords_are_hashed_with_argon2_in_production_settings():
    from rapport.config.settings import base

    assert base.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"
    from django.contrib.auth.hashers import Argon2PasswordHasher

    assert Argon2PasswordHasher().encode("secret", "saltsaltsalt").startswith("argon2$")


def test_login_is_rate_limited_after_five_failures(owner):
    client = Client()
    for _ in range(5):
        client.post("/login/", {"username": owner.email, "password": "wrong"})
    response = client.post("/login/", {"username": owner.email, "password": "pw-for-tests-1"})
    assert response.status_code == 429
    assert client.get("/contacts/").status_code == 302


def test_password_reset_by_email(owner):
    client = Client()
    client.post("/password-reset/", {"email": owner.email})
    assert len(mail.outbox) == 1
    link = re.search(r"http://testserver(/reset/\S+/)", mail.outbox[0].body).group(1)
    form = client.get(link, follow=True)
    set_url = form.redirect_chain[-1][0]
    response = client.post(set_url, {"new_password1": "new-rye-loaf-42",
                                     "new_password2": "new-rye-loaf-42"})
    assert response.status_code == 302
    fresh = Client()
    fresh.post("/login/", {"username": owner.email, "password": "new-rye-loaf-42"})
    assert fresh.get("/contacts/").status_code == 200


def test_token_is_stored_hashed_shown_once_and_revocable(owner):
    issued = token_create(user=owner, name="zapier")
    stored = ApiToken.objects.get()
    assert issued.raw not in (stored.digest, stored.prefix)
    assert len(stored.digest) == 64
    client = Client()
    headers = {"Authorization": f"Bearer {issued.raw}"}
    assert client.get("/api/v1/contacts", headers=headers).status_code == 200
    stored.refresh_from_db()
    assert stored.last_used_at is not None
    token_revoke(user=owner, token_id=stored.id)
    assert client.get("/api/v1/contacts", headers=headers).status_code == 401


def test_tokens_page_shows_new_token_once(owner, web_as):
    web = web_as(owner)
    html = web.post("/settings/tokens/", {"name": "script"}).content.decode()
    raw = re.search(r'<pre id="new-token">(rpt_[^<]+)</pre>', html).group(1)
    assert raw not in web.get("/settings/tokens/").content.decode()


def test_createuser_and_token_commands(capsys):
    call_command("createuser", "--email", "Cook@Example.com", "--role", "manager",
                 "--team", "kitchen", "--password", "long-enough-pw")
    out = capsys.readouterr().out
    assert "email: cook@example.com" in out
    user = User.objects.get(email="cook@example.com")
    assert (user.role, user.team.name) == ("manager", "kitchen")
    call_command("token", "create", "--email", "cook@example.com")
    raw = capsys.readouterr().out.strip()
    assert Client().get("/api/v1/contacts",
                        headers={"Authorization": f"Bearer {raw}"}).status_code == 200


def test_createuser_rejects_bad_role_and_duplicate():
    from django.core.management.base import CommandError

    call_command("createuser", "--email", "a@example.com", "--role", "sales")
    with pytest.raises(CommandError, match="already exists"):
        call_command("createuser", "--email", "A@example.com", "--role", "sales")
    with pytest.raises(CommandError):
        call_command("createuser", "--email", "b@example.com", "--role", "king")


def test_owner_invites_a_user_who_sets_a_password_by_email(owner, web_as,
                                                          django_capture_on_commit_callbacks):
    web = web_as(owner)
    response = web.post("/settings/users/", {"email": "not-an-email", "role": "sales"})
    assert response.status_code == 422
    assert "not a valid email address" in response.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        web.post("/settings/users/", {"email": "New.Baker@example.com", "role": "sales",
                                      "team": "north"})
    user = User.objects.get(email="new.baker@example.com")
    assert (user.role, user.team.name) == ("sales", "north")
    assert len(mail.outbox) == 1
    link = re.search(r"http://testserver(/reset/\S+/)", mail.outbox[0].body).group(1)
    client = Client()
    set_url = client.get(link, follow=True).redirect_chain[-1][0]
    client.post(set_url, {"new_password1": "my-own-rye-1", "new_password2": "my-own-rye-1"})
    client.post("/login/", {"username": user.email, "password": "my-own-rye-1"})
    assert client.get("/contacts/").status_code == 200


def test_owner_changes_role_and_deactivates(owner, sales_a, web_as):
    web = web_as(owner)
    web.post(f"/settings/users/{sales_a.id}/", {"role": "manager", "team": "south"})
    sales_a.refresh_from_db()
    assert (sales_a.role, sales_a.team.name, sales_a.is_active) == ("manager", "south", False)
    web.post(f"/settings/users/{owner.id}/", {"role": "sales", "is_active": "on"})
    owner.refresh_from_db()
    assert owner.role == "owner"


def test_only_owners_manage_users(sales_a, web_as):
    web = web_as(sales_a)
    assert web.get("/settings/users/").status_code == 403
    assert web.post(f"/settings/users/{sales_a.id}/", {"role": "owner", "is_active": "on"}
                    ).status_code == 403
    sales_a.refresh_from_db()
    assert sales_a.role == "sales"
