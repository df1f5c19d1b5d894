"""The LR range test (Smith 2017, "Cyclical Learning Rates for Training Neural Networks").

Train for a few dozen steps while the LR rises from ``start_lr`` to ``end_lr``, record the
loss at each step, and read off the LRs at which the loss falls fastest or stops falling.
At step ``i`` of ``num_iter`` the LR is

    exp:     lr_i = start_lr * (end_lr / start_lr) ** (i / (num_iter - 1))
    linear:  lr_i = start_lr + (end_lr - start_lr) * i / (num_iter - 1)

and the smoothed loss is an exponential moving average with bias correction,

    avg_i = smooth * avg_{i-1} + (1 - smooth) * loss_i,   smoothed_i = avg_i / (1 - smooth ** (i + 1)).

The test stops early when ``smoothed_i > diverge_factor * min(smoothed)`` or the loss is NaN
or infinite. The model, the optimizer and the random generators are restored exactly
afterwards, however the test ends: it only looks, it does not train.
"""

from __future__ import annotations

import copy
import math
import random
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from .data import TensorData, batches
from .train import _check_optimizer_holds_model

MODES = ("exp", "linear")
#: The rule behind ``RangeTest.suggestion``: in ``benchmarks/range_test.py`` it came within one
#: accuracy point of a grid search's best LR on all three set-ups; the others did not.
DEFAULT_RULE = "steepest"


