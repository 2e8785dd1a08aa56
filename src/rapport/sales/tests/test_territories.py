"""Territories (matching, order, overlaps, the API), territory and product-line assignment, and
the first-response sweep, on whichever database the suite runs on."""

import datetime as dt

import pytest

from rapport.activities.models import Reminder, Task
from rapport.activities.selectors import bell_count
from rapport.core.errors import PermissionDenied, ValidationFailed
from rapport.core.models import Event
from rapport.sales import selectors, services
from rapport.sales.models import (
    AssignmentLog,
    AssignmentRule,
    Deal,
    Lead,
    RepAvailability,
    Territory,
)
from rapport.testing import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def nordics(owner, sales_a, sales_a2):
    """Nordics (SE, NO, DK) first, then Sweden-North (SE, postcodes 9…) managed by Tove."""
    manager = make_user("tove@bakery.example.com", "manager", team="north")
    first = services.territory_create(actor=owner, data={
        "name": "Nordics", "countries": "SE, NO, DK", "member_ids": [sales_a.id, sales_a2.id],
        "manager_id": manager.id})
    north = services.territory_create(actor=owner, data={
        "name": "Sweden-North", "countries": "se", "postcode_prefixes": "9", "member_ids": [
            sales_a2.id], "manager_id": manager.id})
    return first, north, manager


# --- matching and order ------------------------------------------------------------------------

def test_the_first_territory_by_position_whose_rules_all_match_wins(owner, nordics):
    first, north, _ = nordics
    retail = services.territory_create(actor=owner, data={
        "name": "UK retail", "countries": "GB", "industries": "Retail",
        "company_sizes": ["11-50"]})
    assert services.territory_for(country="SE", postcode="981 31") == first
    assert services.territory_for(country="no", postcode="") == first
    assert services.territory_for(country="FI", postcode="98") is None
    assert services.territory_for(country="GB", industry="retail", company_size="11-50") \
        == retail
    assert services.territory_for(country="GB", industry="retail", company_size="1-10") is None
    assert services.territory_for(country="GB", industry="food", company_size="11-50") is None
    services.territory_move(actor=owner, territory_id=north.id, position=1)
    assert [t.name for t in selectors.territories()] == ["Sweden-North", "Nordics", "UK retail"]
    assert services.territory_for(country="SE", postcode="98131") == north
    assert services.territory_for(country="SE", postcode="11122") == first  # not 9…: Nordics


def test_an_empty_rule_matches_any_lead_and_regions_match_without_case(owner):
    everywhere = services.territory_create(actor=owner, data={"name": "Everywhere"})
    services.territory_move(actor=owner, territory_id=services.territory_create(
        actor=owner, data={"name": "Norrland", "regions": "Norrland"}).id, position=1)
    assert services.territory_for(country="US", region="NORRLAND").name == "Norrland"
    assert services.territory_for(country="US", region="Skåne") == everywhere


def test_overlaps_say_which_territory_wins_and_change_with_the_order(owner, nordics):
    first, north, _ = nordics
    services.territory_create(actor=owner, data={"name": "UK", "countries": "GB"})
    overlaps = selectors.territory_overlaps(selectors.territories())
    assert [o.message for o in overlaps] == [
        "Nordics (position 1) wins over Sweden-North for leads in SE with postcode 9…: "
        "Sweden-North never gets a lead while it is below"]
    services.territory_move(actor=owner, territory_id=north.id, position=1)
    overlaps = selectors.territory_overlaps(selectors.territories())
    assert [(o.winner_id, o.loser_id, o.shadowed) for o in overlaps] == [
        (north.id, first.id, False)]
    assert overlaps[0].message == ("Sweden-North (position 1) wins over Nordics for leads in "
                                   "SE with postcode 9…")


