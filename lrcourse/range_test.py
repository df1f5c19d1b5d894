"""The LR range test (Smith 2017, "Cyclical Learning Rates for Training Neural Networks").

Train for a few dozen steps while the LR rises from ``start_lr`` to ``end_lr``, record the
loss (and, for a classifier, the batch's accuracy) at each step, and read off the LRs at which
the loss falls fastest or stops falling, or the accuracy peaks.
At step ``i`` of ``num_iter`` the LR is

    exp:     lr_i = start_lr * (end_lr / start_lr) ** (i / (num_iter - 1))
    linear:  lr_i = start_lr + (end_lr - start_lr) * i / (num_iter - 1)

(the phases ``exp_anneal`` and ``lin_anneal`` of :mod:`lrcourse.schedules`), and the smoothed
loss is an exponential moving average with bias correction (:class:`MovingAverage`),

    avg_i = smooth * avg_{i-1} + (1 - smooth) * loss_i,   smoothed_i = avg_i / (1 - smooth ** (i + 1)).

The test stops early when ``smoothed_i > diverge_factor * min(smoothed)`` or the loss is NaN
or infinite. The model (weights, buffers, ``.grad``, train/eval mode), the optimizer and the
global random generators are restored exactly afterwards, however the test ends: it only
looks, it does not train. The rules that turn the curve into an LR are functions of
``(lrs, losses)`` in :mod:`lrcourse.lr_rules`.

One test is noisy: its pick moves with the order of the batches. ``repeats=3`` runs three tests
from the same starting state with batch orders ``seed, seed + 1, seed + 2`` and combines them
(:func:`combine`): the curve is their mean, ``picks`` holds each test's pick and
``suggestion`` is their median, which one wayward test cannot move far.
"""

from __future__ import annotations

import copy
import math
import time
from typing import Callable

import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from . import distributed
from .checks import (ArgumentTypeError, as_float, check_bool, check_callable, check_choice, check_int, check_module,
                     check_optimizer_holds, model_device, on_device)
from .data import TensorData
from .device import forked_rng
from .interrupts import deferred_interrupts
from .loaders import check_examples, check_source, endless_batches, preserved_generators
from .lr_rules import MovingAverage
from .schedules import ExpAnneal, LinAnneal
from .metrics import evaluate
from .range_result import DEFAULT_RULE, RangeTest, combine

__all__ = ["DEFAULT_RULE", "MODES", "RangeTest", "combine", "lr_range_test"]

MODES = ("exp", "linear")


