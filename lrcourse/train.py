"""The training loop: ``fit`` a model on tensors already on the device, ``evaluate`` it.

One step is the textbook order, which matters::

    optimizer.zero_grad()      # forget the previous step's gradients
    loss = loss_fn(model(x), y)
    loss.backward()            # gradients of this batch
    optimizer.step()           # update with the current LR
    scheduler.step()           # then move the LR for the next step

Nothing is copied back from the device per step: per-step losses collect in a device
tensor and come back once per epoch. The one exception is the divergence check, which
reads the loss each step on the CPU (free there) and every 32 steps on a GPU.
"""

from __future__ import annotations

import math
import warnings
import time
from dataclasses import asdict, dataclass, field
from typing import Callable, Sequence

import torch
import torch.nn.functional as F
from torch.optim.lr_scheduler import ReduceLROnPlateau
from tqdm.auto import tqdm

from .callbacks import Callback, FitState
from .data import TensorData, batches, num_batches

GPU_CHECK_EVERY = 32


@dataclass
class History:
    """Everything a training run records, as plain lists.

    Per step: ``lr`` (the LR of the first param group used for that step) and ``loss``.
    Per epoch: ``train_loss`` and ``train_accuracy`` (running means over the epoch's
    batches), ``val_loss`` and ``val_accuracy`` (empty without validation data).
    ``diverged_at`` is the step whose loss was NaN or infinite, if any.
    """

    steps_per_epoch: int = 0
    lr: list[float] = field(default_factory=list)
    loss: list[float] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    train_accuracy: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_accuracy: list[float] = field(default_factory=list)
    diverged_at: int | None = None
    stop_reason: str | None = None
    seconds: float = 0.0

    @property
    def diverged(self) -> bool:
        return self.diverged_at is not None

    @property
    def epochs(self) -> int:
        """Completed epochs."""
        return len(self.train_loss)

    @property
    def steps(self) -> int:
        return len(self.loss)

    def to_dict(self) -> dict:
        return asdict(self)


def evaluate(
    model: torch.nn.Module,
    data: TensorData,
    batch_size: int = 1000,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None,
) -> dict[str, float]:
    """Mean loss and accuracy of ``model`` on ``data``, in eval mode, without gradients.

    ``loss_fn`` must return the batch mean (cross-entropy by default). The model's
    train/eval mode is restored afterwards.
    """
    loss_fn = loss_fn or F.cross_entropy
    device = _model_device(model)
    data = data if data.device == device else data.to(device)
    was_training = model.training
    model.eval()
    total_loss = torch.zeros((), device=device)
    correct = torch.zeros((), device=device, dtype=torch.long)
    try:
        with torch.no_grad():
            for x, y in batches(data, batch_size):
                out = model(x)
                total_loss += loss_fn(out, y) * len(y)
                correct += (out.argmax(1) == y).sum()
    finally:
        model.train(was_training)
    n = max(len(data), 1)
    return {"loss": total_loss.item() / n, "accuracy": correct.item() / n}


def fit(
    model: torch.nn.Module,
    train: TensorData,
    optimizer: torch.optim.Optimizer,
    epochs: int,
    batch_size: int,
    val: TensorData | None = None,
    scheduler=None,
    scheduler_interval: str = "step",
    callbacks: Sequence[Callback] = (),
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None,
    progress: bool = True,
    seed: int | None = 0,
) -> History:
    """Train ``model`` on ``train`` for ``epochs`` epochs of shuffled mini-batches.

    Args:
        scheduler: a ``torch.optim.lr_scheduler`` scheduler (or anything with ``step()``)
            built on ``optimizer``; stepped after every optimizer step
            (``scheduler_interval="step"``) or after every epoch (``"epoch"``). A
            ``ReduceLROnPlateau`` is stepped each epoch with the validation loss (the
            training loss without ``val``).
        callbacks: :class:`~lrcourse.callbacks.Callback` objects, called in order.
        loss_fn: returns the batch-mean loss; cross-entropy by default.
        progress: show a tqdm progress bar.
        seed: seed of the shuffling order (None: not reproducible).

    Returns:
        a :class:`History`. A NaN or infinite loss ends training: ``history.diverged_at``
        holds its step, and on the CPU that step's update is not applied.
    """
    _check_fit_args(model, train, optimizer, epochs, batch_size, val, scheduler, scheduler_interval, callbacks)
    loss_fn = loss_fn or F.cross_entropy
    device = _model_device(model)
    train = train if train.device == device else train.to(device)
    val = val if val is None or val.device == device else val.to(device)
    check_every = _check_every(device)
    steps_per_epoch = num_batches(train, batch_size)
    generator = torch.Generator()
    if seed is None:
        generator.seed()
    else:
        generator.manual_seed(seed)

    history = History(steps_per_epoch=steps_per_epoch)
    state = FitState(model=model, optimizer=optimizer, history=history, epochs=epochs)
    started = time.perf_counter()
    bar = tqdm(total=epochs * steps_per_epoch, disable=not progress, unit="step", desc="fit")
    for callback in callbacks:
        callback.on_train_begin(state)
    try:
        for epoch in range(epochs):
            state.epoch = epoch
            model.train()
            losses = torch.empty(steps_per_epoch, device=device)
            correct = torch.zeros((), device=device, dtype=torch.long)
            seen = 0
            for i, (x, y) in enumerate(batches(train, batch_size, shuffle=True, generator=generator)):
                history.lr.append(optimizer.param_groups[0]["lr"])
                optimizer.zero_grad(set_to_none=True)
                out = model(x)
                loss = loss_fn(out, y)
                losses[i] = loss.detach()
                if check_every == 1 and not math.isfinite(loss.item()):
                    _record_divergence(history, state, losses, i)
                    break
                loss.backward()
                optimizer.step()
                if scheduler is not None and scheduler_interval == "step":
                    scheduler.step()
                correct += (out.argmax(1) == y).sum()
                seen += len(y)
                state.step, state.loss = epoch * steps_per_epoch + i, losses[i]
                for callback in callbacks:
                    callback.on_batch_end(state)
                bar.update()
                if check_every > 1 and (i + 1) % check_every == 0:
                    first = _first_nonfinite(losses[: i + 1])
                    if first is not None:
                        _record_divergence(history, state, losses, first)
                        break
                if state.stop_training:
                    break
            if history.diverged:
                break
            first = _first_nonfinite(losses[: i + 1]) if check_every > 1 else None
            if first is not None:
                _record_divergence(history, state, losses, first)
                break
            history.loss.extend(losses[: i + 1].tolist())
            _end_epoch(history, model, losses[: i + 1], correct, seen, val, loss_fn)
            bar.set_postfix(_postfix(history))
            if scheduler is not None and scheduler_interval == "epoch":
                if isinstance(scheduler, ReduceLROnPlateau):
                    scheduler.step((history.val_loss or history.train_loss)[-1])
                else:
                    scheduler.step()
            for callback in callbacks:
                callback.on_epoch_end(state)
            if state.stop_training:
                break
    finally:
        bar.close()
        history.seconds = time.perf_counter() - started
    if state.stop_reason and not history.stop_reason:
        history.stop_reason = state.stop_reason
    for callback in callbacks:
        callback.on_train_end(state)
    return history


