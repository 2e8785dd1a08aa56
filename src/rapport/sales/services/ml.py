"""The learned scores: a lead's chance of converting and a deal's chance of being won, trained
on the business's own outcomes with the binary scorer of ``insights.ml``.

Training (the nightly job, or "Train now" on Settings → Lead scoring) reads every closed lead
(converted = 1, disqualified = 0) or closed deal (won = 1, lost = 0), builds one row of
features per record *as it was before its outcome* and fits a
:class:`~rapport.insights.ml.binary.BinaryScorer`. Each attempt is a :class:`TrainedModel` row:
``ready`` with its cross-validated ROC AUC and calibration, or not ready with the message that
says what is missing ("needs at least 30 converted and 30 disqualified leads; you have 12 and
40"). The newest ready model of a kind scores; a later decline does not take it away.

Scoring writes ``Lead.ml_probability``/``ml_factors``/``ml_scored_at`` for every open lead and
``Deal.win_probability`` for every open deal: keyset batches, one vectorised pass of the model
over a pandas frame per batch, the factor JSON put together from distinct (feature, value)
texts without a loop per lead, and one ``UPDATE … FROM`` a temporary table per batch (filled by
COPY on PostgreSQL, ``executemany`` on SQLite). A newly captured or changed lead is scored at
once by an event subscriber (``score_new_leads``).

No leakage: a lead's features are what it said and what was found when it arrived, its rule
score, and activity counted only up to its outcome (changes by people, repeat submissions,
sequence emails, days to first touch) — never its status or the ``converted_*`` fields. A
closed deal is seen at a point drawn between its creation and its close (fixed per deal), with
its stage, age, days in stage and activity as they were then; an open deal is seen now.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
import pathlib
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from django.db import connection, transaction
from django.db.models import Count, Min, Q
from django.utils import timezone

from rapport.accounts.selectors import display_names
from rapport.activities import events as activity_events
from rapport.core.models import Event
from rapport.core.permissions import require
from rapport.insights.ml.binary import BinaryScorer
from rapport.insights.ml.errors import DataValidationError, InsufficientDataError
from rapport.insights.ml.explain import logit_effects
from rapport.insights.ml.persistence import load_model, save_model
from rapport.sales import events
from rapport.sales.models import (
    OPEN_STATUSES,
    Deal,
    Lead,
    LeadStatus,
    ModelKind,
    Pipeline,
    Stage,
    StageChange,
    StepRun,
    TrainedModel,
)
from rapport.sales.selectors import min_outcomes

logger = logging.getLogger(__name__)

FACTORS = 4  # top factors kept per lead
# Leads per keyset batch: from 100,000 rows LightGBM predicts on both cores. Deals go by
# DEAL_BATCH (their queries take id lists, and SQLite binds at most 32,766 values).
BATCH = 100_000
DEAL_BATCH = 20_000
DAY = 86_400.0


def min_per_class() -> int:
    """Fewest converted and disqualified leads (won and lost deals) before a model is trained
    (``RAPPORT_ML_MIN_OUTCOMES``, default 30)."""
    return min_outcomes()


# --- how a feature reads in words ----------------------------------------------------------

def _num(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _count(value: Any, one: str, many: str) -> str:
    n = int(round(_num(value) or 0))
    return f"{n} {one if n == 1 else many}"


def describe(feature: str, value: Any) -> str:
    """A feature's value as a shop owner says it: "came from the spring-menu campaign"."""
    number = _num(value)
    missing = value is None or (isinstance(value, float) and not math.isfinite(value)) \
        or value == ""
    words: dict[str, Any] = {
        "source": ("came from {v}", "no source recorded"),
        "utm_source": ("came via {v}", "no UTM source"),
        "utm_medium": ("came by {v}", "no UTM medium"),
        "utm_campaign": ("came from the {v} campaign", "no campaign"),
        "country": ("in {v}", "no country given"),
        "industry": ("works in {v}", "no industry given"),
        "company_size": ("a company of {v} people", "no company size given"),
        "email_kind": ("{v}", "no email address"),
        "phone_line_type": ("a {v} phone number", "no phone number"),
        "job_title": ("job title {v}", "no job title given"),
        "known_company": ("{v}", ""),
        "product_interest": ("asked about {v}", "no product named"),
        "message": ("what their message says", "no message"),
        "currency": ("priced in {v}", "no currency"),
        "owner": ("handled by {v}", "nobody owns it"),
        "pipeline": ("in the {v} pipeline", "no pipeline"),
        "stage": ("at the {v} stage", "no stage"),
        "lead_source": ("its lead came from {v}", "not from a lead"),
        "company": ("{v}", ""),
    }
    if feature in words:
        shown, absent = words[feature]
        return absent if missing and absent else shown.format(v=value)
    if feature == "rule_score":
        return f"rule score {number:+.0f}" if number is not None else "no rule score"
    if feature == "changes_by_people":
        return _count(value, "change by your team", "changes by your team")
    if feature == "submissions":
        return f"submitted {_count(value, 'time', 'times')}"
    if feature == "sequence_emails":
        return _count(value, "sequence email sent", "sequence emails sent")
    if feature == "days_to_first_touch":
        if number is None:
            return "not touched yet"
        return "touched the same day" if number < 1 else \
            f"first touched after {_count(number, 'day', 'days')}"
    if feature == "amount":
        return f"amount {number:,.0f}" if number is not None else "no amount"
    if feature == "stage_probability":
        return f"a stage worth {number:.0f}%" if number is not None else "no stage"
    if feature == "age_days":
        return f"open for {_count(number, 'day', 'days')}"
    if feature == "days_in_stage":
        return f"{_count(number, 'day', 'days')} in its stage"
    if feature == "stage_moves":
        return _count(value, "stage move", "stage moves")
    if feature == "activities":
        return _count(value, "conversation or task with the customer",
                      "conversations and tasks with the customer")
    if feature == "line_items":
        return _count(value, "product line", "product lines")
    if feature == "close_horizon_days":
        return "no expected close date" if number is None else \
            f"expected to close {_count(number, 'day', 'days')} after it opened"
    label = feature.replace("_", " ")
    return f"{label} unknown" if missing else f"{label}: {value}"


