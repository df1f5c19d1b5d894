"""The search panel: the methods of a race side by side, with a budget slider to move the finish line.

A thin view over :class:`lrcourse.search.Race` (computed by :func:`lrcourse.search.race`, which a
notebook can call too), :func:`lrcourse.search.race_table` and :func:`lrcourse.plots.plot_search`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import ipywidgets as widgets
import numpy as np
from matplotlib.figure import Figure

from ..checks import ArgumentTypeError
from ..plots import plot_search
from .panel import Panel


@dataclass(frozen=True)
class RaceView:
    """What the panel shows: the race (or one seed of it), the budget and the table at that budget."""

    searches: dict
    budget: float
    rows: list
    seeds: str
    tolerance: float


def search_panel(result, budget: float | None = None, tolerance: float = 0.01) -> Panel:
    """Race the methods of ``result`` (a :class:`lrcourse.search.Race`): move the budget (examples
    trained) and see the best value each method had found by then, over all seeds or one."""
    from ..search.result import Race, race_table  # here, so that importing the widgets does not import Optuna

    if not isinstance(result, Race):
        raise ArgumentTypeError(f"result must be a lrcourse.search.Race; got {type(result).__name__}")
    runs = [run for searches in result.searches.values() for run in searches]
    costs = np.concatenate([run.curve()[0] for run in runs])
    if not len(costs):
        raise ValueError("result must hold at least one ended trial")
    low, high = int(costs.min()), int(math.ceil(costs.max()))
    step = max(1, (high - low) // 100)
    controls = {
        "budget": widgets.IntSlider(value=int(min(max(budget or high, low), high)), min=low, max=high, step=step,
                                    description="budget", continuous_update=False,
                                    layout=widgets.Layout(width="420px")),
        "seed": widgets.Dropdown(options=[("all seeds", -1)] + [(f"seed {s}", i) for i, s in enumerate(result.seeds)],
                                 value=-1, description="show"),
    }

    def compute(budget, seed) -> RaceView:
        chosen = result if seed < 0 else Race(result.n_trials, [result.seeds[seed]],
                                              {m: [r[seed]] for m, r in result.searches.items()})
        label = f"{len(chosen.seeds)} seeds" if len(chosen.seeds) > 1 else f"seed {chosen.seeds[0]}"
        return RaceView(chosen.searches, float(budget), race_table(chosen, budget, tolerance), label, tolerance)

    return Panel(controls, compute=compute, draw=_draw, caption=_caption, figsize=(10.0, 3.6))


def _draw(view: RaceView, figure: Figure) -> None:
    curves, bars = figure.subplots(1, 2, gridspec_kw={"width_ratios": [3, 2]})
    plot_search(view.searches, ax=curves, budget=view.budget, band=len(view.searches) == 1)
    found = [row for row in view.rows if not math.isnan(row.best_mean)]
    y = np.arange(len(found))
    bars.barh(y, [row.best_mean for row in found], xerr=[row.best_sd for row in found], color="tab:blue", alpha=0.7)
    bars.set_yticks(y, [row.method for row in found], fontsize=8)
    if found:
        top = max(row.best_mean for row in found)
        bars.set_xlim(min(row.best_mean for row in found) - 0.05, top + 0.02)
    bars.set(xlabel="best value within the budget")
    bars.set_title(f"at {view.budget:,.0f} examples ({view.seeds})", fontsize=9)


def _caption(view: RaceView) -> str:
    lines = [f"| method | best within the budget | examples spent | within {view.tolerance:g} of the best |",
             "|---|---|---|---|"]
    for row in view.rows:
        best = "none yet" if math.isnan(row.best_mean) else f"{row.best_mean:.3f} ± {row.best_sd:.3f}"
        reached = sum(cost is not None and cost <= view.budget for cost in row.reach)
        lines.append(f"| {row.method} | {best} | {row.examples_mean:,.0f} | {reached} of {len(row.reach)} seeds |")
    return "\n".join(lines)
