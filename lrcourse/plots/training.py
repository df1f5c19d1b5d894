"""Plots of data and training runs: images, loss and metric curves, weights, effective LRs, final
accuracy against the training budget, and a run's timeline under ReduceLROnPlateau and EarlyStopping."""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import MaxNLocator

from ..callbacks import History
from ..checks import ArgumentTypeError, ceil_div, check_int, check_number, check_positive
from ..data import TensorData
from ..lr_rules import smooth as smoothed
from ..plateau import EarlyStopping, ReduceLROnPlateau
from .core import axes_or_new


def show_images(data: TensorData, classes, n: int = 24, ncols: int = 8, axes=None):
    """The first ``n`` images of ``data`` in a grid, each titled with its class name."""
    check_int("n", n, 1, len(data))
    check_int("ncols", ncols, 1)
    nrows = ceil_div(n, ncols)
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


def plot_loss(history: History, ax=None, smooth: float = 0.9, label: str | None = None):
    """Training loss per step, raw (faint) and smoothed, with epoch boundaries marked."""
    if not 0 <= smooth < 1:
        raise ValueError(f"smooth must be in [0, 1); got {smooth!r}")
    ax = axes_or_new(ax, (7, 3.5))
    loss = np.asarray(history.loss, dtype=float)
    steps = np.arange(len(loss))
    raw = ax.plot(steps, loss, alpha=0.25, linewidth=0.8)[0]
    ax.plot(steps, smoothed(loss, smooth), color=raw.get_color(), label=label or "training loss (smoothed)")
    for epoch in range(1, history.epochs):
        ax.axvline(epoch * history.steps_per_epoch, color="grey", linewidth=0.6, linestyle=":")
    if history.diverged:
        ax.axvline(history.diverged_at, color="red", linewidth=1, label=f"diverged at step {history.diverged_at}")
    ax.set(xlabel="step", ylabel="loss")
    ax.legend()
    return ax


def plot_metrics(history: History, metric: str = "accuracy", ax=None, label: str | None = None,
                 splits: tuple[str, ...] = ("train", "val")):
    """Per-epoch ``metric`` ("loss" or "accuracy") on the training (solid) and validation (dashed)
    data; ``splits=("val",)`` draws the validation curve only, to compare several runs."""
    if metric not in ("loss", "accuracy"):
        raise ValueError(f"metric must be 'loss' or 'accuracy'; got {metric!r}")
    if not splits or any(split not in ("train", "val") for split in splits):
        raise ValueError(f"splits must name 'train' and/or 'val'; got {splits!r}")
    ax = axes_or_new(ax, (5, 3.5))
    prefix = f"{label}: " if label else ""
    epochs = np.arange(1, history.epochs + 1)
    color = None
    if "train" in splits:
        color = ax.plot(epochs, getattr(history, f"train_{metric}"), marker="o", label=f"{prefix}train")[0].get_color()
    if "val" in splits and getattr(history, f"val_{metric}"):
        name = f"{prefix}validation" if "train" in splits else (label or "validation")
        ax.plot(epochs, getattr(history, f"val_{metric}"), marker="o", linestyle="--", color=color, label=name)
    ax.set(xlabel="epoch", ylabel=metric)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.legend()
    return ax


def plot_seeds(histories, metric: str = "val_accuracy", ax=None, label: str | None = None, linestyle: str = "-"):
    """One run repeated over seeds: the mean of the per-epoch ``metric`` (``"val_accuracy"``,
    ``"val_loss"``, ``"train_accuracy"`` or ``"train_loss"``) over ``histories``, with a band from
    the lowest to the highest seed at each epoch. All histories must have the same number of epochs."""
    metrics = ("val_accuracy", "val_loss", "train_accuracy", "train_loss")
    if metric not in metrics:
        raise ValueError(f"metric must be one of {metrics}; got {metric!r}")
    histories = list(histories)
    if not histories or not all(isinstance(history, History) for history in histories):
        raise ValueError("histories must be a non-empty list of History")
    lengths = {len(getattr(history, metric)) for history in histories}
    if len(lengths) != 1 or not lengths.pop():
        raise ValueError(f"every history must have the same, non-zero number of epochs of {metric}; got "
                         f"{[len(getattr(history, metric)) for history in histories]}")
    ax = axes_or_new(ax, (7, 3.5))
    values = np.array([getattr(history, metric) for history in histories], dtype=float)
    epochs = np.arange(1, values.shape[1] + 1)
    line = ax.plot(epochs, values.mean(0), marker="o", markersize=3, linestyle=linestyle,
                   label=f"{label or metric} ({len(histories)} seeds)")[0]
    ax.fill_between(epochs, values.min(0), values.max(0), color=line.get_color(), alpha=0.15, linewidth=0)
    ax.set(xlabel="epoch", ylabel=metric.replace("_", " "))
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    return ax


