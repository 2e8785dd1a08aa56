import datetime as dt
import json

import numpy as np
import pytest
from django.db import connection

from rapport.accounts.models import User
from rapport.contacts.models import Company, Contact, ContactTag
from rapport.contacts.search import build_search_text
from rapport.contacts.services import contact_snapshot
from rapport.core.events import verify_chain
from rapport.core.models import AuditHead, Event
from rapport.core.search import search_everything
from rapport.core.validation import normalise_email, normalise_phone
from rapport.dataio import seed as seeding
from rapport.dataio.seed import seed_run

AS_OF = dt.date(2026, 1, 31)


def _index_names() -> set[str]:
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT name FROM sqlite_master WHERE type IN ('index', 'trigger') "
                           "AND tbl_name IN ('contacts_contact', 'core_event', "
                           "'contacts_contacttag', 'contacts_company')")
        else:
            cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename IN "
                           "('contacts_contact', 'core_event', 'contacts_contacttag', "
                           "'contacts_company')")
        return {row[0] for row in cursor.fetchall()}


@pytest.fixture
def seeded(db):
    return seed_run(contacts=120, companies=12, events_per_contact=4, seed=7, as_of=AS_OF)


def test_seed_creates_the_requested_counts(seeded):
    assert seeded.contacts == 120
    assert seeded.companies == 12
    assert Contact.objects.count() == 120
    assert Company.objects.count() == 12
    assert seeded.events == Event.objects.filter(kind__in=(
        "contact.created", "company.created", "note.added", "contact.updated")).count()
    assert Event.objects.filter(kind="contact.created").count() == 120
    assert Event.objects.filter(kind="company.created").count() == 12
    # About four events per person, creation included.
    per_person = Event.objects.filter(contact_id__isnull=False).count() / 120
    assert 3 <= per_person <= 5
    assert ContactTag.objects.count() == seeded.contact_tags > 0
    assert set(User.objects.values_list("role", flat=True)) == {
        "owner", "manager", "sales", "support", "marketing"}


def test_seed_keeps_the_audit_chain_valid(seeded):
    report = verify_chain()
    assert report.ok, report
    assert report.checked == Event.objects.count()
    assert AuditHead.objects.get(id=1).count == Event.objects.count()


def test_seeded_rows_match_what_the_services_write(seeded):
    contacts = list(Contact.objects.select_related("company").order_by("id"))
    created = {e.contact_id: e for e in Event.objects.filter(kind="contact.created")}
    for contact in contacts:
        assert contact.search_text == build_search_text(
            first_name=contact.first_name, last_name=contact.last_name, emails=contact.emails,
            phones=contact.phones,
            company_name=contact.company.name if contact.company_id else "")
        for phone in contact.phones:
            assert normalise_phone(phone) == phone
        for email in contact.emails:
            assert normalise_email(email) == email
        assert contact.primary_email == (contact.emails[0] if contact.emails else "")
        snapshot = contact_snapshot(contact)
        assert created[contact.id].after == {**snapshot, "version": 1}
        assert created[contact.id].occurred_at == contact.created_at
        assert contact.updated_at >= contact.created_at
    edits = Event.objects.filter(kind="contact.updated").values_list("contact_id", flat=True)
    for contact in contacts:
        assert contact.version == 1 + list(edits).count(contact.id)


def test_seeded_people_are_searchable(seeded):
    owner = User.objects.get(role="owner")
    person = Contact.objects.exclude(phones=[]).order_by("id")[5]
    hits = search_everything(user=owner, q=person.last_name)
    assert person.id in {h.id for h in hits if h.type == "contact"} or len(hits) >= 20
    by_email = Contact.objects.exclude(primary_email="").order_by("id")[3]
    assert by_email.id in {h.id for h in search_everything(user=owner, q=by_email.primary_email)}
    digits = person.phones[0][2:]  # national number, without +1
    formatted = f"({digits[:3]}) {digits[3:6]}-{digits[6:]}"
    assert person.id in {h.id for h in search_everything(user=owner, q=formatted)}


