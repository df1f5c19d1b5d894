"""The home experiment: the course's whole recipe, on your data, over several seeds.

:func:`home_experiment` runs, for a model function and data of your own:

1. one LR range test per seed (:func:`lrcourse.range_test.lr_range_test`, the model built with that
   seed), checking that each left the model as it found it; the tests' picks (each test's
   :attr:`~lrcourse.range_result.RangeTest.suggestion`, by the default rule ``loss_and_accuracy``: the geometric
   mean of the loss's ``midway`` pick and the batch accuracy's ``accuracy_plateau``; ``midway`` for a model that is not
   a classifier) give the found LR (their
   geometric median) and 1-cycle's peak (the median top of their ``cyclical_range``);
2. for each seed, runs from the same initial weights and batch order (``runs``): PyTorch's default
   LR for the optimizer, constant; the found LR, constant; and 1-cycle (and, if asked for, cosine
   annealing from the found LR);

and returns a :class:`~lrcourse.experiments.report.Report`. Data is given as a
:class:`Split` (or anything with ``.train`` and ``.val``: a :class:`~lrcourse.data.FashionMNIST`),
each part a ``TensorData`` or a ``DataLoader``; or as one ``TensorData`` (say, from
``lrcourse.data.from_image_folder``), which :func:`train_val_split` splits.
"""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np
import torch

from ..callbacks import Callback, FitState
from ..checks import ArgumentTypeError, check_between, check_callable, check_choice, check_int, check_positive
from ..data import TensorData
from ..device import default_device, seeded
from ..loaders import check_source, steps_per_epoch
from ..range_test import RangeTest, lr_range_test
from ..schedules import constant, cosine, one_cycle
from .report import RUN_LABELS, Report, SeedRun
from .runs import OPTIMIZERS, default_lr, train_with_schedule

#: Optimizers whose momentum 1-cycle cycles (SGD with momentum, and Adam's beta1); for the others
#: (plain SGD, AdaGrad, RMSprop without momentum) cycling would add a momentum they do not have.
CYCLED_MOMENTUM = ("momentum", "adam", "adamw")
#: The fewest steps a 1-cycle run may have: its warm-up (30% of them) must last at least one step.
MIN_ONE_CYCLE_STEPS = 4


@dataclass(frozen=True)
class Split:
    """Training and validation data: each a ``TensorData`` or a ``DataLoader``."""

    train: Any
    val: Any


def train_val_split(data: TensorData, val_fraction: float = 0.2, seed: int = 0) -> Split:
    """``data`` split into training and validation examples, class by class: a fraction
    ``val_fraction`` of each class (rounded, at least one example) goes to ``val``, in an order
    drawn from ``seed``. Both parts are shuffled, so a folder read class by class is mixed."""
    if not isinstance(data, TensorData):
        raise ArgumentTypeError(f"data must be a lrcourse.data.TensorData; got {type(data).__name__}")
    check_between("val_fraction", val_fraction, 0, 1)
    check_int("seed", seed, 0)
    generator = torch.Generator().manual_seed(seed)
    labels = data.y.cpu()
    train_idx, val_idx = [], []
    for label in torch.unique(labels):
        members = torch.nonzero(labels == label).flatten()
        if len(members) < 2:
            raise ValueError(f"data must hold at least 2 examples of every class to split it; class {int(label)} "
                             f"has {len(members)}")
        members = members[torch.randperm(len(members), generator=generator)]
        n_val = min(max(round(val_fraction * len(members)), 1), len(members) - 1)
        val_idx.append(members[:n_val])
        train_idx.append(members[n_val:])
    train_idx, val_idx = torch.cat(train_idx), torch.cat(val_idx)
    train_idx = train_idx[torch.randperm(len(train_idx), generator=generator)].to(data.device)
    val_idx = val_idx[torch.randperm(len(val_idx), generator=generator)].to(data.device)
    return Split(data[train_idx], data[val_idx])


