r"""From schedules to PyTorch: LR and momentum schedulers, and samples of a schedule.

:func:`to_lambda_lr` drives an optimizer's LR with a schedule through PyTorch's own
``LambdaLR``, so ``fit(..., scheduler=...)``, checkpoints and anything else that knows
PyTorch's schedulers work unchanged. :class:`MomentumScheduler` does the same for the
momentum (``betas[0]`` for Adam). Both take one schedule or a list of one per param group,
and a ``last_step`` to resume at. The examples assume a ``model``, an ``optimizer`` (SGD
with momentum), a ``loss_fn`` and a list of ``batches``."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch.optim.lr_scheduler import LambdaLR

from ._common import Schedule, _is_real, check_int, check_schedule


@dataclass(frozen=True)
class LRMultiplier:
    r"""The ``lr_lambda`` with which ``LambdaLR`` follows ``schedule``.

    .. math::
        m_t = \frac{\eta_t}{\eta_{ref}}

    where :math:`\eta_t` is ``schedule(t)`` and :math:`\eta_{ref}` is ``reference_lr``.
    ``LambdaLR`` sets a group's LR to its initial LR times :math:`m_t`, so the group whose
    initial LR is :math:`\eta_{ref}` gets :math:`\eta_t` and the others keep their ratio to
    it. A callable object rather than a lambda, so it pickles and ``LambdaLR.state_dict()``
    saves it. A step whose LR or multiplier is not a finite number >= 0 raises a
    ``ValueError`` naming the step, rather than putting inf or nan into the optimizer.

    Example:
        >>> multiplier = S.LRMultiplier(S.step_decay(base_lr=0.1, step_size=30), reference_lr=0.1)
        >>> multiplier(0), round(multiplier(30), 12)
        (1.0, 0.1)
        >>> scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, multiplier)  # what to_lambda_lr builds
    """

    schedule: Schedule
    reference_lr: float

    def __call__(self, step: int) -> float:
        lr = self.schedule(step)
        if not (_is_real(lr) and lr >= 0):
            raise ValueError(f"the schedule gave {lr!r} for step={step}; an LR must be a finite number >= 0")
        multiplier = lr / self.reference_lr
        if not math.isfinite(multiplier):
            raise ValueError(f"step={step}: the LR {lr!r} is more than 1.8e308 times reference_lr="
                             f"{self.reference_lr!r}, the initial LR it is scaled from; give the optimizer "
                             f"a larger lr")
        return multiplier


def _check_optimizer(optimizer) -> None:
    if not isinstance(optimizer, torch.optim.Optimizer):
        raise ValueError(f"optimizer must be a torch.optim.Optimizer; got {type(optimizer).__name__}")


def _per_group(optimizer: torch.optim.Optimizer, schedule) -> list[Schedule] | None:
    """``schedule`` as a list of one schedule per param group, or None for a single schedule."""
    if not isinstance(schedule, (list, tuple)):
        check_schedule("schedule", schedule)
        return None
    groups = len(optimizer.param_groups)
    if len(schedule) != groups:
        raise ValueError(f"schedule must be one schedule, or a list of one per param group ({groups}); "
                         f"got a list of {len(schedule)}")
    for one in schedule:
        check_schedule("schedule", one)
    return list(schedule)


def to_lambda_lr(optimizer: torch.optim.Optimizer, schedule: Schedule | Sequence[Schedule], *,
                 last_step: int = 0) -> LambdaLR:
    """A PyTorch ``LambdaLR`` that sets the optimizer's LR to ``schedule(step)`` at every step.

    With one schedule, param group 0 gets ``schedule(step)`` and every other group keeps its
    ratio to group 0 (the multiplier is ``schedule(step) / lr0``, ``lr0`` being group 0's
    ``initial_lr`` if a scheduler set one, else its ``lr``): a group built with a tenth of
    group 0's LR keeps a tenth of the scheduled LR. With a list of schedules, one per
    param group (``LambdaLR`` takes a list of lambdas too), group ``i`` gets
    ``schedule[i](step)``: that is how groups get their own ``base_lr``, ``max_lr`` or
    ``eta_min``, as PyTorch's schedulers take lists of them. Building it applies step
    ``last_step``, as all PyTorch schedulers apply step 0; call ``.step()`` after each
    ``optimizer.step()``.

    Resuming: ``state_dict()`` holds the step and the schedule itself. Either rebuild with
    any schedule and ``load_state_dict`` the saved state (after the optimizer's), or rebuild
    with the schedule and ``last_step`` = the number of scheduler steps taken before the
    interruption (``scheduler.last_epoch``; PyTorch's ``last_epoch`` argument is that minus
    1). Both give the LRs of an uninterrupted run. ``torch.load`` a saved state within
    ``torch.serialization.safe_globals(list(lrcourse.schedules.SAFE_GLOBALS))``, or with
    ``weights_only=False``.

    Args:
        optimizer: the optimizer whose LRs to set; each group's LR must be > 0.
        schedule: a schedule, or a list of one per param group.
        last_step (int): the step to start at; >= 0. Default: 0.

    Example:
        >>> schedule = S.cosine(base_lr=0.1, total_steps=len(batches))
        >>> scheduler = S.to_lambda_lr(optimizer, schedule)
        >>> for x, y in batches:
        ...     loss_fn(model(x), y).backward()
        ...     optimizer.step()
        ...     optimizer.zero_grad()
        ...     scheduler.step()  # after optimizer.step()
        >>> checkpoint = {"optimizer": optimizer.state_dict(), "step": scheduler.last_epoch}
        >>> resumed = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)  # later, to resume
        >>> resumed.load_state_dict(checkpoint["optimizer"])
        >>> scheduler = S.to_lambda_lr(resumed, schedule, last_step=checkpoint["step"])
        >>> resumed.param_groups[0]["lr"] == schedule(len(batches))
        True
    """
    _check_optimizer(optimizer)
    schedules = _per_group(optimizer, schedule)
    check_int("last_step", last_step, 0)
    groups = optimizer.param_groups
    references = [float(group.get("initial_lr", group["lr"])) for group in groups]
    for i, reference in enumerate(references if schedules else references[:1]):
        if not reference > 0:
            raise ValueError(f"optimizer's param group {i} must have an lr > 0 to scale by; got {reference!r}")
    lambdas = ([LRMultiplier(one, reference) for one, reference in zip(schedules, references)] if schedules
               else LRMultiplier(schedule, references[0]))
    for multiplier in lambdas if schedules else [lambdas]:
        multiplier(last_step)  # a step the schedule refuses raises here, before the optimizer changes
    if last_step == 0:
        return LambdaLR(optimizer, lr_lambda=lambdas)
    for group in groups:
        group.setdefault("initial_lr", group["lr"])  # as PyTorch does when it starts at step 0
    return LambdaLR(optimizer, lr_lambda=lambdas, last_epoch=last_step - 1)


class MomentumScheduler:
    """Sets every param group's momentum to ``schedule(step)``: ``momentum`` for SGD and
    RMSprop, ``betas[0]`` for the Adam family, as ``OneCycleLR(cycle_momentum=True)`` and
    ``CyclicLR(cycle_momentum=True)`` do.

    Like a PyTorch LR scheduler it applies step ``last_step`` (0 by default) when built;
    call :meth:`step` after each ``optimizer.step()``. ``last_epoch`` (PyTorch's name) is the
    step last applied, and :meth:`state_dict` / :meth:`load_state_dict` save and restore it
    for checkpoints; or rebuild with ``last_step`` set to the saved ``last_epoch``.

    Args:
        optimizer: an optimizer with ``momentum`` or ``betas`` among its defaults.
        schedule: the momentum per step, e.g. ``one_cycle(...).momentum`` or
            ``triangular(...).momentum``; or a list of one per param group.
        last_step (int): the step to start at; >= 0. Default: 0.

    Example:
        >>> schedule = S.one_cycle(max_lr=0.1, epochs=4, steps_per_epoch=len(batches))
        >>> scheduler = S.to_lambda_lr(optimizer, schedule)
        >>> momentum = S.MomentumScheduler(optimizer, schedule.momentum)
        >>> for epoch in range(4):
        ...     for x, y in batches:
        ...         loss_fn(model(x), y).backward()
        ...         optimizer.step()
        ...         optimizer.zero_grad()
        ...         scheduler.step()  # after optimizer.step(), both
        ...         momentum.step()
        >>> momentum.get_last_momentum() == [schedule.momentum(4 * len(batches))]
        True
    """

    def __init__(self, optimizer: torch.optim.Optimizer, schedule: Schedule | Sequence[Schedule], *,
                 last_step: int = 0):
        _check_optimizer(optimizer)
        schedules = _per_group(optimizer, schedule)
        check_int("last_step", last_step, 0)
        if "betas" not in optimizer.defaults and "momentum" not in optimizer.defaults:
            raise ValueError(f"optimizer must have a momentum or betas setting; {type(optimizer).__name__} has neither")
        self.optimizer = optimizer
        self.schedule = schedule
        self._schedules = schedules or [schedule] * len(optimizer.param_groups)
        self._beta1 = "betas" in optimizer.defaults
        self._apply(last_step)

    def step(self) -> None:
        self._apply(self.last_epoch + 1)

    def get_last_momentum(self) -> list[float]:
        return [group["betas"][0] if self._beta1 else group["momentum"] for group in self.optimizer.param_groups]

    def state_dict(self) -> dict:
        return {"last_epoch": self.last_epoch}

    def load_state_dict(self, state_dict: dict) -> None:
        self._apply(state_dict["last_epoch"])

    def _apply(self, step: int) -> None:
        """Set every group's momentum for ``step``, all checked before any changes."""
        values = [schedule(step) for schedule in self._schedules]
        for value in values:
            if not (_is_real(value) and 0 <= value <= 1):
                raise ValueError(f"the momentum schedule gave {value!r} for step={step}; "
                                 f"a momentum must be a number in [0, 1]")
        for group, value in zip(self.optimizer.param_groups, values):
            if self._beta1:
                group["betas"] = (value, *group["betas"][1:])
            else:
                group["momentum"] = value
        self.last_epoch = step


def sample(schedule: Schedule, steps: int) -> np.ndarray:
    """``schedule`` at steps ``0 .. steps - 1``, as a float array."""
    check_schedule("schedule", schedule)
    check_int("steps", steps, 1)
    return np.array([schedule(t) for t in range(steps)], dtype=float)
