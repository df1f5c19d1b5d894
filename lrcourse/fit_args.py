"""The argument checks of :func:`lrcourse.fit`: every error raised before anything changes."""

from __future__ import annotations

from torch.optim.lr_scheduler import ReduceLROnPlateau

from .callbacks import Callback
from .checks import (ArgumentTypeError, check_bool, check_callable, check_choice, check_int, check_module,
                     check_optimizer_holds, check_positive)
from .data import TensorData
from .loaders import check_source


def check_fit_args(model, train, optimizer, epochs, batch_size, val, scheduler, scheduler_interval, callbacks,
                   loss_fn, progress, seed, clip_grad_norm) -> None:
    """Every argument error is raised here, before the model or optimizer is touched."""
    check_module("model", model)
    check_source("train", train, batch_size)
    if val is not None:
        check_source("val", val, batch_size if isinstance(val, TensorData) else None)
    check_int("epochs", epochs, 1)
    check_choice("scheduler_interval", scheduler_interval, ("step", "epoch"))
    check_optimizer_holds(model, optimizer)
    if loss_fn is not None:
        check_callable("loss_fn", loss_fn)
    check_bool("progress", progress)
    if seed is not None:
        check_int("seed", seed, 0)
    if clip_grad_norm is not None:
        check_positive("clip_grad_norm", clip_grad_norm)
    if isinstance(callbacks, (str, bytes, Callback)) or not isinstance(callbacks, (list, tuple)):
        raise ArgumentTypeError(f"callbacks must be a list (or tuple) of lrcourse.Callback objects; got "
                                f"{type(callbacks).__name__}")
    for callback in callbacks:
        if not isinstance(callback, Callback):
            raise ArgumentTypeError(f"callbacks must be lrcourse.Callback instances; got {type(callback).__name__}")
    if scheduler is not None:
        if not callable(getattr(scheduler, "step", None)):
            raise ArgumentTypeError(f"scheduler must have a step() method; got {type(scheduler).__name__}")
        if getattr(scheduler, "optimizer", optimizer) is not optimizer:
            raise ValueError("scheduler was built on a different optimizer than the one passed to fit")
        if isinstance(scheduler, ReduceLROnPlateau) and scheduler_interval != "epoch":
            raise ValueError("scheduler_interval must be 'epoch' for ReduceLROnPlateau, which steps on a "
                             "per-epoch metric; got 'step'")
        plateau = [c for c in callbacks if type(c).__name__ == "ReduceLROnPlateau"]
        if plateau:
            raise ValueError("scheduler and a ReduceLROnPlateau callback cannot be combined: the scheduler sets "
                             "the LR itself and would undo every reduction (Keras refuses this too). Use one: "
                             "the schedule, or a constant LR with ReduceLROnPlateau")
