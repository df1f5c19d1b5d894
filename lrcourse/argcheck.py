"""Argument checks: a ``TypeError`` for a wrong type, a ``ValueError`` for a wrong value,
each naming the parameter and what it allows. Each returns the value as a plain Python
object, so NumPy scalars and 0-d tensors (valid numbers) are accepted and normalised.
"""

from __future__ import annotations

import math
import os
from numbers import Integral, Real
from pathlib import Path


def _interval(low, high, low_open: bool, high_open: bool) -> str:
    if low is not None and high is not None:
        return f"in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
    if low is not None:
        return f"{'>' if low_open else '>='} {low:g}"
    if high is not None:
        return f"{'<' if high_open else '<='} {high:g}"
    return ""


def _scalar(value):
    """A 0-d tensor or array as a Python number; anything else unchanged."""
    if getattr(value, "ndim", None) == 0 and hasattr(value, "item") and not isinstance(value, (bool, Real)):
        return value.item()
    return value


def check_int(name: str, value, low: int | None = None, high: int | None = None) -> int:
    """``value`` as an ``int`` with ``low <= value <= high`` (either bound may be None)."""
    value = _scalar(value)
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise TypeError(f"{name} must be an int; got {type(value).__name__} {value!r}")
    if (low is not None and value < low) or (high is not None and value > high):
        raise ValueError(f"{name} must be an int {_interval(low, high, False, False)}; got {value!r}")
    return int(value)


def check_number(name: str, value, low: float | None = None, high: float | None = None, *,
                 low_open: bool = False, high_open: bool = False) -> float:
    """``value`` as a finite ``float`` within the bounds (open or closed); NaN and inf are refused."""
    value = _scalar(value)
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(f"{name} must be a number; got {type(value).__name__} {value!r}")
    value = float(value)
    allowed = f"a finite number {_interval(low, high, low_open, high_open)}".rstrip()
    if not math.isfinite(value):
        raise ValueError(f"{name} must be {allowed}; got {value!r}")
    if low is not None and (value <= low if low_open else value < low):
        raise ValueError(f"{name} must be {allowed}; got {value!r}")
    if high is not None and (value >= high if high_open else value > high):
        raise ValueError(f"{name} must be {allowed}; got {value!r}")
    return value


def check_bool(name: str, value) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be True or False; got {type(value).__name__} {value!r}")
    return value


def check_choice(name: str, value, choices: tuple[str, ...]) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{name} must be one of {choices}; got {type(value).__name__} {value!r}")
    if value not in choices:
        raise ValueError(f"{name} must be one of {choices}; got {value!r}")
    return value


def check_path(name: str, value) -> Path:
    """``value`` (a str or ``os.PathLike``) as a ``Path`` with ``~`` expanded."""
    if not isinstance(value, (str, os.PathLike)) or isinstance(value, bytes):
        raise TypeError(f"{name} must be a folder path (str or pathlib.Path); got {type(value).__name__} {value!r}")
    if isinstance(value, str) and not value.strip():
        raise ValueError(f"{name} must be a folder path; got an empty string")
    return Path(value).expanduser()
