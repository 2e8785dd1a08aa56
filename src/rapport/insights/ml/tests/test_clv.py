import json

import numpy as np
import pandas as pd
import pytest

from rapport.insights.ml.clv import LifetimeValue, bgnbd_log_likelihood, rfm_summary
from rapport.insights.ml.errors import DataValidationError, InsufficientDataError
from rapport.insights.ml.evaluate import clv as evaluate_clv
from rapport.insights.ml.persistence import load_model, save_model


def purchases(n_customers: int = 300, seed: int = 0) -> pd.DataFrame:
    """Customers buying at their own rate until they silently leave."""
    rng = np.random.default_rng(seed)
    rows = []
    start = pd.Timestamp("2024-01-01")
    for c in range(n_customers):
        day = int(rng.integers(0, 120))
        rate = rng.gamma(0.8, 1 / 20)  # orders per day
        leave = rng.random() * 0.3
        spend = rng.gamma(4, 10)
        while day < 400:
            rows.append(
                (f"C{c}", start + pd.Timedelta(days=day), round(spend * rng.gamma(5, 0.2), 2))
            )
            if rng.random() < leave:
                break
            day += int(rng.exponential(1 / max(rate, 1e-3))) + 1
    return pd.DataFrame(rows, columns=["customer", "when", "amount"])


def test_rfm_summary_counts_days_skips_returns_and_future():
    frame = pd.DataFrame(
        {
            "customer": ["a", "a", "a", "a", "b", "a"],
            "when": [
                "2024-01-01",
                "2024-01-01",
                "2024-01-15",
                "2024-01-29",
                "2024-01-08",
                "2024-03-01",
            ],
            "amount": [10.0, 5.0, 20.0, -20.0, 7.0, 99.0],
        }
    )
    summary = rfm_summary(
        frame,
        customer="customer",
        date="when",
        value="amount",
        observation_end="2024-02-05",
        unit="D",
    )
    assert summary.loc["a"].tolist() == [1, 14.0, 35.0, 20.0]
    assert summary.loc["b"].tolist() == [0, 0.0, 28.0, 0.0]
    assert summary.attrs == {"future_rows": 1, "return_rows": 1, "observation_end": "2024-02-05"}


def test_rfm_summary_rejects_bad_columns():
    frame = pd.DataFrame({"customer": ["a"] * 3, "when": ["x", "y", "z"], "amount": [1, 2, 3]})
    with pytest.raises(DataValidationError, match="'when' must hold dates"):
        rfm_summary(frame, customer="customer", date="when")
    with pytest.raises(DataValidationError, match=r"\['nope'\]"):
        rfm_summary(frame, customer="nope", date="when")
    frame["when"] = "2024-01-01"
    frame["amount"] = ["cheap", "dear", "free"]
    with pytest.raises(DataValidationError, match="'amount' must hold numbers"):
        rfm_summary(frame, customer="customer", date="when", value="amount")


@pytest.fixture(scope="module")
def fitted():
    summary = rfm_summary(
        purchases(), customer="customer", date="when", value="amount", observation_end="2024-12-31"
    )
    return LifetimeValue().fit(summary), summary


def test_fit_predict_contract(fitted):
    model, summary = fitted
    assert set(model.params_) == {"r", "alpha", "a", "b"}
    assert set(model.spend_params_) == {"p", "q", "v"}
    table = model.predict(summary, days=90)
    assert list(table.columns) == ["expected_orders_90d", "probability_alive", "expected_value_12m"]
    assert np.isfinite(table.to_numpy()).all()
    assert (table["probability_alive"].between(0, 1)).all()
    assert (table["expected_orders_90d"] >= 0).all()
    # More time, more expected orders.
    assert (model.expected_purchases(summary, 180) >= table["expected_orders_90d"]).all()
    assert model.summary()["n_customers"] == len(summary)


def test_explain_in_words(fitted):
    model, summary = fitted
    (first,) = model.explain(summary.head(1))
    assert first.subject == summary.index[0]
    assert first.factors[1].text.startswith("no order in ")
    assert "chance still a customer" in first.factors[1].text
    assert first.model_version == model.model_version_
    assert first.score == pytest.approx(model.expected_purchases(summary.head(1), 90)[0])
    assert set(first.details) == {"probability_alive", "expected_value_12m"}
    json.dumps(first.as_dict())


def test_refuses_when_every_customer_ordered_once():
    frame = pd.DataFrame({"customer": range(100), "when": "2024-01-05", "amount": 3.0})
    summary = rfm_summary(
        frame, customer="customer", date="when", value="amount", observation_end="2024-03-01"
    )
    with pytest.raises(InsufficientDataError) as error:
        LifetimeValue().fit(summary)
    assert str(error.value) == (
        "needs at least 50 customers, 20 of them with a repeat purchase; has 100 customers, "
        "0 with a repeat purchase (every customer ordered once)"
    )