def lr_range_test(
    model: torch.nn.Module,
    train,
    optimizer: torch.optim.Optimizer,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None,
    start_lr: float = 1e-7,
    end_lr: float = 10.0,
    num_iter: int = 100,
    mode: str = "exp",
    smooth: float = 0.98,
    diverge_factor: float = 4.0,
    batch_size: int | None = 64,
    val=None,
    accumulation_steps: int = 1,
    progress: bool = True,
    seed: int = 0,
    on_step: Callable[[RangeTest], bool] | None = None,
    repeats: int = 1,
) -> RangeTest:
    """Run the LR range test on ``model`` and return a :class:`RangeTest`.

    Args:
        train: a :class:`~lrcourse.data.TensorData` (batches of ``batch_size``, drawn in an
            order from ``seed``) or a ``DataLoader`` (any sized, re-iterable collection of
            ``(x, y)`` batches; ``batch_size`` is then ignored), iterated again when it runs out.
        optimizer: built on ``model``'s parameters; every param group keeps its LR ratio to
            the first group (a group at 0.1x the first stays at 0.1x).
        val: if given, the loss (and accuracy) recorded at each step is the one on all of ``val`` (in eval
            mode) after the step: slower, steadier. Otherwise it is the training batch's loss.
        accumulation_steps: batches whose gradients are summed (averaged) into one step.
        on_step: called with the partial result after every step; returning True stops the test
            (and the tests still to come).
        repeats: how many tests to run, each from the same starting state, with batch orders
            ``seed, seed + 1, ...``; the result combines them (:func:`combine`), and its
            ``suggestion`` is the median of their picks. With 3, one wayward test (a
            pick decades off) cannot move the suggestion far; it costs three times one test.

    The model's and optimizer's state (``.grad`` included), the global random generators and
    a DataLoader's own generators are restored exactly when the test ends, also on an exception or KeyboardInterrupt; a
    second Ctrl-C waits until the restore is done. The global generators are forked while the
    test runs (:func:`lrcourse.device.forked_rng`).

    Under ``torch.distributed`` (:mod:`lrcourse.distributed`) every process calls it with the same
    arguments: ``batch_size`` is the global batch, split across the processes as ``fit`` splits it;
    the loss is all-reduced each step, every process stops at the same step, and each process's
    model and optimizer are restored.

    Example::

        test = lr_range_test(model, data.train, optimizer, repeats=3)   # model and optimizer left untouched
        optimizer.param_groups[0]["lr"] = test.suggestion                # test.picks: each test's pick
    """
    check_int("repeats", repeats, 1)
    if repeats > 1:
        tests = []
        for k in range(repeats):
            tests.append(lr_range_test(model, train, optimizer, loss_fn, start_lr, end_lr, num_iter, mode, smooth,
                                       diverge_factor, batch_size, val, accumulation_steps, progress, seed + k, on_step))
            if tests[-1].stop_reason == "stopped":
                break
        return combine(tests)
    if not isinstance(train, TensorData):
        batch_size = None  # a loader makes its own batches
    start_lr, end_lr = _check_args(model, train, optimizer, loss_fn, start_lr, end_lr, num_iter, mode, smooth,
                                   diverge_factor, batch_size, val, accumulation_steps, progress, seed, on_step)
    device = model_device(model)
    train = on_device(train, device) if isinstance(train, TensorData) else train
    val = on_device(val, device) if isinstance(val, TensorData) else val
    check_examples("train", train, batch_size, model, device, loss_fn)
    if val is not None:
        check_examples("val", val, None if not isinstance(val, TensorData) else 1000, model, device, loss_fn)
    dist_group = distributed.current()
    if dist_group is not None:  # the same test on every rank, or a clear error on all of them
        with dist_group.checks() as facts:
            dist_group.check_sources(train, val, batch_size)
            facts.update(dist_group.facts(model, train, val, batch_size, num_iter, seed, on_step is not None))
    loss_fn = loss_fn or F.cross_entropy
    ratios = [group["lr"] / optimizer.param_groups[0]["lr"] if optimizer.param_groups[0]["lr"] else 1.0
              for group in optimizer.param_groups]
    ramp = (ExpAnneal if mode == "exp" else LinAnneal)(start_lr, end_lr)
    result = RangeTest(start_lr=start_lr, end_lr=end_lr, num_iter=num_iter, mode=mode, batch_size=batch_size,
                       accumulation_steps=accumulation_steps, seed=seed)
    average = MovingAverage(smooth)
    classifies = None  # do the outputs score classes? Then each step's accuracy is recorded too

    saved = _snapshot(model, optimizer)
    parameters = [p for group in optimizer.param_groups for p in group["params"]]
    bar = tqdm(total=num_iter, disable=not progress, unit="step", desc="range test")
    started = time.perf_counter()
    try:
        with forked_rng(), preserved_generators(train):
            generator = torch.Generator().manual_seed(seed)
            if dist_group is None:
                stream = endless_batches(train, batch_size, device, generator)
            else:
                dist_group.broadcast_model(model)
                stream = dist_group.endless_batches(train, batch_size, device, generator)
            model.train()
            for i in range(num_iter):
                lr = ramp(i / (num_iter - 1))
                for group, ratio in zip(optimizer.param_groups, ratios):
                    group["lr"] = lr * ratio
                optimizer.zero_grad(set_to_none=True)
                loss, seen, correct = 0.0, 0, torch.zeros((), device=device, dtype=torch.long)
                for _ in range(accumulation_steps):
                    x, y = next(stream)
                    if len(y):  # under distributed, a short last batch can leave a process nothing
                        outputs = model(x)
                        batch_loss = loss_fn(outputs, y) / accumulation_steps
                        batch_loss.backward()
                        loss += batch_loss.item()
                        if classifies is None:  # decided on the first batch, the same on every rank
                            classifies = _classifies(outputs, y)
                        if classifies:
                            correct += (outputs.detach().argmax(1) == y).sum()
                    seen += len(y)
                if dist_group is not None:  # the gradient and loss of the global batch, on every rank
                    loss = dist_group.all_reduce_step(parameters, torch.tensor(loss, device=device), seen)[0].item()
                    if classifies:
                        correct, seen = dist_group.sum(correct, seen)
                optimizer.step()
                accuracy = float(correct) / seen if classifies else None
                if val is not None:
                    metrics = (evaluate(model, val, loss_fn=loss_fn) if dist_group is None
                               else dist_group.evaluate(model, val, 1000, loss_fn))
                    loss, accuracy = metrics["loss"], metrics["accuracy"] if classifies else None
                    model.train()
                result.lrs.append(lr)
                result.losses.append(loss)
                if accuracy is not None:
                    result.accuracies.append(accuracy)
                result.smoothed.append(average.update(loss))
                bar.update()
                if not math.isfinite(loss):
                    result.stop_reason = "non-finite loss"
                    break
                if result.smoothed[-1] > diverge_factor * min(result.smoothed):
                    result.stop_reason = "diverged"
                    break
                stop = on_step is not None and on_step(result)
                if dist_group is not None and on_step is not None:  # one rank's on_step stops them all
                    stop = dist_group.any(stop)
                if stop:
                    result.stop_reason = "stopped"
                    break
            del stream  # a DataLoader's workers stop here, not at some later garbage collection
    finally:
        with deferred_interrupts():
            _restore(model, optimizer, saved)
            bar.close()
            result.seconds = time.perf_counter() - started
    return result


