"""The objective the lesson searches (validation accuracy after a short training run), and the
range test as a search method with the same objective and the same cost accounting.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

import torch

from ..checks import ArgumentTypeError, check_choice, check_int, check_positive
from ..data import TensorData
from ..device import seeded
from ..experiments import OPTIMIZERS
from ..metrics import evaluate
from ..models import MLP
from ..param_groups import head_body_multipliers, layer_groups
from ..range_result import RULE_NAMES
from ..range_test import DEFAULT_RULE, lr_range_test
from ..train import fit
from .report import Reporter
from .result import COMPLETE, Search, TrialRecord

#: Optimizers whose momentum a search may set.
WITH_MOMENTUM = ("sgd", "momentum")


@dataclass(frozen=True, eq=False)
class TrainingObjective:
    """The validation accuracy of a freshly seeded ``model()`` after ``epochs`` epochs on ``train``.

    ``objective(lr, momentum=None, body_multiplier=1.0, report=None)`` builds the model from
    ``seed`` (the same initial weights and batch order in every trial), an ``optimizer`` from
    :data:`lrcourse.experiments.OPTIMIZERS` at ``lr`` with every layer but the last at
    ``lr * body_multiplier`` (:func:`lrcourse.param_groups.head_body_multipliers`), trains at that
    constant LR and returns the accuracy on ``val``. ``momentum`` overrides the optimizer's (SGD
    only). With a ``report`` (a search passes one), it reports after each epoch and stops when pruned.

    Example::

        objective = TrainingObjective(data.train[:3000], data.val[:3000], epochs=3)
        objective(lr=0.05)                                   # one trial, by hand
        bayes_search(objective, {"lr": (1e-4, 1.0, "log")}, n_trials=8)
    """

    train: TensorData
    val: TensorData
    epochs: int = 3
    batch_size: int = 64
    optimizer: str = "momentum"
    model: Callable[[], torch.nn.Module] = MLP
    seed: int = 0

    def __post_init__(self):
        for name in ("train", "val"):
            if not isinstance(getattr(self, name), TensorData):
                raise ArgumentTypeError(f"{name} must be a TensorData; got {type(getattr(self, name)).__name__}")
        check_int("epochs", self.epochs, 1)
        check_int("batch_size", self.batch_size, 1)
        check_choice("optimizer", self.optimizer, OPTIMIZERS)
        check_int("seed", self.seed, 0)
        if not callable(self.model):
            raise ArgumentTypeError(f"model must be a callable that builds a torch.nn.Module; got "
                                    f"{type(self.model).__name__}")

    @property
    def examples_per_trial(self) -> int:
        """Examples one full trial trains: ``epochs * len(train)``."""
        return self.epochs * len(self.train)

    @property
    def identity(self) -> str:
        """What a stored study checks: the same set-up gives the same identity."""
        model = getattr(self.model, "__qualname__", type(self.model).__name__)
        return (f"TrainingObjective(model={model}, optimizer={self.optimizer}, epochs={self.epochs}, "
                f"batch_size={self.batch_size}, seed={self.seed}, train={len(self.train)}, val={len(self.val)})")

    def __call__(self, lr: float, momentum: float | None = None, body_multiplier: float = 1.0,
                 report: Reporter | None = None) -> float:
        check_positive("lr", lr)
        check_positive("body_multiplier", body_multiplier)
        extra = {}
        if momentum is not None:
            if self.optimizer not in WITH_MOMENTUM:
                raise ValueError(f"momentum can be searched with the optimizers {WITH_MOMENTUM}; this objective's "
                                 f"is {self.optimizer!r}")
            extra["momentum"] = float(momentum)
        net = seeded(self.model, self.seed, self.train.device)
        groups = layer_groups(net, float(lr), head_body_multipliers(net, body_multiplier))
        optimizer = OPTIMIZERS[self.optimizer](groups, lr=float(lr), **extra)
        callbacks = [] if report is None else [report.fit_callback(len(self.train), self.batch_size)]
        history = fit(net, self.train, optimizer, epochs=self.epochs, batch_size=self.batch_size, val=self.val,
                      callbacks=callbacks, progress=False, seed=self.seed)
        if len(history.val_accuracy) == self.epochs:
            return history.val_accuracy[-1]
        return evaluate(net, self.val, batch_size=1000)["accuracy"]  # diverged or pruned: its model as it is


def range_test_search(objective: TrainingObjective, *, start_lr: float = 1e-5, end_lr: float = 10.0,
                      num_iter: int = 100, rule: str = DEFAULT_RULE) -> Search:
    """The range test as a search: one short run with the LR rising from ``start_lr`` to
    ``end_lr`` (:func:`lrcourse.range_test.lr_range_test`, on the objective's model, optimizer,
    data, batch size and seed), then one trial at the LR its ``rule`` picks (a name of
    :data:`lrcourse.range_result.RULE_NAMES`; by default the range test's own suggestion rule). The test's
    steps count in the cost (``extra_examples = steps * batch_size``)."""
    if not isinstance(objective, TrainingObjective):
        raise ArgumentTypeError(f"objective must be a TrainingObjective (the range test needs its model and data); "
                                f"got {type(objective).__name__}")
    check_choice("rule", rule, RULE_NAMES)
    net = seeded(objective.model, objective.seed, objective.train.device)
    optimizer = OPTIMIZERS[objective.optimizer](net.parameters(), lr=start_lr)
    test = lr_range_test(net, objective.train, optimizer, start_lr=start_lr, end_lr=end_lr, num_iter=num_iter,
                         batch_size=objective.batch_size, progress=False, seed=objective.seed)
    if rule not in test.suggestions:  # the accuracy rules need class scores
        raise ValueError(f"rule {rule!r} found nothing to read: the test recorded no accuracy; use one of "
                         f"{sorted(test.suggestions)}")
    lr = float(test.suggestions[rule])
    started = time.perf_counter()
    value = objective(lr)
    trial = TrialRecord(number=0, params={"lr": lr}, state=COMPLETE, value=value,
                        examples=objective.examples_per_trial, seconds=time.perf_counter() - started, slot=0,
                        ended=time.time())
    return Search(method="range test", space={"lr": [start_lr, end_lr, "log"]}, trials=[trial],
                  extra_examples=test.steps * objective.batch_size, extra_seconds=test.seconds)
