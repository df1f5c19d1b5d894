"""One training run at a given learning rate or schedule: the experiment most lessons repeat.

``train_with_schedule`` builds a freshly seeded model (the same initial weights for every
run, so runs differ only in what is being compared), an optimizer, and calls
:func:`lrcourse.fit` with the LR of every step given by a schedule; ``train_at_lr`` is the
same with a constant LR. The result keeps the model, so a lesson can look inside it. Seeding
uses :func:`lrcourse.device.seeded`: the caller's global random streams are left alone.
"""

from __future__ import annotations

import dataclasses
import inspect
import math
import warnings
from dataclasses import dataclass, field
from functools import partial
from typing import Callable, Sequence

import torch

from ..callbacks import Callback, FitState, History
from ..checks import check_choice, check_int, check_positive
from ..data import TensorData, num_batches
from ..data import batches as batches_of
from ..device import default_device, seeded
from ..models import MLP, SmallCNN
from ..range_test import RangeTest
from ..schedules import Constant, MomentumScheduler, constant, to_lambda_lr
from ..snapshots import SnapshotEnsemble, SnapshotPlan, SnapshotSaver
from ..train import fit

OPTIMIZERS: dict[str, Callable[..., torch.optim.Optimizer]] = {
    "sgd": torch.optim.SGD,
    "momentum": partial(torch.optim.SGD, momentum=0.9),
    "adagrad": torch.optim.Adagrad,
    "rmsprop": torch.optim.RMSprop,
    "adam": torch.optim.Adam,
    "adamw": torch.optim.AdamW,
}
MODELS: dict[str, Callable[[], torch.nn.Module]] = {"mlp": MLP, "cnn": SmallCNN}


def default_lr(optimizer: str) -> float:
    """PyTorch's own default LR for the optimizer named ``optimizer`` in :data:`OPTIMIZERS` (SGD's
    and Adam's 1e-3, AdaGrad's and RMSprop's 1e-2): the LR a learner gets without choosing one."""
    check_choice("optimizer", optimizer, OPTIMIZERS)
    factory = OPTIMIZERS[optimizer]
    return float(inspect.signature(getattr(factory, "func", factory)).parameters["lr"].default)


@dataclass
class Run:
    """A finished run: its settings, its :class:`~lrcourse.train.History` and the trained model.

    ``lr`` is the constant LR, or the first LR of ``schedule`` when there is one.
    """

    lr: float
    optimizer: str
    batch_size: int
    history: History
    model: torch.nn.Module
    schedule: Callable[[int], float] | None = None

    @property
    def label(self) -> str:
        return f"{self.optimizer} lr={self.lr:g}" if self.schedule is None else f"{self.optimizer} {self.schedule}"


class MomentumStepper(Callback):
    """Steps a :class:`lrcourse.schedules.MomentumScheduler` after every optimizer step of ``fit``."""

    def __init__(self, scheduler):
        self.scheduler = scheduler

    def on_batch_end(self, state: FitState) -> None:
        self.scheduler.step()


def train_at_lr(
    train: TensorData,
    lr: float,
    *,
    val: TensorData | None = None,
    optimizer: str = "sgd",
    epochs: int = 1,
    batch_size: int = 32,
    model: Callable[[], torch.nn.Module] = MLP,
    seed: int = 0,
    callbacks: Sequence[Callback] = (),
    progress: bool = False,
) -> Run:
    """Train a new ``model()`` (seeded with ``seed``) with ``optimizer`` at a constant ``lr``:
    :func:`train_with_schedule` with ``constant(base_lr=lr)``.

    ``optimizer`` is a name in :data:`OPTIMIZERS` ("sgd" is plain SGD, no momentum, as
    in the lessons' formulas; "momentum" is SGD with momentum 0.9). The model is created
    on ``train``'s device.
    """
    check_positive("lr", lr)
    run = train_with_schedule(train, constant(base_lr=float(lr)), val=val, optimizer=optimizer, epochs=epochs,
                              batch_size=batch_size, model=model, seed=seed, callbacks=callbacks, progress=progress)
    return dataclasses.replace(run, schedule=None)