@dataclass
class RangeTest:
    """The record of one range test: per step the LR, the raw loss and the smoothed loss.

    ``stop_reason`` is ``"completed"`` (all ``num_iter`` steps), ``"diverged"``, ``"non-finite
    loss"`` or ``"stopped"`` (by ``on_step``). Suggestions are computed from the smoothed loss.
    """

    start_lr: float
    end_lr: float
    num_iter: int
    mode: str
    lrs: list[float] = field(default_factory=list)
    losses: list[float] = field(default_factory=list)
    smoothed: list[float] = field(default_factory=list)
    stop_reason: str = "completed"
    seconds: float = 0.0

    @property
    def steps(self) -> int:
        return len(self.lrs)

    @property
    def stopped_at(self) -> int | None:
        """The last step taken, when the test ended before ``num_iter`` steps."""
        return None if self.stop_reason == "completed" else self.steps - 1

    def _finite(self) -> tuple[np.ndarray, np.ndarray]:
        lrs, smoothed = np.asarray(self.lrs), np.asarray(self.smoothed)
        keep = np.isfinite(smoothed)
        return lrs[keep], smoothed[keep]

    def _trimmed(self) -> tuple[np.ndarray, np.ndarray]:
        """Without the first 10% of the steps (the moving average still settling) and the
        last 5% (the blow-up that ended the test), as fastai trims before its rules."""
        lrs, smoothed = self._finite()
        if len(lrs) < 10:
            return lrs, smoothed
        kept = slice(len(lrs) // 10, len(lrs) - max(len(lrs) // 20, 1))
        return lrs[kept], smoothed[kept]

    @property
    def steepest(self) -> float:
        """The LR where the smoothed loss falls fastest per unit of log(LR)."""
        lrs, smoothed = self._trimmed()
        if len(lrs) < 2:
            return float(lrs[0]) if len(lrs) else self.start_lr
        return float(lrs[int(np.argmin(np.gradient(smoothed, np.log(lrs))))])

    @property
    def valley(self) -> float:
        """fastai's valley rule: the LR halfway along the longest valley of the smoothed loss
        (see ``_longest_descent``)."""
        start, end = self._longest_descent()
        lrs, _ = self._trimmed()
        return float(lrs[start + (end - start) // 2])

    @property
    def lowest(self) -> float:
        """The LR of the lowest smoothed loss: past it, the loss turns up."""
        lrs, smoothed = self._finite()
        return float(lrs[np.argmin(smoothed)])

    @property
    def min_over_10(self) -> float:
        """The LR of the lowest smoothed loss, divided by 10 (fastai's original rule)."""
        return self.lowest / 10

    @property
    def cyclical_range(self) -> tuple[float, float]:
        """``(base_lr, max_lr)`` for a cyclical schedule, after Smith's reading of the curve:
        where the loss starts to fall (10% of its total drop done) and where it has nearly
        stopped falling (90% done), both before the lowest point."""
        lrs, smoothed = self._trimmed()
        lowest = int(np.argmin(smoothed))
        drop = smoothed[0] - smoothed[lowest]
        fallen = (smoothed[0] - smoothed[: lowest + 1]) / drop if drop > 0 else np.ones(lowest + 1)
        return float(lrs[np.argmax(fallen >= 0.1)]), float(lrs[np.argmax(fallen >= 0.9)])

    @property
    def suggestions(self) -> dict[str, float]:
        return {"valley": self.valley, "steepest": self.steepest, "min_over_10": self.min_over_10}

    @property
    def suggestion(self) -> float:
        """The recommended LR, by the rule :data:`DEFAULT_RULE`."""
        return self.suggestions[DEFAULT_RULE]

    def _longest_descent(self) -> tuple[int, int]:
        """``(start, end)`` of the valley: ``end`` closes the longest strictly decreasing
        subsequence of the smoothed loss, and, as in fastai, the valley is taken to span as
        many steps as that subsequence has points, ending at ``end``."""
        _, loss = self._trimmed()
        # length[i]: the longest strictly decreasing subsequence ending at i; O(n^2) is fine
        # for the ~100 points of a range test.
        length = np.ones(len(loss), dtype=int)
        for i in range(1, len(loss)):
            earlier = loss[:i] > loss[i]
            if earlier.any():
                length[i] = length[:i][earlier].max() + 1
        end = int(np.argmax(length)) if len(loss) else 0
        return max(end - int(length[end]) + 1, 0) if len(loss) else 0, end


def lr_range_test(
    model: torch.nn.Module,
    train: TensorData,
    optimizer: torch.optim.Optimizer,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None,
    start_lr: float = 1e-7,
    end_lr: float = 10.0,
    num_iter: int = 100,
    mode: str = "exp",
    smooth: float = 0.98,
    diverge_factor: float = 4.0,
    batch_size: int = 64,
    val: TensorData | None = None,
    accumulation_steps: int = 1,
    progress: bool = True,
    seed: int = 0,
    on_step: Callable[[RangeTest], bool] | None = None,
) -> RangeTest:
    """Run the LR range test on ``model`` and return a :class:`RangeTest`.

    Args:
        optimizer: built on ``model``'s parameters; every param group keeps its LR ratio to
            the first group (a group at 0.1x the first stays at 0.1x).
        val: if given, the loss recorded at each step is the loss on all of ``val`` (in eval
            mode) after the step: slower, steadier. Otherwise it is the training batch's loss.
        accumulation_steps: batches whose gradients are summed (averaged) into one step.
        on_step: called with the partial result after every step; returning True stops the test.

    The model's and optimizer's state and the random generators are restored exactly when
    the test ends, also on an exception or KeyboardInterrupt.
    """
    _check_args(model, train, optimizer, start_lr, end_lr, num_iter, mode, smooth, diverge_factor,
                batch_size, val, accumulation_steps)
    loss_fn = loss_fn or F.cross_entropy
    device = next(model.parameters()).device
    train = train if train.device == device else train.to(device)
    val = val if val is None or val.device == device else val.to(device)
    ratios = [group["lr"] / optimizer.param_groups[0]["lr"] if optimizer.param_groups[0]["lr"] else 1.0
              for group in optimizer.param_groups]
    result = RangeTest(start_lr=float(start_lr), end_lr=float(end_lr), num_iter=num_iter, mode=mode)

    saved = _snapshot(model, optimizer)
    generator = torch.Generator().manual_seed(seed)
    bar = tqdm(total=num_iter, disable=not progress, unit="step", desc="range test")
    started = time.perf_counter()
    try:
        stream = _endless_batches(train, batch_size, generator)
        average = 0.0
        model.train()
        for i in range(num_iter):
            lr = _lr_at(i, start_lr, end_lr, num_iter, mode)
            for group, ratio in zip(optimizer.param_groups, ratios):
                group["lr"] = lr * ratio
            optimizer.zero_grad(set_to_none=True)
            loss = 0.0
            for _ in range(accumulation_steps):
                x, y = next(stream)
                batch_loss = loss_fn(model(x), y) / accumulation_steps
                batch_loss.backward()
                loss += batch_loss.item()
            optimizer.step()
            if val is not None:
                loss = _val_loss(model, val, loss_fn, batch_size)
            average = smooth * average + (1 - smooth) * loss
            smoothed = average / (1 - smooth ** (i + 1))
            result.lrs.append(lr)
            result.losses.append(loss)
            result.smoothed.append(smoothed)
            bar.update()
            if not math.isfinite(loss):
                result.stop_reason = "non-finite loss"
                break
            if smoothed > diverge_factor * min(result.smoothed):
                result.stop_reason = "diverged"
                break
            if on_step is not None and on_step(result):
                result.stop_reason = "stopped"
                break
    finally:
        bar.close()
        _restore(model, optimizer, saved)
        result.seconds = time.perf_counter() - started
    return result


def _lr_at(i: int, start_lr: float, end_lr: float, num_iter: int, mode: str) -> float:
    t = i / (num_iter - 1)
    if mode == "exp":
        return start_lr * (end_lr / start_lr) ** t
    return start_lr + (end_lr - start_lr) * t


def _endless_batches(data: TensorData, batch_size: int, generator: torch.Generator):
    """Shuffled batches, epoch after epoch: a short dataset never ends the test early."""
    while True:
        yield from batches(data, batch_size, shuffle=True, generator=generator)


@torch.no_grad()
def _val_loss(model, val: TensorData, loss_fn, batch_size: int) -> float:
    model.eval()
    total = sum(loss_fn(model(x), y).item() * len(y) for x, y in batches(val, max(batch_size, 1024)))
    model.train()
    return total / len(val)


def _snapshot(model, optimizer) -> dict:
    return {
        "model": copy.deepcopy(model.state_dict()),
        "training": {name: module.training for name, module in model.named_modules()},
        "optimizer": copy.deepcopy(optimizer.state_dict()),
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_initialized() else None,
        "numpy": np.random.get_state(),
        "python": random.getstate(),
    }


def _restore(model, optimizer, saved: dict) -> None:
    model.load_state_dict(saved["model"])
    for name, module in model.named_modules():
        module.training = saved["training"][name]
    # load_state_dict keeps references to the tensors it is given: hand it a copy, so the
    # snapshot could be restored again.
    optimizer.load_state_dict(copy.deepcopy(saved["optimizer"]))
    torch.set_rng_state(saved["torch"])
    if saved["cuda"] is not None:
        torch.cuda.set_rng_state_all(saved["cuda"])
    np.random.set_state(saved["numpy"])
    random.setstate(saved["python"])


def _check_args(model, train, optimizer, start_lr, end_lr, num_iter, mode, smooth, diverge_factor,
                batch_size, val, accumulation_steps) -> None:
    """Every argument error is raised here, before any weight changes."""
    if not isinstance(model, torch.nn.Module) or next(model.parameters(), None) is None:
        raise ValueError("model must be a torch.nn.Module with parameters")
    for name, data in (("train", train), ("val", val)):
        if data is not None and not isinstance(data, TensorData):
            raise ValueError(f"{name} must be a lrcourse.data.TensorData; got {type(data).__name__}")
        if data is not None and len(data) == 0:
            raise ValueError(f"{name} must hold at least one example; it is empty")
    _check_optimizer_holds_model(model, optimizer)
    if not (isinstance(start_lr, (int, float)) and math.isfinite(start_lr) and start_lr > 0):
        raise ValueError(f"start_lr must be a finite number > 0; got {start_lr!r}")
    if not (isinstance(end_lr, (int, float)) and math.isfinite(end_lr) and end_lr > start_lr):
        raise ValueError(f"end_lr must be a finite number > start_lr={start_lr!r}; got {end_lr!r}")
    if isinstance(num_iter, bool) or not isinstance(num_iter, int) or num_iter < 2:
        raise ValueError(f"num_iter must be an int >= 2; got {num_iter!r}")
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}; got {mode!r}")
    if not (isinstance(smooth, (int, float)) and 0 <= smooth < 1):
        raise ValueError(f"smooth must be in [0, 1); got {smooth!r}")
    if not (isinstance(diverge_factor, (int, float)) and diverge_factor > 1):
        raise ValueError(f"diverge_factor must be a number > 1; got {diverge_factor!r}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be an int >= 1; got {batch_size!r}")
    if isinstance(accumulation_steps, bool) or not isinstance(accumulation_steps, int) or accumulation_steps < 1:
        raise ValueError(f"accumulation_steps must be an int >= 1; got {accumulation_steps!r}")
