"""Search spaces: named ranges, the points of a grid, log-uniform samples, and the objective's names.

A space maps each parameter name to a range::

    {"lr": (1e-4, 1.0, "log"), "momentum": (0.8, 0.99)}

``(low, high)`` is uniform; ``(low, high, "log")`` is log-uniform, uniform in :math:`\\log x`, so every
decade gets the same share of the points. Both map a number :math:`u \\in [0, 1]` to the range:

    linear:  x = low + u (high - low)
    log:     x = low (high / low) ** u  =  exp(log low + u (log high - log low))

A grid puts ``u`` at ``k`` evenly spaced values from 0 to 1 (both ends included); random search
draws ``u`` uniformly. That one map (:meth:`Range.at`) is the only place a point of a range is made.
"""

from __future__ import annotations

import inspect
import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from ..checks import ArgumentTypeError, check_int, is_real

#: The keyword an objective declares to receive a :class:`~lrcourse.search.study.Reporter`.
REPORT = "report"
SCALES = ("linear", "log")


@dataclass(frozen=True)
class Range:
    """A parameter's range: from ``low`` to ``high``, uniform or (``log=True``) log-uniform."""

    low: float
    high: float
    log: bool = False

    def at(self, u):
        """The point at fraction ``u`` (0 to 1, a number or an array) of the range, on its scale."""
        u = np.asarray(u, dtype=float)
        if self.log:
            return np.exp(math.log(self.low) + u * (math.log(self.high) - math.log(self.low)))
        return self.low + u * (self.high - self.low)

    def to_json(self) -> list:
        return [self.low, self.high, "log" if self.log else "linear"]


def parse_space(space) -> dict[str, Range]:
    """``space`` checked and parsed into :class:`Range` objects, in its order.

    Raises ``ValueError`` for an empty space, an empty or inverted range (``low >= high``), a bound
    that is not a finite number, a log range whose low bound is not > 0, or a scale other than
    "linear" or "log"; ``TypeError`` when ``space`` is not a mapping of names to tuples.
    """
    if not isinstance(space, Mapping):
        raise ArgumentTypeError(f"space must be a dict from parameter name to (low, high) or (low, high, 'log'); "
                                f"got {type(space).__name__}")
    if not space:
        raise ValueError("space must name at least one parameter, e.g. {'lr': (1e-4, 1.0, 'log')}; got {}")
    parsed = {}
    for name, bounds in space.items():
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(f"space names must be Python identifiers (the objective's argument names); got {name!r}")
        if isinstance(bounds, (str, bytes)) or not isinstance(bounds, Sequence) or len(bounds) not in (2, 3):
            raise ArgumentTypeError(f"space[{name!r}] must be (low, high) or (low, high, 'log'); got {bounds!r}")
        low, high, scale = (*bounds, "linear") if len(bounds) == 2 else bounds
        if scale not in SCALES:
            raise ValueError(f"space[{name!r}]'s scale must be one of {SCALES}; got {scale!r}")
        for bound, value in (("low", low), ("high", high)):
            if not is_real(value):
                raise ValueError(f"space[{name!r}]'s {bound} bound must be a finite number; got {value!r}")
        if not low < high:
            raise ValueError(f"space[{name!r}] must have low < high (an empty or inverted range); got ({low!r}, "
                             f"{high!r})")
        if scale == "log" and not low > 0:
            raise ValueError(f"space[{name!r}] is a log range, so low must be > 0; got {low!r}")
        parsed[name] = Range(float(low), float(high), scale == "log")
    return parsed


def space_to_json(space: Mapping[str, Range]) -> dict[str, list]:
    return {name: r.to_json() for name, r in space.items()}


def grid_points(space: Mapping[str, Range], points) -> list[dict[str, float]]:
    """Every combination of ``points`` values per parameter (an int for all, or a dict by name),
    each from ``low`` to ``high`` inclusive on the parameter's scale; the last name varies fastest."""
    if isinstance(points, Mapping):
        unknown = sorted(set(points) - set(space))
        missing = [name for name in space if name not in points]
        if unknown or missing:
            raise ValueError(f"points must give a count for every parameter of the space {list(space)}; "
                             f"unknown {unknown}, missing {missing}")
        counts = {name: check_int(f"points[{name!r}]", points[name], 2) for name in space}
    else:
        count = check_int("points", points, 2)
        counts = {name: count for name in space}
    axes = [[float(v) for v in space[name].at(np.linspace(0.0, 1.0, counts[name]))] for name in space]
    return [dict(zip(space, combo)) for combo in itertools.product(*axes)]


def sample_points(space: Mapping[str, Range], n: int, seed: int) -> list[dict[str, float]]:
    """``n`` points drawn independently, each parameter uniformly on its scale (log-uniform for a
    log range), from a NumPy generator seeded with ``seed``: the same seed gives the same points,
    and the first ``k`` points of a longer draw are the points of a draw of ``k``."""
    check_int("n", n, 1)
    check_int("seed", seed, 0)
    u = np.random.default_rng(seed).random((n, len(space)))
    columns = [space[name].at(u[:, i]) for i, name in enumerate(space)]
    return [{name: float(column[row]) for name, column in zip(space, columns)} for row in range(n)]


def check_objective(objective, space: Mapping[str, Range]) -> bool:
    """Check that ``objective`` can be called with the space's names as keywords; return whether it
    takes a ``report`` argument (then it gets a :class:`~lrcourse.search.study.Reporter`)."""
    if not callable(objective):
        raise ArgumentTypeError(f"objective must be a function of the space's parameters; got "
                                f"{type(objective).__name__}")
    try:
        parameters = inspect.signature(objective).parameters
    except (TypeError, ValueError) as error:
        raise ArgumentTypeError(f"objective's signature cannot be read ({error}); pass a Python function") from None
    if REPORT in space:
        raise ValueError(f"space cannot name a parameter {REPORT!r}: that name is the objective's reporter")
    keywords = {name for name, p in parameters.items() if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
    takes_any = any(p.kind == p.VAR_KEYWORD for p in parameters.values())
    unknown = [name for name in space if name not in keywords and not takes_any]
    if unknown:
        raise ValueError(f"space names parameters the objective does not take: {unknown}; its parameters are "
                         f"{sorted(keywords)}")
    required = [name for name, p in parameters.items() if p.default is p.empty and name not in space
                and name != REPORT and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    if required:
        raise ValueError(f"objective requires {required}, which the space does not give; add them to the space or "
                         f"give them defaults")
    return REPORT in keywords
