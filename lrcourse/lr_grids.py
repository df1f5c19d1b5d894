"""Grids of training runs over LRs and seeds: how far they can be trusted to rank LRs.

A grid here is ``grid[i, b]``, the accuracy (0..1) a run at the i-th LR reached with training seed b; a
sweep is a mapping from LR to the accuracies of its seeds. Every figure is in points (one percent of the
validation images), the unit of the range-test benchmark's gaps (``benchmarks/range_test.py``), which
uses all three, as lesson 03 uses :func:`one_lr_for_both`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import combinations
from typing import NamedTuple

import numpy as np


def _grid(grid) -> np.ndarray:
    grid = np.asarray(grid, dtype=float)
    if grid.ndim != 2 or grid.shape[0] < 1 or grid.shape[1] < 2:
        raise ValueError(f"grid must be 2-D, one row per LR and one column per training seed (at least 2); got "
                         f"shape {grid.shape}")
    return grid


def noise_floor(grid) -> np.ndarray:
    """For each training seed b, how far the best LR of the other seeds' mean grid lands below the best
    of b's own: what even a picker that had seen every other seed's whole grid loses to seed b's luck.

    Example:
        >>> noise_floor([[0.80, 0.70], [0.75, 0.78]]).round(2).tolist()
        [5.0, 8.0]
    """
    grid = _grid(grid)
    floor = []
    for b in range(grid.shape[1]):
        others = np.delete(grid, b, axis=1).mean(axis=1)
        floor.append(100 * (grid[:, b].max() - grid[int(others.argmax()), b]))
    return np.array(floor)


def split_half_floor(grid) -> float:
    """The worst, over every split of the training seeds into two halves and both directions, of how far
    the best LR of one half's mean grid lands below the best of the other half's. Where it exceeds a
    point, a grid of half as many seeds does not know its best LR to within a point, and one of all of
    them (whose noise is about 1/sqrt(2) as large) not much better.

    Example:
        >>> round(split_half_floor([[0.80, 0.70], [0.75, 0.78]]), 2)
        8.0
    """
    grid = _grid(grid)
    seeds = grid.shape[1]
    if seeds % 2:
        raise ValueError(f"grid must have an even number of training seeds (columns); got {seeds}")
    worst = 0.0
    for half in combinations(range(seeds), seeds // 2):
        if 0 not in half:  # each split once; both directions below
            continue
        other = [b for b in range(seeds) if b not in half]
        for chooser, judge in ((list(half), other), (other, list(half))):
            picked, judged = grid[:, chooser].mean(axis=1), grid[:, judge].mean(axis=1)
            worst = max(worst, 100 * float(judged.max() - judged[int(picked.argmax())]))
    return worst


class OneLR(NamedTuple):
    """The LR that serves two kinds of run best together, and how far behind each run's best it is."""

    lr: float
    first_gap: float
    second_gap: float


def one_lr_for_both(first: Mapping[float, Sequence[float]], second: Mapping[float, Sequence[float]],
                    grid: Sequence[float] | None = None) -> OneLR:
    """The best one LR does for two kinds of run at once (say, a constant LR and a cosine from it).

    ``first`` and ``second`` map each LR trained to the accuracies of its seeds. A run's gap at an LR is
    its best mean accuracy over ``grid`` (default: every LR of ``first``) minus its mean accuracy at that
    LR, in points. Of the LRs trained for both runs, the one whose larger gap is least is returned.

    A rule that reads only a range test gives the same LR for both runs, so its worst gap over the two
    is at least this larger gap (at least among the LRs trained: between them the accuracy is unknown).

    Example:
        >>> constant = {0.01: [0.80, 0.80], 0.1: [0.70, 0.72], 0.03: [0.78, 0.78]}
        >>> cosine = {0.01: [0.70, 0.70], 0.1: [0.80, 0.80], 0.03: [0.77, 0.77]}
        >>> pick = one_lr_for_both(constant, cosine)
        >>> pick.lr, round(pick.first_gap, 2), round(pick.second_gap, 2)
        (0.03, 2.0, 3.0)
    """
    grid = list(first) if grid is None else list(grid)
    for name, runs in (("first", first), ("second", second)):
        if not isinstance(runs, Mapping):
            raise TypeError(f"{name} must map each LR to its seeds' accuracies; got {type(runs).__name__}")
        missing = [lr for lr in grid if lr not in runs]
        if missing or not grid:
            raise ValueError(f"{name} must hold every grid LR (at least one); missing {missing or 'all: grid is empty'}")
    shared = [lr for lr in first if lr in second]
    best = [max(float(np.mean(runs[lr])) for lr in grid) for runs in (first, second)]

    def gaps(lr) -> tuple[float, float]:
        return tuple(100 * (b - float(np.mean(runs[lr]))) for b, runs in zip(best, (first, second)))

    lr = min(shared, key=lambda lr: (max(gaps(lr)), float(lr)))
    return OneLR(float(lr), *gaps(lr))
