"""Schedules drawn: the LR (and momentum) per step, and an SGDR run's snapshots."""

from __future__ import annotations

import numpy as np

from ..checks import ArgumentTypeError
from ..schedules import Schedule, sample
from ..snapshots import SnapshotPlan
from .core import axes_or_new


def plot_schedule(schedule: Schedule, steps: int, ax=None, label: str | None = None):
    """The LR per step for ``steps`` steps, labelled ``label`` (default: the schedule's class name);
    the momentum too, on a second axis, where the schedule has one (``one_cycle``). Returns the LR axes."""
    lrs = sample(schedule, steps)
    ax = axes_or_new(ax, (7, 3))
    x = np.arange(steps)
    ax.plot(x, lrs, color="C0", label=label or type(schedule).__name__)
    ax.set(xlabel="step", title=type(schedule).__name__)
    ax.set_ylabel("learning rate", color="C0")
    momentum = getattr(schedule, "momentum", None)
    if momentum is not None:
        twin = ax.twinx()
        twin.plot(x, sample(momentum, steps), color="C1", linestyle="--")
        twin.set_ylabel("momentum", color="C1")
    return ax


def plot_snapshot_plan(plan: SnapshotPlan, ax=None):
    """The plan's LR per epoch, with a marker at each snapshot. Returns the axes."""
    if not isinstance(plan, SnapshotPlan):
        raise ArgumentTypeError(f"plan must be a SnapshotPlan (from snapshot_plan); got {type(plan).__name__}")
    ax = axes_or_new(ax, (7, 3))
    steps = np.arange(plan.total_steps)
    ax.plot(steps / plan.steps_per_epoch, [plan.schedule(int(t)) for t in steps], color="C0")
    ends = np.asarray(plan.snapshot_steps)
    ax.plot((ends + 1) / plan.steps_per_epoch, [plan.schedule(int(t)) for t in ends], "o", color="C3",
            label=f"{len(ends)} snapshots")
    ax.set(xlabel="epoch", ylabel="learning rate", title=f"SGDR, {plan.epochs:g} epochs")
    ax.legend(loc="upper right")
    return ax
