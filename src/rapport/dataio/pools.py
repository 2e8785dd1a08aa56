"""Word pools for generated data: names, streets, companies, notes.

Faker is far too slow to call a million times, so its locale word lists are read once and
combined with numpy. Everything here is deterministic (no randomness until a seeded
generator picks from the pools).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

import numpy as np

from rapport.core.text import fold

US_AREA_CODES = (
    "201", "202", "203", "206", "212", "213", "214", "215", "216", "303", "305", "310", "312",
    "313", "314", "404", "412", "415", "425", "503", "512", "602", "612", "617", "646", "702",
    "713", "718", "720", "773", "804", "813", "817", "832", "858", "917", "919", "925", "949",
)
EMAIL_DOMAINS = ("gmail.com", "gmail.com", "gmail.com", "yahoo.com", "outlook.com",
                 "hotmail.com", "icloud.com", "proton.me", "aol.com", "fastmail.com")
TAGS = ("vip", "wholesale", "newsletter", "birthday-club", "gluten-free", "vegan", "allergy",
        "catering", "corporate", "regular", "lapsed", "referral", "event", "b2b", "local",
        "instagram", "loyalty", "high-value", "complaint", "partner", "press", "supplier",
        "trial", "webinar", "priority")
SOURCES = ("website", "walk-in", "referral", "instagram", "facebook", "google-ads", "event",
           "import", "phone", "newsletter", "partner")
STAGES = ("subscriber", "lead", "opportunity", "customer", "former_customer")
STAGE_WEIGHTS = (0.15, 0.30, 0.10, 0.35, 0.10)
INDUSTRIES = ("Hospitality", "Retail", "Food & Beverage", "Professional Services", "Healthcare",
              "Education", "Construction", "Software", "Manufacturing", "Real Estate",
              "Logistics", "Marketing", "Finance", "Nonprofit", "Events")
COMPANY_SIZES = ("1-10", "11-50", "51-200", "201-1000", "1000+")
COMPANY_SIZE_WEIGHTS = (0.45, 0.30, 0.15, 0.07, 0.03)
COMPANY_WORDS = ("Northwind", "Bluebird", "Cedar", "Harbor", "Summit", "Maple", "Granite",
                 "Silverline", "Oakridge", "Riverside", "Lighthouse", "Copper", "Evergreen",
                 "Juniper", "Meadow", "Redwood", "Sterling", "Atlas", "Beacon", "Willow",
                 "Ironwood", "Golden Gate", "Brightside", "Pinecrest", "Foxglove", "Kestrel",
                 "Highland", "Lakeside", "Orchard", "Sunrise")
COMPANY_SUFFIXES = ("Bakery", "Café", "Catering", "Hotel", "Bistro", "Consulting", "Partners",
                    "Studio", "Supply Co.", "Logistics", "Dental", "Fitness", "Florist",
                    "Market", "Realty", "Labs", "Events", "Kitchen", "Roasters", "Group",
                    "Design", "Accounting", "Law Office", "Clinic", "Outfitters")
JOB_TITLES = ("Owner", "Office Manager", "Head Chef", "Purchasing Manager", "Operations Lead",
              "General Manager", "Event Coordinator", "Marketing Manager", "Bookkeeper",
              "Founder", "Director", "Assistant Manager", "Sous Chef", "Barista Lead",
              "Facilities Manager", "Account Executive", "HR Manager", "CEO", "CTO",
              "Receptionist")
PREFERENCES = (
    "usual order: rye sourdough, no sesame", "allergic to nuts", "prefers email over phone",
    "birthday in March", "likes oat milk in coffee", "gluten-free only",
    "picks up on Saturday mornings", "wants invoices monthly", "vegan", "no calls before 10am",
    "prefers WhatsApp", "kids love the cinnamon buns", "large order every Friday",
    "speaks French", "ask for Dana at reception", "pays by bank transfer",
    "sensitive to dairy", "likes seasonal specials", "orders for office meetings",
    "anniversary in June",
)
NOTES = (
    "Called about a catering quote for 40 people.", "Asked for the new seasonal menu.",
    "Complained that the delivery was late; offered a discount.",
    "Interested in a monthly subscription.", "Left a great review online.",
    "Wants to move the standing order to Thursdays.", "Met at the farmers' market.",
    "Asked about gluten-free options for a birthday cake.",
    "Requested an invoice copy for March.", "Referred two colleagues.",
    "Mentioned they are opening a second location.", "Paused deliveries over the summer.",
    "Asked whether we ship outside the city.", "Sent a thank-you card after the wedding order.",
    "Follow up next week about the corporate gift boxes.",
    "Prefers to be contacted after 2pm.", "Budget approved for Q3.",
    "Tasting session booked.", "Will bring their team on Friday.",
    "Unsubscribed from the newsletter but still orders in store.",
)
# (before, after) of typical edits, as services record them.
UPDATES = (
    ({"lifecycle_stage": "lead"}, {"lifecycle_stage": "opportunity"}),
    ({"lifecycle_stage": "opportunity"}, {"lifecycle_stage": "customer"}),
    ({"lifecycle_stage": "customer"}, {"lifecycle_stage": "former_customer"}),
    ({"lifecycle_stage": "subscriber"}, {"lifecycle_stage": "lead"}),
    ({"email_opt_in": False}, {"email_opt_in": True}),
    ({"do_not_call": False}, {"do_not_call": True}),
    ({}, {"tag_added": "vip"}),
    ({}, {"tag_added": "wholesale"}),
    ({}, {"tag_added": "newsletter"}),
    ({"job_title": ""}, {"job_title": "Office Manager"}),
    ({"preferences": []}, {"preferences": ["prefers email over phone"]}),
    ({"source": ""}, {"source": "referral"}),
)


def ascii_word(text: str) -> str:
    return re.sub(r"[^a-z]", "", fold(text))


def _names(module: str, attr: str) -> list[tuple[str, float]]:
    import importlib

    provider = importlib.import_module(f"faker.providers.person.{module}").Provider
    values = getattr(provider, attr)
    if isinstance(values, dict):
        return [(name, float(weight)) for name, weight in values.items()]
    return [(name, 1.0) for name in values]


@dataclass(frozen=True)
class NamePool:
    names: tuple[str, ...]
    folded: tuple[str, ...]
    ascii: tuple[str, ...]
    probabilities: np.ndarray


def _pool(entries: list[tuple[str, float]]) -> NamePool:
    merged: dict[str, float] = {}
    for name, weight in entries:
        if ascii_word(name) and " " not in name:
            merged[name] = merged.get(name, 0.0) + weight
    names = tuple(sorted(merged))
    weights = np.array([merged[n] for n in names], dtype=float)
    return NamePool(names=names, folded=tuple(fold(n) for n in names),
                    ascii=tuple(ascii_word(n) for n in names),
                    probabilities=weights / weights.sum())


def _scaled(entries: list[tuple[str, float]], share: float) -> list[tuple[str, float]]:
    total = sum(w for _, w in entries) or 1.0
    return [(n, w / total * share) for n, w in entries]


@functools.cache
def first_names() -> NamePool:
    entries = _scaled(_names("en_US", "first_names"), 0.7)
    for locale in ("de_DE", "fr_FR", "es_ES", "it_IT"):
        entries += _scaled(_names(locale, "first_names"), 0.075)
    return _pool(entries)


@functools.cache
def last_names() -> NamePool:
    entries = _scaled(_names("en_US", "last_names"), 0.7)
    for locale in ("de_DE", "fr_FR", "es_ES", "it_IT"):
        entries += _scaled(_names(locale, "last_names"), 0.075)
    return _pool(entries)


@functools.cache
def street_names() -> tuple[str, ...]:
    suffixes = ("Street", "Avenue", "Road", "Lane", "Drive", "Court", "Place", "Boulevard")
    roots = [n for n, _ in _names("en_US", "last_names")[:300]]
    roots += ["Main", "Oak", "Pine", "Maple", "Cedar", "Elm", "Washington", "Lake", "Hill",
              "Park", "Church", "Market", "Mill", "River", "Spring", "Sunset", "Highland"]
    return tuple(f"{r} {s}" for r in roots for s in suffixes)


@functools.cache
def cities() -> tuple[tuple[str, str, str], ...]:
    """(city, state, ZIP prefix) of US cities whose area codes are in US_AREA_CODES."""
    return (
        ("New York", "NY", "100"), ("Brooklyn", "NY", "112"), ("Los Angeles", "CA", "900"),
        ("San Francisco", "CA", "941"), ("Chicago", "IL", "606"), ("Houston", "TX", "770"),
        ("Austin", "TX", "787"), ("Dallas", "TX", "752"), ("Seattle", "WA", "981"),
        ("Portland", "OR", "972"), ("Denver", "CO", "802"), ("Boston", "MA", "021"),
        ("Philadelphia", "PA", "191"), ("Atlanta", "GA", "303"), ("Miami", "FL", "331"),
        ("Phoenix", "AZ", "850"), ("Minneapolis", "MN", "554"), ("Detroit", "MI", "482"),
        ("St. Louis", "MO", "631"), ("Pittsburgh", "PA", "152"), ("Raleigh", "NC", "276"),
        ("San Diego", "CA", "921"), ("Las Vegas", "NV", "891"), ("Richmond", "VA", "232"),
        ("Tampa", "FL", "336"), ("Washington", "DC", "200"), ("Cleveland", "OH", "441"),
        ("Newark", "NJ", "071"), ("Fort Worth", "TX", "761"), ("Oakland", "CA", "946"),
    )
