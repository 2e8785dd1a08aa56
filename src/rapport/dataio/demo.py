"""`rapport demo`: a small bakery with two years of history, for trying Rapport out.

Hearth & Crumb Bakery in Portland sells bread, pastries, cakes and coffee to about 500 people
and supplies about 30 cafés, restaurants, hotels and offices. People, companies, preferences,
notes and stage changes go through the real services with a simulated clock, so every one of
them is a real, correctly dated event on the timeline. Orders (about fifteen thousand) go
through the orders bulk service the CSV import uses (``orders_bulk_create``), each recorded at
the moment it was placed (time passed in, not a patched clock), with the same ``order.placed``
events ``order_create`` records.

Deterministic given the seed (and the day it runs: the history ends today).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from email.message import EmailMessage
from email.utils import format_datetime
from unittest import mock
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone

from rapport.accounts.selectors import user_exists
from rapport.accounts.services import user_create
from rapport.activities import services as activity_services
from rapport.contacts import selectors as contact_selectors
from rapport.contacts import services as contact_services
from rapport.dataio.pools import ascii_word
from rapport.orders.inputs import BulkLine, BulkOrder, OrdersBulkInput
from rapport.orders.services import orders_bulk_create, product_create

BAKERY = "Hearth & Crumb Bakery"
DOMAIN = "hearthandcrumb.example.com"
URL = "http://127.0.0.1:8000"
DEMO_PASSWORD = "hearth-and-crumb-demo"
LOCAL = ZoneInfo("America/Los_Angeles")
HISTORY_DAYS = 730

# (email, role, first name, last name, team)
USERS = (
    (f"helen@{DOMAIN}", "owner", "Helen", "Marsh", None),
    (f"marcus@{DOMAIN}", "manager", "Marcus", "Reed", "Shop"),
    (f"priya@{DOMAIN}", "sales", "Priya", "Shah", "Shop"),
    (f"tom@{DOMAIN}", "sales", "Tom", "Okafor", "Wholesale"),
    (f"lena@{DOMAIN}", "support", "Lena", "Vogel", None),
    (f"jonas@{DOMAIN}", "marketing", "Jonas", "Berg", None),
)


@dataclass(frozen=True)
class Item:
    name: str
    sku: str
    category: str
    price: str
    popularity: float
    months: tuple[int, ...] = ()  # sold only in these months (empty: all year)
    wholesale: bool = False


PRODUCTS = (
    Item("Rye sourdough", "BR-RYE", "Bread", "7.50", 8),
    Item("Country sourdough", "BR-CTRY", "Bread", "6.90", 10),
    Item("Seeded rye", "BR-SEED", "Bread", "7.80", 4),
    Item("Whole wheat loaf", "BR-WW", "Bread", "5.90", 4),
    Item("Baguette", "BR-BAG", "Bread", "3.40", 9),
    Item("Focaccia", "BR-FOC", "Bread", "5.50", 4),
    Item("Challah", "BR-CHL", "Bread", "8.00", 3),
    Item("Gluten-free loaf", "BR-GF", "Bread", "8.50", 2),
    Item("Croissant", "PA-CRO", "Pastry", "3.60", 12),
    Item("Pain au chocolat", "PA-PAC", "Pastry", "3.90", 9),
    Item("Almond croissant", "PA-ALM", "Pastry", "4.40", 6),
    Item("Cinnamon bun", "PA-CIN", "Pastry", "4.20", 8),
    Item("Cardamom bun", "PA-CAR", "Pastry", "4.20", 6),
    Item("Kouign-amann", "PA-KOU", "Pastry", "4.80", 3),
    Item("Blueberry scone", "PA-SCO", "Pastry", "3.80", 4),
    Item("Carrot cake slice", "CA-CAR", "Cake", "5.20", 3),
    Item("Lemon tart", "CA-LEM", "Cake", "5.50", 3),
    Item("Chocolate layer cake", "CA-CHO", "Cake", "42.00", 0.6),
    Item("Birthday cake (custom)", "CA-BDAY", "Cake", "58.00", 0.4),
    Item("Pumpkin pie", "SE-PUM", "Seasonal", "24.00", 2, (10, 11)),
    Item("Stollen", "SE-STO", "Seasonal", "19.50", 2.5, (12,)),
    Item("Hot cross buns (4)", "SE-HCB", "Seasonal", "9.00", 3, (3, 4)),
    Item("Espresso", "CO-ESP", "Coffee", "3.00", 6),
    Item("Cappuccino", "CO-CAP", "Coffee", "4.20", 9),
    Item("Oat latte", "CO-OAT", "Coffee", "4.80", 6),
    Item("Filter coffee", "CO-FIL", "Coffee", "2.90", 6),
    Item("House blend beans 250 g", "CO-BEANS", "Coffee", "14.00", 1),
    Item("Sourdough case (10 loaves)", "WH-SOUR", "Wholesale", "52.00", 0, wholesale=True),
    Item("Croissant tray (24)", "WH-CRO", "Wholesale", "64.00", 0, wholesale=True),
    Item("Baguette crate (20)", "WH-BAG", "Wholesale", "48.00", 0, wholesale=True),
)

COMPANIES = (
    # (name, industry, size, street, contacts as (job title, share of the orders))
    ("Alder Street Café", "Café", "1-10", "1021 SE Alder St"),
    ("Stumptown Corner Coffee", "Café", "11-50", "128 SW 3rd Ave"),
    ("Pearl Bean Roasters", "Café", "11-50", "1313 NW Glisan St"),
    ("The Morning Kettle", "Café", "1-10", "4011 N Williams Ave"),
    ("Division Street Espresso", "Café", "1-10", "3434 SE Division St"),
    ("Little Fern Café", "Café", "1-10", "2215 NE Alberta St"),
    ("Brass Lantern Bistro", "Restaurant", "11-50", "820 SW Washington St"),
    ("Olive & Ash Kitchen", "Restaurant", "11-50", "4525 SE Hawthorne Blvd"),
    ("Salt Marsh Oyster Bar", "Restaurant", "11-50", "1405 NW 23rd Ave"),
    ("Ferro Trattoria", "Restaurant", "11-50", "3219 SE Belmont St"),
    ("Juniper Table", "Restaurant", "1-10", "2100 NE Broadway"),
    ("Willamette Grill", "Restaurant", "51-200", "100 SW Harrison St"),
    ("Copper Pot Supper Club", "Restaurant", "11-50", "733 NW Everett St"),
    ("The Rose Hotel", "Hotel", "51-200", "50 SW Morrison St"),
    ("Hotel Lumen", "Hotel", "51-200", "1100 SW 6th Ave"),
    ("Riverside Inn", "Hotel", "11-50", "1510 SW Harbor Way"),
    ("Cascade Suites", "Hotel", "51-200", "800 NE Multnomah St"),
    ("Northwest Lodge & Spa", "Hotel", "201-1000", "2300 NW Thurman St"),
    ("Greenleaf Grocers", "Grocery", "11-50", "2830 SE Clinton St"),
    ("Mississippi Market Co-op", "Grocery", "51-200", "3920 N Mississippi Ave"),
    ("Sellwood Deli", "Grocery", "1-10", "7901 SE 13th Ave"),
    ("Bridgetown Catering", "Catering", "11-50", "1220 SE Grand Ave"),
    ("Evergreen Events", "Catering", "11-50", "5105 NE Sandy Blvd"),
    ("Harbor Legal LLP", "Professional Services", "51-200", "1211 SW 5th Ave"),
    ("Pixelworks Studio", "Software", "11-50", "415 NW 11th Ave"),
    ("Summit Dental Care", "Healthcare", "11-50", "2440 NW Lovejoy St"),
    ("Laurelhurst Montessori", "Education", "11-50", "3510 NE Glisan St"),
    ("Oakridge Architects", "Professional Services", "11-50", "920 SW 6th Ave"),
    ("Tidewater Coworking", "Real Estate", "11-50", "1455 NW Irving St"),
    ("Foxglove Florist", "Retail", "1-10", "3328 SE Hawthorne Blvd"),
)
WHOLESALE_INDUSTRIES = ("Café", "Restaurant", "Hotel", "Grocery", "Catering")
COMPANY_JOBS = {
    "Café": ("Owner", "Manager"), "Restaurant": ("Head Chef", "General Manager"),
    "Hotel": ("Food & Beverage Manager", "Purchasing Manager"),
    "Grocery": ("Bakery Buyer", "Store Manager"), "Catering": ("Owner", "Event Coordinator"),
}
OFFICE_JOBS = ("Office Manager", "Executive Assistant", "Operations Lead")

DIETARY = ("no sesame", "allergic to nuts", "gluten-free", "vegan", "dairy-free",
           "no raisins, please")
EXTRA_PREFERENCES = (
    "picks up on Saturday mornings", "oat milk in their coffee", "prefers text messages",
    "birthday: {birthday}", "likes the loaf sliced", "brings their own bag",
    "pays by card, wants email receipts", "kids love the cinnamon buns",
)
NOTES = (
    "Asked whether we could do a {item} for a birthday next month.",
    "Mentioned the {item} was a little over-baked last week; offered a free coffee.",
    "Loves the new {item}. Suggested we make it every weekend.",
    "Asked about gluten-free options; recommended the gluten-free loaf.",
    "Would like to pre-order for the holidays.",
    "Told us they are moving across town but will keep coming on Saturdays.",
    "Signed up for the birthday club at the counter.",
    "Asked about catering for an office breakfast (about 25 people).",
    "Left a lovely review online about the {item}.",
    "Wanted to know if we deliver on Sundays.",
)
COMPANY_NOTES = (
    "Standing order confirmed: delivery before 7am, back door.",
    "Asked to add {item} to the weekly delivery from next month.",
    "Invoice query about last month's credit note; resolved.",
    "New head chef started; wants a tasting of the {item}.",
    "Reduced the order over the summer; back to normal in September.",
)
CATERING_NOTES = (
    "Enquired about a wedding cake for 120 guests; sent the tasting menu.",
    "Asked for a quote for a corporate breakfast every Friday.",
    "Wants a cake for a 40th birthday party; budget around $150.",
)
PHONE_AREAS = ("503", "971", "360", "541", "206", "425")


@dataclass
class Person:
    first: str
    last: str
    segment: str  # regular, occasional, rare, churned, prospect
    created: dt.datetime
    favourites: list[int]  # indices into PRODUCTS
    company: int | None = None  # index into COMPANIES
    job_title: str = ""
    contact_id: int = 0
    orders: list[dt.datetime] = field(default_factory=list)
    churn_at: dt.datetime | None = None


@dataclass
class DemoReport:
    loaded: bool
    users: int = 0
    contacts: int = 0
    companies: int = 0
    products: int = 0
    orders: int = 0
    interactions: int = 0
    tasks: int = 0
    email_templates: int = 0
    leads: int = 0
    deals: int = 0
    tickets: int = 0
    articles: int = 0
    events: int = 0
    login_email: str = USERS[0][0]
    password: str = DEMO_PASSWORD
    url: str = URL


@contextlib.contextmanager
def _clock(moment: dt.datetime) -> Iterator[None]:
    """Run services as if it were ``moment``: their timestamps and events get that time."""
    with mock.patch.object(timezone, "now", lambda: moment):
        yield


def demo_load(*, seed: int = 1, if_empty: bool = False, today: dt.date | None = None,
              size: float = 1.0, log: Callable[[str], None] = lambda _: None) -> DemoReport:
    """Load the bakery. With ``if_empty``, do nothing when any contact already exists.

    ``size`` scales the number of individual customers (tests use a tenth).
    """
    if if_empty and contact_selectors.contacts_exist():
        return DemoReport(loaded=False)
    if user_exists(email=USERS[0][0]):
        raise ValueError(f"the demo is already loaded ({USERS[0][0]} exists)")
    rng = random.Random(seed)
    end = dt.datetime.combine(today or timezone.now().date(), dt.time(2), tzinfo=dt.UTC)
    start = end - dt.timedelta(days=HISTORY_DAYS)
    report = DemoReport(loaded=True)
    with transaction.atomic():
        users = _users(start)
        report.users = len(USERS)
        products = _products(users["owner"], start)
        report.products = len(products)
        log(f"  {len(USERS)} users, {len(products)} products")
        people, company_ids = _people(rng, start, end, size)
        _replay(rng, users, people, company_ids, start, end)
        report.companies = len(company_ids)
        report.contacts = len(people)
        log(f"  {report.companies} companies, {report.contacts} people with their timelines")
        report.orders = _orders(rng, users, people, products, end)
        log(f"  {report.orders} orders")
        report.interactions, report.tasks = _activities(rng, users, people, end)
        emailed, newcomers = _emails(users, people, end)
        report.interactions += emailed
        report.contacts += len(newcomers)
        report.companies += len({contact_selectors.contact_get(
            user=users["owner"], contact_id=contact_id).company_id for contact_id in newcomers}
            - set(company_ids) - {None})
        log(f"  {report.interactions} conversations, {report.tasks} open tasks")
        report.email_templates = _email_templates(users, start)
        log(f"  {report.email_templates} email templates")
        # The sales side: web form, rules, leads and deals (dataio/demo_sales.py).
        from rapport.dataio.demo_sales import sales_demo

        sold = sales_demo(rng=random.Random(rng.randrange(1 << 30)), users=users,
                          company_ids=company_ids, company_names=[c[0] for c in COMPANIES],
                          end=end)
        report.leads, report.deals = sold.leads, sold.deals
        report.contacts += len(sold.contact_ids)
        report.companies += len(sold.company_ids)
        log(f"  {sold.leads} leads ({sold.converted} converted), {sold.deals} deals "
            f"({sold.won} won, {sold.lost} lost)")
        # The help desk: hours, agents, knowledge base, tickets (dataio/demo_support.py).
        from rapport.dataio.demo_support import support_demo

        helped = support_demo(rng=random.Random(rng.randrange(1 << 30)), users=users,
                              contact_ids=[p.contact_id for p in people if p.contact_id],
                              end=end)
        report.tickets, report.articles = helped.tickets, helped.articles
        log(f"  {helped.articles} help articles, {helped.tickets} tickets "
            f"({helped.open_tickets} open, {helped.surveys} rated)")
    from rapport.core.models import Event

    report.events = Event.objects.count()
    return report


def _users(start: dt.datetime) -> dict[str, object]:
    users = {}
    with _clock(start - dt.timedelta(days=1)):
        for email, role, first, last, team in USERS:
            user = user_create(email=email, role=role, first_name=first, last_name=last,
                               team_name=team, password=DEMO_PASSWORD)
            users[email.split("@")[0]] = user
            users.setdefault(role, user)
    return users


def _products(owner, start: dt.datetime) -> list:
    with _clock(start - dt.timedelta(hours=20)):
        return [product_create(actor=owner, data={"name": p.name, "sku": p.sku,
                                                  "category": p.category, "price": p.price})
                for p in PRODUCTS]


def _retail_choices(rng: random.Random, k: int) -> list[int]:
    indices = [i for i, p in enumerate(PRODUCTS) if not p.wholesale and not p.months]
    weights = [PRODUCTS[i].popularity for i in indices]
    picks: list[int] = []
    while len(picks) < k:
        choice = rng.choices(indices, weights)[0]
        if choice not in picks:
            picks.append(choice)
    return picks


def _people(rng: random.Random, start: dt.datetime, end: dt.datetime, size: float
            ) -> tuple[list[Person], list[int]]:
    from faker import Faker

    fake = Faker("en_US")
    fake.seed_instance(rng.randrange(1 << 30))
    people: list[Person] = []
    mix = {"regular": 105, "occasional": 200, "rare": 90, "churned": 60, "prospect": 45}
    segments = [name for name, count in mix.items() for _ in range(max(1, round(count * size)))]
    for segment in segments:
        # Most of today's customers were already around two years ago; the rest trickle in.
        offset = 0 if rng.random() < 0.45 else rng.uniform(0, HISTORY_DAYS - 20)
        created = start + dt.timedelta(days=offset, hours=rng.uniform(15, 26))
        people.append(Person(first=fake.first_name(), last=fake.last_name(), segment=segment,
                             created=created, favourites=_retail_choices(rng, 3)))
    for index, (_, industry, *_rest) in enumerate(COMPANIES):
        jobs = COMPANY_JOBS.get(industry, OFFICE_JOBS)
        for n in range(1 if rng.random() < 0.5 else 2):
            segment = "wholesale" if industry in WHOLESALE_INDUSTRIES else "office"
            people.append(Person(
                first=fake.first_name(), last=fake.last_name(),
                segment=segment if n == 0 else "colleague",
                created=start + dt.timedelta(days=rng.uniform(0, 200) if n else 0,
                                             hours=rng.uniform(15, 20)),
                favourites=_retail_choices(rng, 2), company=index, job_title=jobs[n % len(jobs)],
            ))
    return people, []


def _email(rng: random.Random, person: Person) -> str:
    first, last = ascii_word(person.first), ascii_word(person.last)
    if person.company is not None:
        name = COMPANIES[person.company][0]
        slug = "".join(ch for ch in name.lower() if ch.isalnum())
        return f"{first}@{slug}.example.com"
    domain = rng.choice(("example.com", "example.net", "example.org", "mail.example.com"))
    style = rng.randrange(3)
    local = (f"{first}.{last}" if style == 0 else f"{first[0]}{last}" if style == 1
             else f"{first}{rng.randrange(10, 99)}")
    return f"{local}@{domain}"


def _phone(rng: random.Random, used: set[str]) -> str:
    # 555-0100 to 555-0199 are reserved for fiction in every North American area code.
    while True:
        number = f"+1{rng.choice(PHONE_AREAS)}5550{rng.randrange(100, 200)}"
        if number not in used:
            used.add(number)
            return number


def _plan_orders(rng: random.Random, person: Person, end: dt.datetime) -> None:
    """Order dates for one person: regulars weekly, occasional monthly, churners stop."""
    mean_gap = {"regular": 6.0, "occasional": 30.0, "churned": 12.0, "wholesale": 7.0,
                "office": 21.0}.get(person.segment)
    first = person.created + dt.timedelta(days=rng.uniform(0, 4))
    if mean_gap is None and person.segment != "rare":  # prospects and colleagues buy nothing
        return
    if person.segment == "rare":
        span = max((end - first).days, 1)
        person.orders = sorted(first + dt.timedelta(days=rng.uniform(0, span))
                               for _ in range(rng.randint(1, 3)))
        return
    stop = end
    if person.segment == "churned":
        life = (end - first).days
        stop = first + dt.timedelta(days=rng.uniform(0.2, 0.7) * life)
        person.churn_at = stop
    moment = first
    while moment < stop:
        month_factor = {12: 1.5, 11: 1.2, 7: 0.8, 8: 0.75}.get(moment.month, 1.0)
        gap = rng.expovariate(1 / mean_gap) / month_factor
        moment = moment + dt.timedelta(days=max(gap, 0.8))
        if moment >= stop:
            break
        local = moment.astimezone(LOCAL)
        weekday_keep = (0.7, 0.85, 0.9, 0.9, 1.0, 1.0, 0.95)[local.weekday()]
        if rng.random() > weekday_keep:
            continue
        # Shop hours: 7am to 6pm local time, busiest in the morning.
        hour = min(rng.triangular(7, 18, 9), 17.9)
        if person.segment == "wholesale":
            hour = rng.uniform(5, 6.5)
        person.orders.append(local.replace(hour=int(hour), minute=int(hour % 1 * 60),
                                           second=rng.randrange(60)).astimezone(dt.UTC))


def _replay(rng: random.Random, users: dict, people: list[Person], company_ids: list[int],
            start: dt.datetime, end: dt.datetime) -> None:
    """Create companies and people and live through their history, in time order."""
    shop_staff = [users["owner"], users["manager"], users["priya"]]
    wholesale = users["tom"]
    used_phones: set[str] = set()
    happenings: list[tuple[dt.datetime, int, Callable[[], None]]] = []

    def at(moment: dt.datetime, action: Callable[[], None],
           person: Person | None = None) -> None:
        if person is not None:  # nothing happens to someone before they are in the system
            moment = max(moment, person.created + dt.timedelta(minutes=1))
        happenings.append((moment, len(happenings), action))

    for index, (name, industry, size, street) in enumerate(COMPANIES):
        slug = "".join(ch for ch in name.lower() if ch.isalnum())
        owner = wholesale if industry in WHOLESALE_INDUSTRIES else users["manager"]

        def create_company(name=name, industry=industry, size=size, street=street, slug=slug,
                           owner=owner):
            company = contact_services.company_create(actor=owner, data={
                "name": name, "domain": f"{slug}.example.com", "industry": industry,
                "size": size, "address": f"{street}\nPortland, OR 972{rng.randrange(1, 40):02d}",
                "tags": ["wholesale"] if industry in WHOLESALE_INDUSTRIES else ["office"],
            })
            company_ids.append(company.id)

        at(start + dt.timedelta(minutes=index), create_company)

    birthdays = [f"{d:%-d %B}" for d in (dt.date(2000, 1, 1) + dt.timedelta(days=i * 7)
                                           for i in range(52))]
    for person in people:
        _plan_orders(rng, person, end)
        if person.company is not None:
            # The company's own account manager looks after its people (they can see it).
            industry = COMPANIES[person.company][1]
            staff = wholesale if industry in WHOLESALE_INDUSTRIES else users["manager"]
        else:
            staff = rng.choice(shop_staff)
        at(person.created, _create_person(rng, person, staff, used_phones, company_ids))
        favourite_names = [PRODUCTS[i].name.lower() for i in person.favourites]
        if person.segment in ("regular", "churned") and len(person.orders) > 3:
            usual = f"usual order: {favourite_names[0]}, {favourite_names[1]}"
            if rng.random() < 0.35:
                usual += f", {rng.choice(DIETARY)}"
            at(person.orders[3] + dt.timedelta(minutes=5),
               _preference(person, staff, usual), person)
            if rng.random() < 0.5:
                extra = rng.choice(EXTRA_PREFERENCES).format(birthday=rng.choice(birthdays))
                at(person.orders[-1] - dt.timedelta(days=rng.uniform(1, 60)),
                   _preference(person, staff, extra), person)
        elif person.segment == "occasional" and rng.random() < 0.25:
            at(person.created + dt.timedelta(days=rng.uniform(1, 90)),
               _preference(person, staff, rng.choice(DIETARY)), person)
        elif person.segment == "wholesale" and person.orders:
            at(person.orders[0] - dt.timedelta(hours=3), _preference(
                person, staff, f"standing order: {rng.randint(2, 6)} sourdough cases and "
                f"croissant trays; deliver before 7am, back door"), person)
        note_count = {"regular": 2, "churned": 1, "wholesale": 2, "prospect": 1}.get(
            person.segment, 1 if rng.random() < 0.3 else 0)
        for _ in range(note_count):
            if person.segment == "prospect":
                text = rng.choice(CATERING_NOTES)
            elif person.company is not None:
                text = rng.choice(COMPANY_NOTES).format(item=rng.choice(favourite_names))
            else:
                text = rng.choice(NOTES).format(item=rng.choice(favourite_names))
            last = person.orders[-1] if person.orders else end - dt.timedelta(days=1)
            when = person.created + (last - person.created) * rng.random()
            at(when + dt.timedelta(minutes=30),
               _note(person, rng.choice([staff, users["support"]]), text), person)
        if person.churn_at is not None:
            at(person.churn_at + dt.timedelta(days=90),
               _stage(person, staff, "former_customer", "lapsed"), person)
        if person.segment == "prospect" and rng.random() < 0.4:
            at(person.created + dt.timedelta(days=rng.uniform(2, 20)),
               _stage(person, staff, "opportunity", "catering"), person)
    for moment, _, action in sorted(happenings, key=lambda h: (h[0], h[1])):
        with _clock(moment):
            action()


def _create_person(rng: random.Random, person: Person, staff, used_phones: set[str],
                   company_ids: list[int]) -> Callable[[], None]:
    def create() -> None:
        stage = {"prospect": "lead" if rng.random() < 0.6 else "subscriber"}.get(
            person.segment, "customer")
        opt_in = rng.random() < (0.4 if person.company is not None else 0.6)
        tags = []
        if person.segment == "regular":
            tags.append("regular")
        if person.segment == "wholesale":
            tags.append("wholesale")
        if opt_in:
            tags.append("newsletter")
        if person.segment == "prospect" and stage == "lead":
            tags.append("catering")
        if any(PRODUCTS[i].sku == "BR-GF" for i in person.favourites):
            tags.append("gluten-free")
        if rng.random() < 0.1:
            tags.append("birthday-club")
        data = {
            "first_name": person.first, "last_name": person.last,
            "emails": [_email(rng, person)] if rng.random() < 0.93 else [],
            "phones": [_phone(rng, used_phones)] if rng.random() < 0.75 else [],
            "addresses": [f"{rng.randrange(100, 9999)} {rng.choice(STREETS)}\n"
                          f"Portland, OR 972{rng.randrange(1, 40):02d}"]
            if person.company is None and rng.random() < 0.45 else [],
            "job_title": person.job_title,
            "company_id": company_ids[person.company] if person.company is not None else None,
            "owner_id": staff.id, "tags": tags, "lifecycle_stage": stage,
            "source": rng.choice(("walk-in", "walk-in", "website", "instagram", "referral",
                                  "farmers market")) if person.company is None else "sales",
            "email_opt_in": opt_in,
            "email_opt_in_source": rng.choice(("counter sign-up", "website form", "checkout"))
            if opt_in else "",
            "do_not_call": rng.random() < 0.05,
        }
        person.contact_id = contact_services.contact_create(actor=staff, data=data).id

    return create


def _preference(person: Person, staff, text: str) -> Callable[[], None]:
    def add() -> None:
        contact_services.contact_add_preference(actor=staff, contact_id=person.contact_id,
                                                text=text)

    return add


def _note(person: Person, author, text: str) -> Callable[[], None]:
    def add() -> None:
        contact_services.contact_note_add(actor=author, contact_id=person.contact_id, text=text)

    return add


def _stage(person: Person, actor, stage: str, tag: str) -> Callable[[], None]:
    def change() -> None:
        contact = contact_selectors.contact_get(user=actor, contact_id=person.contact_id)
        tags = sorted({*(t.name for t in contact.tags.all()), tag})
        contact_services.contact_update(actor=actor, contact_id=contact.id,
                                        version=contact.version,
                                        changes={"lifecycle_stage": stage, "tags": tags})

    return change


STREETS = ("SE Hawthorne Blvd", "NE Alberta St", "SE Division St", "N Mississippi Ave",
           "NW 23rd Ave", "SE Belmont St", "NE Broadway", "SW Corbett Ave", "N Williams Ave",
           "SE Clinton St", "NE Fremont St", "SE Woodstock Blvd", "NW Thurman St",
           "SE Powell Blvd", "NE Killingsworth St", "SW Capitol Hwy", "N Lombard St",
           "SE Foster Rd", "NE Sandy Blvd", "SW Vista Ave")


def _basket(rng: random.Random, person: Person, moment: dt.datetime,
            products: list) -> list[tuple[int, int, Decimal]]:
    """(product index, quantity, unit price) lines for one order."""
    if person.segment == "wholesale":
        lines = [(PRODUCTS.index(next(p for p in PRODUCTS if p.sku == "WH-SOUR")),
                  rng.randint(2, 6))]
        if rng.random() < 0.8:
            lines.append((next(i for i, p in enumerate(PRODUCTS) if p.sku == "WH-CRO"),
                          rng.randint(1, 3)))
        if rng.random() < 0.3:
            lines.append((next(i for i, p in enumerate(PRODUCTS) if p.sku == "WH-BAG"), 1))
        return [(i, q, products[i].price) for i, q in lines]
    month = moment.astimezone(LOCAL).month
    chosen: dict[int, int] = {}
    count = rng.choice((1, 1, 2, 2, 2, 3, 3, 4)) if person.segment != "office" else 3
    for _ in range(count):
        if rng.random() < 0.65:
            index = rng.choice(person.favourites)
        else:
            candidates = [i for i, p in enumerate(PRODUCTS)
                          if not p.wholesale and (not p.months or month in p.months)]
            weights = [PRODUCTS[i].popularity * (4 if PRODUCTS[i].months else 1)
                       for i in candidates]
            index = rng.choices(candidates, weights)[0]
        quantity = 1 if Decimal(PRODUCTS[index].price) > 15 else rng.choice((1, 1, 1, 2, 2, 4, 6))
        if person.segment == "office":
            quantity = rng.choice((6, 12, 12, 24))
        chosen[index] = chosen.get(index, 0) + quantity
    lines = [(i, q, products[i].price) for i, q in chosen.items()]
    if rng.random() < 0.01:  # the odd return, recorded as a negative line
        i, q, price = lines[0]
        lines.append((i, -1, price))
    return lines


def _orders(rng: random.Random, users: dict, people: list[Person], products: list,
            end: dt.datetime) -> int:
    """Every order through the bulk service, in time order, as whoever took it: online orders
    by no one (the shop), the others by the customer's owner (the person at the counter)."""
    plans: list[tuple[dt.datetime, Person, str, list[tuple[int, int, Decimal]]]] = []
    for person in people:
        for moment in person.orders:
            if moment >= end:
                continue
            if person.segment == "wholesale":
                channel = "wholesale"
            else:
                channel = rng.choices(("in_store", "online", "phone"), (0.75, 0.17, 0.08))[0]
            plans.append((moment, person, channel, _basket(rng, person, moment, products)))
    plans.sort(key=lambda plan: (plan[0], plan[1].contact_id))
    owners = contact_selectors.owner_ids(contact_ids={p.contact_id for p in people})
    staff = {user.id: user for user in users.values()}
    written = 0
    for begin in range(0, len(plans), 2000):
        by_actor: dict[int | None, list[BulkOrder]] = {}
        for n, (moment, person, channel, lines) in enumerate(plans[begin:begin + 2000],
                                                             start=begin + 1):
            taker = None if channel == "online" else owners.get(person.contact_id)
            by_actor.setdefault(taker, []).append(BulkOrder(
                contact_id=person.contact_id, ordered_at=moment, channel=channel,
                external_ref=f"HC-{n:06d}", recorded_at=moment,
                lines=[BulkLine(product_id=products[i].id, quantity=q, unit_price=price)
                       for i, q, price in lines]))
        for taker, orders in by_actor.items():
            result = orders_bulk_create(actor=staff.get(taker),
                                        data=OrdersBulkInput(orders=orders))
            written += len(result.created)
    return written


