import pytest

from rapport.insights.ml.bandit import ThompsonBandit
from rapport.insights.ml.errors import DataValidationError


def test_probability_best_and_next_variant_favour_the_winner():
    bandit = ThompsonBandit(["A", "B"], random_state=0).fit([("A", 50, 950), ("B", 100, 900)])
    best = bandit.probability_best()
    assert best["B"] > 0.99
    assert best["A"] + best["B"] == pytest.approx(1.0)
    picks = [bandit.next_variant() for _ in range(200)]
    assert picks.count("B") > 190


def test_no_data_is_a_coin_flip_and_deterministic():
    one = ThompsonBandit(["A", "B", "C"], random_state=3).fit([])
    two = ThompsonBandit(["A", "B", "C"], random_state=3).fit([])
    assert [one.next_variant() for _ in range(20)] == [two.next_variant() for _ in range(20)]
    assert all(abs(p - 1 / 3) < 0.02 for p in one.probability_best().values())


def test_bad_input():
    with pytest.raises(DataValidationError, match="two distinct variants"):
        ThompsonBandit(["A"]).fit([])
    bandit = ThompsonBandit(["A", "B"]).fit([])
    with pytest.raises(DataValidationError, match="unknown variant 'C'"):
        bandit.update("C", 1, 0)
    with pytest.raises(DataValidationError, match="negative"):
        bandit.update("A", -1, 0)
    assert bandit.summary()["variants"]["A"] == {"sent": 0, "successes": 0, "mean_rate": 0.5}
