"""Every method on the same objective with the same budget, over seeds: which finds what, for what cost.

For each seed the race builds one objective (``make_objective(seed)``: the same initial weights,
data order and budget for every method) and runs each method on it with that seed. A method
that costs less than the budget (the range test, a pruned search) simply spends less.
"""

from __future__ import annotations

import math

import optuna

from ..checks import ArgumentTypeError, check_callable, check_int
from .methods import bayes_search, grid_search, random_search
from .objective import range_test_search
from .result import Race, Search
from .space import parse_space

METHODS = ("grid", "random", "tpe", "tpe + median", "random + halving", "range test")
#: Completed trials the median pruner waits for before it prunes.
MEDIAN_STARTUP = 3


def grid_size(n_trials: int, dims: int) -> int:
    """Points per parameter of the largest grid within ``n_trials``: :math:`\\lfloor n^{1/d} \\rfloor` (at least 2)."""
    return max(2, int(math.floor(n_trials ** (1 / dims) + 1e-9)))


def run_method(method: str, objective, space, n_trials: int, seed: int, *, storage=None) -> Search:
    """One method of :data:`METHODS` on ``objective`` with a budget of ``n_trials`` full trials.

    "tpe + median" prunes with ``MedianPruner(n_startup_trials=MEDIAN_STARTUP)``: a trial stops
    after an epoch whose accuracy is below the median of the completed trials' at that epoch.
    "random + halving" is random search with ``SuccessiveHalvingPruner(min_resource=1,
    reduction_factor=3)``: at epochs 1, 3, 9, ... only the top third of the trials that got
    there go on. "range test" needs a :class:`~.objective.TrainingObjective` and a space of
    ``lr`` alone."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}; got {method!r}")
    parsed = parse_space(space)
    if method == "grid":
        return grid_search(objective, space, grid_size(n_trials, len(parsed)), seed=seed, storage=storage)
    if method == "random":
        return random_search(objective, space, n_trials, seed, storage=storage)
    if method == "random + halving":
        pruner = optuna.pruners.SuccessiveHalvingPruner(min_resource=1, reduction_factor=3)
        return random_search(objective, space, n_trials, seed, storage=storage, pruner=pruner)
    if method == "tpe":
        return bayes_search(objective, space, n_trials, seed, storage=storage)
    if method == "tpe + median":
        pruner = optuna.pruners.MedianPruner(n_startup_trials=MEDIAN_STARTUP, n_warmup_steps=0)
        return bayes_search(objective, space, n_trials, seed, storage=storage, pruner=pruner)
    if list(parsed) != ["lr"]:
        raise ValueError(f"the range test finds an LR alone: space must be {{'lr': ...}}; got {list(parsed)}")
    return range_test_search(objective)


def race(make_objective, space, n_trials: int, seeds=(0, 1, 2), methods=METHODS, *, storage=None,
         on_search=None) -> Race:
    """Run every method in ``methods`` on ``make_objective(seed)`` for each seed, with the search's
    seed too; ``on_search(method, seed, search)`` is called after each (return True to stop)."""
    check_callable("make_objective", make_objective)
    check_int("n_trials", n_trials, 1)
    parse_space(space)
    seeds = [check_int("seeds[]", seed, 0) for seed in seeds]
    if not seeds:
        raise ValueError("seeds must hold at least one seed")
    if isinstance(methods, str) or not all(method in METHODS for method in methods) or not methods:
        raise ArgumentTypeError(f"methods must be a non-empty sequence of names from {METHODS}; got {methods!r}")
    result = Race(n_trials, seeds, {method: [] for method in methods})
    for seed in seeds:
        objective = make_objective(seed)
        for method in methods:
            search = run_method(method, objective, space, n_trials, seed, storage=storage)
            result.searches[method].append(search)
            if on_search is not None and on_search(method, seed, search):
                return result
    return result
