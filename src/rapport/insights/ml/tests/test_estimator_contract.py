"""The estimator contract every model in ``insights.ml`` keeps (DESIGN.md rule 7).

Every estimator of the package is listed in ``CASES`` with small data of its own kind; a test
fails when a class with a ``fit`` is added to the package without being listed.

Which of scikit-learn's estimator checks run, and why. ``parametrize_with_checks`` feeds every
estimator numeric matrices from ``make_blobs``; these models read data frames of mixed columns,
lists of texts, order lines, per-customer summaries and panels of time series, so the checks
that fit on such matrices would only test that a text classifier refuses numbers. The checks
that need no data run as scikit-learn wrote them, each only where it can fail:

- ``check_estimator_cloneable``, ``check_estimator_repr``: ``clone`` and ``repr`` work;
- ``check_no_attributes_set_in_init``, ``check_parameters_default_constructible``,
  ``check_do_not_raise_errors_in_init_or_set_params``: ``__init__`` only stores its
  parameters (no validation, no conversion, immutable defaults);
- ``check_get_params_invariance``, ``check_set_params``: parameters round-trip;
- ``check_estimator_tags_renamed``, ``check_valid_tag_types``: scikit-learn tags are sound;
- ``check_mixin_order`` (estimators with a scikit-learn mixin): the mixin comes first;
- ``check_estimators_unfitted`` (estimators with ``predict`` / ``predict_proba``) and
  ``check_transformers_unfitted`` (transformers): an unfitted model raises ``NotFittedError``
  before it looks at its input.

The checks that must fit are rewritten here on each model's own data, with the same
assertions as scikit-learn's: ``fit`` returns self and neither adds nor changes public
attributes nor mutates its parameters (``check_estimators_fit_returns_self``,
``check_dont_overwrite_parameters``, ``check_estimators_overwrite_params``); a clone of a fitted
model is unfitted with the same parameters and refits to the same predictions
(``check_fit_idempotent``); every method that reads learned state raises ``NotFittedError``
before ``fit``; a different ``random_state`` changes the fitted model wherever one is accepted;
``save_model``/``load_model`` keep predictions and the model version; every ``explain``
returns :class:`~rapport.insights.ml.explain.Explanation` stamped with the model version.
"""

from __future__ import annotations

import copy
import functools
import importlib
import inspect
import itertools
import json
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.base import (
    BaseEstimator,
    ClassifierMixin,
    ClusterMixin,
    DensityMixin,
    RegressorMixin,
    TransformerMixin,
    clone,
)
from sklearn.utils import estimator_checks as sk
from sklearn.utils.validation import check_is_fitted

import rapport.insights.ml as ml_package
from rapport import __version__
from rapport.insights.ml.bandit import ThompsonBandit
from rapport.insights.ml.base import VersionedEstimator
from rapport.insights.ml.binary import BinaryScorer, _TextScore
from rapport.insights.ml.churn import ChurnModel
from rapport.insights.ml.clv import LifetimeValue, rfm_summary
from rapport.insights.ml.errors import NotFittedError
from rapport.insights.ml.explain import Explanation, Factor
from rapport.insights.ml.features import order_features
from rapport.insights.ml.forecast import Forecaster
from rapport.insights.ml.persistence import load_model, save_model
from rapport.insights.ml.recommender import ItemRecommender
from rapport.insights.ml.retrieval import HybridRetriever, Passage
from rapport.insights.ml.segmentation import BehaviourClusters
from rapport.insights.ml.sentiment import SentimentAnalyzer
from rapport.insights.ml.tests.orders_data import shop_events, shop_orders
from rapport.insights.ml.text import TextClassifier

# --------------------------------------------------------------------------- data, built once