# --- conversations and tasks (through the activities services, on the simulated clock) -------

CALL_OUTCOMES = (
    "Confirmed the Saturday pre-order.", "Asked about the gluten-free loaf; will try it.",
    "Left a voicemail.", "Wants two more sourdough cases from next week.",
    "Happy with the new croissants; asked about a tasting for the staff.",
    "Delivery came late on Tuesday; apologised and offered a credit.",
    "Birthday cake for 20 people, chocolate; call back tomorrow 10am to confirm the date.",
)
MESSAGES = ("Can I pick up at 8 instead of 9?", "Thanks, the cake was perfect!",
            "Are you open on the bank holiday?", "Running 10 minutes late for pick-up.")
MEETINGS = (("Tasting of the new pastries", "At the bakery"),
            ("Quarterly review of the standing order", "Their office"),
            ("Wedding cake consultation", "At the bakery"))
TASKS = (  # (title, days from today (negative: overdue), local hour or None for all day, user)
    ("Call back about the birthday cake", -2, 10, "priya"),
    ("Send the catering quote", -1, None, "tom"),
    ("Confirm Saturday's pre-order", 0, 11, "priya"),
    ("Reply about the nut allergy question", 0, 15, "lena"),
    ("Check the delivery complaint is resolved", 0, None, "lena"),
    ("Drop off tasting samples", 1, 9, "tom"),
    ("Follow up on the wholesale price list", 2, 14, "tom"),
    ("Order holiday stollen boxes", 4, None, "helen"),
    ("Invite regulars to the tasting evening", 5, 16, "priya"),
)


