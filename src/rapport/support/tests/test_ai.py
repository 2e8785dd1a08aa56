"""AI for agents: the category/priority models trained on closed tickets (declining with too
little data, learning from corrections), predictions written when a ticket opens, the mood and
urgency of customer messages, and the assist panel (history, similar tickets, articles, the
suggested reply) with its permissions, on pages and in the API."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.utils import timezone

from rapport.core.errors import NotFound
from rapport.core.events import record_events
from rapport.core.models import Event
from rapport.support import events, services
from rapport.support.models import (
    Article,
    ArticleStatus,
    MessageKind,
    SupportModel,
    Ticket,
    TicketMessage,
)
from rapport.support.services import ai
from rapport.testing import make_user

pytestmark = pytest.mark.django_db

TEXTS = {
    "billing": [
        ("Charged twice for my order", "My card was charged twice for the same invoice."),
        ("Refund not received", "I returned the cake but the refund never reached my card."),
        ("Wrong amount on invoice", "The invoice shows the wrong amount, please correct it."),
        ("Payment failed", "My card payment failed but money left my account."),
        ("Need a VAT invoice", "Please send an invoice with our VAT number for the payment."),
        ("Double payment", "I paid twice, can I get a refund of the second payment?"),
        ("Invoice address wrong", "Our company address on the invoice is wrong."),
        ("Card charged after cancel", "You charged my card after I cancelled the order."),
    ],
    "delivery": [
        ("Parcel is late", "The parcel with my cake has not arrived, tracking is stuck."),
        ("Where is my delivery", "The courier never came, where is my delivery?"),
        ("Tracking not updating", "Tracking has not moved for three days."),
        ("Delivered to wrong address", "The courier delivered the parcel to my neighbour."),
        ("Box arrived squashed", "The delivery box arrived squashed and the cake broken."),
        ("Delivery slot missed", "The driver missed our delivery slot this morning."),
        ("Lost parcel", "The parcel is lost, tracking says delivered but nothing came."),
        ("Late courier", "Courier is two days late with my order delivery."),
    ],
    "account": [
        ("Cannot log in", "I cannot log in to my account, the password is refused."),
        ("Password reset email", "The password reset email never arrives."),
        ("Change my email", "How do I change the email address of my account?"),
        ("Account locked", "My account is locked after too many login attempts."),
        ("Delete my account", "Please delete my account and my data."),
        ("Two accounts", "I have two accounts, can you merge my login?"),
        ("Login link expired", "The login link in the email has expired."),
        ("Username forgotten", "I forgot which email my account uses to log in."),
    ],
}
PRIORITY = {"billing": "high", "delivery": "normal", "account": "low"}


@pytest.fixture
def agent(db):
    user = make_user("ada@bakery.example.com", "support")
    user.first_name, user.last_name = "Ada", "Lovelace"
    user.save()
    return user


def _closed(actor, category: str, subject: str, description: str, *, status="closed",
            priority: str | None = None, email="client@example.org") -> Ticket:
    opened = services.ticket_open(actor=actor, data={
        "subject": subject, "description": description, "email": email,
        "category": category, "priority": priority or PRIORITY.get(category, "normal")})
    Ticket.objects.filter(id=opened.ticket.id).update(status=status,
                                                      resolved_at=timezone.now())
    return Ticket.objects.get(id=opened.ticket.id)


def _history(actor, per_label: int = 8) -> list[Ticket]:
    return [_closed(actor, category, subject, description)
            for category, rows in TEXTS.items() for subject, description in rows[:per_label]]


def test_training_declines_with_too_few_tickets_and_says_the_counts(agent):
    for category, rows in TEXTS.items():
        for subject, description in rows[:2]:
            _closed(agent, category, subject, description)
    row = services.support_models_train()["category"]
    assert row["ready"] is False
    assert "needs at least 20 resolved or closed tickets with a category; you have 0" \
        in row["message"]
    assert "with 3 tickets each; you have 0" in row["message"]
    assert "billing 2" in row["message"]
    model = SupportModel.objects.get(kind="category")
    assert not model.ready and model.artifact is None
    assert services.current_support_model("category") is None
    # Open tickets never train: only resolved and closed ones.
    services.ticket_open(actor=agent, data={"subject": "Parcel late", "email": "a@example.org",
                                            "category": "delivery"})
    assert ai.training_rows("category")[1].count("delivery") == 2


def test_training_learns_from_closed_tickets_and_predicts_at_open(
        agent, django_capture_on_commit_callbacks):
    _history(agent)
    outcome = services.support_models_train()
    assert outcome["category"]["ready"] and outcome["priority"]["ready"], outcome
    model = services.current_support_model("category")
    assert model.rows == 24 and model.metrics["labels"] == ["account", "billing", "delivery"]
    assert model.metrics["cv_accuracy"] > 0.5
    assert "trained on 24 resolved or closed tickets with a category" in model.message

    with django_capture_on_commit_callbacks(execute=True):
        opened = services.ticket_open(actor=agent, data={
            "subject": "Courier has not delivered my parcel",
            "description": "Tracking stuck, the delivery is late.", "email": "n@example.org"})
    ticket = Ticket.objects.get(id=opened.ticket.id)
    assert ticket.predicted_category == "delivery"
    assert 0.34 < ticket.category_confidence <= 1.0
    assert ticket.predicted_priority == "normal" and ticket.priority_confidence > 0.34
    # An empty category is filled only when the model is sure enough; the priority never.
    if ticket.category_confidence >= ai.AUTO_CATEGORY:
        assert ticket.category == "delivery"
        filled = Event.objects.get(kind="ticket.updated", entity_id=ticket.id)
        assert filled.actor_id is None and filled.after["category"] == "delivery"
        assert filled.after["set_by"].startswith("the model (")
    else:
        assert ticket.category == ""
    assert ticket.priority == "normal"

    # A category the agent gave is kept.
    with django_capture_on_commit_callbacks(execute=True):
        given = services.ticket_open(actor=agent, data={
            "subject": "Invoice charged twice on my card", "email": "m@example.org",
            "category": "account"})
    given = Ticket.objects.get(id=given.ticket.id)
    assert given.predicted_category == "billing" and given.category == "account"


def test_corrections_train_the_next_model(agent):
    tickets = _history(agent)
    services.support_models_train()
    first = services.current_support_model("category")
    # The agents decide "account" tickets are really "access": they correct each one.
    for ticket in tickets:
        if ticket.category == "account":
            Ticket.objects.filter(id=ticket.id).update(category="access", priority="urgent")
    services.support_models_train()
    second = services.current_support_model("category")
    assert second.id != first.id
    assert second.metrics["labels"] == ["access", "billing", "delivery"]
    opened = services.ticket_open(actor=agent, data={
        "subject": "Cannot log in, password refused", "email": "z@example.org"})
    services.predict_opened([Event(kind="ticket.opened", entity_type="ticket",
                                   entity_id=opened.ticket.id)])
    ticket = Ticket.objects.get(id=opened.ticket.id)
    assert ticket.predicted_category == "access"
    assert ticket.predicted_priority == "urgent"


def test_priorities_the_sla_raised_do_not_train(agent):
    tickets = _history(agent)
    Ticket.objects.filter(id=tickets[0].id).update(escalated_at=timezone.now(),
                                                   priority="urgent")
    texts, labels = ai.training_rows("priority")
    assert len(labels) == 23 and "urgent" not in labels
    assert len(ai.training_rows("category")[1]) == 24


def _customer_says(ticket: Ticket, body: str) -> TicketMessage:
    """A customer's follow-up as the desk records it: the message and a ticket.message event."""
    with transaction.atomic():
        message = TicketMessage.objects.create(ticket=ticket, kind=MessageKind.CUSTOMER,
                                               body=body, created_at=timezone.now())
        record_events([events.ticket_message(ticket_id=ticket.id, contact_id=ticket.contact_id,
                                             actor_id=None, shown={"reference": ticket.reference})])
    return message