def test_bad_territory_input_names_the_field_and_changes_nothing(owner, sales_a, sales_a2,
                                                                  nordics):
    first, _, _ = nordics
    with pytest.raises(ValidationFailed) as bad:
        services.territory_create(actor=owner, data={"name": "Mars", "countries": "SE, XX"})
    assert set(bad.value.errors) == {"countries"}
    with pytest.raises(ValidationFailed) as bad:
        services.territory_update(actor=owner, territory_id=first.id,
                                  changes={"member_ids": [sales_a.id, 999_999]})
    assert set(bad.value.errors) == {"member_ids"}
    assert "999999" in bad.value.errors["member_ids"][0]
    with pytest.raises(ValidationFailed) as bad:
        services.territory_create(actor=owner, data={"name": "nordics"})
    assert set(bad.value.errors) == {"name"}
    assert Territory.objects.count() == 2
    assert set(first.members.values_list("id", flat=True)) == {sales_a.id, sales_a2.id}
    with pytest.raises(PermissionDenied):
        services.territory_create(actor=sales_a, data={"name": "Mine"})


def test_update_keeps_what_is_left_out_and_delete_closes_the_gap(owner, sales_b, nordics):
    first, north, manager = nordics
    third = services.territory_create(actor=owner, data={"name": "UK", "countries": "GB"})
    services.territory_update(actor=owner, territory_id=first.id,
                              changes={"industries": "Bakery", "manager_id": None})
    first.refresh_from_db()
    assert first.countries == ["SE", "NO", "DK"] and first.industries == ["bakery"]
    assert first.manager_id is None
    services.territory_member_add(actor=owner, territory_id=third.id, user_id=sales_b.id)
    assert list(third.members.values_list("id", flat=True)) == [sales_b.id]
    with pytest.raises(ValidationFailed) as bad:
        services.territory_member_add(actor=owner, territory_id=third.id, user_id=424242)
    assert set(bad.value.errors) == {"user_id"}
    services.territory_delete(actor=owner, territory_id=first.id)
    assert [(t.name, t.position) for t in selectors.territories()] == [
        ("Sweden-North", 1), ("UK", 2)]


# --- the API -----------------------------------------------------------------------------------

def test_territory_api_crud_with_cursor_pages_and_overlaps(owner, sales_a, nordics, api_as):
    first, north, _ = nordics
    api = api_as(owner)
    made = api.post("/territories", {"name": "UK", "countries": ["GB"],
                                     "member_ids": [sales_a.id]})
    assert made.status_code == 201, made.json()
    assert made.json()["position"] == 3 and made.json()["member_ids"] == [sales_a.id]
    page = api.get("/territories", limit=2).json()
    assert [t["name"] for t in page["items"]] == ["Nordics", "Sweden-North"]
    rest = api.get("/territories", limit=2, cursor=page["next_cursor"]).json()
    assert [t["name"] for t in rest["items"]] == ["UK"] and rest["next_cursor"] is None
    loser = page["items"][1]
    assert loser["overlaps"][0]["winner_id"] == first.id
    assert loser["overlaps"][0]["message"].startswith(
        "Nordics (position 1) wins over Sweden-North for leads in SE with postcode 9…")
    assert api.get(f"/territories/{made.json()['id']}").json()["overlaps"] == []
    moved = api.post(f"/territories/{north.id}/move", {"position": 1})
    assert moved.status_code == 200 and moved.json()["position"] == 1
    match = api.get("/territories/match", country="SE", postcode="98 1")
    assert match.json()["territory"]["name"] == "Sweden-North"
    patched = api.patch(f"/territories/{north.id}", {"postcode_prefixes": ["97", "98"]})
    assert patched.json()["postcode_prefixes"] == ["97", "98"]
    assert patched.json()["countries"] == ["SE"]
    assert api.delete(f"/territories/{made.json()['id']}").status_code == 204
    assert api.get(f"/territories/{made.json()['id']}").status_code == 404


def test_territory_api_bad_input_is_422_naming_the_field(owner, sales_a, nordics, api_as):
    first, _, _ = nordics
    api = api_as(owner)
    bad = api.post("/territories", {"name": "Mars", "countries": ["XX"]})
    assert bad.status_code == 422 and set(bad.json()["errors"]) == {"countries"}
    bad = api.patch(f"/territories/{first.id}", {"member_ids": [987654]})
    assert bad.status_code == 422 and set(bad.json()["errors"]) == {"member_ids"}
    bad = api.post(f"/territories/{first.id}/members", {"user_id": 987654})
    assert bad.status_code == 422 and set(bad.json()["errors"]) == {"user_id"}
    assert Territory.objects.count() == 2
    assert first.members.count() == 2
    assert api_as(sales_a).post("/territories", {"name": "Mine"}).status_code == 403
    assert api_as(sales_a).get("/territories").status_code == 200


