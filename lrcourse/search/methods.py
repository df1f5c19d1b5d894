"""Grid, random and Bayesian (TPE) search, each a plan of trials run on an Optuna study.

All three take the same ``objective`` (a function of the space's names that returns the value
to maximize, e.g. ``def objective(lr, report): ...``) and ``space`` (see :mod:`.space`), and
the same options:

- ``storage``: None (in memory), a database URL (``"sqlite:///lr.db"``; PostgreSQL or MySQL
  when the search spans machines) or an Optuna storage. With a database the search survives its
  process: run the same call again and it resumes; run it in N processes or machines at once and
  they share its trials (:mod:`.study`).
- ``study_name``: by default derived from the search itself (method, objective, space, seed,
  pruner, trials), so the same call finds its study again and a different search gets its own.
  A study of that name created by another search is refused, and left as it was.
- ``pruner``: an Optuna pruner (``MedianPruner``, ``SuccessiveHalvingPruner``,
  ``HyperbandPruner``) that stops trials early on the values the objective reports.
- ``on_trial(search)``: called with the :class:`~.result.Search` so far after each trial this
  process runs; return True to stop (the rest stays queued for the next run).

Each returns a :class:`~.result.Search`.
"""

from __future__ import annotations

import inspect

import numpy as np
import optuna

from ..checks import ArgumentTypeError, check_callable, check_int
from .result import Search
from .space import check_objective, grid_points, parse_space, sample_points, space_to_json
from .storage import PLAN, Plan, default_name, open_storage, open_study
from .study import collect, run_worker

__all__ = ["bayes_search", "default_startup", "grid_search", "load_search", "random_search"]


def grid_search(objective, space, points, *, seed: int | None = None, storage=None, study_name: str | None = None,
                pruner=None, on_trial=None) -> Search:
    """Try every combination of ``points`` evenly spaced values per parameter (an int, or a dict
    by name), both ends included, on each parameter's scale: for a log range
    :math:`x_i = \\text{low} \\cdot (\\text{high}/\\text{low})^{i/(k-1)}`, :math:`i = 0, \\dots, k-1`.

    The trials run in order (the last parameter varying fastest), or in an order shuffled by
    ``seed``, which makes the best-so-far curve of a grid comparable with random search's.

    Example::

        search = grid_search(objective, {"lr": (1e-4, 1.0, "log")}, points=9)
        search.best.params["lr"], search.best.value
    """
    parsed = parse_space(space)
    takes_report = check_objective(objective, parsed)
    slots = grid_points(parsed, points)
    if seed is not None:
        check_int("seed", seed, 0)
        slots = [slots[i] for i in np.random.default_rng(seed).permutation(len(slots))]
    return _search("grid", objective, parsed, takes_report, slots, seed, storage, study_name, pruner,
                   optuna.samplers.RandomSampler(seed=0), on_trial)


def random_search(objective, space, n_trials: int, seed: int = 0, *, storage=None, study_name: str | None = None,
                  pruner=None, on_trial=None) -> Search:
    """Try ``n_trials`` points drawn independently, each parameter uniform on its scale
    (log-uniform for a log range: :math:`x = \\text{low} \\cdot (\\text{high}/\\text{low})^u`,
    :math:`u \\sim U(0, 1)`), from a generator seeded with ``seed``.

    Example::

        search = random_search(objective, {"lr": (1e-4, 1.0, "log"), "momentum": (0.8, 0.99)}, n_trials=16)
    """
    parsed = parse_space(space)
    takes_report = check_objective(objective, parsed)
    check_int("n_trials", n_trials, 1)
    slots = sample_points(parsed, n_trials, _seed(seed))
    return _search("random", objective, parsed, takes_report, slots, seed, storage, study_name, pruner,
                   optuna.samplers.RandomSampler(seed=seed), on_trial)


