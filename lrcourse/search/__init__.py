"""Searching for the learning rate: grid, random and Bayesian search on Optuna, pruning, the range test.

::

    from lrcourse.search import TrainingObjective, bayes_search

    objective = TrainingObjective(data.train[:3000], data.val[:3000], epochs=3)
    search = bayes_search(objective, {"lr": (1e-4, 1.0, "log")}, n_trials=8,
                          storage="sqlite:///lr.db", pruner=optuna.pruners.MedianPruner())
    search.best, search.examples

Modules: :mod:`.space` (ranges, grids, log-uniform samples), :mod:`.methods` (the searches),
:mod:`.storage` (the Optuna study behind them: its plan, creating or resuming it), :mod:`.study`
(workers that claim and run its trials, recovery), :mod:`.report`
(reporting per epoch, pruning), :mod:`.objective` (the lesson's objective, the range test as a
method), :mod:`.race` (every method on the same objective and budget, over seeds) and
:mod:`.result` (what they return). Optuna is imported here only, not by ``import lrcourse``.
"""

from .methods import bayes_search, default_startup, grid_search, load_search, random_search
from .objective import TrainingObjective, range_test_search
from .race import METHODS, race, run_method
from .report import Reporter, ReportEpochs
from .result import Best, Race, RaceRow, Search, TrialRecord, race_table
from .space import Range, grid_points, parse_space, sample_points

__all__ = ["METHODS", "Best", "Race", "RaceRow", "Range", "ReportEpochs", "Reporter", "Search", "TrainingObjective",
           "TrialRecord", "bayes_search", "default_startup", "grid_points", "grid_search", "load_search",
           "parse_space", "race", "race_table", "random_search", "range_test_search", "run_method", "sample_points"]