@functools.cache
def leads() -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(0)
    visits = rng.poisson(3, 240).astype(float)
    source = rng.choice(["ads", "referral", "fair"], 240)
    logit = -1.5 + 0.5 * visits + (source == "referral") * 1.2
    won = rng.random(240) < 1 / (1 + np.exp(-logit))
    return pd.DataFrame({"visits": visits, "source": source}), pd.Series(
        np.where(won, "won", "lost")
    )


@functools.cache
def notes() -> tuple[np.ndarray, np.ndarray]:
    """Lead notes whose wording says whether the lead converted."""
    hot = ["urgent need a quote", "ready to sign this week", "send the contract"]
    cold = ["just looking around", "maybe next year", "no budget right now"]
    tails = ["", " thanks", " regards", " call me", " by email", " asap"]
    texts, y = [], []
    for phrases, label in ((hot, 1), (cold, 0)):
        for phrase, tail in itertools.product(phrases, tails):
            texts.append(phrase + tail)
            y.append(label)
    return np.asarray(texts, dtype=object), np.asarray(y)


@functools.cache
def tickets() -> tuple[list[str], list[str]]:
    intents = {
        "billing": ["I was charged twice", "refund my payment", "wrong invoice amount"],
        "delivery": ["my parcel has not arrived", "where is my package", "delivery is late"],
        "login": ["cannot log in", "reset my password", "my account is locked"],
    }
    texts, labels = [], []
    for label, phrases in intents.items():
        for phrase, tail in itertools.product(phrases, ["", " please", " today", " help"]):
            texts.append(phrase + tail)
            labels.append(label)
    return texts, labels


@functools.cache
def feedback() -> tuple[list[str], list[str]]:
    """Feedback whose sentiment lies in words VADER has no opinion on (delivery speed)."""
    good = ["arrived the next morning", "came a day early", "delivered within hours"]
    bad = ["arrived three weeks later", "parcel went missing", "still waiting after a month"]
    texts, labels = [], []
    for phrases, label in ((good, "positive"), (bad, "negative")):
        for phrase, tail in itertools.product(phrases, ["", " order 17", " to Lyon", " again"]):
            texts.append(phrase + tail)
            labels.append(label)
    return texts, labels


@functools.cache
def orders() -> tuple[pd.DataFrame, pd.DataFrame]:
    frame = shop_orders(160)
    return frame, shop_events(frame)


@functools.cache
def customers() -> pd.DataFrame:
    frame, _ = orders()
    return order_features(frame, frame["date"].max())


@functools.cache
def purchase_summary() -> pd.DataFrame:
    frame, _ = orders()
    frame = frame.assign(value=frame["quantity"] * frame["unit_price"])
    return rfm_summary(frame, customer="customer_id", date="date", value="value")


@functools.cache
def panel() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    t = np.arange(30)
    series = {
        "trend": 100 + 2.0 * t + rng.normal(0, 3, t.size),
        "sparse": rng.poisson(0.3, t.size) * 5.0,
        "short": np.array([3.0, 5.0, 4.0]),
    }
    return pd.concat(
        [
            pd.DataFrame({"unique_id": k, "ds": np.arange(v.size), "y": v})
            for k, v in series.items()
        ],
        ignore_index=True,
    )


# --- encoder: a small knowledge base for the retriever ---
@functools.cache
def articles() -> list[Passage]:
    return [
        Passage("refunds", "Ask for a refund within 30 days. The money is back in a week.",
                "Refunds"),
        Passage("password", "Click Forgot password to reset it. The link works for an hour.",
                "Passwords"),
        Passage("hours", "We are open Monday to Saturday, 9 am to 6 pm.", "Opening hours"),
    ]


KB_QUESTIONS = ["how do I get my money back", "reset my password", "are you open on sunday"]


def _kb_output(model) -> list:
    return [[(h.id, round(h.score, 6), h.answerable) for h in model.search(q)]
            for q in KB_QUESTIONS]


# --------------------------------------------------------------------------- the estimators