def plot_budgets(budgets, ax=None, label: str | None = None, target: float | None = None,
                 ylabel: str = "final validation accuracy"):
    """A schedule trained with several budgets (one full run per budget and seed): the mean final
    score against the budget in epochs, with a band from the lowest to the highest seed.
    ``budgets`` maps each budget to its final scores, one per seed (the same form as
    :func:`lrcourse.compare.speedup`'s ``baseline``). ``target`` draws a dashed horizontal line at
    that score, to read off the smallest budget that reaches it (Smith & Topin's epochs to a target)."""
    if not isinstance(budgets, Mapping) or not budgets:
        raise ArgumentTypeError(f"budgets must be a non-empty dict {{epochs: scores per seed}}; got "
                                f"{type(budgets).__name__}")
    epochs = sorted(check_positive("a budget (key) of budgets", budget) for budget in budgets)
    rows = []
    for budget in sorted(budgets):
        scores = budgets[budget]
        if isinstance(scores, (str, bytes, Mapping)) or not hasattr(scores, "__iter__"):
            raise ArgumentTypeError(f"budgets[{budget!r}] must be a sequence of scores, one per seed; got "
                                    f"{type(scores).__name__}")
        scores = list(scores)
        if not scores:
            raise ValueError(f"budgets[{budget!r}] must hold at least one score (one per seed); got none")
        rows.append([check_number(f"a score in budgets[{budget!r}]", score) for score in scores])
    if target is not None:
        target = check_number("target", target)
    ax = axes_or_new(ax, (7, 3.5))
    means = np.array([np.mean(row) for row in rows])
    seeds = sorted({len(row) for row in rows})
    line = ax.plot(epochs, means, marker="o", markersize=4,
                   label=f"{label or 'mean'} ({'/'.join(map(str, seeds))} seeds)")[0]
    ax.fill_between(epochs, [min(row) for row in rows], [max(row) for row in rows], color=line.get_color(),
                    alpha=0.15, linewidth=0)
    if target is not None:
        ax.axhline(target, color="black", linestyle="--", linewidth=0.8, label=f"target {target:.4g}")
    ax.set(xlabel="budget (epochs of a full run)", ylabel=ylabel)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
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


def plot_effective_lrs(monitors: dict, ax=None):
    """Effective LR per step, one line per :class:`~lrcourse.adaptive.EffectiveLRMonitor`
    (the median weight's), with the band from the 10% to the 90% quantile; log scale."""
    ax = axes_or_new(ax, (7, 3.5))
    for name, monitor in monitors.items():
        low, median, high = np.asarray(monitor.quantiles, dtype=float).T
        line = ax.plot(monitor.steps, median, label=name)[0]
        ax.fill_between(monitor.steps, low, high, color=line.get_color(), alpha=0.15, linewidth=0)
    ax.set(xlabel="step", ylabel="effective LR of a weight", yscale="log")
    ax.legend()
    return ax


def plot_timeline(history: History, callbacks=(), ax=None, title: str | None = None):
    """A run under ReduceLROnPlateau and EarlyStopping, epoch by epoch: the validation loss
    (left axis), the LR each epoch trained with (right axis, log scale), each LR reduction of a
    :class:`~lrcourse.plateau.ReduceLROnPlateau` in ``callbacks`` (dotted line), and the best
    epoch (star) and the epoch training stopped at (cross) of an
    :class:`~lrcourse.plateau.EarlyStopping` in ``callbacks``. Reductions after the history's last
    epoch are left out (a history cut by :func:`~lrcourse.plateau.replay_early_stopping`). Returns the loss axes."""
    if not history.val_loss:
        raise ValueError("history has no val_loss: plot_timeline needs a run trained with val=")
    # A history cut by replay_early_stopping keeps its plateau callback, whose later reductions it never used.
    reductions = [r for c in callbacks if isinstance(c, ReduceLROnPlateau) for r in c.reductions
                  if r[0] <= history.epochs]
    stopping = next((c for c in callbacks if isinstance(c, EarlyStopping)), None)
    ax = axes_or_new(ax, (6, 3))
    epochs = np.arange(1, history.epochs + 1)
    ax.plot(epochs, history.val_loss, marker=".", color="C0", label="val loss")
    twin = ax.twinx()
    twin.step(epochs, [history.lr[e * history.steps_per_epoch] for e in range(history.epochs)], where="mid",
              color="C1", alpha=0.8)
    twin.set_yscale("log")
    twin.set_ylabel("LR", color="C1")
    for number, (epoch, _, _) in enumerate(reductions):
        ax.axvline(epoch + 0.5, color="C1", linestyle=":", linewidth=1, label="LR reduced" if number == 0 else None)
    if stopping is not None and stopping.best_epoch is not None:
        ax.plot([stopping.best_epoch], [history.val_loss[stopping.best_epoch - 1]], "*", color="C2", markersize=12,
                label="best")
    if stopping is not None and stopping.stopped_epoch is not None:
        ax.plot([stopping.stopped_epoch], [history.val_loss[stopping.stopped_epoch - 1]], "X", color="C3",
                markersize=9, label=f"stopped at {stopping.stopped_epoch}")
    ax.set(xlabel="epoch", ylabel="validation loss", title=title)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.legend(fontsize=7, loc="upper right")
    return ax
