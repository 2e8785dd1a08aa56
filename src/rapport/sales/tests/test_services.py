import pytest

from rapport.contacts import services as contact_services
from rapport.contacts.models import Company, Contact
from rapport.core.errors import NotFound, PermissionDenied, ValidationFailed
from rapport.core.models import Event
from rapport.sales import selectors, services
from rapport.sales.models import AssignmentLog, Deal, Lead
from rapport.sales.services import conversion

pytestmark = pytest.mark.django_db


def capture(actor=None, **data):
    return services.lead_capture(actor=actor, data=data)


def test_a_lead_is_enriched_scored_and_assigned_by_territory_at_once(rules, sales_a):
    got = capture(name="Anna Berg", email="anna@alder-cafe.se", phone="+46 8 123 456 78",
                  company_size="11-50", utm_source="google", utm_campaign="spring")
    lead = got.lead
    assert got.created
    assert lead.company_name == "Alder Cafe" and lead.website == "alder-cafe.se"
    assert lead.country == "SE" and lead.phone_country == "SE"
    assert lead.phone_line_type == "landline"
    assert (lead.score, lead.grade) == (65, "A")
    assert [r["text"] for r in lead.score_reasons] == [
        "country is one of SE, NO, DK: +30 points", "free-mail address is empty: +20 points",
        "company size is 11-50: +15 points"]
    assert lead.owner_id == sales_a.id  # first in team north by id
    assert lead.assigned_by == "Nordics (round robin)"
    log = AssignmentLog.objects.get(lead=lead)
    assert log.rule_id == rules[0].id and "country SE, NO, DK" in log.reason
    assert list(Event.objects.filter(entity_type="lead", entity_id=lead.id)
                .values_list("kind", flat=True)) == ["lead.captured", "lead.assigned"]


def test_free_mail_is_skipped_and_an_existing_company_is_matched(owner, rules):
    known = contact_services.company_create(actor=owner, data={"name": "Birch Bakery",
                                                               "domain": "birch.co.uk"})
    free = capture(email="someone@gmail.com", country="GB").lead
    assert free.free_mail and free.company_name == "" and free.matched_company_id is None
    assert free.grade == "D" and free.score == -10
    work = capture(email="ian@birch.co.uk").lead
    assert work.matched_company_id == known.id


def test_round_robin_takes_turns_and_skips_reps_out_of_office(rules, owner, sales_a, sales_a2):
    owners = [capture(email=f"p{i}@firm{i}.se", country="SE").lead.owner_id for i in range(4)]
    assert owners == [sales_a.id, sales_a2.id, sales_a.id, sales_a2.id]
    services.out_of_office_set(actor=owner, user_id=sales_a2.id, away=True)
    owners = [capture(email=f"q{i}@firm{i}.no", country="NO").lead.owner_id for i in range(2)]
    assert owners == [sales_a.id, sales_a.id]


def test_a_rule_with_nobody_free_passes_to_the_next_and_says_why(rules, owner, sales_a,
                                                                  sales_a2, sales_b):
    for user in (sales_a, sales_a2):
        services.out_of_office_set(actor=owner, user_id=user.id, away=True)
    lead = capture(email="x@firm.dk", country="DK").lead
    assert lead.owner_id == sales_b.id and lead.assigned_by == "Everyone else (fixed)"
    assert "Nordics: nobody free" in AssignmentLog.objects.get(lead=lead).reason


def test_a_cap_and_least_loaded(owner, sales_a, sales_a2):
    services.assignment_rule_create(actor=owner, data={
        "name": "North", "method": "least_loaded", "team_id": sales_a.team_id, "cap": 2})
    owners = [capture(email=f"l{i}@firm{i}.com").lead.owner_id for i in range(5)]
    assert sorted(owners[:4]) == sorted([sales_a.id, sales_a.id, sales_a2.id, sales_a2.id])
    assert owners[4] is None  # both at their cap: nobody matches → unassigned
    assert Lead.objects.get(email="l4@firm4.com").assigned_by == "no rule matched"


def test_a_repeat_submission_updates_the_lead_and_says_so(rules, sales_a):
    first = capture(email="anna@alder.se", country="SE", utm_campaign="spring").lead
    again = capture(email="ANNA@alder.se", phone="+46701234567", utm_campaign="summer")
    assert not again.created and again.lead.id == first.id
    lead = Lead.objects.get(id=first.id)
    assert lead.submissions == 2 and lead.utm_campaign == "summer"
    assert lead.phone_line_type == "mobile"
    by_phone = capture(phone="070-123 45 67", country="SE")
    assert by_phone.lead.id == first.id and not by_phone.created
    event = Event.objects.filter(kind="lead.resubmitted").first()
    assert event.before["utm_campaign"] == "spring" and event.after["utm_campaign"] == "summer"
    assert Lead.objects.count() == 1


def test_bad_input_is_named_per_field_and_nothing_is_stored(rules):
    with pytest.raises(ValidationFailed) as failure:
        capture(name="Nobody")
    assert set(failure.value.errors) == {"email", "phone"}
    with pytest.raises(ValidationFailed) as failure:
        capture(email="not-an-address", country="XX", company_size="huge", phone="12")
    assert set(failure.value.errors) == {"email", "country", "company_size", "phone"}
    with pytest.raises(ValidationFailed) as failure:
        services.scoring_rule_create(actor=_owner(), data={
            "field": "colour", "operator": "equals", "points": 5000})
    assert set(failure.value.errors) == {"field", "points", "value"}
    assert Lead.objects.count() == 0


def _owner():
    from rapport.accounts.models import User
    return User.objects.get(role="owner")