def effect_words(effect: float) -> str:
    """0.12 -> "+12 points of chance" (percentage points of the probability)."""
    points = round(100 * float(effect))
    if points == 0:
        return f"{'+' if effect >= 0 else '-'}<1 point of chance"
    return f"{points:+d} point{'s' if abs(points) != 1 else ''} of chance"


# --- feature tables -----------------------------------------------------------------------------

LEAD_FIELDS = ("id", "source", "utm_source", "utm_medium", "utm_campaign", "country", "industry",
               "company_size", "email", "free_mail", "phone_line_type", "job_title",
               "matched_company_id", "score", "message", "product_interest", "created_at",
               "first_touched_at")
TEXTUAL = ("source", "utm_source", "utm_medium", "utm_campaign", "country", "industry",
           "company_size", "email_kind", "phone_line_type", "job_title", "known_company",
           "message", "product_interest", "currency", "owner", "pipeline", "stage",
           "lead_source", "company")
LEAD_FEATURES = ("source", "utm_source", "utm_medium", "utm_campaign", "country", "industry",
                 "company_size", "email_kind", "phone_line_type", "job_title", "known_company",
                 "rule_score", "message", "product_interest", "changes_by_people",
                 "submissions", "sequence_emails", "days_to_first_touch")


def _blank(series: pd.Series, how: Any = None) -> np.ndarray:
    """Text with blanks as None (``how`` applied, e.g. ``str.lower``), working on the distinct
    values only: a million leads hold a few hundred sources."""
    codes, uniques = pd.factorize(series.to_numpy(dtype=object), use_na_sentinel=True)
    clean: list[Any] = []
    for value in uniques:
        text = "" if value is None else str(value).strip()
        clean.append(None if not text else how(text) if how else text)
    return np.array([*clean, None], dtype=object)[codes]


def _seconds(series: pd.Series) -> np.ndarray:
    """Datetimes (aware or naive, possibly None) as epoch seconds, NaN when missing."""
    values = pd.to_datetime(series, utc=True, errors="coerce", format="ISO8601")
    out = (values - pd.Timestamp("1970-01-01", tz="UTC")) / pd.Timedelta(seconds=1)
    return out.to_numpy(dtype="float64", na_value=np.nan)


def _fetch(queryset) -> list[tuple]:
    """The rows of a ``values_list`` queryset straight from the cursor: no per-value
    conversion (dates stay as the driver gives them; ``_seconds`` reads either)."""
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _lead_rows(queryset, fields: Sequence[str]) -> Iterator[pd.DataFrame]:
    """The leads of ``queryset`` as frames of ``fields``, ``BATCH`` at a time, by id."""
    last = 0
    while True:
        rows = _fetch(queryset.filter(id__gt=last).order_by("id").values_list(*fields)[:BATCH])
        if not rows:
            return
        yield pd.DataFrame.from_records(rows, columns=list(fields))
        last = rows[-1][0]


