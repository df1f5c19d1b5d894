"""What a training run records (:class:`History`) and the callback protocol of :func:`lrcourse.fit`.

A callback overrides any of the four hooks; each receives the :class:`FitState`. To end
training, a hook calls ``state.stop(reason)``: ``fit`` finishes the current step and returns.
"""

from __future__ import annotations

import copy
from dataclasses import asdict, dataclass, field

import numpy as np
import torch

from .checks import check_between, check_choice, check_int
from .device import forked_rng
from .loaders import check_source, is_tensor_data, preserved_generators
from .metrics import evaluate


EPOCH_FIELDS = ("train_loss", "val_loss", "train_accuracy", "val_accuracy")  # History's per-epoch lists


@dataclass
class History:
    """Everything a training run records, as plain lists.

    Per step: ``lr`` (the LR of the first param group used for that step) and ``loss``; with
    ``fit(clip_grad_norm=...)`` also ``grad_norm``, the gradient's total norm before clipping.
    Per epoch: ``train_loss`` and ``train_accuracy`` (running means over the epoch's batches),
    ``val_loss`` and ``val_accuracy`` (empty without validation data). ``diverged_at`` is the
    step whose loss was NaN or infinite, if any; ``stop_reason`` says why training ended early
    (divergence, a callback, or an interrupt), None if it ran all its epochs.
    """

    steps_per_epoch: int = 0
    lr: list[float] = field(default_factory=list)
    loss: list[float] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    train_accuracy: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_accuracy: list[float] = field(default_factory=list)
    grad_norm: list[float] = field(default_factory=list)
    clip_grad_norm: float | None = None
    diverged_at: int | None = None
    stop_reason: str | None = None
    seconds: float = 0.0

    @property
    def diverged(self) -> bool:
        return self.diverged_at is not None

    @property
    def interrupted(self) -> bool:
        return self.stop_reason is not None and self.stop_reason.startswith("interrupted")

    @property
    def epochs(self) -> int:
        """Completed epochs."""
        return len(self.train_loss)

    @property
    def steps(self) -> int:
        return len(self.loss)

    @property
    def clipped_fraction(self) -> float:
        """The fraction of steps whose gradient norm was above ``clip_grad_norm`` (and so was clipped)."""
        if self.clip_grad_norm is None or not self.grad_norm:
            return 0.0
        return float(np.mean(np.asarray(self.grad_norm) > self.clip_grad_norm))

    def epochs_to_reach(self, target: float, metric: str = "val_accuracy") -> int | None:
        """The first epoch (counted from 1) at whose end ``metric`` was at least ``target``; None if
        no epoch reached it. ``metric`` is ``"val_accuracy"`` or ``"train_accuracy"``: the axis of
        Smith's "iterations to reach the same accuracy" (CLR, Table 1) and of super-convergence."""
        check_between("target", target, 0, 1, closed="both")
        check_choice("metric", metric, ("val_accuracy", "train_accuracy"))
        return next((epoch for epoch, value in enumerate(getattr(self, metric), start=1) if value >= target), None)

    def steps_to_reach(self, target: float, metric: str = "val_accuracy") -> int | None:
        """The optimizer steps taken by the end of :meth:`epochs_to_reach`'s epoch
        (``epochs * steps_per_epoch``); None if no epoch reached ``target``."""
        epochs = self.epochs_to_reach(target, metric)
        return None if epochs is None else epochs * self.steps_per_epoch

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class FitState:
    """What a callback can see and act on while :func:`lrcourse.fit` runs.

    ``step`` counts optimizer steps taken so far (0-based index of the last one in
    ``on_batch_end``); ``loss`` is that step's loss as a tensor on the device (call
    ``.item()`` only if you need the number: it waits for the device). ``epochs`` is the
    number of epochs ``fit`` was asked to run, so ``epochs * history.steps_per_epoch`` is
    the planned number of steps. ``has_val`` says whether ``fit`` was given validation data.
    """

    model: torch.nn.Module
    optimizer: torch.optim.Optimizer
    history: History
    epochs: int = 0
    epoch: int = 0
    step: int = 0
    loss: torch.Tensor | None = None
    stop_training: bool = False
    stop_reason: str | None = None
    has_val: bool = False

    def stop(self, reason: str) -> None:
        """Ask ``fit`` to stop after this step, recording why in the History."""
        self.stop_training = True
        self.stop_reason = reason


class Callback:
    """Base class with do-nothing hooks; subclasses override the ones they need.

    ``check(has_val)`` is called by ``fit`` before training starts, so a callback that cannot work
    with the run's arguments (say, one monitoring ``val_loss`` with no validation data) refuses
    before any weight changes: raise ``ValueError`` there.
    """

    def check(self, has_val: bool) -> None:
        pass

    def on_train_begin(self, state: FitState) -> None:
        pass

    def on_batch_end(self, state: FitState) -> None:
        pass

    def on_epoch_end(self, state: FitState) -> None:
        pass

    def on_train_end(self, state: FitState) -> None:
        pass


