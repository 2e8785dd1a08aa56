"""Machines that open tickets, in a real Chromium: the owner adds an event rule (a bad value is
named on the form), registers a customer's fridge from the contact page, the fridge reports
through the API with a real Bearer token, and the event log shows what happened with the
payload's HTML as text; the pages at desktop and 390 px phone width, nothing scrolling
sideways."""

from __future__ import annotations

import json
import urllib.request

import pytest
from playwright.sync_api import expect

from rapport.accounts import services as account_services
from rapport.contacts import services as contact_services
from rapport.support.models import Ticket
from tests.browser.support import DESKTOP, PHONE, login, make_user, shot


@pytest.fixture
def owner(transactional_db):
    return make_user("olivia@bakery.example.com", "owner", first_name="Olivia",
                     last_name="Baker")


def _wide(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


def _report(server: str, token: str, body: dict) -> dict:
    request = urllib.request.Request(
        f"{server}/api/v1/events", data=json.dumps(body).encode(), method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310 (live server)
        assert answer.status == 201
        return json.loads(answer.read())


def test_a_rule_a_device_and_its_events(page, phone, server, owner):
    cafe = contact_services.contact_create(actor=owner, data={
        "first_name": "Lena", "last_name": "Café", "emails": ["lena@cafe.example.org"]})
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    login(page, server, "olivia@bakery.example.com")
    page.goto(f"{server}/settings/")
    page.get_by_role("link", name="Devices and event rules").click()
    expect(page.locator("h1")).to_have_text("Devices and event rules")

    form = page.locator("#add-rule")
    form.get_by_label("Name").fill("Low coolant")
    form.get_by_label("Event type").fill("coolant.low")
    form.get_by_label("Payload field").fill("level")
    form.get_by_label("Condition").select_option("lt")
    form.get_by_label("Value").fill("low")
    form.get_by_label("Ticket subject").fill("Low coolant on {device}: {level}%")
    form.get_by_label("Priority").select_option("high")
    page.get_by_role("button", name="Add rule").click()
    expect(page.locator("#add-rule")).to_contain_text("must be a number")
    expect(page.locator("#add-rule").get_by_label("Value", exact=False)).to_have_attribute(
        "aria-invalid", "true")
    page.locator("#add-rule").get_by_label("Value", exact=False).fill("15")
    page.get_by_role("button", name="Add rule").click()
    expect(page.locator(".messages")).to_contain_text("Rule Low coolant added")
    expect(page.locator("#rules")).to_contain_text("level is less than 15")

    # The fridge is registered on its owner's contact page.
    page.goto(f"{server}/contacts/{cafe.id}/")
    panel = page.locator("#devices")
    expect(panel).to_contain_text("No devices")
    panel.get_by_label("Device id").fill("fridge-0042")
    panel.get_by_label("Name").fill("Kitchen fridge")
    panel.get_by_role("button", name="Register device").click()
    expect(page.locator(".messages")).to_contain_text("Device Kitchen fridge registered")
    expect(page.locator("#devices")).to_contain_text("Kitchen fridge")
    shot(page, "devices-contact-panel-desktop")

    # The fridge reports twice (one ticket), then something no rule matches.
    token = account_services.token_create(user=owner, name="fridge maker").raw
    first = _report(server, token, {"device_id": "fridge-0042", "type": "coolant.low",
                                    "payload": {"level": 9,
                                                "note": "<script>alert('x')</script><b>hot</b>"}})
    again = _report(server, token, {"device_id": "fridge-0042", "type": "coolant.low",
                                    "payload": {"level": 7}})
    fine = _report(server, token, {"device_id": "fridge-0042", "type": "door.open",
                                   "payload": {"seconds": 30}})
    assert (first["action"], again["action"], fine["action"]) == ("opened", "appended",
                                                                  "logged")
    ticket = Ticket.objects.get()
    assert ticket.subject == "Low coolant on Kitchen fridge: 9%"

    page.goto(f"{server}/support/devices/")
    events = page.locator("#events")
    expect(events).to_contain_text(f"opened a ticket: {ticket.reference}")
    expect(events).to_contain_text("added to the open ticket")
    expect(events).to_contain_text("logged (no rule matched)")
    expect(events).to_contain_text("<script>alert('x')</script><b>hot</b>")  # shown as text
    expect(page.locator("#devices")).to_contain_text("Lena Café")
    shot(page, "devices-settings-desktop")
    assert _wide(page) <= DESKTOP["width"]

    page.get_by_role("link", name="Kitchen fridge").first.click()
    expect(page.locator("h1")).to_contain_text("Kitchen fridge")
    expect(page.locator("#events tbody tr")).to_have_count(3)
    shot(page, "devices-detail-desktop")
    assert dialogs == []

    # The same pages on a phone: nothing scrolls sideways.
    login(phone, server, "olivia@bakery.example.com")
    for path, name in [("/support/devices/", "devices-settings-phone"),
                       (f"/contacts/{cafe.id}/", "devices-contact-panel-phone"),
                       (f"/support/devices/{ticket.device_id}/", "devices-detail-phone")]:
        phone.goto(f"{server}{path}")
        shot(phone, name)
        assert _wide(phone) <= PHONE["width"], (path, _wide(phone))
