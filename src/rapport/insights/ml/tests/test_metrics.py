"""sMAPE and MASE against hand-computed values (M4 definitions)."""

from __future__ import annotations

import math

import pytest

from rapport.insights.ml.errors import DataValidationError, InsufficientDataError
from rapport.insights.ml.metrics import mase, mase_scale, smape


def test_smape_matches_hand_computation():
    # 200/2 * (10/210 + 20/380)
    assert smape([100, 200], [110, 180]) == pytest.approx(10.025062656641603, rel=1e-12)


def test_smape_counts_a_step_where_both_are_zero_as_perfect():
    assert smape([0, 10], [0, 10]) == 0.0
    assert smape([0, 10], [0, 30]) == pytest.approx(50.0)


def test_smape_is_bounded_by_200():
    assert smape([5, 5], [-5, -5]) == pytest.approx(200.0)


def test_mase_matches_hand_computation():
    insample = [1, 2, 4, 7]  # naive errors 1, 2, 3 -> scale 2
    assert mase_scale(insample) == pytest.approx(2.0)
    assert mase([8, 10], [9, 9], insample) == pytest.approx(0.5)
    # seasonal scale with m=2: |4-1|, |7-2| -> 4
    assert mase([8, 10], [9, 9], insample, season_length=2) == pytest.approx(0.25)


def test_mase_is_nan_when_the_history_never_changes():
    assert math.isnan(mase([3, 3], [2, 2], [5, 5, 5]))


def test_mase_refuses_a_history_not_longer_than_the_season():
    with pytest.raises(InsufficientDataError, match="more than 4 in-sample values"):
        mase([1], [1], [1, 2, 3, 4], season_length=4)


def test_metrics_reject_mismatched_or_missing_values():
    with pytest.raises(DataValidationError, match="actual has 2 values but forecast has 3"):
        smape([1, 2], [1, 2, 3])
    with pytest.raises(DataValidationError, match="forecast contains missing"):
        smape([1, 2], [1, float("nan")])
    with pytest.raises(InsufficientDataError, match="actual is empty"):
        mase([], [], [1, 2, 3])