@dataclass(frozen=True)
class Case:
    """How to fit one estimator on its own kind of data and what to look at afterwards."""

    make: Callable[[], BaseEstimator]  # unfitted, with the parameters used here
    fit: Callable[[BaseEstimator], object]  # calls the estimator's fit, returns what fit returns
    output: Callable[[BaseEstimator], object]  # what the fitted model predicts, for comparing
    # Every public method that reads learned state, called with valid arguments.
    needs_fit: dict[str, Callable[[BaseEstimator], object]]
    seed_witness: Callable[[BaseEstimator], object] | None = None  # changes with random_state
    explain: Callable[[BaseEstimator], list] | None = None
    fit_free: frozenset[str] = field(default_factory=frozenset)  # public methods needing no fit


def _bandit_draws(model: ThompsonBandit) -> list:
    return [model.next_variant() for _ in range(30)]


CASES: dict[type, Case] = {
    BinaryScorer: Case(
        make=lambda: BinaryScorer(min_per_class=20, cv=3, random_state=0),
        fit=lambda m: m.fit(*leads()),
        output=lambda m: m.predict_proba(leads()[0]),
        needs_fit={
            "predict_proba": lambda m: m.predict_proba(leads()[0]),
            "predict": lambda m: m.predict(leads()[0]),
            "contributions": lambda m: m.contributions(leads()[0]),
            "explain": lambda m: m.explain(leads()[0]),
            "top_factors": lambda m: m.top_factors(),
            "summary": lambda m: m.summary(),
        },
        seed_witness=lambda m: m.cv_scores_,
        explain=lambda m: m.explain(leads()[0].head(3)),
    ),
    _TextScore: Case(
        make=lambda: _TextScore(random_state=0),
        fit=lambda m: m.fit(*notes()),
        output=lambda m: m.transform(notes()[0]),
        needs_fit={"transform": lambda m: m.transform(notes()[0])},
        seed_witness=lambda m: m.oof_,
        fit_free=frozenset({"fit_transform"}),
    ),
    ChurnModel: Case(
        make=lambda: ChurnModel(min_per_class=10, cv=3, random_state=0),
        fit=lambda m: m.fit(*orders()),
        output=lambda m: m.predict_proba(*orders()).to_numpy(),
        needs_fit={
            "predict_proba": lambda m: m.predict_proba(*orders()),
            "explain": lambda m: m.explain(*orders()),
            "summary": lambda m: m.summary(),
        },
        seed_witness=lambda m: m.scorer_.cv_scores_,
        explain=lambda m: m.explain(*orders()),
        fit_free=frozenset({"training_table", "features"}),
    ),
    LifetimeValue: Case(
        make=lambda: LifetimeValue(),
        fit=lambda m: m.fit(purchase_summary()),
        output=lambda m: m.predict(purchase_summary()).to_numpy(),
        needs_fit={
            "expected_purchases": lambda m: m.expected_purchases(purchase_summary(), 30),
            "probability_alive": lambda m: m.probability_alive(purchase_summary()),
            "expected_order_value": lambda m: m.expected_order_value(purchase_summary()),
            "expected_value": lambda m: m.expected_value(purchase_summary()),
            "predict": lambda m: m.predict(purchase_summary()),
            "explain": lambda m: m.explain(purchase_summary()),
            "score": lambda m: m.score(purchase_summary()),
            "summary": lambda m: m.summary(),
        },
        explain=lambda m: m.explain(purchase_summary().head(3)),
    ),
    BehaviourClusters: Case(
        make=lambda: BehaviourClusters(k_max=4, sample_size=60, random_state=0),
        fit=lambda m: m.fit(customers()),
        output=lambda m: m.predict(customers()),
        needs_fit={
            "predict": lambda m: m.predict(customers()),
            "summary": lambda m: m.summary(),
        },
        seed_witness=lambda m: m.silhouettes_,
    ),
    ItemRecommender: Case(
        make=lambda: ItemRecommender(),
        fit=lambda m: m.fit(orders()[0]),
        output=lambda m: [m.also_bought(p) for p in ("bread", "tea")] + [m.next_product("C0001")],
        needs_fit={
            "also_bought": lambda m: m.also_bought("bread"),
            "popular": lambda m: m.popular(),
            "next_product": lambda m: m.next_product("C0001"),
        },
    ),
    ThompsonBandit: Case(
        make=lambda: ThompsonBandit(["A", "B", "C"], random_state=0),
        fit=lambda m: m.fit([("A", 3, 40), ("B", 5, 38)]),
        output=_bandit_draws,
        needs_fit={
            "next_variant": lambda m: m.next_variant(),
            "probability_best": lambda m: m.probability_best(),
            "summary": lambda m: m.summary(),
        },
        seed_witness=_bandit_draws,
        fit_free=frozenset({"update"}),  # partial_fit: the first call starts from the prior
    ),
    TextClassifier: Case(
        make=lambda: TextClassifier(random_state=0),
        fit=lambda m: m.fit(*tickets()),
        output=lambda m: m.predict_proba(tickets()[0]),
        needs_fit={
            "predict_proba": lambda m: m.predict_proba(tickets()[0]),
            "predict": lambda m: m.predict(tickets()[0]),
            "top_k": lambda m: m.top_k(tickets()[0]),
            "explain": lambda m: m.explain(tickets()[0]),
            "summary": lambda m: m.summary(),
        },
        seed_witness=lambda m: m.temperature_,
        explain=lambda m: m.explain(tickets()[0][:3]),
    ),
    SentimentAnalyzer: Case(
        make=lambda: SentimentAnalyzer(min_per_label=5, random_state=0),
        fit=lambda m: m.fit(*feedback()),
        output=lambda m: m.polarity(feedback()[0]),
        needs_fit={
            "polarity": lambda m: m.polarity(feedback()[0]),
            "predict": lambda m: m.predict(feedback()[0]),
            "explain": lambda m: m.explain(feedback()[0]),
            "summary": lambda m: m.summary(),
        },
        seed_witness=lambda m: m.model_.temperature_,
        explain=lambda m: m.explain(feedback()[0][:3]),
    ),
    Forecaster: Case(
        make=lambda: Forecaster(horizon=3, n_windows=1),
        fit=lambda m: m.fit(panel()),
        output=lambda m: m.forecast().drop(columns="ds").to_numpy(),
        needs_fit={
            "forecast": lambda m: m.forecast(),
            "forecast_all_methods": lambda m: m.forecast_all_methods(),
            "explain": lambda m: m.explain(),
            "summary": lambda m: m.summary(),
        },
        explain=lambda m: m.explain(),
    ),
    # --- encoder: knowledge-base retrieval ---
    HybridRetriever: Case(
        make=lambda: HybridRetriever(),
        fit=lambda m: m.fit(articles()),
        output=_kb_output,
        needs_fit={
            "search": lambda m: m.search("refund"),
            "feedback": lambda m: m.feedback("refund", "refunds", True),
            "calibrate": lambda m: m.calibrate(),
            "summary": lambda m: m.summary(),
        },
    ),
}

