"""The journey the issue asks for: log in, search, create with a bad phone, fix, remember."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.support import login, shot


def _contact(actor, **data):
    from rapport.contacts import services

    return services.contact_create(actor=actor, data=data)


def test_login_search_create_fix_remember(page, server, owner):
    from rapport.contacts import services
    from rapport.contacts.models import Contact

    bakery = services.company_create(actor=owner, data={"name": "Corner Café",
                                                        "industry": "Café"})
    margaret = _contact(owner, first_name="Margaret", last_name="Okafor",
                        emails=["margaret@cornercafe.example.com"], company_id=bakery.id)
    _contact(owner, first_name="Marcus", last_name="Lindqvist")

    # Log in with a real password through the form.
    login(page, server, "olivia@bakery.example.com")
    expect(page).to_have_url(f"{server}/")
    expect(page.locator(".user")).to_contain_text("Olivia")

    # Results appear as you type; clicking one opens that person.
    search = page.locator("#global-search")
    search.press_sequentially("okaf", delay=40)
    hit = page.locator("#search-results .hit", has_text="Margaret Okafor")
    expect(hit).to_be_visible()
    expect(hit).to_contain_text("Corner Café")
    expect(page.locator("#search-results .hit", has_text="Marcus")).to_have_count(0)
    shot(page, "search-as-you-type", full_page=False)
    hit.click()
    expect(page).to_have_url(f"{server}/contacts/{margaret.id}/")
    expect(page.locator("h1")).to_contain_text("Margaret Okafor")

    # A new contact with a phone number that cannot be real.
    page.goto(f"{server}/contacts/new/")
    page.get_by_label("First name").fill("Priya")
    page.get_by_label("Last name").fill("Raman")
    page.get_by_role("textbox", name="Emails").fill("priya.raman@example.org")
    page.get_by_label("Phones").fill("12345")
    page.get_by_label("Job title").fill("Head chef")
    page.get_by_label("Company").fill("Corner Café")
    page.get_by_role("button", name="Save").click()

    expect(page.get_by_role("alert").first).to_contain_text("nothing was saved")
    phones = page.get_by_label("Phones")
    expect(phones).to_have_attribute("aria-invalid", "true")
    phone_label = page.locator("label", has=page.locator("textarea[name=phones]"))
    expect(phone_label.locator(".error")).to_have_text("'12345' is not a valid phone number")
    # What was typed is still there, on every field.
    expect(phones).to_have_value("12345")
    expect(page.get_by_label("First name")).to_have_value("Priya")
    expect(page.get_by_role("textbox", name="Emails")).to_have_value("priya.raman@example.org")
    expect(page.get_by_label("Company")).to_have_value("Corner Café")
    assert not Contact.objects.filter(first_name="Priya").exists()
    shot(page, "contact-form-bad-phone")

    # Fix it and save.
    phones.fill("+44 20 7946 0958")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("h1")).to_contain_text("Priya Raman")
    priya = Contact.objects.get(first_name="Priya")
    expect(page).to_have_url(f"{server}/contacts/{priya.id}/")
    assert priya.phones == ["+442079460958"]
    expect(page.locator(".messages")).to_contain_text("Priya Raman added.")
    expect(page.locator("dl.details")).to_contain_text("+44 20 7946 0958")

    # Remember her usual order; it shows in "Remember" and on the timeline.
    page.get_by_label("New preference").fill("usual order: rye sourdough, no sesame")
    page.get_by_role("button", name="Remember").click()
    expect(page.locator("#preferences .prefs")).to_contain_text(
        "usual order: rye sourdough, no sesame")
    timeline = page.locator("#timeline")
    expect(timeline.locator("li").first).to_contain_text(re.compile("preferences", re.I))
    expect(timeline.locator("li").first).to_contain_text("usual order: rye sourdough, no sesame")
    expect(timeline).to_contain_text("Contact created")
    shot(page, "contact-360-after-preference")
