"""The training loop: ``fit`` a model, ``evaluate`` it.

One step is the textbook order, which matters::

    optimizer.zero_grad()      # forget the previous step's gradients
    loss = loss_fn(model(x), y)
    loss.backward()            # gradients of this batch
    optimizer.step()           # update with the current LR
    scheduler.step()           # then move the LR for the next step

Nothing is copied back from the device per step: per-step losses collect in a device tensor
and come back once per epoch. The one exception is the divergence check, which reads the
losses every step on the CPU (free there) and every 32 steps on a GPU.

Under ``torch.distributed`` (several processes, e.g. started by ``torchrun``) the same loop trains
one model across the processes; :mod:`lrcourse.distributed.group` holds what differs, and
``group`` is None on one process.
"""

from __future__ import annotations

import math
import time
from contextlib import nullcontext
from typing import Callable, Sequence

import torch
import torch.nn.functional as F
from torch.optim.lr_scheduler import ReduceLROnPlateau
from tqdm.auto import tqdm

from . import distributed
from .callbacks import Callback, FitState, History
from .checks import model_device, on_device
from .data import TensorData
from .fit_args import check_fit_args
from .interrupts import deferred_interrupts
from .loaders import check_examples, epoch_batches, steps_per_epoch
from .metrics import evaluate

GPU_CHECK_EVERY = 32

__all__ = ["History", "evaluate", "fit"]


def fit(
    model: torch.nn.Module,
    train,
    optimizer: torch.optim.Optimizer,
    epochs: int,
    batch_size: int | None = None,
    val=None,
    scheduler=None,
    scheduler_interval: str = "step",
    callbacks: Sequence[Callback] = (),
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None,
    progress: bool = True,
    seed: int | None = 0,
    clip_grad_norm: float | None = None,
) -> History:
    """Train ``model`` on ``train`` for ``epochs`` epochs of mini-batches.

    Args:
        train: a :class:`~lrcourse.data.TensorData` (shuffled into batches of ``batch_size``,
            in an order drawn from ``seed``), or a ``DataLoader`` (any sized, re-iterable
            collection of ``(x, y)`` batches; ``batch_size`` then stays None and the loader's
            own order is used). ``val`` likewise.
        scheduler: a ``torch.optim.lr_scheduler`` scheduler (or anything with ``step()``)
            built on ``optimizer``; stepped after every optimizer step
            (``scheduler_interval="step"``) or after every epoch (``"epoch"``). A
            ``ReduceLROnPlateau`` is stepped each epoch with the validation loss (the
            training loss without ``val``). It cannot be combined with a
            :class:`~lrcourse.plateau.ReduceLROnPlateau` callback, whose reductions the
            scheduler would undo.
        callbacks: :class:`~lrcourse.callbacks.Callback` objects, called in order.
        loss_fn: returns the batch-mean loss; cross-entropy by default.
        progress: show a tqdm progress bar.
        seed: seed of the shuffling order (None: not reproducible). Only the order: the
            global random generators are not touched.
        clip_grad_norm: if given, gradients are clipped to this total norm before each
            update (``torch.nn.utils.clip_grad_norm_``); ``history.grad_norm`` records the norm
            before clipping and ``history.clipped_fraction`` how often it was clipped.

    Returns:
        a :class:`History`. A NaN or infinite loss ends training: ``history.diverged_at``
        holds its step; on the CPU that step's update is not applied.

    Raises:
        KeyboardInterrupt: when interrupted (Ctrl-C, or the notebook's stop button). The run
            ends consistently first: the steps done so far are in the History, its
            ``stop_reason`` says it was interrupted, and every callback's ``on_train_end``
            has run (so ``EarlyStopping(restore_best_weights=True)`` restores). The History
            is attached to the exception as ``.history``.

    Under ``torch.distributed`` (:mod:`lrcourse.distributed`) every process calls ``fit`` with the
    same arguments; ``batch_size`` is the global batch, each process trains on its slice of it, and
    the run equals one process's with that ``batch_size``. A loader needs a ``DistributedSampler``.
    The History is the same on every process; rank 0 shows the progress bar.
    """
    group = distributed.current()
    with group.checks() if group is not None else nullcontext({}) as facts:  # every rank agrees, or all refuse
        check_fit_args(model, train, optimizer, epochs, batch_size, val, scheduler, scheduler_interval, callbacks,
                       loss_fn, progress, seed, clip_grad_norm)
        device = model_device(model)
        train = on_device(train, device) if isinstance(train, TensorData) else train
        val = on_device(val, device) if isinstance(val, TensorData) else val
        check_examples("train", train, batch_size, model, device, loss_fn)
        if val is not None:
            check_examples("val", val, batch_size if isinstance(val, TensorData) else None, model, device, loss_fn)
        for callback in callbacks:
            callback.check(has_val=val is not None)
        if group is not None:
            group.check_sources(train, val, batch_size)
            facts.update(group.facts(model, train, val, batch_size, epochs * steps_per_epoch(train, batch_size), seed))
    if group is not None:
        seed = group.shared_seed(seed)
        group.broadcast_model(model)

    run = _Run(model, optimizer, scheduler, scheduler_interval, callbacks, loss_fn or F.cross_entropy,
               clip_grad_norm, device, group)
    history = History(steps_per_epoch=steps_per_epoch(train, batch_size), clip_grad_norm=clip_grad_norm)
    state = FitState(model=model, optimizer=optimizer, history=history, epochs=epochs, has_val=val is not None)
    generator = torch.Generator()
    if seed is None:
        generator.seed()
    else:
        generator.manual_seed(seed)
    started = time.perf_counter()
    bar = tqdm(total=epochs * history.steps_per_epoch, disable=not progress or not distributed.is_main_process(),
               unit="step", desc="fit")
    try:
        for callback in callbacks:
            callback.on_train_begin(state)
        for epoch in range(epochs):
            state.epoch = epoch
            run.epoch(state, epoch_batches(train, batch_size, device, shuffle=True, generator=generator) if group is None
                      else group.epoch_batches(train, batch_size, device, generator, epoch), bar)
            if state.stop_training and history.diverged:
                break
            run.end_epoch(state, val, batch_size, bar)
            if state.stop_training:
                break
    except KeyboardInterrupt as interrupt:
        # A second Ctrl-C waits until the run has ended consistently (and adds nothing to the first).
        with deferred_interrupts(raise_after=False):
            run.keep_partial_epoch(state)
            history.stop_reason = f"interrupted (KeyboardInterrupt) after {history.steps} steps"
            _end_train(state, callbacks, bar, started)
        interrupt.history = history
        raise
    except BaseException:
        bar.close()
        raise
    if state.stop_reason and not history.stop_reason:
        history.stop_reason = state.stop_reason
    _end_train(state, callbacks, bar, started)
    return history


