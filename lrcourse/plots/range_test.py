"""The range-test curves: loss against LR (with the regions, the rules' picks and the spread of
several tests' picks), and the accuracy curve of Smith's original test."""

from __future__ import annotations

import numpy as np

from ..accuracy_range_test import AccuracyRangeTest
from .. import lr_rules
from ..checks import check_bool, check_int
from ..range_test import RangeTest
from .core import axes_or_new


def plot_range_test(result: RangeTest, ax=None, label: str | None = None, skip_start: int = 0, skip_end: int = 0,
                    annotate: bool = True, accuracy: bool = True):
    """Loss against LR (log axis) of a :class:`~lrcourse.range_test.RangeTest`: raw (faint) and
    smoothed; for several tests, their mean, with each test's smoothed curve thin. ``skip_start``
    and ``skip_end`` leave out that many points at each end of the curve (as fastai's plot does).
    With ``annotate`` (the default) the regions too low / learning / diverging are shaded, the
    rules' picks on the curve and the suggestion are marked, and for several tests a band spans
    their picks, and with ``accuracy`` (the default) and a test that recorded one, the batch
    accuracy, smoothed as ``accuracy_plateau`` reads it, is drawn against a second axis on the right;
    ``annotate=False`` draws the loss curves only, for overlaying several results. Returns the
    loss's axes."""
    if not isinstance(result, RangeTest):
        raise ValueError(f"result must be a RangeTest; got {type(result).__name__}")
    check_int("skip_start", skip_start, 0)
    check_int("skip_end", skip_end, 0)
    check_bool("annotate", annotate)
    check_bool("accuracy", accuracy)
    if result.steps and skip_start + skip_end >= result.steps:
        raise ValueError(f"skip_start + skip_end must leave some of the {result.steps} points; got "
                         f"{skip_start} + {skip_end}")
    ax = axes_or_new(ax, (7, 3.5))
    shown = slice(skip_start, result.steps - skip_end)
    lrs, smoothed = np.asarray(result.lrs)[shown], np.asarray(result.smoothed)[shown]
    raw = ax.plot(lrs, np.asarray(result.losses)[shown], alpha=0.25, linewidth=0.8)[0]
    several = len(result.tests) > 1
    default_label = f"smoothed loss, mean of {len(result.tests)} tests" if several else "smoothed loss"
    ax.plot(lrs, smoothed, color=raw.get_color(), label=label or default_label)
    if several:
        for test in result.tests:
            ax.plot(test.lrs[skip_start:max(test.steps - skip_end, skip_start + 1)],
                    test.smoothed[skip_start:max(test.steps - skip_end, skip_start + 1)],
                    color=raw.get_color(), linewidth=0.6, alpha=0.5)
    ax.set_xscale("log")
    if annotate and len(lrs) >= 2:
        _annotate(ax, result, lrs, smoothed)
    finite = smoothed[np.isfinite(smoothed)]
    if len(finite):
        # The blow-up at the end would squash the interesting part of the curve.
        ax.set_ylim(finite.min() - 0.05 * (finite[0] - finite.min()), max(1.3 * finite[0], finite.min() * 1.01))
    ax.set(xlabel="learning rate", ylabel="loss")
    handles, labels = ax.get_legend_handles_labels()
    if annotate and accuracy and result.accuracies:
        right = ax.twinx()
        smoothed_accuracy = lr_rules.smooth(result.accuracies, lr_rules.ACCURACY_SMOOTH)[shown]
        line = right.plot(lrs[:len(smoothed_accuracy)], smoothed_accuracy, color="C2", linewidth=1, alpha=0.7)[0]
        right.set(ylim=(0, 1), ylabel="batch accuracy (smoothed)")
        handles, labels = handles + [line], labels + ["batch accuracy (right axis)"]
    ax.legend(handles, labels, fontsize=7, loc="lower left")
    return ax


def _annotate(ax, result: RangeTest, lrs, smoothed) -> None:
    def on_curve(lr):
        return np.interp(np.log(lr), np.log(lrs), smoothed)

    base, top = result.cyclical_range[0], result.lowest
    for (low, high), colour, region in (((lrs[0], base), "grey", "too low"), ((base, top), "green", "learning"),
                                        ((top, lrs[-1]), "red", "diverging")):
        ax.axvspan(low, high, color=colour, alpha=0.07)
        ax.text(np.sqrt(low * high), 1.0, region, transform=ax.get_xaxis_transform(), ha="center", va="top",
                fontsize=7, color=colour)
    for (rule, lr), marker in zip(result.suggestions.items(), "ovsD^P"):
        ax.plot(lr, on_curve(lr), marker=marker, linestyle="none", markersize=7, label=f"{rule}: {lr:.2g}")
    picks = result.picks
    if len(picks) > 1:
        ax.axvspan(min(picks), max(picks), color="purple", alpha=0.18,
                   label=f"{result.rule} of each of {len(picks)} tests: {min(picks):.2g} to {max(picks):.2g}")
    ax.plot(result.suggestion, on_curve(result.suggestion), marker="*", markersize=12, color="black",
            linestyle="none", label=f"suggestion: {result.suggestion:.2g}")


def plot_accuracy_range_test(result: AccuracyRangeTest, ax=None, label: str | None = None, annotate: bool = True):
    """Validation accuracy against LR (a linear axis, as Smith plots it) of an
    :class:`~lrcourse.accuracy_range_test.AccuracyRangeTest`; with ``annotate``, the bounds
    ``(base_lr, max_lr)`` it suggests are marked as a band."""
    if not isinstance(result, AccuracyRangeTest):
        raise ValueError(f"result must be an AccuracyRangeTest; got {type(result).__name__}")
    check_bool("annotate", annotate)
    ax = axes_or_new(ax, (7, 3.5))
    ax.plot(result.lrs, result.accuracies, marker=".", label=label or "validation accuracy")
    if annotate and len(result.lrs) >= 2:
        base, top = result.bounds
        ax.axvspan(base, top, color="green", alpha=0.12, label=f"bounds: base_lr {base:.2g}, max_lr {top:.2g}")
    ax.set(xlabel="learning rate (rising linearly with the step)", ylabel="validation accuracy")
    ax.legend(fontsize=7, loc="lower right")
    return ax
