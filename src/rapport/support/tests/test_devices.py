"""Machines that open tickets: devices, event rules and ``POST /api/v1/events``."""

import datetime as dt
import json

import pytest

from rapport.contacts import services as contact_services
from rapport.core.errors import NotFound, PermissionDenied, ValidationFailed
from rapport.core.models import Event
from rapport.support import services
from rapport.support.models import (
    Device,
    EventRule,
    MachineEvent,
    MessageKind,
    Ticket,
    TicketMessage,
)
from rapport.testing import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent(db):
    return make_user("ada@bakery.example.com", "support")


@pytest.fixture
def cafe(owner):
    return contact_services.contact_create(actor=owner, data={
        "first_name": "Lena", "last_name": "Café", "emails": ["lena@cafe.example.org"]})


@pytest.fixture
def fridge(owner, cafe):
    return services.device_create(actor=owner, data={
        "device_id": "fridge-0042", "name": "Kitchen fridge", "contact_id": cafe.id})


@pytest.fixture
def coolant_rule(owner):
    return services.event_rule_create(actor=owner, data={
        "name": "Low coolant", "event_type": "coolant.low", "field": "level",
        "operator": "lt", "value": "15", "subject": "Low coolant on {device}: {level}%",
        "category": "maintenance", "priority": "high"})


def report(api, **body):
    return api.post("/events", {"device_id": "fridge-0042", "type": "coolant.low", **body})


# --- devices ---------------------------------------------------------------------------------

def test_a_device_is_registered_changed_and_removed_through_the_api(owner, cafe, api_as):
    api = api_as(owner)
    made = api.post("/devices", {"device_id": "fridge-0042", "name": "Kitchen fridge",
                                 "contact_id": cafe.id})
    assert made.status_code == 201, made.json()
    device = made.json()
    assert (device["device_id"], device["name"], device["contact_id"]) == (
        "fridge-0042", "Kitchen fridge", cafe.id)
    assert api.get("/devices", contact_id=cafe.id).json()["items"][0]["id"] == device["id"]
    assert api.get(f"/devices/{device['id']}").json()["name"] == "Kitchen fridge"
    changed = api.patch(f"/devices/{device['id']}", {"name": "Bar fridge"})
    assert changed.status_code == 200 and changed.json()["name"] == "Bar fridge"
    assert changed.json()["device_id"] == "fridge-0042"
    kinds = list(Event.objects.filter(entity_type="device").values_list("after", flat=True))
    assert kinds[0]["name"] == "Kitchen fridge" and kinds[1]["name"] == "Bar fridge"
    assert api.delete(f"/devices/{device['id']}").status_code == 204
    assert not Device.objects.exists()
    assert api.get(f"/devices/{device['id']}").status_code == 404


def test_bad_devices_are_refused_naming_the_field(owner, cafe, fridge, api_as, sales_b):
    api = api_as(owner)
    cases = [({"device_id": "", "contact_id": cafe.id}, "device_id"),
             ({"device_id": "has space", "contact_id": cafe.id}, "device_id"),
             ({"device_id": "<b>x</b>", "contact_id": cafe.id}, "device_id"),
             ({"device_id": "x" * 101, "contact_id": cafe.id}, "device_id"),
             ({"device_id": "fridge-0042", "contact_id": cafe.id}, "device_id"),  # taken
             ({"device_id": "ok-1"}, "contact_id"),
             ({"device_id": "ok-1", "contact_id": 999999}, "contact_id"),
             ({"device_id": "ok-1", "contact_id": cafe.id, "colour": "red"}, "colour")]
    for body, field in cases:
        answer = api.post("/devices", body)
        assert answer.status_code == 422, (body, answer.json())
        assert field in answer.json()["errors"], (body, answer.json())
    assert list(Device.objects.values_list("device_id", flat=True)) == ["fridge-0042"]
    # Renaming to an id another device has is refused too.
    other = services.device_create(actor=owner, data={"device_id": "oven-1",
                                                      "contact_id": cafe.id})
    answer = api.patch(f"/devices/{other.id}", {"device_id": "fridge-0042"})
    assert answer.status_code == 422 and "device_id" in answer.json()["errors"]
    # A rep of another team sees neither the contact nor the device.
    private = contact_services.contact_create(actor=owner, data={
        "first_name": "Private", "emails": ["p@example.org"], "owner_id": owner.id})
    hidden = services.device_create(actor=owner, data={"device_id": "hidden-1",
                                                       "contact_id": private.id})
    assert api_as(sales_b).get(f"/devices/{hidden.id}").status_code == 404
    with pytest.raises(ValidationFailed) as failure:
        services.device_create(actor=sales_b, data={"device_id": "mine-1",
                                                    "contact_id": private.id})
    assert "contact_id" in failure.value.errors