def _lead_activity(frame: pd.DataFrame, cutoff: np.ndarray | None) -> pd.DataFrame:
    """Per lead of ``frame``: changes by people, repeat submissions and sequence emails, counted
    before ``cutoff`` (epoch seconds per row; None = up to now)."""
    lo, hi = int(frame["id"].min()), int(frame["id"].max())
    kinds = (events.LEAD_UPDATED.name, events.LEAD_RESUBMITTED.name)
    out = pd.DataFrame({"changes_by_people": 0.0, "resubmissions": 0.0, "sequence_emails": 0.0},
                       index=frame["id"].to_numpy())
    lead_events = Event.objects.filter(entity_type="lead", entity_id__gte=lo, entity_id__lte=hi,
                                       kind__in=kinds)
    emails = StepRun.objects.filter(enrollment__lead_id__gte=lo, enrollment__lead_id__lte=hi,
                                    outbound_email_id__isnull=False)
    if cutoff is None:
        for entity_id, kind, n in lead_events.values_list("entity_id", "kind").annotate(
                n=Count("id")).order_by():
            column = "changes_by_people" if kind == events.LEAD_UPDATED.name else "resubmissions"
            if entity_id in out.index:
                out.at[entity_id, column] = n
        for lead_id, n in emails.values_list("enrollment__lead_id").annotate(
                n=Count("id")).order_by():
            if lead_id in out.index:
                out.at[lead_id, "sequence_emails"] = n
        return out
    limit = pd.Series(cutoff, index=frame["id"].to_numpy())
    rows = pd.DataFrame.from_records(
        list(lead_events.values_list("entity_id", "kind", "occurred_at")),
        columns=["id", "kind", "at"])
    if len(rows):
        rows = rows[rows["id"].isin(limit.index)]
        rows = rows[_seconds(rows["at"]) < limit.loc[rows["id"]].to_numpy()]
        counts = rows.groupby(["id", "kind"]).size()
        for (lead_id, kind), n in counts.items():
            column = "changes_by_people" if kind == events.LEAD_UPDATED.name else "resubmissions"
            out.at[lead_id, column] = n
    sent = pd.DataFrame.from_records(
        list(emails.values_list("enrollment__lead_id", "ran_at")), columns=["id", "at"])
    if len(sent):
        sent = sent[sent["id"].isin(limit.index)]
        sent = sent[_seconds(sent["at"]) < limit.loc[sent["id"]].to_numpy()]
        for lead_id, n in sent.groupby("id").size().items():
            out.at[lead_id, "sequence_emails"] = n
    return out


def lead_features(frame: pd.DataFrame, cutoff: np.ndarray | None = None) -> pd.DataFrame:
    """One row per lead of ``frame`` (columns ``LEAD_FIELDS``) with ``LEAD_FEATURES``, as the
    lead was before ``cutoff`` (epoch seconds per row, its outcome; None = now)."""
    activity = _lead_activity(frame, cutoff)
    created = _seconds(frame["created_at"])
    touched = _seconds(frame["first_touched_at"])
    if cutoff is not None:
        touched = np.where(touched < cutoff, touched, np.nan)
    email = frame["email"].fillna("").astype(str)
    free = frame["free_mail"].fillna(False).astype(bool)
    kinds = np.where(free, "uses a free-mail address", "uses a work address").astype(object)
    email_kind = np.where(email == "", np.array(None, dtype=object), kinds)
    known = np.where(frame["matched_company_id"].notna(), "a company you already know",
                     "a company new to you")
    columns = {
        "source": _blank(frame["source"], str.lower),
        "utm_source": _blank(frame["utm_source"], str.lower),
        "utm_medium": _blank(frame["utm_medium"], str.lower),
        "utm_campaign": _blank(frame["utm_campaign"], str.lower),
        "country": _blank(frame["country"], str.upper),
        "industry": _blank(frame["industry"], str.lower),
        "company_size": _blank(frame["company_size"]),
        "email_kind": email_kind,
        "phone_line_type": _blank(frame["phone_line_type"], lambda t: t.replace("_", " ")),
        "job_title": _blank(frame["job_title"], str.lower),
        "known_company": known,
        "rule_score": frame["score"].astype("float64"),
        "message": _blank(frame["message"]),
        "product_interest": _blank(frame["product_interest"], str.lower),
        "changes_by_people": activity["changes_by_people"].to_numpy(),
        "submissions": activity["resubmissions"].to_numpy() + 1.0,
        "sequence_emails": activity["sequence_emails"].to_numpy(),
        "days_to_first_touch": np.maximum(touched - created, 0) / DAY,
    }
    # Plain arrays: a Series would be aligned on its own index, not the leads' ids.
    out = pd.DataFrame({name: np.asarray(values, dtype=object if name in TEXTUAL else None)
                        for name, values in columns.items()}, index=frame["id"].to_numpy())
    return out[list(LEAD_FEATURES)]


def _disqualified_at(lo: int, hi: int) -> dict[int, Any]:
    """When each lead in the id range was first marked disqualified (from its timeline)."""
    rows = (Event.objects.filter(entity_type="lead", entity_id__gte=lo, entity_id__lte=hi,
                                 kind=events.LEAD_UPDATED.name, after__status="disqualified")
            .values("entity_id").annotate(at=Min("occurred_at")).order_by())
    return {row["entity_id"]: row["at"] for row in rows}


