"""How an objective tells a search what it has done so far, so bad trials can be stopped early.

An objective that declares a ``report`` argument gets a :class:`Reporter`; it calls
``report(value, examples)`` after each stage of training. The study's pruner (Optuna's
``MedianPruner``, ``SuccessiveHalvingPruner``, ``HyperbandPruner``) compares the value with
other trials' at the same stage and may stop the trial: ``report`` then returns True, the
objective stops training, and the trial is recorded as *pruned* with the examples it trained as
its cost. :class:`ReportEpochs` does this from inside :func:`lrcourse.fit`.
"""

from __future__ import annotations

import math
import time
from numbers import Real

from ..callbacks import Callback, FitState
from ..checks import check_int

#: The user attribute of an Optuna trial that holds its cost so far: {"examples": ..., "seconds": ...}.
COST = "cost"


class Reporter:
    """``report(value, examples)``: the value so far (validation accuracy) after ``examples``
    examples trained in this trial; returns True when the pruner stops the trial.

    Pruners compare trials at the same report number (1, 2, ...), so report after the same amount
    of training in every trial. Raising ``optuna.TrialPruned`` also ends a trial as pruned.
    """

    def __init__(self, trial):
        self._trial = trial
        self.started = time.perf_counter()
        self.examples = 0
        self.reports = 0
        self.pruned = False

    def __call__(self, value, examples) -> bool:
        if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(value):
            raise ValueError(f"report's value must be a finite number (the value to maximize); got {value!r}")
        self.spent(examples)
        self.reports += 1
        self._trial.report(float(value), self.reports)
        self.pruned = self.pruned or self._trial.should_prune()
        return self.pruned

    def spent(self, examples) -> None:
        """Record that the trial has trained ``examples`` examples so far, without a value."""
        if isinstance(examples, bool) or not isinstance(examples, int) or examples < self.examples:
            raise ValueError(f"examples must be the int count of examples trained so far in this trial, never "
                             f"decreasing (last {self.examples}); got {examples!r}")
        self.examples = examples
        # Stored at once, so that a trial killed later still shows what it cost.
        self._trial.set_user_attr(COST, self.cost())

    def cost(self) -> dict:
        """What the trial has spent so far: ``{"examples": ..., "seconds": ...}``."""
        return {"examples": self.examples, "seconds": time.perf_counter() - self.started}

    def fit_callback(self, examples_per_epoch: int, batch_size: int) -> ReportEpochs:
        """A :func:`lrcourse.fit` callback reporting the validation accuracy after every epoch."""
        return ReportEpochs(self, examples_per_epoch, batch_size)


class ReportEpochs(Callback):
    """Report ``history.val_accuracy`` after every epoch (``examples_per_epoch`` examples each)
    and stop training when the trial is pruned. When training ends inside an epoch (diverged,
    interrupted) its steps of ``batch_size`` examples are counted too."""

    def __init__(self, reporter: Reporter, examples_per_epoch: int, batch_size: int):
        self.reporter = reporter
        self.examples_per_epoch = check_int("examples_per_epoch", examples_per_epoch, 1)
        self.batch_size = check_int("batch_size", batch_size, 1)

    def check(self, has_val: bool) -> None:
        if not has_val:
            raise ValueError("ReportEpochs reports the validation accuracy: fit needs val")

    def on_epoch_end(self, state: FitState) -> None:
        done = state.epoch + 1
        if self.reporter(state.history.val_accuracy[-1], done * self.examples_per_epoch):
            state.stop(f"pruned after {done} epoch{'s' * (done > 1)}")

    def on_train_end(self, state: FitState) -> None:
        history = state.history
        partial = history.steps - history.epochs * history.steps_per_epoch
        trained = history.epochs * self.examples_per_epoch + max(partial, 0) * self.batch_size
        self.reporter.spent(max(trained, self.reporter.examples))
