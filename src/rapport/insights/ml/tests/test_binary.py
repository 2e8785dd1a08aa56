import json

import numpy as np
import pandas as pd
import pytest

from rapport.insights.ml.binary import BinaryScorer
from rapport.insights.ml.errors import DataValidationError, InsufficientDataError
from rapport.insights.ml.evaluate import binary as evaluate_binary
from rapport.insights.ml.persistence import load_model, save_model


def leads(n: int = 400, seed: int = 0) -> tuple[pd.DataFrame, pd.Series]:
    """Leads whose conversion depends on visits, source and a note's wording."""
    rng = np.random.default_rng(seed)
    visits = rng.poisson(3, n).astype(float)
    source = rng.choice(["ads", "referral", "fair"], n)
    budget = rng.normal(1000, 300, n).round(2).astype(str).astype(object)
    budget[:7] = "ask later"  # text in a numeric column
    words = rng.choice(["urgent need quote asap", "just looking around today"], n)
    logit = -1.5 + 0.5 * visits + (source == "referral") * 1.2 + (words[:n] == words[0]) * 0.3
    converted = rng.random(n) < 1 / (1 + np.exp(-logit))
    frame = pd.DataFrame(
        {
            "lead_id": [f"L{i:05d}" for i in range(n)],
            "visits": visits,
            "source": source,
            "budget": budget,
            "note": [f"{w} number {i}" for i, w in enumerate(words)],
            "created": pd.date_range("2024-01-01", periods=n, freq="D").astype(str),
            "empty": [None] * n,
            "same": ["x"] * n,
        }
    )
    return frame, pd.Series(np.where(converted, "won", "lost"))


@pytest.fixture(scope="module")
def fitted() -> tuple[BinaryScorer, pd.DataFrame, pd.Series]:
    frame, y = leads()
    return BinaryScorer(random_state=0, effect_unit="chance").fit(frame, y), frame, y


def test_fit_types_columns_and_drops_useless_ones(fitted):
    scorer, _, _ = fitted
    kinds = {c.name: c.kind for c in scorer.table_.columns}
    assert kinds == {
        "visits": "numeric",
        "source": "categorical",
        "budget": "numeric",
        "note": "text",
        "created": "date",
    }
    assert scorer.dropped_columns_ == {
        "lead_id": "identifier (different in every row)",
        "empty": "all values missing",
        "same": "same value in every row",
    }
    assert scorer.positive_label_ == "won"


def test_few_outcomes_choose_between_naive_bayes_and_logistic(fitted):
    scorer, _, y = fitted
    minority = min((y == "won").sum(), (y == "lost").sum())
    assert minority < 200
    assert set(scorer.cv_scores_) == {"naive_bayes", "logistic"}
    assert scorer.method_ == max(scorer.cv_scores_, key=scorer.cv_scores_.get)
    assert scorer.cv_metrics_["roc_auc"] > 0.7


def test_many_outcomes_consider_lightgbm():
    frame, y = leads(1200, seed=1)
    scorer = BinaryScorer(random_state=0, cv=3).fit(frame, y)
    assert set(scorer.cv_scores_) == {"logistic", "lightgbm"}
    assert scorer.summary()["method"] in {"logistic", "lightgbm"}


@pytest.mark.parametrize("method", ["naive_bayes", "logistic", "lightgbm"])
def test_contributions_add_up_to_the_raw_score(method):
    frame, y = leads(500)
    scorer = BinaryScorer(method=method, random_state=0, cv=3).fit(frame, y)
    contributions = scorer.contributions(frame.head(20))
    raw = scorer._raw(method, scorer.model_, scorer.table_.dense(frame.head(20)))
    np.testing.assert_allclose(contributions.sum(axis=1).to_numpy(), raw, rtol=1e-6, atol=1e-6)
    assert list(contributions.columns) == [*scorer.feature_names_in_, "(base)"]


def test_fast_path_contributions_add_up_and_agree_with_shap_on_the_strong_columns():
    """``exact=False`` (decision-path attributions for LightGBM) sums to the same raw score
    and ranks the columns that matter the way SHAP does."""
    frame, y = leads(1200, seed=2)
    scorer = BinaryScorer(method="lightgbm", random_state=0, cv=3).fit(frame, y)
    shap = scorer.contributions(frame)
    path = scorer.contributions(frame, exact=False)
    raw = scorer._raw("lightgbm", scorer.model_, scorer.table_.dense(frame))
    np.testing.assert_allclose(path.sum(axis=1).to_numpy(), raw, rtol=1e-6, atol=1e-6)
    assert list(path.columns) == list(shap.columns)
    columns = [c for c in shap.columns if c != "(base)"]
    strongest = shap[columns].abs().mean().sort_values(ascending=False).index[:2]
    assert set(path[columns].abs().mean().sort_values(ascending=False).index[:2]) == \
        set(strongest)
    # The same model with a linear method: the option changes nothing.
    linear = BinaryScorer(method="logistic", random_state=0, cv=3).fit(frame, y)
    pd.testing.assert_frame_equal(linear.contributions(frame.head(30)),
                                  linear.contributions(frame.head(30), exact=False))


def test_out_of_fold_calibration_is_reported(fitted):
    scorer, _, y = fitted
    assert 0 < scorer.cv_metrics_["brier"] < 0.25
    assert sum(b["count"] for b in scorer.reliability_) == len(y)
    for b in scorer.reliability_:
        assert b["low"] <= b["predicted"] <= b["high"] and 0 <= b["observed"] <= 1


