"""The deals board in a real Chromium: drag a card across two stages, move one with the
keyboard only, a stale move put back where the other person left it, a lost reason asked,
mark won on the deal page; with no JavaScript a move is a plain form; at desktop and phone
width the page never scrolls sideways (the board scrolls its columns inside its own box)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.support import DESKTOP, PHONE, login, make_user, open_nav, shot


@pytest.fixture
def bakery(transactional_db):
    from rapport.sales import services

    owner = make_user("olivia@bakery.example.com", "owner", first_name="Olivia",
                      last_name="Baker")
    sam = make_user("sam@bakery.example.com", "sales", team="north", first_name="Sam",
                    last_name="Berg")
    sara = make_user("sara@bakery.example.com", "sales", team="north", first_name="Sara",
                     last_name="Lund")
    pipeline = services.pipeline_create(actor=owner, data={"name": "Wholesale"})
    deals = {}
    for name, user, amount in (("Café Lind", sam, "1800"), ("Mill Lane Deli", sam, "950"),
                               ("Corner Café", sam, "420"), ("Harbour Hotel", sara, "5200")):
        deals[name] = services.deal_create(actor=user, data={
            "name": name, "amount": amount, "currency": "EUR", "expected_close": "2027-02-15"})
    return owner, sam, sara, pipeline, deals


def column(page, stage_name):
    return page.locator(".board-column", has=page.get_by_role("heading", name=re.compile(
        f"^{stage_name} ")))


def card(page, name):
    return page.locator(".deal-card", has_text=name)


def _wide(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


def test_drag_keyboard_stale_lost_and_won(page, server, bakery):
    from rapport.sales import services
    from rapport.sales.models import Deal, Stage

    owner, sam, sara, pipeline, deals = bakery
    stages = {s.name: s for s in Stage.objects.filter(pipeline=pipeline)}
    login(page, server, "sam@bakery.example.com")
    open_nav(page, "Deals", group="Sales")
    expect(page).to_have_url(re.compile(r"/deals/board/"))
    expect(column(page, "New")).to_contain_text("4 deals")
    expect(column(page, "New")).to_contain_text("8,370.00 EUR")
    shot(page, "pipeline-board-desktop")
    assert _wide(page) <= DESKTOP["width"]

    # Drag across two stages: New → Qualified → Proposal.
    card(page, "Café Lind").locator(".deal-name").drag_to(column(page, "Qualified")
                                                          .locator(".board-cards"))
    expect(column(page, "Qualified").locator(".deal-card")).to_contain_text(["Café Lind"])
    expect(column(page, "Qualified")).to_contain_text("1 deal")
    expect(column(page, "New")).to_contain_text("3 deals")
    card(page, "Café Lind").locator(".deal-name").drag_to(column(page, "Proposal")
                                                          .locator(".board-cards"))
    expect(column(page, "Proposal").locator(".deal-card")).to_contain_text(["Café Lind"])
    expect(page.locator("#board-status")).to_contain_text("Moved Café Lind to Proposal")
    lind = Deal.objects.get(id=deals["Café Lind"].id)
    assert (lind.stage.name, lind.version, lind.stage_changes.count()) == ("Proposal", 3, 2)
    shot(page, "pipeline-board-dragged")

    # The keyboard only: Tab to the card's "Move to" box, choose, Enter on Move.
    box = page.get_by_label("Move Mill Lane Deli to")
    box.focus()
    box.select_option(label="Negotiation")
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Move Mill Lane Deli")).to_be_focused()
    page.keyboard.press("Enter")
    expect(column(page, "Negotiation").locator(".deal-card")).to_contain_text(["Mill Lane"])
    assert Deal.objects.get(id=deals["Mill Lane Deli"].id).stage.name == "Negotiation"

    # Someone else moves Corner Café while this board still shows it in New: the drag is
    # refused (409) and the card goes where they put it, with their version.
    corner = deals["Corner Café"]
    services.deal_move(actor=sam, deal_id=corner.id, stage_id=stages["Negotiation"].id,
                       version=corner.version)
    card(page, "Corner Café").locator(".deal-name").drag_to(column(page, "Qualified")
                                                            .locator(".board-cards"))
    expect(page.locator("#board-status")).to_contain_text("someone else changed this deal")
    expect(column(page, "Negotiation").locator(".deal-card")).to_contain_text(
        ["Corner Café", "Mill Lane"])
    expect(column(page, "Qualified").locator(".deal-card")).to_have_count(0)
    expect(card(page, "Corner Café")).to_have_attribute("data-version", "2")
    assert Deal.objects.get(id=corner.id).stage.name == "Negotiation"
    shot(page, "pipeline-board-stale-move")

    # Lost asks why; the reason is kept.
    column(page, "Lost").scroll_into_view_if_needed()
    card(page, "Corner Café").locator(".deal-name").drag_to(column(page, "Lost")
                                                            .locator(".board-cards"))
    expect(page.locator("#lost-dialog")).to_be_visible()
    page.get_by_label("Reason").fill("Went with the supermarket")
    page.get_by_role("button", name="Mark lost").click()
    expect(page.locator("#board-status")).to_contain_text("Moved Corner Café to Lost")
    expect(column(page, "Lost").locator(".deal-card")).to_contain_text(["Corner Café"])
    assert Deal.objects.get(id=corner.id).lost_reason == "Went with the supermarket"

    # Sara's deal is on Sam's board (his team) but not his to move.
    expect(card(page, "Harbour Hotel")).to_be_visible()
    expect(card(page, "Harbour Hotel").locator("select")).to_have_count(0)

    # Mark won on the deal page.
    card(page, "Café Lind").get_by_role("link", name="Café Lind").click()
    page.get_by_role("button", name="Mark won").click()
    expect(page.locator(".messages")).to_contain_text("Marked won")
    expect(page.locator("h1")).to_contain_text("won")
    expect(page.locator("#history")).to_contain_text("Proposal")
    shot(page, "pipeline-deal-won")
    assert _wide(page) <= DESKTOP["width"]
    page.get_by_role("link", name="Deals board").click()
    expect(column(page, "Won").locator(".deal-card")).to_contain_text(["Café Lind"])
    expect(column(page, "Won")).to_contain_text("1,800.00 EUR")


def test_a_move_without_javascript_is_a_plain_form(browser, server, bakery):
    owner, sam, sara, pipeline, deals = bakery
    with browser.new_context(java_script_enabled=False, viewport=DESKTOP) as context:
        page = context.new_page()
        login(page, server, "sam@bakery.example.com")
        page.goto(f"{server}/deals/board/?owner=me")
        page.get_by_label("Move Café Lind to").select_option(label="Qualified")
        page.get_by_role("button", name="Move Café Lind").click()
        expect(page.locator(".messages")).to_contain_text("Moved Café Lind to Qualified")
        expect(column(page, "Qualified").locator(".deal-card")).to_contain_text(["Café Lind"])
        expect(page).to_have_url(re.compile(r"owner=me"))


def test_board_and_deal_page_at_phone_width(browser, server, bakery):
    owner, sam, sara, pipeline, deals = bakery
    with browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True,
                             has_touch=True) as context:
        phone = context.new_page()
        login(phone, server, "sam@bakery.example.com")
        phone.goto(f"{server}/deals/board/")
        expect(column(phone, "New")).to_contain_text("4 deals")
        shot(phone, "pipeline-board-phone", full_page=False)
        assert _wide(phone) <= PHONE["width"]
        board = phone.locator(".board")
        assert board.evaluate("b => b.scrollWidth > b.clientWidth")  # scrolls inside its box
        board.evaluate("b => b.scrollLeft = b.scrollWidth")
        expect(column(phone, "Lost")).to_be_in_viewport()
        assert _wide(phone) <= PHONE["width"]
        phone.get_by_label("Move Café Lind to").select_option(label="Qualified")
        phone.get_by_role("button", name="Move Café Lind").click()
        expect(column(phone, "Qualified").locator(".deal-card")).to_contain_text(["Café Lind"])
        phone.goto(f"{server}/deals/{deals['Café Lind'].id}/")
        shot(phone, "pipeline-deal-phone")
        assert _wide(phone) <= PHONE["width"]