def test_assignment_rule_api_crud(owner, sales_a, nordics, api_as):
    first, _, _ = nordics
    api = api_as(owner)
    made = api.post("/assignment-rules", {
        "name": "Nordic ovens", "method": "round_robin", "territory_id": first.id,
        "product_lines": ["Ovens"], "first_response_minutes": 30})
    assert made.status_code == 201, made.json()
    body = made.json()
    assert (body["territory_id"], body["product_lines"], body["first_response_minutes"]) == (
        first.id, ["ovens"], 30)
    catch_all = api.post("/assignment-rules", {"name": "Sam", "method": "user",
                                                "user_id": sales_a.id}).json()
    assert catch_all["overlaps"] == ["Nordic ovens"]
    bad = api.post("/assignment-rules", {"name": "X", "method": "round_robin",
                                         "territory_id": 99999})
    assert bad.status_code == 422 and set(bad.json()["errors"]) == {"territory_id"}
    bad = api.post("/assignment-rules", {"name": "X", "method": "least_loaded"})
    assert bad.status_code == 422 and set(bad.json()["errors"]) == {"team_id"}
    patched = api.patch(f"/assignment-rules/{body['id']}", {"first_response_minutes": None,
                                                            "cap": 5})
    assert patched.json()["first_response_minutes"] is None and patched.json()["cap"] == 5
    assert patched.json()["territory_id"] == first.id
    page = api.get("/assignment-rules", limit=1).json()
    assert [r["name"] for r in page["items"]] == ["Nordic ovens"] and page["next_cursor"]
    assert api.delete(f"/assignment-rules/{body['id']}").status_code == 204
    assert [r["name"] for r in api.get("/assignment-rules").json()["items"]] == ["Sam"]
    assert api_as(sales_a).post("/assignment-rules", {
        "name": "Me", "method": "user", "user_id": sales_a.id}).status_code == 403


# --- assignment by territory and product line --------------------------------------------------

def _capture(email, **facts):
    return services.lead_capture(actor=None, data={"email": email, **facts}).lead


def test_a_territory_rule_shares_its_leads_among_members_by_the_winning_territory(
        owner, sales_a, sales_a2, sales_b, nordics):
    first, north, _ = nordics
    services.assignment_rule_create(actor=owner, data={
        "name": "Nordics desk", "method": "round_robin", "territory_id": first.id})
    services.assignment_rule_create(actor=owner, data={
        "name": "Rest", "method": "user", "user_id": sales_b.id})
    owners = [_capture(f"p{i}@firm{i}.se", country="SE", postcode="11122").owner_id
              for i in range(4)]
    assert owners == [sales_a.id, sales_a2.id, sales_a.id, sales_a2.id]
    assert _capture("x@firm.fi", country="FI").owner_id == sales_b.id
    # Sweden-North is below Nordics: a 9… lead is the Nordics'.
    assert _capture("n@north.se", country="SE", postcode="98131").assigned_by == \
        "Nordics desk (round robin)"
    services.territory_move(actor=owner, territory_id=north.id, position=1)
    moved = _capture("m@north.se", country="SE", postcode="98132")
    assert moved.assigned_by == "Rest (fixed)"  # now Sweden-North's, and no rule takes it
    log = AssignmentLog.objects.get(lead__email="p0@firm0.se")
    assert "in territory Nordics" in log.reason