def test_marketing_sees_devices_but_may_not_register_them(cafe, api_as):
    marketer = make_user("mo@bakery.example.com", "marketing")
    answer = api_as(marketer).post("/devices", {"device_id": "x-1", "contact_id": cafe.id})
    assert answer.status_code == 403
    assert not Device.objects.exists()


# --- rules -----------------------------------------------------------------------------------

def test_rules_are_made_reordered_and_changed_through_the_api(owner, api_as):
    api = api_as(owner)
    first = api.post("/event-rules", {"name": "Door open", "event_type": "door.open",
                                      "subject": "Door open on {device}"})
    second = api.post("/event-rules", {"name": "Any alarm", "event_type": "alarm",
                                       "subject": "Alarm: {code}", "priority": "urgent"})
    assert first.status_code == second.status_code == 201, second.json()
    assert (first.json()["position"], second.json()["position"]) == (1, 2)
    moved = api.patch(f"/event-rules/{second.json()['id']}", {"position": 1})
    assert moved.status_code == 200 and moved.json()["position"] == 1
    names = [r["name"] for r in api.get("/event-rules").json()]
    assert names == ["Any alarm", "Door open"]
    changed = api.patch(f"/event-rules/{first.json()['id']}",
                        {"field": "seconds", "operator": "gt", "value": "60"})
    assert changed.status_code == 200, changed.json()
    assert (changed.json()["field"], changed.json()["operator"]) == ("seconds", "gt")
    # Taking the condition away clears its value.
    cleared = api.patch(f"/event-rules/{first.json()['id']}",
                        {"field": "", "operator": ""}).json()
    assert (cleared["field"], cleared["operator"], cleared["value"]) == ("", "", "")
    assert api.delete(f"/event-rules/{first.json()['id']}").status_code == 204
    assert list(EventRule.objects.values_list("name", flat=True)) == ["Any alarm"]
    assert Event.objects.filter(kind="event_rule.changed").count() == 6


def test_bad_rules_are_refused_naming_the_field(owner, agent, api_as):
    api = api_as(owner)
    good = {"name": "Low", "event_type": "coolant.low", "subject": "Low coolant"}
    cases = [({**good, "name": ""}, "name"),
             ({**good, "event_type": ""}, "event_type"),
             ({**good, "event_type": "two words"}, "event_type"),
             ({**good, "subject": ""}, "subject"),
             ({**good, "subject": "Low on {device.__class__.__init__!r}"}, "subject"),
             ({**good, "subject": "Low {0}"}, "subject"),
             ({**good, "subject": "Low {level:>10}"}, "subject"),
             ({**good, "subject": "Low {"}, "subject"),
             ({**good, "field": "level"}, "operator"),
             ({**good, "operator": "eq", "value": "1"}, "field"),
             ({**good, "field": "level", "operator": "lt", "value": "low"}, "value"),
             ({**good, "field": "level", "operator": "contains"}, "value"),
             ({**good, "field": "level", "operator": "like", "value": "1"}, "operator"),
             ({**good, "field": "a b", "operator": "eq", "value": "1"}, "field"),
             ({**good, "priority": "whenever"}, "priority")]
    for body, field in cases:
        answer = api.post("/event-rules", body)
        assert answer.status_code == 422, (body, answer.json())
        assert field in answer.json()["errors"], (body, answer.json())
    assert not EventRule.objects.exists()
    # Support agents read the rules; only owners and managers change them.
    assert api_as(agent).post("/event-rules", good).status_code == 403
    assert api_as(agent).get("/event-rules").status_code == 200


