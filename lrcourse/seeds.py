"""Two runs compared over seeds, seed by seed.

Runs of ``train_with_schedule`` with the same seed start from the same weights and see the
batches in the same order, so the difference of two schedules' results *for one seed* is free
of that seed's luck. :func:`paired` takes the per-seed results of two runs (in the same seed
order) and returns the differences, their mean and spread, and a verdict by the course's rule:
one run wins when it is ahead on every seed; otherwise the difference is within the noise.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from .checks import as_float
from .compare import winner

VERDICTS = ("a", "b", "no clear difference")


@dataclass(frozen=True)
class Paired:
    """The per-seed differences ``a - b`` (``differences[i]`` for the i-th seed) of two runs named
    ``a`` and ``b``."""

    a: str
    b: str
    differences: tuple[float, ...]

    @property
    def mean(self) -> float:
        return float(np.mean(self.differences))

    @property
    def low(self) -> float:
        return float(np.min(self.differences))

    @property
    def high(self) -> float:
        return float(np.max(self.differences))

    @property
    def verdict(self) -> str:
        """``"a"`` if ``a`` is ahead on every seed (``low > 0``), ``"b"`` if ``b`` is (``high < 0``),
        else ``"no clear difference"``."""
        return winner(self.differences) or "no clear difference"

    def __str__(self) -> str:
        wins = sum(d > 0 for d in self.differences)
        ahead = {"a": "ahead on every seed", "b": "behind on every seed"}.get(
            self.verdict, f"ahead on {wins} of {len(self.differences)} seeds")
        return (f"{self.a} - {self.b}: {self.mean:+.2%} ({self.low:+.2%} to {self.high:+.2%}, "
                f"{len(self.differences)} seeds), {ahead}")


def paired(a: Sequence[float], b: Sequence[float], a_name: str = "a", b_name: str = "b") -> Paired:
    """The :class:`Paired` differences ``a[i] - b[i]`` of two runs' per-seed results (say, final
    validation accuracies), given in the same seed order.

    Example:
        >>> result = paired([0.86, 0.85, 0.87], [0.84, 0.85, 0.86], "cosine", "constant")
        >>> result.verdict, round(result.mean, 4)
        ('no clear difference', 0.01)
    """
    a_values, b_values = list(a), list(b)
    if not a_values or len(a_values) != len(b_values):
        raise ValueError(f"a and b must hold one result per seed, the same non-zero number; got {len(a_values)} "
                         f"and {len(b_values)}")
    differences = tuple(as_float(f"a[{i}]", x) - as_float(f"b[{i}]", y)
                        for i, (x, y) in enumerate(zip(a_values, b_values)))
    return Paired(str(a_name), str(b_name), differences)
