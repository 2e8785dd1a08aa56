import pytest

from rapport.contacts import search, selectors, services
from rapport.contacts.models import Contact
from rapport.core.errors import NotFound, PermissionDenied, ValidationFailed, VersionConflict
from rapport.core.events import verify_chain
from rapport.core.models import Event
from rapport.core.search import search_everything

pytestmark = pytest.mark.django_db


def test_create_normalises_phone_and_email_and_records_event(owner):
    contact = services.contact_create(actor=owner, data={
        "first_name": "Anna", "last_name": "Smith", "emails": [" Anna@Example.COM "],
        "phones": ["(415) 555-0132"], "tags": ["Regular", "regular", "wholesale"],
    })
    assert contact.emails == ["anna@example.com"]
    assert contact.primary_email == "anna@example.com"
    assert contact.phones == ["+14155550132"]
    assert contact.owner_id == owner.id
    assert sorted(contact.tags.values_list("name", flat=True)) == ["regular", "wholesale"]
    event = Event.objects.get(entity_type="contact", entity_id=contact.id)
    assert event.kind == "contact.created"
    assert event.actor_id == owner.id
    assert event.after["phones"] == ["+14155550132"]


def test_bad_phone_and_email_name_the_fields_and_change_nothing(owner):
    with pytest.raises(ValidationFailed) as failure:
        services.contact_create(actor=owner, data={
            "first_name": "Bad", "phones": ["+1 555 12"], "emails": ["not-an-email"],
        })
    assert set(failure.value.errors) == {"phones.0", "emails.0"}
    assert "'+1 555 12' is not a valid phone number" in failure.value.errors["phones.0"][0]
    assert Contact.objects.count() == 0
    assert Event.objects.filter(entity_type="contact").count() == 0


def test_contact_needs_a_name(owner):
    with pytest.raises(ValidationFailed) as failure:
        services.contact_create(actor=owner, data={"emails": ["a@b.co"]})
    assert failure.value.errors == {"first_name": ["a contact needs a first or last name"]}


def test_update_records_field_by_field_diff_and_bumps_version(owner):
    contact = services.contact_create(actor=owner, data={"first_name": "Ann", "last_name": "Lee"})
    services.contact_update(actor=owner, contact_id=contact.id, version=1,
                            changes={"first_name": "Anne", "job_title": "Chef"})
    contact.refresh_from_db()
    assert contact.version == 2
    event = Event.objects.filter(kind="contact.updated").get()
    assert event.before == {"first_name": "Ann", "job_title": ""}
    assert event.after == {"first_name": "Anne", "job_title": "Chef"}


def test_stale_version_conflicts_and_overwrites_nothing(owner):
    contact = services.contact_create(actor=owner, data={"first_name": "Ann"})
    services.contact_update(actor=owner, contact_id=contact.id, version=1,
                            changes={"job_title": "Baker"})
    with pytest.raises(VersionConflict) as clash:
        services.contact_update(actor=owner, contact_id=contact.id, version=1,
                                changes={"job_title": "Chef"})
    assert clash.value.current_version == 2
    assert clash.value.current["job_title"] == "Baker"
    contact.refresh_from_db()
    assert contact.job_title == "Baker"


def test_preference_is_remembered_and_on_the_timeline(owner):
    contact = services.contact_create(actor=owner, data={"first_name": "Ann"})
    services.contact_add_preference(actor=owner, contact_id=contact.id,
                                    text="usual order: rye sourdough, no sesame")
    contact.refresh_from_db()
    assert contact.preferences == ["usual order: rye sourdough, no sesame"]
    page = selectors.contact_timeline(user=owner, contact_id=contact.id)
    assert [e.kind for e in page.items] == ["contact.updated", "contact.created"]
    assert page.items[0].after == {"preferences": ["usual order: rye sourdough, no sesame"]}


def test_sales_cannot_read_or_change_another_teams_contact(sales_a, sales_b):
    theirs = services.contact_create(actor=sales_b, data={"first_name": "Private"})
    with pytest.raises(NotFound):
        selectors.contact_get(user=sales_a, contact_id=theirs.id)
    with pytest.raises(NotFound):
        services.contact_update(actor=sales_a, contact_id=theirs.id, version=1,
                                changes={"first_name": "Hacked"})
    assert search_everything(user=sales_a, q="Private") == []
    assert [h.id for h in search_everything(user=sales_b, q="Private")] == [theirs.id]