def test_predictions_are_finite_probabilities_even_on_bad_rows(fitted):
    scorer, frame, _ = fitted
    bad = frame.head(4).copy()
    bad["source"] = ["billboard", None, "ads", "referral"]  # unseen category, missing
    bad["budget"] = ["lots", "", None, "12.5"]
    bad["visits"] = [np.nan, np.inf, -3.0, 2.0]
    bad["created"] = ["not a date", None, "2030-01-01", "2024-02-02"]
    p = scorer.predict_proba(bad)
    assert p.shape == (4, 2)
    assert np.isfinite(p).all()
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    assert set(scorer.predict(bad)) <= {"won", "lost"}
    assert list(scorer.classes_) == ["lost", "won"]


def test_explain_names_top_factors_in_words(fitted):
    scorer, frame, _ = fitted
    explained = scorer.explain(frame.head(3), k=2)
    assert len(explained) == 3
    first = explained[0]
    assert first.subject == frame.index[0]
    assert first.model_version == scorer.model_version_
    assert len(first.factors) == 2
    assert abs(first.factors[0].effect) >= abs(first.factors[1].effect)
    assert first.factors[0].text.endswith("% chance")
    assert first.score == pytest.approx(scorer.predict_proba(frame.head(1))[0, 1])
    json.dumps([e.as_dict() for e in explained])


def test_summary_reports_size_date_metrics_method(fitted):
    scorer, _, y = fitted
    summary = scorer.summary()
    assert summary["n_train"] == len(y)
    assert summary["n_positive"] == int((y == "won").sum())
    assert set(summary["metrics"]) == {
        "roc_auc",
        "pr_auc",
        "calibration_error",
        "brier",
        "positive_rate",
        "folds",
    }
    assert summary["trained_at"].startswith("20")
    assert summary["top_factors"][0]["feature"] in {"visits", "source"}


def test_same_random_state_same_model():
    frame, y = leads(300, seed=3)
    a = BinaryScorer(random_state=7).fit(frame, y).predict_proba(frame)
    b = BinaryScorer(random_state=7).fit(frame, y).predict_proba(frame)
    np.testing.assert_array_equal(a, b)


def test_refuses_too_few_outcomes_with_the_counts():
    frame, y = leads(400)
    y = pd.Series(np.where(np.arange(400) < 12, "won", "lost"))
    scorer = BinaryScorer(positive_name="converted", negative_name="lost", entity_name="leads")
    with pytest.raises(InsufficientDataError) as error:
        scorer.fit(frame, y)
    assert str(error.value) == "needs at least 30 converted and 30 lost leads; has 12 converted"


def test_refuses_one_class():
    frame, _ = leads(100)
    with pytest.raises(InsufficientDataError, match="only one outcome present: all 100 rows"):
        BinaryScorer().fit(frame, pd.Series(["lost"] * 100))


def test_rejects_three_outcomes_and_missing_columns(fitted):
    frame, _ = leads(90)
    with pytest.raises(DataValidationError, match="two values"):
        BinaryScorer().fit(frame, pd.Series(["a", "b", "c"] * 30))
    scorer, frame, _ = fitted
    with pytest.raises(DataValidationError, match="visits"):
        scorer.predict_proba(frame.drop(columns=["visits"]))


def test_rows_without_outcome_are_left_out_and_counted():
    frame, y = leads(300)
    y = y.astype(object)
    y.iloc[:10] = None
    scorer = BinaryScorer(cv=3).fit(frame, y)
    assert scorer.rows_without_outcome_ == 10
    assert scorer.n_train_ == 290


def test_save_and_load_keep_predictions(tmp_path, fitted):
    scorer, frame, _ = fitted
    path = save_model(scorer, tmp_path / "scorer.joblib")
    loaded = load_model(path)
    np.testing.assert_array_equal(loaded.predict_proba(frame), scorer.predict_proba(frame))
    assert loaded.saved_with_version_ == "0.1.0"


def test_cli_json(tmp_path, capsys, insights_cli):
    cli_main = insights_cli
    frame, y = leads(300)
    frame["outcome"] = y
    path = tmp_path / "leads.csv"
    frame.to_csv(path, index=False)
    code = cli_main(
        ["evaluate", "binary", str(path), "--target", "outcome", "--drop", "note", "--json"]
    )
    assert code == 0
    figures = json.loads(capsys.readouterr().out)
    assert {"roc_auc", "pr_auc", "method", "calibration_error", "top_factors"} <= set(figures)
    assert 0.5 < figures["roc_auc"] <= 1.0
    assert figures["method"] in {"naive_bayes", "logistic"}


def test_cli_errors_are_clear(tmp_path, capsys, insights_cli):
    cli_main = insights_cli
    frame, y = leads(100)
    frame["outcome"] = y
    path = tmp_path / "leads.csv"
    frame.to_csv(path, index=False)
    assert cli_main(["evaluate", "binary", str(path), "--target", "nope"]) == 2
    assert "column(s) not in the file: ['nope']" in capsys.readouterr().err
    assert cli_main(["evaluate", "binary", str(path), "--target", "same"]) == 2
    assert "only one outcome present" in capsys.readouterr().err
    assert cli_main(["evaluate", "binary", str(tmp_path / "x.csv"), "--target", "a"]) == 2
    assert "no such file" in capsys.readouterr().err


def test_benchmark_rows_quick(datasets_dir):
    rows = evaluate_binary.benchmark_rows(datasets_dir, quick=True)
    assert [r["metric"] for r in rows] == [
        "ROC AUC, 5-fold stratified CV",
        "PR AUC / calibration error",
        "seconds to score all rows (wall / CPU)",
    ]
    assert float(rows[0]["figure"]) > 0.78