def test_conditions_compare_numbers_as_numbers_and_text_without_case(owner):
    def rule(operator, value, field="level"):
        return EventRule(name="r", event_type="t", field=field, operator=operator, value=value,
                         subject="s")

    holds = services.condition_holds
    assert holds(rule("lt", "15"), {"level": 9})  # 9 < 15 (as text "9" > "15")
    assert holds(rule("lt", "15"), {"level": "9.5"})
    assert not holds(rule("lt", "15"), {"level": 100})
    assert holds(rule("gt", "1e2"), {"level": 101})
    assert not holds(rule("gt", "1"), {"level": "lots"})
    assert not holds(rule("gt", "0"), {"level": True})  # booleans are not numbers
    assert holds(rule("eq", "10"), {"level": 10.0})
    assert holds(rule("eq", "OPEN"), {"level": "open"})
    assert holds(rule("eq", "true"), {"level": True})
    assert holds(rule("ne", "ok"), {"level": "fault"})
    assert not holds(rule("ne", "ok"), {})  # a missing field never matches
    assert holds(rule("contains", "ice"), {"level": "Ice build-up"})
    assert holds(rule("contains", "E42"), {"level": ["e17", "e42"]})
    assert holds(rule("lt", "0", field="sensors.1.temp"),
                 {"sensors": [{"temp": 3}, {"temp": -2}]})
    assert holds(rule("", "", field=""), {})  # no condition: the event type decides


def test_subjects_fill_placeholders_safely(fridge):
    render = services.render_subject
    assert render("Low coolant on {device}: {level}%", device=fridge, event_type="coolant.low",
                  payload={"level": 9.5}) == "Low coolant on Kitchen fridge: 9.5%"
    assert render("{type} {device_id} {a.b} {{literal}}", device=fridge, event_type="x",
                  payload={"a": {"b": [1, 2]}}) == "x fridge-0042 [1, 2] {literal}"
    # No attribute of any object is reachable; a missing field shows "?".
    assert render("{device.__class__} {level.__doc__} {nope}", device=fridge, event_type="x",
                  payload={"level": 1}) == "? ? ?"
    # Tags in values are dropped; long values are cut.
    assert render("Fault: {code}", device=fridge, event_type="x",
                  payload={"code": "<script>alert(1)</script><b>E42</b>"}) == "Fault: E42"
    long = render("{note}", device=fridge, event_type="x", payload={"note": "y" * 500})
    assert len(long) == 80 and long.endswith("…")


# --- events ----------------------------------------------------------------------------------

