"""The contact 360° page of a realistic bakery customer, photographed for the README.

The picture always goes to test-artifacts/screenshots/contact-360-readme.png; with
RAPPORT_UPDATE_DOCS_SCREENSHOT=1 it also replaces docs/screenshot.png (committed).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import shutil
from unittest import mock

from django.utils import timezone
from playwright.sync_api import expect

from tests.browser.support import REPO, login, make_user, shot


@contextlib.contextmanager
def on(moment: dt.datetime):
    """Record whatever happens inside as having happened at ``moment``."""
    with mock.patch("django.utils.timezone.now", return_value=moment):
        yield


def bakery_customer(owner):
    """Margaret, who buys for a café: 14 months of standing orders, notes and preferences."""
    from rapport.contacts import services
    from rapport.orders import services as orders

    # Yesterday, mid-morning: notes land in opening hours, deliveries at dawn.
    now = (timezone.now() - dt.timedelta(days=1)).replace(hour=11, minute=20, second=0,
                                                            microsecond=0)
    days = lambda n, hour=0: now - dt.timedelta(days=n, hours=hour)  # noqa: E731
    sam = make_user("sam@bakery.example.com", "sales", team="north", first_name="Sam",
                    last_name="Patel")

    with on(days(430)):
        cafe = services.company_create(actor=sam, data={
            "name": "Corner Café", "domain": "cornercafe.example", "industry": "Café",
            "size": "11-50", "address": "14 Mill Lane, Bristol BS1 4DJ", "tags": ["wholesale"]})
        catalogue = {
            name: orders.product_create(actor=owner, data={
                "name": name, "sku": sku, "category": category, "price": price})
            for name, sku, category, price in [
                ("Rye sourdough", "RYE-800", "bread", "4.50"),
                ("Spelt & honey loaf", "SPELT-HONEY", "bread", "4.80"),
                ("Pain au chocolat", "PAC", "viennoiserie", "2.20"),
                ("Lemon drizzle cake", "LEMON-CAKE", "cakes", "18.00"),
            ]}
    with on(days(420, 3)):
        margaret = services.contact_create(actor=sam, data={
            "first_name": "Margaret", "last_name": "Okafor", "job_title": "Head of purchasing",
            "company_id": cafe.id, "emails": ["margaret@cornercafe.example"],
            "phones": ["+44 117 496 0123"], "addresses": ["14 Mill Lane\nBristol BS1 4DJ"],
            "lifecycle_stage": "opportunity", "source": "referral", "owner_id": sam.id,
            "tags": ["wholesale", "standing order"], "email_opt_in": True,
            "email_opt_in_source": "signed up at the counter"})
    with on(days(418, 1)):
        services.contact_note_add(actor=sam, contact_id=margaret.id, text=(
            "Tasted the rye and the spelt at the counter. Wants a weekly standing order for the "
            "café if we can deliver before 7am."))
    with on(days(411)):
        services.contact_update(actor=owner, contact_id=margaret.id, version=1,
                                changes={"lifecycle_stage": "customer"})
        services.contact_add_preference(actor=owner, contact_id=margaret.id,
                                        text="usual order: rye sourdough, no sesame")
    with on(days(200)):
        services.contact_add_preference(actor=sam, contact_id=margaret.id,
                                        text="Deliveries to the back door on Mill Lane, before 7am")
    with on(days(62)):
        services.contact_add_preference(actor=owner, contact_id=margaret.id,
                                        text="Birthday 14 March: loves the lemon drizzle")
    standing = [("Rye sourdough", 12), ("Spelt & honey loaf", 6), ("Pain au chocolat", 24)]
    for n, ago in enumerate(range(400, 0, -80)):
        lines = standing + ([("Lemon drizzle cake", 1)] if n % 3 == 2 else [])
        orders.order_create(actor=sam, data={
            "contact_id": margaret.id, "ordered_at": days(ago, 5), "channel": "wholesale",
            "lines": [{"product_id": catalogue[name].id, "quantity": quantity}
                      for name, quantity in lines]})
    with on(days(34, -3)):
        services.contact_note_add(actor=owner, contact_id=margaret.id, text=(
            "Asked about gluten-free options for the new lunch menu: send her the GF "
            "sourdough trial when it's ready."))
    with on(days(1, 2)):
        services.contact_note_add(actor=sam, contact_id=margaret.id, text=(
            "Called: upping the Saturday rye to 16 loaves from next week."))
    return margaret


def test_contact_360_for_the_readme(page, server, owner):
    margaret = bakery_customer(owner)
    page.set_viewport_size({"width": 1280, "height": 900})
    login(page, server, "olivia@bakery.example.com")
    page.goto(f"{server}/contacts/{margaret.id}/")

    expect(page.locator("h1")).to_contain_text("Margaret Okafor")
    expect(page.locator("#preferences li")).to_have_count(3)
    expect(page.locator("#purchases")).to_contain_text("Rye sourdough")
    expect(page.locator("#timeline")).to_contain_text("upping the Saturday rye")
    path = shot(page, "contact-360-readme")
    if os.environ.get("RAPPORT_UPDATE_DOCS_SCREENSHOT") == "1":
        (REPO / "docs").mkdir(exist_ok=True)
        shutil.copyfile(path, REPO / "docs" / "screenshot.png")
