"""The contact list (filters, bulk tagging), names that look like HTML, and stale edits."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.support import login, shot


def _contact(actor, **data):
    from rapport.contacts import services

    return services.contact_create(actor=actor, data=data)


def test_filter_then_bulk_tag_only_the_filtered_rows(page, server, owner):
    from rapport.contacts.models import Contact

    for first, last in [("Ada", "Nwosu"), ("Bram", "de Vries"), ("Chloé", "Martin")]:
        _contact(owner, first_name=first, last_name=last, lifecycle_stage="customer")
    for first, last in [("Dev", "Patel"), ("Eilidh", "Campbell")]:
        _contact(owner, first_name=first, last_name=last, lifecycle_stage="lead")

    login(page, server, "olivia@bakery.example.com")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Contacts").click()
    expect(page.locator("table.list tbody tr")).to_have_count(5)

    filters = page.get_by_role("form", name="Filters")
    filters.get_by_label("Stage").select_option("customer")
    filters.get_by_role("button", name="Apply").click()
    expect(page).to_have_url(re.compile(r"[?&]stage=customer"))
    rows = page.locator("table.list tbody tr")
    expect(rows).to_have_count(3)
    expect(rows).to_contain_text(["Chloé Martin", "Ada Nwosu", "Bram de Vries"])

    page.get_by_label("Select all").check()
    for name in ("Ada Nwosu", "Bram de Vries", "Chloé Martin"):
        expect(page.get_by_label(f"Select {name}")).to_be_checked()
    page.get_by_label("With the selected").select_option("tag")
    page.locator("#bulk").get_by_label("Tag", exact=True).fill("wholesale")
    page.get_by_role("button", name="Apply to selected").click()

    expect(page.locator(".messages")).to_have_text("Tagged 3 contacts.")
    expect(page).to_have_url(re.compile(r"[?&]stage=customer"))  # the filter is kept
    expect(rows).to_have_count(3)
    for row in rows.all():
        expect(row.locator(".tag")).to_have_text(["wholesale"])
    shot(page, "contact-list-bulk-tagged")

    tagged = set(Contact.objects.filter(tags__name="wholesale")
                 .values_list("first_name", flat=True))
    assert tagged == {"Ada", "Bram", "Chloé"}

    # The new tag is now a filter of its own.
    filters.get_by_label("Stage").select_option("")
    filters.locator("select[name=tag]").select_option("wholesale")
    filters.get_by_role("button", name="Apply").click()
    expect(rows).to_have_count(3)


def test_a_name_that_looks_like_html_is_shown_as_text(page, server, owner):
    evil = _contact(owner, first_name='<script>alert("owned")</script>',
                    last_name='<img src=x onerror=alert(1)>',
                    preferences=['<b onmouseover=alert(2)>bold</b>'])
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))

    login(page, server, "olivia@bakery.example.com")
    page.goto(f"{server}/contacts/")
    expect(page.locator("table.list")).to_contain_text('<script>alert("owned")</script>')

    page.goto(f"{server}/contacts/{evil.id}/")
    expect(page.locator("h1")).to_contain_text(
        '<script>alert("owned")</script> <img src=x onerror=alert(1)>')
    expect(page.locator("#preferences")).to_contain_text("<b onmouseover=alert(2)>bold</b>")
    page.locator("#preferences li").first.hover()
    assert page.locator("main script, main img, main b[onmouseover]").count() == 0

    page.locator("#global-search").press_sequentially("script", delay=30)
    hit = page.locator("#search-results .hit").first
    expect(hit).to_contain_text('<script>alert("owned")</script>')
    assert page.locator("#search-results script, #search-results img").count() == 0
    shot(page, "script-name-as-text", full_page=False)
    page.wait_for_timeout(200)
    assert dialogs == []


def test_a_stale_edit_in_another_tab_gets_the_conflict_notice(page, server, owner):
    from rapport.contacts.models import Contact

    contact = _contact(owner, first_name="Hannah", last_name="Schmidt", job_title="Buyer")
    login(page, server, "olivia@bakery.example.com")
    edit_url = f"{server}/contacts/{contact.id}/edit/"

    first_tab = page
    first_tab.goto(edit_url)
    second_tab = page.context.new_page()
    second_tab.goto(edit_url)

    second_tab.get_by_label("Job title").fill("Head buyer")
    second_tab.get_by_role("button", name="Save").click()
    expect(second_tab.locator(".messages")).to_have_text("Saved.")

    first_tab.get_by_label("Job title").fill("Café manager")
    first_tab.get_by_label("Notes").fill("Prefers deliveries before 7am")
    with first_tab.expect_response(edit_url) as response:
        first_tab.get_by_role("button", name="Save").click()
    assert response.value.status == 409

    notice = first_tab.locator(".conflict")
    expect(notice).to_contain_text("Someone else saved this contact while you were editing")
    expect(notice).to_contain_text("nothing was overwritten")
    expect(notice).to_contain_text("Head buyer")
    # What this tab typed is still in the form, so it can be re-applied by hand.
    expect(first_tab.get_by_label("Job title")).to_have_value("Café manager")
    shot(first_tab, "contact-edit-conflict")

    contact = Contact.objects.get(id=contact.id)
    assert (contact.job_title, contact.notes, contact.version) == ("Head buyer", "", 2)

    first_tab.get_by_role("link", name="Start again from their version").click()
    expect(first_tab.get_by_label("Job title")).to_have_value("Head buyer")
