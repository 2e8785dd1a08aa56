"""The learned lead score and deal win probability: declining below the minimum, learning a
planted signal, learning from new outcomes, plain-word factors, batch scoring, scoring at
capture, the pages and the API, and per-role visibility."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from django.utils import timezone
from sklearn.metrics import roc_auc_score

from rapport.core.events import record_events
from rapport.core.models import Event
from rapport.sales import events, services
from rapport.sales.models import Deal, Lead, ModelKind, TrainedModel
from rapport.sales.services import ml
from rapport.sales.tests import planted


def _probe(**fields) -> Lead:
    base = {"name": "Probe", "email": "probe@firm-x.example", "source": "trade fair",
            "company_size": "1-10", "country": "SE", "industry": "retail"}
    return Lead.objects.create(**{**base, **fields})


@pytest.mark.django_db
def test_below_the_minimum_it_declines_with_the_counts_and_scores_nothing(owner, web_as):
    planted.make_leads(25, seed=3)
    converted = Lead.objects.filter(status="converted").count()
    disqualified = Lead.objects.filter(status="disqualified").count()
    lead = _probe()
    model = services.lead_model_train()
    assert not model.ready and model.artifact is None and model.roc_auc is None
    assert model.message == (f"needs at least 30 converted and 30 disqualified leads; "
                             f"you have {converted} and {disqualified}")
    assert (model.rows, model.positives) == (25, converted)
    assert services.leads_ml_score() == 0
    lead.refresh_from_db()
    assert lead.ml_probability is None and lead.ml_factors == []
    client = web_as(owner)
    page = client.get(f"/leads/{lead.id}/").content.decode()
    assert f"you have {converted} and {disqualified}" in page
    settings_page = client.get("/settings/lead-scoring/").content.decode()
    assert f"you have {converted} and {disqualified}" in settings_page
    deal_model = services.deal_model_train()
    assert not deal_model.ready
    assert deal_model.message == "needs at least 30 won and 30 lost deals; you have 0 and 0"


@pytest.mark.django_db
def test_a_planted_signal_is_learned_and_ranks_held_out_leads():
    planted.make_leads(800, seed=5)
    held_out = planted.make_leads(400, seed=6, closed=False, start_id=100_000)
    model = services.lead_model_train()
    assert model.ready, model.message
    assert model.rows == 800 and 0.6 < model.roc_auc <= 1.0
    cal = model.calibration
    assert 0 <= cal["ece"] < 0.1 and 0 < cal["brier"] < 0.25
    assert sum(b["count"] for b in cal["bins"]) == 800
    assert services.leads_ml_score() == 400
    rows = Lead.objects.filter(id__in=held_out).values_list("name", "ml_probability")
    truth = [name.endswith("yes") for name, _ in rows]
    auc = roc_auc_score(truth, [p for _, p in rows])
    assert auc > 0.7, auc
    # The planted features are what the model says moves the chance most.
    top = {f["feature"] for f in cal["top_factors"][:3]}
    assert {"source", "company_size"} <= top


@pytest.mark.django_db
def test_leads_converted_after_training_raise_the_next_models_score_for_similar_leads():
    planted.make_leads(300, seed=8)
    probe = _probe(source="podcast", industry="bakery", company_size="11-50")
    first = services.lead_model_train()
    assert first.ready, first.message
    services.leads_ml_score()
    probe.refresh_from_db()
    before = probe.ml_probability
    now = timezone.now()
    Lead.objects.bulk_create([Lead(name=f"Like probe {i}", email=f"like{i}@firm{i}.example",
                                   source="podcast", industry="bakery",
                                   company_size="11-50", country="SE", status="converted",
                                   converted_at=now) for i in range(40)])
    second = services.lead_model_train()
    assert second.ready and second.id != first.id
    services.leads_ml_score()
    probe.refresh_from_db()
    assert probe.ml_probability > before + 0.05, (before, probe.ml_probability)
    assert any(f["feature"] == "source" and f["effect"] > 0 for f in probe.ml_factors)


@pytest.mark.django_db
def test_factors_are_plain_words_with_points_of_chance():
    planted.make_leads(400, seed=9)
    lead = _probe(source="referral", company_size="201-1000", utm_campaign="spring-menu")
    services.lead_model_train()
    services.leads_ml_score()
    lead.refresh_from_db()
    assert 3 <= len(lead.ml_factors) <= ml.FACTORS
    texts = [f["text"] for f in lead.ml_factors]
    for text in texts:
        assert "_" not in text and ("points of chance" in text or "point of chance" in text)
    assert any(t.startswith("came from referral: +") for t in texts), texts
    assert any(t.startswith("a company of 201-1000 people: +") for t in texts), texts
    assert ml.describe("utm_campaign", "spring-menu") == "came from the spring-menu campaign"
    assert ml.effect_words(0.123) == "+12 points of chance"
    assert ml.effect_words(-0.01) == "-1 point of chance"
    assert ml.describe("days_to_first_touch", None) == "not touched yet"


@pytest.mark.django_db
def test_a_batch_scores_every_open_lead_and_leaves_closed_ones(settings):
    planted.make_leads(200, seed=10)
    open_ids = planted.make_leads(130, seed=11, closed=False, start_id=50_000)
    Lead.objects.filter(id__in=open_ids[:30]).update(status="working")
    deleted = open_ids[-1]
    Lead.objects.filter(id=deleted).update(deleted_at=timezone.now())
    services.lead_model_train()
    original = ml.BATCH
    ml.BATCH = 37  # several keyset batches
    try:
        written = services.leads_ml_score()
    finally:
        ml.BATCH = original
    assert written == 129
    live_open = Lead.objects.filter(id__in=open_ids, deleted_at__isnull=True)
    assert not live_open.filter(ml_probability__isnull=True).exists()
    assert live_open.exclude(ml_factors=[]).count() == 129
    assert not Lead.objects.filter(status__in=("converted", "disqualified"),
                                   ml_probability__isnull=False).exists()
    assert Lead.objects.get(id=deleted).ml_probability is None
    probabilities = list(live_open.values_list("ml_probability", flat=True))
    assert all(0 <= p <= 1 for p in probabilities) and len(set(probabilities)) > 5


@pytest.mark.django_db
def test_activity_after_the_outcome_is_not_a_feature():
    """A lead's changes by people are counted up to its outcome only: no leakage from what
    happened after it was disqualified."""
    lead = _probe(status="disqualified")
    then = timezone.now() - dt.timedelta(days=10)
    record_events([
        events.lead_updated(lead_id=lead.id, actor_id=None, before={}, after={"phone": "1"}),
        events.lead_updated(lead_id=lead.id, actor_id=None, before={"status": "new"},
                            after={"status": "disqualified"}),
        events.lead_updated(lead_id=lead.id, actor_id=None, before={}, after={"note": "late"}),
    ])
    rows = list(Event.objects.filter(entity_id=lead.id, entity_type="lead").order_by("id"))
    for i, row in enumerate(rows):
        Event.objects.filter(id=row.id).update(occurred_at=then + dt.timedelta(days=i))
    table, outcome = ml.lead_training_table()
    assert outcome.loc[lead.id] == 0
    assert table.loc[lead.id, "changes_by_people"] == 1  # only the change before
    for leaky in ("status", "converted_at", "converted_deal_id", "ml_probability"):
        assert leaky not in table.columns


@pytest.mark.django_db
def test_a_captured_lead_is_scored_when_its_capture_commits(owner,
                                                            django_capture_on_commit_callbacks):
    planted.make_leads(300, seed=12)
    services.lead_model_train()
    with django_capture_on_commit_callbacks(execute=True):
        captured = services.lead_capture(actor=owner, data={
            "name": "Fresh", "email": "fresh@hotel.example", "source": "referral",
            "company_size": "51-200"})
    lead = Lead.objects.get(id=captured.lead.id)
    assert lead.ml_probability is not None and lead.ml_scored_at is not None
    assert lead.ml_factors and all("chance" in f["text"] for f in lead.ml_factors)


@pytest.mark.django_db
def test_lead_page_api_and_settings_show_the_probability_and_visibility_is_unchanged(
        owner, sales_a, sales_b, web_as, api_as):
    planted.make_leads(300, seed=13)
    mine = _probe(email="mine@firm.example", owner=sales_a, source="referral")
    theirs = _probe(email="theirs@firm.example", owner=sales_b)
    services.lead_model_train()
    services.leads_ml_score()
    mine.refresh_from_db()
    page = web_as(sales_a).get(f"/leads/{mine.id}/").content.decode()
    percent = round(mine.ml_probability * 100)
    assert f"Chance of converting {percent}%" in page
    assert mine.ml_factors[0]["text"] in page
    assert web_as(sales_a).get(f"/leads/{theirs.id}/").status_code == 404
    api = api_as(sales_a)
    got = api.get(f"/leads/{mine.id}")
    assert got.status_code == 200
    body = got.json()
    assert body["ml_probability"] == pytest.approx(mine.ml_probability)
    assert [f["text"] for f in body["ml_factors"]] == [f["text"] for f in mine.ml_factors]
    assert api.get(f"/leads/{theirs.id}").status_code == 404
    listed = {item["id"] for item in api.get("/leads", limit=200).json()["items"]}
    assert mine.id in listed and theirs.id not in listed
    settings_page = web_as(owner).get("/settings/lead-scoring/").content.decode()
    model = TrainedModel.objects.filter(kind=ModelKind.LEAD_SCORE, ready=True).get()
    assert f"{model.roc_auc:.3f}" in settings_page and "ECE" in settings_page
    # Only the owner role trains.
    assert web_as(sales_a).post("/settings/lead-scoring/train/").status_code == 403
    assert TrainedModel.objects.count() == 1


@pytest.mark.django_db
def test_train_now_trains_both_and_scores(owner, sales_a, sales_b, web_as):
    planted.make_leads(200, seed=14)
    open_lead = _probe()
    planted.make_deals(240, owners=(sales_a.id, sales_b.id))
    open_deals = planted.make_deals(20, seed=15, closed=False, owners=(sales_a.id, sales_b.id))
    answer = web_as(owner).post("/settings/lead-scoring/train/")
    assert answer.status_code == 302
    assert TrainedModel.objects.filter(ready=True).count() == 2
    open_lead.refresh_from_db()
    assert open_lead.ml_probability is not None
    probabilities = list(Deal.objects.filter(id__in=open_deals)
                         .values_list("win_probability", flat=True))
    assert all(p is not None and 0 <= p <= 1 for p in probabilities)
    assert not Deal.objects.exclude(id__in=open_deals).filter(
        win_probability__isnull=False).exists()


@pytest.mark.django_db
def test_the_deal_model_learns_from_won_and_lost_deals_not_their_final_stage(sales_a, sales_b):
    planted.make_deals(400, seed=16, owners=(sales_a.id, sales_b.id))
    open_ids = planted.make_deals(200, seed=17, closed=False, owners=(sales_a.id, sales_b.id))
    table, outcome = ml.deal_training_table()
    # Seen before their close: never at the won or lost stage.
    assert not table["stage"].isin(["Won", "Lost"]).any()
    model = services.deal_model_train()
    assert model.ready, model.message
    assert model.roc_auc > 0.6
    assert services.deals_win_score() == 200
    rows = list(Deal.objects.filter(id__in=open_ids).values_list("name", "win_probability",
                                                                 "amount"))
    truth = [name.endswith("yes") for name, _, _ in rows]
    assert roc_auc_score(truth, [p for _, p, _ in rows]) > 0.6
    small = np.mean([p for _, p, amount in rows if amount <= 1500])
    large = np.mean([p for _, p, amount in rows if amount > 1500])
    assert small > large


def _factors_one_row_at_a_time(scorer, table) -> list[str]:
    """The factor JSON as the first version built it, one row and one factor at a time (kept
    here as the reference the vectorised ``explain_rows`` must match)."""
    import json

    from rapport.insights.ml.explain import logit_effects

    contributions = scorer.contributions(table, exact=False)
    base = contributions.pop("(base)").to_numpy()
    values = contributions.to_numpy()
    a, b = 1.0, 0.0
    if scorer.calibrator_ is not None:
        a = float(scorer.calibrator_.coef_[0, 0])
        b = float(scorer.calibrator_.intercept_[0])
    total = (values.sum(axis=1) + base) * a + b
    effects = np.nan_to_num(logit_effects(values * a, total[:, None]), nan=0.0, posinf=0.0,
                            neginf=0.0)
    names = list(contributions.columns)
    out = []
    for i in range(len(table)):
        order = sorted(range(len(names)), key=lambda j: -abs(effects[i, j]))[:ml.FACTORS]
        parts = []
        for j in order:
            effect = round(float(effects[i, j]), 4)
            if -0.005 < effect < 0.005:
                continue
            value = ml._shown(table[names[j]].to_numpy(dtype=object)[i:i + 1], names[j])[0]
            parts.append(json.dumps({"feature": names[j], "value": value, "effect": effect,
                                     "text": f"{ml.describe(names[j], value)}: "
                                             f"{ml.effect_words(effect)}"}))
        out.append("[" + ", ".join(parts) + "]")
    return out


@pytest.mark.django_db
def test_vectorised_factors_are_the_same_as_one_row_at_a_time():
    planted.make_leads(400, seed=12)
    open_ids = planted.make_leads(300, seed=13, closed=False, start_id=60_000)
    # Missing values, numbers and text of every kind the features hold.
    Lead.objects.filter(id__in=open_ids[:40]).update(source="", country="", job_title="",
                                                    email="", score=35)
    Lead.objects.filter(id__in=open_ids[40:80]).update(
        first_touched_at=timezone.now() + dt.timedelta(days=3), score=-10,
        phone_line_type="fixed_line", product_interest="Sourdough")
    model = services.lead_model_train()
    assert model.ready, model.message
    ml._loaded.clear()  # ids repeat between tests: load this model, not one cached before
    scorer = ml._scorer(model)
    frame = next(ml._lead_rows(ml._open_leads(), ml.LEAD_FIELDS))
    table = ml.lead_features(frame)
    scores = ml.explain_rows(scorer, table)
    expected = _factors_one_row_at_a_time(scorer, table)
    assert len(scores.factors) == len(expected) == 300
    assert scores.factors == expected
    assert {len(__import__("json").loads(f)) for f in scores.factors} >= {ml.FACTORS}


@pytest.mark.django_db(transaction=True)
def test_bulk_write_keeps_every_character_and_null():
    """The batch write (COPY text on PostgreSQL, a temp table on SQLite) stores values as
    given: backslashes, tabs, line ends, quotes and accents in the factor text; NULL as NULL."""
    import json

    from django.db import transaction

    first, second = _probe(), _probe(email="other@firm-y.example")
    factors = [{"feature": "industry", "value": 'bread\\ & "cakes"\tcafé\nnext\r',
                "effect": 0.0123, "text": "works in bread\\cakes: +1 point of chance"}]
    now = timezone.now()
    from django.db import connection
    stamp = connection.ops.adapt_datetimefield_value(now)
    with transaction.atomic():
        ml._bulk_write(Lead._meta.db_table, ("ml_probability", "ml_factors", "ml_scored_at"),
                       ("double precision", "jsonb", "timestamptz"),
                       [(first.id, 0.1 + 0.2, json.dumps(factors), stamp),
                        (second.id, None, "[]", None)])
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.ml_probability == 0.1 + 0.2
    assert first.ml_factors == factors
    assert first.ml_scored_at == now
    assert second.ml_probability is None and second.ml_factors == [] \
        and second.ml_scored_at is None
