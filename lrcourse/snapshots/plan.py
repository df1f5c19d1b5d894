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