def test_an_event_opens_one_ticket_and_later_ones_join_it(owner, cafe, fridge, coolant_rule,
                                                        api_as):
    api = api_as(owner)
    first = report(api, payload={"level": 9, "unit": "%"},
                   occurred_at="2026-07-01T08:30:00+02:00")
    assert first.status_code == 201, first.json()
    body = first.json()
    ticket = Ticket.objects.get()
    assert body == {"event_id": body["event_id"], "action": "opened", "ticket_id": ticket.id,
                    "reference": ticket.reference, "rule": "Low coolant",
                    "rule_id": coolant_rule.id}
    assert ticket.subject == "Low coolant on Kitchen fridge: 9%"
    assert (ticket.contact_id, ticket.channel, ticket.device_id) == (cafe.id, "device", fridge.id)
    assert (ticket.category, ticket.priority) == ("maintenance", "high")
    assert "reported coolant.low at 2026-07-01 06:30:00 UTC" in ticket.description
    assert "level: 9" in ticket.description
    event = MachineEvent.objects.get(id=body["event_id"])
    assert (event.action, event.ticket_id, event.rule_id) == ("opened", ticket.id,
                                                              coolant_rule.id)
    assert event.occurred_at == dt.datetime(2026, 7, 1, 6, 30, tzinfo=dt.UTC)
    # While it is open, the same rule's events add a system message instead.
    second = report(api, payload={"level": 7})
    assert second.json()["action"] == "appended"
    assert second.json()["ticket_id"] == ticket.id
    assert Ticket.objects.count() == 1
    system = TicketMessage.objects.get(ticket=ticket, kind=MessageKind.SYSTEM)
    assert "level: 7" in system.body and system.author_id is None
    logged = Event.objects.get(kind="ticket.machine_event", entity_id=ticket.id)
    assert logged.contact_id is None and logged.after["reference"] == ticket.reference
    # An event no rule matches is only logged.
    fine = report(api, payload={"level": 80})
    assert fine.json() == {"event_id": fine.json()["event_id"], "action": "logged",
                           "ticket_id": None, "reference": None, "rule": None, "rule_id": None}
    # Once the ticket is closed, the next matching event opens a new one.
    Ticket.objects.filter(id=ticket.id).update(status="closed")
    third = report(api, payload={"level": 3})
    assert third.json()["action"] == "opened" and third.json()["ticket_id"] != ticket.id
    assert MachineEvent.objects.count() == 4
    listed = api.get("/events", device=fridge.id).json()["items"]
    assert [e["action"] for e in listed] == ["opened", "logged", "appended", "opened"]
    assert listed[0]["reference"] == third.json()["reference"]


def test_the_first_matching_active_rule_wins(owner, fridge, coolant_rule, api_as):
    services.event_rule_create(actor=owner, data={
        "name": "Any coolant report", "event_type": "coolant.low", "subject": "Coolant: {level}"})
    critical = services.event_rule_create(actor=owner, data={
        "name": "Critical", "event_type": "coolant.low", "field": "level", "operator": "lt",
        "value": "5", "subject": "Critical coolant on {device}", "priority": "urgent"})
    services.event_rule_update(actor=owner, rule_id=critical.id, changes={"position": 1})
    api = api_as(owner)
    assert report(api, payload={"level": 2}).json()["rule"] == "Critical"
    assert report(api, payload={"level": 10}).json()["rule"] == "Low coolant"
    assert report(api, payload={"level": 50}).json()["rule"] == "Any coolant report"
    services.event_rule_update(actor=owner, rule_id=critical.id, changes={"active": False})
    assert report(api, payload={"level": 1}).json() | {"event_id": 0} == {
        "event_id": 0, "action": "appended", "ticket_id": Ticket.objects.get(
            subject="Low coolant on Kitchen fridge: 10%").id,
        "reference": Ticket.objects.get(subject="Low coolant on Kitchen fridge: 10%").reference,
        "rule": "Low coolant", "rule_id": coolant_rule.id}
    assert report(api, type="door.open").json()["action"] == "logged"


