"""Callbacks that watch a per-epoch metric: reduce the LR on a plateau, or stop training.

Both read the metric from the :class:`~lrcourse.train.History` that ``fit`` fills, one
value per epoch (``val_loss`` by default), so they can be tested on scripted histories.
"""

from __future__ import annotations

import copy
import dataclasses
import math
from dataclasses import dataclass
from numbers import Real

import torch

from .checks import check_bool, check_choice, check_int, check_number
from .callbacks import Callback, FitState
from .callbacks import History

#: The per-epoch metrics a History records.
MONITORS = ("val_loss", "val_accuracy", "train_loss", "train_accuracy")
MODES = ("min", "max")


def _check_monitor(monitor: str, *mode: str) -> None:
    """``monitor`` (and ``mode``, if passed): the message lists what History records."""
    check_choice("monitor", monitor, MONITORS)
    for value in mode:
        check_choice("mode", value, MODES)


def _check_has_val(monitor: str, has_val: bool) -> None:
    if monitor.startswith("val_") and not has_val:
        raise ValueError(f"monitor={monitor!r} needs validation data: pass val= to fit, or monitor one of "
                         f"'train_loss', 'train_accuracy'")


def _latest(state: FitState, monitor: str) -> float:
    values = getattr(state.history, monitor)
    if not values:
        raise ValueError(f"monitor {monitor!r} has no values: pass val= to fit to monitor a validation metric, "
                         f"or monitor one of 'train_loss', 'train_accuracy'")
    return values[-1]


