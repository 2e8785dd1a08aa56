"""Business hours and SLA policies: pages and API, bad input, who may change them."""

import pytest

from rapport.core.errors import PermissionDenied, ValidationFailed
from rapport.core.models import Event
from rapport.support.models import ClosedDay, DeskSettings, SlaPolicy
from rapport.support.services import sla
from rapport.testing import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent(db):
    return make_user("ada@bakery.example.com", "support", team="desk")


def test_defaults_when_nothing_is_set(settings, owner, api_as):
    settings.TIME_ZONE = "Europe/Oslo"
    shown = api_as(owner).get("/business-hours").json()
    assert shown["time_zone"] == "Europe/Oslo" and shown["holiday_country"] == ""
    assert shown["hours"]["mon"] == [["09:00", "17:00"]] and shown["hours"]["sat"] == []
    # The data migration made the default policies (and seeding again makes none).
    assert SlaPolicy.objects.count() == 8 and sla.sla_policies_seed() == 0
    urgent = SlaPolicy.objects.get(priority="urgent", tier="standard")
    assert (urgent.first_response_minutes, urgent.resolution_minutes) == (60, 480)


def test_the_api_changes_business_hours_and_records_it(owner, api_as):
    body = {"time_zone": "Europe/Berlin", "holiday_country": "de", "holiday_subdivision": "by",
            "hours": {"mon": [["08:00", "12:00"], ["13:00", "17:00"]], "fri": "08:00-14:00",
                      "sat": [["22:00", "02:00"]]},
            "closed_days": [{"day": "2026-12-24", "name": "Christmas Eve"}]}
    answer = api_as(owner).client.put("/api/v1/business-hours", body,
                                      content_type="application/json",
                                      headers=api_as(owner).headers)
    assert answer.status_code == 200, answer.json()
    got = answer.json()
    assert (got["holiday_country"], got["holiday_subdivision"]) == ("DE", "BY")
    assert got["hours"]["fri"] == [["08:00", "14:00"]] and got["hours"]["tue"] == []
    assert got["closed_days"] == [{"day": "2026-12-24", "name": "Christmas Eve"}]
    event = Event.objects.get(kind="desk_settings.changed")
    assert event.after["what"] == "business_hours" and event.after["time_zone"] == "Europe/Berlin"
    cal = sla.business_calendar(fresh=True)
    assert cal.zone.key == "Europe/Berlin" and cal.country == "DE"


BAD_HOURS = [
    ({"time_zone": "Mars/Olympus"}, "time_zone"),
    ({"time_zone": ""}, "time_zone"),
    ({"time_zone": "UTC", "holiday_country": "XX"}, "holiday_country"),
    ({"time_zone": "UTC", "holiday_country": "SWE"}, "holiday_country"),
    ({"time_zone": "UTC", "holiday_country": "SE", "holiday_subdivision": "ZZ"},
     "holiday_subdivision"),
    ({"time_zone": "UTC", "holiday_subdivision": "BY"}, "holiday_subdivision"),
    ({"time_zone": "UTC", "hours": {"mon": [["9am", "5pm"]]}}, "hours"),
    ({"time_zone": "UTC", "hours": {"mon": [["09:00", "17:00"], ["16:00", "18:00"]]}}, "hours"),
    ({"time_zone": "UTC", "hours": {"funday": [["09:00", "17:00"]]}}, "hours"),
    ({"time_zone": "UTC", "hours": {"mon": []}}, "hours"),
    ({"time_zone": "UTC", "hours": {"mon": [["09:00", "09:00"]]}}, "hours"),
    ({"time_zone": "UTC", "closed_days": [{"day": "someday"}]}, "closed_days.0.day"),
    ({"time_zone": "UTC", "closed_days": [{"day": "2026-12-24"}, {"day": "2026-12-24"}]},
     "closed_days"),
    ({"time_zone": "UTC", "colour": "blue"}, "colour"),
]


