"""Reads for people and companies, always scoped by restrict(user, action)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from rapidfuzz import fuzz

from rapport.contacts.models import (
    Company,
    Contact,
    ContactTag,
    CustomFieldDefinition,
    NameWord,
    SavedView,
    Tag,
)
from rapport.contacts.services import NAME_VOCABULARY_CACHE_KEY, fold
from rapport.core.errors import NotFound, ValidationFailed
from rapport.core.models import Event
from rapport.core.pagination import PAGE_SIZE, Page, encode_cursor, keyset, page_limit
from rapport.core.permissions import restrict, scope_for
from rapport.core.validation import CONTROL_CHARACTERS

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


def visible_contacts(user, action: str = "view") -> QuerySet[Contact]:
    return restrict(Contact.objects.filter(deleted_at__isnull=True), user, action)


def visible_companies(user, action: str = "view") -> QuerySet[Company]:
    return restrict(Company.objects.filter(deleted_at__isnull=True), user, action)


def _custom_filters(object_type: str, params: dict[str, Any]) -> Q:
    condition = Q()
    wanted = {k[3:]: v for k, v in params.items() if k.startswith("cf_") and v not in ("", None)}
    if not wanted:
        return condition
    definitions = {
        d.key: d for d in CustomFieldDefinition.objects.filter(object_type=object_type,
                                                               key__in=list(wanted))
    }
    from rapport.contacts.services import coerce_custom_value

    for key, raw in wanted.items():
        definition = definitions.get(key)
        if definition is None:
            raise ValidationFailed({f"cf_{key}": f"no custom field {key!r}"})
        try:
            value = coerce_custom_value(definition, raw)
        except ValueError as error:
            raise ValidationFailed({f"cf_{key}": str(error)}) from None
        if definition.field_type == "text":
            condition &= Q(**{f"custom_fields__{key}__icontains": value})
        else:
            condition &= Q(**{f"custom_fields__{key}": value})
    return condition


def _filtered_contacts(user, params: dict[str, Any]) -> QuerySet[Contact]:
    queryset = visible_contacts(user)
    owner = params.get("owner")
    if owner == "me":
        queryset = queryset.filter(owner_id=user.id)
    elif owner == "none":
        queryset = queryset.filter(owner__isnull=True)
    elif owner:
        queryset = queryset.filter(owner_id=_id_param(owner, "owner",
                                                      "must be a user id, 'me' or 'none'"))
    if params.get("stage"):
        queryset = queryset.filter(lifecycle_stage=params["stage"])
    if params.get("company"):
        queryset = queryset.filter(company_id=_id_param(params["company"], "company",
                                                        "must be a company id"))
    if params.get("tag"):
        tag_id = Tag.objects.filter(name=str(params["tag"]).lower()).values_list(
            "id", flat=True).first()
        queryset = queryset.filter(
            Exists(ContactTag.objects.filter(contact_id=OuterRef("id"), tag_id=tag_id))
        )
    return queryset.filter(_custom_filters("contact", params))


def contact_list(*, user, params: dict[str, Any] | None = None) -> Page:
    """One page of contacts, filtered and sorted, with a cursor for the next page."""
    params = _clean_params(params)
    sort = params.get("sort", "name")
    if sort not in CONTACT_SORTS:
        raise ValidationFailed({"sort": f"must be one of {', '.join(CONTACT_SORTS)}"})
    limit = page_limit(params)
    queryset = _filtered_contacts(user, params)
    fields, descending = CONTACT_SORTS[sort]
    queryset = keyset(queryset, fields, descending, params.get("cursor"))
    rows = list(
        queryset.select_related("company", "owner")
        .prefetch_related(Prefetch("tags", queryset=Tag.objects.order_by("name")))[: limit + 1]
    )
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        next_cursor = encode_cursor([getattr(last, f) for f in fields])
    return Page(items=rows, next_cursor=next_cursor, filters=params)


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
        rows = list(queryset.filter(id__gt=last_id).order_by("id")
                    .select_related("company", "owner")
                    .prefetch_related(Prefetch("tags", queryset=Tag.objects.order_by("name")))
                    [:chunk])
        if not rows:
            return
        for c in rows:
            yield (c.id, c.first_name, c.last_name, "; ".join(c.emails), "; ".join(c.phones),
                   c.job_title, c.company.name if c.company_id else "", c.lifecycle_stage,
                   "; ".join(t.name for t in c.tags.all()), c.owner.email if c.owner_id else "",
                   c.source, c.email_opt_in, c.do_not_call, "; ".join(c.preferences),
                   json.dumps(c.custom_fields, ensure_ascii=False) if c.custom_fields else "",
                   c.created_at.isoformat(), c.updated_at.isoformat())
        last_id = rows[-1].id


def contact_get(*, user, contact_id: int) -> Contact:
    contact = (
        visible_contacts(user)
        .select_related("company", "owner")
        .prefetch_related(Prefetch("tags", queryset=Tag.objects.order_by("name")))
        .filter(id=contact_id)
        .first()
    )
    if contact is None:
        raise NotFound(f"no contact with id {contact_id}")
    return contact


def contact_timeline(*, user, contact_id: int, before: str | None = None,
                     limit: int = 50) -> Page:
    """The newest events about one person (the 360° view's timeline), newest first."""
    contact_get(user=user, contact_id=contact_id)  # permission check
    queryset = Event.objects.filter(contact_id=contact_id).select_related("actor")
    queryset = keyset(queryset, ("occurred_at", "id"), True, before)
    rows = list(queryset[: limit + 1])
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = encode_cursor([rows[-1].occurred_at, rows[-1].id])
    _describe_changes(rows)
    return Page(items=rows, next_cursor=next_cursor)


def _names_for(snapshots: list[dict]) -> dict[str, dict]:
    """Names for the company and owner ids found in event snapshots (two queries at most)."""
    from rapport.accounts.models import User

    company_ids, user_ids = set(), set()
    for side in snapshots:
        if side.get("company_id"):
            company_ids.add(side["company_id"])
        if side.get("owner_id"):
            user_ids.add(side["owner_id"])
    companies = dict(Company.objects.filter(id__in=company_ids).values_list("id", "name")) \
        if company_ids else {}
    users = {u.id: u.display_name for u in User.objects.filter(id__in=user_ids)} \
        if user_ids else {}
    return {"company_id": companies, "owner_id": users}


def _show(names: dict[str, dict], key: str, value):
    return names[key].get(value, value) if key in names else value


def _describe_changes(events: list[Event]) -> None:
    """Attach ``changes``: (field, before, after) with ids shown as names.

    For lists (preferences, tags, emails...) only what was added or removed is shown.
    """
    snapshots = [side for e in events for side in (e.before, e.after) if isinstance(side, dict)]
    names = _names_for(snapshots)
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


def describe_snapshot(snapshot: dict) -> list[tuple[str, object]]:
    """A record's fields as (field, value) with ids shown as names, for conflict notices."""
    names = _names_for([snapshot])
    return [(key, _show(names, key, value)) for key, value in snapshot.items()
            if key != "version"]


def deleted_contacts(*, user) -> QuerySet[Contact]:
    """Soft-deleted contacts this user may restore (their own, or all for owners)."""
    return _deleted(Contact, user)


def deleted_companies(*, user) -> QuerySet[Company]:
    return _deleted(Company, user)


def _deleted(model, user):
    queryset = model.objects.filter(deleted_at__isnull=False).order_by("-deleted_at")
    if user.role != "owner":
        queryset = queryset.filter(owner_id=user.id)
    return queryset


def company_list(*, user, params: dict[str, Any] | None = None) -> Page:
    params = _clean_params(params)
    queryset = visible_companies(user)
    if params.get("q"):
        queryset = queryset.filter(Q(name__icontains=params["q"]) |
                                   Q(domain__icontains=params["q"]))
    if params.get("owner") == "me":
        queryset = queryset.filter(owner_id=user.id)
    if params.get("tag"):
        queryset = queryset.filter(tags__name=str(params["tag"]).lower())
    queryset = queryset.filter(_custom_filters("company", params))
    queryset = keyset(queryset, ("name", "id"), False, params.get("cursor"))
    rows = list(queryset.select_related("owner").prefetch_related("tags")[: PAGE_SIZE + 1])
    next_cursor = None
    if len(rows) > PAGE_SIZE:
        rows = rows[:PAGE_SIZE]
        next_cursor = encode_cursor([rows[-1].name, rows[-1].id])
    return Page(items=rows, next_cursor=next_cursor, filters=params)


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


# --- search --------------------------------------------------------------------------------

@dataclass
class SearchHit:
    type: str
    id: int
    title: str
    subtitle: str
    url: str
    score: float


PHONE_LIKE = re.compile(r"^[\d\s+().\-/]+$")


def _normalise_query(q: str) -> str:
    # Control characters (NUL above all) mean nothing in a search and break FTS5 and PostgreSQL.
    q = "".join(" " if ch in CONTROL_CHARACTERS else ch for ch in q)
    q = fold(q.strip())
    if PHONE_LIKE.match(q) and sum(ch.isdigit() for ch in q) >= 4:
        # Leading zeros are trunk or international prefixes (020..., 0044...), never stored.
        return "".join(ch for ch in q if ch.isdigit()).lstrip("0")
    return re.sub(r"\s+", " ", q)


def _fts_phrase(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


# Search works on bounded candidate sets: a common name or a 3-letter prefix matches tens of
# thousands of people at 1M contacts, and sorting (or bm25-ranking) all of them costs seconds.
SEARCH_CANDIDATES = 200
NAME_LIKE = re.compile(r"^[^\d@]+$")  # typo tolerance is for names, not emails or phones


def _rank_candidates(rows: list[tuple[int, str, str]], q: str, limit: int) -> list[int]:
    """Names that start with what was typed first, then alphabetical."""
    rows.sort(key=lambda r: (not (fold(r[1]).startswith(q) or fold(r[2]).startswith(q)),
                             r[1], r[2], r[0]))
    return [r[0] for r in rows[:limit]]


def _contact_ids_sqlite(q: str, limit: int, visible: QuerySet) -> list[int]:
    if len(q) < 3:
        return list(visible.filter(Q(first_name__istartswith=q) | Q(last_name__istartswith=q))
                    .order_by("last_name", "first_name", "id").values_list("id", flat=True)[:limit])
    with connection.cursor() as cursor:
        # No ORDER BY: FTS5 stops after the first SEARCH_CANDIDATES matches.
        cursor.execute("SELECT rowid FROM contact_fts WHERE contact_fts MATCH %s LIMIT %s",
                       [_fts_phrase(q), SEARCH_CANDIDATES])
        candidates = [row[0] for row in cursor.fetchall()]
    rows = list(visible.filter(id__in=candidates).values_list("id", "last_name", "first_name"))
    return _rank_candidates(rows, q, limit)


def _visible_rows(condition: Q, visible: QuerySet,
                  unrestricted: bool) -> list[tuple[int, str, str]]:
    """Matching people this user may see, from a bounded candidate set.

    Candidates come first without the visibility filter: combined with it, PostgreSQL ANDs a
    bitmap of every row the user's team owns (300,000 at a million people) into each search.
    """
    if unrestricted:
        return list(Contact.objects.filter(condition, deleted_at__isnull=True).order_by()
                    .values_list("id", "last_name", "first_name")[:SEARCH_CANDIDATES])
    ids = list(Contact.objects.filter(condition, deleted_at__isnull=True).order_by()
               .values_list("id", flat=True)[:SEARCH_CANDIDATES * 3])
    return list(visible.filter(id__in=ids).values_list("id", "last_name", "first_name")
                [:SEARCH_CANDIDATES])


def _contact_ids_postgres(q: str, limit: int, visible: QuerySet,
                          unrestricted: bool = False) -> list[int]:
    if NAME_LIKE.match(q) and " " not in q:
        # A common surname ("ball") matches tens of thousands of trigram rows; names that start
        # with it come straight from the UPPER(name) pattern indexes (migration 0005).
        rows = _visible_rows(Q(last_name__istartswith=q) | Q(first_name__istartswith=q),
                             visible, unrestricted)
        if len(rows) >= limit:
            return _rank_candidates(rows, q, limit)
    # Unordered with a LIMIT: the trigram index (rare terms) or a short scan (common ones).
    # ORDER BY last_name made PostgreSQL walk the name index past 800,000 rows for "smith".
    return _rank_candidates(_visible_rows(Q(search_text__contains=q), visible, unrestricted),
                            q, limit)


VOCABULARY_CACHE_SECONDS = 60
# Typo tolerance is a fallback: it runs when the exact search finds almost nobody.
FUZZY_WHEN_FEWER_THAN = 3


def _name_vocabulary() -> list[str]:
    """All folded name words, cached for a minute per process (a few thousand strings)."""
    from django.core.cache import cache

    words = cache.get(NAME_VOCABULARY_CACHE_KEY)
    if words is None:
        words = list(NameWord.objects.values_list("word", flat=True))
        cache.set(NAME_VOCABULARY_CACHE_KEY, words, VOCABULARY_CACHE_SECONDS)
    return words


def corrected_name_words(q: str, *, per_word: int = 3) -> list[list[str]]:
    """For each word typed, the known name words within a typo or two ("mullr" -> "muller").

    Words under four letters are too short to correct and constrain nothing; a word with no
    close match is skipped too (it may be the start of a name the exact search handles).
    """
    from rapidfuzz import process

    vocabulary = _name_vocabulary()
    groups: list[list[str]] = []
    for word in q.replace("-", " ").split():
        if len(word) < 4:
            continue
        cutoff = 75 if len(word) <= 5 else 80
        matches = [m for m, _score, _i in process.extract(
            word, vocabulary, scorer=fuzz.ratio, score_cutoff=cutoff, limit=per_word)]
        if matches:
            groups.append(matches)
    return groups


def _fuzzy_candidates(q: str, visible: QuerySet, postgres: bool,
                      unrestricted: bool = False) -> list[int]:
    """People whose names hold a corrected spelling of every word typed (bounded)."""
    if not NAME_LIKE.match(q):
        return []
    groups = corrected_name_words(q)
    if not groups:
        return []
    if postgres:
        condition = Q()
        for group in groups:
            either = Q()
            for word in group:
                either |= Q(search_text__contains=word)
            condition &= either
        return [row[0] for row in _visible_rows(condition, visible, unrestricted)]
    match = " AND ".join("(" + " OR ".join(_fts_phrase(w) for w in group) + ")"
                         for group in groups)
    with connection.cursor() as cursor:
        cursor.execute("SELECT rowid FROM contact_fts WHERE contact_fts MATCH %s LIMIT %s",
                       [match, SEARCH_CANDIDATES])
        ids = [row[0] for row in cursor.fetchall()]
    return list(visible.filter(id__in=ids).values_list("id", flat=True))


def search(*, user, q: str, limit: int = 20) -> list[SearchHit]:
    """Contacts and companies matching a name, email, phone (any format) or company.

    Exact substring matches first; when there are few, names within a typo or two follow.
    """
    q = (q or "").strip()
    if not q:
        return []
    if len(q) > 200:
        raise ValidationFailed({"q": "at most 200 characters"})
    limit = max(1, min(limit, 50))
    needle = _normalise_query(q)
    if not needle:
        return []
    visible = visible_contacts(user)
    postgres = connection.vendor == "postgresql"
    unrestricted = scope_for(user, "view") == "all"
    if postgres:
        ids = _contact_ids_postgres(needle, limit, visible, unrestricted)
    else:
        ids = _contact_ids_sqlite(needle, limit, visible)
    scored: list[tuple[float, str, int]] = []
    if len(ids) < FUZZY_WHEN_FEWER_THAN and len(needle) >= 4 and not needle.isdigit():
        candidates = _fuzzy_candidates(needle, visible, postgres, unrestricted)
        seen = set(ids)
        # Score names only; load the few people that made it (not 500 model instances).
        for contact_id, first, last in Contact.objects.filter(id__in=candidates).values_list(
                "id", "first_name", "last_name"):
            if contact_id not in seen:
                score = name_similarity(needle, fold(f"{first} {last}".strip()))
                if score >= FUZZY_THRESHOLD:
                    scored.append((score, last, contact_id))
        scored.sort(key=lambda item: (-item[0], item[1], item[2]))
        scored = scored[: limit - len(ids)]
    contacts = {c.id: c for c in Contact.objects.filter(id__in=ids + [i for _, _, i in scored])
                .select_related("company")}
    hits: list[SearchHit] = [_contact_hit(contacts[i], 100.0) for i in ids]
    hits.extend(_contact_hit(contacts[i], float(score)) for score, _, i in scored)
    company_q = "".join(ch for ch in q if ch not in CONTROL_CHARACTERS).strip()
    companies: list[Company] = []
    if company_q and NAME_LIKE.match(company_q):  # phones and emails name no company
        # Unordered with a LIMIT, sorted here: ORDER BY name scans the name index.
        companies = sorted(visible_companies(user).filter(
            Q(name__icontains=company_q) | Q(domain__icontains=company_q)).order_by()[:50],
            key=lambda c: (c.name, c.id))[:5]
    hits.extend(
        SearchHit(type="company", id=c.id, title=c.name, subtitle=c.domain or c.industry,
                  url=f"/companies/{c.id}/", score=100.0)
        for c in companies
    )
    return hits[: limit + 5]


FUZZY_THRESHOLD = 80


def name_similarity(needle: str, name: str) -> float:
    """0-100: how close a typed name is to a stored one, allowing a typo or two.

    One word is compared with each word of the name ("mullr" ~ "muller"), several words with
    the whole name in any order ("ana müller" ~ "Anna Müller"), so short fragments such as
    "mar" inside "Tamara" do not count as matches.
    """
    words = name.split()
    if " " not in needle:
        return max([fuzz.ratio(needle, word) for word in words] + [fuzz.ratio(needle, name)])
    return fuzz.token_sort_ratio(needle, name)


def _contact_hit(contact: Contact, score: float) -> SearchHit:
    detail = contact.primary_email or (contact.phones[0] if contact.phones else "")
    if contact.company_id:
        detail = f"{detail} · {contact.company.name}" if detail else contact.company.name
    return SearchHit(type="contact", id=contact.id, title=contact.full_name, subtitle=detail,
                     url=f"/contacts/{contact.id}/", score=score)


def company_id_by_name(*, user, name: str) -> int | None:
    """The visible company with exactly this name (case-insensitive), for forms."""
    return (visible_companies(user).filter(name__iexact=name.strip())
            .order_by("id").values_list("id", flat=True).first())


def company_names(*, user, limit: int = 500) -> list[str]:
    return list(visible_companies(user).order_by("name").values_list("name", flat=True)[:limit])
