"""The search plots and the search panel, on races of a tiny objective."""

import math

import matplotlib
import numpy as np
import optuna
import pytest

from lrcourse.plots import plot_search, plot_trials
from lrcourse.plots.search import best_so_far
from lrcourse.search import grid_search, race, random_search
from lrcourse.widgets import search_panel

matplotlib.use("Agg")
optuna.logging.set_verbosity(optuna.logging.WARNING)
SPACE = {"lr": (1e-4, 1.0, "log"), "momentum": (0.8, 0.99)}


def objective(lr, momentum, report):
    value = -abs(math.log10(lr) + 1.5) - abs(momentum - 0.9)
    for epoch in range(3):
        if report(value + 0.1 * epoch, 100 * (epoch + 1)):
            break
    return value + 0.2


@pytest.fixture(scope="module")
def result():
    return race(lambda seed: objective, SPACE, n_trials=9, seeds=(0, 1, 2), methods=("grid", "random", "tpe + median"))


def test_best_so_far_is_the_mean_and_spread_of_the_seeds_curves(result):
    runs = result.searches["random"]
    spent, mean, low, high = best_so_far(runs)
    for i, cost in enumerate(spent):
        found = [run.best_within(cost) for run in runs]
        if None in found:
            assert np.isnan(mean[i])
        else:
            assert mean[i] == pytest.approx(np.mean(found)) and (low[i], high[i]) == (min(found), max(found))


def test_plot_search_draws_one_line_per_method_and_the_budget(result):
    ax = plot_search(result.searches, budget=1500)
    labels = [text.get_text() for text in ax.get_legend().get_texts()]
    assert labels == ["grid (3 seeds)", "random (3 seeds)", "tpe + median (3 seeds)"]
    assert any(line.get_xdata()[0] == 1500 for line in ax.get_lines() if len(line.get_xdata()) == 2)
    assert len(ax.collections) == 3 and not plot_search(result.searches, band=False).collections
    assert plot_search(result.searches["grid"][0]).get_xlabel() == "examples trained"
    assert plot_search(result.searches["grid"], cost="seconds").get_xlabel() == "seconds of training"


def test_plot_trials_shows_each_state_and_log_axes(result):
    search = result.searches["tpe + median"][0]
    ax = plot_trials(search)
    assert ax.get_xscale() == "log" and ax.get_yscale() == "linear"
    assert {text.get_text() for text in ax.get_legend().get_texts()} == {"complete", "pruned"}
    one = plot_trials(grid_search(lambda lr: -abs(math.log10(lr)), {"lr": (1e-3, 1.0, "log")}, 4))
    assert one.get_ylabel() == "value" and len(one.collections[0].get_offsets()) == 4


@pytest.mark.parametrize("call, error, words", [
    (lambda r: plot_search([1, 2]), TypeError, "searches must be a Search"),
    (lambda r: plot_search(r.searches, cost="steps"), ValueError, "cost must be one of"),
    (lambda r: plot_trials(r.searches["grid"][0], params=("wd",)), ValueError, "params must be names"),
    (lambda r: plot_trials("grid"), TypeError, "search must be a Search"),
    (lambda r: search_panel(r.searches), TypeError, "result must be a lrcourse.search.Race"),
])
def test_bad_inputs(result, call, error, words):
    with pytest.raises(error) as raised:
        call(result)
    assert words in str(raised.value)


def test_the_panel_draws_at_once_and_follows_the_budget_and_the_seed(result):
    panel = search_panel(result)
    assert panel.result.budget == panel.controls["budget"].max and len(panel.result.rows) == 3
    assert "| grid |" in panel.output.outputs[-1]["data"]["text/markdown"]
    full = {row.method: row.best_mean for row in panel.result.rows}
    panel.controls["budget"].value = 900
    early = {row.method: row.best_mean for row in panel.result.rows}
    assert all(early[m] <= full[m] or math.isnan(early[m]) for m in full)
    assert early["random"] == pytest.approx(np.mean([r.best_within(900) for r in result.searches["random"]]))
    panel.controls["seed"].value = 1
    assert panel.result.seeds == "seed 1"
    assert panel.result.rows[0].best == (result.searches["grid"][1].best_within(900),)


def test_a_single_search_plots_without_a_band():
    search = random_search(lambda lr: -abs(math.log10(lr)), {"lr": (1e-3, 1.0, "log")}, 5, seed=0)
    ax = plot_search(search)
    assert not ax.collections and ax.get_legend().get_texts()[0].get_text() == "random"
