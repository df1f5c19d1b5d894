"""Fine-tuning a pre-trained network on a new task: a fresh head, per-layer LRs, gradual unfreezing.

The recipe of ULMFiT (Howard & Ruder 2018, *Universal Language Model Fine-tuning for Text
Classification*), whose three parts each touch the learning rate:

* *discriminative fine-tuning*: lower layers, which hold general features, get smaller LRs
  (:func:`lrcourse.param_groups.depth_multipliers`: each layer 2.6 times below the next);
* *slanted triangular LRs*: a short linear rise, then a long linear decay
  (``S.combine([0.1, 0.9], [S.lin_anneal(lr / 32, lr), S.lin_anneal(lr, lr / 32)], steps)``);
* *gradual unfreezing*: train the last layer alone first, then unfreeze one more layer every
  epoch (:class:`GradualUnfreezing`).

:func:`split_classes` makes the two tasks from one dataset, :func:`swap_head` puts a new output
layer on a trained body, and :func:`fine_tune` runs one fine-tuning with any mix of the three.
"""

from __future__ import annotations

import copy
from typing import Callable, Sequence

import torch
from torch import nn

from .callbacks import Callback, FitState
from .checks import ArgumentTypeError, check_choice, check_int, check_module, check_positive, model_device
from .data import TensorData
from .device import forked_rng
from .experiments import OPTIMIZERS, Run
from .param_groups import layer_groups, layers
from .schedules import Constant, constant, to_lambda_lr
from .train import fit


def split_classes(data: TensorData, classes: Sequence[int]) -> TensorData:
    """The examples of ``data`` whose label is in ``classes``, relabelled ``0 .. len(classes) - 1`` in
    the order given (``classes[0]`` becomes 0), so a model with ``len(classes)`` outputs can learn them."""
    if not isinstance(data, TensorData):
        raise ArgumentTypeError(f"data must be a lrcourse.TensorData; got {type(data).__name__}")
    if isinstance(classes, (str, bytes)) or not isinstance(classes, Sequence) or not classes:
        raise ArgumentTypeError(f"classes must be a non-empty sequence of class indices; got {classes!r}")
    for label in classes:
        check_int("classes[...]", label, 0)
    if len(set(classes)) != len(classes):
        raise ValueError(f"classes must not repeat a class; got {list(classes)}")
    lookup = torch.full((max(int(data.y.max()), max(classes)) + 1,), -1, dtype=torch.long, device=data.y.device)
    lookup[torch.tensor(list(classes), device=data.y.device)] = torch.arange(len(classes), device=data.y.device)
    new = lookup[data.y]
    keep = new >= 0
    return TensorData(data.x[keep], new[keep])


def _last_linear(model: nn.Module) -> tuple[nn.Module, str]:
    name, head = layers(model)[-1]
    if not isinstance(head, nn.Linear):
        raise ValueError(f"model's last layer must be an nn.Linear to swap; its last layer {name!r} is a "
                         f"{type(head).__name__}")
    return head, name


def swap_head(model: nn.Module, num_classes: int, seed: int = 0) -> nn.Module:
    """A copy of ``model`` whose last layer (an ``nn.Linear``) is replaced by a new one with
    ``num_classes`` outputs, initialised from ``seed`` (PyTorch's default initialisation). The body's
    weights are copied; ``model`` itself is not changed."""
    check_module("model", model)
    check_int("num_classes", num_classes, 1)
    check_int("seed", seed, 0)
    head, name = _last_linear(model)
    new = copy.deepcopy(model)
    with forked_rng(seed):
        fresh = nn.Linear(head.in_features, num_classes, bias=head.bias is not None)
    setattr(new, name, fresh.to(device=head.weight.device, dtype=head.weight.dtype))
    return new