def lead_training_table() -> tuple[pd.DataFrame, pd.Series]:
    """Closed leads as features (as before their outcome) and outcome (1 = converted)."""
    closed = Lead.objects.filter(deleted_at__isnull=True, status__in=(
        LeadStatus.CONVERTED, LeadStatus.DISQUALIFIED))
    fields = (*LEAD_FIELDS, "status", "converted_at", "updated_at")
    frames, outcomes = [], []
    for frame in _lead_rows(closed, fields):
        won = (frame["status"] == LeadStatus.CONVERTED).to_numpy()
        lost_at = _disqualified_at(int(frame["id"].min()), int(frame["id"].max()))
        lost = _seconds(pd.Series([lost_at.get(i) for i in frame["id"]], dtype=object))
        updated = _seconds(frame["updated_at"])
        converted = _seconds(frame["converted_at"])
        cutoff = np.where(won & ~np.isnan(converted), converted,
                          np.where(np.isnan(lost), updated, lost))
        frames.append(lead_features(frame, cutoff))
        outcomes.append(pd.Series(won.astype("int64"), index=frame["id"].to_numpy()))
    if not frames:
        return pd.DataFrame(columns=list(LEAD_FEATURES)), pd.Series(dtype="int64")
    return pd.concat(frames), pd.concat(outcomes)


# --- deals -------------------------------------------------------------------------------------

DEAL_FEATURES = ("amount", "currency", "owner", "pipeline", "stage", "stage_probability",
                 "age_days", "days_in_stage", "stage_moves", "activities", "lead_source",
                 "company", "line_items", "close_horizon_days")
ACTIVITY_KINDS = (activity_events.INTERACTION_LOGGED.name, activity_events.TASK_COMPLETED.name,
                  activity_events.EMAIL_QUEUED.name)


def _snapshot_fraction(deal_ids: np.ndarray) -> np.ndarray:
    """A fixed point in (0.1, 0.9) of each closed deal's life, the same on every retrain."""
    return np.array([0.1 + 0.8 * ((i * 2654435761) % 1000) / 1000 for i in deal_ids])


def _deal_rows(queryset) -> Iterator[pd.DataFrame]:
    fields = ("id", "amount", "currency", "owner_id", "pipeline_id", "stage_id", "created_at",
              "stage_entered_at", "closed_at", "contact_id", "company_id", "lead__source",
              "expected_close", "updated_at")
    last = 0
    while True:
        rows = list(queryset.filter(id__gt=last).order_by("id").values_list(*fields)[
            :DEAL_BATCH])
        if not rows:
            return
        frame = pd.DataFrame.from_records(rows, columns=list(fields))
        counts = dict(Deal.objects.filter(id__in=frame["id"].tolist()).annotate(
            n=Count("lines")).values_list("id", "n"))
        frame["line_items"] = frame["id"].map(counts).fillna(0).astype("float64")
        yield frame
        last = rows[-1][0]


def deal_features(frame: pd.DataFrame, at: np.ndarray, stages: dict[int, Stage],
                  pipelines: dict[int, str], owners: dict[int, str]) -> pd.DataFrame:
    """Each deal of ``frame`` as it was at ``at`` (epoch seconds per row): its stage then,
    its age, days in that stage, stage moves and activity with the customer until then."""
    ids = frame["id"].to_numpy()
    created = _seconds(frame["created_at"])
    stage_now = frame["stage_id"].to_numpy()
    entered_now = _seconds(frame["stage_entered_at"])
    entered_now = np.where(np.isnan(entered_now), created, entered_now)
    stage_at = stage_now.astype("int64").copy()
    entered_at = entered_now.copy()
    moves = np.zeros(len(ids))
    changes = pd.DataFrame.from_records(
        list(StageChange.objects.filter(deal_id__in=ids.tolist()).order_by("changed_at", "id")
             .values_list("deal_id", "from_stage_id", "to_stage_id", "changed_at")),
        columns=["deal", "from", "to", "at"])
    position = {deal_id: i for i, deal_id in enumerate(ids)}
    if len(changes):
        changes["t"] = _seconds(changes["at"])
        for deal_id, group in changes.groupby("deal", sort=False):
            i = position[deal_id]
            before = group[group["t"] <= at[i]]
            after = group[group["t"] > at[i]]
            moves[i] = len(before)
            if len(before):
                stage_at[i] = int(before["to"].iloc[-1])
                entered_at[i] = float(before["t"].iloc[-1])
            elif len(after) and not pd.isna(after["from"].iloc[0]):
                stage_at[i] = int(after["from"].iloc[0])
                entered_at[i] = created[i]
    activity = np.zeros(len(ids))
    contacts = frame["contact_id"].dropna().astype("int64").unique().tolist()
    if contacts:
        rows = pd.DataFrame.from_records(
            list(Event.objects.filter(contact_id__in=contacts, kind__in=ACTIVITY_KINDS)
                 .values_list("contact_id", "occurred_at")), columns=["contact", "at"])
        if len(rows):
            rows["t"] = _seconds(rows["at"])
            by_contact = {c: np.sort(g["t"].to_numpy()) for c, g in rows.groupby("contact")}
            for i, contact in enumerate(frame["contact_id"].to_numpy()):
                times = by_contact.get(contact)
                if times is not None and not pd.isna(contact):
                    activity[i] = np.searchsorted(times, at[i]) - np.searchsorted(
                        times, created[i])
    expected = pd.to_datetime(frame["expected_close"], errors="coerce")
    horizon = ((expected - pd.to_datetime(frame["created_at"], utc=True).dt.tz_localize(None)
                .dt.normalize()) / pd.Timedelta(days=1)).to_numpy(dtype="float64",
                                                                 na_value=np.nan)
    out = pd.DataFrame({
        "amount": frame["amount"].astype("float64").to_numpy(),
        "currency": _blank(frame["currency"]),
        "owner": [owners.get(o, "someone") if not pd.isna(o) else None
                  for o in frame["owner_id"]],
        "pipeline": [pipelines.get(p) for p in frame["pipeline_id"]],
        "stage": [stages[s].name if s in stages else None for s in stage_at],
        "stage_probability": [float(stages[s].probability) if s in stages else np.nan
                              for s in stage_at],
        "age_days": np.maximum(at - created, 0) / DAY,
        "days_in_stage": np.maximum(at - entered_at, 0) / DAY,
        "stage_moves": moves,
        "activities": activity,
        "lead_source": _blank(frame["lead__source"], str.lower),
        "company": np.where(frame["company_id"].notna(), "a company customer",
                            "a private customer"),
        "line_items": frame["line_items"].to_numpy(),
        "close_horizon_days": horizon,
    }, index=ids)
    return out[list(DEAL_FEATURES)]


