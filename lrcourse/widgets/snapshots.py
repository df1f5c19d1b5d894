"""The SGDR planner: set T_0, T_mult and the number of snapshots M; see the schedule, where
each snapshot is taken, and how many epochs the run takes."""

from __future__ import annotations

import ipywidgets as widgets
from matplotlib.figure import Figure

from ..plots import plot_snapshot_plan
from ..snapshots import SnapshotPlan, snapshot_plan
from .panel import Panel


def _draw(plan: SnapshotPlan, figure: Figure) -> None:
    plot_snapshot_plan(plan, ax=figure.subplots())


def _caption(plan: SnapshotPlan) -> str:
    epochs = ", ".join(f"{(step + 1) / plan.steps_per_epoch:g}" for step in plan.snapshot_steps)
    return f"{len(plan.snapshot_steps)} snapshots in {plan.epochs:g} epochs, taken at the end of epochs {epochs}."


def snapshot_panel(T_0: int = 2, T_mult: int = 1, M: int = 4, base_lr: float = 0.1) -> Panel:
    """A panel over :func:`lrcourse.snapshots.snapshot_plan` (in epochs: one step per epoch)."""
    snapshot_plan(base_lr, T_0, T_mult, M)  # bad arguments raise here, before any widget exists
    controls = {
        "base_lr": widgets.FloatLogSlider(value=base_lr, base=10, min=-4, max=0, step=0.1, description="base_lr",
                                          readout_format=".1e"),
        "T_0": widgets.IntSlider(value=T_0, min=1, max=20, description="T_0 (epochs)"),
        "T_mult": widgets.IntSlider(value=T_mult, min=1, max=3, description="T_mult"),
        "M": widgets.IntSlider(value=M, min=1, max=8, description="snapshots M"),
    }
    return Panel(controls, compute=lambda base_lr, T_0, T_mult, M: snapshot_plan(base_lr, T_0, T_mult, M, 100),
                 draw=_draw, caption=_caption, figsize=(9.0, 3.0))
