"""A small bakery's knowledge base for the assistant's tests, browser test and benchmark."""

from __future__ import annotations

from typing import Any

CATEGORIES = ["Orders and delivery", "Cancellations and refunds", "Cakes and allergies",
              "Your account"]

ARTICLES: list[dict[str, Any]] = [
    {"title": "Tracking your order", "category": "Orders and delivery", "body":
     "Every order gets a tracking link by email as soon as it leaves the bakery. Open the "
     "link to see where your parcel is and when it will arrive.\n\n"
     "If the tracking link says delivered but you have nothing, check with your neighbours "
     "first, then write to us with your order number."},
    {"title": "Delivery times and areas", "category": "Orders and delivery", "body":
     "We deliver Monday to Saturday between 8 am and 6 pm. Orders placed before noon are "
     "delivered the next working day.\n\n"
     "We deliver within 40 km of the bakery. Further away, choose collection from the shop."},
    {"title": "Changing the delivery address", "category": "Orders and delivery", "body":
     "You can change the delivery address until the order is baked: open the order in your "
     "account and choose Edit address. After baking starts the address is fixed."},
    {"title": "Cancelling an order", "category": "Cancellations and refunds", "body":
     "You can cancel an order free of charge up to 48 hours before delivery: open the order "
     "in your account and press Cancel order. Later than that the cake is already being "
     "baked and we refund half the price."},
    {"title": "Refunds for damaged cakes", "category": "Cancellations and refunds", "body":
     "If a cake arrives damaged, send us a photo within 24 hours of delivery and we refund "
     "the full price to the card you paid with, within 5 working days."},
    {"title": "Allergens in our cakes", "category": "Cakes and allergies", "body":
     "All our cakes are baked in a kitchen that handles nuts, gluten, eggs and milk. Each "
     "product page lists the allergens of that cake.\n\n"
     "We bake gluten-free cakes on Tuesdays in a cleaned kitchen, but we cannot promise "
     "there are no traces."},
    {"title": "Custom wedding cakes", "category": "Cakes and allergies", "body":
     "Wedding cakes are made to order: book a tasting at least six weeks before the wedding. "
     "A deposit of 30 percent secures the date."},
    {"title": "Resetting your password", "category": "Your account", "body":
     "On the login page choose Forgot password, enter your email address and follow the "
     "link we send you. The link works for one hour."},
    {"title": "Do you sell vegan cakes?", "category": "Cakes and allergies", "is_faq": True,
     "body": "Yes: the chocolate fudge and the lemon drizzle come in a vegan version, marked "
             "with a leaf on the product page."},
    {"title": "Can I pay by invoice?", "category": "Your account", "is_faq": True,
     "body": "Businesses with an account can pay by invoice within 30 days; everyone else "
             "pays by card when ordering."},
    {"title": "How long do cakes keep?", "category": "Cakes and allergies", "is_faq": True,
     "body": "Keep cakes in the fridge and eat them within three days; cream cakes within two."},
    {"title": "Can I collect my order from the shop?", "category": "Orders and delivery",
     "is_faq": True,
     "body": "Collection orders wait at the shop counter at 12 Mill Street from 9 am on the "
             "day you chose."},
]


def build(actor: Any, *, publish: bool = True) -> dict[str, Any]:
    """Categories and articles (published unless told); returns {title: article}."""
    from rapport.support import services

    categories = {name: services.category_create(actor=actor, data={"name": name})
                  for name in CATEGORIES}
    made = {}
    for row in ARTICLES:
        made[row["title"]] = services.article_create(actor=actor, data={
            "title": row["title"], "body": row["body"],
            "category_id": categories[row["category"]].id, "is_faq": row.get("is_faq", False),
            "status": "published" if publish else "draft"})
    return made


# Closed tickets the business already answered, by category: what the intent model learns
# visitors' own words from (besides the article titles).
CLOSED_TICKETS = [
    ("Where is my parcel?", "Orders and delivery"),
    ("My order has not arrived yet", "Orders and delivery"),
    ("Where is my order? It was due yesterday", "Orders and delivery"),
    ("Tracking link does not work", "Orders and delivery"),
    ("Please cancel my order 1042", "Cancellations and refunds"),
    ("I want to cancel my cake", "Cancellations and refunds"),
    ("Refund for the broken cake", "Cancellations and refunds"),
    ("I would like my money back", "Cancellations and refunds"),
    ("Does the carrot cake contain nuts?", "Cakes and allergies"),
    ("Gluten free options for a birthday", "Cakes and allergies"),
    ("Cannot log in to my account", "Your account"),
    ("Change the email of my account", "Your account"),
]


def close_tickets(actor: Any) -> None:
    """The closed tickets above, opened through the desk's one way in and closed."""
    from rapport.support.models import Ticket
    from rapport.support.services import ticket_open

    for n, (subject, category) in enumerate(CLOSED_TICKETS):
        opened = ticket_open(actor=actor, data={"subject": subject, "channel": "email",
                                                "email": f"customer{n}@example.org"})
        Ticket.objects.filter(id=opened.ticket.id).update(status="closed", category=category)
