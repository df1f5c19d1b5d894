"""Plots of data and training runs. Each takes ``ax=None`` (a new figure) and returns the axes."""

from __future__ import annotations

import io

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import MaxNLocator
from PIL import Image

from .data import TensorData
from .surfaces import Descent
from .train import History


def figure_png(figure, dpi: float | None = None, colors: int = 64) -> bytes:
    """``figure`` as a PNG with a palette of ``colors`` colours: a few times smaller than
    matplotlib's full-colour PNG, which keeps notebooks (and panels' saved state) small."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    image = Image.open(buffer).convert("RGB").quantize(colors=colors, method=Image.Quantize.FASTOCTREE)
    compact = io.BytesIO()
    image.save(compact, format="png", optimize=True)
    return compact.getvalue()


def show_images(data: TensorData, classes, n: int = 24, ncols: int = 8, axes=None):
    """The first ``n`` images of ``data`` in a grid, each titled with its class name."""
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= len(data):
        raise ValueError(f"n must be an int between 1 and len(data)={len(data)}; got {n!r}")
    nrows = -(-n // ncols)
    if axes is None:
        _, axes = plt.subplots(nrows, ncols, figsize=(1.3 * ncols, 1.5 * nrows), squeeze=False)
    axes = np.asarray(axes).ravel()
    images = data.x[:n].detach().float().cpu()
    labels = data.y[:n].tolist()
    for ax, image, label in zip(axes, images, labels):
        ax.imshow(image.squeeze(0).numpy(), cmap="gray_r")
        ax.set_title(classes[label], fontsize=8)
    for ax in axes:
        ax.axis("off")
    return axes


def _ema(values: np.ndarray, beta: float) -> np.ndarray:
    """Exponential moving average with bias correction, so the first points are not pulled to 0."""
    out, avg = np.empty(len(values)), 0.0
    for t, v in enumerate(values, start=1):
        avg = beta * avg + (1 - beta) * v
        out[t - 1] = avg / (1 - beta**t)
    return out


def plot_loss(history: History, ax=None, smooth: float = 0.9, label: str | None = None):
    """Training loss per step, raw (faint) and smoothed, with epoch boundaries marked."""
    if not 0 <= smooth < 1:
        raise ValueError(f"smooth must be in [0, 1); got {smooth!r}")
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 3.5))
    loss = np.asarray(history.loss, dtype=float)
    steps = np.arange(len(loss))
    raw = ax.plot(steps, loss, alpha=0.25, linewidth=0.8)[0]
    ax.plot(steps, _ema(loss, smooth), color=raw.get_color(), label=label or "training loss (smoothed)")
    for epoch in range(1, history.epochs):
        ax.axvline(epoch * history.steps_per_epoch, color="grey", linewidth=0.6, linestyle=":")
    if history.diverged:
        ax.axvline(history.diverged_at, color="red", linewidth=1, label=f"diverged at step {history.diverged_at}")
    ax.set(xlabel="step", ylabel="loss")
    ax.legend()
    return ax


def plot_metrics(history: History, metric: str = "accuracy", ax=None, label: str | None = None):
    """Per-epoch ``metric`` ("loss" or "accuracy") on the training and validation data."""
    if metric not in ("loss", "accuracy"):
        raise ValueError(f"metric must be 'loss' or 'accuracy'; got {metric!r}")
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 3.5))
    prefix = f"{label}: " if label else ""
    epochs = np.arange(1, history.epochs + 1)
    line = ax.plot(epochs, getattr(history, f"train_{metric}"), marker="o", label=f"{prefix}train")[0]
    if getattr(history, f"val_{metric}"):
        ax.plot(epochs, getattr(history, f"val_{metric}"), marker="o", linestyle="--",
                color=line.get_color(), label=f"{prefix}validation")
    ax.set(xlabel="epoch", ylabel=metric)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.legend()
    return ax


def plot_descent(descent: Descent, ax=None):
    """The surface (a curve in 1-D, contours in 2-D) with the gradient-descent path on it."""
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 3.5))
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
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 3.5))
    lowest = float(descent.surface.f(np.asarray(descent.surface.minimum)))
    # A run can land exactly on the minimum; keep it on the log axis.
    gap = np.maximum(descent.loss - lowest, 1e-16)
    ax.semilogy(np.arange(len(gap)), gap, marker=".", label=label or f"lr={descent.lr:.3g}")
    ax.set(xlabel="step", ylabel="loss - minimum")
    ax.legend(fontsize=8)
    return ax


def plot_parameter_histograms(models: dict, axes=None, bins: int = 60):
    """One histogram per parameter tensor (``named_parameters`` order), one colour per model.

    ``models`` maps a label to a model; all must have the same parameter names. Counts are
    on a log scale and the bins are shared, so narrow and wide distributions both show.
    """
    names = [name for name, _ in next(iter(models.values())).named_parameters()]
    if axes is None:
        _, axes = plt.subplots(1, len(names), figsize=(3.2 * len(names), 2.8))
    axes = np.asarray(axes).ravel()
    for ax, name in zip(axes, names):
        values = {label: dict(model.named_parameters())[name].detach().float().cpu().numpy().ravel()
                  for label, model in models.items()}
        edges = np.linspace(min(v.min() for v in values.values()), max(v.max() for v in values.values()), bins + 1)
        for label, v in values.items():
            ax.hist(v, bins=edges, histtype="step", label=label)
        ax.set_yscale("log")
        ax.set_title(name, fontsize=9)
    axes[0].set_ylabel("count")
    axes[0].legend(fontsize=7)
    return axes


def plot_range_test(result, ax=None, label: str | None = None):
    """Loss against LR (log axis) of a :class:`~lrcourse.range_test.RangeTest`: raw and smoothed,
    the suggestions marked, and the regions too low / learning / diverging shaded."""
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 3.5))
    lrs, smoothed = np.asarray(result.lrs), np.asarray(result.smoothed)
    raw = ax.plot(lrs, result.losses, alpha=0.25, linewidth=0.8)[0]
    ax.plot(lrs, smoothed, color=raw.get_color(), label=label or "smoothed loss")
    ax.set_xscale("log")
    base, top = result.cyclical_range[0], result.lowest
    for (low, high), colour, region in (((lrs[0], base), "grey", "too low"), ((base, top), "green", "learning"),
                                        ((top, lrs[-1]), "red", "diverging")):
        ax.axvspan(low, high, color=colour, alpha=0.07)
        ax.text(np.sqrt(low * high), 1.0, region, transform=ax.get_xaxis_transform(), ha="center", va="top",
                fontsize=7, color=colour)
    for (rule, lr), marker in zip(result.suggestions.items(), "ovs"):
        ax.plot(lr, np.interp(np.log(lr), np.log(lrs), smoothed), marker=marker, linestyle="none",
                markersize=7, label=f"{rule}: {lr:.2g}" + (" (suggestion)" if lr == result.suggestion else ""))
    finite = smoothed[np.isfinite(smoothed)]
    # The blow-up at the end would squash the interesting part of the curve.
    ax.set_ylim(finite.min() - 0.05 * (finite[0] - finite.min()), 1.3 * finite[0])
    ax.set(xlabel="learning rate", ylabel="loss")
    ax.legend(fontsize=7, loc="lower left")
    return ax


def plot_timeline(history: History, reductions=(), stopped_epoch: int | None = None, best_epoch: int | None = None,
                  ax=None, title: str | None = None):
    """A run under ReduceLROnPlateau and EarlyStopping, epoch by epoch: the validation loss
    (left axis), the LR each epoch trained with (right axis, log scale), each LR reduction
    (dotted line, ``(epoch, old, new)`` as the callback records them), the best epoch (star)
    and the epoch training stopped at (cross). Returns the loss axes."""
    if not history.val_loss:
        raise ValueError("history has no val_loss: plot_timeline needs a run trained with val=")
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3))
    epochs = np.arange(1, history.epochs + 1)
    ax.plot(epochs, history.val_loss, marker=".", color="C0", label="val loss")
    twin = ax.twinx()
    twin.step(epochs, [history.lr[e * history.steps_per_epoch] for e in range(history.epochs)], where="mid",
              color="C1", alpha=0.8)
    twin.set_yscale("log")
    twin.set_ylabel("LR", color="C1")
    for number, (epoch, _, _) in enumerate(reductions):
        ax.axvline(epoch + 0.5, color="C1", linestyle=":", linewidth=1, label="LR reduced" if number == 0 else None)
    if best_epoch is not None:
        ax.plot([best_epoch], [history.val_loss[best_epoch - 1]], "*", color="C2", markersize=12, label="best")
    if stopped_epoch is not None:
        ax.plot([stopped_epoch], [history.val_loss[stopped_epoch - 1]], "X", color="C3", markersize=9,
                label=f"stopped at {stopped_epoch}")
    ax.set(xlabel="epoch", ylabel="validation loss", title=title)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.legend(fontsize=7, loc="upper right")
    return ax


def plot_effective_lrs(monitors: dict, ax=None):
    """Effective LR per step, one line per :class:`~lrcourse.adaptive.EffectiveLRMonitor`
    (the median weight's), with the band from the 10% to the 90% quantile; log scale."""
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 3.5))
    for name, monitor in monitors.items():
        low, median, high = np.asarray(monitor.quantiles, dtype=float).T
        line = ax.plot(monitor.steps, median, label=name)[0]
        ax.fill_between(monitor.steps, low, high, color=line.get_color(), alpha=0.15, linewidth=0)
    ax.set(xlabel="step", ylabel="effective LR of a weight", yscale="log")
    ax.legend()
    return ax
