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
