"""Full-batch gradient descent on a network, seen on its loss landscape: the path of the weights in
the plane where they moved most, the loss on that plane, and the sharpness along the way.

:func:`descend` is what the landscape panel computes (``lrcourse.widgets.landscape_panel``), and
what a lesson calls to draw one LR's run (``lrcourse.plots.plot_landscape``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch

from ..callbacks import Callback
from ..checks import check_int, check_positive
from ..data import TensorData
from ..experiments import Run, train_at_lr
from ..models import MLP
from .curvature import SharpnessMonitor
from .lines import LossSlice, loss_slice, pca_directions, project, unflatten


@dataclass
class LandscapeRun:
    """One run of :func:`descend`: the training ``run``, the ``monitor`` with the sharpness every
    ``every`` steps, the path's ``coordinates`` (one row per record) in the plane of its two
    principal directions about the final weights (``explained``: the share of the path's variance
    each direction holds), and the loss on that plane (``plane``)."""

    lr: float
    run: Run
    monitor: SharpnessMonitor
    coordinates: np.ndarray
    explained: np.ndarray
    plane: LossSlice

    @property
    def edge(self) -> float:
        """2 / lr: the sharpness above which gradient descent on a quadratic diverges."""
        return 2.0 / self.lr


def descend(train: TensorData, lr: float, steps: int = 300, *, model: Callable[[], torch.nn.Module] = MLP,
            every: int = 10, seed: int = 0, grid: int = 15, margin: float = 0.25,
            callbacks: tuple[Callback, ...] = ()) -> LandscapeRun:
    """Full-batch gradient descent (plain SGD, the whole of ``train`` every step) at ``lr`` for
    ``steps`` steps from ``model()`` seeded with ``seed``, recording the sharpness on ``train``
    every ``every`` steps; then the loss on a ``grid`` x ``grid`` plane around the final weights,
    spanning the path's extent plus ``margin`` of it on each side."""
    check_positive("lr", lr)
    check_int("steps", steps, 3)
    check_int("grid", grid, 2)
    check_positive("margin", margin)
    monitor = SharpnessMonitor(train, every=every, keep_weights=True)
    run = train_at_lr(train, lr, optimizer="sgd", epochs=steps, batch_size=len(train), model=model, seed=seed,
                      callbacks=[monitor, *callbacks])
    weights = monitor.weights
    final = weights[-1]
    if len(weights) < 3:
        raise ValueError(f"the run recorded {len(weights)} points (it diverged early?): too few to draw a path")
    first, second, explained = pca_directions(weights, final)
    coordinates = project(weights, final, (first, second))
    low, high = coordinates.min(axis=0), coordinates.max(axis=0)
    pad = margin * np.maximum(high - low, 1e-3)
    xs, ys = (np.linspace(low[i] - pad[i], high[i] + pad[i], grid) for i in (0, 1))
    plane = loss_slice(run.model, train, (unflatten(run.model, first), unflatten(run.model, second)), xs, ys)
    return LandscapeRun(lr=float(lr), run=run, monitor=monitor, coordinates=coordinates, explained=explained,
                        plane=plane)
