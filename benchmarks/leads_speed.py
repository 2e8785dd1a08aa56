"""Speed of lead capture: a web form submission to an assigned, scored lead.

Usage:
    python benchmarks/leads_speed.py --database-url sqlite:////tmp/rapport_bench/leads.sqlite3
    python benchmarks/leads_speed.py --database-url postgres://postgres@127.0.0.1:5432/rb_leads

Migrates the database (the contacts seed is not needed: capture reads leads, rules and
companies by domain), sets up a business with 8 scoring rules, 4 assignment rules (territories
with round robin, an industry rule with least-loaded and a cap, a catch-all) and a web form,
then posts the form through Django's whole request stack (middleware, the view, the service,
the commit) one submission at a time: new leads, repeat submissions and ``POST
/api/v1/leads``. Prints one table (what, n, p50, p95, target) and the load average while it
ran: on a shared machine a busy neighbour shows there.
"""

from __future__ import annotations

import argparse
import os
import pathlib
import statistics
import sys
import tempfile
import time

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from foundation_speed import _setup_django  # noqa: E402

TARGET_MS = 100.0
COUNTRIES = ("SE", "NO", "DK", "GB", "DE", "US", "FR")


def _business():
    from rapport.accounts import services as accounts
    from rapport.accounts.models import User
    from rapport.contacts import services as contacts
    from rapport.sales import services
    from rapport.sales.models import WebForm

    owner = User.objects.filter(email="owner@leads.bench").first()
    if owner is None:
        owner = accounts.user_create(email="owner@leads.bench", role="owner",
                                     password="bench-pass-123", team_name=None)
        for team, size in (("nordics", 4), ("uk", 3), ("rest", 5)):
            for i in range(size):
                accounts.user_create(email=f"{team}{i}@leads.bench", role="sales",
                                     team_name=team, password="bench-pass-123")
        for data in (("country", "one_of", "SE, NO, DK", 30), ("free_mail", "is_empty", "", 20),
                     ("company_size", "one_of", "11-50, 51-200", 15),
                     ("free_mail", "is_set", "", -10), ("utm_medium", "equals", "cpc", 10),
                     ("message", "contains", "wholesale", 15),
                     ("phone_line_type", "equals", "mobile", 5),
                     ("matched_company_id", "is_set", "", 10)):
            services.scoring_rule_create(actor=owner, data=dict(zip(
                ("field", "operator", "value", "points"), data, strict=True)))
        teams = {u.team.name: u.team_id for u in User.objects.exclude(team=None)}
        services.assignment_rule_create(actor=owner, data={
            "name": "Nordics", "countries": "SE, NO, DK", "method": "round_robin",
            "team_id": teams["nordics"]})
        services.assignment_rule_create(actor=owner, data={
            "name": "UK", "countries": "GB", "method": "round_robin", "team_id": teams["uk"]})
        services.assignment_rule_create(actor=owner, data={
            "name": "Hospitality", "industries": "hospitality", "method": "least_loaded",
            "team_id": teams["rest"], "cap": 100_000})
        services.assignment_rule_create(actor=owner, data={
            "name": "Everyone else", "method": "round_robin", "team_id": teams["rest"]})
        for i in range(200):
            contacts.company_create(actor=owner, data={"name": f"Firm {i}",
                                                       "domain": f"firm{i}.example"})
        services.web_form_create(actor=owner, data={
            "name": "Contact us", "fields": ["name", "email", "phone", "company_name",
                                             "country", "industry", "company_size", "message"],
            "required": ["name", "email"]})
    return owner, WebForm.objects.filter(active=True).order_by("id").first()


def _times(run, n: int) -> list[float]:
    out = []
    for i in range(n):
        start = time.perf_counter()
        run(i)
        out.append((time.perf_counter() - start) * 1000)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--requests", type=int, default=300, help="timed submissions per row")
    args = parser.parse_args()
    home = pathlib.Path(tempfile.gettempdir()) / "rapport_bench_home"
    home.mkdir(exist_ok=True)
    _setup_django(args.database_url, home)
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    settings.RAPPORT_FORM_RATE_LIMIT = 10**9  # one address posts them all here
    call_command("migrate", interactive=False, verbosity=0)
    owner, form = _business()
    from rapport.accounts import services as accounts
    from rapport.sales.models import Lead

    token = accounts.token_create(user=owner, name="bench").raw
    run = f"{int(time.time())}"
    client = Client()
    url = f"/f/{form.key}/"
    problems: list[str] = []

    def post(i: int, *, prefix: str, domain_of=lambda i: f"firm{i % 250}.example") -> None:
        answer = client.post(url, {
            "name": f"Person {i}", "email": f"{prefix}{run}.{i}@{domain_of(i)}",
            "phone": f"+4670{1000000 + i:07d}", "company_name": f"Company {i}",
            "country": COUNTRIES[i % len(COUNTRIES)],
            "industry": "hospitality" if i % 5 == 0 else "retail",
            "company_size": "11-50", "message": "wholesale please" if i % 3 else ""},
            headers={"referer": "https://site.example/?utm_source=ads&utm_medium=cpc"})
        if answer.status_code != 302:
            problems.append(f"{answer.status_code} {answer.content[:200]!r}")

    def api(i: int) -> None:
        answer = client.post("/api/v1/leads", {
            "name": f"Api {i}", "email": f"api{run}.{i}@gmail.com", "country": "GB"},
            content_type="application/json", headers={"Authorization": f"Bearer {token}"})
        if answer.status_code != 201:
            problems.append(f"{answer.status_code} {answer.content[:200]!r}")

    _times(lambda i: post(i, prefix="warm"), 20)
    loads = [os.getloadavg()[0]]
    rows = []
    before = Lead.objects.count()
    new = _times(lambda i: post(i, prefix="new"), args.requests)
    loads.append(os.getloadavg()[0])
    repeat = _times(lambda i: post(i, prefix="new"), args.requests)
    loads.append(os.getloadavg()[0])
    through_api = _times(api, args.requests)
    loads.append(os.getloadavg()[0])
    made = Lead.objects.count() - before
    unassigned = Lead.objects.filter(owner__isnull=True).count()
    for what, ms in (("web form post → new lead, enriched, scored, assigned", new),
                     ("web form post, known email → lead updated", repeat),
                     ("POST /api/v1/leads → 201", through_api)):
        q = statistics.quantiles(ms, n=100)
        rows.append((what, str(len(ms)), f"{statistics.median(ms):.1f}", f"{q[94]:.1f}",
                     f"≤ {TARGET_MS:.0f}", "yes" if q[94] <= TARGET_MS else "NO"))
    columns = ("what", "n", "p50 ms", "p95 ms", "target p95", "met")
    widths = [max(len(c), *(len(r[i]) for r in rows)) for i, c in enumerate(columns)]
    print(f"\nlead capture on {connection.vendor} ({Lead.objects.count():,} leads stored; "
          f"{made:,} made by this run, {unassigned} unassigned)")
    print("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)))
    one, five, fifteen = os.getloadavg()
    print(f"load average (1 min) while it ran: {', '.join(f'{x:.2f}' for x in loads)}; "
          f"at the end (1, 5, 15 min): {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} "
          f"cores")
    if problems:
        print(f"{len(problems)} unexpected answers, e.g. {problems[0]}")
        raise SystemExit(1)


if __name__ == "__main__":
    main()
