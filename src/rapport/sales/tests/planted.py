"""A business whose leads and deals carry a known (planted) signal, for the ML tests and the
quality and speed benchmarks.

Leads: referrals and companies of 51 people or more convert far more often, the spring-menu
campaign a little more, free-mail addresses less; country and industry carry no signal.
Deals: small amounts, owner "rep 1" and referral leads win more often.
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np

SOURCES = ("referral", "web form", "api", "trade fair", "cold call")
CAMPAIGNS = ("", "", "spring-menu", "autumn-bread", "newsletter")
SIZES = ("1-10", "11-50", "51-200", "201-1000", "1000+")
COUNTRIES = ("SE", "NO", "DK", "GB", "DE", "US", "FR")
INDUSTRIES = ("hospitality", "retail", "catering", "education", "health")
TITLES = ("owner", "head chef", "buyer", "manager", "assistant")
MESSAGES = ("Please send a price list", "Wholesale bread for our cafés", "Do you deliver?",
            "Catering for an event next month", "")


def lead_logit(source: str, size: str, campaign: str, free_mail: bool) -> float:
    logit = -2.2
    logit += 2.2 if source == "referral" else 0.0
    logit += 1.6 if size in ("51-200", "201-1000", "1000+") else 0.0
    logit += 0.8 if campaign == "spring-menu" else 0.0
    logit -= 0.8 if free_mail else 0.0
    return logit


def lead_rows(n: int, *, seed: int = 7, start_id: int = 0) -> list[dict]:
    """``n`` leads as field dicts, each with ``converted`` drawn from the planted signal."""
    rng = np.random.default_rng(seed)
    source = rng.choice(len(SOURCES), n, p=[0.2, 0.35, 0.15, 0.15, 0.15])
    size = rng.integers(0, len(SIZES), n)
    campaign = rng.integers(0, len(CAMPAIGNS), n)
    free = rng.random(n) < 0.35
    country = rng.integers(0, len(COUNTRIES), n)
    industry = rng.integers(0, len(INDUSTRIES), n)
    title = rng.integers(0, len(TITLES), n)
    message = rng.integers(0, len(MESSAGES), n)
    draw = rng.random(n)
    rows = []
    for i in range(n):
        logit = lead_logit(SOURCES[source[i]], SIZES[size[i]], CAMPAIGNS[campaign[i]],
                           bool(free[i]))
        rows.append({
            "name": f"Lead {start_id + i}", "email": f"lead{start_id + i}@"
            + ("gmail.com" if free[i] else f"firm{(start_id + i) % 997}.example"),
            "free_mail": bool(free[i]), "source": SOURCES[source[i]],
            "utm_campaign": CAMPAIGNS[campaign[i]], "company_size": SIZES[size[i]],
            "country": COUNTRIES[country[i]], "industry": INDUSTRIES[industry[i]],
            "job_title": TITLES[title[i]], "message": MESSAGES[message[i]],
            "converted": bool(draw[i] < 1 / (1 + math.exp(-logit))),
        })
    return rows


def make_leads(n: int, *, seed: int = 7, closed: bool = True, start_id: int = 0,
               now: dt.datetime | None = None) -> list[int]:
    """``n`` planted leads in the database: closed (converted or disqualified by the signal)
    or open (status new; the drawn outcome is kept in ``name`` as "... yes"/"... no")."""
    from django.utils import timezone

    from rapport.sales.models import Lead

    now = now or timezone.now()
    leads = []
    for row in lead_rows(n, seed=seed, start_id=start_id):
        converted = row.pop("converted")
        lead = Lead(**row)
        if closed:
            lead.status = "converted" if converted else "disqualified"
            lead.converted_at = now if converted else None
        else:
            lead.name = f"{lead.name} {'yes' if converted else 'no'}"
        leads.append(lead)
    made = Lead.objects.bulk_create(leads, batch_size=500)
    return [lead.id for lead in made]


def make_deals(n: int, *, seed: int = 11, closed: bool = True,
               owners: tuple[int, ...] = ()) -> list[int]:
    """``n`` deals in the default pipeline: closed ones won or lost by the planted signal
    (small amounts and the first owner win more), open ones in a middle stage."""
    from django.utils import timezone

    from rapport.sales.models import Deal, Stage, StageChange
    from rapport.sales.services.deals import ensure_default_pipeline

    pipeline = ensure_default_pipeline()
    stages = list(Stage.objects.filter(pipeline=pipeline).order_by("position"))
    won = next(s for s in stages if s.is_won)
    lost = next(s for s in stages if s.is_lost)
    middle = [s for s in stages if not s.is_won and not s.is_lost]
    rng = np.random.default_rng(seed)
    now = timezone.now()
    deals, history, created_at = [], [], []
    for i in range(n):
        amount = float(rng.choice([500, 1500, 5000, 20000]))
        owner = owners[i % len(owners)] if owners else None
        logit = -0.3 + (1.4 if amount <= 1500 else -0.6)
        logit += 1.0 if owners and owner == owners[0] else 0.0
        is_won = rng.random() < 1 / (1 + math.exp(-logit))
        if closed:
            created = now - dt.timedelta(days=int(rng.integers(70, 200)))
            stage = won if is_won else lost
            closed_at = created + dt.timedelta(days=int(rng.integers(5, 60)))
        else:  # open deals are as young as closed ones were when they were open
            created = now - dt.timedelta(days=int(rng.integers(3, 35)))
            stage = middle[0]
            closed_at = None
        deal = Deal(name=f"Deal {i} {'yes' if is_won else 'no'}", amount=amount,
                    owner_id=owner, pipeline=pipeline, stage=stage,
                    stage_entered_at=closed_at or created, closed_at=closed_at)
        deals.append(deal)
        created_at.append(created)
    made = Deal.objects.bulk_create(deals, batch_size=500)
    for deal, created in zip(made, created_at, strict=True):
        deal.created_at = created
    Deal.objects.bulk_update(made, ["created_at"], batch_size=500)
    for deal in made:
        if deal.closed_at is not None:
            history.append(StageChange(deal=deal, from_stage=middle[0], to_stage=deal.stage,
                                       changed_at=deal.closed_at))
    StageChange.objects.bulk_create(history, batch_size=500)
    return [deal.id for deal in made]
