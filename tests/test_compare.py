import math

import pytest

from lrcourse.compare import Comparison, Speedup, compare, speedup


@pytest.mark.parametrize("a, b, margin, verdict", [
    ([0.86, 0.85, 0.87], [0.84, 0.84, 0.84], 0.0, "a"),
    ([0.86, 0.85, 0.87], [0.84, 0.84, 0.84], 0.012, "level"),  # the second seed wins by less than the margin
    ([0.80, 0.81], [0.82, 0.83], 0.005, "b"),
    ([0.86, 0.83, 0.87], [0.84, 0.84, 0.84], 0.0, "level"),    # b wins one seed
    ([0.84, 0.84], [0.84, 0.84], 0.0, "level"),
])
def test_a_winner_wins_in_every_seed_by_more_than_the_margin(a, b, margin, verdict):
    assert compare(a, b, margin).verdict == verdict


def test_comparison_gives_the_paired_differences_and_their_spread():
    result = compare([0.9, 0.8, 0.7], [0.85, 0.82, 0.6])
    assert isinstance(result, Comparison)
    assert result.differences.tolist() == pytest.approx([0.05, -0.02, 0.1])
    assert (result.mean, result.low, result.high) == pytest.approx((0.13 / 3, -0.02, 0.1))


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(a=[0.8, 0.9], b=[0.8]), ValueError, "one score per seed"),
    (dict(a=[], b=[]), ValueError, "a must hold at least one"),
    (dict(a=0.8, b=[0.8]), TypeError, "a must be a sequence of numbers"),
    (dict(a="0.8", b=[0.8]), TypeError, "a must be a sequence"),
    (dict(a=[0.8], b=[float("nan")]), ValueError, "b must hold finite numbers"),
    (dict(a=[0.8], b=[True]), ValueError, "b must hold finite numbers"),
    (dict(a=[0.8], b=[0.8], margin=-0.1), ValueError, "margin must be a finite number >= 0"),
    (dict(a=[0.8], b=[0.8], margin="1"), TypeError, "margin must be a number"),
])
def test_compare_bad_inputs(kwargs, error, match):
    with pytest.raises(error, match=match):
        compare(**kwargs)


def test_speedup_is_the_smallest_budget_whose_mean_matches_over_the_fast_epochs():
    baseline = {8: [0.85, 0.85], 2: [0.80, 0.81], 4: [0.82, 0.84], 3: [0.81, 0.82]}   # keys in any order
    result = speedup(2, [0.83, 0.83], baseline)
    assert isinstance(result, Speedup)
    assert result.budgets == (2, 3, 4, 8) and result.accuracies == pytest.approx((0.805, 0.815, 0.83, 0.85))
    assert result.target == pytest.approx(0.83)
    assert result.matched_at == 4 and result.factor == 2.0 and result.bracket == (1.5, 2.0)


def test_speedup_takes_the_first_budget_that_matches_even_if_a_later_one_falls_back():
    result = speedup(2, [0.83], {2: [0.8], 4: [0.84], 6: [0.82], 8: [0.85]})
    assert result.matched_at == 4 and result.bracket == (1.0, 2.0)


def test_speedup_when_the_smallest_budget_already_matches_or_none_does():
    assert speedup(3, [0.8], {2: [0.81], 4: [0.9]}).bracket == (0.0, 2 / 3)
    never = speedup(2, [0.9, 0.9, 0.9], {2: [0.8], 8: [0.89]})
    assert never.matched_at is None and never.factor is None
    assert never.bracket[0] == 4.0 and math.isinf(never.bracket[1])


@pytest.mark.parametrize("args, error, match", [
    ((0, [0.8], {2: [0.8]}), ValueError, "fast_epochs must be a finite number > 0"),
    ((2, [], {2: [0.8]}), ValueError, "fast must hold at least one"),
    ((2, [0.8], {}), TypeError, "baseline must be a non-empty dict"),
    ((2, [0.8], [[0.8]]), TypeError, "baseline must be a non-empty dict"),
    ((2, [0.8], {-1: [0.8]}), ValueError, "a budget"),
    ((2, [0.8], {"2": [0.8]}), TypeError, "a budget"),
    ((2, [0.8], {2: [math.inf]}), ValueError, r"baseline\[2\] must hold finite numbers"),
])
def test_speedup_bad_inputs(args, error, match):
    with pytest.raises(error, match=match):
        speedup(*args)
