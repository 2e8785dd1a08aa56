"""The people list reads its page through an index in list order, for every role, on both
databases, whatever the statistics: the plan is fixed by how the query and indexes are built.

(A team's list that sorted every row the team owns took 3-4 s at a million people.) Everyone's
list walks the sort index; one owner's, and each team member's in a team's list, walk the
(owner, sort) index; a team's page merges its members' pages (Merge Append on PostgreSQL).
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from rapport.accounts.models import User
from rapport.contacts import selectors
from rapport.core.permissions import visible_owners
from rapport.dataio.seed import seed_run

pytestmark = pytest.mark.django_db

SORT_INDEX = {"name": "contact_name_idx", "-updated": "contact_updated_idx",
              "-created": "contacts_contact_pkey"}
OWNER_INDEX = {"name": "contact_owner_name_idx", "-updated": "contact_owner_updated_idx",
               "-created": "contact_owner_idx"}


@pytest.fixture(scope="module")
def business(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        seed_run(contacts=400, companies=20, events_per_contact=1, seed=7,
                 as_of=dt.date(2026, 1, 31))
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        users = {role: User.objects.filter(role=role).order_by("id").first()
                 for role in ("owner", "manager", "sales", "support", "marketing")}
    yield users
    with django_db_blocker.unblock():
        from django.core.management import call_command

        call_command("flush", interactive=False, verbosity=0)


def _page_plan(user, params) -> tuple[str, str]:
    with CaptureQueriesContext(connection) as captured:
        selectors.contact_list(user=user, params=params)
    sql = next(q["sql"] for q in captured.captured_queries
               if '"contacts_contact"' in q["sql"] and "ORDER BY" in q["sql"])
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}")
            return sql, "\n".join(row[-1] for row in cursor.fetchall())
        # With sorting and whole-table reads priced out, the plan must still come from an
        # index in list order: if it cannot, PostgreSQL falls back to a Sort node.
        cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}")
        plan = "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute("RESET enable_sort")
        cursor.execute("RESET enable_seqscan")
        return sql, plan


def _reads_of_people(plan: str) -> list[str]:
    if connection.vendor == "sqlite":
        return [line for line in plan.splitlines() if " contacts_contact " in f"{line} "]
    return [line.strip() for line in plan.splitlines() if " on contacts_contact" in line]


@pytest.mark.parametrize("sort", ["name", "-updated", "-created"])
@pytest.mark.parametrize("filters", [{}, {"stage": "lead"}, {"owner": "me"}])
@pytest.mark.parametrize("role", ["owner", "manager", "sales", "support", "marketing"])
def test_a_page_walks_an_index_in_list_order(business, role, sort, filters):
    user = business[role]
    owners = visible_owners(user, "contacts.view")
    per_owner = bool(filters.get("owner")) or owners is not None
    index = OWNER_INDEX[sort] if per_owner else SORT_INDEX[sort]
    sql, plan = _page_plan(user, {"sort": sort, **filters})
    reads = _reads_of_people(plan)
    assert reads, plan
    if connection.vendor == "sqlite":
        if index == "contacts_contact_pkey":  # the table itself, in rowid order
            assert reads == ["SCAN contacts_contact"], plan
        else:
            assert all(index in line for line in reads), plan
        # Only the few rows each branch returns are ordered for the merge, never a table's.
        lines = plan.splitlines()
        for i, line in enumerate(lines):
            if "TEMP B-TREE" in line:
                assert i > 0 and lines[i - 1].startswith("SCAN branch_"), plan
    else:
        # PostgreSQL may walk the primary key backwards for "newest first" when an owner
        # holds much of the table (its statistics know each owner's share); either way an
        # index gives the order and nothing is sorted.
        expected = (f"using {index}",) if sort != "-created" else ("using ",)
        assert all(line.startswith(("Index Scan", "->  Index Scan")) and
                   any(part in line for part in expected) for line in reads), plan
        assert not any(line.strip().removeprefix("->  ").startswith("Sort  (")
                       for line in plan.splitlines()), plan
    if per_owner and not filters.get("owner") and len(owners or []) > 1:
        assert len(reads) == len(owners), plan  # one walk per team member, merged


def _plan_of(selector, user, params, table: str) -> str:
    with CaptureQueriesContext(connection) as captured:
        selector(user=user, params=params)
    sql = next(q["sql"] for q in captured.captured_queries
               if f'"{table}"' in q["sql"] and "ORDER BY" in q["sql"])
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}")
            return "\n".join(row[-1] for row in cursor.fetchall())
        cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}")
        plan = "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute("RESET enable_sort")
        cursor.execute("RESET enable_seqscan")
        return plan


@pytest.mark.parametrize("role", ["manager", "sales"])
def test_a_teams_companies_and_tasks_are_its_members_lists_merged(business, role):
    """Sorting every company (or open task) a team has took 0.14 s (1 s) at 50,000
    companies (100,000 tasks): each member's page is read through an (owner, sort) index.
    The done tasks (newest due first) likewise, through the done tasks' own index."""
    from rapport.activities import selectors as activities
    from rapport.activities.models import Task

    user = business[role]
    members = visible_owners(user, "companies.view")
    assert len(members) > 1
    people = list(selectors.visible_contacts(user).values_list("id", "owner_id")[:40])
    Task.objects.bulk_create([
        Task(title=f"Call {n}", contact_id=contact, assignee_id=owner or user.id,
             due_at=dt.datetime(2026, 2, 1 + n % 20, tzinfo=dt.UTC),
             completed_at=dt.datetime(2026, 2, 21, tzinfo=dt.UTC) if n % 3 == 0 else None)
        for n, (contact, owner) in enumerate(people)])
    for selector, params, table, index in (
            (selectors.company_list, {}, "contacts_company", "company_owner_name_idx"),
            (activities.task_list, {}, "activities_task", "task_assignee_due_idx"),
            (activities.task_list, {"status": "done"}, "activities_task",
             "task_assignee_done_due_idx")):
        plan = _plan_of(selector, user, params, table)
        if connection.vendor == "sqlite":
            reads = [line for line in plan.splitlines() if f" {table} " in f"{line} "]
        else:
            reads = [line.strip() for line in plan.splitlines() if f" on {table}" in line]
            assert not any(line.strip().removeprefix("->  ").startswith("Sort  (")
                           for line in plan.splitlines()), plan
        assert len(reads) == len(members), plan  # one walk per team member, merged
        if connection.vendor == "sqlite":
            assert all(index in line for line in reads), plan
        else:
            # With a handful of rows PostgreSQL may walk the sort index and filter by owner;
            # either way each member's page comes from an index, unsorted.
            assert all(line.removeprefix("->  ").startswith(("Index Scan", "Index Only Scan"))
                       for line in reads), plan