def train_with_schedule(
    train: TensorData,
    schedule: Callable[[int], float],
    *,
    val: TensorData | None = None,
    optimizer: str = "momentum",
    epochs: int = 1,
    batch_size: int = 64,
    model: Callable[[], torch.nn.Module] = MLP,
    seed: int = 0,
    cycle_momentum: bool = False,
    callbacks: Sequence[Callback] = (),
    progress: bool = False,
) -> Run:
    """Train a new ``model()`` (seeded with ``seed``: the same initial weights for the same seed)
    with the LR of every step given by ``schedule`` (a :mod:`lrcourse.schedules` schedule, or
    any ``step -> lr`` callable), applied through ``LambdaLR``. ``cycle_momentum=True`` also
    follows ``schedule.momentum`` (1-cycle's, or a cyclical schedule's). ``seed`` also sets the order of the batches.

    ``train`` (and ``val``) may also be a ``DataLoader`` (any sized, re-iterable collection of
    ``(x, y)`` batches): the loader makes its own batches and order, so ``batch_size`` is
    ignored, and the model is built on :func:`lrcourse.device.default_device`."""
    check_choice("optimizer", optimizer, OPTIMIZERS)
    if not callable(schedule):
        raise ValueError(f"schedule must be a callable of the step; got {type(schedule).__name__}")
    if cycle_momentum and not hasattr(schedule, "momentum"):
        raise ValueError("cycle_momentum=True needs a schedule with a .momentum schedule, such as one_cycle(...) "
                         "or triangular(...)")
    tensors = isinstance(train, TensorData)
    net = seeded(model, seed, train.device if tensors else default_device())
    opt = OPTIMIZERS[optimizer](net.parameters(), lr=schedule(0))
    extra = [MomentumStepper(MomentumScheduler(opt, schedule.momentum))] if cycle_momentum else []
    # A constant LR needs no scheduler, and so leaves the LR free for a ReduceLROnPlateau callback.
    scheduler = None if isinstance(schedule, Constant) else to_lambda_lr(opt, schedule)
    history = fit(net, train, opt, epochs=epochs, batch_size=batch_size if tensors else None, val=val,
                  scheduler=scheduler, callbacks=[*extra, *callbacks], progress=progress, seed=seed)
    return Run(lr=float(schedule(0)), optimizer=optimizer, batch_size=batch_size, history=history, model=net,
               schedule=schedule)


@dataclass
class RangeTestComparison:
    """A range test and the runs trained at its suggestion and at the optimizer's default LR,
    by label (empty until :func:`compare_with_default` has run them)."""

    test: RangeTest
    runs: dict[str, Run] = field(default_factory=dict)


def compare_with_default(
    test: RangeTest,
    train: TensorData,
    *,
    val: TensorData | None = None,
    optimizer: str = "momentum",
    model: Callable[[], torch.nn.Module] = MLP,
    epochs: int = 1,
    batch_size: int = 64,
    seed: int = 0,
    callbacks: Sequence[Callback] = (),
) -> RangeTestComparison:
    """The lecture notes' home experiment: train at ``test.suggestion`` and at PyTorch's default LR
    for ``optimizer`` (:func:`default_lr`), from the same initial weights, and return both runs."""
    if not isinstance(test, RangeTest):
        raise ValueError(f"test must be a lrcourse.range_test.RangeTest; got {type(test).__name__}")
    lrs = {f"suggestion, lr={test.suggestion:.2g}": test.suggestion,
           f"default, lr={default_lr(optimizer):g}": default_lr(optimizer)}
    runs = {label: train_at_lr(train, lr, val=val, optimizer=optimizer, model=model, epochs=epochs,
                               batch_size=batch_size, seed=seed, callbacks=callbacks)
            for label, lr in lrs.items()}
    return RangeTestComparison(test, runs)


def train_snapshot_ensemble(
    train: TensorData,
    plan: SnapshotPlan,
    *,
    optimizer: str = "momentum",
    batch_size: int = 64,
    model: Callable[[], torch.nn.Module] = MLP,
    seed: int = 0,
    folder=None,
    progress: bool = False,
) -> tuple[Run, SnapshotEnsemble]:
    """One SGDR run laid out by ``plan`` (:func:`lrcourse.snapshots.snapshot_plan`, whose
    ``steps_per_epoch`` must match ``train`` and ``batch_size``), and the ensemble of its
    snapshots (also saved to ``folder`` if given)."""
    steps_per_epoch = num_batches(train, batch_size)
    if plan.steps_per_epoch != steps_per_epoch:
        raise ValueError(f"plan.steps_per_epoch must match train and batch_size ({steps_per_epoch} steps per "
                         f"epoch); got {plan.steps_per_epoch}")
    saver = SnapshotSaver(plan.schedule, folder=folder)
    run = train_with_schedule(train, plan.schedule, optimizer=optimizer, epochs=plan.total_steps // steps_per_epoch,
                              batch_size=batch_size, model=model, seed=seed, callbacks=[saver], progress=progress)
    return run, SnapshotEnsemble(saver.snapshots, model, device=train.device)


