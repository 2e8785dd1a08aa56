"""What of a person a viewer is shown: never the name of a company they may not see.

A person can be linked to a company the viewer cannot see (an owner linked them, or the
company changed hands). Reads attach ``shown_company`` to each person: the company when the
viewer may see it, else None. Pages, exports and search show that, never ``company`` itself.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import BooleanField, Exists, OuterRef, QuerySet, Value

from rapport.contacts.models import Company, Contact
from rapport.core.permissions import scope_for


def with_company_shown(user: Any, people: QuerySet[Contact]) -> QuerySet[Contact]:
    """The people with ``company_is_shown`` worked out in the same query (no extra one)."""
    if scope_for(user, "companies.view") == "all":
        return people.annotate(company_is_shown=Value(True, output_field=BooleanField()))
    return people.annotate(company_is_shown=Exists(
        Company.objects.restrict(user, "view").filter(id=OuterRef("company_id"),
                                                      deleted_at__isnull=True)))


def attach_shown_companies(user: Any, people: Iterable[Contact]) -> None:
    """Set ``shown_company`` on each person (one query unless ``with_company_shown`` ran)."""
    people = list(people)
    unknown = {person.company_id for person in people
               if person.company_id and not hasattr(person, "company_is_shown")}
    visible: set[int] = set()
    if unknown:
        if scope_for(user, "companies.view") == "all":
            visible = unknown
        else:
            visible = set(Company.objects.restrict(user, "view")
                          .filter(id__in=unknown, deleted_at__isnull=True)
                          .values_list("id", flat=True))
    for person in people:
        shown = getattr(person, "company_is_shown", person.company_id in visible)
        person.shown_company = person.company if person.company_id and shown else None