def home_experiment(model_fn: Callable[[], torch.nn.Module], data, epochs: int, batch_size: int | None,
                    seeds: Sequence[int] = (0, 1), optimizer: str = "momentum", *, lr: float | None = None,
                    max_lr: float | None = None, runs: Sequence[str] = ("default", "found", "one_cycle"),
                    num_iter: int = 100, val_fraction: float = 0.2,
                    on_progress: Callable[[float, Report], bool] | None = None) -> Report:
    """Run the range tests and the three runs of the module docstring; return the :class:`Report`.

    Args:
        model_fn: builds a fresh model (``lrcourse.MLP``, ``functools.partial(lrcourse.SmallCNN,
            num_classes=3)``, a function of yours); called once per range test and per run,
            with the global random generators seeded by the seed (yours are left alone).
        data: a :class:`Split` / anything with ``.train`` and ``.val``, or one ``TensorData``,
            split by :func:`train_val_split` (``val_fraction``, seed 0).
        epochs: epochs of every run; 0 runs the range tests only (to choose ``lr`` from them).
        batch_size: for ``TensorData`` (None for loaders).
        seeds: distinct seeds >= 0; each gives the initial weights and the batch order.
        optimizer: a name in :data:`~lrcourse.experiments.OPTIMIZERS`.
        lr: the constant LR of the ``"found"`` run; None (the default) takes the range tests'.
        max_lr: 1-cycle's peak; None takes the range tests'.
        runs: which runs, among ``"default"``, ``"found"``, ``"cosine"`` and ``"one_cycle"``.
        num_iter: steps of each range test.
        on_progress: called now and then with the fraction done and the report so far;
            returning True stops the experiment, which returns what it has (``stop_reason``).

    A Ctrl-C ends the current run consistently and raises ``KeyboardInterrupt`` with the report
    of the finished runs attached as ``.report``.

    Example::

        data = lrcourse.data.from_image_folder("my_photos")           # one TensorData
        report = home_experiment(functools.partial(MLP, num_classes=len(data.classes)), data,
                                 epochs=5, batch_size=32)
        print(report); report.plot()
    """
    split, seeds, runs = _check_args(model_fn, data, epochs, batch_size, seeds, optimizer, lr, max_lr, runs,
                                     num_iter, val_fraction, on_progress)
    train, val = split.train, split.val
    batch_size = batch_size if isinstance(train, TensorData) else None
    per_epoch = steps_per_epoch(train, batch_size)
    total_work = len(seeds) * (num_iter + len(runs) * epochs * per_epoch)
    report = Report(optimizer=optimizer, model=_describe(model_fn), epochs=epochs, batch_size=batch_size,
                    seeds=list(seeds), data=_describe_data(train, val), default_lr=default_lr(optimizer),
                    found_lr=float("nan"), max_lr=float("nan"), lr_source="range test" if lr is None else "given",
                    run_names=list(runs))
    progress = _Progress(on_progress, report, total_work)
    started = time.perf_counter()
    try:
        for seed in seeds:
            test, restored = _range_test(model_fn, train, batch_size, optimizer, num_iter, seed, progress)
            if test.stop_reason == "stopped":
                return _ended(report, "stopped during a range test", started)
            report.range_tests.append(test)
            report.restored.append(restored)
        report.found_lr = _geometric_median(report.picks) if lr is None else float(lr)
        report.max_lr = (_geometric_median([test.cyclical_range[1] for test in report.range_tests])
                         if max_lr is None else float(max_lr))
        if epochs == 0:
            return _ended(report, None, started)
        total_steps = epochs * per_epoch
        schedules = {name: _schedule(name, report, total_steps) for name in runs}
        for seed in seeds:
            for name, schedule in schedules.items():
                run = train_with_schedule(train, schedule, val=val, optimizer=optimizer, epochs=epochs,
                                          batch_size=batch_size, model=model_fn, seed=seed,
                                          cycle_momentum=name == "one_cycle" and optimizer in CYCLED_MOMENTUM,
                                          callbacks=[progress])
                if run.history.stop_reason == progress.STOPPED:
                    return _ended(report, "stopped during training", started)
                peak = report.max_lr if name == "one_cycle" else float(schedule(0))
                report.runs.append(SeedRun(name, seed, peak, run.history))
                progress.done += total_steps
    except KeyboardInterrupt as interrupt:
        interrupt.report = _ended(report, "interrupted (KeyboardInterrupt)", started)
        raise
    return _ended(report, None, started)


def _schedule(name: str, report: Report, total_steps: int):
    """The LR schedule of the run ``name`` (a key of :data:`~.report.RUN_LABELS`)."""
    if name == "default":
        return constant(base_lr=report.default_lr)
    if name == "found":
        return constant(base_lr=report.found_lr)
    if name == "cosine":
        return cosine(base_lr=report.found_lr, total_steps=total_steps)
    return one_cycle(max_lr=report.max_lr, total_steps=total_steps)


class _Progress(Callback):
    """Tells ``on_progress`` how far the experiment is, and stops it when that returns True."""

    STOPPED = "stopped from on_progress"

    def __init__(self, on_progress, report: Report, total: int):
        self.on_progress, self.report, self.total, self.done = on_progress, report, total, 0

    def tell(self, done: int) -> bool:
        return self.on_progress is not None and bool(self.on_progress(min(done / self.total, 1.0), self.report))

    def on_batch_end(self, state: FitState) -> None:
        if self.tell(self.done + state.step + 1):
            state.stop(self.STOPPED)


