"""Phone-width layout, custom fields from the settings page, bulk delete asks first, logging out."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.support import PHONE, login, shot


def _contact(actor, **data):
    from rapport.contacts import services

    return services.contact_create(actor=actor, data=data)


def _page_width(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


def test_phone_width_burger_menu_and_search(phone, server, owner):
    rosa = _contact(owner, first_name="Rosa", last_name="Fernández",
                    emails=["rosa.fernandez@example.net"], phones=["+44 7911 123456"],
                    job_title="Owner", tags=["wholesale", "weekly"],
                    preferences=["usual order: rye sourdough, no sesame"])
    login(phone, server, "olivia@bakery.example.com")

    nav = phone.get_by_role("navigation", name="Main")
    burger = phone.locator(".nav-burger")
    expect(burger).to_be_visible()
    expect(nav).to_be_hidden()
    search = phone.locator("#global-search")
    expect(search).to_be_visible()
    box = search.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    assert _page_width(phone) <= PHONE["width"]
    shot(phone, "phone-home")

    burger.click()
    expect(nav).to_be_visible()
    shot(phone, "phone-menu-open", full_page=False)
    nav.get_by_role("link", name="Contacts").click()
    expect(phone).to_have_url(f"{server}/contacts/")
    expect(nav).to_be_hidden()  # a new page starts with the menu folded
    # Keyboard users reach the menu switch too.
    phone.get_by_role("checkbox", name="Menu").focus()
    phone.keyboard.press("Space")
    expect(nav).to_be_visible()
    phone.keyboard.press("Space")
    expect(nav).to_be_hidden()
    assert _page_width(phone) <= PHONE["width"]
    shot(phone, "phone-contact-list")

    phone.locator("#global-search").press_sequentially("rosa", delay=40)
    hit = phone.locator("#search-results .hit", has_text="Rosa Fernández")
    expect(hit).to_be_visible()
    hit_box = hit.bounding_box()
    assert hit_box["x"] >= 0 and hit_box["x"] + hit_box["width"] <= PHONE["width"]
    shot(phone, "phone-search", full_page=False)
    hit.click()
    expect(phone).to_have_url(f"{server}/contacts/{rosa.id}/")
    expect(phone.locator("#preferences")).to_contain_text("rye sourdough")
    assert _page_width(phone) <= PHONE["width"]
    shot(phone, "phone-contact-360")

    phone.goto(f"{server}/contacts/new/")
    assert _page_width(phone) <= PHONE["width"]
    shot(phone, "phone-contact-form")


def test_a_custom_field_added_in_settings_shows_on_the_contact_form(page, server, owner):
    from rapport.contacts.models import Contact

    login(page, server, "olivia@bakery.example.com")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Settings").click()
    shot(page, "settings-index")
    page.get_by_role("link", name="Custom fields").click()
    expect(page.get_by_role("cell", name="No custom fields yet.")).to_be_visible()

    form = page.locator("form", has_text="Add a custom field")
    form.locator("select[name=object_type]").select_option("contact")
    form.get_by_label("Label").fill("Favourite loaf")
    form.get_by_label("Key").fill("favourite_loaf")
    form.get_by_label("Type").select_option("choice")
    form.get_by_label("Choices").fill("rye, spelt, white")
    form.get_by_role("button", name="Add field").click()

    expect(page.locator(".messages")).to_have_text("Custom field added.")
    row = page.locator("table.list tbody tr", has_text="favourite_loaf")
    expect(row.get_by_label("Label of favourite_loaf")).to_have_value("Favourite loaf")
    expect(row.get_by_label("Choices of favourite_loaf")).to_have_value("rye, spelt, white")
    shot(page, "settings-custom-field-added")

    page.goto(f"{server}/contacts/new/")
    loaf = page.get_by_role("combobox", name="Favourite loaf")
    expect(loaf).to_be_visible()
    expect(loaf.locator("option")).to_have_text(["—", "rye", "spelt", "white"])
    page.get_by_label("First name").fill("Tomasz")
    page.get_by_label("Last name").fill("Nowak")
    loaf.select_option("spelt")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("h1")).to_contain_text("Tomasz Nowak")
    expect(page.locator("dl.details")).to_contain_text("Favourite loaf")
    expect(page.locator("dl.details")).to_contain_text("spelt")
    assert Contact.objects.get(first_name="Tomasz").custom_fields == {"favourite_loaf": "spelt"}

    # The field is a filter on the contact list too.
    page.goto(f"{server}/contacts/")
    page.get_by_role("form", name="Filters").locator("select[name=cf_favourite_loaf]") \
        .select_option("spelt")
    page.get_by_role("form", name="Filters").get_by_role("button", name="Apply").click()
    expect(page.locator("table.list tbody tr")).to_have_text([re.compile("Tomasz Nowak")])


def test_bulk_delete_asks_before_deleting(page, server, owner):
    from rapport.contacts.models import Contact

    _contact(owner, first_name="Ines", last_name="Moreau")
    login(page, server, "olivia@bakery.example.com")
    page.goto(f"{server}/contacts/")
    dialogs: list[str] = []

    def dismiss(dialog):
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", dismiss)
    page.get_by_label("Select Ines Moreau").check()
    page.get_by_label("With the selected").select_option("delete")
    page.get_by_role("button", name="Apply to selected").click()
    page.wait_for_load_state()
    page.wait_for_timeout(300)
    assert dialogs == ["Delete 1 contact? You can restore them for 30 days."]
    assert Contact.objects.filter(first_name="Ines", deleted_at__isnull=True).exists()
    # Accepting goes ahead.
    page.remove_listener("dialog", dismiss)
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Apply to selected").click()
    expect(page.locator(".messages")).to_contain_text("Deleted 1 contact.")
    assert not Contact.objects.filter(first_name="Ines", deleted_at__isnull=True).exists()


def test_top_bar_menus_on_one_line(page, server, owner):
    """At laptop width the top bar is one line: Sales pages share a menu, the account too."""
    page.set_viewport_size({"width": 1280, "height": 800})
    login(page, server, "olivia@bakery.example.com")
    bar = page.locator(".topbar")
    assert bar.bounding_box()["height"] < 70
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Leads")).to_be_hidden()
    nav.locator("summary", has_text="Sales").click()
    nav.get_by_role("link", name="Leads").click()
    expect(page).to_have_url(re.compile(r"/leads/$"))
    # The menu of the page you are on is marked, and closes with Escape.
    sales = nav.locator("summary", has_text="Sales")
    expect(sales).to_have_class("current")
    sales.click()
    expect(nav.get_by_role("link", name="Deals")).to_be_visible()
    page.keyboard.press("Escape")
    expect(nav.get_by_role("link", name="Deals")).to_be_hidden()
    shot(page, "top-bar")


def test_log_out(page, server, owner):
    login(page, server, "olivia@bakery.example.com")
    page.locator(".account summary").click()
    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(f"{server}/login/")
    expect(page.get_by_role("heading", name="Log in to Rapport")).to_be_visible()
    shot(page, "login")
    page.goto(f"{server}/contacts/")
    expect(page).to_have_url(re.compile(r"/login/\?next=/contacts/$"))