def default_startup(n_trials: int) -> int:
    """TPE's random start when not given: :math:`\\min(10, \\max(2, \\lfloor n / 4 \\rfloor))` trials."""
    return min(10, max(2, n_trials // 4))


def bayes_search(objective, space, n_trials: int, seed: int = 0, storage=None, study_name: str | None = None,
                 pruner=None, *, n_startup: int | None = None, on_trial=None) -> Search:
    """Bayesian optimization with Optuna's TPE sampler (Bergstra et al. 2011): the first
    ``n_startup`` trials are random search's first points (the same for the same seed); each later
    trial goes where a model of the trials so far puts the most promise, the ratio of the density
    of the best trials' parameters to that of the rest, :math:`\\ell(x) / g(x)`.

    Example::

        search = bayes_search(objective, {"lr": (1e-4, 1.0, "log")}, n_trials=12,
                              storage="sqlite:///lr.db", pruner=optuna.pruners.MedianPruner())
    """
    parsed = parse_space(space)
    takes_report = check_objective(objective, parsed)
    check_int("n_trials", n_trials, 1)
    startup = default_startup(n_trials) if n_startup is None else check_int("n_startup", n_startup, 1, n_trials)
    startup = min(startup, n_trials)
    slots = sample_points(parsed, startup, _seed(seed)) + [{}] * (n_trials - startup)
    sampler = optuna.samplers.TPESampler(seed=seed, n_startup_trials=startup)
    return _search("tpe", objective, parsed, takes_report, slots, seed, storage, study_name, pruner, sampler,
                   on_trial)


def load_search(storage, study_name: str) -> Search:
    """The search stored under ``study_name`` in ``storage``, as it stands (nothing is run)."""
    if not isinstance(study_name, str) or not study_name:
        raise ArgumentTypeError(f"study_name must be a non-empty str; got {study_name!r}")
    opened, _ = open_storage(storage)
    try:
        study = optuna.load_study(study_name=study_name, storage=opened)
    except KeyError:
        raise ValueError(f"storage {storage!r} holds no study named {study_name!r}") from None
    stored = study.user_attrs.get(PLAN)
    if stored is None:
        raise ValueError(f"study {study_name!r} was not created by lrcourse.search")
    plan = Plan(**{**stored, "slots": tuple(stored["slots"])})
    return collect(study, plan, _label(plan.method, stored["pruner"]))


def _seed(seed) -> int:
    return check_int("seed", seed, 0)


def _label(method: str, pruner: str | None) -> str:
    return method if pruner is None else f"{method} + {pruner}"


def objective_identity(objective) -> str:
    """What identifies an objective across runs: its ``identity`` attribute if it has one (e.g.
    :class:`~.objective.TrainingObjective`), else its module, qualified name and parameters."""
    identity = getattr(objective, "identity", None)
    if isinstance(identity, str):
        return identity
    target = objective if inspect.isfunction(objective) or inspect.ismethod(objective) else type(objective)
    names = ", ".join(inspect.signature(objective).parameters)
    return f"{getattr(target, '__module__', '?')}.{getattr(target, '__qualname__', type(target).__name__)}({names})"


def _search(method, objective, parsed, takes_report, slots, seed, storage, study_name, pruner, sampler,
            on_trial) -> Search:
    if pruner is not None and not isinstance(pruner, optuna.pruners.BasePruner):
        raise ArgumentTypeError(f"pruner must be an Optuna pruner (optuna.pruners.MedianPruner(), ...) or None; got "
                                f"{type(pruner).__name__}")
    if on_trial is not None:
        check_callable("on_trial", on_trial)
    if study_name is not None and (not isinstance(study_name, str) or not study_name):
        raise ArgumentTypeError(f"study_name must be a non-empty str or None; got {study_name!r}")
    pruner_name = type(pruner).__name__ if pruner is not None else None
    plan = Plan(method, objective_identity(objective), space_to_json(parsed), seed, pruner_name, tuple(slots))
    opened, lock = open_storage(storage)
    study = open_study(opened, lock, study_name or default_name(plan), plan, sampler,
                       pruner or optuna.pruners.NopPruner())
    label = _label(method, pruner_name)
    run_worker(study, opened, lock, plan, objective, parsed, takes_report, label, on_trial)
    return collect(study, plan, label)
