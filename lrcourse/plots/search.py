"""Searches for a good LR: the best value found against the cost, and the points tried.

These take :class:`lrcourse.search.Search` objects (anything with their ``curve``, ``trials`` and
``space``); this module does not import :mod:`lrcourse.search`, which would import Optuna.
"""

from __future__ import annotations

import matplotlib
import numpy as np

from ..checks import ArgumentTypeError, check_bool, check_choice
from .core import axes_or_new

ORDER_COLOURS = matplotlib.colormaps["viridis"]
COSTS = {"examples": "examples trained", "seconds": "seconds of training"}
_STATE_MARKERS = {"complete": dict(marker="o"), "pruned": dict(marker="o", facecolors="none"),
                  "failed": dict(marker="x")}


def _as_methods(searches) -> dict[str, list]:
    """``{label: [search per seed]}`` from a Search, a list of one method's Searches, or a dict of either."""
    if hasattr(searches, "curve"):
        return {searches.method: [searches]}
    if isinstance(searches, dict):
        return {label: list(runs) if isinstance(runs, (list, tuple)) else [runs] for label, runs in searches.items()}
    if isinstance(searches, (list, tuple)) and searches and all(hasattr(s, "curve") for s in searches):
        return {searches[0].method: list(searches)}
    raise ArgumentTypeError(f"searches must be a Search, a list of Searches of one method, or a dict from label to "
                            f"either; got {type(searches).__name__}")


def best_so_far(runs, cost: str = "examples") -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(spent, mean, low, high)``: at every cost where one of ``runs`` ended a trial, the mean, lowest
    and highest over the runs of the best value found so far (NaN until every run has found one)."""
    check_choice("cost", cost, tuple(COSTS))
    curves = [run.curve(cost) for run in runs]
    spent = np.unique(np.concatenate([c[0] for c in curves])) if curves else np.empty(0)
    table = np.full((len(curves), len(spent)), np.nan)
    for row, (costs, best) in zip(table, curves):
        ended = np.searchsorted(costs, spent, side="right") - 1  # the last trial ended by then
        row[ended >= 0] = best[ended[ended >= 0]]
    with np.errstate(all="ignore"):
        return spent, table.mean(axis=0), table.min(axis=0), table.max(axis=0)


def plot_search(searches, ax=None, cost: str = "examples", budget: float | None = None, band: bool = True):
    """The best value found so far against the cost spent (examples trained, or seconds), one line
    per method: for several seeds of a method the mean, with a band from the lowest to the highest
    seed (``band=False``: the mean alone, for many methods on one axes), and a dot where the method's
    budget ended. ``searches``: a Search, a list of one method's Searches (seeds), or a dict from
    label to either (e.g. ``Race.searches``). ``budget`` draws a dashed line at that cost."""
    methods = _as_methods(searches)
    check_bool("band", band)
    ax = axes_or_new(ax, (7, 3.5))
    for label, runs in methods.items():
        spent, mean, low, high = best_so_far(runs, cost)
        shown = ~np.isnan(mean)
        seeds = f" ({len(runs)} seeds)" if len(runs) > 1 else ""
        line = ax.step(spent[shown], mean[shown], where="post", label=label + seeds)[0]
        if shown.any():
            ax.plot(spent[shown][-1], mean[shown][-1], "o", color=line.get_color(), markersize=4)
        if band and len(runs) > 1:
            ax.fill_between(spent[shown], low[shown], high[shown], step="post", color=line.get_color(), alpha=0.12)
    if budget is not None:
        ax.axvline(budget, color="black", linestyle="--", linewidth=0.8)
    ax.set(xlabel=COSTS[cost], ylabel="best value found")
    ax.legend(fontsize=7, loc="lower right")
    return ax


def plot_trials(search, ax=None, params: tuple[str, ...] | None = None):
    """The points a search tried. One parameter: the value against it, in the order tried (colour);
    two: the points in the plane, coloured by value. Pruned trials are hollow (at their last
    value), failed ones crosses. Log ranges get log axes."""
    if not hasattr(search, "trials"):
        raise ArgumentTypeError(f"search must be a Search; got {type(search).__name__}")
    names = tuple(params or search.space)[:2]
    unknown = [name for name in names if name not in search.space]
    if unknown:
        raise ValueError(f"params must be names of the search's space {list(search.space)}; got {unknown}")
    ax = axes_or_new(ax, (5, 3.5))
    ended = [t for t in search.trials if t.state in _STATE_MARKERS and all(n in t.params for n in names)]
    if len(names) == 1:
        _plot_one(ax, ended, names[0])
    else:
        _plot_two(ax, ended, names)
    for axis, name in zip("xy", names):
        if search.space[name][2] == "log":
            getattr(ax, f"set_{axis}scale")("log")
    ax.set_title(f"{search.method}: {len(ended)} trials", fontsize=9)
    return ax


def _plot_one(ax, trials, name) -> None:
    values = [t.value for t in trials if t.value is not None]
    floor = min(values) if values else 0.0
    for state, style in _STATE_MARKERS.items():
        chosen = [(i, t) for i, t in enumerate(trials) if t.state == state]
        if not chosen:
            continue
        order = [i for i, _ in chosen]
        y = [t.value if t.value is not None else floor for _, t in chosen]
        colours = [ORDER_COLOURS(i / max(len(trials) - 1, 1)) for i in order]
        # Hollow markers take their colour from the edge.
        paint = {"edgecolors": colours} if style.get("facecolors") == "none" else {"c": colours}
        ax.scatter([t.params[name] for _, t in chosen], y, s=28, label=state, **paint, **style)
    ax.set(xlabel=name, ylabel="value")
    ax.legend(fontsize=7, title="colour: order tried", title_fontsize=7, loc="best")


def _plot_two(ax, trials, names) -> None:
    values = [t.value for t in trials if t.value is not None]
    low, high = (min(values), max(values)) if values else (0.0, 1.0)
    for state, style in _STATE_MARKERS.items():
        chosen = [t for t in trials if t.state == state]
        if not chosen:
            continue
        x, y = [t.params[names[0]] for t in chosen], [t.params[names[1]] for t in chosen]
        if state == "complete":
            points = ax.scatter(x, y, c=[t.value for t in chosen], cmap="viridis", vmin=low, vmax=high, s=36,
                                label=state, **style)
            ax.figure.colorbar(points, ax=ax, label="value")
        else:
            ax.scatter(x, y, s=36, color="grey", label=state, **style)
    ax.set(xlabel=names[0], ylabel=names[1])
    if len({t.state for t in trials}) > 1:
        ax.legend(fontsize=7, loc="best")