def _check_every(device: torch.device) -> int:
    # Reading a loss waits for the device: free on the CPU, a stall on a GPU.
    return 1 if device.type == "cpu" else GPU_CHECK_EVERY


def _first_nonfinite(losses: torch.Tensor) -> int | None:
    bad = torch.nonzero(~torch.isfinite(losses))
    return int(bad[0]) if len(bad) else None


def _record_divergence(history: History, state: FitState, losses: torch.Tensor, first: int) -> None:
    """Keep the epoch's losses up to and including the first non-finite one, and stop."""
    epoch_start = state.epoch * history.steps_per_epoch
    history.loss.extend(losses[: first + 1].tolist())
    del history.lr[epoch_start + first + 1:]
    history.diverged_at = epoch_start + first
    history.stop_reason = f"diverged: the loss was {history.loss[-1]} at step {history.diverged_at}"
    state.stop(history.stop_reason)


def _end_epoch(history, model, losses, correct, seen, val, loss_fn) -> None:
    history.train_loss.append(losses.mean().item())
    history.train_accuracy.append(correct.item() / max(seen, 1))
    if val is not None:
        metrics = evaluate(model, val, loss_fn=loss_fn)
        history.val_loss.append(metrics["loss"])
        history.val_accuracy.append(metrics["accuracy"])


def _postfix(history: History) -> dict[str, str]:
    shown = {"loss": f"{history.train_loss[-1]:.3f}", "acc": f"{history.train_accuracy[-1]:.3f}"}
    if history.val_loss:
        shown.update(val_loss=f"{history.val_loss[-1]:.3f}", val_acc=f"{history.val_accuracy[-1]:.3f}")
    return shown


def _model_device(model: torch.nn.Module) -> torch.device:
    parameter = next(model.parameters(), None)
    return parameter.device if parameter is not None else torch.device("cpu")


def _check_fit_args(model, train, optimizer, epochs, batch_size, val, scheduler, scheduler_interval, callbacks):
    """Every argument error is raised here, before the model or optimizer is touched."""
    if not isinstance(model, torch.nn.Module):
        raise ValueError(f"model must be a torch.nn.Module; got {type(model).__name__}")
    for name, data in (("train", train), ("val", val)):
        if data is not None and not isinstance(data, TensorData):
            raise ValueError(f"{name} must be a lrcourse.data.TensorData (e.g. load_fashion_mnist().train); "
                             f"got {type(data).__name__}")
    if len(train) == 0:
        raise ValueError("train must hold at least one example; got an empty TensorData")
    for name, value in (("epochs", epochs), ("batch_size", batch_size)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be an int >= 1; got {value!r}")
    if scheduler_interval not in ("step", "epoch"):
        raise ValueError(f"scheduler_interval must be 'step' or 'epoch'; got {scheduler_interval!r}")
    _check_optimizer_holds_model(model, optimizer)
    if scheduler is not None:
        if not callable(getattr(scheduler, "step", None)):
            raise ValueError(f"scheduler must have a step() method; got {type(scheduler).__name__}")
        if getattr(scheduler, "optimizer", optimizer) is not optimizer:
            raise ValueError("scheduler was built on a different optimizer than the one passed to fit")
        if isinstance(scheduler, ReduceLROnPlateau) and scheduler_interval != "epoch":
            raise ValueError("scheduler_interval must be 'epoch' for ReduceLROnPlateau, which steps on a "
                             "per-epoch metric; got 'step'")
    for callback in callbacks:
        if not isinstance(callback, Callback):
            raise ValueError(f"callbacks must be lrcourse.callbacks.Callback instances; got {type(callback).__name__}")


def _check_optimizer_holds_model(model: torch.nn.Module, optimizer) -> None:
    if not isinstance(optimizer, torch.optim.Optimizer):
        raise ValueError(f"optimizer must be a torch.optim.Optimizer; got {type(optimizer).__name__}")
    model_params = {id(p) for p in model.parameters()}
    optimized = [p for group in optimizer.param_groups for p in group["params"]]
    if not optimized or any(id(p) not in model_params for p in optimized):
        raise ValueError("optimizer must optimize this model's parameters; it holds parameters that are not "
                         "the model's (was it built for another model, or before the model was replaced?)")


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
