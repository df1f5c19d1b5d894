r"""Warm-up: start small and rise, so early, large gradients do not wreck the weights.

:class:`LinearWarmup` puts a linear ramp in front of any schedule; :class:`InverseSqrt`
is the Transformer's warm-up and decay in one formula. The examples assume a ``model``, an
``optimizer``, a ``loss_fn`` and a list of ``batches``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ._common import Schedule, check_between, check_int, check_positive, check_schedule, check_step


@dataclass(frozen=True, kw_only=True)
class InverseSqrt:
    r"""The Transformer's schedule: linear warm-up, then decay as one over the square root.

    .. math::
        \eta_t = \eta_0 \min\left(\frac{s}{w}, \sqrt{\frac{w}{s}}\right), \quad s = t + 1

    where :math:`s` is the paper's 1-based step number and :math:`w` is ``warmup_steps``.
    The LR peaks at :math:`\eta_0` on step :math:`t = w - 1`. The paper's
    :math:`d_{model}^{-0.5} \min(s^{-0.5}, s\,w^{-1.5})` is this with
    :math:`\eta_0 = (d_{model} w)^{-0.5}`, about 7.0e-4 for :math:`d_{model} = 512`, :math:`w = 4000`.

    Args:
        base_lr (float): the peak LR; > 0.
        warmup_steps (int): steps to the peak; >= 1.

    Example:
        >>> schedule = S.inverse_sqrt(base_lr=7e-4, warmup_steps=4000)
        >>> schedule(3999), schedule(15999)
        (0.0007, 0.00035)
        >>> scheduler = S.to_lambda_lr(optimizer, schedule)
        >>> for x, y in batches:
        ...     loss_fn(model(x), y).backward()
        ...     optimizer.step()
        ...     optimizer.zero_grad()
        ...     scheduler.step()  # after optimizer.step()

    Reference: Vaswani et al., *Attention Is All You Need*, NeurIPS 2017, section 5.3.
    """

    base_lr: float
    warmup_steps: int

    def __post_init__(self):
        check_positive("base_lr", self.base_lr)
        check_int("warmup_steps", self.warmup_steps, 1)

    def __call__(self, step: int) -> float:
        s = check_step(step) + 1
        return self.base_lr * min(s / self.warmup_steps, math.sqrt(self.warmup_steps / s))


@dataclass(frozen=True, kw_only=True)
class LinearWarmup:
    r"""Rise linearly for ``warmup_steps`` steps, then run the schedule ``then`` from its step 0.

    .. math::
        \eta_t = \begin{cases}
            \eta^{then}_0 \left(f + (1 - f)\,\dfrac{t}{w}\right) & t < w \\
            \eta^{then}_{t - w} & t \ge w
        \end{cases}

    where :math:`w` is ``warmup_steps``, :math:`f` is ``start_factor`` and
    :math:`\eta^{then}` is ``then``, started over at step :math:`w` as PyTorch's
    ``SequentialLR`` does. Step 0 gets :math:`f\,\eta^{then}_0`. By default
    :math:`f = 1/(w + 1)`, which gives :math:`\eta_t = \eta^{then}_0 (t + 1)/(w + 1)`: equal
    increments, no step wasted at LR 0, and step :math:`w` is ``then``'s step 0.
    Steps ``0 .. w - 1`` are PyTorch's ``LinearLR(start_factor=f, total_iters=w)``.

    Args:
        warmup_steps (int): steps of warm-up; >= 1.
        then (schedule): the schedule after the warm-up; its LR at its step 0 is the target.
        start_factor (float or None): fraction of the target at step 0, in ``(0, 1]``.
            Default: None, meaning ``1 / (warmup_steps + 1)``.

    Example:
        >>> schedule = S.linear_warmup(warmup_steps=4, then=S.cosine(base_lr=0.1, total_steps=96))
        >>> [round(schedule(t), 6) for t in range(6)]
        [0.02, 0.04, 0.06, 0.08, 0.1, 0.099973]
        >>> scheduler = S.to_lambda_lr(optimizer, schedule)
        >>> for x, y in batches:
        ...     loss_fn(model(x), y).backward()
        ...     optimizer.step()
        ...     optimizer.zero_grad()
        ...     scheduler.step()  # after optimizer.step()

    Reference: Goyal et al., *Accurate, Large Minibatch SGD: Training ImageNet in 1 Hour*,
    2017 (gradual warm-up over 5 epochs).
    """

    warmup_steps: int
    then: Schedule
    start_factor: float | None = None

    def __post_init__(self):
        check_int("warmup_steps", self.warmup_steps, 1)
        check_schedule("then", self.then)
        if self.start_factor is not None:
            check_between("start_factor", self.start_factor, 0, 1, closed="high")

    def __call__(self, step: int) -> float:
        t = check_step(step)
        if t >= self.warmup_steps:
            return self.then(t - self.warmup_steps)
        f = 1 / (self.warmup_steps + 1) if self.start_factor is None else self.start_factor
        return self.then(0) * (f + (1 - f) * t / self.warmup_steps)


inverse_sqrt = InverseSqrt
linear_warmup = LinearWarmup