@pytest.mark.parametrize(("body", "field"), BAD_HOURS)
def test_bad_business_hours_name_the_field_and_change_nothing(owner, api_as, body, field):
    client = api_as(owner)
    before = client.get("/business-hours").json()
    answer = client.client.put("/api/v1/business-hours", body, content_type="application/json",
                               headers=client.headers)
    assert answer.status_code == 422, answer.json()
    assert field in answer.json()["errors"], answer.json()
    assert client.get("/business-hours").json() == before
    assert not Event.objects.filter(kind="desk_settings.changed").exists()


def test_policies_crud_through_the_api(owner, api_as):
    client = api_as(owner)
    SlaPolicy.objects.filter(priority="high", tier="premium").delete()
    made = client.post("/sla-policies", {"priority": "high", "tier": "premium",
                                         "first_response_minutes": "1h 30m",
                                         "resolution_minutes": "1d",
                                         "at_risk_percent": 75})
    assert made.status_code == 201, made.json()
    policy = made.json()
    assert (policy["first_response_minutes"], policy["resolution_minutes"]) == (90, 480)
    assert policy["name"] == "High (premium)"
    got = client.get(f"/sla-policies/{policy['id']}").json()
    assert got == policy
    changed = client.client.put(f"/api/v1/sla-policies/{policy['id']}", {
        "priority": "high", "tier": "premium", "first_response_minutes": 60,
        "resolution_minutes": 240, "active": False}, content_type="application/json",
        headers=client.headers)
    assert changed.status_code == 200 and changed.json()["active"] is False
    assert len(client.get("/sla-policies").json()) == 8
    assert client.delete(f"/sla-policies/{policy['id']}").status_code == 204
    assert client.get(f"/sla-policies/{policy['id']}").status_code == 404
    kinds = [e.after.get("policy_id") for e in Event.objects.filter(kind="desk_settings.changed")]
    assert kinds == [policy["id"]] * 3


BAD_POLICIES = [
    ({"priority": "whenever", "first_response_minutes": 60, "resolution_minutes": 60},
     "priority"),
    ({"priority": "low", "tier": "gold", "first_response_minutes": 60,
      "resolution_minutes": 60}, "tier"),
    ({"priority": "low", "first_response_minutes": 0, "resolution_minutes": 60},
     "first_response_minutes"),
    ({"priority": "low", "first_response_minutes": "soon", "resolution_minutes": 60},
     "first_response_minutes"),
    ({"priority": "low", "first_response_minutes": 60}, "resolution_minutes"),
    ({"priority": "low", "first_response_minutes": 600, "resolution_minutes": 60},
     "resolution_minutes"),
    ({"priority": "low", "first_response_minutes": 60, "resolution_minutes": 600,
      "at_risk_percent": 100}, "at_risk_percent"),
    # A second policy for the same priority and tier.
    ({"priority": "low", "first_response_minutes": 60, "resolution_minutes": 600}, "priority"),
]


@pytest.mark.parametrize(("body", "field"), BAD_POLICIES)
def test_bad_policies_name_the_field_and_change_nothing(owner, api_as, body, field):
    before = list(SlaPolicy.objects.order_by("id").values())
    answer = api_as(owner).post("/sla-policies", body)
    assert answer.status_code == 422, answer.json()
    assert field in answer.json()["errors"], answer.json()
    assert list(SlaPolicy.objects.order_by("id").values()) == before


def test_only_settings_change_may_edit(owner, agent, manager_a, sales_a, api_as, web_as):
    policy = SlaPolicy.objects.get(priority="low", tier="standard")
    body = {"priority": "low", "first_response_minutes": 5, "resolution_minutes": 10}
    for user in (agent, manager_a, sales_a):
        client = api_as(user)
        assert client.client.put(f"/api/v1/sla-policies/{policy.id}", body,
                                 content_type="application/json",
                                 headers=client.headers).status_code == 403
        assert client.delete(f"/sla-policies/{policy.id}").status_code == 403
        assert client.client.put("/api/v1/business-hours", {"time_zone": "UTC"},
                                 content_type="application/json",
                                 headers=client.headers).status_code == 403
        with pytest.raises(PermissionDenied):
            sla.sla_policy_create(actor=user, data=body)
        page = web_as(user)
        assert page.get("/settings/sla-policies/").status_code == 403
        assert page.post("/settings/business-hours/", {"time_zone": "UTC"}).status_code == 403
    # An agent may read them (the desk shows what a ticket follows).
    assert api_as(agent).get("/sla-policies").status_code == 200
    policy.refresh_from_db()
    assert policy.first_response_minutes == 960
    assert not DeskSettings.objects.exclude(business_hours={}).exists()
    assert not Event.objects.filter(kind="desk_settings.changed").exists()


