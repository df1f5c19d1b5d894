"""The loss landscape: sharpness over training, the loss along a line, a plane with a path on it."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from .core import axes_or_new


def plot_sharpness(steps, values, lr: float | None = None, ax=None, label: str | None = None):
    """The sharpness (top Hessian eigenvalue) per step, e.g. ``monitor.steps, monitor.values`` of a
    :class:`lrcourse.landscape.SharpnessMonitor`; with ``lr``, the line 2 / lr in the same colour."""
    ax = axes_or_new(ax, (5, 3.5))
    line, = ax.plot(steps, values, label=label or (f"lr={lr:g}" if lr else None))
    if lr:
        ax.axhline(2 / lr, color=line.get_color(), linestyle="--", linewidth=0.8)
    ax.set(xlabel="step", ylabel="sharpness (top Hessian eigenvalue)")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=8)
    return ax


def plot_interpolation(line, ax=None, label: str | None = None, metric: str = "loss"):
    """The loss (or ``metric="accuracy"``) along a :class:`lrcourse.landscape.Interpolation`, with the
    two end states (alpha 0 and 1) marked."""
    if metric not in ("loss", "accuracy"):
        raise ValueError(f"metric must be 'loss' or 'accuracy'; got {metric!r}")
    ax = axes_or_new(ax, (5, 3.5))
    values = getattr(line, metric)
    drawn, = ax.plot(line.alphas, values, marker=".", label=label)
    ends = np.isclose(line.alphas, 0) | np.isclose(line.alphas, 1)
    ax.plot(line.alphas[ends], values[ends], "o", color=drawn.get_color())
    ax.set(xlabel="alpha (0: first state, 1: second)", ylabel=metric)
    if label:
        ax.legend(fontsize=8)
    return ax


def plot_loss_plane(plane, path=None, ax=None, levels: int = 20):
    """Contours of the log loss of a :class:`lrcourse.landscape.LossSlice`, and ``path`` (rows of
    ``(x, y)`` coordinates, e.g. ``LandscapeRun.coordinates``) on it, from its start (square) to its
    end (star)."""
    ax = axes_or_new(ax, (5, 4))
    xx, yy = np.meshgrid(plane.xs, plane.ys)
    filled = ax.contourf(xx, yy, np.log10(plane.loss), levels=levels, cmap="viridis")
    ax.figure.colorbar(filled, ax=ax, label="log10 loss")
    if path is not None:
        path = np.asarray(path)
        ax.plot(path[:, 0], path[:, 1], color="white", marker=".", markersize=3, linewidth=0.8)
        ax.plot(*path[0], "s", color="white")
        ax.plot(*path[-1], "*", color="red", markersize=10)
    ax.set(xlabel="first direction", ylabel="second direction")
    return ax


def plot_landscape(result, axes=None):
    """A :class:`lrcourse.landscape.path.LandscapeRun` on three axes: the plane with the path, the
    loss per step, and the sharpness with 2 / lr."""
    if axes is None:
        _, axes = plt.subplots(1, 3, figsize=(14, 3.6))
    plane_ax, loss_ax, sharp_ax = axes
    plot_loss_plane(result.plane, result.coordinates, ax=plane_ax)
    plane_ax.set_title(f"the path in its plane ({result.explained.sum():.0%} of its variance)", fontsize=9)
    history = result.run.history
    loss_ax.semilogy(np.arange(len(history.loss)), history.loss)
    loss_ax.set(xlabel="step", ylabel="training loss (full batch)")
    plot_sharpness(result.monitor.steps, result.monitor.values, result.lr, ax=sharp_ax)
    sharp_ax.set_title("sharpness and 2 / lr (dashed)", fontsize=9)
    return axes