def test_territory_rules_respect_caps_and_out_of_office(owner, sales_a, sales_a2, sales_b,
                                                       nordics):
    first, _, _ = nordics
    services.assignment_rule_create(actor=owner, data={
        "name": "Nordics desk", "method": "least_loaded", "territory_id": first.id, "cap": 2})
    services.assignment_rule_create(actor=owner, data={
        "name": "Overflow", "method": "user", "user_id": sales_b.id})
    services.out_of_office_set(actor=owner, user_id=sales_a2.id, away=True)
    owners = [_capture(f"p{i}@firm{i}.se", country="SE").owner_id for i in range(3)]
    assert owners == [sales_a.id, sales_a.id, sales_b.id]
    overflow = Lead.objects.get(email="p2@firm2.se")
    assert "Nordics desk: nobody free" in AssignmentLog.objects.get(lead=overflow).reason
    RepAvailability.objects.filter(user_id=sales_a2.id).update(out_of_office=False)
    assert _capture("back@firm.se", country="SE").owner_id == sales_a2.id


def test_product_lines_route_leads_to_the_reps_who_know_them(owner, sales_a, sales_b,
                                                              api_as):
    services.assignment_rule_create(actor=owner, data={
        "name": "Oven experts", "method": "user", "user_id": sales_b.id,
        "product_lines": "Ovens, Proofers"})
    services.assignment_rule_create(actor=owner, data={
        "name": "Everyone", "method": "user", "user_id": sales_a.id})
    answer = api_as(owner).post("/leads", {"email": "o@bakery.se",
                                           "product_interest": "ovens"})
    assert answer.status_code == 201
    assert answer.json()["owner_id"] == sales_b.id
    assert answer.json()["product_interest"] == "ovens"
    assert _capture("f@bakery.se", product_interest="flour").owner_id == sales_a.id
    assert _capture("n@bakery.se").owner_id == sales_a.id


# --- first response ----------------------------------------------------------------------------

@pytest.fixture
def timed(owner, nordics):
    """Nordics' leads round robin among its members; 30 minutes to answer."""
    first, _, manager = nordics
    services.assignment_rule_create(actor=owner, data={
        "name": "Nordics desk", "method": "round_robin", "territory_id": first.id,
        "first_response_minutes": 30})
    return manager


def test_an_unanswered_lead_goes_to_the_next_rep_and_the_manager_is_told(
        timed, sales_a, sales_a2):
    manager = timed
    lead = _capture("anna@cafe.se", name="Anna Lind", country="SE")
    assert lead.owner_id == sales_a.id
    assert lead.respond_by == lead.assigned_at + dt.timedelta(minutes=30)
    assert services.first_response_sweep(now=lead.respond_by - dt.timedelta(minutes=1)) == 0
    late = lead.respond_by + dt.timedelta(minutes=1)
    assert services.first_response_sweep(now=late) == 1
    lead.refresh_from_db()
    assert lead.owner_id == sales_a2.id and lead.reassignments == 1
    assert lead.respond_by == late + dt.timedelta(minutes=30)
    log = AssignmentLog.objects.filter(lead=lead).order_by("-id").first()
    assert log.rule.name == "Nordics desk" and log.owner_id == sales_a2.id
    assert log.reason.startswith("not answered within 30 min by sam")
    task = Task.objects.get(assignee=manager)
    assert task.title == "Lead Anna Lind not answered within 30 min by sam"
    assert "handed to sara" in task.notes and f"/leads/{lead.id}/" in task.notes
    assert Reminder.objects.get(task=task).remind_at == late
    assert bell_count(user=manager, now=late) == 1
    missed = Event.objects.get(kind="lead.first_response_missed", entity_id=lead.id)
    assert missed.after["reassigned_to"] == sales_a2.id and missed.after["minutes"] == 30
    # Sara does not answer either: it goes back to Sam, never to Sara again.
    assert services.first_response_sweep(now=late + dt.timedelta(minutes=31)) == 1
    lead.refresh_from_db()
    assert lead.owner_id == sales_a.id and lead.reassignments == 2


def test_the_sweep_run_twice_hands_a_lead_on_once(timed, sales_a, sales_a2):
    lead = _capture("anna@cafe.se", country="SE")
    late = lead.respond_by + dt.timedelta(minutes=5)
    assert services.first_response_sweep(now=late) == 1
    assert services.first_response_sweep(now=late) == 0
    lead.refresh_from_db()
    assert lead.reassignments == 1 and lead.owner_id == sales_a2.id
    assert AssignmentLog.objects.filter(lead=lead).count() == 2
    assert Task.objects.count() == 1


