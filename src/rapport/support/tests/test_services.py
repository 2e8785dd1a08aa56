import pytest

from rapport.contacts import services as contact_services
from rapport.core.errors import NotFound, PermissionDenied, ValidationFailed
from rapport.core.models import Event
from rapport.support import selectors, services
from rapport.support.models import MessageKind, StatusChange, Ticket
from rapport.testing import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent(db):
    return make_user("ada@bakery.example.com", "support")


def test_a_request_from_a_new_address_makes_the_contact_and_the_ticket(owner):
    opened = services.ticket_open(actor=owner, data={
        "subject": "Cake arrived squashed", "description": "The box was <b>crushed</b>.",
        "email": "Nina.Berg@example.org", "name": "Nina Berg", "channel": "web"})
    ticket = opened.ticket
    assert opened.contact_created
    assert ticket.reference == f"T-{10000 + ticket.id}"
    assert ticket.contact.first_name == "Nina" and ticket.contact.last_name == "Berg"
    assert ticket.requester_email == "nina.berg@example.org"
    assert (ticket.status, ticket.channel, ticket.priority) == ("new", "web", "normal")
    assert opened.message.kind == MessageKind.CUSTOMER
    assert opened.message.body == "The box was crushed."
    assert StatusChange.objects.get(ticket=ticket).to_status == "new"
    event = Event.objects.get(kind="ticket.opened")
    assert event.contact_id == ticket.contact_id
    assert event.after["reference"] == ticket.reference
    # The same address again is the same person.
    again = services.ticket_open(actor=owner, data={"subject": "And the candles",
                                                    "email": "nina.berg@example.org"})
    assert not again.contact_created and again.ticket.contact_id == ticket.contact_id
    assert selectors.ticket_id_of(ticket.reference) == ticket.id
    assert selectors.ticket_id_of("T-12") is None and selectors.ticket_id_of("X-10001") is None


def test_scripts_are_dropped_from_what_customers_write(owner):
    opened = services.ticket_open(actor=owner, data={
        "subject": "<script>alert(1)</script>Help", "email": "x@example.org",
        "description": "<p onclick='evil()'>Hi</p><script>steal()</script><style>p{}</style>"})
    assert opened.ticket.subject == "Help"
    assert opened.message.body == "Hi"


def test_bad_input_names_the_field_and_changes_nothing(owner, agent, sales_b):
    cases = [({"subject": "", "email": "a@example.org"}, "subject"),
             ({"subject": "Hi"}, "email"),
             ({"subject": "Hi", "email": "not an address"}, "email"),
             ({"subject": "Hi", "email": "a@example.org", "priority": "whenever"}, "priority"),
             ({"subject": "Hi", "email": "a@example.org", "channel": "pigeon"}, "channel"),
             ({"subject": "x" * 201, "email": "a@example.org"}, "subject")]
    for data, field in cases:
        with pytest.raises(ValidationFailed) as failure:
            services.ticket_open(actor=agent, data=data)
        assert field in failure.value.errors, (data, failure.value.errors)
    assert not Ticket.objects.exists()
    # A contact someone may not see is not theirs to open a ticket for.
    private = contact_services.contact_create(actor=owner, data={
        "first_name": "Private", "emails": ["p@example.org"], "owner_id": owner.id})
    with pytest.raises((NotFound, PermissionDenied)):
        services.ticket_open(actor=sales_b, data={"subject": "Hi", "contact_id": private.id})
    assert not Ticket.objects.exists()


def test_an_agent_sees_every_ticket_a_rep_only_the_teams(owner, agent, sales_a, sales_b):
    opened = services.ticket_open(actor=agent, data={"subject": "Where is my order?",
                                                     "email": "q@example.org"})
    assert selectors.ticket_get(user=agent, ticket_id=opened.ticket.id)
    assert selectors.ticket_get(user=owner, ticket_id=opened.ticket.id)
    with pytest.raises(NotFound):  # unassigned: no team's
        selectors.ticket_get(user=sales_b, ticket_id=opened.ticket.id)
