"""The schedule explorer: pick a schedule, move its parameters, see the LR per step and the
equivalent PyTorch code; overlay a second schedule; or load a famous network's settings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import ipywidgets as widgets
import numpy as np
from matplotlib.figure import Figure

from .. import schedules as S
from ..plots import plot_schedule
from .panel import Panel

SGD_LINE = "optimizer = torch.optim.SGD(model.parameters(), lr={lr!r}, momentum=0.9)\n"
#: Steps per epoch assumed when a preset's epoch-based schedule is drawn in steps.
PRESET_STEPS_PER_EPOCH = 100


@dataclass(frozen=True)
class Knobs:
    """The explorer's sliders; each schedule family reads the ones it needs. ``gamma`` is the
    factor applied every ``step_size`` steps (step, exponential and 1/t decay alike) and, for
    exp_range, to the amplitude every cycle, so the decays can be compared on one slider."""

    base_lr: float
    max_lr: float
    step_size: int
    gamma: float
    total_steps: int


# CyclicLR's default, cycle_momentum=True, moves the momentum against the LR: the schedule's .momentum.
_MOMENTUM_NOTE = "\n# it cycles the momentum too (0.9 to 0.8, dashed); cycle_momentum=False keeps it at 0.9"

# Each family: the lrcourse schedule, and PyTorch code that computes the same LRs (the tests run it).
FAMILIES: dict[str, tuple[Callable[[Knobs], S.Schedule], Callable[[Knobs], str]]] = {
    "constant": (lambda k: S.constant(base_lr=k.base_lr),
                        lambda k: "scheduler = LambdaLR(optimizer, lambda step: 1.0)"),
    "step decay": (lambda k: S.step_decay(base_lr=k.base_lr, step_size=k.step_size, gamma=k.gamma),
                          lambda k: f"scheduler = StepLR(optimizer, step_size={k.step_size}, gamma={k.gamma!r})"),
    "exponential": (
        lambda k: S.exponential(base_lr=k.base_lr, gamma=k.gamma ** (1 / k.step_size)),
        lambda k: f"scheduler = ExponentialLR(optimizer, gamma={k.gamma ** (1 / k.step_size)!r})"),
    "1/t": (
        lambda k: S.inverse_time(base_lr=k.base_lr, k=(1 / k.gamma - 1) / k.step_size),
        lambda k: f"scheduler = LambdaLR(optimizer, lambda step: 1 / (1 + {(1 / k.gamma - 1) / k.step_size!r} * step))"),
    "polynomial (power 2)": (
        lambda k: S.polynomial(base_lr=k.base_lr, total_steps=k.total_steps, power=2.0),
        lambda k: f"scheduler = PolynomialLR(optimizer, total_iters={k.total_steps}, power=2.0)"),
    "cosine": (lambda k: S.cosine(base_lr=k.base_lr, total_steps=k.total_steps),
                      lambda k: f"scheduler = CosineAnnealingLR(optimizer, T_max={k.total_steps})"),
    "warm-up + cosine": (
        lambda k: S.linear_warmup(warmup_steps=k.step_size,
                                  then=S.cosine(base_lr=k.base_lr, total_steps=k.total_steps - k.step_size)),
        lambda k: (f"scheduler = SequentialLR(optimizer, [\n"
                   f"    LinearLR(optimizer, start_factor={1 / (k.step_size + 1)!r}, total_iters={k.step_size}),\n"
                   f"    CosineAnnealingLR(optimizer, T_max={k.total_steps - k.step_size})], milestones=[{k.step_size}])")),
    "triangular": (
        lambda k: S.triangular(base_lr=k.base_lr, max_lr=k.max_lr, step_size=k.step_size),
        lambda k: (f"scheduler = CyclicLR(optimizer, base_lr={k.base_lr!r}, max_lr={k.max_lr!r}, "
                   f"step_size_up={k.step_size}, mode='triangular'){_MOMENTUM_NOTE}")),
    "triangular2": (
        lambda k: S.triangular2(base_lr=k.base_lr, max_lr=k.max_lr, step_size=k.step_size),
        lambda k: (f"scheduler = CyclicLR(optimizer, base_lr={k.base_lr!r}, max_lr={k.max_lr!r}, "
                   f"step_size_up={k.step_size}, mode='triangular2'){_MOMENTUM_NOTE}")),
    "exp_range": (
        lambda k: S.exp_range(base_lr=k.base_lr, max_lr=k.max_lr, step_size=k.step_size,
                              gamma=k.gamma ** (1 / (2 * k.step_size))),
        lambda k: (f"scheduler = CyclicLR(optimizer, base_lr={k.base_lr!r}, max_lr={k.max_lr!r}, "
                   f"step_size_up={k.step_size}, mode='exp_range', gamma={k.gamma ** (1 / (2 * k.step_size))!r})"
                   f"{_MOMENTUM_NOTE}")),
    "1-cycle": (lambda k: S.one_cycle(max_lr=k.max_lr, total_steps=k.total_steps),
                       lambda k: f"scheduler = OneCycleLR(optimizer, max_lr={k.max_lr!r}, total_steps={k.total_steps})"),
    "SGDR (cosine restarts)": (
        lambda k: S.cosine_restarts(base_lr=k.base_lr, T_0=k.step_size),
        lambda k: f"scheduler = CosineAnnealingWarmRestarts(optimizer, T_0={k.step_size})"),
}


def pytorch_code(family: str, knobs: Knobs) -> str:
    """PyTorch code (an optimizer and a scheduler) that gives ``FAMILIES[family]``'s LRs."""
    # The schedulers scale the optimizer's LR (the cyclical ones and 1-cycle overwrite it).
    return SGD_LINE.format(lr=knobs.base_lr) + FAMILIES[family][1](knobs)


