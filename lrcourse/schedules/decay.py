r"""Schedules that lower the learning rate step by step: constant, step, multistep, exponential, 1/t.

Each is a frozen dataclass called with a 0-based step, returning the absolute LR for that
step; building one checks its arguments. :math:`\eta_0` is ``base_lr`` throughout. The
examples assume a ``model``, an ``optimizer``, a ``loss_fn`` and a list of ``batches``.
"""

from __future__ import annotations

import math
import sys
from bisect import bisect_right
from dataclasses import dataclass
from decimal import Context, Decimal, InvalidOperation

from ._common import check_at_least, check_int, check_positive, check_step

# Overflow gives Infinity rather than an exception, so the check below can name the step.
_DECIMAL = Context(prec=28, traps=[InvalidOperation])


def _power(base_lr: float, gamma: float, k: int) -> Decimal:
    # In decimal on the numbers as typed, rounded once, so the worked examples come out
    # exact: 0.1 * 0.1 is 0.01 here, where binary floats give 0.010000000000000002.
    return _DECIMAL.multiply(Decimal(repr(float(base_lr))), _DECIMAL.power(Decimal(repr(float(gamma))), k))


def _last_finite_power(base_lr: float, gamma: float) -> int:
    """The largest ``k`` for which ``base_lr * gamma**k`` is a finite float (``gamma > 1``)."""
    k = max(0, int((math.log(sys.float_info.max) - math.log(base_lr)) / math.log(gamma)))
    while math.isfinite(float(_power(base_lr, gamma, k + 1))):
        k += 1
    while k > 0 and not math.isfinite(float(_power(base_lr, gamma, k))):
        k -= 1
    return k


def _geometric(base_lr: float, gamma: float, k: int, *, step: int, steps_per_factor: int = 1) -> float:
    r"""``base_lr * gamma**k``, the LR of ``step``, for schedules that apply ``gamma`` once
    every ``steps_per_factor`` steps.

    An LR past the largest float raises a ``ValueError`` naming the step and ``gamma``.
    One below the smallest normal float (2.2e-308) is 0.0: no LR that small moves a weight
    (``lr * grad`` underflows), and PyTorch's repeated multiplication reaches 0.0 too.
    """
    lr = float(_power(base_lr, gamma, k))
    if math.isinf(lr):
        last = (_last_finite_power(base_lr, gamma) + 1) * steps_per_factor - 1
        raise ValueError(f"step={step} overflows: base_lr * gamma**{k} is past the largest float (1.8e308) "
                         f"with gamma={gamma!r} > 1; the LR is finite up to step {last}")
    return lr if lr >= sys.float_info.min else 0.0


@dataclass(frozen=True, kw_only=True)
class Constant:
    r"""The same LR at every step.

    .. math::
        \eta_t = \eta_0

    where :math:`\eta_t` is the LR at step :math:`t` and :math:`\eta_0` is ``base_lr``.

    Args:
        base_lr (float): the LR; > 0.

    Example:
        >>> schedule = S.constant(base_lr=0.1)
        >>> scheduler = S.to_lambda_lr(optimizer, schedule)
        >>> for x, y in batches:
        ...     loss_fn(model(x), y).backward()
        ...     optimizer.step()
        ...     optimizer.zero_grad()
        ...     scheduler.step()  # after optimizer.step()
        >>> optimizer.param_groups[0]["lr"]
        0.1

    Reference: Goodfellow, Bengio & Courville, *Deep Learning*, 2016, section 8.3.1 (why
    SGD at a constant LR keeps moving: its gradient noise does not vanish at a minimum).
    """

    base_lr: float

    def __post_init__(self):
        check_positive("base_lr", self.base_lr)

    def __call__(self, step: int) -> float:
        check_step(step)
        return self.base_lr


