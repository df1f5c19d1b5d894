r"""From schedules to PyTorch: LR and momentum schedulers, and samples of a schedule.

:func:`to_lambda_lr` drives an optimizer's LR with a schedule through PyTorch's own
``LambdaLR``, so ``fit(..., scheduler=...)``, checkpoints and anything else that knows
PyTorch's schedulers work unchanged. :class:`MomentumScheduler` does the same for the
momentum (``betas[0]`` for Adam).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch.optim.lr_scheduler import LambdaLR

from ._common import Schedule, check_int, check_schedule


@dataclass(frozen=True)
class LRMultiplier:
    r"""The ``lr_lambda`` with which ``LambdaLR`` follows ``schedule``.

    .. math::
        m_t = \frac{\eta_t}{\eta_{ref}}

    where :math:`\eta_t` is ``schedule(t)`` and :math:`\eta_{ref}` is ``reference_lr``.
    ``LambdaLR`` sets each group's LR to its initial LR times :math:`m_t`, so the group
    whose initial LR is :math:`\eta_{ref}` gets :math:`\eta_t` and the others keep their
    ratio to it. A callable object rather than a lambda, so it pickles and
    ``LambdaLR.state_dict()`` saves it.
    """

    schedule: Schedule
    reference_lr: float

    def __call__(self, step: int) -> float:
        return self.schedule(step) / self.reference_lr


def _check_optimizer(optimizer) -> None:
    if not isinstance(optimizer, torch.optim.Optimizer):
        raise ValueError(f"optimizer must be a torch.optim.Optimizer; got {type(optimizer).__name__}")


def to_lambda_lr(optimizer: torch.optim.Optimizer, schedule: Schedule) -> LambdaLR:
    """A ``LambdaLR`` that sets param group 0's LR to ``schedule(step)`` at every step.

    The multiplier is ``schedule(step) / lr0``, where ``lr0`` is group 0's initial LR
    (its ``initial_lr`` if a scheduler already set one, else its ``lr``). Every group's LR
    is its initial LR times that multiplier, so a group built with a tenth of group 0's
    LR keeps a tenth of the scheduled LR throughout. Building it applies step 0, as all
    PyTorch schedulers do; call ``.step()`` after each ``optimizer.step()``.

    ``state_dict()`` holds the schedule itself: ``torch.load`` it with
    ``weights_only=False`` (or allow the schedule's classes with
    ``torch.serialization.add_safe_globals``).
    """
    _check_optimizer(optimizer)
    check_schedule("schedule", schedule)
    first = optimizer.param_groups[0]
    reference = float(first.get("initial_lr", first["lr"]))
    if not reference > 0:
        raise ValueError(f"optimizer's first param group must have an lr > 0 to scale the others by; got {reference!r}")
    return LambdaLR(optimizer, lr_lambda=LRMultiplier(schedule, reference))


class MomentumScheduler:
    """Sets every param group's momentum to ``schedule(step)``: ``momentum`` for SGD and
    RMSprop, ``betas[0]`` for the Adam family, as ``OneCycleLR(cycle_momentum=True)`` does.

    Like a PyTorch LR scheduler it applies step 0 when built; call :meth:`step` after each
    ``optimizer.step()``. ``last_epoch`` (PyTorch's name) is the step last applied, and
    :meth:`state_dict` / :meth:`load_state_dict` save and restore it for checkpoints.

    Args:
        optimizer: an optimizer with ``momentum`` or ``betas`` among its defaults.
        schedule: the momentum per step, e.g. ``one_cycle(...).momentum``.
    """

    def __init__(self, optimizer: torch.optim.Optimizer, schedule: Schedule):
        _check_optimizer(optimizer)
        check_schedule("schedule", schedule)
        if "betas" not in optimizer.defaults and "momentum" not in optimizer.defaults:
            raise ValueError(f"optimizer must have a momentum or betas setting; {type(optimizer).__name__} has neither")
        self.optimizer = optimizer
        self.schedule = schedule
        self.last_epoch = 0
        self._beta1 = "betas" in optimizer.defaults
        self._apply()

    def step(self) -> None:
        self.last_epoch += 1
        self._apply()

    def get_last_momentum(self) -> list[float]:
        return [group["betas"][0] if self._beta1 else group["momentum"] for group in self.optimizer.param_groups]

    def state_dict(self) -> dict:
        return {"last_epoch": self.last_epoch}

    def load_state_dict(self, state_dict: dict) -> None:
        self.last_epoch = state_dict["last_epoch"]
        self._apply()

    def _apply(self) -> None:
        value = self.schedule(self.last_epoch)
        for group in self.optimizer.param_groups:
            if self._beta1:
                group["betas"] = (value, *group["betas"][1:])
            else:
                group["momentum"] = value


def sample(schedule: Schedule, steps: int) -> np.ndarray:
    """``schedule`` at steps ``0 .. steps - 1``, as a float array."""
    check_schedule("schedule", schedule)
    check_int("steps", steps, 1)
    return np.array([schedule(t) for t in range(steps)], dtype=float)