def test_sales_sees_team_but_changes_only_own(sales_a, sales_a2):
    colleague = services.contact_create(actor=sales_a2, data={"first_name": "Team"})
    assert selectors.contact_get(user=sales_a, contact_id=colleague.id).id == colleague.id
    with pytest.raises(PermissionDenied):
        services.contact_update(actor=sales_a, contact_id=colleague.id, version=1,
                                changes={"first_name": "Mine"})


def test_manager_changes_team_records(manager_a, sales_a, sales_b):
    ours = services.contact_create(actor=sales_a, data={"first_name": "Ours"})
    theirs = services.contact_create(actor=sales_b, data={"first_name": "Theirs"})
    services.contact_update(actor=manager_a, contact_id=ours.id, version=1,
                            changes={"job_title": "Chef"})
    page = selectors.contact_list(user=manager_a)
    assert [c.id for c in page.items] == [ours.id]
    with pytest.raises(NotFound):
        services.contact_update(actor=manager_a, contact_id=theirs.id, version=1,
                                changes={"job_title": "x"})


def test_soft_delete_and_restore(owner, sales_a):
    contact = services.contact_create(actor=sales_a, data={"first_name": "Gone"})
    services.contact_delete(actor=sales_a, contact_id=contact.id)
    assert selectors.contact_list(user=owner).items == []
    assert search_everything(user=owner, q="Gone") == []
    restored = services.contact_restore(actor=sales_a, contact_id=contact.id)
    assert restored.deleted_at is None
    assert [c.id for c in selectors.contact_list(user=owner).items] == [contact.id]


def test_restore_only_by_owner_or_owner_role(owner, sales_a, sales_a2):
    contact = services.contact_create(actor=sales_a, data={"first_name": "Gone"})
    services.contact_delete(actor=sales_a, contact_id=contact.id)
    with pytest.raises(PermissionDenied):
        services.contact_restore(actor=sales_a2, contact_id=contact.id)
    services.contact_restore(actor=owner, contact_id=contact.id)


def test_custom_fields_validated_typed_and_filterable(owner):
    services.custom_field_define(actor=owner, data={"object_type": "contact",
        "key": "loaves_per_week", "label": "Loaves per week", "field_type": "number"})
    services.custom_field_define(actor=owner, data={"object_type": "contact", "key": "diet",
        "label": "Diet", "field_type": "choice", "choices": ["vegan", "none"]})
    with pytest.raises(ValidationFailed) as failure:
        services.contact_create(actor=owner, data={
            "first_name": "X", "custom_fields": {"loaves_per_week": "lots", "diet": "keto",
                                                 "nope": 1}})
    assert set(failure.value.errors) == {"custom_fields.loaves_per_week", "custom_fields.diet",
                                         "custom_fields.nope"}
    vegan = services.contact_create(actor=owner, data={
        "first_name": "V", "custom_fields": {"loaves_per_week": "3", "diet": "vegan"}})
    services.contact_create(actor=owner, data={"first_name": "N",
                                               "custom_fields": {"diet": "none"}})
    assert vegan.custom_fields == {"loaves_per_week": 3, "diet": "vegan"}
    page = selectors.contact_list(user=owner, params={"cf_diet": "vegan"})
    assert [c.id for c in page.items] == [vegan.id]
    page = selectors.contact_list(user=owner, params={"cf_loaves_per_week": "3"})
    assert [c.id for c in page.items] == [vegan.id]


def test_only_owner_role_defines_custom_fields(sales_a):
    with pytest.raises(PermissionDenied):
        services.custom_field_define(actor=sales_a, data={"object_type": "contact", "key": "x",
            "label": "X", "field_type": "text"})