def test_a_policy_open_tickets_follow_cannot_be_deleted(owner, agent,
                                                        django_capture_on_commit_callbacks):
    from rapport.support import services

    with django_capture_on_commit_callbacks(execute=True):
        ticket = services.ticket_open(actor=agent, data={"subject": "Hi",
                                                         "email": "a@example.org"}).ticket
    ticket.refresh_from_db()
    with pytest.raises(ValidationFailed) as refused:
        sla.sla_policy_delete(actor=owner, policy_id=ticket.sla_policy_id)
    assert "inactive" in str(refused.value.errors["policy"])


def test_the_settings_pages(owner, web_as):
    page = web_as(owner)
    shown = page.get("/settings/").content.decode()
    assert "/settings/business-hours/" in shown and "/settings/sla-policies/" in shown
    assert "Monday" in page.get("/settings/business-hours/").content.decode()
    saved = page.post("/settings/business-hours/", {
        "time_zone": "Europe/Stockholm", "holiday_country": "SE", "holiday_subdivision": "",
        "hours_mon": "08:00-12:00, 13:00-17:00", "hours_tue": "09:00-17:00",
        "hours_wed": "", "hours_thu": "", "hours_fri": "", "hours_sat": "", "hours_sun": "",
        "closed_days": "2026-12-24 Christmas Eve\n2026-12-31 New Year's Eve"})
    assert saved.status_code == 302
    assert list(ClosedDay.objects.order_by("day").values_list("name", flat=True)) == [
        "Christmas Eve", "New Year's Eve"]
    again = page.get("/settings/business-hours/").content.decode()
    assert "08:00-12:00, 13:00-17:00" in again and "Next public holidays" in again
    bad = page.post("/settings/business-hours/", {
        "time_zone": "Nowhere/Land", "hours_mon": "25:00-26:00",
        "closed_days": "tomorrow off"})
    assert bad.status_code == 422
    body = bad.content.decode()
    assert "is not a time zone" in body and "is not a day written YYYY-MM-DD" in body
    assert DeskSettings.objects.get().time_zone == "Europe/Stockholm"
    # Policies: add with words, errors on the field, edit.
    SlaPolicy.objects.filter(priority="urgent", tier="premium").delete()
    made = page.post("/settings/sla-policies/", {
        "priority": "urgent", "tier": "premium", "first_response_minutes": "15m",
        "resolution_minutes": "2h", "at_risk_percent": "50", "active": "on"})
    assert made.status_code == 302
    policy = SlaPolicy.objects.get(priority="urgent", tier="premium")
    assert (policy.first_response_minutes, policy.resolution_minutes) == (15, 120)
    listing = page.get("/settings/sla-policies/").content.decode()
    assert "15m" in listing and "2h" in listing
    wrong = page.post("/settings/sla-policies/", {
        "policy_id": policy.id, "priority": "urgent", "tier": "premium",
        "first_response_minutes": "3h", "resolution_minutes": "2h", "at_risk_percent": "50"})
    assert wrong.status_code == 422
    assert "must not be shorter than the first response" in wrong.content.decode()
    policy.refresh_from_db()
    assert policy.first_response_minutes == 15


def test_the_migration_seeds_the_documented_defaults():
    import importlib

    migration = importlib.import_module("rapport.support.migrations.0004_sla_default_policies")
    assert migration.DEFAULTS == sla.DEFAULT_POLICIES
    made = {(p.priority, p.tier, p.first_response_minutes, p.resolution_minutes)
            for p in SlaPolicy.objects.all()}
    assert made == set(sla.DEFAULT_POLICIES)
