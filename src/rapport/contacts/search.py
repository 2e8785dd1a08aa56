"""Finding people and companies by any scrap of a name, email or phone number.

Two parts: the search index each write keeps current (``search_text``, the SQLite FTS5 table
kept by triggers, the vocabulary of name words for typo tolerance), and the two providers the
global search box asks (:func:`people` and :func:`companies`).

Search works on bounded candidate sets: a common name or a three-letter prefix matches tens of
thousands of people at a million contacts, and sorting or ranking all of them costs seconds.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from django.core.cache import cache
from django.db import connection
from django.db.models import Q, QuerySet, Value
from django.db.models.functions import Concat, Length, Substr
from rapidfuzz import fuzz, process

from rapport.contacts.models import Company, Contact, NameWord
from rapport.contacts.shown import attach_shown_companies
from rapport.core.registry import SearchHit
from rapport.core.text import fold
from rapport.core.validation import CONTROL_CHARACTERS, phone_search_forms

NAME_VOCABULARY_CACHE_KEY = "contacts:name-vocabulary"
VOCABULARY_CACHE_SECONDS = 60
SEARCH_CANDIDATES = 200
# Typo tolerance is a fallback: it runs when the exact search finds almost nobody.
FUZZY_WHEN_FEWER_THAN = 3
FUZZY_THRESHOLD = 80
COMPANY_HITS = 5
PHONE_LIKE = re.compile(r"^[\d\s+().\-/]+$")
NAME_LIKE = re.compile(r"^[^\d@]+$")  # typo tolerance is for names, not emails or phones


# --- the index ----------------------------------------------------------------------------------

def build_search_text(*, first_name: str, last_name: str, emails: Iterable[str],
                      phones: Iterable[str], company_name: str = "") -> str:
    """Lower-cased name, emails, phone digits and company name: what search matches against.

    The company's name comes last, so a rename can replace it in one statement.
    """
    parts = [f"{first_name} {last_name}".strip(), *emails]
    for phone in phones:
        parts.extend(phone_search_forms(phone))
    if company_name:
        parts.append(company_name)
    return fold(" | ".join(p for p in parts if p))


def contact_search_text(contact: Contact) -> str:
    company_name = ""
    if contact.company_id:
        company_name = (Company.objects.filter(id=contact.company_id)
                        .values_list("name", flat=True).first() or "")
    return build_search_text(first_name=contact.first_name, last_name=contact.last_name,
                             emails=contact.emails, phones=contact.phones,
                             company_name=company_name)


def company_renamed(*, company_id: int, old_name: str, new_name: str) -> int:
    """Every contact of the company finds it by its new name: one set-based statement."""
    old, new = fold(old_name), fold(new_name)
    return Contact.objects.filter(company_id=company_id).update(
        search_text=Concat(Substr("search_text", 1, Length("search_text") - len(old)),
                           Value(new)))


def name_words(*names: str) -> set[str]:
    """The folded words of names, as typo-tolerant search knows them."""
    return {w for name in names for w in fold(name).replace("-", " ").split() if 2 <= len(w) <= 100}


def remember_name_words(*names: str) -> None:
    words = name_words(*names)
    if words:
        NameWord.objects.bulk_create([NameWord(word=w) for w in words], ignore_conflicts=True)
        # This process sees new names at once; other processes within a minute.
        cache.delete(NAME_VOCABULARY_CACHE_KEY)


def name_vocabulary_rebuild(*, contact_model: Any = None, word_model: Any = None,
                            batch: int = 5000) -> int:
    """Fill the name vocabulary from every contact (after bulk loads that bypass services)."""
    contact_model = contact_model or Contact
    word_model = word_model or NameWord
    words: set[str] = set()
    for column in ("first_name", "last_name"):
        for value in contact_model.objects.values_list(column, flat=True).distinct().iterator(
                chunk_size=batch):
            words |= name_words(value)
    existing = set(word_model.objects.values_list("word", flat=True))
    new = sorted(words - existing)
    for start in range(0, len(new), batch):
        word_model.objects.bulk_create([word_model(word=w) for w in new[start:start + batch]],
                                       ignore_conflicts=True)
    cache.delete(NAME_VOCABULARY_CACHE_KEY)
    return len(new)


# --- finding people -----------------------------------------------------------------------------

def _live_people(user: Any) -> QuerySet[Contact]:
    return Contact.objects.restrict(user, "view").filter(deleted_at__isnull=True)


def _normalise_query(q: str) -> str:
    q = fold(q.strip())
    if PHONE_LIKE.match(q) and sum(ch.isdigit() for ch in q) >= 4:
        # Leading zeros are trunk or international prefixes (020..., 0044...), never stored.
        return "".join(ch for ch in q if ch.isdigit()).lstrip("0")
    return re.sub(r"\s+", " ", q)


def _fts_phrase(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def _rank_candidates(rows: list[tuple[int, str, str]], q: str, limit: int) -> list[int]:
    """Names that start with what was typed first, then alphabetical."""
    rows.sort(key=lambda r: (not (fold(r[1]).startswith(q) or fold(r[2]).startswith(q)),
                             r[1], r[2], r[0]))
    return [r[0] for r in rows[:limit]]


def _fts_rows(match: str, visible: QuerySet) -> list[tuple[int, str, str]]:
    """People this user may see whose search text matches an FTS5 query, at most
    SEARCH_CANDIDATES of them.

    The full-text table is joined to the people the user may see, so the candidates are
    theirs: FTS5 drives the join (a MATCH is the cheapest way in) and stops once enough
    visible people are found, however many other people share the name.
    """
    return list(visible.extra(  # noqa: S610 - a fixed join; the query is a bound parameter
        tables=["contact_fts"],
        where=["contact_fts.rowid = contacts_contact.id", "contact_fts MATCH %s"],
        params=[match]).order_by().values_list("id", "last_name", "first_name")
        [:SEARCH_CANDIDATES])


def _contact_ids_sqlite(q: str, limit: int, visible: QuerySet) -> list[int]:
    if len(q) < 3:
        return list(visible.filter(Q(first_name__istartswith=q) | Q(last_name__istartswith=q))
                    .order_by("last_name", "first_name", "id").values_list("id", flat=True)[:limit])
    return _rank_candidates(_fts_rows(_fts_phrase(q), visible), q, limit)


def _visible_rows(condition: Q, visible: QuerySet) -> list[tuple[int, str, str]]:
    """Matching people this user may see, at most SEARCH_CANDIDATES: the visibility condition
    is part of the search, so a user's own people are found however many others match."""
    return list(visible.filter(condition).order_by()
                .values_list("id", "last_name", "first_name")[:SEARCH_CANDIDATES])


