"""One training run at a given learning rate: the experiment most lessons repeat.

``train_at_lr`` builds a freshly seeded model (the same initial weights for every LR, so
runs differ only in what is being compared), an optimizer at ``lr``, and calls
:func:`lrcourse.fit`. The result keeps the model, so a lesson can look inside it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Callable, Sequence

import torch

from .callbacks import Callback, FitState
from .data import TensorData
from .device import seed_everything
from .models import MLP, SmallCNN
from .schedules import MomentumScheduler, to_lambda_lr
from .snapshots import SnapshotEnsemble, SnapshotPlan, SnapshotSaver
from .train import History, fit

OPTIMIZERS: dict[str, Callable[..., torch.optim.Optimizer]] = {
    "sgd": torch.optim.SGD,
    "momentum": partial(torch.optim.SGD, momentum=0.9),
    "adam": torch.optim.Adam,
    "adamw": torch.optim.AdamW,
}
MODELS: dict[str, Callable[[], torch.nn.Module]] = {"mlp": MLP, "cnn": SmallCNN}


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
    """Train a new ``model()`` (seeded with ``seed``) with ``optimizer`` at a constant ``lr``.

    ``optimizer`` is a name in :data:`OPTIMIZERS` ("sgd" is plain SGD, no momentum, as
    in the lessons' formulas; "momentum" is SGD with momentum 0.9). The model is created
    on ``train``'s device.
    """
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {sorted(OPTIMIZERS)}; got {optimizer!r}")
    if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not lr > 0:
        raise ValueError(f"lr must be a number > 0; got {lr!r}")
    seed_everything(seed)
    net = model().to(train.device)
    history = fit(net, train, OPTIMIZERS[optimizer](net.parameters(), lr=lr), epochs=epochs,
                  batch_size=batch_size, val=val, callbacks=callbacks, progress=progress, seed=seed)
    return Run(lr=float(lr), optimizer=optimizer, batch_size=batch_size, history=history, model=net)


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
    """Like :func:`train_at_lr`, with the LR of every step given by ``schedule`` (a
    :mod:`lrcourse.schedules` schedule, or any ``step -> lr`` callable), applied through
    ``LambdaLR``. ``cycle_momentum=True`` also follows ``schedule.momentum`` (1-cycle)."""
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {sorted(OPTIMIZERS)}; got {optimizer!r}")
    if cycle_momentum and not hasattr(schedule, "momentum"):
        raise ValueError("cycle_momentum=True needs a schedule with a .momentum schedule, such as one_cycle(...)")
    seed_everything(seed)
    net = model().to(train.device)
    opt = OPTIMIZERS[optimizer](net.parameters(), lr=schedule(0))
    extra = [MomentumStepper(MomentumScheduler(opt, schedule.momentum))] if cycle_momentum else []
    history = fit(net, train, opt, epochs=epochs, batch_size=batch_size, val=val,
                  scheduler=to_lambda_lr(opt, schedule), callbacks=[*extra, *callbacks], progress=progress, seed=seed)
    return Run(lr=float(schedule(0)), optimizer=optimizer, batch_size=batch_size, history=history, model=net,
               schedule=schedule)


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
    steps_per_epoch = -(-len(train) // batch_size)
    if plan.steps_per_epoch != steps_per_epoch:
        raise ValueError(f"plan.steps_per_epoch must match train and batch_size ({steps_per_epoch} steps per "
                         f"epoch); got {plan.steps_per_epoch}")
    saver = SnapshotSaver(plan.schedule, folder=folder)
    run = train_with_schedule(train, plan.schedule, optimizer=optimizer, epochs=plan.total_steps // steps_per_epoch,
                              batch_size=batch_size, model=model, seed=seed, callbacks=[saver], progress=progress)
    return run, SnapshotEnsemble(saver.snapshots, model, device=train.device)
