"""The demo bakery's sales side: where its wholesale and catering customers come from.

Part of ``rapport demo`` (called by :func:`rapport.dataio.demo.demo_load` once the shop's
history is in): the web form on the bakery's site, the scoring and assignment rules, about 150
leads over the last six months from the form (with the UTM tags of the campaigns that brought
them), email, a trade-fair list, referrals and the phone, and about 60 deals in the default
pipeline — converted leads and growing wholesale accounts — some won, some lost with their
reasons, each with its stage history spread over time.

Everything goes through the sales services with the demo's clock, so scores, assignments,
timelines and stage history are what the app itself would have made. Deterministic given the
demo's random generator.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from unittest import mock

from django.utils import timezone

from rapport.sales import selectors as sales_selectors
from rapport.sales import services as sales

LEAD_DAYS = 182
CAMPAIGNS = (
    # (utm_source, utm_medium, utm_campaign, weight)
    ("google", "cpc", "wholesale-bread", 5),
    ("instagram", "social", "wedding-cakes", 4),
    ("newsletter", "email", "catering-spring", 3),
    ("facebook", "social", "office-breakfast", 2),
    ("", "", "", 6),  # found the site by themselves
)
# (kind of business, industry, company size choices, what they ask for, deal amount range)
PROSPECTS = (
    ("Café", "Café", ("1-10", "11-50"), (
        "We're opening a second café and need croissants and pains au chocolat every morning "
        "(about 60 a day).",
        "Could you supply our café with sourdough and baguettes six days a week?",
        "Looking for a weekly standing order of cinnamon and cardamom buns."), (900, 3200)),
    ("Restaurant", "Restaurant", ("11-50",), (
        "Our new brunch menu needs focaccia and country sourdough, delivered before 8am.",
        "We'd like a quote for bread baskets: about 15 loaves a day, Tuesday to Sunday."),
     (1200, 4800)),
    ("Hotel", "Hotel", ("51-200", "201-1000"), (
        "Breakfast buffet for 120 rooms: pastries and bread daily. Can we arrange a tasting?",
        "We're reviewing our bakery supplier for the conference season."), (2500, 9000)),
    ("Grocery", "Grocery", ("11-50", "51-200"), (
        "We'd like to stock your rye and seeded loaves on our bread shelf (weekly).",),
     (800, 2600)),
    ("Catering", "Catering", ("11-50",), (
        "We cater weddings and need a bakery partner for cakes and bread rolls.",
        "Regular orders of mini pastries for corporate events, about 4 a month."), (1500, 5200)),
    ("Office", "Professional Services", ("51-200", "11-50"), (
        "Friday breakfast for our office of 45: pastries, fruit and coffee.",
        "Monthly birthday cakes for the team, and a breakfast for our quarterly meeting."),
     (600, 2400)),
)
PRIVATE = (  # people, not businesses: cakes and parties (free mail, small amounts)
    ("Wedding cake for 90 guests in September, three tiers, lemon and elderflower.",
     (450, 1400)),
    ("A 40th birthday cake and 50 mini pastries for a party at home.", (180, 420)),
    ("Christening in May: a cake and bread rolls for about 30 people.", (160, 380)),
    ("Graduation party: could you do a sheet cake and cookies for 60?", (220, 520)),
)
NAME_PARTS = ("Maple", "Cedar", "Juniper", "Harbor", "Foxtail", "Bluebird", "Copperleaf",
              "Riverstone", "Hawthorne", "Larkspur", "Timber", "Saltwater", "Lupine", "Marigold",
              "Ironwood", "Sparrow", "Willow", "Basalt", "Clover", "Heron", "Kestrel", "Alpine",
              "Driftwood", "Thistle", "Fernhill", "Goldcrest", "Pinecone", "Rosebud")
SUFFIXES = {"Café": ("Café", "Coffee House", "Espresso Bar"),
            "Restaurant": ("Kitchen", "Bistro", "Table", "Brasserie"),
            "Hotel": ("Hotel", "Inn", "Suites"), "Grocery": ("Market", "Grocers", "Deli"),
            "Catering": ("Catering Co.", "Events"), "Office": ("Architects", "Legal", "Labs")}
JOBS = {"Café": "Owner", "Restaurant": "Head Chef", "Hotel": "Food & Beverage Manager",
        "Grocery": "Bakery Buyer", "Catering": "Event Coordinator", "Office": "Office Manager"}
LOST_REASONS = ("Price too high", "Went with another bakery", "Event cancelled",
                "Delivery window did not fit", "No budget this quarter",
                "Decided to bake in-house")
EXPANSIONS = ("Add croissant trays to the weekly order", "Weekend brunch bread",
              "Holiday pastry boxes", "Second location supply", "Conference season breakfasts",
              "Gluten-free range trial")
# Scoring: what makes a lead worth calling first, for a bakery.
SCORING = (
    ("industry", "one_of", "Café, Restaurant, Hotel, Grocery, Catering", 25),
    ("company_size", "one_of", "11-50, 51-200, 201-1000", 15),
    ("free_mail", "is_set", "", -10),
    ("phone", "is_set", "", 10),
    ("message", "contains", "weekly", 10),
    ("message", "contains", "every", 10),
    ("source", "equals", "referral", 20),
    ("utm_medium", "equals", "cpc", 5),
    ("matched_company_id", "is_set", "", 10),
)


@dataclass
class SalesReport:
    leads: int = 0
    converted: int = 0
    deals: int = 0
    won: int = 0
    lost: int = 0
    scoring_rules: int = 0
    assignment_rules: int = 0
    import_job: int | None = None
    problems: list[str] = field(default_factory=list)
    # What conversions made: new people, and companies that were not on the books.
    contact_ids: set[int] = field(default_factory=set)
    company_ids: set[int] = field(default_factory=set)


@contextlib.contextmanager
def _clock(moment: dt.datetime) -> Iterator[None]:
    with mock.patch.object(timezone, "now", lambda: moment):
        yield


def _slug(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isalnum())


def _phone(rng: random.Random, used: set[str]) -> str:
    # 555-0100 to 555-0199: reserved for fiction in every North American area code.
    while True:
        number = f"+1{rng.choice(('503', '971', '360', '541'))}5550{rng.randrange(100, 200)}"
        if number not in used:
            used.add(number)
            return number


def sales_demo(*, rng: random.Random, users: dict[str, Any], company_ids: list[int],
               company_names: list[str], end: dt.datetime) -> SalesReport:
    """Load the sales side (see the module's notes); ``end`` is the demo's "now"."""
    from faker import Faker

    owner, tom, priya, marcus = users["owner"], users["tom"], users["priya"], users["manager"]
    report = SalesReport()
    start = end - dt.timedelta(days=LEAD_DAYS)
    fake = Faker("en_US")
    fake.seed_instance(rng.randrange(1 << 30))

    with _clock(start - dt.timedelta(days=3)):
        pipeline = sales.ensure_default_pipeline()
        form = sales.web_form_create(actor=owner, data={
            "name": "Wholesale & catering enquiry",
            "fields": ["name", "email", "phone", "company_name", "industry", "company_size",
                       "postcode", "message"],
            "required": ["name", "email"], "source": "web form"})
        for field_name, operator, value, points in SCORING:
            sales.scoring_rule_create(actor=owner, data={
                "field": field_name, "operator": operator, "value": value, "points": points})
        sales.assignment_rule_create(actor=owner, data={
            "name": "Wholesale accounts", "industries": "café, restaurant, hotel, grocery, "
                                                       "catering",
            "method": "user", "user_id": tom.id})
        sales.assignment_rule_create(actor=owner, data={
            "name": "Cakes, events and offices", "method": "round_robin",
            "team_id": priya.team_id, "cap": 60})
    report.scoring_rules, report.assignment_rules = len(SCORING), 2
    stages = sales_selectors.pipeline_stages(pipeline_id=pipeline.id)
    open_stages = [s for s in stages if not s.is_won and not s.is_lost]
    won_stage = next(s for s in stages if s.is_won)
    lost_stage = next(s for s in stages if s.is_lost)

    used_phones: set[str] = set()
    used_names: set[str] = set()
    captured: list[tuple[dt.datetime, Any, tuple[int, int]]] = []
    moments = sorted(start + dt.timedelta(days=LEAD_DAYS * rng.random() ** 0.8,
                                          hours=rng.uniform(7, 19))
                     for _ in range(150))
    for moment in moments:
        first, last = fake.first_name(), fake.last_name()
        data: dict[str, Any] = {"name": f"{first} {last}", "country": "US",
                                "postcode": f"972{rng.randrange(1, 40):02d}"}
        if rng.random() < 0.3:
            message, amounts = rng.choice(PRIVATE)
            data.update(email=f"{_slug(first)}.{_slug(last)}{rng.randrange(10, 99)}@example.com",
                        message=message)
        else:
            kind, industry, sizes, asks, amounts = rng.choice(PROSPECTS)
            while True:
                company = f"{rng.choice(NAME_PARTS)} {rng.choice(SUFFIXES[kind])}"
                if company not in used_names:
                    used_names.add(company)
                    break
            data.update(email=f"{_slug(first)}@{_slug(company)}.example.com",
                        company_name=company, industry=industry,
                        company_size=rng.choice(sizes), job_title=JOBS[kind],
                        message=rng.choice(asks))
            if rng.random() < 0.2 and company_names:  # an existing customer's new outlet
                index = rng.randrange(len(company_names))
                data.update(company_name=company_names[index],
                            email=f"{_slug(first)}@{_slug(company_names[index])}.example.com")
        if rng.random() < 0.6:
            data["phone"] = _phone(rng, used_phones)
        source_roll = rng.random()
        web_form = None
        if source_roll < 0.55:
            utm_source, utm_medium, campaign, _ = rng.choices(
                CAMPAIGNS, weights=[c[3] for c in CAMPAIGNS])[0]
            data.update(source="web form", utm_source=utm_source, utm_medium=utm_medium,
                        utm_campaign=campaign)
            web_form = form
        elif source_roll < 0.72:
            data["source"] = "email"
        elif source_roll < 0.84:
            data["source"] = "referral"
        else:
            data["source"] = "phone"
        with _clock(moment):
            lead = sales.lead_capture(actor=None, data=data, web_form=web_form).lead
        captured.append((moment, lead, amounts))
    report.leads = len(captured)

    # The trade-fair list, imported as a CSV file through the import pipeline.
    report.import_job = _trade_fair_import(rng, owner, fake, end - dt.timedelta(days=40),
                                           used_phones, report)

    # Work the leads: the best are converted (a deal each), some are worked or dropped.
    for moment, lead, amounts in captured:
        lead.refresh_from_db()
        age = (end - moment).days
        rep = _rep_for(lead, users)
        roll = rng.random()
        chance = {"A": 0.75, "B": 0.5, "C": 0.3, "D": 0.12}[lead.grade]
        if age > 7 and roll < chance * 0.75:
            converted_at = moment + dt.timedelta(days=rng.uniform(1, min(age - 1, 20)))
            amount = Decimal(rng.randrange(*amounts) // 10 * 10)
            with _clock(converted_at):
                done = sales.lead_convert(actor=rep, lead_id=lead.id, data={
                    "deal_name": f"{lead.company_name or lead.name}: "
                                 f"{'standing order' if lead.company_name else 'cakes'}",
                    "amount": amount, "currency": "USD",
                    "expected_close": (converted_at + dt.timedelta(
                        days=rng.randrange(14, 60))).date(),
                    "version": lead.version})
            report.converted += 1
            report.deals += 1
            report.contact_ids.add(done.contact_id)
            if done.company_id is not None and done.company_id not in company_ids:
                report.company_ids.add(done.company_id)
            assert done.deal_id is not None  # converted with a deal
            _history(rng, rep, done.deal_id, converted_at, end, open_stages, won_stage,
                     lost_stage, report)
        elif roll < chance * 0.75 + 0.25:
            status = rng.choice(("working", "qualified", "disqualified"))
            with _clock(moment + dt.timedelta(days=rng.uniform(0.2, max(age, 1) * 0.8))):
                sales.lead_update(actor=owner, lead_id=lead.id, version=lead.version,
                                  changes={"status": status})

    # Existing wholesale customers growing: deals for the companies already on the books.
    for _ in range(max(0, 60 - report.deals)):
        index = rng.randrange(len(company_ids))
        opened = start + dt.timedelta(days=rng.uniform(0, LEAD_DAYS - 3))
        rep = rng.choice((tom, tom, marcus))
        with _clock(opened):
            deal = sales.deal_create(actor=owner, data={
                "name": f"{company_names[index]}: {rng.choice(EXPANSIONS)}",
                "amount": Decimal(rng.randrange(600, 6000) // 50 * 50), "currency": "USD",
                "company_id": company_ids[index], "owner_id": rep.id,
                "expected_close": (opened + dt.timedelta(days=rng.randrange(20, 75))).date()})
        report.deals += 1
        _history(rng, rep, deal.id, opened, end, open_stages, won_stage, lost_stage, report)
    return report


def _rep_for(lead: Any, users: dict[str, Any]) -> Any:
    for user in users.values():
        if getattr(user, "id", None) == lead.owner_id:
            return user
    return users["owner"]


def _history(rng: random.Random, actor: Any, deal_id: int, opened: dt.datetime,
             end: dt.datetime, open_stages: list, won_stage: Any, lost_stage: Any,
             report: SalesReport) -> None:
    """Move a new deal along the pipeline as it went: a few days to weeks per stage, then
    won, lost or still open today."""
    moves: list[dict[str, Any]] = []
    when = opened
    outcome = rng.choices(("won", "lost", "open"), weights=(4, 3, 5))[0]
    furthest = rng.randrange(1, len(open_stages)) if outcome != "open" else \
        rng.randrange(0, len(open_stages))
    for stage in open_stages[1:furthest + 1]:
        when += dt.timedelta(days=rng.uniform(2, 18), hours=rng.uniform(0, 8))
        if when >= end:  # still in the stage before, today
            outcome = "open"
            break
        moves.append({"stage_id": stage.id, "at": when})
    if outcome != "open":
        when += dt.timedelta(days=rng.uniform(1, 14))
        if when < end:
            if outcome == "won":
                moves.append({"stage_id": won_stage.id, "at": when})
                report.won += 1
            else:
                moves.append({"stage_id": lost_stage.id, "at": when,
                              "lost_reason": rng.choice(LOST_REASONS)})
                report.lost += 1
    version = None
    for move in moves:  # each move made at its moment, as the rep made it on the board
        with _clock(move["at"]):
            if version is None:
                version = sales_selectors.deal_get(user=actor, deal_id=deal_id).version
            version = sales.deal_move(actor=actor, deal_id=deal_id, stage_id=move["stage_id"],
                                      version=version,
                                      lost_reason=move.get("lost_reason", "")).version


def _trade_fair_import(rng: random.Random, owner: Any, fake: Any, moment: dt.datetime,
                       used_phones: set[str], report: SalesReport) -> int | None:
    """Cards collected at the Portland food trade fair, typed into a spreadsheet and
    imported (with one row the import refuses, as happens)."""
    import io

    from rapport.dataio import services as dataio

    rows = ["name,email,phone,company,industry,notes"]
    for _ in range(14):
        first, last = fake.first_name(), fake.last_name()
        company = f"{rng.choice(NAME_PARTS)} {rng.choice(('Kitchen', 'Market', 'Café'))}"
        industry = {"Kitchen": "Restaurant", "Market": "Grocery", "Café": "Café"}[
            company.split()[-1]]
        rows.append(f"{first} {last},{_slug(first)}@{_slug(company)}.example.com,"
                    f"{_phone(rng, used_phones)},{company},{industry},"
                    "Met at the Portland food fair; wants samples")
    rows.append("Smudged Card,,,,Café,could not read the email")
    content = io.BytesIO(("\n".join(rows) + "\n").encode())
    content.name = "trade-fair-leads.csv"
    try:
        with _clock(moment):
            job = dataio.import_start(actor=owner, file=content, data={
                "type": "leads", "options": {"default_source": "trade fair"}})
            dataio.import_work(job_id=job.id)
    except Exception as error:  # noqa: BLE001 - the demo goes on without the list
        report.problems.append(f"trade fair import: {error}")
        return None
    report.leads += 14
    return job.id