def test_sentiment_flags_an_angry_customer_and_urgency_has_reasons(
        agent, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        calm = services.ticket_open(actor=agent, data={
            "subject": "Opening hours", "email": "calm@example.org",
            "description": "Could you tell me your opening hours on Sunday? Thank you!"})
        angry = services.ticket_open(actor=agent, data={
            "subject": "Charged twice AGAIN", "email": "angry@example.org",
            "description": "This is unacceptable!! You charged me twice and nobody answers. "
                           "Worst service ever!!"})
    calm_ticket, angry_ticket = (Ticket.objects.get(id=calm.ticket.id),
                                 Ticket.objects.get(id=angry.ticket.id))
    calm_message = TicketMessage.objects.get(ticket=calm_ticket)
    angry_message = TicketMessage.objects.get(ticket=angry_ticket)
    assert calm_message.sentiment > 0 and not calm_message.urgent
    assert not calm_ticket.flagged_angry and calm_ticket.sentiment == calm_message.sentiment
    assert angry_message.sentiment < -0.6 and angry_message.urgent
    assert angry_ticket.flagged_angry
    reasons = ai.urgency(angry_message.body, angry_message.sentiment)
    assert reasons == ("upset, with 4 exclamation marks",)

    # A later message is scored too; the ticket follows the latest one.
    with django_capture_on_commit_callbacks(execute=True):
        later = _customer_says(calm_ticket, "I need the cake by Friday, it is for a wedding.")
    later.refresh_from_db()
    assert later.urgent and later.sentiment is not None
    assert ai.urgency(later.body, later.sentiment) == ('gives a deadline ("by Friday")',)
    with django_capture_on_commit_callbacks(execute=True):
        _customer_says(angry_ticket, "Thanks, the refund arrived. Great, all good now.")
    angry_ticket.refresh_from_db()
    assert not angry_ticket.flagged_angry and angry_ticket.sentiment > 0
    # Scored once: the first message keeps its score.
    angry_message.refresh_from_db()
    assert angry_message.sentiment < -0.6
    assert ai.urgency("Please call me ASAP", 0.0) == ('says "ASAP"',)
    assert ai.urgency("WHY IS THIS BROKEN", -0.5) == ("upset, writing in capitals",)


@pytest.fixture
def desk(agent, owner):
    """A resolved ticket about a lost parcel with the agent's reply, an unrelated one, and a
    published article about tracking (a draft about the same is never suggested)."""
    old = _closed(agent, "delivery", "Parcel never arrived, tracking stuck",
                  "My parcel tracking has not moved for a week and the cake never came.",
                  status="resolved", email="tom@example.org")
    TicketMessage.objects.create(
        ticket=old, kind=MessageKind.REPLY, author=agent, created_at=timezone.now(),
        body="Hello Tom,\n\nWe have sent a new cake by express courier; the lost parcel is "
             "refunded.\n\nBest regards,\nAda")
    _closed(agent, "billing", "Invoice for my company", "Please add our VAT number.",
            status="closed", email="vat@example.org")
    Article.objects.create(
        title="Where is my order?", slug="where-is-my-order", status=ArticleStatus.PUBLISHED,
        published_at=timezone.now(),
        body="Orders leave the bakery the day after you order.\n\n"
             "Tracking numbers are emailed when the parcel leaves. If the tracking has not "
             "moved for three days, write to us and we send a replacement cake at once.\n\n"
             "Deliveries on Sundays are not possible.")
    Article.objects.create(title="Opening hours", slug="opening-hours",
                           status=ArticleStatus.PUBLISHED, published_at=timezone.now(),
                           body="We are open from 7 to 18 every day but Sunday.")
    Article.objects.create(title="Tracking parcels (draft)", slug="tracking-draft",
                           status=ArticleStatus.DRAFT, body="Parcel tracking stuck parcel.")
    new = services.ticket_open(actor=agent, data={
        "subject": "Parcel tracking not moving", "name": "Nina Berg", "email": "nina@example.org",
        "description": "The tracking of my parcel has not moved for four days."}).ticket
    return old, new


def test_the_assist_panel_finds_the_similar_ticket_the_article_and_suggests_a_reply(
        agent, desk):
    old, new = desk
    a = services.ticket_assist(user=agent, ticket_id=new.id)
    assert [s.id for s in a.similar][:1] == [old.id]
    assert a.similar[0].reply.startswith("We have sent a new cake")
    assert "Tom" not in a.similar[0].reply and "Ada" not in a.similar[0].reply
    assert [x.slug for x in a.articles][:1] == ["where-is-my-order"]
    assert "tracking-draft" not in [x.slug for x in a.articles]
    passage = a.articles[0].passage
    assert passage.startswith("Tracking numbers are emailed")
    assert a.suggested_reply.startswith("Hello Nina,")
    assert passage in a.suggested_reply
    assert "“Where is my order?”" in a.suggested_reply
    assert a.suggested_reply.endswith("Best regards,\nAda Lovelace")
    assert a.reply_source == "article"
    assert a.history == ["Orders: none yet.", "Tickets before: none, this is their first.",
                         "Value: lead."]
    # Without an article, the best similar ticket's reply answers (never its names).
    Article.objects.update(status=ArticleStatus.DRAFT)
    a = services.ticket_assist(user=agent, ticket_id=new.id)
    assert a.articles == [] and a.reply_source == "ticket"
    assert "We have sent a new cake by express courier" in a.suggested_reply
    assert "Tom" not in a.suggested_reply


def test_history_counts_orders_and_earlier_tickets(agent, owner, desk):
    from decimal import Decimal

    from rapport.orders.models import Order

    old, _ = desk
    again = services.ticket_open(actor=agent, data={"subject": "Another parcel",
                                                    "email": "tom@example.org"}).ticket
    for day, total in ((3, "20.00"), (13, "35.50")):
        Order.objects.create(contact_id=again.contact_id, total=Decimal(total),
                             ordered_at=timezone.make_aware(
                                 timezone.datetime(2026, 10, day, 12)))
    lines = services.ticket_assist(user=agent, ticket_id=again.id).history
    assert lines[0] == "Orders: 2 for 55.50 in total, the last on 13 Oct 2026."
    assert lines[1].startswith(f"Tickets before: 1 (0 still open), the last {old.reference}")
    assert lines[2] == ("Value: lead, customer since 3 Oct 2026, average order 27.75, "
                        "orders every 10 days.")


def test_the_assist_panel_is_only_for_who_may_view_the_ticket(
        agent, desk, sales_b, web_as, api_as):
    _, new = desk
    with pytest.raises(NotFound):
        services.ticket_assist(user=sales_b, ticket_id=new.id)
    assert web_as(sales_b).get(f"/tickets/{new.id}/assist/").status_code == 404
    assert api_as(sales_b).get(f"/tickets/{new.id}/assist").status_code == 404
    assert api_as(agent).get("/tickets/999999/assist").status_code == 404

    page = web_as(agent).get(f"/tickets/{new.id}/assist/", headers={"HX-Request": "true"})
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="assist-panel"' in html and "<html" not in html
    assert "Hello Nina," in html and "Tracking numbers are emailed" in html
    assert "data-assist-use" in html
    full = web_as(agent).get(f"/tickets/{new.id}/assist/")
    assert full.status_code == 200 and "<html" in full.content.decode()

    body = api_as(agent).get(f"/tickets/{new.id}/assist").json()
    assert body["reference"] == new.reference
    assert body["articles"][0]["slug"] == "where-is-my-order"
    assert body["suggested_reply"].startswith("Hello Nina,")
    assert len(body["history"]) == 3
    assert set(body["prediction"]) >= {"category", "category_confidence", "category_model"}


def test_reply_core_takes_off_greeting_and_sign_off():
    assert ai.reply_core("Hi Tom,\n\nIt is on its way.\n\nKind regards,\nAda\nThe Bakery") \
        == "It is on its way."
    assert ai.reply_core("It is on its way.") == "It is on its way."