def _deal_lookups() -> tuple[dict[int, Stage], dict[int, str], dict[int, str]]:
    stages = {s.id: s for s in Stage.objects.all()}
    pipelines = dict(Pipeline.objects.values_list("id", "name"))
    owner_ids = set(Deal.objects.exclude(owner_id=None).values_list("owner_id", flat=True)
                    .distinct())
    return stages, pipelines, display_names(user_ids=owner_ids)


def deal_training_table() -> tuple[pd.DataFrame, pd.Series]:
    """Closed deals as features (seen at a point before their close) and outcome (1 = won)."""
    stages, pipelines, owners = _deal_lookups()
    closed = Deal.objects.filter(deleted_at__isnull=True).filter(
        Q(stage__is_won=True) | Q(stage__is_lost=True))
    frames, outcomes = [], []
    for frame in _deal_rows(closed):
        won = np.array([stages[s].is_won for s in frame["stage_id"]], dtype="int64")
        created = _seconds(frame["created_at"])
        ended = _seconds(frame["closed_at"])
        ended = np.where(np.isnan(ended), _seconds(frame["updated_at"]), ended)
        at = created + _snapshot_fraction(frame["id"].to_numpy()) * np.maximum(
            ended - created, 0)
        frames.append(deal_features(frame, at, stages, pipelines, owners))
        outcomes.append(pd.Series(won, index=frame["id"].to_numpy()))
    if not frames:
        return pd.DataFrame(columns=list(DEAL_FEATURES)), pd.Series(dtype="int64")
    return pd.concat(frames), pd.concat(outcomes)


# --- training ----------------------------------------------------------------------------------

NOUNS = {ModelKind.LEAD_SCORE: ("converted", "disqualified", "leads"),
         ModelKind.DEAL_WIN: ("won", "lost", "deals")}


def decline_message(kind: str, positives: int, negatives: int) -> str:
    yes, no, things = NOUNS[ModelKind(kind)]
    need = min_per_class()
    return (f"needs at least {need} {yes} and {need} {no} {things}; "
            f"you have {positives} and {negatives}")


def _artifact(scorer: BinaryScorer) -> bytes:
    with tempfile.TemporaryDirectory() as folder:
        path = save_model(scorer, pathlib.Path(folder) / "model.joblib")
        return path.read_bytes()


_loaded: dict[int, BinaryScorer] = {}


def _scorer(model: TrainedModel) -> BinaryScorer:
    """The fitted scorer of a ready model, loaded once per process."""
    if model.id not in _loaded:
        with tempfile.TemporaryDirectory() as folder:
            path = pathlib.Path(folder) / "model.joblib"
            path.write_bytes(bytes(model.artifact or b""))
            scorer = load_model(path)
        _loaded.clear()  # keep only the newest few: one per kind in practice
        _loaded[model.id] = scorer
    return _loaded[model.id]


def current_model(kind: str) -> TrainedModel | None:
    """The newest ready model of ``kind`` (it scores), or None."""
    return (TrainedModel.objects.filter(kind=kind, ready=True)
            .order_by("-trained_at", "-id").first())