def _classifies(outputs: torch.Tensor, targets: torch.Tensor) -> bool:
    """Class scores ``(N, C)`` against class indices ``(N,)``: a batch's accuracy means something."""
    return (outputs.ndim == 2 and outputs.shape[1] > 1 and targets.ndim == 1 and len(targets) == len(outputs)
            and not targets.is_floating_point() and not targets.is_complex())


def _snapshot(model: torch.nn.Module, optimizer: torch.optim.Optimizer) -> dict:
    return {
        "model": copy.deepcopy(model.state_dict()),
        "grads": [(p, None if p.grad is None else p.grad.detach().clone()) for p in model.parameters()],
        "training": {name: module.training for name, module in model.named_modules()},
        "optimizer": copy.deepcopy(optimizer.state_dict()),
    }


def _restore(model: torch.nn.Module, optimizer: torch.optim.Optimizer, saved: dict) -> None:
    model.load_state_dict(saved["model"])
    for parameter, grad in saved["grads"]:
        parameter.grad = grad
    for name, module in model.named_modules():
        module.training = saved["training"][name]
    # load_state_dict keeps references to the tensors it is given: hand it a copy, so the
    # snapshot could be restored again.
    optimizer.load_state_dict(copy.deepcopy(saved["optimizer"]))


def _check_args(model, train, optimizer, loss_fn, start_lr, end_lr, num_iter, mode, smooth, diverge_factor,
                batch_size, val, accumulation_steps, progress, seed, on_step) -> tuple[float, float]:
    """Every argument error is raised here, before any weight changes; returns the LRs as floats."""
    check_module("model", model)
    if next(model.parameters(), None) is None:
        raise ValueError("model must have parameters to train")
    check_source("train", train, batch_size)
    if val is not None:
        check_source("val", val, 1000 if isinstance(val, TensorData) else None)
    check_optimizer_holds(model, optimizer)
    if loss_fn is not None:
        check_callable("loss_fn", loss_fn)
    start = as_float("start_lr", start_lr)
    if not start > 0:
        raise ValueError(f"start_lr must be a finite number > 0; got {start_lr!r}")
    end = as_float("end_lr", end_lr)
    if not end > start:
        raise ValueError(f"end_lr must be a finite number > start_lr={start_lr!r}; got {end_lr!r}")
    check_int("num_iter", num_iter, 2)
    check_choice("mode", mode, MODES)
    if not 0 <= as_float("smooth", smooth) < 1:
        raise ValueError(f"smooth must be in [0, 1); got {smooth!r}")
    if not as_float("diverge_factor", diverge_factor) > 1:
        raise ValueError(f"diverge_factor must be a number > 1; got {diverge_factor!r}")
    check_int("accumulation_steps", accumulation_steps, 1)
    check_bool("progress", progress)
    check_int("seed", seed, 0)
    if on_step is not None and not callable(on_step):
        raise ArgumentTypeError(f"on_step must be callable (or None); got {type(on_step).__name__}")
    return start, end