@dataclass(frozen=True, kw_only=True)
class StepDecay:
    r"""Multiply the LR by ``gamma`` every ``step_size`` steps (PyTorch's ``StepLR``).

    .. math::
        \eta_t = \eta_0 \, \gamma^{\lfloor t / s \rfloor}

    where :math:`t` is the step, :math:`s` is ``step_size`` and :math:`\gamma` is ``gamma``.
    Computed in decimal on the arguments as typed, so
    ``step_decay(base_lr=0.1, step_size=30, gamma=0.1)(45) == 0.01`` exactly. With
    ``gamma > 1`` a step whose LR would overflow a float raises; an LR decayed below
    2.2e-308 is 0.0.

    Args:
        base_lr (float): the LR of steps ``0 .. step_size - 1``; > 0.
        step_size (int): steps between decays; >= 1.
        gamma (float): factor of each decay; > 0. Default: 0.1.

    Example:
        >>> schedule = S.step_decay(base_lr=0.1, step_size=30, gamma=0.1)
        >>> schedule(29), schedule(30), schedule(60)
        (0.1, 0.01, 0.001)
        >>> scheduler = S.to_lambda_lr(optimizer, schedule)
        >>> for x, y in batches:  # step_size counts optimizer steps, not epochs
        ...     loss_fn(model(x), y).backward()
        ...     optimizer.step()
        ...     optimizer.zero_grad()
        ...     scheduler.step()  # after optimizer.step()

    Reference: Szegedy et al., *Rethinking the Inception Architecture for Computer
    Vision*, CVPR 2016 (LR 0.045, times 0.94 every two epochs).
    """

    base_lr: float
    step_size: int
    gamma: float = 0.1

    def __post_init__(self):
        check_positive("base_lr", self.base_lr)
        check_int("step_size", self.step_size, 1)
        check_positive("gamma", self.gamma)

    def __call__(self, step: int) -> float:
        t = check_step(step)
        return _geometric(self.base_lr, self.gamma, t // self.step_size, step=t, steps_per_factor=self.step_size)


@dataclass(frozen=True, kw_only=True)
class MultiStep:
    r"""Multiply the LR by ``gamma`` at each milestone step (PyTorch's ``MultiStepLR``).

    .. math::
        \eta_t = \eta_0 \, \gamma^{\#\{m_i \le t\}}

    where :math:`\#\{m_i \le t\}` counts the ``milestones`` :math:`m_i` reached by step
    :math:`t` and :math:`\gamma` is ``gamma``. The last LR, :math:`\eta_0 \gamma^n` for
    :math:`n` milestones, must be a finite float: that is checked when built.

    Args:
        base_lr (float): the LR before the first milestone; > 0.
        milestones (sequence of int): strictly increasing steps >= 1; stored as a tuple.
        gamma (float): factor of each decay; > 0. Default: 0.1.

    Example:
        >>> schedule = S.multistep(base_lr=0.1, milestones=[30, 80], gamma=0.1)
        >>> schedule(29), schedule(30), schedule(80)
        (0.1, 0.01, 0.001)
        >>> scheduler = S.to_lambda_lr(optimizer, schedule)
        >>> for x, y in batches:
        ...     loss_fn(model(x), y).backward()
        ...     optimizer.step()
        ...     optimizer.zero_grad()
        ...     scheduler.step()  # after optimizer.step()

    Reference: He et al., *Deep Residual Learning for Image Recognition*, CVPR 2016
    (CIFAR-10: LR 0.1, divided by 10 at steps 32k and 48k).
    """

    base_lr: float
    milestones: tuple[int, ...]
    gamma: float = 0.1

    def __post_init__(self):
        check_positive("base_lr", self.base_lr)
        milestones = tuple(self.milestones)
        for m in milestones:
            check_int("milestones", m, 1)
        if any(b <= a for a, b in zip(milestones, milestones[1:])):
            raise ValueError(f"milestones must be strictly increasing; got {list(milestones)}")
        object.__setattr__(self, "milestones", milestones)
        check_positive("gamma", self.gamma)
        if milestones and math.isinf(float(_power(self.base_lr, self.gamma, len(milestones)))):
            raise ValueError(f"gamma must keep the LR a finite float over {len(milestones)} milestones "
                             f"(base_lr * gamma**{len(milestones)} <= 1.8e308); got {self.gamma!r}")

    def __call__(self, step: int) -> float:
        t = check_step(step)
        return _geometric(self.base_lr, self.gamma, bisect_right(self.milestones, t), step=t)


@dataclass(frozen=True, kw_only=True)
class Exponential:
    r"""Multiply the LR by ``gamma`` every step (PyTorch's ``ExponentialLR``).

    .. math::
        \eta_t = \eta_0 \, \gamma^t

    where :math:`t` is the step and :math:`\gamma` is ``gamma``; computed in decimal, like
    ``step_decay``, so ``exponential(base_lr=0.1, gamma=0.96)(2) == 0.09216``. ``gamma > 1``
    grows the LR instead, as the LR range test does: a step whose LR would overflow a float
    raises a ``ValueError`` naming the step and the last finite one. An LR decayed below
    2.2e-308 is 0.0.

    Args:
        base_lr (float): the LR of step 0; > 0.
        gamma (float): factor per step; > 0.

    Example:
        >>> schedule = S.exponential(base_lr=0.1, gamma=0.96)
        >>> schedule(1), schedule(2)
        (0.096, 0.09216)
        >>> scheduler = S.to_lambda_lr(optimizer, schedule)
        >>> for x, y in batches:
        ...     loss_fn(model(x), y).backward()
        ...     optimizer.step()
        ...     optimizer.zero_grad()
        ...     scheduler.step()  # after optimizer.step()
        >>> optimizer.param_groups[0]["lr"] == schedule(len(batches))
        True

    Reference: Senior et al., *An Empirical Study of Learning Rates in Deep Neural
    Networks for Speech Recognition*, ICASSP 2013.
    """

    base_lr: float
    gamma: float

    def __post_init__(self):
        check_positive("base_lr", self.base_lr)
        check_positive("gamma", self.gamma)

    def __call__(self, step: int) -> float:
        t = check_step(step)
        return _geometric(self.base_lr, self.gamma, t, step=t)


@dataclass(frozen=True, kw_only=True)
class InverseTime:
    r"""The 1/t decay of the lecture notes.

    .. math::
        \eta_t = \frac{\eta_0}{1 + k t}

    where :math:`t` is the step and :math:`k` is ``k``. The LR halves at step :math:`1/k`;
    its sum over steps diverges while the sum of its squares converges, the Robbins-Monro
    conditions for SGD to converge.

    Args:
        base_lr (float): the LR of step 0; > 0.
        k (float): decay rate per step; >= 0 (0 is a constant LR).

    Example:
        >>> schedule = S.inverse_time(base_lr=0.1, k=0.5)
        >>> schedule(0), schedule(2), schedule(6)
        (0.1, 0.05, 0.025)
        >>> scheduler = S.to_lambda_lr(optimizer, schedule)
        >>> for x, y in batches:
        ...     loss_fn(model(x), y).backward()
        ...     optimizer.step()
        ...     optimizer.zero_grad()
        ...     scheduler.step()  # after optimizer.step()

    Reference: Robbins & Monro, *A Stochastic Approximation Method*, Annals of
    Mathematical Statistics 1951.
    """

    base_lr: float
    k: float

    def __post_init__(self):
        check_positive("base_lr", self.base_lr)
        check_at_least("k", self.k, 0)

    def __call__(self, step: int) -> float:
        return self.base_lr / (1 + self.k * check_step(step))


constant = Constant
step_decay = StepDecay
multistep = MultiStep
exponential = Exponential
inverse_time = InverseTime
