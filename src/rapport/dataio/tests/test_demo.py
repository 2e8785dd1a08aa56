import datetime as dt

from django.core.management import call_command
from django.db.models import Count, F, Max, Min

from rapport.accounts.models import User
from rapport.contacts.models import Company, Contact
from rapport.core.events import verify_chain
from rapport.core.models import Event
from rapport.core.validation import normalise_phone
from rapport.dataio.demo import DEMO_PASSWORD, USERS, demo_load
from rapport.orders.models import Order, OrderLine, Product

TODAY = dt.date(2026, 6, 15)


def test_demo_is_a_small_bakery_with_two_years_of_history(db):
    # One load for every check: the full demo takes a few seconds.
    demo = demo_load(seed=3, today=TODAY)
    assert demo.loaded
    assert 500 <= Contact.objects.count() == demo.contacts <= 600
    # 30 companies, the one a stranger's email signature named (Green Leaf Deli), and those
    # converted leads brought.
    assert Company.objects.count() == demo.companies > 31
    from rapport.activities.models import Interaction

    rosa = Contact.objects.get(primary_email="rosa@greenleafdeli.example")
    assert (rosa.source, rosa.company.name, rosa.job_title) == ("email", "Green Leaf Deli",
                                                                "Owner")
    thread = Interaction.objects.filter(type="email", thread="launch-1@demo.rapport.example")
    assert thread.count() == 3 and {i.direction for i in thread} == {"inbound", "outbound"}
    assert Product.objects.count() == 30
    assert set(Product.objects.values_list("category", flat=True)) >= {
        "Bread", "Pastry", "Cake", "Coffee"}
    roles = dict(User.objects.values("role").annotate(n=Count("id")).values_list("role", "n"))
    assert roles == {"owner": 1, "manager": 1, "sales": 2, "support": 1, "marketing": 1}
    assert set(User.objects.filter(role="sales").values_list("team__name", flat=True)) == {
        "Shop", "Wholesale"}
    owner = User.objects.get(email=USERS[0][0])
    assert owner.check_password(DEMO_PASSWORD)
    assert set(Contact.objects.values_list("lifecycle_stage", flat=True)) == {
        "subscriber", "lead", "opportunity", "customer", "former_customer"}
    assert Contact.objects.filter(company__isnull=False).count() >= 30
    assert Contact.objects.filter(email_opt_in=True, email_opt_in_at__isnull=False).exists()
    for phones in Contact.objects.exclude(phones=[]).values_list("phones", flat=True):
        assert normalise_phone(phones[0]) == phones[0]
    preferences = [p for ps in Contact.objects.values_list("preferences", flat=True) for p in ps]
    assert any(p.startswith("usual order: ") for p in preferences)
    assert Event.objects.filter(kind="note.added").count() > 100
    assert verify_chain().ok
    _check_activities(demo)
    _check_orders(demo)
    _check_history()
    _check_sales(demo)


def _check_sales(demo):
    from rapport.dataio.models import ImportJob
    from rapport.sales.models import Deal, Lead, StageChange, WebForm

    assert 150 <= Lead.objects.count() == demo.leads <= 180
    sources = dict(Lead.objects.values("source").annotate(n=Count("id"))
                   .values_list("source", "n"))
    assert set(sources) == {"web form", "email", "referral", "phone", "trade fair"}
    assert sources["web form"] > 50 and sources["trade fair"] == 14
    assert Lead.objects.exclude(utm_campaign="").count() > 20
    assert Lead.objects.filter(web_form=WebForm.objects.get()).count() == sources["web form"]
    assert set(Lead.objects.values_list("grade", flat=True)) == {"A", "B", "C", "D"}
    assert not Lead.objects.filter(owner__isnull=True, status="new").exists()  # all assigned
    span = Lead.objects.aggregate(first=Min("created_at"), last=Max("created_at"))
    assert (span["last"] - span["first"]).days > 150
    converted = Lead.objects.filter(status="converted")
    assert converted.count() > 20
    assert not converted.filter(converted_deal_id__isnull=True).exists()
    job = ImportJob.objects.get(type="leads")
    assert (job.status, job.created, job.failed) == ("done", 14, 1)

    assert 55 <= Deal.objects.count() == demo.deals <= 65
    by_stage = dict(Deal.objects.values("stage__name").annotate(n=Count("id"))
                    .values_list("stage__name", "n"))
    assert by_stage["Won"] > 5 and by_stage["Lost"] > 3
    assert sum(n for name, n in by_stage.items() if name not in ("Won", "Lost")) > 15
    lost = Deal.objects.filter(stage__is_lost=True)
    assert not lost.filter(lost_reason="").exists()
    assert not Deal.objects.filter(stage__is_won=True, closed_at__isnull=True).exists()
    assert Deal.objects.filter(stage__is_won=False, stage__is_lost=False,
                               closed_at__isnull=False).count() == 0
    amounts = Deal.objects.aggregate(low=Min("amount"), high=Max("amount"))
    assert 100 <= amounts["low"] and amounts["high"] <= 10000  # a bakery's customers
    entered = {d.date() for d in Deal.objects.values_list("stage_entered_at", flat=True)}
    assert len(entered) > 30  # spread over time: time in stage has something to show
    changes = StageChange.objects.all()
    assert changes.count() > 60
    assert not changes.filter(seconds_in_stage__isnull=True).exists()
    for deal in Deal.objects.filter(stage_changes__isnull=False).distinct()[:20]:
        history = list(deal.stage_changes.order_by("changed_at", "id"))
        assert history[-1].to_stage_id == deal.stage_id
        assert history[-1].changed_at == deal.stage_entered_at
        assert all(a.changed_at <= b.changed_at for a, b in zip(history, history[1:], strict=False))