def test_seed_is_deterministic_for_a_seed():
    def rows(seed):
        rng = np.random.default_rng(seed)
        owners = [(1, "owner"), (2, "sales"), (3, "manager")]
        comp = seeding.generate_companies(rng, 10, owners, 0, 10**15, len(seeding.pools.TAGS))
        people = seeding.generate_people(rng, 200, 10, owners, 10**14, 10**15,
                                         len(seeding.pools.TAGS))
        plan = seeding.plan_events(rng, people, 5, 10**15)
        ids = seeding._FirstIds(contact=1, company=1, event=1)
        created: list[str] = []
        contacts = [r for batch, _ in seeding._contact_batches(
            people, plan, comp, ids, list(range(100, 125)), "sqlite", created) for r in batch]
        events = [r for _, batch, _ in seeding._event_batches(
            people, plan, comp, created, ids, [1, 2, 3], (0, "0" * 64), "sqlite") for r in batch]
        return contacts, events

    def public(events):
        # Salts are random on purpose: the seed is no secret, and a salt derived from it would
        # let anyone test guesses against an erased event's commitment (docs/audit.md). So the
        # salt and what is derived from it (commitment, links) differ; the data does not.
        salt = seeding.EVENT_COLUMNS.index("salt")
        return [r[:salt] + (r[seeding.EVENT_COLUMNS.index("seq")],) for r in events]

    first, again, other = rows(3), rows(3), rows(4)
    assert first[0] == again[0] and public(first[1]) == public(again[1])
    assert first[1][0][9] != again[1][0][9]
    assert first[0] != other[0]
    # Every generated payload is canonical JSON, so stored and hashed forms agree.
    for event in first[1][:500]:
        assert seeding._compact(json.loads(event[8])) == event[8]


def test_seed_twice_with_the_same_seed_gives_the_same_people(db):
    seed_run(contacts=40, companies=4, events_per_contact=2, seed=11, as_of=AS_OF)
    fields = ("first_name", "last_name", "emails", "phones", "search_text", "lifecycle_stage",
              "created_at", "owner__email")
    first = list(Contact.objects.order_by("id").values_list(*fields))
    seed_run(contacts=40, companies=4, events_per_contact=2, seed=11, as_of=AS_OF)
    second = list(Contact.objects.order_by("id").values_list(*fields))[40:]
    assert first == second
    assert verify_chain().ok


def test_bulk_path_rebuilds_indexes_and_search(db):
    before = _index_names()
    seed_run(contacts=60, companies=5, events_per_contact=3, seed=5, as_of=AS_OF, bulk=True)
    assert _index_names() == before
    owner = User.objects.get(role="owner")
    person = Contact.objects.select_related("company").exclude(company=None).order_by("id")[0]
    assert person.id in {h.id for h in search_everything(user=owner, q=person.full_name)}
    company_hits = search_everything(user=owner, q=person.company.name[:12])
    assert person.company_id in {h.id for h in company_hits if h.type == "company"}
    # The search trigger works again for rows written afterwards.
    from rapport.contacts.services import contact_create

    added = contact_create(actor=owner, data={"first_name": "Quetzalia", "last_name": "Brandt"})
    assert [h.id for h in search_everything(user=owner, q="quetzalia")] == [added.id]
    assert verify_chain().ok


def test_seed_appends_to_an_existing_chain(db, owner):
    from rapport.contacts.services import contact_create

    contact_create(actor=owner, data={"first_name": "Before", "last_name": "Seed"})
    seed_run(contacts=10, companies=2, events_per_contact=2, seed=1, as_of=AS_OF)
    contact_create(actor=owner, data={"first_name": "After", "last_name": "Seed"})
    assert verify_chain().ok
    assert Contact.objects.count() == 12


def test_seed_rejects_bad_sizes(db):
    with pytest.raises(ValueError):
        seed_run(contacts=-1, companies=0)
    with pytest.raises(ValueError):
        seed_run(contacts=10, companies=0, events_per_contact=0.5)


def test_a_small_seed_fills_the_name_vocabulary_for_typo_search(db):
    """Typo tolerance works on a 5,000-person seed (no bulk path): one wrong letter in a
    surname still finds the person."""
    seed_run(contacts=5000, companies=250, events_per_contact=1, seed=9, as_of=AS_OF)
    owner = User.objects.get(role="owner")
    from rapport.contacts.models import NameWord

    assert NameWord.objects.count() > 500
    vocabulary = set(NameWord.objects.values_list("word", flat=True))
    tried = 0
    for person in Contact.objects.order_by("id")[:400]:
        first, last = person.first_name.lower(), person.last_name.lower()
        if not (first.isascii() and last.isascii() and first.isalpha() and last.isalpha()
                and len(last) >= 6 and len(first) >= 4):
            continue
        i = len(last) // 2
        typo = last[:i] + ("x" if last[i] != "x" else "z") + last[i + 1:]
        if typo in vocabulary:
            continue
        hits = search_everything(user=owner, q=f"{person.first_name} {typo}")
        assert person.id in {h.id for h in hits if h.type == "contact"}, (person, typo)
        tried += 1
        if tried == 5:
            break
    assert tried == 5
