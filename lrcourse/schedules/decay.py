r"""Schedules that lower the learning rate as training goes on.

Each is a frozen dataclass called with a 0-based step, returning the absolute LR for that
step; building one checks its arguments. :math:`\eta_0` is ``base_lr`` throughout.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from decimal import Decimal

from ._common import check_at_least, check_between, check_int, check_positive, check_step, cos_between


def _geometric(base_lr: float, gamma: float, k: int) -> float:
    # In decimal on the numbers as typed, rounded once, so the worked examples come out
    # exact: 0.1 * 0.1 is 0.01 here, where binary floats give 0.010000000000000002.
    return float(Decimal(repr(float(base_lr))) * Decimal(repr(float(gamma))) ** k)


@dataclass(frozen=True, kw_only=True)
class Constant:
    r"""The same LR at every step.

    .. math::
        \eta_t = \eta_0

    where :math:`\eta_t` is the LR at step :math:`t` and :math:`\eta_0` is ``base_lr``.

    Args:
        base_lr (float): the LR; > 0.

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
    ``step_decay(base_lr=0.1, step_size=30, gamma=0.1)(45) == 0.01`` exactly.

    Args:
        base_lr (float): the LR of steps ``0 .. step_size - 1``; > 0.
        step_size (int): steps between decays; >= 1.
        gamma (float): factor of each decay; > 0. Default: 0.1.

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
        return _geometric(self.base_lr, self.gamma, check_step(step) // self.step_size)


@dataclass(frozen=True, kw_only=True)
class MultiStep:
    r"""Multiply the LR by ``gamma`` at each milestone step (PyTorch's ``MultiStepLR``).

    .. math::
        \eta_t = \eta_0 \, \gamma^{\#\{m_i \le t\}}

    where :math:`\#\{m_i \le t\}` counts the ``milestones`` :math:`m_i` reached by step
    :math:`t` and :math:`\gamma` is ``gamma``.

    Args:
        base_lr (float): the LR before the first milestone; > 0.
        milestones (sequence of int): strictly increasing steps >= 1; stored as a tuple.
        gamma (float): factor of each decay; > 0. Default: 0.1.

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

    def __call__(self, step: int) -> float:
        return _geometric(self.base_lr, self.gamma, bisect_right(self.milestones, check_step(step)))


@dataclass(frozen=True, kw_only=True)
class Exponential:
    r"""Multiply the LR by ``gamma`` every step (PyTorch's ``ExponentialLR``).

    .. math::
        \eta_t = \eta_0 \, \gamma^t

    where :math:`t` is the step and :math:`\gamma` is ``gamma``; computed in decimal, like
    ``step_decay``, so ``exponential(base_lr=0.1, gamma=0.96)(2) == 0.09216``. ``gamma > 1``
    grows the LR instead, as the LR range test does.

    Args:
        base_lr (float): the LR of step 0; > 0.
        gamma (float): factor per step; > 0.

    Reference: Senior et al., *An Empirical Study of Learning Rates in Deep Neural
    Networks for Speech Recognition*, ICASSP 2013.
    """

    base_lr: float
    gamma: float

    def __post_init__(self):
        check_positive("base_lr", self.base_lr)
        check_positive("gamma", self.gamma)

    def __call__(self, step: int) -> float:
        return _geometric(self.base_lr, self.gamma, check_step(step))


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


@dataclass(frozen=True, kw_only=True)
class Polynomial:
    r"""Decay to 0 along a polynomial over ``total_steps`` (PyTorch's ``PolynomialLR``).

    .. math::
        \eta_t = \eta_0 \left(1 - \frac{\min(t, T)}{T}\right)^p

    where :math:`T` is ``total_steps`` (PyTorch's ``total_iters``) and :math:`p` is
    ``power``. The LR reaches 0 at step :math:`T` and stays there.

    Args:
        base_lr (float): the LR of step 0; > 0.
        total_steps (int): the step at which the LR reaches 0; >= 1.
        power (float): the exponent; > 0 (1 is linear decay). Default: 1.0.

    Reference: Chen et al., *DeepLab: Semantic Image Segmentation with Deep Convolutional
    Nets, Atrous Convolution, and Fully Connected CRFs*, TPAMI 2018 ("poly", power 0.9).
    """

    base_lr: float
    total_steps: int
    power: float = 1.0

    def __post_init__(self):
        check_positive("base_lr", self.base_lr)
        check_int("total_steps", self.total_steps, 1)
        check_positive("power", self.power)

    def __call__(self, step: int) -> float:
        return self.base_lr * (1 - min(check_step(step), self.total_steps) / self.total_steps) ** self.power


@dataclass(frozen=True, kw_only=True)
class Cosine:
    r"""Cosine annealing from ``base_lr`` to ``eta_min`` (PyTorch's ``CosineAnnealingLR``).

    .. math::
        \eta_t = \eta_{\min} + \tfrac{1}{2}(\eta_0 - \eta_{\min})
                 \left(1 + \cos\frac{\pi t}{T}\right)

    where :math:`T` is ``total_steps`` (PyTorch's ``T_max``). The LR reaches
    :math:`\eta_{\min}` at step :math:`T`; past it the cosine goes on, back up to
    :math:`\eta_0` at :math:`2T`, as PyTorch's does (``cosine_restarts`` restarts instead).

    Args:
        base_lr (float): the LR of step 0; > 0.
        total_steps (int): steps from ``base_lr`` down to ``eta_min``; >= 1.
        eta_min (float): the lowest LR; in ``[0, base_lr]``. Default: 0.0.

    Reference: Loshchilov & Hutter, *SGDR: Stochastic Gradient Descent with Warm
    Restarts*, ICLR 2017.
    """

    base_lr: float
    total_steps: int
    eta_min: float = 0.0

    def __post_init__(self):
        check_positive("base_lr", self.base_lr)
        check_int("total_steps", self.total_steps, 1)
        check_between("eta_min", self.eta_min, 0, self.base_lr, closed="both")

    def __call__(self, step: int) -> float:
        return cos_between(self.base_lr, self.eta_min, check_step(step) / self.total_steps)


@dataclass(frozen=True, kw_only=True)
class LinearDecay:
    r"""Straight down to 0 over ``total_steps``, as BERT does after its warm-up.

    .. math::
        \eta_t = \eta_0 \left(1 - \frac{\min(t, T)}{T}\right)

    where :math:`T` is ``total_steps``; PyTorch's ``LinearLR(start_factor=1,
    end_factor=0, total_iters=T)``. BERT's schedule is ``linear_warmup(warmup_steps=w,
    then=linear_decay(base_lr=lr, total_steps=T - w))``.

    Args:
        base_lr (float): the LR of step 0; > 0.
        total_steps (int): the step at which the LR reaches 0 (and stays); >= 1.

    Reference: Devlin et al., *BERT: Pre-training of Deep Bidirectional Transformers for
    Language Understanding*, NAACL 2019.
    """

    base_lr: float
    total_steps: int

    def __post_init__(self):
        check_positive("base_lr", self.base_lr)
        check_int("total_steps", self.total_steps, 1)

    def __call__(self, step: int) -> float:
        return self.base_lr * (1 - min(check_step(step), self.total_steps) / self.total_steps)


constant = Constant
step_decay = StepDecay
multistep = MultiStep
exponential = Exponential
inverse_time = InverseTime
polynomial = Polynomial
cosine = Cosine
linear_decay = LinearDecay