def _end_train(state: FitState, callbacks, bar, started: float) -> None:
    bar.close()
    state.history.seconds = time.perf_counter() - started
    for callback in callbacks:
        callback.on_train_end(state)


class _Run:
    """The pieces of one ``fit`` call that every step needs, and the step and epoch themselves."""

    def __init__(self, model, optimizer, scheduler, scheduler_interval, callbacks, loss_fn, clip_grad_norm, device,
                 group=None):
        self.model, self.optimizer, self.scheduler, self.group = model, optimizer, scheduler, group
        self.step_scheduler = scheduler is not None and scheduler_interval == "step"
        self.callbacks, self.loss_fn, self.clip, self.device = callbacks, loss_fn, clip_grad_norm, device
        self.parameters = [p for group in optimizer.param_groups for p in group["params"]]
        self.check_every = _check_every(device)
        self.losses = self.norms = None
        self.done = 0

    def epoch(self, state: FitState, batches, bar) -> None:
        """Train one epoch; stops early on divergence or when a callback asks."""
        history, model = state.history, self.model
        model.train()
        self.losses = torch.empty(history.steps_per_epoch, device=self.device)
        self.norms = torch.empty(history.steps_per_epoch, device=self.device) if self.clip is not None else None
        self.correct = torch.zeros((), device=self.device, dtype=torch.long)
        self.seen = self.done = checked = 0
        for i, (x, y) in enumerate(batches):
            if i == history.steps_per_epoch:
                raise ValueError(f"train yielded more batches than its len() = {history.steps_per_epoch}")
            history.lr.append(self.optimizer.param_groups[0]["lr"])
            self.optimizer.zero_grad(set_to_none=True)
            if self.group is None:
                out = model(x)
                loss = self.loss_fn(out, y)
                loss.backward()
            else:  # this rank's slice, then the global batch's gradient and loss
                out, loss = self.group.forward_backward(model, self.loss_fn, self.parameters, x, y, state)
                if loss is None:  # a callback stopped after the previous step, on some rank: all stop there
                    del history.lr[-1]
                    break
            self.losses[i] = loss.detach()
            if (i + 1) % self.check_every == 0 or i + 1 == history.steps_per_epoch:
                bad = _first_nonfinite(self.losses[checked:i + 1])
                if bad is not None:
                    self._diverge(state, checked + bad)
                    return
                checked = i + 1
            if self.clip is not None:
                self.norms[i] = torch.nn.utils.clip_grad_norm_(self.parameters, self.clip)
            self.optimizer.step()
            if self.step_scheduler:
                self.scheduler.step()
            if out is not None:
                self.correct += (out.argmax(1) == y).sum()
            self.seen += len(y)
            self.done = i + 1
            state.step, state.loss = state.epoch * history.steps_per_epoch + i, self.losses[i]
            for callback in self.callbacks:
                callback.on_batch_end(state)
            bar.update()
            if state.stop_training and self.group is None:  # under distributed: at the next step's all-reduce
                break
        bad = _first_nonfinite(self.losses[checked:self.done])
        if bad is not None:
            self._diverge(state, checked + bad)

    def keep_partial_epoch(self, state: FitState) -> None:
        """After an interrupt: keep the losses of the steps completed, and one LR per loss."""
        history = state.history
        if self.losses is not None and len(history.loss) < len(history.lr):
            self._record_steps(history, self.done, self.done)
            del history.lr[len(history.loss):]

    def end_epoch(self, state: FitState, val, batch_size, bar) -> None:
        history = state.history
        self._record_steps(history, self.done, self.done)
        history.train_loss.append(self.losses[: self.done].mean().item())
        correct, seen, val_batch = self.correct.item(), self.seen, batch_size if isinstance(val, TensorData) else None
        if self.group is not None:
            correct, seen = self.group.sum(correct, seen)
            self.group.average_buffers(self.model)
        history.train_accuracy.append(correct / max(seen, 1))
        if val is not None:
            metrics = (evaluate(self.model, val, val_batch, self.loss_fn) if self.group is None
                       else self.group.evaluate(self.model, val, val_batch, self.loss_fn))
            history.val_loss.append(metrics["loss"])
            history.val_accuracy.append(metrics["accuracy"])
        bar.set_postfix(_postfix(history))
        if self.scheduler is not None and not self.step_scheduler:
            if isinstance(self.scheduler, ReduceLROnPlateau):
                self.scheduler.step((history.val_loss or history.train_loss)[-1])
            else:
                self.scheduler.step()
        for callback in self.callbacks:
            callback.on_epoch_end(state)
        if self.group is not None:
            self.group.agree_to_stop(state)

    def _record_steps(self, history: History, losses: int, norms: int) -> None:
        history.loss.extend(self.losses[:losses].tolist())
        if self.norms is not None:
            history.grad_norm.extend(self.norms[:norms].tolist())

    def _diverge(self, state: FitState, first: int) -> None:
        """Keep the epoch's losses up to and including the first non-finite one, and stop."""
        history = state.history
        # Only the steps completed have a gradient norm: on the CPU the divergent step has none.
        self._record_steps(history, first + 1, min(first + 1, self.done))
        epoch_start = state.epoch * history.steps_per_epoch
        del history.lr[epoch_start + first + 1:]
        history.diverged_at = epoch_start + first
        history.stop_reason = f"diverged: the loss was {history.loss[-1]} at step {history.diverged_at}"
        state.stop(history.stop_reason)


def _check_every(device: torch.device) -> int:
    # Reading a loss waits for the device: free on the CPU, a stall on a GPU.
    return 1 if device.type == "cpu" else GPU_CHECK_EVERY


def _first_nonfinite(losses: torch.Tensor) -> int | None:
    if len(losses) == 1:
        return None if math.isfinite(losses.item()) else 0
    bad = torch.nonzero(~torch.isfinite(losses))
    return int(bad[0]) if len(bad) else None


def _postfix(history: History) -> dict[str, str]:
    shown = {"loss": f"{history.train_loss[-1]:.3f}", "acc": f"{history.train_accuracy[-1]:.3f}"}
    if history.val_loss:
        shown.update(val_loss=f"{history.val_loss[-1]:.3f}", val_acc=f"{history.val_accuracy[-1]:.3f}")
    return shown
