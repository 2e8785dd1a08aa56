"""Reads for people and companies, always scoped by restrict(user, action)."""

from __future__ import annotations

import json
from typing import Any

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet

from rapport.accounts.selectors import display_names
from rapport.contacts.models import (
    Company,
    CompanyTag,
    Contact,
    ContactTag,
    CustomFieldDefinition,
    SavedView,
    Tag,
)
from rapport.contacts.search import matching_companies
from rapport.contacts.shown import attach_shown_companies, with_company_shown
from rapport.core import registry
from rapport.core.errors import NotFound, ValidationFailed
from rapport.core.models import Event
from rapport.core.pagination import Page, keyset, merged_page, page_limit, page_of
from rapport.core.permissions import visible_owners
from rapport.core.validation import CONTROL_CHARACTERS, phone_value

# sort key -> (fields in order, descending?)
CONTACT_SORTS: dict[str, tuple[tuple[str, ...], bool]] = {
    "name": (("last_name", "first_name", "id"), False),
    "-name": (("last_name", "first_name", "id"), True),
    "created": (("id",), False),
    "-created": (("id",), True),
    "-updated": (("updated_at", "id"), True),
}


def _clean_params(params: dict[str, Any] | None) -> dict[str, Any]:
    """Drop empty filters and control characters (NUL breaks PostgreSQL and FTS5)."""
    cleaned = {}
    for key, value in (params or {}).items():
        if isinstance(value, str):
            value = "".join(ch for ch in value if ch not in CONTROL_CHARACTERS)
        if value not in (None, ""):
            cleaned[key] = value
    return cleaned


MAX_ID = 2**63 - 1


