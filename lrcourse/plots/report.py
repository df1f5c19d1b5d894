"""A home experiment's report on one page: range tests, validation curves with seed bands, the table."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import MaxNLocator

from ..experiments.report import RUN_LABELS, Report, format_lr
from .range_test import plot_range_test


def plot_report(report: Report, axes=None):
    """Three panels of a :class:`~lrcourse.experiments.Report`: every range test's curve (one per
    seed) with the learning region shaded, the spread of the tests' picks as a band and the LRs
    trained at marked; each run's validation accuracy per epoch, the mean over seeds with a band
    from the lowest to the highest seed; and the table of final accuracies. ``axes``: three axes,
    or None for a new figure. Returns the axes."""
    if not isinstance(report, Report):
        raise ValueError(f"report must be a lrcourse.experiments.Report; got {type(report).__name__}")
    if axes is None:
        _, axes = plt.subplots(1, 3, figsize=(15, 3.8), gridspec_kw={"width_ratios": [1.1, 1.0, 0.9]},
                               layout="constrained")
    test_ax, curves_ax, table_ax = np.asarray(axes).ravel()
    _range_tests(report, test_ax)
    _curves(report, curves_ax)
    _table(report, table_ax)
    return axes


def _range_tests(report: Report, ax) -> None:
    for seed, test in zip(report.seeds, report.range_tests):
        if test.steps:
            plot_range_test(test, ax=ax, annotate=False, label=f"seed {seed}")
    if report.range_tests:
        low, high = report.learning_region
        ax.axvspan(low, high, color="green", alpha=0.07)
        ax.text(np.sqrt(low * high), 1.0, "learning region", transform=ax.get_xaxis_transform(), ha="center",
                va="top", fontsize=7, color="green")
        picks = report.picks
        ax.axvspan(min(picks), max(picks) * 1.0001, color="C1", alpha=0.25,
                   label=f"spread of the picks ({report.range_tests[0].rule})")
    for lr, style, text in ((report.default_lr, ":", "default"), (report.found_lr, "--", "found"),
                            (report.max_lr, "-.", "1-cycle peak")):
        if np.isfinite(lr):
            ax.axvline(lr, color="k", linestyle=style, linewidth=0.8, label=f"{text} {lr:.2g}")
    ax.set_title(f"range tests ({len(report.range_tests)}), {report.optimizer}", fontsize=9)
    ax.legend(fontsize=6, loc="lower left")


def _curves(report: Report, ax) -> None:
    for index, name in enumerate(report.names):
        curves = [run.history.val_accuracy for run in report.runs if run.name == name and run.history.val_accuracy]
        if not curves:
            continue
        length = min(map(len, curves))
        values = np.array([curve[:length] for curve in curves], dtype=float)
        epochs = np.arange(1, length + 1)
        ax.plot(epochs, values.mean(0), marker="o", color=f"C{index}",
                label=f"{RUN_LABELS[name]} ({len(curves)} seeds)")
        ax.fill_between(epochs, values.min(0), values.max(0), color=f"C{index}", alpha=0.2, linewidth=0)
    ax.set(xlabel="epoch", ylabel="validation accuracy")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_title("mean over seeds; band: lowest to highest seed", fontsize=9)
    if report.names:
        ax.legend(fontsize=7, loc="lower right")


def _table(report: Report, ax) -> None:
    ax.axis("off")
    rows = [[row["label"], format_lr(row["lr"]), f"{row['mean']:.2%}", f"{row['spread']:.2%}"]
            for row in report.table()]
    if rows:
        table = ax.table(cellText=rows, colLabels=["run", "LR", "mean", "spread"], loc="center", cellLoc="center")
        table.auto_set_font_size(False)
        table.set_fontsize(8)
        table.scale(1, 1.4)
    stopped = "" if report.stop_reason is None else f"\n{report.stop_reason}"
    ax.set_title(f"final validation accuracy, {len(report.seeds)} seeds{stopped}", fontsize=9)

