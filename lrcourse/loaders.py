"""Where batches come from: device tensors (:class:`~lrcourse.data.TensorData`) or a learner's loader.

``fit``, ``evaluate`` and the range test take either. ``TensorData`` is the fast path: the data
already lives on the device and every batch is an index into it. Anything else must be a sized,
re-iterable collection of ``(x, y)`` batches (a ``torch.utils.data.DataLoader``, a list of
pairs), iterated once per epoch, each batch moved to the model's device as it arrives. The
checks here run before training, so bad data is an error that names it, not a traceback
from deep inside PyTorch after an epoch of work.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sized
from contextlib import contextmanager
from typing import Callable

import torch

from .checks import ArgumentTypeError, check_int
from .data import TensorData, batches, num_batches
from .device import forked_rng

Batch = tuple[torch.Tensor, torch.Tensor]


def is_tensor_data(data) -> bool:
    return isinstance(data, TensorData)


def check_source(name: str, data, batch_size) -> None:
    """``data`` is a non-empty ``TensorData`` (with ``batch_size`` an int >= 1) or a non-empty,
    sized, re-iterable collection of batches (with ``batch_size`` None: the loader batches)."""
    if isinstance(data, TensorData):
        check_int("batch_size", batch_size, 1)
        if len(data) == 0:
            raise ValueError(f"{name} must hold at least one example; it is empty")
        return
    if isinstance(data, (str, bytes, dict, torch.Tensor)) or not isinstance(data, Iterable):
        hint = " (wrap inputs and labels: TensorData(x, y))" if isinstance(data, torch.Tensor) else ""
        raise ArgumentTypeError(f"{name} must be a lrcourse.data.TensorData or a torch.utils.data.DataLoader (any "
                                f"sized, re-iterable collection of (x, y) batches); got {type(data).__name__}{hint}")
    if isinstance(data, Iterator):
        raise ArgumentTypeError(f"{name} is an iterator (a generator?), which is used up after one pass; pass "
                                "something that can be iterated once per epoch, such as a DataLoader or a list")
    if not isinstance(data, Sized):
        raise ArgumentTypeError(f"{name} must have a len() (the number of batches per epoch), as a DataLoader over "
                                f"a map-style dataset has; got {type(data).__name__}")
    if len(data) == 0:
        raise ValueError(f"{name} must hold at least one batch; it is empty")
    if batch_size is not None:
        raise ValueError(f"batch_size must be None when {name} is a loader, which makes its own batches; got "
                         f"{batch_size!r}")


def steps_per_epoch(data, batch_size: int | None) -> int:
    return num_batches(data, batch_size) if isinstance(data, TensorData) else len(data)


def _to(batch, device: torch.device, name: str) -> Batch:
    try:
        x, y = batch
    except (TypeError, ValueError):
        raise ValueError(f"every batch of {name} must be a pair (x, y); got {type(batch).__name__}") from None
    return x.to(device, non_blocking=True), y.to(device, non_blocking=True)


def epoch_batches(data, batch_size: int | None, device: torch.device, *, shuffle: bool = False,
                  generator: torch.Generator | None = None, name: str = "train") -> Iterator[Batch]:
    """One pass over ``data``: shuffled by ``generator`` for ``TensorData`` (a loader keeps its own order)."""
    if isinstance(data, TensorData):
        yield from batches(data, batch_size, shuffle=shuffle, generator=generator)
    else:
        for batch in data:
            yield _to(batch, device, name)


def endless_batches(data, batch_size: int | None, device: torch.device, generator: torch.Generator,
                    name: str = "train") -> Iterator[Batch]:
    """Shuffled passes, one after another: a short dataset never ends a range test early."""
    while True:
        yield from epoch_batches(data, batch_size, device, shuffle=True, generator=generator, name=name)


def _generators(data) -> list[torch.Generator]:
    """The random generators a DataLoader shuffles with: its own, its sampler's, its batch sampler's."""
    found = []
    for owner in (data, getattr(data, "sampler", None), getattr(getattr(data, "batch_sampler", None), "sampler", None)):
        generator = getattr(owner, "generator", None)
        if isinstance(generator, torch.Generator) and all(generator is not g for g in found):
            found.append(generator)
    return found


@contextmanager
def preserved_generators(data) -> Iterator[None]:
    """Run a block that iterates ``data`` and leave the generators of a DataLoader (its own, its
    sampler's) as they were, so looking at a loader does not change the order it shuffles in next."""
    generators = [] if isinstance(data, TensorData) else _generators(data)
    states = [g.get_state() for g in generators]
    try:
        yield
    finally:
        for generator, state in zip(generators, states):
            generator.set_state(state)


def first_batch(data, batch_size: int | None, device: torch.device, name: str) -> Batch:
    """A small batch of ``data`` to probe the model with (two examples of ``TensorData``)."""
    if isinstance(data, TensorData):
        return data.x[:2], data.y[:2]
    for batch in data:
        return _to(batch, device, name)
    raise ValueError(f"{name} yielded no batch")


@torch.no_grad()
def check_examples(name: str, data, batch_size: int | None, model: torch.nn.Module, device: torch.device,
                   loss_fn: Callable | None) -> None:
    """The model accepts ``data``'s inputs, and (with the default cross-entropy) its labels are class
    indices the model can predict. One forward pass on a couple of examples in eval mode, so no
    weight or BatchNorm statistic changes; a loader's first batch is drawn without moving the
    global random generators or the loader's own."""
    with forked_rng(), preserved_generators(data):
        x, y = first_batch(data, batch_size, device, name)
    if not (torch.is_floating_point(x)):
        raise ArgumentTypeError(f"{name}.x must be a floating-point tensor; got {x.dtype} (raw uint8 pixels? "
                                "convert with .float() / 255)")
    weight = next((p for p in model.parameters() if torch.is_floating_point(p)), None)
    if weight is not None and x.dtype != weight.dtype:
        raise ArgumentTypeError(f"{name}.x is {x.dtype} but the model's weights are {weight.dtype}: convert one of "
                                f"them (e.g. x.to({weight.dtype}))")
    was_training = model.training
    model.eval()
    try:
        out = model(x[:2])
    except RuntimeError as error:
        raise ValueError(f"the model cannot take {name}'s inputs of shape {tuple(x.shape[1:])}: "
                         f"{str(error).splitlines()[0]}") from None
    finally:
        model.train(was_training)
    if loss_fn is not None:
        try:
            loss = loss_fn(out, y[:2])
        except Exception as error:  # noqa: BLE001 - any failure of the learner's loss is reported the same way
            raise ValueError(f"loss_fn(model(x), y) failed on {name}'s first batch: {type(error).__name__}: "
                             f"{error}") from None
        if not (isinstance(loss, torch.Tensor) and loss.ndim == 0):
            raise ValueError(f"loss_fn must return the batch-mean loss as a 0-d tensor; it returned "
                             f"{type(loss).__name__}{'' if not isinstance(loss, torch.Tensor) else tuple(loss.shape)}")
        return
    labels = data.y if isinstance(data, TensorData) else y
    if labels.dtype != torch.long:
        raise ArgumentTypeError(f"{name}.y must hold class indices as torch.long (int64); got {labels.dtype} "
                                "(convert with .long())")
    if out.ndim != 2:
        raise ValueError(f"the model must return (batch, classes) scores for the default cross-entropy; it returned "
                         f"shape {tuple(out.shape)} (pass loss_fn= for another task)")
    low, high = int(labels.min()), int(labels.max())
    if low < 0 or high >= out.shape[1]:
        raise ValueError(f"{name}.y must hold class indices from 0 to {out.shape[1] - 1} (the model scores "
                         f"{out.shape[1]} classes); got labels from {low} to {high}")
