"""The one permission policy: declared by the apps, enforced by restrict() and can() alike."""

from __future__ import annotations

import pathlib
import re

import pytest
from django.apps import apps

from rapport.contacts import services as contact_services
from rapport.core import permissions
from rapport.core.permissions import ROLES, RestrictedQuerySet, can, role_table_markdown
from rapport.testing import make_user

SRC = pathlib.Path(__file__).resolve().parents[2]
REPO = SRC.parents[1]


def test_no_module_but_the_policy_compares_roles():
    comparison = re.compile(r"\.role\s*(==|!=|\bin\b|\bnot in\b)")
    offenders = []
    for path in SRC.rglob("*.py"):
        if path == SRC / "core" / "permissions.py" or "tests" in path.parts:
            continue
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            if comparison.search(line):
                offenders.append(f"{path.relative_to(SRC)}:{number}: {line.strip()}")
    assert offenders == []


def test_every_record_people_own_is_loaded_through_restrict():
    """Models with an owner, or with a policy, use the restricted manager and a known resource."""
    names = {resource.name for resource in permissions.resources()}
    for model in apps.get_app_config("contacts").get_models():
        has_owner = any(f.name == "owner" for f in model._meta.get_fields())
        if has_owner or hasattr(model, "policy"):
            assert isinstance(model.objects.all(), RestrictedQuerySet), model
            assert model.policy.resource in names, model
    for label in ("orders",):
        for model in apps.get_app_config(label).get_models():
            if hasattr(model, "policy"):
                assert isinstance(model.objects.all(), RestrictedQuerySet), model
                assert model.policy.resource in names, model


def test_the_docs_print_the_policy_as_it_is():
    """docs/permissions.md is generated from the policy (`rapport permissions --markdown`)."""
    text = (REPO / "docs" / "permissions.md").read_text()
    assert role_table_markdown() in text


def test_unknown_permissions_are_programming_errors(db):
    owner = make_user("o@example.com", "owner")
    with pytest.raises(LookupError):
        can(owner, "contacts.fly")
    with pytest.raises(LookupError):
        can(owner, "nothing.view")


@pytest.fixture
def people(db):
    """Every role in two teams (owners have none), and a contact owned by each of them."""
    users = [make_user(f"{role}-{team}@example.com", role, team=team if role != "owner" else None)
             for role in ROLES for team in ("north", "south")]
    contacts = [contact_services.contact_create(actor=user, data={"first_name": user.email})
                for user in users]
    return users, contacts


@pytest.mark.parametrize("action", ["view", "change", "delete", "assign", "restore"])
def test_restrict_and_can_never_disagree(people, action):
    from rapport.contacts.models import Contact

    users, contacts = people
    for user in users:
        listed = set(Contact.objects.restrict(user, action).values_list("id", flat=True))
        for contact in contacts:
            assert (contact.id in listed) == can(user, f"contacts.{action}", contact), (
                user.email, contact.first_name, action)


def test_scopes_reach_as_the_table_says(people):
    from rapport.contacts.models import Contact

    users, contacts = people
    by_email = {u.email: u for u in users}
    visible = {u.email: set(Contact.objects.restrict(u, "view").values_list("first_name",
                                                                           flat=True))
               for u in users}
    everyone = {c.first_name for c in contacts}
    assert visible["owner-north@example.com"] == everyone
    assert visible["support-north@example.com"] == everyone
    # Owners belong to no team; the two teams see their own members' people.
    north = {e for e in everyone if e.endswith("-north@example.com") and "owner" not in e}
    south = {e for e in everyone if e.endswith("-south@example.com") and "owner" not in e}
    assert visible["sales-north@example.com"] == north
    assert visible["manager-south@example.com"] == south
    changeable = set(Contact.objects.restrict(by_email["sales-north@example.com"], "change")
                     .values_list("first_name", flat=True))
    assert changeable == {"sales-north@example.com"}


@pytest.mark.parametrize("sort", ["name", "-name", "-updated", "created", "-created"])
def test_every_list_page_holds_what_restrict_allows_in_order(people, sort):
    """Lists read a team's people owner by owner and merge them; the pages, walked to the
    end, are exactly what restrict() allows, in the list's order, each once."""
    from rapport.contacts import selectors
    from rapport.contacts.models import Contact

    users, _contacts = people
    for extra in range(3):  # a few more each, so a team's pages interleave owners
        for user in users:
            contact_services.contact_create(actor=user, data={
                "first_name": f"{extra}{user.email}", "last_name": "Same" if extra else "Z"})
    order = {"name": ("last_name", "first_name", "id"), "-name": ("-last_name", "-first_name",
             "-id"), "-updated": ("-updated_at", "-id"), "created": ("id",),
             "-created": ("-id",)}[sort]
    for user in users:
        expected = list(Contact.objects.restrict(user, "view").order_by(*order)
                        .values_list("id", flat=True))
        seen, cursor = [], None
        while True:
            page = selectors.contact_list(user=user, params={"sort": sort, "limit": 4,
                                                             "cursor": cursor})
            seen += [c.id for c in page.items]
            cursor = page.next_cursor
            if not cursor:
                break
        assert seen == expected, (user.email, sort)
        mine = selectors.contact_list(user=user, params={"owner": "me", "limit": 200})
        assert [c.owner_id for c in mine.items] == [user.id] * len(mine.items)
