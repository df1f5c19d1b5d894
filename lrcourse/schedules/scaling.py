r"""The LR for a larger batch: scaling rules, and Goyal et al.'s gradual warm-up to the scaled LR.

When the batch grows from :math:`B_0` to :math:`B = k B_0` (more examples per process, or
more processes each with its own slice), a good LR :math:`\eta_0` at :math:`B_0` becomes

    linear:  :math:`\eta = k \eta_0`  (Goyal et al. 2017: "when the minibatch size is multiplied by k,
             multiply the learning rate by k")
    sqrt:    :math:`\eta = \sqrt{k} \eta_0`  (the variance argument Krizhevsky 2014 gives: it keeps
             the variance of the update the same)

Large :math:`k` needs a warm-up (:func:`gradual_warmup`), because the linear rule assumes the
gradient barely changes over :math:`k` small steps, which is false early in training.
"""

from __future__ import annotations

import math

from ..checks import ArgumentTypeError
from ._common import check_int, check_positive
from .decay import constant
from .warmup import LinearWarmup

RULES = ("linear", "sqrt")


def _check(base_lr, base_batch, batch, rule) -> float:
    check_positive("base_lr", base_lr)
    check_int("base_batch", base_batch, 1)
    check_int("batch", batch, 1)
    if rule not in RULES:
        raise ValueError(f"rule must be one of {RULES}; got {rule!r}")
    return batch / base_batch


def scale_lr(base_lr: float, base_batch: int, batch: int, rule: str = "linear") -> float:
    r"""The LR for a batch of ``batch`` examples, given a good ``base_lr`` at ``base_batch``.

    .. math::
        \eta = \eta_0 \cdot \frac{B}{B_0} \;\;(\text{linear}), \qquad
        \eta = \eta_0 \cdot \sqrt{\frac{B}{B_0}} \;\;(\text{sqrt})

    Under ``torch.distributed`` the batch is the global one: the per-process batch times the
    number of processes.

    Args:
        base_lr (float): a good LR at ``base_batch``; > 0.
        base_batch (int): the batch size ``base_lr`` was found at; >= 1.
        batch (int): the new batch size; >= 1 (smaller than ``base_batch`` scales down).
        rule (str): ``"linear"`` (Goyal et al.) or ``"sqrt"`` (square root).

    Example::

        >>> scale_lr(0.1, 256, 8192)            # Goyal et al.'s ResNet-50 at batch 8k
        3.2
        >>> scale_lr(0.1, 256, 1024, rule="sqrt")
        0.2
    """
    k = _check(base_lr, base_batch, batch, rule)
    return base_lr * (k if rule == "linear" else math.sqrt(k))


def gradual_warmup(base_lr: float, base_batch: int, batch: int, warmup_steps: int, rule: str = "linear",
                   then=None) -> LinearWarmup:
    r"""Goyal et al.'s gradual warm-up: from ``base_lr`` up to the scaled LR over ``warmup_steps``
    steps, by the same amount every step, then ``then`` (by default the scaled LR, constant).

    .. math::
        \eta_t = \eta_0 + (\hat\eta - \eta_0)\,\frac{t}{w} \quad (t < w), \qquad
        \eta_t = \text{then}(t - w) \quad (t \ge w)

    with :math:`\hat\eta` = :func:`scale_lr` ``(base_lr, base_batch, batch, rule)`` and :math:`w`
    = ``warmup_steps``: a :class:`~lrcourse.schedules.LinearWarmup` whose ``start_factor`` is
    :math:`\eta_0 / \hat\eta`. Goyal et al. warm up over 5 of 90 epochs. When ``batch`` is not
    larger than ``base_batch`` there is nothing to warm up to and the schedule is constant.

    Args:
        base_lr, base_batch, batch, rule: as for :func:`scale_lr`.
        warmup_steps (int): steps to reach the scaled LR; >= 1.
        then (schedule or None): what follows the warm-up; its LR at its step 0 must be the
            scaled LR (e.g. ``cosine(base_lr=scaled, total_steps=...)``). None: constant.

    Example::

        >>> schedule = gradual_warmup(0.1, 256, 8192, warmup_steps=5)
        >>> [round(schedule(t), 2) for t in range(7)]
        [0.1, 0.72, 1.34, 1.96, 2.58, 3.2, 3.2]

    Reference: Goyal et al., *Accurate, Large Minibatch SGD: Training ImageNet in 1 Hour*, 2017, §2.2.
    """
    scaled = scale_lr(base_lr, base_batch, batch, rule)
    check_int("warmup_steps", warmup_steps, 1)
    if then is None:
        then = constant(base_lr=scaled)
    elif not callable(then):
        raise ArgumentTypeError(f"then must be a schedule (a callable of the step) or None; got {type(then).__name__}")
    elif not math.isclose(then(0), scaled, rel_tol=1e-9):
        raise ValueError(f"then must start at the scaled LR {scaled:.6g} (its LR at step 0); it starts at {then(0)!r}")
    return LinearWarmup(warmup_steps=warmup_steps, then=then, start_factor=min(1.0, base_lr / scaled))
