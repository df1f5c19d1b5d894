r"""Schedules glued from phases in normalized time, as fastai's ``combine_scheds``.

A *phase* is a callable of the position ``pos`` in ``[0, 1]`` through it: ``cos_anneal``,
``lin_anneal`` and ``exp_anneal`` go from ``start`` at ``pos = 0`` to ``end`` at ``pos = 1``.
:func:`combine` lays phases end to end over ``total_steps`` steps, each taking its share
``pcts[i]`` of the normalized time ``pos = step / total_steps``. A step on a boundary
belongs to the later phase, so a phase that starts high again is a restart. The examples
assume a ``model``, an ``optimizer``, a ``loss_fn`` and a list of ``batches``.
"""

from __future__ import annotations

import math
import sys
from bisect import bisect_right
from dataclasses import dataclass, field
from typing import Callable

from ._common import _is_real, check_int, check_positive, check_step, cos_between

#: A phase maps the position in [0, 1] through it to a value.
Phase = Callable[[float], float]


def _check_pos(pos) -> float:
    if not (_is_real(pos) and 0 <= pos <= 1):
        raise ValueError(f"pos must be a number in [0, 1]; got {pos!r}")
    return pos


def _check_value(name: str, value) -> None:
    if not _is_real(value):
        raise ValueError(f"{name} must be a finite number; got {value!r}")


@dataclass(frozen=True)
class CosAnneal:
    r"""Half a cosine from ``start`` to ``end``: flat at both ends, steepest in the middle.

    .. math::
        v(p) = s\,w + e\,(1 - w), \quad w = \tfrac{1}{2}(1 + \cos \pi p)

    where :math:`p` is ``pos``, :math:`s` is ``start`` and :math:`e` is ``end``.

    Example:
        >>> phase = S.cos_anneal(0.1, 0.0)
        >>> phase(0), phase(0.5), phase(1)
        (0.1, 0.05, 0.0)
    """

    start: float
    end: float

    def __post_init__(self):
        _check_value("start", self.start)
        _check_value("end", self.end)

    def __call__(self, pos: float) -> float:
        return cos_between(self.start, self.end, _check_pos(pos))


@dataclass(frozen=True)
class LinAnneal:
    r"""A straight line from ``start`` to ``end``: :math:`v(p) = s\,(1 - p) + e\,p`.

    Example:
        >>> phase = S.lin_anneal(0.1, 0.0)
        >>> phase(0), phase(0.25), phase(1)
        (0.1, 0.07500000000000001, 0.0)
    """

    start: float
    end: float

    def __post_init__(self):
        _check_value("start", self.start)
        _check_value("end", self.end)

    def __call__(self, pos: float) -> float:
        pos = _check_pos(pos)
        return self.start * (1 - pos) + self.end * pos


@dataclass(frozen=True)
class ExpAnneal:
    r"""Geometric from ``start`` to ``end``, a straight line on a log axis (the LR range test).

    .. math::
        v(p) = s \left(\frac{e}{s}\right)^p

    Example:
        >>> phase = S.exp_anneal(1e-7, 10.0)  # the LR range test's sweep
        >>> phase(0), round(phase(0.5), 12), phase(1)
        (1e-07, 0.001, 10.0)
    """

    start: float
    end: float

    def __post_init__(self):
        check_positive("start", self.start)
        check_positive("end", self.end)
        if not sys.float_info.min <= self.end / self.start <= sys.float_info.max:
            # The phase multiplies start by powers of end / start.
            raise ValueError(f"end / start must be a normal float, between 2.2e-308 and 1.8e308; got "
                             f"end={self.end!r} with start={self.start!r}")

    def __call__(self, pos: float) -> float:
        return self.start * (self.end / self.start) ** _check_pos(pos)


