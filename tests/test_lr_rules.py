"""The rules that read a range-test curve, as functions of (lrs, losses)."""

import numpy as np
import pytest

from lrcourse import lr_rules


def fastai_valley(lrs, losses):
    """fastai's valley rule as fastai writes it (fastai/callback/schedule.py), the reference."""
    n = len(losses)
    max_start, max_end = 0, 0
    lds = [1] * n
    for i in range(1, n):
        for j in range(0, i):
            if (losses[i] < losses[j]) and (lds[i] < lds[j] + 1):
                lds[i] = lds[j] + 1
            if lds[max_end] < lds[i]:
                max_end = i
                max_start = max_end - lds[max_end]
    sections = (max_end - max_start) / 3
    idx = max_start + int(sections) + int(sections / 2)
    return float(lrs[idx])


@pytest.mark.parametrize("length", range(2, 16))
@pytest.mark.parametrize("before", [0, 1, 5])
def test_valley_is_fastais_rule_on_descents_of_every_length(length, before):
    # Flat noise, a strict descent of `length` points, then a rise.
    rng = np.random.default_rng(length * 10 + before)
    flat = 2.0 + 0.01 * rng.random(before)
    descent = np.linspace(1.9, 0.5, length)
    rise = np.linspace(0.6, 3.0, 6)
    losses = np.concatenate([flat, descent, rise])
    lrs = np.geomspace(1e-5, 1.0, len(losses))
    assert lr_rules.valley(lrs, losses) == fastai_valley(lrs, losses)


@pytest.mark.parametrize("seed", range(20))
def test_valley_is_fastais_rule_on_noisy_curves(seed):
    rng = np.random.default_rng(seed)
    losses = 2.3 - np.linspace(0, 1.5, 60) ** 2 / 2 + 0.05 * rng.standard_normal(60)
    losses[45:] += np.linspace(0, 4, 15)
    lrs = np.geomspace(1e-6, 10, 60)
    assert lr_rules.valley(lrs, losses) == fastai_valley(lrs, losses)


def test_valley_without_any_descent_and_at_the_first_point_matches_fastai():
    lrs = np.geomspace(1e-3, 1, 5)
    for losses in ([1.0, 1.0, 1.0, 1.0, 1.0], [1.0, 2.0, 3.0, 4.0, 5.0], [2.0, 1.0, 3.0, 4.0, 5.0], [7.0]):
        assert lr_rules.valley(lrs[: len(losses)], losses) == fastai_valley(lrs[: len(losses)], losses)


def test_steepest_lowest_and_cyclical_range_on_a_known_curve():
    log_lr = np.linspace(-6, 0, 121)
    lrs = 10 ** log_lr
    losses = 2.0 - np.tanh((log_lr + 3) * 2) + np.where(log_lr > -1, (log_lr + 1) ** 2 * 20, 0)
    assert lr_rules.steepest(lrs, losses) == pytest.approx(1e-3, rel=0.15)
    bottom = lrs[np.argmin(losses)]
    assert lr_rules.lowest(lrs, losses) == bottom and lr_rules.min_over_10(lrs, losses) == bottom / 10
    base, top = lr_rules.cyclical_range(lrs, losses)
    assert base < lr_rules.steepest(lrs, losses) < top <= bottom
    # midway: halfway on a log scale between the steepest point and the lowest loss over 10
    steep = lr_rules.steepest(lrs, losses)
    assert lr_rules.midway(lrs, losses) == pytest.approx(np.sqrt(steep * bottom / 10), rel=1e-12)
    assert min(steep, bottom / 10) <= lr_rules.midway(lrs, losses) <= max(steep, bottom / 10)


def test_moving_average_is_bias_corrected():
    values = [2.3, 2.1, 1.7, 1.9, 1.2]
    average, expected = 0.0, []
    for i, value in enumerate(values):
        average = 0.98 * average + 0.02 * value
        expected.append(average / (1 - 0.98 ** (i + 1)))
    np.testing.assert_allclose(lr_rules.smooth(values, 0.98), expected, rtol=1e-12)
    assert lr_rules.smooth([5.0, 5.0], 0.9)[0] == pytest.approx(5.0)
    np.testing.assert_array_equal(lr_rules.smooth(values, 0.0), values)


@pytest.mark.parametrize("rule", [lr_rules.steepest, lr_rules.valley, lr_rules.lowest, lr_rules.min_over_10,
                                  lr_rules.midway, lr_rules.cyclical_range])
@pytest.mark.parametrize("lrs, losses, words", [
    ([], [], "at least one point"),
    ([1e-3, 1e-2], [1.0], "same length"),
    ([[1e-3]], [[1.0]], "1-D"),
    ([0.0, 1e-2], [1.0, 0.5], "lrs must all be > 0"),
])
def test_rules_refuse_bad_curves(rule, lrs, losses, words):
    with pytest.raises(ValueError, match=words):
        rule(lrs, losses)


def test_moving_average_refuses_bad_beta():
    for beta in (1.0, -0.1):
        with pytest.raises(ValueError, match="beta must be in"):
            lr_rules.MovingAverage(beta)


def test_median_lr_is_the_median_on_a_log_scale():
    assert lr_rules.median_lr([1e-2, 1e-4, 1e-1]) == 1e-2
    assert lr_rules.median_lr([0.5]) == 0.5
    assert lr_rules.median_lr([1e-3, 1e-1]) == pytest.approx(1e-2)  # the geometric mean of the middle two
    assert lr_rules.median_lr([1e-3, 1e-2, 1e-1, 100.0]) == pytest.approx(np.sqrt(1e-3))
    assert lr_rules.median_lr([1e-3, 1e-3, 10.0]) == 1e-3  # one far-off pick does not move it


@pytest.mark.parametrize("lrs", [[], [0.0, 1.0], [-1.0], [float("nan"), 1.0], [float("inf")]])
def test_median_lr_refuses_bad_lrs(lrs):
    with pytest.raises(ValueError, match="lrs must be one or more finite numbers > 0"):
        lr_rules.median_lr(lrs)