def _train(kind: str, table: pd.DataFrame, outcome: pd.Series,
           now: dt.datetime | None) -> TrainedModel:
    now = now or timezone.now()
    positives = int(outcome.sum())
    negatives = int(len(outcome) - positives)
    need = min_per_class()
    row = TrainedModel(kind=kind, rows=len(outcome), positives=positives, trained_at=now)
    if positives < need or negatives < need:
        row.message = decline_message(kind, positives, negatives)
        row.save()
        return row
    yes, no, things = NOUNS[ModelKind(kind)]
    scorer = BinaryScorer(min_per_class=need, positive_label=1, positive_name=yes,
                          negative_name=no, entity_name=things, random_state=0)
    try:
        scorer.fit(table, outcome.to_numpy())
    except (InsufficientDataError, DataValidationError) as error:
        row.message = f"could not train: {error}"
        row.save()
        return row
    metrics = scorer.cv_metrics_
    row.ready = True
    row.roc_auc = metrics["roc_auc"]
    row.message = (f"{scorer.method_.replace('_', ' ')} model trained on {len(outcome)} "
                   f"{things} ({positives} {yes}, {negatives} {no})")
    row.calibration = {
        "ece": metrics["calibration_error"], "brier": metrics["brier"],
        "pr_auc": metrics["pr_auc"], "positive_rate": metrics["positive_rate"],
        "folds": metrics["folds"], "method": scorer.method_,
        "bins": scorer.reliability_,
        "top_factors": [{"feature": f["feature"], "text": _direction(f["feature"], f["text"])}
                        for f in scorer.top_factors(5)],
        "dropped": scorer.dropped_columns_,
    }
    row.artifact = _artifact(scorer)
    row.save()
    return row


LABELS = {"utm_source": "UTM source", "utm_medium": "UTM medium", "utm_campaign": "campaign",
          "company_size": "company size", "email_kind": "email address",
          "phone_line_type": "phone line", "job_title": "job title",
          "known_company": "known company", "rule_score": "rule score",
          "product_interest": "product asked about", "lead_source": "lead source",
          "stage_probability": "stage probability", "age_days": "days open",
          "days_in_stage": "days in its stage", "line_items": "product lines",
          "close_horizon_days": "days to the expected close"}


def _direction(feature: str, text: str) -> str:
    """The scorer's "company_size: 51-200 raises the chance, (missing) lowers it" in words."""
    label = LABELS.get(feature, feature.replace("_", " "))
    for prefix in (f"{feature}:", f"{feature.replace('_', ' ')}:"):
        if text.startswith(prefix):
            text = f"{label}:{text[len(prefix):]}"
            break
    return text.replace("(missing)", "not given").replace("(other)", "anything else")


def lead_model_train(*, now: dt.datetime | None = None) -> TrainedModel:
    """Train the lead conversion model on the closed leads (or record why not)."""
    table, outcome = lead_training_table()
    return _train(ModelKind.LEAD_SCORE, table, outcome, now)


def deal_model_train(*, now: dt.datetime | None = None) -> TrainedModel:
    """Train the deal win model on the closed deals (or record why not)."""
    table, outcome = deal_training_table()
    return _train(ModelKind.DEAL_WIN, table, outcome, now)


# --- scoring -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Scores:
    probability: np.ndarray
    factors: list[str]  # each row's factors as a JSON array (what ``Lead.ml_factors`` holds)


def _shown(values: np.ndarray, name: str) -> list[Any]:
    """A feature's values as JSON-safe Python values (NaN as None, text as "(text)")."""
    out = [None if v is None or (isinstance(v, float) and v != v) else v
           for v in (x.item() if isinstance(x, np.generic) else x for x in values.tolist())]
    if name == "message":
        return [None if v is None else "(text)" for v in out]
    return out


def explain_rows(scorer: BinaryScorer, table: pd.DataFrame, k: int = FACTORS) -> Scores:
    """Probabilities and the ``k`` strongest factors of every row, vectorised: one pass of
    per-column contributions (log-odds; decision-path attributions for LightGBM, which are
    as fast as a prediction), turned into points of probability on the calibrated scale the
    way the scorer's own ``explain`` does. Factors under half a point are left out."""
    contributions = scorer.contributions(table, exact=False)
    base = contributions.pop("(base)").to_numpy()
    values = contributions.to_numpy()
    raw = values.sum(axis=1) + base
    a, b = 1.0, 0.0
    if scorer.calibrator_ is not None:
        a = float(scorer.calibrator_.coef_[0, 0])
        b = float(scorer.calibrator_.intercept_[0])
    total = raw * a + b
    probability = np.clip(1.0 / (1.0 + np.exp(-np.clip(total, -500, 500))), 0.0, 1.0)
    effects = logit_effects(values * a, total[:, None])
    effects = np.nan_to_num(effects, nan=0.0, posinf=0.0, neginf=0.0)
    names = list(contributions.columns)
    k = min(k, len(names))
    top = np.argpartition(-np.abs(effects), k - 1, axis=1)[:, :k]
    top_effects = np.take_along_axis(effects, top, axis=1)
    ranked = np.argsort(-np.abs(top_effects), axis=1, kind="stable")
    top = np.take_along_axis(top, ranked, axis=1)
    top_effects = np.round(np.take_along_axis(top_effects, ranked, axis=1), 4)
    return Scores(probability=probability, factors=_factor_json(table, names, top, top_effects))