def _check_activities(demo):
    from rapport.activities.models import Interaction, Task

    assert Interaction.objects.count() == demo.interactions > 50
    assert set(Interaction.objects.values_list("type", flat=True)) >= {"call", "meeting"}
    assert Task.objects.filter(completed_at__isnull=True).count() == demo.tasks >= 9
    priya = User.objects.get(email__startswith="priya@")
    today_start = dt.datetime.combine(TODAY, dt.time(), tzinfo=dt.UTC) - dt.timedelta(days=1)
    assert Task.objects.filter(assignee=priya, due_at__lt=today_start).exists()  # overdue
    assert Event.objects.filter(kind="interaction.logged").count() == demo.interactions


def _check_orders(demo):
    span = Order.objects.aggregate(first=Min("ordered_at"), last=Max("ordered_at"))
    days = (span["last"] - span["first"]).days
    assert 700 <= days <= 730
    assert span["last"].date() <= TODAY
    assert Order.objects.count() == demo.orders > 5000
    assert set(Order.objects.values_list("channel", flat=True)) == {
        "in_store", "online", "phone", "wholesale"}
    # Totals are the sum of their lines.
    order = Order.objects.order_by("id")[100]
    lines = OrderLine.objects.filter(order=order)
    assert order.total == sum(line.quantity * line.unit_price for line in lines)
    # Each order is on its customer's timeline, dated when it was placed.
    event = Event.objects.get(kind="order.placed", entity_id=order.id)
    assert event.contact_id == order.contact_id
    assert event.occurred_at == order.ordered_at
    assert event.after["total"] == str(order.total)
    # Recorded at the simulated moment it was placed (time passed in, no patched clock), by
    # the person at the counter (the customer's owner); online orders by no one.
    assert not Order.objects.exclude(created_at=F("ordered_at")).exists()
    online = Order.objects.filter(channel="online").order_by("id").first()
    assert Event.objects.get(kind="order.placed", entity_id=online.id).actor_id is None
    in_store = Order.objects.filter(channel="in_store").select_related("contact").first()
    assert Event.objects.get(kind="order.placed", entity_id=in_store.id).actor_id == (
        in_store.contact.owner_id)
    # December is busier than August (seasonality); regulars order far more than most.
    december = Order.objects.filter(ordered_at__month=12).count()
    august = Order.objects.filter(ordered_at__month=8).count()
    assert december > august
    counts = sorted(Order.objects.values("contact").annotate(n=Count("id"))
                    .values_list("n", flat=True))
    assert counts[-1] > 50 and counts[len(counts) // 2] < 30
    churned = Contact.objects.filter(lifecycle_stage="former_customer")
    assert churned.count() > 20
    last_orders = [Order.objects.filter(contact=c).aggregate(m=Max("ordered_at"))["m"]
                   for c in churned[:10]]
    assert all(m is None or (span["last"] - m).days > 60 for m in last_orders)


def _check_history():
    contact = Contact.objects.filter(lifecycle_stage="former_customer").order_by("id").first()
    kinds = list(Event.objects.filter(contact_id=contact.id).order_by("occurred_at", "id")
                 .values_list("kind", flat=True))
    assert kinds[0] == "contact.created"
    assert "order.placed" in kinds
    assert kinds[-1] == "contact.updated"  # moved to former customer after they stopped
    created = Event.objects.get(contact_id=contact.id, kind="contact.created")
    assert created.occurred_at == contact.created_at
    assert contact.created_at.date() < TODAY - dt.timedelta(days=60)


def test_demo_if_empty_is_idempotent(db, capsys):
    call_command("demo", "--if-empty", "--seed", "2", "--size", "0.1")
    out = capsys.readouterr().out
    assert "http://127.0.0.1:8000" in out
    assert USERS[0][0] in out and DEMO_PASSWORD in out
    counts = (Contact.objects.count(), Order.objects.count(), Event.objects.count())
    call_command("demo", "--if-empty", "--seed", "2", "--size", "0.1")
    assert "not loaded" in capsys.readouterr().out
    assert (Contact.objects.count(), Order.objects.count(), Event.objects.count()) == counts


def test_demo_is_deterministic(db):
    demo_load(seed=5, today=TODAY, size=0.1)
    first = list(Contact.objects.order_by("id").values_list(
        "first_name", "last_name", "emails", "phones", "preferences", "created_at"))
    orders = list(Order.objects.order_by("id").values_list("ordered_at", "total"))
    from rapport.sales.models import Deal, Lead, Pipeline

    leads = list(Lead.objects.order_by("id").values_list(
        "name", "email", "source", "score", "owner__email", "status", "created_at"))
    deals = list(Deal.objects.order_by("id").values_list(
        "name", "amount", "stage__name", "stage_entered_at", "lost_reason"))
    Event.objects.all().delete()
    from rapport.activities.models import Interaction, MailMessage, Task
    from rapport.dataio.models import ImportJob
    from rapport.sales.models import AssignmentRule, LeadScoringRule, WebForm
    from rapport.support.models import Article, ArticleCategory, EventRule, Ticket

    tickets = list(Ticket.objects.order_by("id").values_list(
        "subject", "status", "priority", "assignee__email", "created_at", "first_responded_at"))
    for model in (Article, ArticleCategory, EventRule,
                  Deal, Lead, AssignmentRule, LeadScoringRule, WebForm, Pipeline, ImportJob,
                  Task, Interaction, MailMessage, OrderLine, Order, Product, Contact, Company,
                  User):
        model.objects.all().delete()
    from rapport.core.models import AuditHead

    AuditHead.objects.all().delete()
    demo_load(seed=5, today=TODAY, size=0.1)
    assert list(Contact.objects.order_by("id").values_list(
        "first_name", "last_name", "emails", "phones", "preferences", "created_at")) == first
    assert list(Order.objects.order_by("id").values_list("ordered_at", "total")) == orders
    assert list(Lead.objects.order_by("id").values_list(
        "name", "email", "source", "score", "owner__email", "status", "created_at")) == leads
    assert list(Deal.objects.order_by("id").values_list(
        "name", "amount", "stage__name", "stage_entered_at", "lost_reason")) == deals
    assert list(Ticket.objects.order_by("id").values_list(
        "subject", "status", "priority", "assignee__email", "created_at",
        "first_responded_at")) == tickets


def test_demo_help_desk_tells_a_story(db, django_capture_on_commit_callbacks):
    """The demo's desk: published answers for the help centre and the assistant, tickets from
    every channel, most answered and rated, a few on the desk today, each with SLA timers."""
    from rapport.support.models import Article, Device, Survey, Ticket

    with django_capture_on_commit_callbacks(execute=True):  # the SLA timers follow the commit
        report = demo_load(seed=3, today=TODAY, size=0.1)
    assert report.articles == Article.objects.filter(status="published").count() >= 10
    tickets = Ticket.objects.all()
    assert report.tickets == tickets.count() >= 30
    assert set(tickets.values_list("channel", flat=True)) >= {"email", "web", "phone", "chat"}
    assert tickets.filter(status="closed").count() >= 30
    assert set(tickets.exclude(status="closed").values_list("status", flat=True)) >= {
        "new", "open", "waiting"}
    assert not tickets.filter(first_response_due__isnull=True).exists()  # SLA timers
    assert Survey.objects.filter(score__isnull=False).count() >= 10
    assert Device.objects.count() == 1