def test_keyset_pagination_walks_every_row_once(owner):
    for i in range(7):
        services.contact_create(actor=owner, data={"first_name": f"P{i}", "last_name": "Same"})
    seen, cursor = [], None
    while True:
        page = selectors.contact_list(user=owner, params={"limit": 3, "cursor": cursor})
        seen.extend(c.first_name for c in page.items)
        cursor = page.next_cursor
        if not cursor:
            break
    assert seen == [f"P{i}" for i in range(7)]


def test_bad_cursor_is_a_field_error(owner):
    with pytest.raises(ValidationFailed) as failure:
        selectors.contact_list(user=owner, params={"cursor": "garbage!!"})
    assert list(failure.value.errors) == ["cursor"]


def test_bulk_tag_assign_delete(owner, sales_a):
    a = services.contact_create(actor=owner, data={"first_name": "A"})
    b = services.contact_create(actor=owner, data={"first_name": "B"})
    assert services.contacts_bulk_tag(actor=owner, contact_ids=[a.id, b.id], tag="VIP") == 2
    assert selectors.contact_list(user=owner, params={"tag": "vip"}).items == [a, b]
    services.contacts_bulk_assign(actor=owner, contact_ids=[a.id], owner_id=sales_a.id)
    assert [c.id for c in selectors.contact_list(user=sales_a).items] == [a.id]
    services.contacts_bulk_delete(actor=owner, contact_ids=[a.id, b.id])
    assert selectors.contact_list(user=owner).items == []


def test_bulk_refuses_whole_batch_when_one_is_not_allowed(sales_a, sales_a2):
    mine = services.contact_create(actor=sales_a, data={"first_name": "Mine"})
    colleague = services.contact_create(actor=sales_a2, data={"first_name": "Theirs"})
    with pytest.raises(PermissionDenied):
        services.contacts_bulk_tag(actor=sales_a, contact_ids=[mine.id, colleague.id], tag="x")
    assert list(mine.tags.all()) == []


def test_search_by_name_email_phone_company_and_typos(owner):
    company = services.company_create(actor=owner, data={"name": "Crumb & Co"})
    anna = services.contact_create(actor=owner, data={
        "first_name": "Anna", "last_name": "Müller", "emails": ["anna@mill.example"],
        "phones": ["+44 20 7946 0958"], "company_id": company.id})
    services.contact_create(actor=owner, data={"first_name": "Bert", "last_name": "Jones"})
    for query in ("muller", "Müller", "anna@mill", "020 7946 0958", "+442079460958",
                  "crumb", "Anna Muller", "mullr", "Ana Müller"):
        hits = [h for h in search_everything(user=owner, q=query) if h.type == "contact"]
        assert [h.id for h in hits] == [anna.id], query
    company_hits = [h for h in search_everything(user=owner, q="crumb") if h.type == "company"]
    assert [h.id for h in company_hits] == [company.id]


def test_search_treats_sql_as_text(owner):
    services.contact_create(actor=owner, data={"first_name": "Robert'); DROP TABLE x;--"})
    hits = search_everything(user=owner, q="'); DROP TABLE")
    assert [h.title for h in hits] == ["Robert'); DROP TABLE x;--"]
    assert search_everything(user=owner, q='" OR 1=1 --') == []


def test_company_rename_updates_contact_search(owner):
    company = services.company_create(actor=owner, data={"name": "Old Name Ltd"})
    person = services.contact_create(actor=owner, data={"first_name": "P",
                                                        "company_id": company.id})
    services.company_update(actor=owner, company_id=company.id, version=1,
                            changes={"name": "Fresh Loaves"})
    assert [h.id for h in search_everything(user=owner, q="fresh loaves")
            if h.type == "contact"] == [person.id]


def test_every_write_extends_a_verifiable_chain(owner):
    contact = services.contact_create(actor=owner, data={"first_name": "A"})
    services.contact_update(actor=owner, contact_id=contact.id, version=1,
                            changes={"last_name": "B"})
    report = verify_chain()
    assert report.ok
    assert report.checked == Event.objects.count()