class StopAtTarget(Callback):
    """Ends training after the first epoch whose ``monitor`` (a per-epoch History field:
    ``train_loss``, ``val_loss``, ``train_accuracy`` or ``val_accuracy``) reaches ``target``: at or
    below it for a loss, at or above it for an accuracy. Comparing runs at the same training loss,
    not the same number of epochs, separates where they end from how fast they got there.
    ``reached_at`` is that epoch (0-based), None if it never came."""

    FIELDS = EPOCH_FIELDS

    def __init__(self, target: float, monitor: str = "train_loss"):
        if monitor not in self.FIELDS:
            raise ValueError(f"monitor must be one of {self.FIELDS}; got {monitor!r}")
        if isinstance(target, bool) or not isinstance(target, (int, float)) or not np.isfinite(target):
            raise ValueError(f"target must be a finite number; got {target!r}")
        self.target, self.monitor = float(target), monitor
        self.reached_at: int | None = None

    def check(self, has_val: bool) -> None:
        if self.monitor.startswith("val") and not has_val:
            raise ValueError(f"StopAtTarget monitors {self.monitor!r}, which needs val data")

    def on_train_begin(self, state: FitState) -> None:
        self.reached_at = None

    def on_epoch_end(self, state: FitState) -> None:
        value = getattr(state.history, self.monitor)[-1]
        reached = value <= self.target if self.monitor.endswith("loss") else value >= self.target
        if reached:
            self.reached_at = state.epoch
            state.stop(f"{self.monitor} reached {self.target:g} in epoch {state.epoch}")


class EvaluateEachEpoch(Callback):
    """Evaluates the model on ``data`` at the end of every epoch: ``loss[i]`` and ``accuracy[i]``
    are those of the weights after epoch ``i + 1`` (:func:`lrcourse.evaluate`: eval mode, no
    gradients, on forks of the random generators and of a loader's, so training goes exactly as it
    would without this callback).

    On data that neither training nor the other callbacks see (a test set), ``accuracy[best_epoch - 1]``
    is the score of the weights ``EarlyStopping(restore_best_weights=True)`` would restore; see
    :func:`lrcourse.plateau.replay_early_stopping`. ``data`` is a ``TensorData`` (evaluated in batches
    of ``batch_size``) or a loader.

    ``at_new_best``, a tuple of History fields (``"val_loss"``, ``"val_accuracy"``, ``"train_loss"``,
    ``"train_accuracy"``), evaluates only where a replay can read the score: at the epochs where one
    of them reaches a new best (lower for a loss, higher for an accuracy), the only epochs whose
    weights an EarlyStopping on that field can restore, whatever its patience and ``min_delta``, and
    at the last epoch, the weights a run ends with (kept aside, so it is right whatever the other
    callbacks do at the end). The other epochs hold NaN. On a long run that overfits, this skips
    about half the evaluations.
    """

    def __init__(self, data, batch_size: int = 1000, *, at_new_best: tuple[str, ...] = ()):
        if is_tensor_data(data):
            check_int("batch_size", batch_size, 1)
        check_source("data", data, batch_size if is_tensor_data(data) else None)
        if not isinstance(at_new_best, (tuple, list)):
            raise TypeError(f"at_new_best must be a tuple of History fields {EPOCH_FIELDS}; got "
                            f"{type(at_new_best).__name__} {at_new_best!r}")
        for name in at_new_best:
            check_choice("at_new_best", name, EPOCH_FIELDS)
        self.data, self.batch_size, self.at_new_best = data, batch_size, tuple(at_new_best)
        self.loss: list[float] = []
        self.accuracy: list[float] = []
        self._last_weights: dict | None = None

    def check(self, has_val: bool) -> None:
        if not has_val and any(name.startswith("val") for name in self.at_new_best):
            raise ValueError(f"at_new_best={self.at_new_best} needs val data")

    def on_train_begin(self, state: FitState) -> None:
        self.loss, self.accuracy, self._last_weights = [], [], None

    def _evaluate(self, model: torch.nn.Module) -> None:
        with forked_rng(), preserved_generators(self.data):  # a shuffling loader must not move training's draws
            metrics = evaluate(model, self.data, batch_size=self.batch_size)
        self.loss.append(metrics["loss"])
        self.accuracy.append(metrics["accuracy"])

    def _new_best(self, history: History) -> bool:
        for name in self.at_new_best:
            *before, now = getattr(history, name)
            if not before or (now < min(before) if name.endswith("loss") else now > max(before)):
                return True
        return False

    def on_epoch_end(self, state: FitState) -> None:
        self._last_weights = None
        if not self.at_new_best or self._new_best(state.history):
            self._evaluate(state.model)
        else:  # NaN unless this turns out to be the last epoch; a copy costs far less than an evaluation
            self.loss.append(float("nan"))
            self.accuracy.append(float("nan"))
            self._last_weights = {k: v.detach().clone() for k, v in state.model.state_dict().items()}

    def on_train_end(self, state: FitState) -> None:
        if self._last_weights is None:
            return
        model = copy.deepcopy(state.model)  # the model itself may hold restored weights by now; leave it be
        model.load_state_dict(self._last_weights)
        self.loss.pop()
        self.accuracy.pop()
        self._evaluate(model)
        self._last_weights = None