def _codes(values: np.ndarray, name: str) -> tuple[np.ndarray, list[Any]]:
    """A column's values as codes into its distinct shown values (``_shown``); the last of
    them is None, the code of a missing value."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    shown = [*_shown(np.asarray(uniques, dtype=object), name), None]
    return np.where(codes < 0, len(shown) - 1, codes), shown


def _factor_json(table: pd.DataFrame, names: list[str], top: np.ndarray,
                 top_effects: np.ndarray) -> list[str]:
    """Each row's factors as a JSON array of {feature, value, effect, text}, strongest first,
    those under half a point left out — built without a loop over the rows: the text of a
    factor is one of a few hundred (feature, value) heads and a few thousand effects, put
    together with object-array additions."""
    n, k = top.shape
    if n == 0:
        return []
    # The head of a factor: one per (column, distinct value), numbered across the columns.
    heads: list[str] = []
    middles: list[str] = []
    head_of = np.empty((n, len(names)), dtype="int64")
    for j, name in enumerate(names):
        codes, shown = _codes(table[name].to_numpy(), name)
        head_of[:, j] = len(heads) + codes
        for value in shown:
            heads.append('{"feature": ' + json.dumps(name) + ', "value": ' + json.dumps(value)
                         + ', "effect": ')
            middles.append(', "text": ' + json.dumps(describe(name, value))[:-1])
    which = np.take_along_axis(head_of, top, axis=1)
    # The effect as written (repr of the rounded float) and the words its points make.
    distinct, inverse = np.unique(top_effects, return_inverse=True)
    inverse = inverse.reshape(n, k)
    numbers = np.array([repr(e) for e in distinct.tolist()] + [""], dtype=object)
    tails = np.array([json.dumps(": " + effect_words(e))[1:] + "}" for e in distinct.tolist()]
                     + [""], dtype=object)
    head_text = np.array([*heads, ""], dtype=object)
    middle_text = np.array([*middles, ""], dtype=object)
    # Strongest first, so the factors kept (half a point or more) are a prefix of each row.
    kept = ~((top_effects > -0.005) & (top_effects < 0.005))
    blank = len(heads)
    which = np.where(kept, which, blank)
    inverse = np.where(kept, inverse, len(distinct))
    out = np.full(n, "[", dtype=object)
    for slot in range(k):
        part = (head_text[which[:, slot]] + numbers[inverse[:, slot]]
                + middle_text[which[:, slot]] + tails[inverse[:, slot]])
        if slot:
            part = np.where(kept[:, slot], ", " + part, "")
        out = out + part
    return (out + "]").tolist()


def _copy_value(value: Any) -> str:
    """One value in COPY's text format: \\N for NULL, backslash, tab and line ends escaped."""
    if value is None:
        return "\\N"
    if isinstance(value, str):
        return (value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")
                .replace("\r", "\\r"))
    return repr(value) if isinstance(value, float) else str(value)


def _copy_text(rows: Sequence[tuple]) -> str:
    """Rows as COPY text (tab between values, a line each): a few times quicker than
    psycopg's ``write_row``, which adapts value by value."""
    return "".join("\t".join(map(_copy_value, row)) + "\n" for row in rows)


def _bulk_write(table: str, columns: Sequence[str], casts: Sequence[str],
                rows: list[tuple]) -> None:
    """``UPDATE table SET columns = … WHERE id = …`` for many rows at once; each row is
    (id, *values). The rows go into a temporary table first (COPY on PostgreSQL,
    ``executemany`` on SQLite), then one ``UPDATE … FROM`` joins it on the id (SQLite has
    had ``UPDATE … FROM`` since 3.33). Run it inside a transaction."""
    if not rows:
        return
    quote = connection.ops.quote_name
    scratch = quote(f"scoring_{table}")
    names = [f"c{n}" for n in range(len(columns))]
    sets = ", ".join(f"{quote(c)} = v.{name}" for c, name in zip(columns, names, strict=True))
    # Only our own table and column names go in the text; every value is bound or copied.
    update = (f"UPDATE {quote(table)} SET {sets} FROM {scratch} AS v "  # noqa: S608
              f"WHERE {quote(table)}.id = v.id")
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {scratch}")
        if connection.vendor == "postgresql":
            typed = ", ".join(f"{name} {cast}" for name, cast in zip(names, casts, strict=True))
            cursor.execute(f"CREATE TEMP TABLE {scratch} (id bigint PRIMARY KEY, {typed})")
            with cursor.cursor.copy(f"COPY {scratch} (id, {', '.join(names)}) "
                                    "FROM STDIN") as copy:
                for start in range(0, len(rows), 10_000):
                    copy.write(_copy_text(rows[start:start + 10_000]))
            cursor.execute(f"ANALYZE {scratch}")
        else:
            cursor.execute(f"CREATE TEMP TABLE {scratch} (id INTEGER PRIMARY KEY, "
                           f"{', '.join(names)})")
            marks = ", ".join(["%s"] * (len(columns) + 1))
            cursor.executemany(f"INSERT INTO {scratch} VALUES ({marks})",  # noqa: S608
                               rows)
            # Without statistics SQLite walks the whole lead table and looks each id up in
            # the batch; with them it walks the batch and looks the leads up by id.
            cursor.execute(f"ANALYZE temp.{scratch}")
        cursor.execute(update)
        cursor.execute(f"DROP TABLE {scratch}")


