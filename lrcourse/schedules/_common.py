"""What the schedule modules share: the ``Schedule`` type and the argument checks.

Every check raises ``ValueError`` naming the parameter and what it allows, so a bad
schedule fails where it is built, not thousands of steps into training.
"""

from __future__ import annotations

import math
from numbers import Integral, Real
from typing import Callable

#: A schedule maps a 0-based step to an absolute learning rate (or momentum).
Schedule = Callable[[int], float]


def _is_real(value) -> bool:
    return isinstance(value, Real) and not isinstance(value, bool) and math.isfinite(value)


def cos_between(start: float, end: float, x: float) -> float:
    """Half a cosine from ``start`` at ``x = 0`` to ``end`` at ``x = 1`` (and on, periodic).

    Weighted so both ends are exact: ``start + (end - start) * 1`` can miss ``end`` by a bit.
    """
    weight = (1 + math.cos(math.pi * x)) / 2
    return start * weight + end * (1 - weight)


def check_positive(name: str, value) -> None:
    if not (_is_real(value) and value > 0):
        raise ValueError(f"{name} must be a finite number > 0; got {value!r}")


def check_at_least(name: str, value, low: float) -> None:
    if not (_is_real(value) and value >= low):
        raise ValueError(f"{name} must be a finite number >= {low:g}; got {value!r}")


def check_between(name: str, value, low: float, high: float, *, closed: str = "neither") -> None:
    """``value`` in the interval from ``low`` to ``high``; ``closed`` is "neither", "low", "high" or "both"."""
    above = value >= low if closed in ("low", "both") else value > low
    below = value <= high if closed in ("high", "both") else value < high
    if not (_is_real(value) and above and below):
        left = "[" if closed in ("low", "both") else "("
        right = "]" if closed in ("high", "both") else ")"
        raise ValueError(f"{name} must be a number in {left}{low:g}, {high:g}{right}; got {value!r}")


def check_int(name: str, value, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, Integral) or value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}; got {value!r}")


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