class GradualUnfreezing(Callback):
    """ULMFiT's gradual unfreezing: at the start only the last layer trains; after every ``every``
    epochs the next lower layer is unfrozen, until all train. Layers are
    :func:`lrcourse.param_groups.layers` (top-level children with parameters).

    Frozen layers have ``requires_grad=False``, so they get no gradient and the optimizer skips them
    (momentum and weight decay included); batch norm's running statistics still follow the data.
    ``unfrozen[e]`` is how many layers (from the top) trained in epoch ``e``. Every parameter's
    ``requires_grad`` is restored when training ends.
    """

    def __init__(self, every: int = 1):
        check_int("every", every, 1)
        self.every = every
        self.unfrozen: list[int] = []

    def on_train_begin(self, state: FitState) -> None:
        # Each layer's parameters with their own requires_grad, which stays False where it was.
        self._layers = [[(p, p.requires_grad) for p in layer.parameters()] for _, layer in layers(state.model)]
        self.unfrozen, self._count = [], 1
        self._apply()

    def _apply(self) -> None:
        for index, saved in enumerate(self._layers):
            trainable = index >= len(self._layers) - self._count
            for p, was in saved:
                p.requires_grad_(trainable and was)

    def on_epoch_end(self, state: FitState) -> None:
        self.unfrozen.append(self._count)
        if (state.epoch + 1) % self.every == 0 and self._count < len(self._layers):
            self._count += 1
            self._apply()

    def on_train_end(self, state: FitState) -> None:
        for saved in self._layers:
            for p, was in saved:
                p.requires_grad_(was)


def fine_tune(pretrained: nn.Module, train: TensorData, lr: float, *, num_classes: int,
              val: TensorData | None = None, epochs: int = 1, batch_size: int = 64,
              multipliers: Sequence[float] | None = None, schedule: Callable[[int], float] | None = None,
              unfreeze_every: int | None = None, head_only: bool = False, optimizer: str = "momentum",
              seed: int = 0, callbacks: Sequence[Callback] = (), progress: bool = False) -> Run:
    """Fine-tune a copy of ``pretrained`` with a new head of ``num_classes`` outputs on ``train``.

    Args:
        lr: the head's LR (the peak LR when ``schedule`` is given).
        multipliers: one LR factor per layer (input to output), e.g. ``depth_multipliers(model)``;
            None: the same LR everywhere.
        schedule: the head's LR per step (a :mod:`lrcourse.schedules` schedule); every layer
            keeps its ratio to the head. None: ``lr`` throughout.
        unfreeze_every: unfreeze one more layer every this many epochs (:class:`GradualUnfreezing`).
        head_only: train the new head alone (the body stays frozen): a linear probe.

    The optimizer's first param group is the head, so ``history.lr`` is the head's LR. The new
    head is drawn from ``seed``, which also sets the order of the batches.
    """
    check_module("pretrained", pretrained)
    check_positive("lr", lr)
    check_choice("optimizer", optimizer, OPTIMIZERS)
    if unfreeze_every is not None and head_only:
        raise ValueError("unfreeze_every and head_only exclude each other: choose one")
    net = swap_head(pretrained, num_classes, seed).to(model_device(pretrained))
    count = len(layers(net))
    factors = [1.0] * count if multipliers is None else list(multipliers)
    groups = layer_groups(net, lr if schedule is None else float(schedule(0)), factors)[::-1]  # head first
    if head_only:
        groups = groups[:1]
        for group in layer_groups(net, 1.0, [1.0] * count)[:-1]:  # the body: no gradients to compute
            for p in group["params"]:
                p.requires_grad_(False)
    opt = OPTIMIZERS[optimizer](groups, lr=groups[0]["lr"])
    scheduler = None if schedule is None or isinstance(schedule, Constant) else to_lambda_lr(opt, schedule)
    extra = [GradualUnfreezing(unfreeze_every)] if unfreeze_every is not None else []
    history = fit(net, train, opt, epochs=epochs, batch_size=batch_size, val=val, scheduler=scheduler,
                  callbacks=[*extra, *callbacks], progress=progress, seed=seed)
    return Run(lr=float(lr), optimizer=optimizer, batch_size=batch_size, history=history, model=net,
               schedule=schedule or constant(base_lr=float(lr)))