@dataclass(frozen=True)
class LRBand:
    """Where a sweep over LRs did well: the best LR, and the lowest and highest LR whose
    accuracy came within ``tolerance`` of the best. ``center`` (their geometric mean) is a
    steadier estimate of the best LR than the single best point, which noise can move."""

    best: float
    low: float
    high: float
    tolerance: float

    @property
    def center(self) -> float:
        return (self.low * self.high) ** 0.5

    @property
    def decades(self) -> float:
        """The band's width in powers of ten."""
        return math.log10(self.high / self.low)


def good_lr_band(lrs: Sequence[float], accuracies: Sequence[float], tolerance: float = 0.01) -> LRBand:
    """The :class:`LRBand` of a sweep: ``accuracies[i]`` was reached at ``lrs[i]``."""
    if len(lrs) != len(accuracies) or not len(lrs):
        raise ValueError(f"lrs and accuracies must be non-empty and of the same length; got {len(lrs)} and "
                         f"{len(accuracies)}")
    if not tolerance >= 0:
        raise ValueError(f"tolerance must be >= 0; got {tolerance!r}")
    best = max(range(len(lrs)), key=lambda i: accuracies[i])
    good = [float(lr) for lr, accuracy in zip(lrs, accuracies) if accuracy >= accuracies[best] - tolerance]
    return LRBand(best=float(lrs[best]), low=min(good), high=max(good), tolerance=float(tolerance))


def gradient_noise(model: torch.nn.Module, data: TensorData, batch_size: int, batches: int = 20,
                   loss_fn: Callable | None = None, seed: int = 0) -> float:
    """How noisy a mini-batch gradient is: the mean squared distance between the gradient of
    ``batches`` random batches of ``batch_size`` examples of ``data`` and the gradient on all
    of ``data``. For batches drawn without replacement it is
    :math:`\\frac{\\sigma^2}{B} \\frac{N - B}{N - 1}`: about 1/B. The model's ``.grad`` and buffers are left
    as they were."""
    check_int("batch_size", batch_size, 1, len(data))
    loss_fn = loss_fn or torch.nn.functional.cross_entropy
    parameters = [p for p in model.parameters() if p.requires_grad]
    saved = [p.grad for p in parameters]
    buffers = [(b, b.clone()) for b in model.buffers()]  # BatchNorm's running stats move in train mode

    def gradient(x, y) -> torch.Tensor:
        return torch.cat([g.flatten() for g in torch.autograd.grad(loss_fn(model(x), y), parameters)])

    try:
        full = sum(gradient(x, y) * len(y) for x, y in batches_of(data, 1000)) / len(data)
        generator = torch.Generator().manual_seed(seed)
        total = 0.0
        for _ in range(batches):
            index = torch.randperm(len(data), generator=generator)[:batch_size].to(data.x.device)
            total += float((gradient(data.x[index], data.y[index]) - full).pow(2).sum())
    finally:
        for p, g in zip(parameters, saved):
            p.grad = g
        with torch.no_grad():
            for buffer, copy in buffers:
                buffer.copy_(copy)
    return total / batches


def lrs_applied(make_scheduler: Callable, steps: int = 3, scheduler_first: bool = False) -> tuple[list[float], list[str]]:
    """The LR each ``optimizer.step()`` applies over ``steps`` steps of a one-parameter SGD
    (initial LR 1) whose scheduler is ``make_scheduler(optimizer)``, with ``scheduler.step()``
    called after ``optimizer.step()`` (right) or before it (``scheduler_first``), and the
    warnings PyTorch gives. Lessons use it to show what the wrong order changes."""
    parameter = torch.nn.Parameter(torch.ones(1))
    optimizer = torch.optim.SGD([parameter], lr=1.0)
    scheduler = make_scheduler(optimizer)
    used = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(steps):
            optimizer.zero_grad()
            (parameter ** 2).sum().backward()
            if scheduler_first:
                scheduler.step()
            used.append(optimizer.param_groups[0]["lr"])
            optimizer.step()
            if not scheduler_first:
                scheduler.step()
    return used, [str(w.message) for w in caught]
