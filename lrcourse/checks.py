"""Argument checks shared by the whole package, and the few idioms every module needs.

Every check raises ``ValueError`` (``TypeError`` where the type is wrong) naming the parameter and
what it allows, so a bad argument fails where it is passed, before any model, optimizer or file
changes. This module is the ground floor: it imports nothing from lrcourse.
"""

from __future__ import annotations

import math
import os
from numbers import Integral, Real
from pathlib import Path
from typing import Any

import torch


class ArgumentTypeError(TypeError, ValueError):
    """An argument of the wrong type. A ``TypeError``, and also a ``ValueError`` so that code written
    against the package's older "every bad argument is a ValueError" promise keeps working."""


def scalar(value):
    """A 0-d tensor or NumPy array as a Python number; anything else unchanged."""
    if getattr(value, "ndim", None) == 0 and hasattr(value, "item") and not isinstance(value, (bool, Real)):
        return value.item()
    return value


def is_real(value) -> bool:
    """A finite real number (NumPy scalars, 0-d arrays and 0-d tensors included); not a bool."""
    value = scalar(value)
    return isinstance(value, Real) and not isinstance(value, bool) and math.isfinite(value)


def _interval(low, high, low_open: bool = False, high_open: bool = False) -> str:
    if low is not None and high is not None:
        return f" in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
    if low is not None:
        return f" {'>' if low_open else '>='} {low:g}"
    if high is not None:
        return f" {'<' if high_open else '<='} {high:g}"
    return ""


def check_number(name: str, value, low: float | None = None, high: float | None = None, *,
                 low_open: bool = False, high_open: bool = False) -> float:
    """``value`` as a finite ``float`` within the bounds (open or closed; either may be None).
    Not a number at all (a str, a bool, None): a TypeError; NaN, inf or out of bounds: a ValueError."""
    value = scalar(value)
    interval = _interval(low, high, low_open, high_open)
    if isinstance(value, bool) or not isinstance(value, Real):
        raise ArgumentTypeError(f"{name} must be a number{interval}; got {type(value).__name__} {value!r}")
    number = float(value)
    inside = math.isfinite(number)
    if inside and low is not None:
        inside = number > low if low_open else number >= low
    if inside and high is not None:
        inside = number < high if high_open else number <= high
    if not inside:
        raise ValueError(f"{name} must be a finite number{interval}; got {value!r}")
    return number


def as_float(name: str, value) -> float:
    """``value`` as a Python float, if it is a finite real number (a 0-d tensor counts)."""
    return check_number(name, value)


def check_positive(name: str, value) -> float:
    """``value > 0`` and finite; returns it as a float."""
    return check_number(name, value, 0, low_open=True)


def check_at_least(name: str, value, low: float) -> float:
    return check_number(name, value, low)


def check_between(name: str, value, low: float, high: float, *, closed: str = "neither") -> float:
    """``value`` in the interval from ``low`` to ``high``; ``closed`` is "neither", "low", "high" or "both"."""
    return check_number(name, value, low, high, low_open=closed not in ("low", "both"),
                        high_open=closed not in ("high", "both"))


def check_int(name: str, value, low: int | None = None, high: int | None = None) -> int:
    """An integer (NumPy integers and 0-d integer tensors too) within ``[low, high]`` (either bound
    may be None); returns it as an ``int``. A float or a bool is a TypeError, even 2.0."""
    value = scalar(value)
    allowed = f"an int{_interval(low, high)}"
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise ArgumentTypeError(f"{name} must be {allowed}; got {type(value).__name__} {value!r}")
    if (low is not None and value < low) or (high is not None and value > high):
        raise ValueError(f"{name} must be {allowed}; got {value!r}")
    return int(value)


def check_bool(name: str, value) -> bool:
    if not isinstance(value, bool):
        raise ArgumentTypeError(f"{name} must be True or False; got {type(value).__name__} {value!r}")
    return value


def check_choice(name: str, value, choices) -> Any:
    choices = tuple(choices)
    if all(isinstance(choice, str) for choice in choices) and not isinstance(value, str):
        raise ArgumentTypeError(f"{name} must be one of {choices}; got {type(value).__name__} {value!r}")
    if value not in choices:
        raise ValueError(f"{name} must be one of {choices}; got {value!r}")
    return value


def check_path(name: str, value) -> Path:
    """``value`` (a str or ``os.PathLike``) as a ``Path`` with ``~`` expanded."""
    if not isinstance(value, (str, os.PathLike)) or isinstance(value, bytes):
        raise ArgumentTypeError(f"{name} must be a folder path (str or pathlib.Path); got {type(value).__name__} "
                                f"{value!r}")
    if isinstance(value, str) and not value.strip():
        raise ValueError(f"{name} must be a folder path; got an empty string")
    return Path(value).expanduser()


def check_callable(name: str, value) -> None:
    if not callable(value):
        raise ArgumentTypeError(f"{name} must be callable; got {type(value).__name__}")


def check_module(name: str, value) -> torch.nn.Module:
    if not isinstance(value, torch.nn.Module):
        raise ArgumentTypeError(f"{name} must be a torch.nn.Module; got {type(value).__name__}")
    return value


def check_optimizer_holds(model: torch.nn.Module, optimizer) -> None:
    """``optimizer`` is an optimizer, and every parameter it updates belongs to ``model``."""
    if not isinstance(optimizer, torch.optim.Optimizer):
        raise ArgumentTypeError(f"optimizer must be a torch.optim.Optimizer; got {type(optimizer).__name__}")
    model_params = {id(p) for p in model.parameters()}
    optimized = [p for group in optimizer.param_groups for p in group["params"]]
    if not optimized or any(id(p) not in model_params for p in optimized):
        raise ValueError("optimizer must optimize this model's parameters; it holds parameters that are not "
                         "the model's (was it built for another model, or before the model was replaced?)")


def model_device(model: torch.nn.Module) -> torch.device:
    """Where the model's parameters live (the CPU for a model without parameters)."""
    parameter = next(model.parameters(), None)
    return parameter.device if parameter is not None else torch.device("cpu")


def on_device(data, device: torch.device):
    """``data`` (anything with ``.device`` and ``.to``, or None) on ``device``, copied only if it is elsewhere."""
    return data if data is None or data.device == device else data.to(device)


def ceil_div(a: int, b: int) -> int:
    """``ceil(a / b)`` for positive ints, without floating point."""
    return -(-a // b)