def test_rejects_inconsistent_summary():
    bad = pd.DataFrame({"frequency": [1, 0], "recency": [5.0, 0.0], "T": [3.0, 2.0]})
    with pytest.raises(DataValidationError, match="recency is larger than T"):
        LifetimeValue().fit(bad)
    with pytest.raises(DataValidationError, match="non-negative numbers"):
        LifetimeValue().fit(bad.assign(T=[np.nan, 2.0]))


def test_same_data_same_fit():
    summary = rfm_summary(purchases(120, seed=4), customer="customer", date="when")
    a = LifetimeValue().fit(summary).params_
    b = LifetimeValue().fit(summary).params_
    assert a == b


def test_score_is_the_mean_log_likelihood(fitted):
    model, summary = fitted
    params = [model.params_[k] for k in ("r", "alpha", "a", "b")]
    total = bgnbd_log_likelihood(params, summary["frequency"], summary["recency"], summary["T"])
    assert model.score(summary) == pytest.approx(total / len(summary))
    assert model.score(summary) < 0


def test_save_and_load(tmp_path, fitted):
    model, summary = fitted
    loaded = load_model(save_model(model, tmp_path / "clv.joblib"))
    pd.testing.assert_frame_equal(loaded.predict(summary), model.predict(summary))


def test_cdnow_parameters_match_the_paper(datasets_dir):
    summary = pd.read_csv(datasets_dir / "cdnow" / "cdnow_customers_summary.csv")
    model = LifetimeValue().fit(summary)
    for name, value in {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}.items():
        assert model.params_[name] == pytest.approx(value, abs=0.005), name
    assert model.log_likelihood_ == pytest.approx(-9582.4, abs=0.1)
    assert (
        bgnbd_log_likelihood(
            [0.243, 4.414, 0.793, 2.426], summary["frequency"], summary["recency"], summary["T"]
        )
        < model.log_likelihood_
    )
    hardie = pd.DataFrame({"frequency": [2], "recency": [30.43], "T": [38.86]})
    assert model.expected_purchases(hardie, 39 * 7)[0] == pytest.approx(1.226, abs=0.001)


def test_benchmark_rows_quick(datasets_dir):
    rows = evaluate_clv.benchmark_rows(datasets_dir, quick=True)
    assert [r["task"] for r in rows] == [
        "BG/NBD parameters",
        "BG/NBD fit",
        "BG/NBD fit speed",
        "repeat purchases, holdout weeks 40-78",
        "Gamma-Gamma spend",
    ]
    assert rows[1]["figure"] == "-9582.4"
    predicted, actual = (float(v) for v in rows[3]["figure"].split(" / "))
    assert abs(predicted - actual) / actual < 0.3


def test_cli_json(tmp_path, capsys, insights_cli, datasets_dir):
    path = tmp_path / "cdnow.csv"
    evaluate_clv.read_cdnow_sample(datasets_dir).to_csv(path, index=False)
    code = insights_cli(
        [
            "evaluate",
            "clv",
            str(path),
            "--customer",
            "customer_id",
            "--date",
            "date",
            "--value",
            "value",
            "--calibration-end",
            "1997-09-30",
            "--json",
        ]
    )
    assert code == 0
    figures = json.loads(capsys.readouterr().out)
    assert figures["log_likelihood"] == pytest.approx(-9582.4, abs=0.1)
    assert figures["r"] == pytest.approx(0.243, abs=0.005)
    assert {"alpha", "a", "b", "holdout_predicted_purchases", "holdout_actual_purchases"} <= set(
        figures
    )
    assert figures["holdout_actual_purchases"] == 1882.0


def test_cli_errors(tmp_path, capsys, insights_cli):
    path = tmp_path / "t.csv"
    purchases(60).to_csv(path, index=False)
    args = ["evaluate", "clv", str(path), "--customer", "customer", "--date", "when"]
    assert insights_cli([*args, "--calibration-end", "soon"]) == 2
    assert "is not a date" in capsys.readouterr().err
    assert insights_cli([*args, "--calibration-end", "2030-01-01"]) == 2
    assert "no purchases after the calibration end" in capsys.readouterr().err
    assert insights_cli([*args[:-2], "--date", "amount", "--calibration-end", "2024-06-01"]) == 2
    assert "'amount' must hold dates; it holds numbers" in capsys.readouterr().err


def test_yyyymmdd_numbers_read_as_dates():
    frame = pd.DataFrame({"customer": ["a", "a"], "when": [19970101, 19970115]})
    summary = rfm_summary(
        frame, customer="customer", date="when", observation_end="1997-01-29", unit="D"
    )
    assert summary.loc["a"].tolist() == [1, 14.0, 28.0]
