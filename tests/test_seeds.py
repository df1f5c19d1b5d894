"""Paired differences over seeds, and the verdict rule."""

import numpy as np
import pytest

from lrcourse.seeds import paired


@pytest.mark.parametrize("a, b, verdict", [
    ([0.9, 0.8, 0.85], [0.8, 0.7, 0.84], "a"),
    ([0.7, 0.6, 0.8], [0.8, 0.7, 0.84], "b"),
    ([0.9, 0.6, 0.85], [0.8, 0.7, 0.84], "no clear difference"),   # a higher mean, but not on every seed
    ([0.8, 0.7], [0.8, 0.6], "no clear difference"),                # a tie on one seed is no win
    ([0.5], [0.4], "a"),
])
def test_verdict_needs_every_seed(a, b, verdict):
    assert paired(a, b).verdict == verdict


def test_mean_low_high_and_text():
    result = paired(np.array([0.86, 0.85, 0.87]), [0.84, 0.86, 0.86], "cosine", "constant")
    assert result.differences == pytest.approx((0.02, -0.01, 0.01))
    assert (result.mean, result.low, result.high) == pytest.approx((0.02 / 3, -0.01, 0.02))
    assert str(result) == "cosine - constant: +0.67% (-1.00% to +2.00%, 3 seeds), ahead on 2 of 3 seeds"
    assert str(paired([0.5, 0.6], [0.4, 0.5])).endswith("ahead on every seed")
    assert str(paired([0.3, 0.4], [0.4, 0.5])).endswith("behind on every seed")


@pytest.mark.parametrize("a, b, error, words", [
    ([], [], ValueError, "the same non-zero number; got 0 and 0"),
    ([0.5, 0.6], [0.5], ValueError, "the same non-zero number; got 2 and 1"),
    ([0.5, float("nan")], [0.5, 0.6], ValueError, "a[1] must be a finite number"),
    ([0.5, 0.6], [0.5, "0.6"], TypeError, "b[1] must be a number; got str '0.6'"),
])
def test_bad_input(a, b, error, words):
    with pytest.raises(error) as raised:
        paired(a, b)
    assert words in str(raised.value)