def test_the_owner_touching_the_lead_stops_the_clock(timed, sales_a, sales_a2, manager_a):
    by_status = _capture("a@cafe.se", country="SE")
    by_call = _capture("b@cafe.se", country="SE")
    assert (by_status.owner_id, by_call.owner_id) == (sales_a.id, sales_a2.id)
    services.lead_update(actor=sales_a, lead_id=by_status.id, version=by_status.version,
                         changes={"status": "working"})
    # A colleague's call is logged but is not the owner's first response.
    services.lead_contact_log(actor=manager_a, lead_id=by_call.id,
                              data={"channel": "call", "note": "left a message"})
    by_call.refresh_from_db()
    assert by_call.first_touched_at is None
    services.lead_contact_log(actor=sales_a2, lead_id=by_call.id, data={"channel": "email"})
    late = by_status.respond_by + dt.timedelta(hours=1)
    assert services.first_response_sweep(now=late) == 0
    for lead in (by_status, by_call):
        lead.refresh_from_db()
        assert lead.first_touched_at is not None and lead.reassignments == 0
    with pytest.raises(ValidationFailed) as bad:
        services.lead_contact_log(actor=sales_a, lead_id=by_status.id, data={"channel": "fax"})
    assert set(bad.value.errors) == {"channel"}


def test_with_nobody_else_free_the_lead_stays_and_the_manager_is_told_once(
        timed, sales_a, sales_a2):
    manager = timed
    services.out_of_office_set(actor=sales_a2, user_id=sales_a2.id, away=True)
    lead = _capture("anna@cafe.se", country="SE")
    late = lead.respond_by + dt.timedelta(minutes=1)
    assert services.first_response_sweep(now=late) == 0
    lead.refresh_from_db()
    assert lead.owner_id == sales_a.id and lead.respond_by is None
    assert Task.objects.filter(assignee=manager).count() == 1
    assert "nobody else was free" in Task.objects.get().notes
    services.first_response_sweep(now=late + dt.timedelta(hours=1))
    assert Task.objects.count() == 1


def test_without_a_territory_manager_the_teams_manager_hears(owner, sales_a, sales_a2,
                                                            manager_a):
    services.assignment_rule_create(actor=owner, data={
        "name": "North", "method": "round_robin", "team_id": sales_a.team_id,
        "first_response_minutes": 10})
    lead = _capture("anna@cafe.se")
    services.first_response_sweep(now=lead.respond_by + dt.timedelta(seconds=1))
    assert Task.objects.get().assignee_id == manager_a.id


def test_a_hand_assignment_sets_no_deadline(timed, owner, sales_a, sales_b):
    lead = _capture("anna@cafe.se", country="SE")
    services.lead_update(actor=owner, lead_id=lead.id, version=lead.version,
                         changes={"owner_id": sales_b.id})
    lead.refresh_from_db()
    assert lead.respond_by is None
    assert services.first_response_sweep(now=lead.assigned_at + dt.timedelta(days=1)) == 0


# --- deals -------------------------------------------------------------------------------------

def test_the_deal_made_at_conversion_works_the_leads_territory(owner, sales_a, nordics):
    first, north, _ = nordics
    lead = _capture("anna@cafe.se", name="Anna Lind", company_name="Lind Cafe", country="SE",
                    postcode="98131")
    converted = services.lead_convert(actor=owner, lead_id=lead.id, data={"amount": "100"})
    assert Deal.objects.get(id=converted.deal_id).territory_id == first.id
    elsewhere = _capture("bo@cafe.fi", name="Bo", country="FI")
    converted = services.lead_convert(actor=owner, lead_id=elsewhere.id)
    assert Deal.objects.get(id=converted.deal_id).territory_id is None
    assert services.territory_for_deal(actor=owner, lead_id=lead.id) == first
    assert services.territory_for_deal(actor=owner, country="SE", postcode="9") == first


# --- pages -------------------------------------------------------------------------------------

