"""Quality of the learned lead score and deal win probability: cross-validated ROC AUC and
calibration (ECE, Brier) of the models ``sales.services.ml`` trains, on the demo data and on a
seeded business with a planted signal, plus ROC AUC on held-out open leads and deals whose
planted outcome the model never saw.

Usage:
    python benchmarks/sales_quality.py [--leads 100000] [--deals 5000] [--workdir /tmp/...]

1. The demo: ``rapport demo`` into a throwaway SQLite database, then both models trained as the
   nightly job does. When the demo has too few closed leads or deals for a model (the demo
   data of this branch has none), a small planted-signal business (2,000 leads, 600 deals)
   is added to the same database and the table says so.
2. A seeded business of ``--leads`` closed leads (bulk inserted; referrals and companies of 51+
   people convert far more often, the spring-menu campaign a little more, free-mail addresses
   less; country, industry, job title and message carry no signal) and ``--deals`` closed
   deals (small amounts and one rep win more), plus 5,000 open leads and 1,000 open deals
   drawn the same way: the model scores those and we compare with their planted outcomes.

Prints one table and the load average.
"""

from __future__ import annotations

import argparse
import os
import pathlib
import sys
import tempfile
import time

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from foundation_speed import _setup_django  # noqa: E402


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def _held_out_auc(model_kind: str, ids: list[int]) -> float | None:
    from sklearn.metrics import roc_auc_score

    from rapport.sales.models import Deal, Lead

    if model_kind == "lead":
        rows = list(Lead.objects.filter(id__in=ids).values_list("name", "ml_probability"))
    else:
        rows = list(Deal.objects.filter(id__in=ids).values_list("name", "win_probability"))
    rows = [(n, p) for n, p in rows if p is not None]
    truth = [n.endswith("yes") for n, _ in rows]
    if not rows or len(set(truth)) < 2:
        return None
    return float(roc_auc_score(truth, [p for _, p in rows]))


def _row(dataset: str, what: str, model, seconds: float, held_out: float | None) -> str:
    if not model.ready:
        return f"| {dataset} | {what} | {model.rows:,} | {model.positives:,} | declined: " \
               f"{model.message} | | | | | | {seconds:.1f} |"
    cal = model.calibration
    shown = f"{held_out:.3f}" if held_out is not None else "—"
    return (f"| {dataset} | {what} | {model.rows:,} | {model.positives:,} | {cal['method']} | "
            f"{model.roc_auc:.3f} | {cal['pr_auc']:.3f} | {cal['ece']:.3f} | "
            f"{cal['brier']:.3f} | {shown} | {seconds:.1f} |")


def _train_and_score(dataset: str, open_leads: list[int], open_deals: list[int]) -> list[str]:
    from rapport.sales.services import ml

    out = []
    start = time.perf_counter()
    lead_model = ml.lead_model_train()
    lead_s = time.perf_counter() - start
    ml.leads_ml_score()
    out.append(_row(dataset, "lead converts", lead_model, lead_s,
                    _held_out_auc("lead", open_leads) if lead_model.ready else None))
    start = time.perf_counter()
    deal_model = ml.deal_model_train()
    deal_s = time.perf_counter() - start
    ml.deals_win_score()
    out.append(_row(dataset, "deal is won", deal_model, deal_s,
                    _held_out_auc("deal", open_deals) if deal_model.ready else None))
    return out


def _owners() -> tuple[int, ...]:
    from rapport.accounts import services as accounts
    from rapport.accounts.models import User

    ids = []
    for i in range(3):
        email = f"rep{i}@quality.bench"
        user = User.objects.filter(username=email).first() or accounts.user_create(
            email=email, role="sales", team_name="quality", password="bench-pass-123")
        ids.append(user.id)
    return tuple(ids)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--leads", type=int, default=100_000)
    parser.add_argument("--deals", type=int, default=5_000)
    parser.add_argument("--workdir", default=None)
    args = parser.parse_args()
    work = pathlib.Path(args.workdir or tempfile.mkdtemp(prefix="rapport_quality_"))
    work.mkdir(parents=True, exist_ok=True)
    demo_db, seeded_db = work / "demo.sqlite3", work / "seeded.sqlite3"
    for path in (demo_db, seeded_db):
        path.unlink(missing_ok=True)
    rows: list[str] = []
    notes: list[str] = []
    load_before = _load()

    # 1. The demo data (and the planted stand-in when it has no closed leads or deals).
    _setup_django(f"sqlite:///{demo_db}", work)
    from django.core.management import call_command
    from django.db import connections

    call_command("migrate", interactive=False, verbosity=0)
    call_command("demo", seed=1, verbosity=0)
    from rapport.sales.models import Deal, Lead
    from rapport.sales.services.ml import min_per_class
    from rapport.sales.tests import planted

    need = min_per_class()
    converted = Lead.objects.filter(status="converted").count()
    disqualified = Lead.objects.filter(status="disqualified").count()
    won = Deal.objects.filter(stage__is_won=True).count()
    lost = Deal.objects.filter(stage__is_lost=True).count()
    open_leads: list[int] = []
    open_deals: list[int] = []
    dataset = "demo"
    if min(converted, disqualified) < need or min(won, lost) < need:
        notes.append(f"The demo data here has {converted} converted / {disqualified} "
                     f"disqualified leads and {won} won / {lost} lost deals, too few for a "
                     f"model: a planted-signal business (2,000 closed leads, 600 closed "
                     f"deals) was added to the demo database.")
        dataset = "demo + planted 2k"
        owners = _owners()
        planted.make_leads(2_000, seed=21)
        open_leads = planted.make_leads(1_000, seed=22, closed=False, start_id=500_000)
        planted.make_deals(600, seed=23, owners=owners)
        open_deals = planted.make_deals(300, seed=24, closed=False, owners=owners)
    rows += _train_and_score(dataset, open_leads, open_deals)
    connections.close_all()

    # 2. The seeded business with a planted signal.
    from django.conf import settings

    settings.DATABASES["default"]["NAME"] = str(seeded_db)
    connections["default"].settings_dict["NAME"] = str(seeded_db)
    call_command("migrate", interactive=False, verbosity=0)
    from sales_scoring import _seed

    start = time.perf_counter()
    _seed(args.leads, closed=True, start=0, seed=31)
    _seed(5_000, closed=False, start=5_000_000, seed=32)
    open_leads = list(Lead.objects.filter(status="new").values_list("id", flat=True))
    owners = _owners()
    planted.make_deals(args.deals, seed=33, owners=owners)
    open_deals = planted.make_deals(1_000, seed=34, closed=False, owners=owners)
    notes.append(f"seeded {args.leads:,} closed + 5,000 open leads and {args.deals:,} closed + "
                 f"1,000 open deals in {time.perf_counter() - start:.0f} s")
    rows += _train_and_score(f"planted {args.leads // 1000}k", open_leads, open_deals)

    print()
    print("| data | model | closed rows | positives | method | CV ROC AUC | CV PR AUC | "
          "ECE | Brier | held-out ROC AUC | train s |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for row in rows:
        print(row)
    print()
    for note in notes:
        print(note)
    print(f"load average before {load_before}, after {_load()}")


if __name__ == "__main__":
    main()