@dataclass(frozen=True)
class Combine:
    r"""Phases end to end over ``total_steps`` steps, in normalized time.

    .. math::
        \eta_t = \phi_i\!\left(\frac{t - a_i}{a_{i+1} - a_i}\right), \quad
        a_i = T \sum_{j < i} p_j, \quad a_i \le t < a_{i+1}

    where :math:`T` is ``total_steps``, :math:`p_j` are ``pcts`` and :math:`\phi_i` are
    ``phases``; the last phase also takes :math:`t = T`, at its ``pos = 1``. Boundaries
    need not fall on whole steps. Steps past ``total_steps`` are undefined and raise.

    fastai's 1-cycle is two cosine phases, and SGDR a run of equal ones::

        combine([0.25, 0.75], [cos_anneal(0.004, 0.1), cos_anneal(0.1, 1e-6)], 1000)
        combine([0.25] * 4, [cos_anneal(0.1, 0.0)] * 4, 400)

    Args:
        pcts (sequence of float): each phase's share of the steps; each > 0, summing to 1.
        phases (sequence of phase): callables of ``pos`` in ``[0, 1]``, one per share.
        total_steps (int): the step at which the last phase ends; >= 1.

    Example:
        >>> schedule = S.combine([0.25, 0.75], [S.lin_anneal(0.01, 0.1), S.cos_anneal(0.1, 0.0)], 100)
        >>> schedule(0), schedule(25), schedule(100)  # warm up for 25 steps, then a cosine
        (0.01, 0.1, 0.0)
        >>> scheduler = S.to_lambda_lr(optimizer, schedule)
        >>> for x, y in batches:
        ...     loss_fn(model(x), y).backward()
        ...     optimizer.step()
        ...     optimizer.zero_grad()
        ...     scheduler.step()  # after optimizer.step()

    Reference: Howard & Gugger, *fastai: A Layered API for Deep Learning*, Information
    2020 (``combine_scheds``).
    """

    pcts: tuple[float, ...]
    phases: tuple[Phase, ...]
    total_steps: int
    _edges: tuple[float, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        pcts, phases = tuple(self.pcts), tuple(self.phases)
        object.__setattr__(self, "pcts", pcts)
        object.__setattr__(self, "phases", phases)
        if not pcts or not all(_is_real(p) and p > 0 for p in pcts) or not math.isclose(math.fsum(pcts), 1):
            raise ValueError(f"pcts must be numbers > 0 that sum to 1; got {list(pcts)}")
        if len(phases) != len(pcts):
            raise ValueError(f"phases must have one entry per entry of pcts ({len(pcts)}); got {len(phases)}")
        for phase in phases:
            if not callable(phase):
                raise ValueError(f"phases must be callables of pos in [0, 1]; got {type(phase).__name__}")
        check_int("total_steps", self.total_steps, 1)
        edges = [0.0]
        for i in range(1, len(pcts)):
            edge = math.fsum(pcts[:i]) * self.total_steps
            # Shares like [0.1] * 10 add up to 0.30000000000000004, which would put step 3
            # of 10 at the end of phase 2 instead of the start of phase 3: snap to the step.
            if abs(edge - round(edge)) <= 1e-9 * self.total_steps:
                edge = float(round(edge))
            edges.append(edge)
        edges.append(float(self.total_steps))
        if any(b <= a for a, b in zip(edges, edges[1:])):
            raise ValueError(f"pcts must each cover part of total_steps={self.total_steps}; got {list(pcts)}")
        object.__setattr__(self, "_edges", tuple(edges))

    def __call__(self, step: int) -> float:
        t = check_step(step)
        if t > self.total_steps:
            raise ValueError(f"step must be <= total_steps={self.total_steps}; got {t}")
        i = bisect_right(self._edges, t, 0, len(self.phases)) - 1
        start, end = self._edges[i], self._edges[i + 1]
        return self.phases[i]((t - start) / (end - start))


cos_anneal = CosAnneal
lin_anneal = LinAnneal
exp_anneal = ExpAnneal
combine = Combine
