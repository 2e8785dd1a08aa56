"""How many queries each page costs, pinned (NetBox's query_counts idea).

A page's queries must not grow with its rows: a change that adds a query per row, or loads a
record twice, shows here as a changed number. Counts include the session and the user (2);
users in a team pay one more, once per request, for their team's ids. When a page rightly
needs another query, change its number here and say why in the commit.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from rapport.accounts.models import User
from rapport.contacts.models import Company, Contact
from rapport.core.permissions import scope_for
from rapport.dataio.seed import seed_run

pytestmark = pytest.mark.django_db

ROLES = ("owner", "manager", "sales", "support", "marketing")
# page: (queries for users without a team, queries for users in a team)
EXPECTED = {
    # Sales and support land on My day instead (a redirect: the session and the user).
    "/": {"home": (5, 7), "landing": (2, 2)},
    "/contacts/": (8, 10),
    "/contacts/?stage=lead&sort=-updated": (8, 10),
    # The contact page: one more for the emails to the person not sent yet (activities panel).
    # --- events: one more for the person's devices (support's Devices panel) ---
    "contact page": (14, 15),
    # A team's companies: its members' keys merged, then the chosen rows (one more query).
    "/companies/": (4, 6),
    "company page": (6, 7),
    "/products/": (4, 4),
    "/orders/": (3, 4),
    # The two databases search differently (FTS5 on SQLite, trigram indexes on PostgreSQL).
    # Plus one for the leads search, for those who may see leads (SEARCH_WITHOUT_LEADS).
    "/search/?q=an": {"sqlite": (6, 7), "postgresql": (7, 9)},
    "/settings/": (2, 2),
    "/my-day/": (5, 6),
    "/interactions/": (3, 4),
    "/interactions/?type=call&since=2025-01-01": (3, 4),
    "/tasks/": (3, 4),
    # A team's done tasks: its members' keys merged, like its open tasks.
    "/tasks/?status=done": (3, 4),
    "/reminders/bell/": (3, 3),
}
LANDS_ON_MY_DAY = ("sales", "support")
SEARCH_WITHOUT_LEADS = 1  # the leads provider asks nothing of those who may not see leads


@pytest.fixture
def business():
    seed_run(contacts=120, companies=8, events_per_contact=4, seed=3, as_of=dt.date(2026, 1, 31))
    return {role: User.objects.filter(role=role).order_by("id").first() for role in ROLES}


@pytest.mark.parametrize("role", ROLES)
def test_each_page_costs_its_pinned_number_of_queries(business, web_as, role):
    user = business[role]
    web = web_as(user)
    mine = Contact.objects.restrict(user, "view").filter(deleted_at__isnull=True).order_by(
        "id").first()
    company = Company.objects.restrict(user, "view").order_by("id").first()
    urls = {page: page for page in EXPECTED}
    urls["contact page"] = f"/contacts/{mine.id}/"
    urls["company page"] = f"/companies/{company.id}/"
    counted = {}
    for page, url in urls.items():
        web.get(url)  # warm what is cached per process (the name vocabulary, templates)
        with CaptureQueriesContext(connection) as captured:
            response = web.get(url)
        assert response.status_code == (302 if url == "/" and role in LANDS_ON_MY_DAY
                                        else 200), url
        counted[page] = len(captured.captured_queries)
    in_team = user.team_id is not None
    home = "landing" if role in LANDS_ON_MY_DAY else "home"
    expected = {page: ((numbers.get(connection.vendor) or numbers[home])
                       if isinstance(numbers, dict) else numbers)
                for page, numbers in EXPECTED.items()}
    wanted = {page: numbers[in_team] for page, numbers in expected.items()}
    if scope_for(user, "leads.view") is None:
        wanted["/search/?q=an"] -= SEARCH_WITHOUT_LEADS
    assert counted == wanted