def test_bad_events_are_refused_naming_the_field_and_change_nothing(owner, fridge,
                                                                    coolant_rule, api_as):
    api = api_as(owner)
    nested = {"a": {"b": {"c": {"d": {"e": {"f": 1}}}}}}
    cases = [({"payload": [1, 2]}, "payload"),
             ({"payload": "low"}, "payload"),
             ({"payload": {"blob": "x" * (17 * 1024)}}, "payload"),
             ({"payload": nested}, "payload"),
             ({"payload": {"list": [[[[[[1]]]]]]}}, "payload"),
             ({"payload": {"note": "nul\u0000here"}}, "payload"),
             ({"payload": {"level": float("nan")}}, "payload"),
             ({"type": ""}, "type"),
             ({"type": "   "}, "type"),
             ({"type": "<script>"}, "type"),
             ({"device_id": ""}, "device_id"),
             ({"occurred_at": "yesterday"}, "occurred_at"),
             ({"colour": "red"}, "colour")]
    for extra, field in cases:
        answer = report(api, **extra)
        assert answer.status_code == 422, (extra, answer.json())
        assert field in answer.json()["errors"], (extra, answer.json())
    big = report(api, payload={"blob": "x" * (17 * 1024)}).json()["errors"]["payload"][0]
    assert "16 KB" in big
    deep = report(api, payload=nested).json()["errors"]["payload"][0]
    assert "nested deeper than 5 levels" in deep
    # Five levels is fine.
    assert report(api, payload={"a": {"b": {"c": {"d": {"e": 1}}}}}).status_code == 201
    unknown = report(api, device_id="toaster-9", payload={"level": 1})
    assert unknown.status_code == 404 and "device_id" in unknown.json()["detail"]
    assert "toaster-9" in unknown.json()["detail"]
    assert MachineEvent.objects.count() == 1 and Ticket.objects.count() == 0


def test_a_very_deep_body_is_refused_not_crashed(owner, fridge, api_as):
    api = api_as(owner)
    body = '{"device_id": "fridge-0042", "type": "x", "payload": {"a": ' + "[" * 5000 + \
        "]" * 5000 + "}}"
    answer = api.client.post("/api/v1/events", body, content_type="application/json",
                             headers=api.headers)
    assert answer.status_code == 400, answer.content  # ninja: "Cannot parse request body"
    assert not MachineEvent.objects.exists()