def _contact_ids_postgres(q: str, limit: int, visible: QuerySet) -> list[int]:
    if NAME_LIKE.match(q) and " " not in q:
        # A common surname ("ball") matches tens of thousands of trigram rows; names that start
        # with it come straight from the UPPER(name) pattern indexes (migration 0005).
        rows = _visible_rows(Q(last_name__istartswith=q) | Q(first_name__istartswith=q),
                             visible)
        if len(rows) >= limit:
            return _rank_candidates(rows, q, limit)
    # Unordered with a LIMIT: the trigram index (rare terms) or a short scan (common ones).
    # ORDER BY last_name made PostgreSQL walk the name index past 800,000 rows for "smith".
    return _rank_candidates(_visible_rows(Q(search_text__contains=q), visible), q, limit)


def _name_vocabulary() -> list[str]:
    """All folded name words, cached for a minute per process (a few thousand strings)."""
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


def _fuzzy_candidates(q: str, visible: QuerySet, postgres: bool) -> list[int]:
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
        return [row[0] for row in _visible_rows(condition, visible)]
    match = " AND ".join("(" + " OR ".join(_fts_phrase(w) for w in group) + ")"
                         for group in groups)
    return [row[0] for row in _fts_rows(match, visible)]


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
    if contact.shown_company:
        name = contact.shown_company.name
        detail = f"{detail} · {name}" if detail else name
    return SearchHit(type="contact", id=contact.id, title=contact.full_name, subtitle=detail,
                     url=f"/contacts/{contact.id}/", score=score)


def people(*, user: Any, q: str, limit: int = 20) -> list[SearchHit]:
    """People matching a name, email or phone (any format), or their company's name.

    Exact substring matches first; when there are few, names within a typo or two follow.
    """
    needle = _normalise_query(q)
    if not needle:
        return []
    visible = _live_people(user)
    postgres = connection.vendor == "postgresql"
    if postgres:
        ids = _contact_ids_postgres(needle, limit, visible)
    else:
        ids = _contact_ids_sqlite(needle, limit, visible)
    scored: list[tuple[float, str, int]] = []
    if len(ids) < FUZZY_WHEN_FEWER_THAN and len(needle) >= 4 and not needle.isdigit():
        candidates = _fuzzy_candidates(needle, visible, postgres)
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
    attach_shown_companies(user, contacts.values())
    hits = [_contact_hit(contacts[i], 100.0) for i in ids]
    hits.extend(_contact_hit(contacts[i], float(score)) for score, _, i in scored)
    return hits


def matching_companies(companies: QuerySet[Company], q: str) -> QuerySet[Company]:
    """The companies whose name or web domain contains ``q`` (any case).

    SQLite answers from its FTS5 trigram index (migration 0007) once there are three letters
    to look up; PostgreSQL from its trigram GIN indexes (migration 0004).
    """
    if connection.vendor == "sqlite" and len(q) >= 3:
        return companies.extra(  # noqa: S610 - a fixed join; the query is a bound parameter
            tables=["company_fts"],
            where=["company_fts.rowid = contacts_company.id", "company_fts MATCH %s"],
            params=[_fts_phrase(q)])
    return companies.filter(Q(name__icontains=q) | Q(domain__icontains=q))


def companies(*, user: Any, q: str, limit: int = 20) -> list[SearchHit]:
    """Companies whose name or web domain contains what was typed (not for phones/emails)."""
    q = "".join(ch for ch in q if ch not in CONTROL_CHARACTERS).strip()
    if not q or not NAME_LIKE.match(q):
        return []
    # Unordered with a LIMIT, sorted here: ORDER BY name scans the name index.
    visible = Company.objects.restrict(user, "view").filter(deleted_at__isnull=True)
    found = sorted(matching_companies(visible, q).order_by()[:50],
                   key=lambda c: (c.name, c.id))[:COMPANY_HITS]
    return [SearchHit(type="company", id=c.id, title=c.name, subtitle=c.domain or c.industry,
                      url=f"/companies/{c.id}/", score=100.0) for c in found]