def _activities(rng: random.Random, users: dict, people: list[Person],
                end: dt.datetime) -> tuple[int, int]:
    """A few weeks of calls, messages and meetings with the regulars and the wholesale
    customers, and open (some overdue) tasks, so My day and the timelines feel alive."""
    staff = {user.id: user for user in users.values()}
    owners = contact_selectors.owner_ids(contact_ids={p.contact_id for p in people})
    active = [p for p in people if p.contact_id and p.segment in (
        "regular", "wholesale", "prospect", "office")]
    chosen = rng.sample(active, min(70, len(active)))
    plans: list[tuple[dt.datetime, Callable[[], object]]] = []

    def log_with(person: Person, actor, data: dict) -> Callable[[], object]:
        return lambda: activity_services.interaction_log(
            actor=actor, data={"contact_id": person.contact_id, **data})

    for person in chosen:
        actor = staff.get(owners.get(person.contact_id) or 0, users["owner"])
        for _ in range(rng.randint(1, 3)):
            local_day = (end - dt.timedelta(days=rng.uniform(1, 45))).astimezone(LOCAL)
            moment = local_day.replace(hour=rng.randint(8, 17), minute=rng.choice((0, 15, 30,
                                                                                    45)))
            kind = rng.choices(("call", "message", "note"), (0.6, 0.25, 0.15))[0]
            if kind == "call":
                data = {"type": "call", "direction": rng.choice(("outbound", "inbound")),
                        "outcome": rng.choice(CALL_OUTCOMES),
                        "duration_seconds": rng.randint(40, 900)}
            elif kind == "message":
                data = {"type": "message", "direction": "inbound", "channel": "sms",
                        "body": rng.choice(MESSAGES)}
            else:
                data = {"type": "note", "body": rng.choice(NOTES).format(item="croissant")}
            plans.append((moment.astimezone(dt.UTC), log_with(person, actor, data)))
    for n, person in enumerate(p for p in chosen if p.segment in ("wholesale", "prospect")):
        if n >= 4:
            break
        subject, place = MEETINGS[n % len(MEETINGS)]
        start = (end + dt.timedelta(days=n)).astimezone(LOCAL).replace(
            hour=10 + n, minute=0, second=0, microsecond=0)
        data = {"type": "meeting", "subject": subject, "location": place,
                "occurred_at": start.isoformat(),
                "ends_at": (start + dt.timedelta(hours=1)).isoformat()}
        actor = staff.get(owners.get(person.contact_id) or 0, users["owner"])
        plans.append((end - dt.timedelta(days=3, hours=n), log_with(person, actor, data)))
    today = end.astimezone(LOCAL).date()
    for n, (title, days, hour, who) in enumerate(TASKS):
        day = today + dt.timedelta(days=days)
        due = dt.datetime.combine(day, dt.time(hour or 0), tzinfo=LOCAL)
        # Someone the assignee can see (their own customers, or anyone's for support).
        mine = [p for p in chosen if owners.get(p.contact_id) == users[who].id] or (
            chosen if who in ("lena", "helen") else [])
        person = mine[n % len(mine)] if mine else None
        data = {"title": title, "due_at": due.isoformat(), "all_day": hour is None,
                "assignee_id": users[who].id, "priority": "high" if days < 0 else "normal",
                "contact_id": person.contact_id if person and who != "helen" else None}
        plans.append((end - dt.timedelta(days=6, minutes=n),
                      lambda data=data: activity_services.task_create(actor=users["owner"],
                                                                      data=data)))
    weekly = {"title": "Order flour and butter", "assignee_id": users["helen"].id,
              "due_at": dt.datetime.combine(today + dt.timedelta(days=3), dt.time(9),
                                            tzinfo=LOCAL).isoformat(), "recurrence": "weekly"}
    plans.append((end - dt.timedelta(days=6),
                   lambda: activity_services.task_create(actor=users["owner"], data=weekly)))
    logged = tasks = 0
    for moment, action in sorted(plans, key=lambda plan: plan[0]):
        with _clock(moment):
            made = action()
        if hasattr(made, "assignee_id"):
            tasks += 1
        else:
            logged += 1
    return logged, tasks