def test_only_the_owner_role_changes_rules(sales_a, manager_a):
    for user in (sales_a, manager_a):
        with pytest.raises(PermissionDenied):
            services.scoring_rule_create(actor=user, data={"field": "country",
                                                           "operator": "is_set", "points": 1})


def test_a_rep_sees_only_their_leads(rules, sales_a, sales_a2, sales_b, manager_a, owner):
    mine = capture(email="a@firm.se", country="SE").lead
    theirs = capture(email="b@firm.se", country="SE").lead
    assert {x.id for x in selectors.lead_list(user=sales_a).items} == {mine.id}
    assert {x.id for x in selectors.lead_list(user=manager_a).items} == {mine.id, theirs.id}
    with pytest.raises(NotFound):
        selectors.lead_get(user=sales_b, lead_id=mine.id)
    assert selectors.lead_list(user=owner, params={"owner": str(sales_a2.id)}).items == [theirs]
    with pytest.raises(ValidationFailed) as failure:
        selectors.lead_list(user=owner, params={"grade": "Z"})
    assert "grade" in failure.value.errors


def test_a_change_rescored_at_once_and_a_new_owner_is_logged_by_hand(rules, owner,
                                                                      sales_a, sales_a2):
    lead = capture(email="c@firm.com", country="GB").lead
    assert lead.score == 20
    changed = services.lead_update(actor=owner, lead_id=lead.id, version=lead.version,
                                   changes={"country": "NO", "owner_id": sales_a2.id})
    assert (changed.score, changed.grade, changed.owner_id) == (50, "B", sales_a2.id)
    assert changed.assigned_by == "by hand"
    with pytest.raises(PermissionDenied):
        services.lead_update(actor=sales_a2, lead_id=lead.id, version=changed.version,
                             changes={"owner_id": sales_a.id})


def test_conversion_makes_contact_company_and_deal_once(rules, sales_a):
    lead = capture(name="Anna Berg", email="anna@alder-cafe.se", country="SE",
                   phone="+46 8 123 456 78", job_title="Owner", message="Bread for 40",
                   industry="Hospitality", company_size="11-50", utm_source="google").lead
    done = services.lead_convert(actor=sales_a, lead_id=lead.id,
                                 data={"amount": "1200", "deal_name": "Weekly bread"})
    contact = Contact.objects.get(id=done.contact_id)
    assert (contact.first_name, contact.last_name, contact.owner_id) == ("Anna", "Berg",
                                                                         sales_a.id)
    assert contact.primary_email == "anna@alder-cafe.se" and contact.job_title == "Owner"
    assert "Bread for 40" in contact.notes and "source=google" in contact.notes
    company = Company.objects.get(id=done.company_id)
    assert (company.name, company.domain, company.size) == ("Alder Cafe", "alder-cafe.se",
                                                            "11-50")
    deal = Deal.objects.get(id=done.deal_id)
    assert (deal.name, str(deal.amount), deal.stage.name, deal.contact_id) == (
        "Weekly bread", "1200.00", "New", contact.id)
    lead.refresh_from_db()
    assert lead.status == "converted" and lead.converted_deal_id == deal.id
    assert Event.objects.filter(kind="lead.converted", contact_id=contact.id).exists()
    with pytest.raises(ValidationFailed) as failure:
        services.lead_convert(actor=sales_a, lead_id=lead.id)
    assert "status" in failure.value.errors and "already converted" in \
        failure.value.errors["status"][0]
    assert Contact.objects.count() == 1 and Deal.objects.count() == 1


def test_nothing_changes_when_the_deal_part_fails(rules, sales_a, monkeypatch):
    lead = capture(name="Anna Berg", email="anna@alder-cafe.se", country="SE").lead
    events_before = Event.objects.count()

    def broken(**kwargs):
        raise ValidationFailed({"pipeline_id": "the pipeline broke"})

    monkeypatch.setattr(conversion, "deal_create", broken)
    with pytest.raises(ValidationFailed):
        services.lead_convert(actor=sales_a, lead_id=lead.id)
    lead.refresh_from_db()
    assert lead.status == "new" and lead.converted_contact_id is None
    assert Contact.objects.count() == 0 and Company.objects.count() == 0
    assert Event.objects.count() == events_before


def test_a_rep_may_not_convert_someone_elses_lead(rules, sales_a, sales_a2, sales_b):
    lead = capture(email="d@firm.se", country="SE").lead  # Sam's
    with pytest.raises(NotFound):
        services.lead_convert(actor=sales_b, lead_id=lead.id)
    with pytest.raises(NotFound):
        services.lead_convert(actor=sales_a2, lead_id=lead.id)


class Clearbitish:
    name = "paid"

    def enrich(self, facts):
        facts.fill(self.name, industry="Bakeries", company_size="11-50")


def test_an_enrichment_provider_plugs_in(rules):
    provider = Clearbitish()
    services.register_provider(provider)
    try:
        lead = capture(email="e@oak.se").lead
    finally:
        services.unregister_provider(provider)
    assert lead.industry == "Bakeries" and "paid" in lead.enriched_by
    assert lead.score == 20 + 15


def test_overlapping_rules_are_named_and_the_order_decides(rules, owner, sales_b):
    sweden = services.assignment_rule_create(actor=owner, data={
        "name": "Sweden", "countries": "SE", "method": "user", "user_id": sales_b.id})
    overlaps = selectors.rule_overlaps(selectors.assignment_rules())
    assert overlaps[sweden.id] == ["Nordics", "Everyone else"]
    services.assignment_rule_move(actor=owner, rule_id=sweden.id, up=True)
    services.assignment_rule_move(actor=owner, rule_id=sweden.id, up=True)
    assert [r.name for r in selectors.assignment_rules()] == ["Sweden", "Nordics",
                                                             "Everyone else"]
    assert capture(email="f@firm.se", country="SE").lead.owner_id == sales_b.id