def _range_test(model_fn, train, batch_size, optimizer, num_iter, seed, progress) -> tuple[RangeTest, bool]:
    """One range test on the model built with ``seed``, and whether the model was restored after it."""
    model = seeded(model_fn, seed, train.device if isinstance(train, TensorData) else default_device())
    before = {name: value.clone() for name, value in model.state_dict().items()}
    done = progress.done

    def on_step(partial: RangeTest) -> bool:
        return progress.tell(done + partial.steps)

    test = lr_range_test(model, train, OPTIMIZERS[optimizer](model.parameters(), lr=default_lr(optimizer)),
                         batch_size=batch_size, num_iter=num_iter, progress=False, seed=seed, on_step=on_step)
    progress.done += num_iter
    after = model.state_dict()
    restored = before.keys() == after.keys() and all(torch.equal(before[k], after[k]) for k in before)
    return test, bool(restored)


def _ended(report: Report, reason: str | None, started: float) -> Report:
    report.stop_reason, report.seconds = reason, time.perf_counter() - started
    return report


def _geometric_median(values: Sequence[float]) -> float:
    return float(np.exp(np.median(np.log(values))))


def _describe(model_fn) -> str:
    """``MLP``, or ``MLP(num_classes=3)`` for a ``functools.partial``."""
    if isinstance(model_fn, functools.partial):
        args = [repr(a) for a in model_fn.args] + [f"{k}={v!r}" for k, v in model_fn.keywords.items()]
        return f"{_describe(model_fn.func)}({', '.join(args)})"
    return getattr(model_fn, "__qualname__", None) or type(model_fn).__name__


def _describe_data(train, val) -> dict:
    unit = "examples" if isinstance(train, TensorData) else "batches"
    classes = getattr(train, "classes", None) or getattr(getattr(train, "dataset", None), "classes", None)
    return {"train": len(train), "val": len(val), "unit": unit, "classes": None if classes is None else list(classes)}


def _check_args(model_fn, data, epochs, batch_size, seeds, optimizer, lr, max_lr, runs, num_iter, val_fraction,
                on_progress) -> tuple[Split, tuple[int, ...], tuple[str, ...]]:
    """Every argument error is raised here, before any model is built."""
    check_callable("model_fn", model_fn)
    check_int("epochs", epochs, 0)
    check_choice("optimizer", optimizer, OPTIMIZERS)
    if lr is not None:
        check_positive("lr", lr)
    if max_lr is not None:
        check_positive("max_lr", max_lr)
    check_int("num_iter", num_iter, 10)
    if on_progress is not None:
        check_callable("on_progress", on_progress)
    if isinstance(seeds, (str, bytes)) or not isinstance(seeds, Sequence) or not seeds:
        raise ArgumentTypeError(f"seeds must be a non-empty sequence of ints, such as (0, 1); got {seeds!r}")
    for seed in seeds:
        check_int("every seed", seed, 0)
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds must be distinct (a repeated seed repeats the same run); got {tuple(seeds)}")
    if isinstance(runs, (str, bytes)) or not isinstance(runs, Sequence) or not runs:
        raise ArgumentTypeError(f"runs must be a non-empty sequence of run names from {tuple(RUN_LABELS)}; got "
                                f"{runs!r}")
    for name in runs:
        check_choice("every name in runs", name, RUN_LABELS)
    if len(set(runs)) != len(runs):
        raise ValueError(f"runs must not repeat a name; got {tuple(runs)}")
    if isinstance(data, TensorData):
        split = train_val_split(data, val_fraction)
    elif hasattr(data, "train") and hasattr(data, "val") and data.val is not None:
        split = Split(data.train, data.val)
    else:
        raise ArgumentTypeError("data must be a lrcourse.data.TensorData (split into training and validation here) "
                                "or have .train and .val (lrcourse.experiments.Split(train, val), each a TensorData "
                                f"or a DataLoader); got {type(data).__name__}")
    check_source("data.train", split.train, batch_size if isinstance(split.train, TensorData) else None)
    check_source("data.val", split.val, 1000 if isinstance(split.val, TensorData) else None)
    if not isinstance(split.train, TensorData) and batch_size is not None:
        raise ValueError(f"batch_size must be None when data.train is a loader, which makes its own batches; got "
                         f"{batch_size!r}")
    steps = epochs * steps_per_epoch(split.train, batch_size)
    if "one_cycle" in runs and epochs and steps < MIN_ONE_CYCLE_STEPS:
        raise ValueError(f"epochs x batches per epoch must be at least {MIN_ONE_CYCLE_STEPS} for 1-cycle to rise and "
                         f"fall; got {epochs} x {steps // epochs}: give more epochs or a smaller batch_size")
    return split, tuple(int(seed) for seed in seeds), tuple(name for name in RUN_LABELS if name in runs)
