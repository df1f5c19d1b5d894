"""Plots of data and training runs. Each takes ``ax=None`` (a new figure) and returns the axes."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from .data import TensorData
from .train import History


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
    ax.legend()
    return ax