def test_the_territories_page_adds_edits_reorders_and_says_who_wins(owner, sales_a, sales_a2,
                                                                   web_as):
    client = web_as(owner)
    made = client.post("/settings/territories/", {
        "name": "Nordics", "countries": "SE, NO", "member_ids": [sales_a.id, sales_a2.id],
        "company_sizes": []})
    assert made.status_code == 302
    client.post("/settings/territories/", {"name": "Sweden-North", "countries": "SE",
                                           "postcode_prefixes": "9", "member_ids": [sales_a2.id]})
    page = client.get("/settings/territories/").content.decode()
    assert "Nordics (position 1) wins over Sweden-North for leads in SE with postcode 9…" in page
    north = Territory.objects.get(name="Sweden-North")
    assert client.post(f"/settings/territories/{north.id}/move/",
                       {"direction": "up"}).status_code == 302
    page = client.get("/settings/territories/").content.decode()
    assert "Sweden-North (position 1) wins over Nordics for leads in SE with postcode 9…" in page
    bad = client.post("/settings/territories/", {"name": "Mars", "countries": "XX"})
    assert bad.status_code == 422
    assert "&#x27;XX&#x27; is not a country code" in bad.content.decode()
    bad = client.post("/settings/territories/", {"name": "Mars", "member_ids": ["777777"]})
    assert bad.status_code == 422
    assert "no active user with id 777777" in bad.content.decode()
    assert Territory.objects.count() == 2
    edit = client.post(f"/settings/territories/{north.id}/", {
        "name": "Sweden-North", "countries": "SE", "postcode_prefixes": "9, 8",
        "member_ids": [sales_a.id], "manager_id": ""})
    assert edit.status_code == 302
    north.refresh_from_db()
    assert north.postcode_prefixes == ["9", "8"]
    assert list(north.members.values_list("id", flat=True)) == [sales_a.id]
    edit_page = client.get(f"/settings/territories/{north.id}/").content.decode()
    assert "wins over Nordics" in edit_page
    assert client.post(f"/settings/territories/{north.id}/delete/").status_code == 302
    assert list(Territory.objects.values_list("name", "position")) == [("Nordics", 1)]


def test_territory_pages_are_the_owners(owner, sales_a, nordics, web_as):
    first = nordics[0]
    assert web_as(sales_a).get("/settings/territories/").status_code == 403
    assert web_as(sales_a).get(f"/settings/territories/{first.id}/").status_code == 403
    assert web_as(sales_a).post(f"/settings/territories/{first.id}/delete/").status_code == 403
    assert Territory.objects.filter(id=first.id).exists()


def test_the_assignment_page_takes_territory_skills_and_first_response(owner, nordics,
                                                                       web_as):
    first = nordics[0]
    client = web_as(owner)
    answer = client.post("/settings/lead-assignment/", {
        "name": "Nordic ovens", "method": "round_robin", "territory_id": str(first.id),
        "product_lines": "Ovens, mixers", "first_response_minutes": "30"})
    assert answer.status_code == 302
    page = client.get("/settings/lead-assignment/").content.decode()
    assert "interested in ovens, mixers; in territory Nordics" in page
    assert "answer within 30 min, else the next rep" in page
    assert "members of Nordics" in page
    bad = client.post("/settings/lead-assignment/", {
        "name": "X", "method": "round_robin", "territory_id": str(first.id),
        "first_response_minutes": "0"})
    assert bad.status_code == 422
    assert "Input should be greater than or equal to 1" in bad.content.decode()
    assert AssignmentRule.objects.count() == 1


def test_the_lead_page_logs_a_call_and_shows_a_missed_first_response(timed, sales_a,
                                                                      sales_a2, web_as):
    lead = _capture("anna@cafe.se", name="Anna Lind", country="SE")
    page = web_as(sales_a).get(f"/leads/{lead.id}/").content.decode()
    assert "Answer by" in page
    services.first_response_sweep(now=lead.respond_by + dt.timedelta(minutes=2))
    page = web_as(sales_a2).get(f"/leads/{lead.id}/").content.decode()
    assert "Not answered within 30 min</strong> by sam: handed to sara; tove told." in page
    assert "Handed on 1 time for no answer" in page
    answer = web_as(sales_a2).post(f"/leads/{lead.id}/contact/", {"channel": "call",
                                                                 "note": "booked a visit"})
    assert answer.status_code == 302
    page = web_as(sales_a2).get(f"/leads/{lead.id}/").content.decode()
    assert "by call <small class=\"muted\">(first response)</small>" in page
    assert "First response" in page and "booked a visit" in page