def test_company_soft_delete_and_restore_within_30_days(owner, sales_a):
    import datetime as dt

    from django.utils import timezone

    from rapport.contacts.models import Company

    company = services.company_create(actor=sales_a, data={"name": "Old Mill"})
    services.company_delete(actor=sales_a, company_id=company.id)
    assert selectors.company_list(user=owner).items == []
    services.company_restore(actor=sales_a, company_id=company.id)
    assert [c.id for c in selectors.company_list(user=owner).items] == [company.id]
    services.company_delete(actor=sales_a, company_id=company.id)
    Company.objects.filter(id=company.id).update(
        deleted_at=timezone.now() - dt.timedelta(days=31))
    with pytest.raises(ValidationFailed) as failure:
        services.company_restore(actor=owner, company_id=company.id)
    assert list(failure.value.errors) == ["deleted_at"]


def test_purge_removes_only_records_past_the_window(owner):
    import datetime as dt

    from django.utils import timezone

    from rapport.core.services import purge_expired_deletions

    old = services.contact_create(actor=owner, data={"first_name": "Old"})
    recent = services.contact_create(actor=owner, data={"first_name": "Recent"})
    services.contact_delete(actor=owner, contact_id=old.id)
    services.contact_delete(actor=owner, contact_id=recent.id)
    Contact.objects.filter(id=old.id).update(deleted_at=timezone.now() - dt.timedelta(days=31))
    assert purge_expired_deletions() == 1
    assert list(Contact.objects.values_list("id", flat=True)) == [recent.id]
    assert verify_chain().ok


def test_fuzzy_search_ignores_fragments_inside_other_names(owner):
    services.contact_create(actor=owner, data={"first_name": "Tamara", "last_name": "Baker"})
    services.contact_create(actor=owner, data={"first_name": "Maria", "last_name": "Cruz"})
    margaret = services.contact_create(actor=owner, data={"first_name": "Margaret",
                                                          "last_name": "Hale"})
    assert [h.id for h in search_everything(user=owner, q="margret")] == [margaret.id]
    assert [h.id for h in search_everything(user=owner, q="marg")] == [margaret.id]
    assert search_everything(user=owner, q="xqzw") == []


def test_name_similarity_scores():
    assert search.name_similarity("mullr", "anna muller") >= 80
    assert search.name_similarity("ana muller", "anna muller") >= 80
    assert search.name_similarity("mar", "tamara baker") < 80
    assert search.name_similarity("mary", "maria cruz") < 80


def test_typo_search_finds_the_person_among_hundreds_sharing_fragments(owner):
    for i in range(SEARCH_CANDIDATES_FOR_TEST):
        services.contact_create(actor=owner, data={"first_name": f"Mar{i:03d}x",
                                                   "last_name": "Gretton"})
    margaret = services.contact_create(actor=owner, data={"first_name": "Margaret",
                                                          "last_name": "Hale"})
    assert [h.id for h in search_everything(user=owner, q="margret hale")
            if h.type == "contact"] == [margaret.id]
    assert "margaret" in search.corrected_name_words("margret")[0]
    assert search.corrected_name_words("al zzzzqq") == []


SEARCH_CANDIDATES_FOR_TEST = 520


def test_company_search_finds_parts_of_names_and_domains_through_an_index(owner):
    from django.db import connection

    from rapport.contacts.models import Company

    cafe = services.company_create(actor=owner, data={"name": "Corner Café",
                                                      "domain": "cornercafe.example"})
    services.company_create(actor=owner, data={"name": "Mill Lane Deli"})
    for q in ("orner", "CORNER", "cornercafe.ex", "café"):
        hits = [h.id for h in search_everything(user=owner, q=q) if h.type == "company"]
        assert hits == [cafe.id], q
    services.company_update(actor=owner, company_id=cafe.id, version=1,
                            changes={"name": "Dawn Patisserie"})
    assert [h.id for h in search_everything(user=owner, q="patisser")] == [cafe.id]
    assert not [h for h in search_everything(user=owner, q="corner c") if h.type == "company"]
    queryset = search.matching_companies(Company.objects.all(), "patisser")
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {'QUERY PLAN ' if connection.vendor == 'sqlite' else ''}{sql}",
                       params)
        plan = " ".join(str(row) for row in cursor.fetchall())
    if connection.vendor == "sqlite":
        assert "company_fts VIRTUAL TABLE INDEX" in plan, plan