@pytest.mark.parametrize("role", ["manager", "sales"])
def test_done_tasks_newest_due_first_from_the_done_index(business, role):
    """One person's done tasks walk the done index in list order; a team's, merged per member,
    are the same rows in the same order as sorting them all."""
    from rapport.activities import selectors as activities
    from rapport.activities.models import Task

    user = business[role]
    people = list(selectors.visible_contacts(user).values_list("id", "owner_id")[:60])
    Task.objects.bulk_create([
        Task(title=f"Done {n}", contact_id=contact, assignee_id=owner or user.id,
             due_at=dt.datetime(2026, 1, 1 + n % 7, tzinfo=dt.UTC),  # ties: id decides
             completed_at=dt.datetime(2026, 1, 20, tzinfo=dt.UTC))
        for n, (contact, owner) in enumerate(people)])
    plan = _plan_of(activities.task_list, user, {"status": "done", "assignee": "me"},
                    "activities_task")
    if connection.vendor == "sqlite":
        reads = [line for line in plan.splitlines() if " activities_task " in f"{line} "]
        assert len(reads) == 1 and "task_assignee_done_due_idx" in reads[0], plan
        assert "TEMP B-TREE" not in plan, plan
    else:
        assert not any(line.strip().removeprefix("->  ").startswith("Sort  (")
                       for line in plan.splitlines()), plan
    done = activities.visible_tasks(user).filter(completed_at__isnull=False)
    expected = list(done.order_by("-due_at", "-id").values_list("id", flat=True))
    assert len(expected) > 20
    seen, cursor = [], None
    while True:  # every page, following the cursor
        page = activities.task_list(user=user, params={"status": "done", "limit": 20,
                                                        **({"cursor": cursor} if cursor else {})})
        seen.extend(task.id for task in page.items)
        cursor = page.next_cursor
        if not cursor:
            break
    assert seen == expected
