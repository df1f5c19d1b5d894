"""What the schedule modules share: the ``Schedule`` type, the step check, half a cosine, and
the argument checks (from :mod:`lrcourse.checks`), so a bad schedule fails where it is built,
not thousands of steps into training.
"""

from __future__ import annotations

import math
from numbers import Integral
from typing import Callable

from ..checks import check_at_least, check_between, check_int, check_positive, is_real

__all__ = ["Schedule", "check_at_least", "check_between", "check_int", "check_max_lr", "check_positive",
           "check_schedule", "check_step", "cos_between", "is_real"]

#: A schedule maps a 0-based step to an absolute learning rate (or momentum).
Schedule = Callable[[int], float]


_is_real = is_real


def cos_between(start: float, end: float, x: float) -> float:
    """Half a cosine from ``start`` at ``x = 0`` to ``end`` at ``x = 1`` (and on, periodic).

    Weighted so both ends are exact: ``start + (end - start) * 1`` can miss ``end`` by a bit.
    """
    weight = (1 + math.cos(math.pi * x)) / 2
    return start * weight + end * (1 - weight)


def check_max_lr(base_lr, max_lr) -> None:
    check_positive("base_lr", base_lr)
    check_positive("max_lr", max_lr)
    if max_lr < base_lr:
        raise ValueError(f"max_lr must be >= base_lr={base_lr!r}; got {max_lr!r}")


def check_schedule(name: str, value) -> None:
    if not callable(value):
        raise ValueError(f"{name} must be a schedule (a callable of the step); got {type(value).__name__}")


def check_step(step) -> int:
    """The step as an ``int``; NumPy integers are accepted, floats and negatives are not."""
    if isinstance(step, bool) or not isinstance(step, Integral) or step < 0:
        raise ValueError(f"step must be an int >= 0; got {step!r}")
    return int(step)
