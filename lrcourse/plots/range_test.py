"""The range-test curve: loss against LR, with the regions and the rules' picks."""

from __future__ import annotations

import numpy as np

from ..checks import check_bool, check_int
from ..range_test import RangeTest
from .core import axes_or_new


def plot_range_test(result: RangeTest, ax=None, label: str | None = None, skip_start: int = 0, skip_end: int = 0,
                    annotate: bool = True):
    """Loss against LR (log axis) of a :class:`~lrcourse.range_test.RangeTest`: raw (faint) and
    smoothed. ``skip_start`` and ``skip_end`` leave out that many points at each end of the curve
    (as fastai's plot does). With ``annotate`` (the default) the regions too low / learning /
    diverging are shaded and the rules' suggestions marked; ``annotate=False`` draws the curves
    only, for overlaying several tests on one axes."""
    if not isinstance(result, RangeTest):
        raise ValueError(f"result must be a RangeTest; got {type(result).__name__}")
    check_int("skip_start", skip_start, 0)
    check_int("skip_end", skip_end, 0)
    check_bool("annotate", annotate)
    if result.steps and skip_start + skip_end >= result.steps:
        raise ValueError(f"skip_start + skip_end must leave some of the {result.steps} points; got "
                         f"{skip_start} + {skip_end}")
    ax = axes_or_new(ax, (7, 3.5))
    shown = slice(skip_start, result.steps - skip_end)
    lrs, smoothed = np.asarray(result.lrs)[shown], np.asarray(result.smoothed)[shown]
    raw = ax.plot(lrs, np.asarray(result.losses)[shown], alpha=0.25, linewidth=0.8)[0]
    ax.plot(lrs, smoothed, color=raw.get_color(), label=label or "smoothed loss")
    ax.set_xscale("log")
    if annotate and len(lrs) >= 2:
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
    if len(finite):
        # The blow-up at the end would squash the interesting part of the curve.
        ax.set_ylim(finite.min() - 0.05 * (finite[0] - finite.min()), max(1.3 * finite[0], finite.min() * 1.01))
    ax.set(xlabel="learning rate", ylabel="loss")
    ax.legend(fontsize=7, loc="lower left")
    return ax