SKLEARN_MIXINS = (ClassifierMixin, ClusterMixin, DensityMixin, RegressorMixin, TransformerMixin)
FIT_METHODS = {"fit", "fit_predict", "fit_transform"}


def _ids(classes) -> list[str]:
    return [cls.__name__ for cls in classes]


@pytest.fixture(scope="module")
def fitted_models() -> dict[type, BaseEstimator]:
    return {cls: case.fit(case.make()) for cls, case in CASES.items()}


def _output(cls: type, model: BaseEstimator) -> object:
    # On a copy: drawing from the bandit moves its random generator.
    return CASES[cls].output(copy.deepcopy(model))


def _assert_same(a: object, b: object) -> None:
    np.testing.assert_equal(a, b)


def _differ(a: object, b: object) -> bool:
    try:
        np.testing.assert_equal(a, b)
    except AssertionError:
        return True
    return False


# --------------------------------------------------------------------------- the list is complete


def _package_classes() -> set[type]:
    classes = set()
    for module in pkgutil.walk_packages(ml_package.__path__, "rapport.insights.ml."):
        if ".tests" in module.name:
            continue
        for _, cls in inspect.getmembers(importlib.import_module(module.name), inspect.isclass):
            if cls.__module__ == module.name and callable(getattr(cls, "fit", None)):
                classes.add(cls)
    return classes


