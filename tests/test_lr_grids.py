"""What grids of training runs over LRs and seeds can tell: lrcourse.lr_grids."""

import doctest

import numpy as np
import pytest

from lrcourse import lr_grids

BAD_INPUTS = [
    (lr_grids.noise_floor, ([0.5, 0.6],), ValueError, "grid must be 2-D"),
    (lr_grids.noise_floor, ([[0.5], [0.6]],), ValueError, "at least 2"),
    (lr_grids.noise_floor, (np.zeros((0, 2)),), ValueError, "grid must be 2-D"),
    (lr_grids.split_half_floor, ([[0.5, 0.6, 0.7]],), ValueError, "even number"),
    (lr_grids.split_half_floor, ([[[0.5, 0.6]]],), ValueError, "grid must be 2-D"),
    (lr_grids.one_lr_for_both, ({0.1: [0.5]}, {1.0: [0.5]}, [0.1, 1.0]), ValueError, "first must hold every grid LR"),
    (lr_grids.one_lr_for_both, ({0.1: [0.5]}, {1.0: [0.5]}), ValueError, "second must hold every grid LR"),
    (lr_grids.one_lr_for_both, ({0.1: [0.5]}, {0.1: [0.5]}, []), ValueError, "grid is empty"),
    (lr_grids.one_lr_for_both, ([0.5], {0.1: [0.5]}), TypeError, "first must map each LR"),
    (lr_grids.one_lr_for_both, ({0.1: [0.5]}, [0.5]), TypeError, "second must map each LR"),
]


@pytest.mark.parametrize("function, args, error, message", BAD_INPUTS)
def test_bad_inputs_are_refused_with_the_parameter_named(function, args, error, message):
    with pytest.raises(error, match=message):
        function(*args)


def test_noise_floor_is_what_each_seed_loses_to_the_others_best_lr():
    # Seed 2 alone peaks at the last LR; the others agree on the middle one.
    grid = [[0.70, 0.71, 0.70], [0.80, 0.81, 0.72], [0.72, 0.73, 0.79]]
    np.testing.assert_allclose(lr_grids.noise_floor(grid), [0.0, 0.0, 7.0])


def test_split_half_floor_is_zero_when_the_seeds_agree_and_catches_a_pair_that_moves_the_best():
    agree = [[0.70, 0.71, 0.70, 0.72], [0.80, 0.81, 0.79, 0.80], [0.75, 0.74, 0.76, 0.75]]
    assert lr_grids.split_half_floor(agree) == 0.0
    # Seeds 0 and 1 peak at the first LR, seeds 2 and 3 at the last: a pair picks the wrong end.
    split = [[0.80, 0.80, 0.70, 0.70], [0.75, 0.75, 0.75, 0.75], [0.70, 0.70, 0.80, 0.80]]
    assert lr_grids.split_half_floor(split) == pytest.approx(10.0)
    # Each split is scored both ways: one way loses 4 points, the other 10, and the worse counts.
    one_way = [[0.80, 0.76, 0.80, 0.76], [0.70, 0.80, 0.70, 0.80]]
    assert lr_grids.split_half_floor(one_way) == pytest.approx(10.0)


def test_one_lr_for_both_takes_the_lr_whose_worse_run_is_best():
    constant = {0.01: [0.80, 0.80], 0.03: [0.78, 0.78], 0.1: [0.70, 0.70], 0.05: [0.76, 0.74]}
    cosine = {0.01: [0.70, 0.70], 0.03: [0.77, 0.77], 0.1: [0.80, 0.80], 0.05: [0.79, 0.79]}
    # 0.03 is 2 / 3 points behind; 0.05 (off the grid, trained for both) 5 / 1; the ends 0 / 10 and 10 / 0.
    pick = lr_grids.one_lr_for_both(constant, cosine, grid=[0.01, 0.03, 0.1])
    assert pick.lr == 0.03
    np.testing.assert_allclose([pick.first_gap, pick.second_gap], [2.0, 3.0])
    # An LR trained for one run only is no candidate: it cannot be judged on the other.
    assert lr_grids.one_lr_for_both({**constant, 0.02: [0.9, 0.9]}, cosine, grid=[0.01, 0.03, 0.1]).lr == 0.03
    # The best of each run is taken over the grid: an LR off it may come out ahead of its best (a negative gap).
    ahead = lr_grids.one_lr_for_both({0.01: [0.8], 0.02: [0.9]}, {0.01: [0.8], 0.02: [0.9]}, grid=[0.01])
    assert ahead.lr == 0.02 and ahead.first_gap == pytest.approx(-10.0)
    # The inputs are left as they were.
    assert list(constant) == [0.01, 0.03, 0.1, 0.05] and constant[0.05] == [0.76, 0.74]


def test_the_docstring_examples_run():
    failures, tried = doctest.testmod(lr_grids)
    assert tried >= 3 and failures == 0
