"""Comparing two training set-ups the way the lessons' claims are checked: over seeds, and over budgets.

* :func:`compare`: set-ups ``a`` and ``b`` trained from the same seeds (the same initial weights and
  batch order for a seed), so that each seed gives a *paired* difference ``a - b``. One set-up wins
  only if it wins in every seed by more than ``margin``; otherwise the two are level, within the
  noise the seeds show. With three seeds, a difference with no cause behind it still has the same
  sign in every seed one time in four (either way round): the margin guards against that.
* :func:`speedup`: Smith & Topin's axis for super-convergence, epochs to a target accuracy. A
  baseline trained with several budgets (one full run per budget, its final accuracy) is matched
  against a fast method's accuracy: the smallest budget at which the baseline's mean reaches it,
  divided by the fast method's epochs.

Both take accuracies (or any score where higher is better) as plain numbers, one per seed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np

from .checks import ArgumentTypeError, check_number, check_positive, is_real

VERDICTS = ("a", "b", "level")


def _scores(name: str, values) -> tuple[float, ...]:
    if isinstance(values, (str, bytes, Mapping)) or not hasattr(values, "__iter__"):
        raise ArgumentTypeError(f"{name} must be a sequence of numbers, one per seed; got {type(values).__name__}")
    values = tuple(values)
    if not values:
        raise ValueError(f"{name} must hold at least one number (one per seed); got none")
    if not all(is_real(value) for value in values):
        raise ValueError(f"{name} must hold finite numbers only; got {values!r}")
    return tuple(float(value) for value in values)


@dataclass(frozen=True)
class Comparison:
    """Paired per-seed scores of set-ups ``a`` and ``b`` (``a[i]`` and ``b[i]`` from seed ``i``).

    ``verdict`` is ``"a"`` when ``a - b > margin`` in every seed, ``"b"`` when ``b - a > margin``
    in every seed, else ``"level"``.
    """

    a: tuple[float, ...]
    b: tuple[float, ...]
    margin: float = 0.0

    @property
    def differences(self) -> np.ndarray:
        """``a - b``, seed by seed."""
        return np.subtract(self.a, self.b)

    @property
    def mean(self) -> float:
        return float(self.differences.mean())

    @property
    def low(self) -> float:
        """The smallest difference over the seeds."""
        return float(self.differences.min())

    @property
    def high(self) -> float:
        """The largest difference over the seeds."""
        return float(self.differences.max())

    @property
    def verdict(self) -> str:
        return winner(self.differences, self.margin) or "level"


def winner(differences: Sequence[float], margin: float = 0.0) -> str | None:
    """The course's rule for paired differences ``a - b`` over seeds: ``"a"`` when every one is
    above ``margin``, ``"b"`` when every one is below ``-margin``, else None (within the noise).
    :class:`Comparison`, :class:`lrcourse.seeds.Paired` and the home experiment's report use it."""
    if min(differences) > margin:
        return "a"
    if max(differences) < -margin:
        return "b"
    return None


def compare(a: Sequence[float], b: Sequence[float], margin: float = 0.0) -> Comparison:
    """The :class:`Comparison` of per-seed scores ``a`` and ``b`` (the same seeds, in the same order).

    Example:
        >>> compare([0.861, 0.858, 0.864], [0.851, 0.852, 0.853], margin=0.002).verdict
        'a'
        >>> compare([0.861, 0.850, 0.864], [0.851, 0.852, 0.853]).verdict   # b won the second seed
        'level'
    """
    a, b = _scores("a", a), _scores("b", b)
    if len(a) != len(b):
        raise ValueError(f"a and b must hold one score per seed for the same seeds; got {len(a)} and {len(b)}")
    margin = check_number("margin", margin, low=0)
    return Comparison(a, b, margin)


@dataclass(frozen=True)
class Speedup:
    """How many epochs a baseline needs to match a fast method: see :func:`speedup`.

    ``target`` is the fast method's mean accuracy after ``fast_epochs``; ``budgets`` (increasing)
    and ``accuracies`` the baseline's mean final accuracy for each budget.
    """

    fast_epochs: float
    target: float
    budgets: tuple[float, ...]
    accuracies: tuple[float, ...]

    @property
    def matched_at(self) -> float | None:
        """The smallest budget whose mean accuracy is at least ``target``; None if none is."""
        return next((budget for budget, accuracy in zip(self.budgets, self.accuracies) if accuracy >= self.target),
                    None)

    @property
    def factor(self) -> float | None:
        """``matched_at / fast_epochs``: the speed-up at equal accuracy; None if no budget matched."""
        matched = self.matched_at
        return None if matched is None else matched / self.fast_epochs

    @property
    def bracket(self) -> tuple[float, float]:
        """The speed-up lies in ``(low, high]``: ``high`` is :attr:`factor`, ``low`` the largest
        budget below ``matched_at`` over ``fast_epochs`` (0 if ``matched_at`` is the smallest
        budget). If no budget matched: ``(largest budget / fast_epochs, inf)``."""
        matched = self.matched_at
        if matched is None:
            return self.budgets[-1] / self.fast_epochs, float("inf")
        below = [budget for budget in self.budgets if budget < matched]
        return (below[-1] / self.fast_epochs if below else 0.0), matched / self.fast_epochs


def speedup(fast_epochs: float, fast: Sequence[float], baseline: Mapping[float, Sequence[float]]) -> Speedup:
    """Epochs to a target accuracy (Smith & Topin 2019): the fast method reached the mean of
    ``fast`` (its final accuracy per seed) in ``fast_epochs``; ``baseline`` maps each budget (epochs
    of a full run of the baseline) to its final accuracy per seed. The result's ``factor`` is

    .. math:: \\frac{\\min\\{B : \\overline{acc}_{base}(B) \\ge \\overline{acc}_{fast}\\}}{E_{fast}}

    Budgets are compared by their means over seeds; the grid of budgets limits the resolution, which
    ``bracket`` states.

    Example:
        >>> result = speedup(3, [0.850, 0.852, 0.848], {3: [0.84, 0.84, 0.84], 4: [0.846, 0.848, 0.847],
        ...                                            6: [0.851, 0.853, 0.852]})
        >>> result.matched_at, result.factor, result.bracket
        (6, 2.0, (1.3333333333333333, 2.0))
    """
    fast_epochs = check_positive("fast_epochs", fast_epochs)
    target = float(np.mean(_scores("fast", fast)))
    if not isinstance(baseline, Mapping) or not baseline:
        raise ArgumentTypeError(f"baseline must be a non-empty dict {{epochs: accuracies per seed}}; got "
                                f"{type(baseline).__name__}")
    for budget in baseline:
        check_positive("a budget (key) of baseline", budget)
    budgets = sorted(baseline)
    accuracies = tuple(float(np.mean(_scores(f"baseline[{budget!r}]", baseline[budget]))) for budget in budgets)
    return Speedup(fast_epochs, target, tuple(budgets), accuracies)
