"""The demo bakery's help desk: what its customers asked over the last two months.

Part of ``rapport demo`` (called by :func:`rapport.dataio.demo.demo_load` after the sales
side): the desk's hours (Oregon, US holidays), Lena as the agent who takes cakes, orders and
allergen questions, a knowledge base of the bakery's own answers (published, so the help centre
at ``/help/`` and the chat assistant answer from it), about 36 tickets from email, the web
form, the phone and the chat — most answered and closed with a satisfaction score, a few new,
waiting on the customer or at risk — and a café's display fridge that reports its temperature.

Everything goes through the support services with the demo's clock, so assignment, SLA timers,
threads and timelines are what the app itself would have made. Deterministic given the demo's
random generator.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from unittest import mock

from django.utils import timezone

from rapport.contacts import selectors as contact_selectors
from rapport.support import selectors as support_selectors
from rapport.support import services as support

DAYS = 60
CATEGORIES = ("Orders and delivery", "Cakes", "Allergens", "Billing", "Wholesale")
ARTICLES = (
    # (category, title, body, is_faq)
    ("Orders and delivery", "Where is my order?",
     "Orders placed before 2 pm are baked overnight and delivered the next morning between "
     "7 and 11 am. You get a text when the van leaves the bakery. If your order has not "
     "arrived by 11 am, call the shop on 503-555-0142 and we will send it out again at once.",
     True),
    ("Orders and delivery", "Delivery areas and fees",
     "We deliver in Portland, Beaverton, Lake Oswego and Vancouver WA. Delivery is free for "
     "orders over $40; below that it costs $6. Wholesale customers have a fixed delivery "
     "window agreed with Tom.", False),
    ("Orders and delivery", "How do I cancel or change an order?",
     "You can cancel or change an order free of charge until 2 pm the day before delivery: "
     "reply to your order confirmation or call the shop. After 2 pm the bread is already "
     "being made, so we can change the delivery time but not the order.", True),
    ("Cakes", "How far ahead should I order a custom cake?",
     "Custom and wedding cakes need at least 7 days' notice; tiered wedding cakes need 4 "
     "weeks and a tasting. Birthday cakes from the counter range can be ordered 48 hours "
     "ahead.", True),
    ("Cakes", "Can I change the message or design on my cake?",
     "Yes, until 48 hours before collection. Send us the new message or a photo of the "
     "design and we confirm by email.", True),
    ("Allergens", "Which products are gluten-free?",
     "Our gluten-free loaf, almond cake and macarons are made without gluten in a separate "
     "area, but the bakery handles wheat flour every day, so we cannot promise they are free "
     "of traces. Ask us for the full allergen sheet of any product.", True),
    ("Allergens", "Do your products contain nuts?",
     "Almond croissants, the almond cake, macarons and the seeded rye contain nuts or seeds. "
     "Every other product is made in the same kitchen, so traces are possible.", True),
    ("Billing", "Refunds for damaged or missing items",
     "If something arrives damaged or is missing, send us a photo within 24 hours and we "
     "refund it to your card within 3 working days, or bake it again for the next morning "
     "if you prefer.", False),
    ("Billing", "Invoices and VAT receipts",
     "Invoices are emailed with every order. Wholesale accounts get one monthly invoice on "
     "the first working day of the month, payable within 14 days.", True),
    ("Wholesale", "Opening a wholesale account",
     "Cafés, restaurants, hotels and shops can open a wholesale account with a standing "
     "order and weekly invoicing. Fill in the wholesale enquiry form and Tom will call you "
     "within a working day.", False),
    ("Wholesale", "Changing a standing order",
     "Standing orders can be changed for the following week until Thursday noon. One-off "
     "extra items for the next morning can be added until 2 pm.", True),
    ("Orders and delivery", "Opening hours",
     "The shop is open Tuesday to Saturday from 7 am to 6 pm and Sunday from 8 am to 2 pm. "
     "The help desk answers on weekdays from 9 am to 5 pm.", True),
)
# (category, channel, subject, what the customer wrote, how the agent answered)
REQUESTS = (
    ("Orders and delivery", "email", "Order not delivered this morning",
     "Our order from yesterday has not arrived and it's already 11:30. We have customers "
     "waiting. Can you check?",
     "I'm sorry, the van had a flat tyre on the way. Your order is on its way now and we have "
     "taken the delivery fee off."),
    ("Orders and delivery", "web", "Change delivery address for Friday",
     "Could Friday's order go to our new office at 220 SW Oak St instead?",
     "Done: Friday's delivery goes to 220 SW Oak St. Thank you for letting us know!"),
    ("Cakes", "email", "Birthday cake message",
     "Can you change the message on Saturday's cake to 'Happy 40th, Dana!'?",
     "Of course, the cake will say 'Happy 40th, Dana!'. See you on Saturday."),
    ("Cakes", "phone", "Wedding cake tasting",
     "Caller would like a tasting for a three-tier wedding cake in June.",
     "We've booked your tasting for Thursday at 4 pm; bring any pictures you like."),
    ("Allergens", "chat", "Gluten-free bread for a coeliac guest",
     "Is your gluten-free loaf safe for someone with coeliac disease?",
     "Our gluten-free loaf has no gluten in its recipe and is made in a separate area, but "
     "the kitchen handles wheat flour every day, so we cannot rule out traces."),
    ("Allergens", "email", "Nut allergy - catering order",
     "We're ordering pastries for an event and one guest has a severe nut allergy. Which "
     "items are safe?",
     "Please avoid the almond croissants, macarons and seeded rye. The others have no nuts, "
     "but traces are possible because everything is made in one kitchen."),
    ("Billing", "email", "Charged twice for order",
     "I was charged twice for my order on Tuesday. Please refund the second payment.",
     "You're right, the payment went through twice. We've refunded it; it shows on your "
     "card within 3 working days."),
    ("Billing", "web", "Invoice for our accounts team",
     "Could you send last month's invoices as one PDF for our accounts team?",
     "Here they are as one PDF; from next month they come as one monthly invoice."),
    ("Wholesale", "email", "Extra croissants for Saturday",
     "Can we add 30 croissants to Saturday's standing order?",
     "Added: 30 extra croissants on Saturday, on the same invoice."),
    ("Wholesale", "phone", "Pause standing order over the holidays",
     "Caller wants to pause the café's standing order from Dec 24 to Jan 2.",
     "Paused from Dec 24 to Jan 2; it starts again on Jan 3 as usual."),
    ("Orders and delivery", "web", "Missing baguettes",
     "Two baguettes were missing from today's delivery.",
     "Sorry about that! We've refunded the two baguettes and added two to tomorrow's order "
     "at no charge."),
    ("Cakes", "web", "Cake arrived damaged",
     "The top tier of the cake was squashed when it arrived. Really disappointed.",
     "I'm so sorry. We've refunded the cake in full and would love to bake you another one "
     "for free."),
)
STILL_OPEN = (
    # (category, channel, subject, text, status, priority, hours ago)
    ("Orders and delivery", "email", "Where is my order?",
     "I ordered sourdough and cinnamon buns yesterday and nothing has come yet. Where is "
     "my order?", "new", "high", 2),
    ("Cakes", "web", "Custom cake for next weekend",
     "Can you make a chocolate cake shaped like a guitar for Sunday the 14th?",
     "new", "normal", 5),
    ("Billing", "email", "Refund still not received",
     "You promised a refund a week ago and I still haven't received it. This is "
     "unacceptable!", "open", "urgent", 30),
    ("Allergens", "chat", "Sesame in the rye bread?",
     "Does the seeded rye contain sesame?", "waiting", "low", 50),
    ("Wholesale", "phone", "New café opening - weekly order",
     "A new café on Alberta St would like a weekly bread order from next month.",
     "open", "normal", 20),
)


@dataclass
class SupportReport:
    articles: int = 0
    tickets: int = 0
    open_tickets: int = 0
    surveys: int = 0
    devices: int = 0


@contextlib.contextmanager
def _clock(moment: dt.datetime) -> Iterator[None]:
    with mock.patch.object(timezone, "now", lambda: moment):
        yield


def _version(user: Any, ticket_id: int) -> int:
    return support_selectors.ticket_get(user=user, ticket_id=ticket_id).version


def support_demo(*, rng: random.Random, users: dict[str, Any], contact_ids: list[int],
                 end: dt.datetime) -> SupportReport:
    """Load the help desk (see the module's notes); ``end`` is the demo's "now"."""
    owner, lena = users["owner"], users["lena"]
    report = SupportReport()
    start = end - dt.timedelta(days=DAYS)
    with _clock(start - dt.timedelta(days=2)):
        support.business_hours_set(actor=owner, data={
            "time_zone": "America/Los_Angeles", "holiday_country": "US",
            "holiday_subdivision": "OR"})
        support.agent_profile_save(actor=owner, user_id=lena.id, data={
            "skills": ["Orders and delivery", "Cakes", "Allergens"],
            "accepts_tickets": True})
        support.agent_profile_save(actor=owner, user_id=users["manager"].id, data={
            "skills": ["Billing", "Wholesale"], "accepts_tickets": True})
        categories = {name: support.category_create(actor=owner, data={"name": name}).id
                      for name in CATEGORIES}
        for category, title, body, is_faq in ARTICLES:
            support.article_create(actor=lena, data={
                "title": title, "body": body, "category_id": categories[category],
                "status": "published", "is_faq": is_faq})
            report.articles += 1
    reachable = sorted(contact_selectors.visible_contacts(owner)
                       .filter(id__in=contact_ids).exclude(primary_email="")
                       .values_list("id", flat=True))
    customers = rng.sample(reachable, min(len(reachable), 40))

    # Answered and closed: three rounds of the usual requests over the two months.
    closed_at: list[dt.datetime] = []
    for round_no in range(3):
        for index, (category, channel, subject, text, answer) in enumerate(REQUESTS):
            opened_at = start + dt.timedelta(days=rng.uniform(0, DAYS - 4),
                                             hours=rng.uniform(0, 6))
            opened_at = opened_at.replace(hour=rng.randrange(8, 17))
            contact_id = customers[(round_no * len(REQUESTS) + index) % len(customers)]
            with _clock(opened_at):
                ticket = support.ticket_open(actor=lena, data={
                    "subject": subject, "description": text, "channel": channel,
                    "contact_id": contact_id, "category": category}).ticket
            replied_at = opened_at + dt.timedelta(minutes=rng.uniform(20, 240))
            with _clock(replied_at):
                support.ticket_reply(actor=lena, ticket_id=ticket.id, data={"body": answer},
                                     now=replied_at)
            done_at = replied_at + dt.timedelta(hours=rng.uniform(1, 30))
            with _clock(done_at):
                ticket = support.ticket_close(actor=lena, ticket_id=ticket.id,
                                              version=_version(lena, ticket.id), now=done_at)
            closed_at.append(done_at)
            survey = support_selectors.latest_survey(ticket_id=ticket.id)
            if survey is not None and rng.random() < 0.7:
                score = rng.choices((5, 4, 3, 2), (6, 3, 1, 0.4))[0]
                answered = done_at + dt.timedelta(hours=rng.uniform(1, 20))
                with _clock(answered):
                    support.survey_answer(token=survey.token, data={
                        "score": score, "comment": "Quick and friendly, thank you!"
                        if score == 5 else ""}, now=answered)
                report.surveys += 1
            report.tickets += 1

    # Still on the desk today.
    for index, (category, channel, subject, text, status, priority, hours_ago) in enumerate(
            STILL_OPEN):
        opened_at = end - dt.timedelta(hours=hours_ago)
        with _clock(opened_at):
            ticket = support.ticket_open(actor=lena, data={
                "subject": subject, "description": text, "channel": channel,
                "contact_id": customers[-(index + 1)], "category": category,
                "priority": priority}).ticket
        if status in ("open", "waiting"):
            moment = opened_at + dt.timedelta(hours=1)
            with _clock(moment):
                support.ticket_reply(actor=lena, ticket_id=ticket.id, data={
                    "body": "Thanks for getting in touch, we're looking into it and will "
                            "come back to you today."}, now=moment)
                if status == "waiting":
                    support.ticket_update(actor=lena, ticket_id=ticket.id,
                                          version=_version(lena, ticket.id),
                                          changes={"status": "waiting"}, now=moment)
        report.tickets += 1
        report.open_tickets += 1

    # A café's display fridge reports its temperature; too warm opens a ticket.
    with _clock(end - dt.timedelta(days=20)):
        support.device_create(actor=owner, data={
            "device_id": "fridge-alberta-01", "name": "Display fridge (Alberta St café)",
            "contact_id": customers[0]})
        support.event_rule_create(actor=owner, data={
            "name": "Fridge too warm", "event_type": "temperature", "field": "celsius",
            "operator": "gt", "value": "8", "subject": "{device}: {celsius} °C",
            "category": "Wholesale", "priority": "high"})
        report.devices = 1
    return report
