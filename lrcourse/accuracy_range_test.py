"""Smith's original LR range test: a linear ramp over a few epochs, read off the validation accuracy.

Smith (*Cyclical Learning Rates for Training Neural Networks*, WACV 2017, section 3.3) trains
"for several epochs while letting the learning rate increase linearly between low and high LR
values", plots the accuracy against the LR, and takes ``base_lr`` where the accuracy starts to
rise and ``max_lr`` where it slows, turns ragged or falls: the bounds of a cyclical schedule.
His recipe is the triangular policy with ``step_size`` equal to the run's length, so the LR of
step ``t`` of ``T`` is

    lr_t = start_lr + (end_lr - start_lr) * t / (T - 1)      (S.triangular, step_size = T - 1)

and the validation set is evaluated ``evaluations`` times, evenly spaced, plus once before
the first step. The exponential, loss-based, fraction-of-an-epoch version that fastai and
torch-lr-finder run is :func:`lrcourse.range_test.lr_range_test`.

Like that test, this one only looks: it trains a copy of the model and optimizer, on a fork of
the global random generators, and leaves the originals untouched.
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import torch

from . import lr_rules
from .callbacks import Callback, FitState
from .checks import as_float, check_int, check_module, check_optimizer_holds
from .data import TensorData
from .device import forked_rng
from .loaders import check_source, steps_per_epoch
from .metrics import evaluate
from .schedules import to_lambda_lr, triangular
from .train import fit


@dataclass
class AccuracyRangeTest:
    """The record of one accuracy range test: at each evaluation the step, the LR of that step,
    and the validation accuracy and loss. ``examples`` counts the training examples the test
    trained on and ``evaluated`` the validation examples it evaluated (a forward pass each);
    ``stop_reason`` is ``"completed"`` or ``"diverged"`` (a NaN or infinite loss)."""

    start_lr: float
    end_lr: float
    epochs: int
    steps: list[int] = field(default_factory=list)
    lrs: list[float] = field(default_factory=list)
    accuracies: list[float] = field(default_factory=list)
    val_losses: list[float] = field(default_factory=list)
    examples: int = 0
    evaluated: int = 0
    stop_reason: str = "completed"
    seconds: float = 0.0

    @property
    def peak(self) -> float:
        """The LR at which the validation accuracy was highest."""
        return float(self.lrs[int(np.argmax(self.accuracies))])

    @property
    def bounds(self) -> tuple[float, float]:
        """``(base_lr, max_lr)`` read as Smith reads the curve: where the accuracy has made 10% of
        its rise to the peak (it starts to rise), and where it has made 90% (it slows before
        its peak): :func:`lrcourse.lr_rules.cyclical_range` applied to the falling ``-accuracy``."""
        return lr_rules.cyclical_range(self.lrs, -np.asarray(self.accuracies))


class _Evaluations(Callback):
    """Evaluates ``val`` after the steps in ``at`` and records them in ``result``."""

    def __init__(self, val, at: set[int], result: AccuracyRangeTest, loss_fn):
        self.val, self.at, self.result, self.loss_fn = val, at, result, loss_fn

    def record(self, model, step: int, lr: float) -> None:
        metrics = evaluate(model, self.val, loss_fn=self.loss_fn)
        self.result.steps.append(step)
        self.result.lrs.append(lr)
        self.result.accuracies.append(metrics["accuracy"])
        self.result.val_losses.append(metrics["loss"])
        self.result.evaluated += len(self.val)

    def on_batch_end(self, state: FitState) -> None:
        if state.step in self.at:
            self.record(state.model, state.step + 1, state.history.lr[-1])


def accuracy_range_test(
    model: torch.nn.Module,
    train: TensorData,
    optimizer: torch.optim.Optimizer,
    val: TensorData,
    *,
    start_lr: float,
    end_lr: float,
    epochs: int = 4,
    batch_size: int = 64,
    evaluations: int = 32,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None,
    seed: int = 0,
    progress: bool = False,
) -> AccuracyRangeTest:
    """Smith's LR range test on ``model``: ``epochs`` epochs of ``train`` with the LR rising
    linearly from ``start_lr`` to ``end_lr``, the accuracy on ``val`` measured before the first
    step and ``evaluations`` times along the way. Returns an :class:`AccuracyRangeTest`.

    Args:
        train, val: :class:`~lrcourse.data.TensorData`; batches of ``batch_size`` drawn in an
            order from ``seed``.
        optimizer: built on ``model``'s parameters; every param group keeps its LR ratio to
            the first group, as in :func:`lrcourse.range_test.lr_range_test`.

    Example::

        test = accuracy_range_test(model, data.train, optimizer, data.val, start_lr=1e-3, end_lr=0.5)
        base_lr, max_lr = test.bounds                  # model and optimizer left untouched
    """
    check_module("model", model)
    check_optimizer_holds(model, optimizer)
    for name, data in (("train", train), ("val", val)):
        if not isinstance(data, TensorData):
            raise ValueError(f"{name} must be a lrcourse.data.TensorData; got {type(data).__name__}")
        check_source(name, data, batch_size)
    start, end = as_float("start_lr", start_lr), as_float("end_lr", end_lr)
    if not start > 0:
        raise ValueError(f"start_lr must be a finite number > 0; got {start_lr!r}")
    if not end > start:
        raise ValueError(f"end_lr must be a finite number > start_lr={start_lr!r}; got {end_lr!r}")
    check_int("epochs", epochs, 1)
    total = epochs * steps_per_epoch(train, batch_size)
    check_int("evaluations", evaluations, 1, total)
    check_int("seed", seed, 0)

    result = AccuracyRangeTest(start_lr=start, end_lr=end, epochs=epochs)
    # The step after which each evaluation runs: evenly spaced, the last after the last step.
    at = {int(round(total * (k + 1) / evaluations)) - 1 for k in range(evaluations)}
    started = time.perf_counter()
    with forked_rng(seed):
        # One deepcopy of both keeps the copied optimizer pointing at the copied parameters.
        net, opt = copy.deepcopy((model, optimizer))
        for group in opt.param_groups:
            group.pop("initial_lr", None)  # a scheduler of the caller's must not set the ramp's reference
        schedule = triangular(base_lr=start, max_lr=end, step_size=max(total - 1, 1))
        evaluations_callback = _Evaluations(val, at, result, loss_fn)
        evaluations_callback.record(net, 0, start)
        history = fit(net, train, opt, epochs=epochs, batch_size=batch_size, scheduler=to_lambda_lr(opt, schedule),
                      callbacks=[evaluations_callback], loss_fn=loss_fn, progress=progress, seed=seed)
    taken = history.diverged_at if history.diverged else history.steps  # a non-finite loss's step is not applied
    full, partial = divmod(taken, steps_per_epoch(train, batch_size))  # only an epoch's last batch can be short
    result.examples = full * len(train) + partial * batch_size
    result.stop_reason = "diverged" if history.diverged else "completed"
    result.seconds = time.perf_counter() - started
    return result