def test_html_in_a_payload_is_plain_text_in_the_ticket(owner, fridge, api_as, web_as):
    services.event_rule_create(actor=owner, data={
        "name": "Fault", "event_type": "fault", "subject": "Fault {code} on {device}"})
    api = api_as(owner)
    answer = api.post("/events", {"device_id": "fridge-0042", "type": "fault", "payload": {
        "code": "<img src=x onerror=alert(1)>E42", "note": "<script>steal()</script>hot"}})
    assert answer.status_code == 201
    ticket = Ticket.objects.get()
    assert ticket.subject == "Fault E42 on Kitchen fridge"
    assert "<" not in ticket.description and "steal" not in ticket.description
    assert "note: hot" in ticket.description
    # The log keeps what was sent; the pages escape it.
    assert MachineEvent.objects.get().payload["note"] == "<script>steal()</script>hot"
    page = web_as(owner).get("/support/devices/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "<script>steal()" not in html and "&lt;script&gt;steal()" in html
    assert "<img src=x" not in html


def test_who_may_report_events(owner, cafe, fridge, coolant_rule, api_as, sales_b):
    marketer = make_user("mo@bakery.example.com", "marketing")
    answer = report(api_as(marketer), payload={"level": 1})
    assert answer.status_code == 403  # may not open tickets
    # A rep who cannot see the device's owner does not learn the device exists.
    assert report(api_as(sales_b), payload={"level": 1}).status_code == 404
    assert api_as(owner).client.post(
        "/api/v1/events", {"device_id": "fridge-0042", "type": "x"},
        content_type="application/json").status_code == 401
    assert not MachineEvent.objects.exists() and not Ticket.objects.exists()
    with pytest.raises(PermissionDenied):
        services.machine_event_record(actor=marketer, data={"device_id": "fridge-0042",
                                                            "type": "x"})
    with pytest.raises(NotFound):
        services.machine_event_record(actor=owner, data={"device_id": "nope", "type": "x"})


def test_removing_a_device_keeps_its_tickets(owner, fridge, coolant_rule, api_as):
    api = api_as(owner)
    opened = report(api, payload={"level": 1}).json()
    services.device_delete(actor=owner, device_pk=fridge.id)
    ticket = Ticket.objects.get(id=opened["ticket_id"])
    assert ticket.device_id is None
    assert not MachineEvent.objects.exists()


# --- pages -----------------------------------------------------------------------------------

def test_rules_are_managed_on_the_settings_page(owner, fridge, web_as):
    client = web_as(owner)
    page = client.get("/settings/")
    assert "/support/devices/" in page.content.decode()
    bad = client.post("/support/devices/", {"name": "Low", "event_type": "coolant.low",
                                            "field": "level", "operator": "lt",
                                            "value": "low", "subject": "x", "priority": "high",
                                            "active": "on"})
    assert bad.status_code == 422
    assert "must be a number" in bad.content.decode()
    assert not EventRule.objects.exists()
    made = client.post("/support/devices/", {"name": "Low", "event_type": "coolant.low",
                                             "field": "level", "operator": "lt",
                                             "value": "15", "subject": "Low on {device}",
                                             "priority": "high", "active": "on"})
    assert made.status_code == 302
    rule = EventRule.objects.get()
    assert (rule.position, rule.priority, rule.active) == (1, "high", True)
    second = services.event_rule_create(actor=owner, data={
        "name": "Door", "event_type": "door.open", "subject": "Door"})
    client.post(f"/support/devices/rules/{second.id}/move/", {"direction": "up"})
    assert list(EventRule.objects.order_by("position").values_list("name", flat=True)) == [
        "Door", "Low"]
    edited = client.post(f"/support/devices/rules/{rule.id}/", {
        "name": "Low coolant", "event_type": "coolant.low", "field": "", "operator": "",
        "value": "", "subject": "Coolant low on {device}", "priority": "normal"})
    assert edited.status_code == 302
    rule.refresh_from_db()
    assert (rule.name, rule.active, rule.field) == ("Low coolant", False, "")
    client.post(f"/support/devices/rules/{rule.id}/delete/")
    assert list(EventRule.objects.values_list("name", flat=True)) == ["Door"]


def test_devices_are_registered_from_the_contact_page(owner, cafe, web_as):
    client = web_as(owner)
    page = client.get(f"/contacts/{cafe.id}/").content.decode()
    assert 'id="devices"' in page and "Add a device" in page
    bad = client.post(f"/contacts/{cafe.id}/devices/new/", {"device_id": "has space"})
    assert bad.status_code == 422 and "no spaces" in bad.content.decode()
    made = client.post(f"/contacts/{cafe.id}/devices/new/", {"device_id": "oven-7",
                                                              "name": "Pizza oven"})
    assert made.status_code == 302
    device = Device.objects.get()
    assert (device.device_id, device.name, device.contact_id) == ("oven-7", "Pizza oven",
                                                                   cafe.id)
    page = client.get(f"/contacts/{cafe.id}/").content.decode()
    assert "Pizza oven" in page
    assert "Device registered</strong>: Pizza oven" in page  # on the timeline
    detail = client.get(f"/support/devices/{device.id}/")
    assert detail.status_code == 200 and "oven-7" in detail.content.decode()
    client.post(f"/support/devices/{device.id}/", {"device_id": "oven-7", "name": "Oven"})
    device.refresh_from_db()
    assert device.name == "Oven"
    client.post(f"/support/devices/{device.id}/delete/")
    assert not Device.objects.exists()


def test_the_limits_are_the_columns():
    from rapport.support.services import devices

    assert devices.SUBJECT_LIMIT == Ticket._meta.get_field("subject").max_length
    assert devices.DESCRIPTION_LIMIT == Ticket._meta.get_field("description").max_length
    assert devices.BODY_LIMIT == TicketMessage._meta.get_field("body").max_length


def test_event_payload_json_is_stored_as_sent(owner, fridge, api_as):
    payload = {"level": 9, "ok": False, "none": None, "list": [1, "two", {"three": 3.5}],
               "naïve": "ünïcode ✓"}
    answer = report(api_as(owner), payload=payload)
    assert answer.status_code == 201
    assert MachineEvent.objects.get().payload == payload
    assert json.loads(json.dumps(payload)) == payload