def test_every_estimator_in_the_package_is_listed_and_is_a_scikit_learn_estimator():
    discovered = {
        cls
        for cls in _package_classes()
        if issubclass(cls, BaseEstimator) or not cls.__name__.startswith("_")
    }
    assert _ids(discovered - set(CASES)) == [], "estimators missing from CASES"
    assert _ids(set(CASES) - discovered) == []
    assert [cls.__name__ for cls in CASES if not issubclass(cls, BaseEstimator)] == []
    # Public models carry a model version; the scorer's private text column scorer does not.
    public = [cls for cls in CASES if not cls.__name__.startswith("_")]
    assert [cls.__name__ for cls in public if not issubclass(cls, VersionedEstimator)] == []


# --------------------------------------------------------------------------- scikit-learn's checks

CHECKS_FOR_ALL = (
    sk.check_estimator_cloneable,
    sk.check_estimator_repr,
    sk.check_no_attributes_set_in_init,
    sk.check_parameters_default_constructible,
    sk.check_do_not_raise_errors_in_init_or_set_params,
    sk.check_get_params_invariance,
    sk.check_set_params,
    sk.check_estimator_tags_renamed,
    sk.check_valid_tag_types,
)


def _sklearn_checks():
    for cls, case in CASES.items():
        checks = list(CHECKS_FOR_ALL)
        if issubclass(cls, SKLEARN_MIXINS):
            checks.append(sk.check_mixin_order)
        if any(hasattr(cls, m) for m in ("predict", "predict_proba", "decision_function")):
            checks.append(sk.check_estimators_unfitted)
        if issubclass(cls, TransformerMixin):
            checks.append(sk.check_transformers_unfitted)
        for check in checks:
            yield pytest.param(case.make, check, id=f"{cls.__name__}-{check.__name__}")


@pytest.mark.parametrize(("make", "check"), list(_sklearn_checks()))
def test_scikit_learn_check(make, check):
    estimator = make()
    check(type(estimator).__name__, estimator)


# --------------------------------------------------------------------------- checks on own data


def _public_state(model: BaseEstimator) -> dict[str, object]:
    return {k: v for k, v in vars(model).items() if not k.startswith("_") and not k.endswith("_")}


@pytest.mark.parametrize("cls", list(CASES), ids=_ids(CASES))
def test_fit_returns_self_stamps_a_version_and_leaves_parameters_alone(cls):
    case = CASES[cls]
    model = case.make()
    params = joblib.hash(model.get_params())
    before = _public_state(model)
    assert case.fit(model) is model
    after = _public_state(model)
    assert set(after) == set(before), "fit added public attributes"
    assert [k for k in after if after[k] is not before[k]] == [], "fit replaced parameters"
    assert joblib.hash(model.get_params()) == params, "fit mutated a parameter"
    check_is_fitted(model)
    if isinstance(model, VersionedEstimator):
        assert model.model_version_.startswith(f"{cls._model_kind}-")
        assert model.model_version_.endswith(f"-{model.trained_at_}-rapport{__version__}")


def _reads_learned_state(cls: type) -> set[str]:
    """Public methods the package defines on ``cls`` (not scikit-learn's) other than fitting."""
    names = set()
    for name, member in inspect.getmembers(cls, inspect.isfunction):
        if name.startswith("_") or name in FIT_METHODS:
            continue
        if member.__module__.startswith("rapport.insights.ml."):
            names.add(name)
    return names - CASES[cls].fit_free