# --- email, captured as the listener would (forwarded and BCC'd to the CRM) ------------------

def _mail(*, sender: str, to: str, subject: str, moment: dt.datetime, message_id: str,
          text: str, html: str = "", replying_to: list[str] | None = None) -> bytes:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, to, subject
    message["Date"] = format_datetime(moment)
    message["Message-ID"] = f"<{message_id}@demo.rapport.example>"
    if replying_to:
        message["In-Reply-To"] = f"<{replying_to[-1]}@demo.rapport.example>"
        message["References"] = " ".join(f"<{r}@demo.rapport.example>" for r in replying_to)
    message.set_content(text)
    if html:
        message.add_alternative(html, subtype="html")
    return message.as_bytes()


def _emails(users: dict, people: list[Person], end: dt.datetime) -> tuple[int, list[int]]:
    """A wholesale customer's email thread with the bakery and a stranger's enquiry (who
    becomes a contact from their signature), through the same service as the listener."""
    owner, tom = users["owner"], users["tom"]
    customer = next((p for p in people if p.segment == "wholesale" and p.contact_id), None)
    if customer is None:
        return 0, []
    address = contact_selectors.contact_get(user=owner, contact_id=customer.contact_id)
    address = address.primary_email
    if not address:
        return 0, []
    who = f"{customer.first} {customer.last} <{address}>"
    day = (end - dt.timedelta(days=2)).astimezone(LOCAL).replace(hour=9, minute=12)
    raws = [
        _mail(sender=who, to="orders@bakery.example", subject="Catering for our launch event",
              moment=day, message_id="launch-1",
              text="Hi Tom,\n\nWe're launching our new menu on the 20th and would like 60 "
                   "mini croissants and 40 cinnamon buns delivered by 8am. Could you send a "
                   f"quote?\n\nThanks,\n{customer.first}"),
        _mail(sender=f"Tom <{tom.email}>", to=who, subject="Re: Catering for our launch event",
              moment=day + dt.timedelta(hours=2), message_id="launch-2",
              replying_to=["launch-1"],
              text="Happy to help! 60 mini croissants and 40 cinnamon buns come to $212, "
                   "delivered by 7:45am on the 20th. Shall I book it?\n\nTom"),
        _mail(sender=who, to=f"Tom <{tom.email}>", subject="Re: Catering for our launch event",
              moment=day + dt.timedelta(hours=5), message_id="launch-3",
              replying_to=["launch-1", "launch-2"],
              text="Yes please, book it. Could half the buns be without icing?",
              html="<p>Yes please, <b>book it</b>. Could half the buns be without icing?</p>"),
        _mail(sender="Rosa Delgado <rosa@greenleafdeli.example>", to="orders@bakery.example",
              subject="Wholesale bread for our deli", moment=day + dt.timedelta(days=1),
              message_id="rosa-1",
              text="Hello,\n\nWe're opening a deli on Pine Street and are looking for a "
                   "bakery to supply sourdough and baguettes six days a week.\n\n"
                   "Best regards,\nRosa Delgado\nOwner, Green Leaf Deli\n+1 503 555 0177\n"
                   "www.greenleafdeli.example"),
    ]
    with _clock(day + dt.timedelta(days=1, hours=1)):
        results = activity_services.mail_ingest_many(raws=raws, source="smtp", actor=owner)
    return (sum(len(result.interaction_ids) for result in results),
            [contact_id for result in results for contact_id in result.created_contact_ids])