def _id_param(value: Any, name: str, reason: str) -> int:
    """A record id from a query string; out-of-range numbers are errors, not crashes."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ValidationFailed({name: reason}) from None
    if not 1 <= number <= MAX_ID:
        raise ValidationFailed({name: reason})
    return number


# What a list row never reads of the company and owner it joins (JSON and dates cost a
# conversion per row; the page shows a name).
OWNER_DEFERRED = ("owner__password", "owner__last_login", "owner__date_joined")
# What a row that shows a person by name (an order's, a task's) never reads of them.
CONTACT_NAME_DEFERRED = (
    "emails", "phones", "addresses", "notes", "preferences", "custom_fields", "search_text",
    "email_opt_in_at", "email_opt_in_source", "source", "created_at", "updated_at",
    "deleted_at")
# The contacts list's own rows: what the page shows and sorts by, nothing more.
CONTACT_ROW_DEFERRED = tuple(f for f in CONTACT_NAME_DEFERRED if f != "updated_at")


def joined_contact_deferred(path: str = "contact") -> tuple[str, ...]:
    """``CONTACT_NAME_DEFERRED`` for a contact joined through ``path`` (``select_related``)."""
    return tuple(f"{path}__{name}" for name in CONTACT_NAME_DEFERRED)
LISTED_RELATED_DEFERRED = (
    "company__address", "company__custom_fields", "company__created_at",
    "company__updated_at", "company__deleted_at", *OWNER_DEFERRED)


def attach_tag_names(rows: list[Any]) -> None:
    """Set ``tag_names`` (A–Z) on each contact or company of a page: one query of names for
    the whole page, no tag objects or per-row related managers."""
    if not rows:
        return
    link: type[ContactTag] | type[CompanyTag] = ContactTag
    key = "contact_id"
    if not isinstance(rows[0], Contact):
        link, key = CompanyTag, "company_id"
    names: dict[int, list[str]] = {row.id: [] for row in rows}
    for row_id, name in (link.objects.filter(**{f"{key}__in": list(names)})
                         .order_by("tag__name").values_list(key, "tag__name")):
        names[row_id].append(name)
    for row in rows:
        row.tag_names = names[row.id]


def visible_contacts(user, action: str = "view") -> QuerySet[Contact]:
    return Contact.objects.restrict(user, action).filter(deleted_at__isnull=True)


def visible_companies(user, action: str = "view") -> QuerySet[Company]:
    return Company.objects.restrict(user, action).filter(deleted_at__isnull=True)


def _custom_filters(object_type: str, params: dict[str, Any]) -> Q:
    condition = Q()
    wanted = {k[3:]: v for k, v in params.items() if k.startswith("cf_") and v not in ("", None)}
    if not wanted:
        return condition
    definitions = {
        d.key: d for d in CustomFieldDefinition.objects.filter(object_type=object_type,
                                                               key__in=list(wanted))
    }
    for key, raw in wanted.items():
        definition = definitions.get(key)
        if definition is None:
            raise ValidationFailed({f"cf_{key}": f"no custom field {key!r}"})
        try:
            value = definition.coerce(raw)
        except ValueError as error:
            raise ValidationFailed({f"cf_{key}": str(error)}) from None
        if definition.field_type == "text":
            condition &= Q(**{f"custom_fields__{key}__icontains": value})
        else:
            condition &= Q(**{f"custom_fields__{key}": value})
    return condition


def _owner_param(user, params: dict[str, Any]) -> int | str | None:
    """The ``owner`` filter: a user id, "none" (no owner), or None (anyone's)."""
    owner = params.get("owner")
    if owner == "me":
        return user.id
    if owner == "none" or not owner:
        return owner or None
    return _id_param(owner, "owner", "must be a user id, 'me' or 'none'")


def _filtered_contacts(user, params: dict[str, Any]) -> QuerySet[Contact]:
    queryset = _matching(visible_contacts(user), params)
    owner = _owner_param(user, params)
    if owner == "none":
        return queryset.filter(owner__isnull=True)
    return queryset.filter(owner_id=owner) if isinstance(owner, int) else queryset


def _matching(queryset: QuerySet[Contact], params: dict[str, Any]) -> QuerySet[Contact]:
    """The list filters other than the owner: stage, company, tag, custom fields."""
    if params.get("stage"):
        queryset = queryset.filter(lifecycle_stage=params["stage"])
    if params.get("company"):
        queryset = queryset.filter(company_id=_id_param(params["company"], "company",
                                                        "must be a company id"))
    if params.get("tag"):
        tag_id = Tag.objects.filter(name=str(params["tag"]).lower()).values_list(
            "id", flat=True).first()
        if tag_id is None:
            return queryset.none()
        queryset = queryset.filter(
            Exists(ContactTag.objects.filter(contact_id=OuterRef("id"), tag_id=tag_id))
        )
    return queryset.filter(_custom_filters("contact", params))


def contact_list(*, user, params: dict[str, Any] | None = None, rows_only: bool = False
                 ) -> Page:
    """One page of contacts, filtered and sorted, with a cursor for the next page.

    ``rows_only``: load only what the list page shows (not the API's whole record)."""
    params = _clean_params(params)
    sort = params.get("sort", "name")
    if sort not in CONTACT_SORTS:
        raise ValidationFailed({"sort": f"must be one of {', '.join(CONTACT_SORTS)}"})
    limit = page_limit(params)
    fields, descending = CONTACT_SORTS[sort]
    cursor = params.get("cursor")
    base = _matching(Contact.objects.filter(deleted_at__isnull=True), params)
    owners = visible_owners(user, "contacts.view")
    wanted = _owner_param(user, params)
    if wanted == "none":
        owners, base = ([] if owners is not None else None), base.filter(owner__isnull=True)
    elif isinstance(wanted, int):
        owners = [wanted] if owners is None or wanted in owners else []

    def shown(queryset: QuerySet[Contact]) -> QuerySet[Contact]:
        return with_company_shown(user, queryset).select_related("company", "owner") \
            .defer(*LISTED_RELATED_DEFERRED, *(CONTACT_ROW_DEFERRED if rows_only else ()))

    if owners is None or len(owners) == 1:
        # Everyone's records, or one person's: one ordered walk of one index.
        queryset = base if owners is None else base.filter(owner_id=owners[0])
        lead = () if owners is None else ("owner_id",)
        page = page_of(shown(keyset(queryset, fields, descending, cursor, lead=lead)), fields,
                       limit, params)
    else:
        # A team's records: each member's in order through (owner, sort) indexes, merged.
        page = merged_page([base.filter(owner_id=owner) for owner in owners], fields,
                           descending, cursor, limit, filters=params, lead=("owner_id",),
                           load=lambda ids: shown(Contact.objects.filter(id__in=ids)))
    attach_shown_companies(user, page.items)
    attach_tag_names(page.items)
    return page


EXPORT_COLUMNS = ("id", "first_name", "last_name", "emails", "phones", "job_title", "company",
                  "lifecycle_stage", "tags", "owner", "source", "email_opt_in", "do_not_call",
                  "preferences", "custom_fields", "created_at", "updated_at")


def contact_export_rows(*, user, params: dict[str, Any] | None = None, chunk: int = 2000):
    """Every visible contact matching the list filters, as rows of text, in id order.

    Walks the table by id in chunks so memory stays flat on a million rows.
    """

    params = _clean_params(params)
    queryset = _filtered_contacts(user, params)
    yield EXPORT_COLUMNS
    last_id = 0
    while True:
        rows = list(with_company_shown(user, queryset.filter(id__gt=last_id)).order_by("id")
                    .select_related("company", "owner")
                    .prefetch_related(Prefetch("tags", queryset=Tag.objects.order_by("name")))
                    [:chunk])
        if not rows:
            return
        attach_shown_companies(user, rows)
        for c in rows:
            yield (c.id, c.first_name, c.last_name, "; ".join(c.emails), "; ".join(c.phones),
                   c.job_title, c.shown_company.name if c.shown_company else "",
                   c.lifecycle_stage,
                   "; ".join(t.name for t in c.tags.all()), c.owner.email if c.owner else "",
                   c.source, c.email_opt_in, c.do_not_call, "; ".join(c.preferences),
                   json.dumps(c.custom_fields, ensure_ascii=False) if c.custom_fields else "",
                   c.created_at.isoformat(), c.updated_at.isoformat())
        last_id = rows[-1].id


def contact_get(*, user, contact_id: int) -> Contact:
    contact = (
        with_company_shown(user, visible_contacts(user))
        .select_related("company", "owner")
        .prefetch_related(Prefetch("tags", queryset=Tag.objects.order_by("name")))
        .filter(id=contact_id)
        .first()
    )
    if contact is None:
        raise NotFound(f"no contact with id {contact_id}")
    attach_shown_companies(user, [contact])
    return contact


def contacts_with_phone(*, user, phone: str, limit: int = 10) -> list[Contact]:
    """The people this user may see whose phones include ``phone``, typed in any format
    ("+44 20 7946 0018", "020 7946 0018" in the default region, "0044…"); ValueError when it
    is not a phone number. Stored phones are E.164, and their digits are in ``search_text``."""
    wanted = phone_value(phone)
    candidates = visible_contacts(user).filter(search_text__contains=wanted.lstrip("+"))
    found = []
    for contact in candidates.order_by("id")[:200]:
        for stored in contact.phones:
            try:
                same = phone_value(stored) == wanted
            except ValueError:
                same = False
            if same:
                found.append(contact)
                break
        if len(found) >= limit:
            break
    return found


def contact_timeline(*, user, contact_id: int | None = None, contact: Contact | None = None,
                     before: str | None = None, limit: int = 50) -> Page:
    """The newest events about one person (the 360° view's timeline), newest first.

    Give the ``contact`` when the caller loaded it for this user already; otherwise loading it
    here is the permission check.
    """
    if contact is None:
        if contact_id is None:
            raise NotFound("no contact given")
        contact = contact_get(user=user, contact_id=contact_id)
    contact_id = contact.id
    queryset = Event.objects.filter(contact_id=contact_id).select_related("actor")
    fields = ("occurred_at", "id")
    page = page_of(keyset(queryset, fields, True, before), fields, limit)
    rows = page.items
    _describe_changes(rows, user)
    kinds = registry.event_kinds()
    for event in rows:
        kind = kinds.get(event.kind)
        event.kind_label = kind.label if kind else event.kind
        event.template = (kind.timeline if kind and kind.timeline
                          else "contacts/timeline/_other.html")
        if event.is_erased:  # the person's values were erased from the log (docs/audit.md)
            event.template = "contacts/timeline/_erased.html"
    return page


def _names_for(snapshots: list[dict], user) -> dict[str, dict]:
    """Names for the company and owner ids found in event snapshots (two queries at most).

    Companies the user cannot see keep their id: their names never leak through a timeline.
    """
    company_ids, user_ids = set(), set()
    for side in snapshots:
        if side.get("company_id"):
            company_ids.add(side["company_id"])
        if side.get("owner_id"):
            user_ids.add(side["owner_id"])
    companies = dict(visible_companies(user).filter(id__in=company_ids).values_list("id", "name")) \
        if company_ids else {}
    return {"company_id": companies, "owner_id": display_names(user_ids=user_ids)}


def _show(names: dict[str, dict], key: str, value):
    return names[key].get(value, value) if key in names else value


def _describe_changes(events: list[Event], user) -> None:
    """Attach ``changes``: (field, before, after) with ids shown as names.

    For lists (preferences, tags, emails...) only what was added or removed is shown.
    """
    snapshots = [side for e in events for side in (e.before, e.after) if isinstance(side, dict)]
    names = _names_for(snapshots, user)
    for event in events:
        before = event.before if isinstance(event.before, dict) else {}
        after = event.after if isinstance(event.after, dict) else {}
        changes = []
        for key, value in after.items():
            old = before.get(key)
            if isinstance(value, list) and isinstance(old, list | None):
                old = old or []
                added = [v for v in value if v not in old]
                removed = [v for v in old if v not in value]
                changes.append((key, ("removed", removed), ("added", added)))
            else:
                changes.append((key, _show(names, key, old), _show(names, key, value)))
        event.changes = changes


def describe_snapshot(snapshot: dict, *, user) -> list[tuple[str, object]]:
    """A record's fields as (field, value) with ids shown as names, for conflict notices."""
    names = _names_for([snapshot], user)
    return [(key, _show(names, key, value)) for key, value in snapshot.items()
            if key != "version"]


def deleted_contacts(*, user) -> QuerySet[Contact]:
    """Soft-deleted contacts this user may restore (their own, or all for owners)."""
    return _deleted(Contact, user)


def deleted_companies(*, user) -> QuerySet[Company]:
    return _deleted(Company, user)


def _deleted(model, user):
    return model.objects.restrict(user, "restore").filter(
        deleted_at__isnull=False).order_by("-deleted_at")


def company_list(*, user, params: dict[str, Any] | None = None) -> Page:
    """Companies by name. A team's list (no search typed) is its members' lists merged, each
    read in order through the (owner, name) index: sorting every company a team owns took
    a seventh of a second at 50,000 companies."""
    params = _clean_params(params)
    queryset = visible_companies(user)
    if params.get("q"):
        queryset = matching_companies(queryset, str(params["q"]).strip())
    if params.get("owner") == "me":
        queryset = queryset.filter(owner_id=user.id)
    if params.get("tag"):
        queryset = queryset.filter(tags__name=str(params["tag"]).lower())
    queryset = queryset.filter(_custom_filters("company", params))
    fields = ("name", "id")
    limit = page_limit(params)

    def shown(companies: QuerySet[Company]) -> QuerySet[Company]:
        return companies.select_related("owner").defer(*OWNER_DEFERRED)

    owners = visible_owners(user, "companies.view")
    if owners and len(owners) > 1 and not params.get("q") and params.get("owner") != "me":
        page = merged_page([queryset.filter(owner_id=owner) for owner in owners], fields,
                           False, params.get("cursor"), limit, filters=params,
                           lead=("owner_id",),
                           load=lambda ids: shown(Company.objects.filter(id__in=ids)))
    else:
        one_owner = params.get("owner") == "me" or (owners is not None and len(owners) == 1)
        owner_lead = ("owner_id",) if one_owner else ()
        queryset = keyset(queryset, fields, False, params.get("cursor"), lead=owner_lead)
        page = page_of(shown(queryset), fields, limit, params)
    attach_tag_names(page.items)
    return page


def company_get(*, user, company_id: int) -> Company:
    company = (
        visible_companies(user).select_related("owner").prefetch_related("tags")
        .filter(id=company_id).first()
    )
    if company is None:
        raise NotFound(f"no company with id {company_id}")
    return company


def company_contacts(*, user, company_id: int, limit: int = 100) -> list[Contact]:
    return list(visible_contacts(user).filter(company_id=company_id)
                .order_by("last_name", "first_name", "id")[:limit])


def custom_field_list(*, object_type: str | None = None) -> QuerySet[CustomFieldDefinition]:
    queryset = CustomFieldDefinition.objects.order_by("object_type", "label")
    if object_type:
        queryset = queryset.filter(object_type=object_type)
    return queryset


def tag_list() -> QuerySet[Tag]:
    return Tag.objects.order_by("name")


def saved_view_list(*, user, object_type: str = "contact") -> QuerySet[SavedView]:
    return SavedView.objects.filter(user=user, object_type=object_type).order_by("name")


def company_id_by_name(*, user, name: str) -> int | None:
    """The visible company with exactly this name (case-insensitive), for forms."""
    return (visible_companies(user).filter(name__iexact=name.strip())
            .order_by("id").values_list("id", flat=True).first())


def company_names(*, user, limit: int = 500) -> list[str]:
    return list(visible_companies(user).order_by("name").values_list("name", flat=True)[:limit])


def contacts_exist() -> bool:
    """Whether the business has anyone at all (the demo loads only into an empty one)."""
    return Contact.objects.exists()


def owner_ids(*, contact_ids: set[int] | list[int]) -> dict[int, int | None]:
    """Who owns each of these people (for writers that act on their behalf, e.g. the demo)."""
    return dict(Contact.objects.filter(id__in=contact_ids).values_list("id", "owner_id"))


def contacts_by_email(*, user, emails: list[str] | set[str]) -> dict[str, dict[str, Any]]:
    """The live people this user may see whose (primary) address is one of ``emails``, by
    address: ``{"id", "owner_id", "company_id"}`` (the oldest when two share one)."""
    found: dict[str, dict[str, Any]] = {}
    rows = (visible_contacts(user).filter(primary_email__in=list(emails))
            .order_by("id").values_list("primary_email", "id", "owner_id", "company_id"))
    for email, contact_id, owner_id, company_id in rows:
        found.setdefault(email, {"id": contact_id, "owner_id": owner_id,
                                 "company_id": company_id})
    return found


def known_emails(*, emails: list[str] | set[str]) -> set[str]:
    """Which of these addresses belong to someone, visible to the asker or not (so a writer
    never makes a second person for an address it may not see)."""
    return set(Contact.objects.filter(primary_email__in=list(emails), deleted_at__isnull=True)
               .values_list("primary_email", flat=True))


def company_id_by_domain(*, user, domain: str) -> int | None:
    """The visible company whose web domain this is."""
    return (visible_companies(user).filter(domain=domain.lower().strip())
            .order_by("id").values_list("id", flat=True).first())
