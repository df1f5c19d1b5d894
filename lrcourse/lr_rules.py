r"""From a range-test curve to a learning rate: smoothing, and the rules that read the curve.

Every rule is a function of ``(lrs, losses)``, two sequences of equal length with the LRs
increasing, so it applies to any curve: one a range test measured, a curve made up for an
exercise, the raw losses instead of the smoothed ones. :class:`~lrcourse.range_test.RangeTest`
applies them to its smoothed loss, trimmed as fastai trims (:func:`trimmed`). The exception,
:func:`accuracy_plateau`, reads ``(lrs, accuracies)``: the batch accuracy a range test records
for a classifier, which it smooths itself.

The smoothing is an exponential moving average with bias correction,

.. math::
    a_i = \beta a_{i-1} + (1 - \beta)\,\ell_i,\quad a_{-1} = 0, \qquad
    \hat a_i = \frac{a_i}{1 - \beta^{i+1}},

so the first values are not dragged towards the 0 the average starts from.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class MovingAverage:
    """The bias-corrected exponential moving average, one value at a time: ``update(x)`` returns
    :math:`\\hat a_i` after taking in ``x``. ``beta`` in ``[0, 1)``; 0 is no smoothing."""

    beta: float
    average: float = 0.0
    count: int = 0

    def __post_init__(self):
        if not 0 <= self.beta < 1:
            raise ValueError(f"beta must be in [0, 1); got {self.beta!r}")

    def update(self, value: float) -> float:
        self.count += 1
        self.average = self.beta * self.average + (1 - self.beta) * value
        return self.average / (1 - self.beta ** self.count)


def smooth(values, beta: float) -> np.ndarray:
    """The bias-corrected moving average of ``values`` (see the module docstring), as an array."""
    average = MovingAverage(beta)
    return np.array([average.update(float(v)) for v in values], dtype=float)


def _arrays(lrs, losses) -> tuple[np.ndarray, np.ndarray]:
    lrs, losses = np.asarray(lrs, dtype=float), np.asarray(losses, dtype=float)
    if lrs.ndim != 1 or lrs.shape != losses.shape:
        raise ValueError(f"lrs and losses must be 1-D and of the same length; got shapes {lrs.shape} and "
                         f"{losses.shape}")
    if len(lrs) == 0:
        raise ValueError("lrs and losses must hold at least one point")
    if not (lrs > 0).all():
        raise ValueError("lrs must all be > 0")
    return lrs, losses


def finite(lrs, losses) -> tuple[np.ndarray, np.ndarray]:
    """The points whose loss is finite (a diverged test ends in NaN or inf)."""
    lrs, losses = np.asarray(lrs, dtype=float), np.asarray(losses, dtype=float)
    keep = np.isfinite(losses)
    return lrs[keep], losses[keep]


def trimmed(lrs, losses) -> tuple[np.ndarray, np.ndarray]:
    """Without the first 10% of the points (the average still settling) and the last 5% (the
    blow-up that ended the test); curves of fewer than 10 points are kept whole."""
    lrs, losses = np.asarray(lrs, dtype=float), np.asarray(losses, dtype=float)
    if len(lrs) < 10:
        return lrs, losses
    kept = slice(len(lrs) // 10, len(lrs) - max(len(lrs) // 20, 1))
    return lrs[kept], losses[kept]


def steepest(lrs, losses) -> float:
    """The LR where the loss falls fastest per unit of log(LR): :math:`\\arg\\min_i\\, d\\ell / d\\log\\eta`."""
    lrs, losses = _arrays(lrs, losses)
    if len(lrs) < 2:
        return float(lrs[0])
    return float(lrs[int(np.argmin(np.gradient(losses, np.log(lrs))))])


def valley(lrs, losses) -> float:
    """fastai's ``valley`` rule, exactly: find the longest strictly decreasing subsequence of the
    loss, ending at point ``end`` with ``length`` points; the valley spans ``start = end - length``
    to ``end``, and the rule takes the point ``start + int(s) + int(s / 2)``, ``s = length / 3``,
    about two thirds of the way down. Where no point is below an earlier one, ``start = end = 0``.
    As in fastai, an index of -1 (a descent of one or two points from the very first point) wraps
    to the last point."""
    lrs, losses = _arrays(lrs, losses)
    n = len(losses)
    # length[i]: the longest strictly decreasing subsequence ending at i; O(n^2) is fine
    # for the few hundred points of a range test.
    length = np.ones(n, dtype=int)
    for i in range(1, n):
        earlier = losses[:i] > losses[i]
        if earlier.any():
            length[i] = length[:i][earlier].max() + 1
    # The first of the longest, as fastai's strict comparison keeps it.
    end = int(np.argmax(length))
    start = end - int(length[end]) if length[end] > 1 else 0
    sections = (end - start) / 3
    return float(lrs[start + int(sections) + int(sections / 2)])


def lowest(lrs, losses) -> float:
    """The LR of the lowest loss: past it, the loss turns up."""
    lrs, losses = _arrays(lrs, losses)
    return float(lrs[int(np.argmin(losses))])


def min_over_10(lrs, losses) -> float:
    """The LR of the lowest loss divided by 10 (fastai's original rule)."""
    return lowest(lrs, losses) / 10


def midway(lrs, losses) -> float:
    """The geometric mean of :func:`steepest` and :func:`min_over_10`,
    :math:`\\sqrt{\\eta_{steep} \\cdot \\eta_{min} / 10}`: halfway, on a log scale, between the two picks.

    Each alone misses in its own direction: on some set-ups the steepest point sits close to where
    the loss blows up, on others a decade or more below the best LR, and the lowest loss over 10
    moves with the noise of the curve's bottom. Their midpoint had the smallest worst gap to a
    grid's best of the four loss rules after one epoch, the axis they were designed on, in
    ``benchmarks/range_test.py``; after four epochs ``min_over_10``'s is smaller (the README gives
    the tables)."""
    return float(np.sqrt(steepest(lrs, losses) * min_over_10(lrs, losses)))


def accuracy_plateau(lrs, accuracies) -> float:
    """Half the LR in the middle of the accuracy's plateau. The accuracy is smoothed as the loss
    is (see the module docstring) with :math:`\\beta =` ``ACCURACY_SMOOTH``; the plateau is the
    run of consecutive points around its peak that stay within ``PLATEAU_DROP`` (10 points) of
    it, from :math:`\\eta_{lo}` to :math:`\\eta_{hi}`; the pick is :math:`\\sqrt{\\eta_{lo}\\,\\eta_{hi}} / 2`.

    Why the accuracy: the loss also falls while a network only shrinks outputs that started far
    too large (raw 0..255 pixels), and the loss rules are fooled by that; the accuracy rises only
    while the network learns to separate the classes, and falls where a larger step undoes it.
    Why the plateau's middle and not the peak: the accuracy is flat along the plateau, so where
    exactly it peaks is noise. Why halve it: a constant LR must work for a whole run, not for the
    few steps a test spends at each LR. Light smoothing, because the test climbs about a decade in
    a dozen steps and a heavier average would lag by a decade."""
    lrs, accuracies = _arrays(lrs, accuracies)
    smoothed = smooth(accuracies, ACCURACY_SMOOTH)
    on = smoothed >= smoothed.max() - PLATEAU_DROP
    low = high = int(np.argmax(smoothed))
    while low > 0 and on[low - 1]:
        low -= 1
    while high < len(on) - 1 and on[high + 1]:
        high += 1
    return float(np.sqrt(lrs[low] * lrs[high]) / 2)


def cyclical_range(lrs, losses) -> tuple[float, float]:
    """``(base_lr, max_lr)`` for a cyclical schedule, after Smith's reading of the curve: where
    the loss starts to fall (10% of its drop done) and where it has nearly stopped falling
    (90% done), both at or before the lowest point."""
    lrs, losses = _arrays(lrs, losses)
    bottom = int(np.argmin(losses))
    drop = losses[0] - losses[bottom]
    fallen = (losses[0] - losses[: bottom + 1]) / drop if drop > 0 else np.ones(bottom + 1)
    return float(lrs[np.argmax(fallen >= 0.1)]), float(lrs[np.argmax(fallen >= 0.9)])


def median_lr(lrs) -> float:
    """The median of several LRs on a log scale: the middle one for an odd number, the geometric
    mean of the middle two for an even number. Unlike the mean, one far-off value cannot drag it."""
    lrs = np.sort(np.asarray(lrs, dtype=float).ravel())
    if len(lrs) == 0 or not (lrs > 0).all() or not np.isfinite(lrs).all():
        raise ValueError(f"lrs must be one or more finite numbers > 0; got {lrs.tolist()}")
    middle = len(lrs) // 2
    return float(lrs[middle]) if len(lrs) % 2 else float(np.sqrt(lrs[middle - 1] * lrs[middle]))


#: The moving average's beta for :func:`accuracy_plateau`, and how far below its peak the smoothed
#: accuracy may lie on the plateau.
ACCURACY_SMOOTH, PLATEAU_DROP = 0.7, 0.1

#: The rules by name, as ``RangeTest.suggestions`` and the benchmark call them: functions of
#: ``(lrs, losses)``, except ``accuracy_plateau``, a function of ``(lrs, accuracies)``.
RULES = {"steepest": steepest, "valley": valley, "min_over_10": min_over_10, "midway": midway,
         "accuracy_plateau": accuracy_plateau}
