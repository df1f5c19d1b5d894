"""Argument checks shared by the whole package, and the few idioms every module needs.

Every check raises ``ValueError`` (``TypeError`` where the type is wrong) naming the parameter and
what it allows, so a bad argument fails where it is passed, before any model, optimizer or file
changes. This module is the ground floor: it imports nothing from lrcourse.
"""

from __future__ import annotations

import math
from numbers import Integral, Real
from typing import Any

import torch


class ArgumentTypeError(TypeError, ValueError):
    """An argument of the wrong type. A ``TypeError``, and also a ``ValueError`` so that code written
    against the package's older "every bad argument is a ValueError" promise keeps working."""


def is_real(value) -> bool:
    """A finite real number (NumPy scalars and 0-d tensors included); not a bool."""
    if isinstance(value, torch.Tensor):
        return value.ndim == 0 and not value.dtype.is_complex and value.dtype != torch.bool and \
            math.isfinite(float(value))
    return isinstance(value, Real) and not isinstance(value, bool) and math.isfinite(value)


def _bad(name: str, value, allowed: str) -> Exception:
    """The error for ``value`` that is not ``allowed``: a TypeError when it is not a number at all."""
    numeric = is_real(value) or isinstance(value, Real) or (isinstance(value, torch.Tensor) and value.ndim == 0)
    kind = ValueError if numeric and not isinstance(value, bool) else ArgumentTypeError
    shown = f"{value!r}" if numeric else f"{type(value).__name__} {value!r}"
    return kind(f"{name} must be {allowed}; got {shown}")


def as_float(name: str, value) -> float:
    """``value`` as a Python float, if it is a finite real number (a 0-d tensor counts)."""
    if not is_real(value):
        raise _bad(name, value, "a finite number")
    return float(value)


def check_positive(name: str, value) -> float:
    """``value > 0`` and finite; returns it as a float."""
    if not (is_real(value) and float(value) > 0):
        raise _bad(name, value, "a finite number > 0")
    return float(value)


def check_at_least(name: str, value, low: float) -> float:
    if not (is_real(value) and float(value) >= low):
        raise _bad(name, value, f"a finite number >= {low:g}")
    return float(value)


def check_between(name: str, value, low: float, high: float, *, closed: str = "neither") -> float:
    """``value`` in the interval from ``low`` to ``high``; ``closed`` is "neither", "low", "high" or "both"."""
    number = float(value) if is_real(value) else math.nan
    above = number >= low if closed in ("low", "both") else number > low
    below = number <= high if closed in ("high", "both") else number < high
    if not (above and below):
        left = "[" if closed in ("low", "both") else "("
        right = "]" if closed in ("high", "both") else ")"
        raise _bad(name, value, f"a number in {left}{low:g}, {high:g}{right}")
    return number


def check_int(name: str, value, minimum: int | None = None, maximum: int | None = None) -> int:
    """An integer (NumPy integers too; not a bool or a float) within ``[minimum, maximum]``; returns it."""
    if isinstance(value, bool) or not isinstance(value, Integral) or \
            (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise _bad(name, value, f"an int{_range_text(minimum, maximum)}")
    return int(value)


def _range_text(minimum, maximum) -> str:
    if minimum is not None and maximum is not None:
        return f" from {minimum} to {maximum}"
    if minimum is not None:
        return f" >= {minimum}"
    return f" <= {maximum}" if maximum is not None else ""


def check_bool(name: str, value) -> bool:
    if not isinstance(value, bool):
        raise ArgumentTypeError(f"{name} must be True or False; got {type(value).__name__} {value!r}")
    return value


def check_choice(name: str, value, choices) -> Any:
    if value not in tuple(choices):
        raise ValueError(f"{name} must be one of {tuple(choices)}; got {value!r}")
    return value


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
