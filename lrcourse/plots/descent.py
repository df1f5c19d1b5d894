"""Gradient descent on a small surface: the path on the surface, and the loss per step."""

from __future__ import annotations

import numpy as np

from ..surfaces import Descent
from .core import axes_or_new


def plot_descent(descent: Descent, ax=None):
    """The surface (a curve in 1-D, contours in 2-D) with the gradient-descent path on it."""
    ax = axes_or_new(ax, (5, 3.5))
    surface, path = descent.surface, descent.path
    (x_low, x_high), *rest = surface.extent
    xs = np.linspace(x_low, x_high, 200)
    if surface.dim == 1:
        ax.plot(xs, surface.f(xs[None]), color="grey", linewidth=1)
        ax.plot(path[:, 0], descent.loss, marker="o", markersize=3, linewidth=0.8, color="C1")
        ax.set(xlabel="w", ylabel="loss")
    else:
        (y_low, y_high), = rest
        grid = np.stack(np.meshgrid(xs, np.linspace(y_low, y_high, 150)))
        ax.contour(grid[0], grid[1], surface.f(grid), levels=12, cmap="Greys", linewidths=0.6)
        ax.plot(path[:, 0], path[:, 1], marker="o", markersize=3, linewidth=0.8, color="C1")
        ax.plot(*surface.minimum, marker="*", markersize=10, color="C2", linestyle="none")
        ax.set(xlabel="w[0]", ylabel="w[1]", ylim=(y_low, y_high))
    start = (path[0, 0], descent.loss[0]) if surface.dim == 1 else tuple(path[0])
    ax.plot(*start, marker="s", color="black", linestyle="none", label="start")
    ax.set_xlim(x_low, x_high)
    status = f"diverged at step {descent.diverged_at}" if descent.diverged else f"{len(path) - 1} steps"
    ax.set_title(f"{surface.name}, lr={descent.lr:.3g}: {status}", fontsize=9)
    return ax


def plot_descent_loss(descent: Descent, ax=None, label: str | None = None):
    """Distance of the loss above the global minimum, per step, on a log scale."""
    ax = axes_or_new(ax, (5, 3.5))
    lowest = float(descent.surface.f(np.asarray(descent.surface.minimum)))
    # A run can land exactly on the minimum; keep it on the log axis.
    gap = np.maximum(descent.loss - lowest, 1e-16)
    ax.semilogy(np.arange(len(gap)), gap, marker=".", label=label or f"lr={descent.lr:.3g}")
    ax.set(xlabel="step", ylabel="loss - minimum")
    ax.legend(fontsize=8)
    return ax