def test_the_worker_runs_the_sweep_every_minute(timed, sales_a, sales_a2):
    from django.utils import timezone

    from rapport.core.registry import periodic_jobs
    from rapport.sales import tasks

    job = next(j for j in periodic_jobs() if j.task is tasks.first_response_sweep)
    assert job.every == dt.timedelta(minutes=1)
    lead = _capture("anna@cafe.se", country="SE")
    assert tasks.first_response_sweep.call() == 0  # not due yet on the real clock
    # Half an hour has gone by: its deadline is behind us.
    Lead.objects.filter(id=lead.id).update(respond_by=timezone.now() - dt.timedelta(minutes=1))
    assert tasks.first_response_sweep.call() == 1
    lead.refresh_from_db()
    assert lead.owner_id == sales_a2.id


def test_a_web_form_can_ask_what_the_lead_is_interested_in(owner, sales_a, sales_b):
    from django.test import Client

    services.assignment_rule_create(actor=owner, data={
        "name": "Oven experts", "method": "user", "user_id": sales_b.id,
        "product_lines": "ovens"})
    services.assignment_rule_create(actor=owner, data={
        "name": "Everyone", "method": "user", "user_id": sales_a.id})
    form = services.web_form_create(actor=owner, data={
        "name": "Quote", "fields": ["email", "product_interest"], "required": ["email"]})
    answer = Client(REMOTE_ADDR="203.0.113.9").post(f"/f/{form.key}/", {
        "email": "eva@cafe.se", "product_interest": "Ovens"})
    assert answer.status_code == 302
    lead = Lead.objects.get(email="eva@cafe.se")
    assert (lead.product_interest, lead.owner_id) == ("Ovens", sales_b.id)


def test_a_territory_an_assignment_rule_uses_cannot_be_removed(owner, nordics, api_as, web_as):
    first, _, _ = nordics
    rule = services.assignment_rule_create(actor=owner, data={
        "name": "Nordics desk", "method": "round_robin", "territory_id": first.id})
    answer = api_as(owner).delete(f"/territories/{first.id}")
    assert answer.status_code == 422
    assert answer.json()["errors"]["territory"] == [
        "Nordics is used by the assignment rule Nordics desk; remove or change it first"]
    page = web_as(owner).post(f"/settings/territories/{first.id}/delete/", follow=True)
    assert "remove or change it first" in page.content.decode()
    assert Territory.objects.filter(id=first.id).exists()
    services.assignment_rule_delete(actor=owner, rule_id=rule.id)
    assert api_as(owner).delete(f"/territories/{first.id}").status_code == 204


def test_assignment_rules_move_to_a_position_through_the_api(owner, sales_a, sales_b, api_as):
    api = api_as(owner)
    ids = [api.post("/assignment-rules", {"name": name, "method": "user",
                                          "user_id": sales_a.id}).json()["id"]
           for name in ("A", "B", "C")]
    moved = api.post(f"/assignment-rules/{ids[2]}/move", {"position": 1})
    assert moved.status_code == 200 and moved.json()["position"] == 1
    assert [r["name"] for r in api.get("/assignment-rules").json()["items"]] == ["C", "A", "B"]
    assert api.post(f"/assignment-rules/{ids[2]}/move", {"position": 0}).status_code == 422


def test_a_deals_territory_from_a_lead_the_actor_cannot_see_is_refused(owner, nordics,
                                                                       sales_a, sales_b):
    services.assignment_rule_create(actor=owner, data={
        "name": "Sam", "method": "user", "user_id": sales_a.id})
    lead = _capture("anna@cafe.se", country="SE")
    assert lead.owner_id == sales_a.id
    with pytest.raises(ValidationFailed) as bad:
        services.territory_for_deal(actor=sales_b, lead_id=lead.id)
    assert set(bad.value.errors) == {"lead_id"}
    assert services.territory_for_deal(actor=sales_a, lead_id=lead.id) == nordics[0]