@pytest.mark.parametrize("cls", list(CASES), ids=_ids(CASES))
def test_every_method_that_needs_fit_raises_not_fitted_before_it(cls):
    case = CASES[cls]
    assert sorted(_reads_learned_state(cls)) == sorted(case.needs_fit)
    ran_unfitted = []
    for name, call in case.needs_fit.items():
        try:
            call(case.make())
        except NotFittedError as error:
            assert "not fitted yet" in str(error)
        else:
            ran_unfitted.append(name)
    assert ran_unfitted == []


@pytest.mark.parametrize("cls", list(CASES), ids=_ids(CASES))
def test_clone_of_a_fitted_model_is_unfitted_and_refits_to_the_same_predictions(cls, fitted_models):
    case, model = CASES[cls], fitted_models[cls]
    again = clone(model)
    assert joblib.hash(again.get_params()) == joblib.hash(model.get_params())
    with pytest.raises(NotFittedError):
        check_is_fitted(again)
    case.fit(again)
    _assert_same(_output(cls, again), _output(cls, model))


def test_random_state_is_a_parameter_exactly_where_a_seed_witness_is_listed():
    seeded = [cls for cls, case in CASES.items() if "random_state" in case.make().get_params()]
    witnessed = [cls for cls, case in CASES.items() if case.seed_witness is not None]
    assert _ids(seeded) == _ids(witnessed)


SEEDED = [cls for cls, case in CASES.items() if case.seed_witness is not None]


@pytest.mark.parametrize("cls", SEEDED, ids=_ids(SEEDED))
def test_a_different_random_state_changes_the_fitted_model(cls, fitted_models):
    case, model = CASES[cls], fitted_models[cls]
    reseeded = case.fit(clone(model).set_params(random_state=model.random_state + 1))
    witness = case.seed_witness
    assert _differ(witness(copy.deepcopy(reseeded)), witness(copy.deepcopy(model)))


@pytest.mark.parametrize("cls", list(CASES), ids=_ids(CASES))
def test_save_and_load_keep_predictions_and_version(cls, fitted_models, tmp_path):
    case, model = CASES[cls], fitted_models[cls]
    with pytest.raises(NotFittedError):
        save_model(case.make(), tmp_path / "unfitted.joblib")
    loaded = load_model(save_model(model, tmp_path / "model.joblib"))
    assert type(loaded) is cls
    assert loaded.saved_with_version_ == __version__
    assert getattr(loaded, "model_version_", None) == getattr(model, "model_version_", None)
    _assert_same(_output(cls, loaded), _output(cls, model))


def test_explain_is_listed_exactly_for_the_models_that_have_it():
    has_explain = [cls for cls in CASES if hasattr(cls, "explain")]
    listed = [cls for cls, case in CASES.items() if case.explain is not None]
    assert _ids(has_explain) == _ids(listed)


EXPLAINED = [cls for cls, case in CASES.items() if case.explain is not None]


@pytest.mark.parametrize("cls", EXPLAINED, ids=_ids(EXPLAINED))
def test_explain_returns_explanations_with_factors_and_the_model_version(cls, fitted_models):
    model = fitted_models[cls]
    explanations = CASES[cls].explain(model)
    assert explanations
    for explanation in explanations:
        assert type(explanation) is Explanation
        assert explanation.model_version == model.model_version_
        assert np.isfinite(explanation.score)
        assert explanation.factors
        assert all(type(f) is Factor and f.text for f in explanation.factors)
    json.dumps([e.as_dict() for e in explanations])


def test_model_files_of_the_previous_format_are_refused(fitted_models, tmp_path):
    path = tmp_path / "old.joblib"
    joblib.dump(
        {"format": 1, "rapport_version": "0.1.0", "model": fitted_models[BinaryScorer]}, path
    )
    with pytest.raises(ValueError, match="not a Rapport model file of format 2"):
        load_model(path)