class ReduceLROnPlateau(Callback):
    """PyTorch's ``ReduceLROnPlateau``, stepped once per epoch with ``monitor`` from the History.

    The parameters are PyTorch's (``mode``, ``factor``, ``patience``, ``threshold``,
    ``threshold_mode``, ``cooldown``, ``min_lr``, ``eps``). ``reductions`` records each
    reduction as ``(epoch, old_lr, new_lr)`` (epochs counted from 1, LRs of the first param group).
    Every option is checked when the callback is built: numbers must be finite (a NaN
    ``threshold`` would count no epoch as better), a wrong type is a ``TypeError``.
    """

    def __init__(self, monitor: str = "val_loss", mode: str = "min", factor: float = 0.1, patience: int = 10,
                 threshold: float = 1e-4, threshold_mode: str = "rel", cooldown: int = 0, min_lr: float = 0.0,
                 eps: float = 1e-8):
        _check_monitor(monitor, mode)
        factor = check_number("factor", factor, low=0, high=1, low_open=True, high_open=True)
        patience, cooldown = check_int("patience", patience, low=0), check_int("cooldown", cooldown, low=0)
        check_choice("threshold_mode", threshold_mode, ("rel", "abs"))
        min_lr = check_number("min_lr", min_lr, low=0)
        threshold, eps = check_number("threshold", threshold, low=0), check_number("eps", eps, low=0)
        self.monitor = monitor
        self.options = dict(mode=mode, factor=factor, patience=patience, threshold=threshold,
                            threshold_mode=threshold_mode, cooldown=cooldown, min_lr=min_lr, eps=eps)
        self.reductions: list[tuple[int, float, float]] = []
        self.scheduler: torch.optim.lr_scheduler.ReduceLROnPlateau | None = None

    def check(self, has_val: bool) -> None:
        _check_has_val(self.monitor, has_val)

    def on_train_begin(self, state: FitState) -> None:
        self.scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(state.optimizer, **self.options)
        self.reductions = []

    def on_epoch_end(self, state: FitState) -> None:
        before = state.optimizer.param_groups[0]["lr"]
        self.scheduler.step(_latest(state, self.monitor))
        after = state.optimizer.param_groups[0]["lr"]
        if after < before:
            self.reductions.append((state.epoch + 1, before, after))


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved for ``patience`` epochs (Keras's feature set).

    An epoch improves on the best so far when the metric beats it by more than
    ``min_delta``. With ``baseline``, an improvement resets the patience only if it also
    beats the baseline. Epochs before ``start_from_epoch`` are ignored (a warm-up). With
    ``restore_best_weights``, the model ends with the weights of its best epoch. After the
    run, ``best``, ``best_epoch``, ``stopped_epoch`` (epochs counted from 1) and ``reason`` say
    what happened. ``min_delta`` and ``baseline`` must be finite numbers and
    ``restore_best_weights`` a bool; a wrong type is a ``TypeError``.
    """

    def __init__(self, monitor: str = "val_loss", mode: str = "min", patience: int = 5, min_delta: float = 0.0,
                 restore_best_weights: bool = False, baseline: float | None = None, start_from_epoch: int = 0):
        _check_monitor(monitor, mode)
        patience = check_int("patience", patience, low=0)
        start_from_epoch = check_int("start_from_epoch", start_from_epoch, low=0)
        min_delta = check_number("min_delta", min_delta, low=0)
        check_bool("restore_best_weights", restore_best_weights)
        if baseline is not None:
            baseline = check_number("baseline", baseline)
        self.monitor, self.mode, self.patience, self.min_delta = monitor, mode, patience, min_delta
        self.restore_best_weights, self.baseline, self.start_from_epoch = restore_best_weights, baseline, start_from_epoch
        self._reset()

    def _reset(self) -> None:
        self.best = math.inf if self.mode == "min" else -math.inf
        self.best_epoch: int | None = None
        self.stopped_epoch: int | None = None
        self.reason: str | None = None
        self.wait = 0
        self._best_weights = None

    def _better(self, value: float, reference: float) -> bool:
        return value < reference - self.min_delta if self.mode == "min" else value > reference + self.min_delta

    def check(self, has_val: bool) -> None:
        _check_has_val(self.monitor, has_val)

    def on_train_begin(self, state: FitState) -> None:
        self._reset()

    def on_epoch_end(self, state: FitState) -> None:
        epoch = state.epoch
        if epoch < self.start_from_epoch:
            return
        current = _latest(state, self.monitor)
        self.wait += 1
        if self._better(current, self.best):
            self.best, self.best_epoch = current, epoch + 1
            if self.restore_best_weights:
                self._best_weights = copy.deepcopy(state.model.state_dict())
            if self.baseline is None or self._better(current, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch + 1
            self.reason = (f"early stopping: {self.monitor} did not improve by more than {self.min_delta:g} for "
                           f"{self.wait} epochs (best {self.best:.4g} at epoch {self.best_epoch})")
            state.stop(self.reason)

    def on_train_end(self, state: FitState) -> None:
        if self.restore_best_weights and self._best_weights is not None:
            state.model.load_state_dict(self._best_weights)


@dataclass
class Replay:
    """What callbacks decided on a scripted metric history: the LR after each epoch seen
    (``lrs[i]`` is the LR epoch ``i + 2`` would use), and when and why training stopped."""

    values: list[float]
    lrs: list[float]
    stopped_epoch: int | None
    reason: str | None


def _check_values(values) -> list[float]:
    """The metric values as floats; NaN and inf are kept (a diverged run records them)."""
    if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
        raise TypeError(f"values must be a sequence of numbers, one per epoch; got {type(values).__name__}")
    checked = []
    for index, value in enumerate(values):
        value = value.item() if getattr(value, "ndim", None) == 0 and hasattr(value, "item") else value
        if isinstance(value, bool) or not isinstance(value, Real):
            raise TypeError(f"values[{index}] must be a number; got {type(value).__name__} {value!r}")
        checked.append(float(value))
    if not checked:
        raise ValueError("values must hold at least one epoch's value; got none")
    return checked


def replay(callbacks, values, monitor: str = "val_loss", lr: float = 0.1) -> Replay:
    """Feed ``values`` to ``callbacks`` one epoch at a time, as :func:`~lrcourse.fit` would,
    without training: what would ReduceLROnPlateau and EarlyStopping do on this history?

    A tiny model and an SGD optimizer at ``lr`` stand in for the real ones; ``monitor``
    names the History list the values go to.
    """
    _check_monitor(monitor)
    lr = check_number("lr", lr, low=0, low_open=True)
    if isinstance(callbacks, Callback) or not isinstance(callbacks, (list, tuple)):
        raise TypeError(f"callbacks must be a list of callbacks (e.g. [EarlyStopping()]); "
                        f"got {type(callbacks).__name__}")
    for index, callback in enumerate(callbacks):
        if not isinstance(callback, Callback):
            raise TypeError(f"callbacks[{index}] must be a Callback; got {type(callback).__name__}")
    values = _check_values(values)
    model = torch.nn.Linear(1, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    state = FitState(model=model, optimizer=optimizer, history=History(steps_per_epoch=1), epochs=len(values))
    for callback in callbacks:
        callback.on_train_begin(state)
    lrs, stopped = [], None
    for epoch, value in enumerate(values):
        state.epoch = state.step = epoch
        getattr(state.history, monitor).append(value)
        for callback in callbacks:
            callback.on_epoch_end(state)
        lrs.append(optimizer.param_groups[0]["lr"])
        if state.stop_training:
            stopped = epoch + 1
            break
    for callback in callbacks:
        callback.on_train_end(state)
    return Replay(values=values[: len(lrs)], lrs=lrs, stopped_epoch=stopped, reason=state.stop_reason)


@dataclass
class StoppedRun:
    """A recorded run as it would have ended with an EarlyStopping watching it too
    (:func:`replay_early_stopping`): its ``history`` cut at the stop, the replayed ``stopping``
    (``best_epoch``, ``stopped_epoch``, ``reason``), and the ``score`` of the model it ends with."""

    history: History
    stopping: EarlyStopping
    score: float | None

    @property
    def epochs(self) -> int:
        """Epochs trained: ``stopping.stopped_epoch``, or all the recorded ones if it never stopped."""
        return self.history.epochs


def replay_early_stopping(history: History, stopping: EarlyStopping, scores=None) -> StoppedRun:
    """The run ``history`` records, as it would have ended had ``stopping`` watched it too.

    EarlyStopping only watches: until it stops the run, training is the same with it as without
    it. So ``fit(..., callbacks=[*others, stopping])`` trains the first ``stopping.stopped_epoch``
    epochs of ``fit(..., callbacks=others)`` (same seed), and stops where :func:`replay` of the
    recorded ``stopping.monitor`` says. One long run thus gives the outcome of every EarlyStopping
    setting. A copy of ``stopping`` is replayed (``stopping`` itself is left as it is; the result's
    ``stopping`` is the replayed copy); the returned history is ``history`` cut after the stop
    (per-epoch and per-step lists; ``stop_reason`` the callback's; ``seconds`` in proportion).

    ``scores``, if given, holds one number per recorded epoch, measured on the weights at that
    epoch's end (say :class:`~lrcourse.callbacks.EvaluateEachEpoch`'s test accuracy). ``score`` is
    then that of the model the stopped run ends with: ``scores[best_epoch - 1]`` with
    ``restore_best_weights=True`` (the weights it restores), else ``scores[epochs - 1]``. A NaN
    there (an epoch :class:`~lrcourse.callbacks.EvaluateEachEpoch` skipped) is a ``ValueError``.

    A history that ended early (it diverged, or a callback stopped it) gives the replay up to its end
    only: a stop that would come later is not seen. Example::

        tests = EvaluateEachEpoch(data.test)
        history = fit(model, train, optimizer, epochs=30, val=val, callbacks=[ReduceLROnPlateau(patience=2), tests])
        run = replay_early_stopping(history, EarlyStopping(patience=6, restore_best_weights=True), tests.accuracy)
        run.epochs, run.stopping.best_epoch, run.score   # as if fit had been given the EarlyStopping
    """
    if not isinstance(history, History):
        raise TypeError(f"history must be a lrcourse.History (what fit returns); got {type(history).__name__}")
    if not isinstance(stopping, EarlyStopping):
        raise TypeError(f"stopping must be an EarlyStopping; got {type(stopping).__name__}")
    values = getattr(history, stopping.monitor)
    if not values:
        raise ValueError(f"history has no {stopping.monitor} values: record the run with val= (or have the "
                         f"EarlyStopping monitor 'train_loss' or 'train_accuracy')")
    if scores is not None:
        scores = _check_values(scores)
        if len(scores) != len(values):
            raise ValueError(f"scores must hold one value per recorded epoch ({len(values)}); got {len(scores)}")
    stopping = copy.deepcopy(stopping)  # the caller's callback stays unused, as it would before a fit
    stopped = replay([stopping], values, monitor=stopping.monitor).stopped_epoch
    epochs = len(values) if stopped is None else stopped
    steps = epochs * history.steps_per_epoch
    per_epoch = {name: getattr(history, name)[:epochs] for name in MONITORS}
    cut = dataclasses.replace(
        history, **per_epoch, lr=history.lr[:steps], loss=history.loss[:steps], grad_norm=history.grad_norm[:steps],
        stop_reason=history.stop_reason if stopped is None else stopping.reason,
        diverged_at=history.diverged_at if history.diverged_at is None or history.diverged_at < steps else None,
        seconds=history.seconds * epochs / max(history.epochs, 1))
    if scores is None:
        score = None
    else:
        ends_with = stopping.best_epoch if stopping.restore_best_weights and stopping.best_epoch is not None else epochs
        score = scores[ends_with - 1]
        if math.isnan(score):
            raise ValueError(f"scores holds NaN at epoch {ends_with}, the weights this run ends with: that epoch was "
                             f"not evaluated (EvaluateEachEpoch's at_new_best must include {stopping.monitor!r})")
    return StoppedRun(history=cut, stopping=stopping, score=score)