@dataclass(frozen=True)
class ScheduleView:
    """What the explorer shows: a schedule, an optional second one, and how to write the first."""

    name: str
    schedule: S.Schedule
    steps: int
    code: str
    compare_name: str | None = None
    compare: S.Schedule | None = None
    log_scale: bool = False


def _presets() -> dict:
    return getattr(S, "PRESETS", {})


def explore(schedule: str, compare: str, base_lr: float, max_lr: float, step_size: int, gamma: float,
            total_steps: int, log_scale: bool) -> ScheduleView:
    """The explorer's pure function: build the chosen schedule(s) from the slider values."""
    knobs = Knobs(base_lr, max_lr, step_size, gamma, total_steps)
    presets = _presets()
    if schedule in presets:
        preset = presets[schedule]
        built = preset.schedule(PRESET_STEPS_PER_EPOCH)
        code = (f"# {preset.paper}: {preset.optimizer}, lr {preset.lr:g}; {preset.schedule_text}\n"
                f"# source: {preset.source}")
        if preset.correction:
            code += f"\n# the course notes say: {preset.notes_say}\n# correction: {preset.correction}"
    else:
        built, code = FAMILIES[schedule][0](knobs), pytorch_code(schedule, knobs)
    other = None if compare == "none" else FAMILIES[compare][0](knobs)
    return ScheduleView(schedule, built, total_steps, code, None if other is None else compare, other, log_scale)


def plot_view(view: ScheduleView, figure: Figure) -> None:
    ax = plot_schedule(view.schedule, view.steps, ax=figure.subplots(), label=view.name)
    if view.compare is not None:
        ax.plot(np.arange(view.steps), S.sample(view.compare, view.steps), linestyle="--", label=view.compare_name)
    if view.log_scale:
        ax.set_yscale("log")
    ax.legend(fontsize=8, loc="upper right")
    ax.set_title(f"{view.name}: LR per step", fontsize=9)


def schedule_panel(schedule: str = "step decay", compare: str = "none") -> Panel:
    """The schedule explorer. ``schedule`` is a family of :data:`FAMILIES` or a preset name."""
    choices = [*FAMILIES, *_presets()]
    if schedule not in choices:
        raise ValueError(f"schedule must be one of {choices}; got {schedule!r}")
    if compare != "none" and compare not in FAMILIES:
        raise ValueError(f"compare must be 'none' or one of {list(FAMILIES)}; got {compare!r}")
    controls = {
        "schedule": widgets.Dropdown(options=choices, value=schedule, description="schedule"),
        "compare": widgets.Dropdown(options=["none", *FAMILIES], value=compare, description="compare with"),
        "base_lr": widgets.FloatLogSlider(value=0.01, base=10, min=-5, max=0, step=0.1, description="base_lr",
                                          readout_format=".1e"),
        "max_lr": widgets.FloatLogSlider(value=0.1, base=10, min=-4, max=1, step=0.1, description="max_lr",
                                         readout_format=".1e"),
        "step_size": widgets.IntSlider(value=300, min=10, max=2000, step=10, description="step_size"),
        "gamma": widgets.FloatSlider(value=0.5, min=0.01, max=1.0, step=0.01, description="gamma"),
        "total_steps": widgets.IntSlider(value=2000, min=100, max=100_000, step=100, description="steps"),
        "log_scale": widgets.Checkbox(value=False, description="log LR axis"),
    }
    return Panel(controls, compute=explore, draw=plot_view,
                 caption=lambda view: f"```python\n{view.code}\n```", figsize=(9.0, 3.2))
