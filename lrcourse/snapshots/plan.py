"""The SGDR run laid out for M snapshots: where each cycle ends, and a plot of the plan."""

from __future__ import annotations

from dataclasses import dataclass

from ..checks import check_int, check_number


def cycle_ends(T_0: int, T_mult: int, total_steps: int) -> list[int]:
    """The 0-based steps that end a cycle of SGDR (``T_0``, then each cycle ``T_mult`` times longer)."""
    T_0, T_mult = check_int("T_0", T_0, low=1), check_int("T_mult", T_mult, low=1)
    total_steps = check_int("total_steps", total_steps, low=0)
    ends, length, end = [], T_0, T_0
    while end <= total_steps:
        ends.append(end - 1)
        length *= T_mult
        end += length
    return ends


@dataclass(frozen=True)
class SnapshotPlan:
    """An SGDR run laid out for ``M`` snapshots: its schedule, length and snapshot steps."""

    schedule: object
    total_steps: int
    snapshot_steps: list[int]
    steps_per_epoch: int

    @property
    def epochs(self) -> float:
        return self.total_steps / self.steps_per_epoch


def snapshot_plan(base_lr: float, T_0: int, T_mult: int = 1, M: int = 5, steps_per_epoch: int = 1,
                  eta_min: float = 0.0) -> SnapshotPlan:
    """The SGDR schedule whose ``M``-th cycle ends the run: cycles of ``T_0``, ``T_0 * T_mult``,
    ... epochs (``steps_per_epoch`` steps each), one snapshot at the end of each."""
    T_0, T_mult = check_int("T_0", T_0, low=1), check_int("T_mult", T_mult, low=1)
    M, steps_per_epoch = check_int("M", M, low=1), check_int("steps_per_epoch", steps_per_epoch, low=1)
    base_lr = check_number("base_lr", base_lr, low=0, low_open=True)
    eta_min = check_number("eta_min", eta_min, low=0, high=base_lr)
    from ..schedules import cosine_restarts

    schedule = cosine_restarts(base_lr=base_lr, T_0=T_0 * steps_per_epoch, T_mult=T_mult, eta_min=eta_min)
    total = T_0 * steps_per_epoch * sum(T_mult ** i for i in range(M))
    return SnapshotPlan(schedule, total, cycle_ends(schedule.T_0, T_mult, total), steps_per_epoch)


def snapshot_plan_for(epochs: int, base_lr: float, M: int, T_mult: int = 1, steps_per_epoch: int = 1,
                      eta_min: float = 0.0) -> SnapshotPlan:
    r"""The SGDR schedule whose ``M`` cycles fill exactly ``epochs`` epochs: the budget is fixed
    and the first cycle's length is derived from it, so a run of any ``T_mult`` ends at a snapshot.

    .. math::
        T_0 = \frac{\text{epochs} \cdot \text{steps\_per\_epoch}}{1 + T_{mult} + \dots + T_{mult}^{M-1}}
        \text{ steps}

    which must be a whole number (``epochs=8, M=3, T_mult=2`` needs ``steps_per_epoch`` divisible
    by 7: cycles of 8/7, 16/7 and 32/7 epochs).

    Example:
        >>> plan = snapshot_plan_for(epochs=8, base_lr=0.1, M=3, T_mult=2, steps_per_epoch=14)
        >>> plan.snapshot_steps, plan.total_steps
        ([15, 47, 111], 112)
    """
    epochs, M = check_int("epochs", epochs, low=1), check_int("M", M, low=1)
    T_mult, steps_per_epoch = check_int("T_mult", T_mult, low=1), check_int("steps_per_epoch", steps_per_epoch, low=1)
    base_lr = check_number("base_lr", base_lr, low=0, low_open=True)
    eta_min = check_number("eta_min", eta_min, low=0, high=base_lr)
    total, units = epochs * steps_per_epoch, sum(T_mult ** i for i in range(M))
    if total % units:
        raise ValueError(f"epochs * steps_per_epoch ({total} steps) must be divisible by 1 + T_mult + ... + "
                         f"T_mult**(M-1) = {units} for M={M} cycles to fill it; pick steps_per_epoch (or the "
                         f"training set's size) so that it is")
    from ..schedules import cosine_restarts

    schedule = cosine_restarts(base_lr=base_lr, T_0=total // units, T_mult=T_mult, eta_min=eta_min)
    return SnapshotPlan(schedule, total, cycle_ends(schedule.T_0, T_mult, total), steps_per_epoch)