def _open_leads(ids: Sequence[int] | None = None):
    queryset = Lead.objects.filter(deleted_at__isnull=True, status__in=OPEN_STATUSES)
    return queryset.filter(id__in=list(ids)) if ids is not None else queryset


def leads_ml_score(*, lead_ids: Sequence[int] | None = None,
                   now: dt.datetime | None = None) -> int:
    """Give every open lead (or just ``lead_ids``) its conversion probability and top factors
    from the current model; returns how many were written (0 when no model is ready)."""
    model = current_model(ModelKind.LEAD_SCORE)
    if model is None:
        return 0
    scorer = _scorer(model)
    now = now or timezone.now()
    stamp = connection.ops.adapt_datetimefield_value(now)
    written = 0
    for frame in _lead_rows(_open_leads(lead_ids), LEAD_FIELDS):
        scores = explain_rows(scorer, lead_features(frame))
        rows = list(zip(frame["id"].tolist(), scores.probability.tolist(), scores.factors,
                        [stamp] * len(frame), strict=True))
        with transaction.atomic():
            _bulk_write(Lead._meta.db_table, ("ml_probability", "ml_factors", "ml_scored_at"),
                        ("double precision", "jsonb", "timestamptz"), rows)
        written += len(rows)
    return written


def deals_win_score(*, deal_ids: Sequence[int] | None = None,
                    now: dt.datetime | None = None) -> int:
    """Give every open deal (or just ``deal_ids``) its learned win probability; returns how
    many were written (0 when no model is ready)."""
    model = current_model(ModelKind.DEAL_WIN)
    if model is None:
        return 0
    scorer = _scorer(model)
    moment = (now or timezone.now()).timestamp()
    stages, pipelines, owners = _deal_lookups()
    queryset = Deal.objects.filter(deleted_at__isnull=True, stage__is_won=False,
                                   stage__is_lost=False)
    if deal_ids is not None:
        queryset = queryset.filter(id__in=list(deal_ids))
    written = 0
    for frame in _deal_rows(queryset):
        table = deal_features(frame, np.full(len(frame), moment), stages, pipelines, owners)
        probability = np.clip(scorer.predict_proba(table)[:, 1], 0.0, 1.0)
        rows = [(int(i), float(p)) for i, p in zip(frame["id"].to_numpy(), probability,
                                                   strict=True)]
        with transaction.atomic():
            _bulk_write(Deal._meta.db_table, ("win_probability",), ("double precision",), rows)
        written += len(rows)
    return written


def retrain_and_score(*, now: dt.datetime | None = None) -> dict[str, Any]:
    """The nightly job: train both models, then score every open lead and deal."""
    lead_model = lead_model_train(now=now)
    deal_model = deal_model_train(now=now)
    return {"lead_model": lead_model.ready, "lead_message": lead_model.message,
            "deal_model": deal_model.ready, "deal_message": deal_model.message,
            "leads_scored": leads_ml_score(now=now), "deals_scored": deals_win_score(now=now)}


def models_train_now(*, actor: Any) -> dict[str, Any]:
    """The "Train now" button on Settings → Lead scoring: what the nightly job does, at once."""
    require(actor, "settings.change", message="only the owner role trains the lead models")
    return retrain_and_score()


def score_new_leads(rows: Sequence[Any]) -> None:
    """Subscriber of lead.captured / lead.resubmitted / lead.updated: once the write commits,
    score those leads with the current model (nothing happens until a model is ready)."""
    ids = sorted({row.entity_id for row in rows if row.entity_type == "lead"})
    if ids and current_model(ModelKind.LEAD_SCORE) is not None:
        leads_ml_score(lead_ids=ids)


__all__ = ["current_model", "deal_model_train", "deals_win_score", "decline_message",
           "describe", "effect_words", "explain_rows", "lead_features", "lead_model_train",
           "lead_training_table", "leads_ml_score", "models_train_now", "retrain_and_score",
           "score_new_leads"]
