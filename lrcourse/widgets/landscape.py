"""The landscape panel: full-batch gradient descent on a network at your LR, seen on its loss landscape."""

from __future__ import annotations

from functools import partial
from typing import Callable

import ipywidgets as widgets
import torch
from matplotlib.figure import Figure

from ..data import TensorData
from ..landscape.path import LandscapeRun, descend
from ..models import MLP
from ..plots import plot_landscape
from .panel import Panel


def landscape_panel(train: TensorData, lr: float = 0.1, steps: int = 300,
                    model: Callable[[], torch.nn.Module] = partial(MLP, hidden=100)) -> Panel:
    """Full-batch gradient descent on ``train`` (keep it small: a few thousand examples) at the
    chosen LR and number of steps (:func:`lrcourse.landscape.path.descend`): the path in the plane
    where the weights moved most, the loss per step, and the sharpness against 2 / lr."""
    if not isinstance(train, TensorData):
        raise ValueError(f"train must be a lrcourse.TensorData; got {type(train).__name__}")
    controls = {
        "lr": widgets.FloatLogSlider(value=lr, base=10, min=-2.5, max=0.5, step=0.05, description="lr",
                                     readout_format=".3g"),
        "steps": widgets.IntSlider(value=steps, min=50, max=1500, step=50, description="steps"),
    }

    def compute(lr, steps, control):
        return descend(train, lr, steps, model=model, callbacks=(control.fit_callback(every=5),))

    return Panel(controls, compute=compute, draw=_draw, live=False, caption=_caption, figsize=(12.0, 3.4))


def _draw(result: LandscapeRun, figure: Figure) -> None:
    plot_landscape(result, axes=figure.subplots(1, 3))


def _caption(result: LandscapeRun) -> str:
    values = result.monitor.values
    history = result.run.history
    stopped = f" ({history.stop_reason})" if history.stop_reason else ""
    return (f"lr = {result.lr:.3g}: 2 / lr = {result.edge:.1f}; sharpness at the start {values[0]:.1f}, highest "
            f"{max(values):.1f}, at the end {values[-1]:.1f}; loss {history.loss[0]:.3f} → {history.loss[-1]:.3f} "
            f"in {history.steps} steps{stopped}.")