# --- email templates (sent from a contact's page: docs/email.md) ------------------------------

EMAIL_TEMPLATES = (
    ("Thank you for your order", "Thank you from {{ business.name | default('the bakery') }}",
     "Hi {{ contact.first_name | default(\"there\") }},\n\n"
     "{% if last_order %}Thank you for your order on {{ last_order.date }}: "
     "{{ last_order.products }}. We hope it was as good as it smelled coming out of the oven."
     "\n{% else %}Thank you for stopping by the bakery.\n{% endif %}\n"
     "If there is anything we can bake for you, just reply to this email.\n\n"
     "Warm regards,\n{{ user.first_name | default(\"The team\") }}\n"
     "{{ business.name | default('') }}"),
    ("Your pre-order is ready", "Your pre-order is ready for pick-up",
     "Hi {{ contact.first_name | default(\"there\") }},\n\n"
     "Good news: your pre-order is boxed and waiting for you at the counter. We keep it until "
     "closing time today.\n"
     "{% if contact.preferences %}\nAs you asked: {{ contact.preferences | join(\"; \") }}.\n"
     "{% endif %}\nSee you soon,\n{{ user.first_name | default(\"The team\") }}"),
    ("Wholesale price list", "Our price list for {{ contact.company | default('your shop') }}",
     "Dear {{ contact.first_name | default(\"customer\") }},\n\n"
     "As promised, here is our current wholesale price list. Standing orders placed by "
     "Thursday are delivered from the following Monday, before 7am.\n"
     "{% if last_order %}\nYour last order ({{ last_order.date }}, {{ last_order.total }}) "
     "can be repeated as a standing order: just reply with the days you want it.\n{% endif %}"
     "\nKind regards,\n{{ user.name | default(\"The wholesale team\") }}"),
)


def _email_templates(users: dict, start: dt.datetime) -> int:
    with _clock(start + dt.timedelta(days=1)):
        # The name templates sign with; the mail server stays the console (works offline).
        activity_services.outgoing_mail_update(actor=users["owner"],
                                               data={"business_name": BAKERY})
        for name, subject, body in EMAIL_TEMPLATES:
            activity_services.email_template_create(
                actor=users["owner"], data={"name": name, "subject": subject, "body": body})
    return len(EMAIL_TEMPLATES)
