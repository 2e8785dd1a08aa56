import math

import numpy as np

from rapport.insights.ml.explain import (
    describe_value,
    factor_sentence,
    format_effect,
    logit_effects,
    top_factors,
)


def test_factor_sentence_reads_like_the_issue_example():
    assert factor_sentence("recency_days", 94, 0.31, "risk") == "no order in 94 days: +31% risk"


def test_unknown_feature_and_missing_value_fall_back_to_plain_words():
    assert describe_value("Contract", "Month-to-month") == "Contract: Month-to-month"
    assert describe_value("monthly_charges", 70.5) == "monthly charges: 70.5"
    assert describe_value("recency_days", float("nan")) == "recency days unknown"


def test_tiny_effects_keep_their_sign():
    assert format_effect(0.001) == "+<1% chance"
    assert format_effect(-0.004, "risk") == "-<1% risk"
    assert format_effect(-0.126, "risk") == "-13% risk"


def test_logit_effects_are_probability_changes():
    effects = logit_effects(np.array([0.0, 2.0]), total_logit=2.0)
    assert effects[0] == 0.0
    assert math.isclose(effects[1], 1 / (1 + math.exp(-2)) - 0.5)


def test_top_factors_orders_by_size_and_ignores_nan():
    factors = top_factors(["a", "b", "c"], [1, 2, 3], np.array([0.1, -0.3, np.nan]), k=2)
    assert [f.feature for f in factors] == ["b", "a"]
    assert factors[0].text == "b: 2: -30% chance"
    assert factors[0].as_dict()["effect"] == -0.3
