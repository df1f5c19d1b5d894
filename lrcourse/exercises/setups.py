"""What experiment questions train on: small FashionMNIST set-ups the lessons never use, and the
grader's own runs of them.

A question that asks the learner to *run* an experiment calls the learner's function on one of
these set-ups (data the lesson did not train on, a narrower MLP), then repeats the runs it needs
itself, so that what the learner reports can be checked against what training really gives.
A run takes a fraction of a second on one CPU thread, so a whole check takes seconds.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from functools import partial
from typing import Callable

import torch

from ..data import TensorData, load_fashion_mnist
from ..experiments import train_at_lr, train_with_schedule
from ..models import MLP
from . import sandbox

#: Seconds allowed for one of the grader's own steps (loading the data, a run), on a busy machine.
GRADER_STEP_SECONDS = 60.0


@dataclass(frozen=True)
class Setup:
    """The arguments an experiment question passes: ``train`` and ``val`` data, ``epochs`` and a
    ``model`` factory (``model()`` is a fresh, unseeded network), and ``description``, which
    feedback uses to name the set-up."""

    train: TensorData
    val: TensorData
    epochs: int
    model: Callable[[], torch.nn.Module]
    description: str


@contextlib.contextmanager
def grader_step(description: str):
    """A step of the grader's own (not the learner's) in the sandbox: it may take
    :data:`GRADER_STEP_SECONDS`."""
    with sandbox.stage(description, GRADER_STEP_SECONDS):
        yield


def setup(start: int, train_size: int = 2000, val_size: int = 1000, hidden: int = 32, epochs: int = 3,
          scaled: bool = True) -> Setup:
    """``train_size`` training images from index ``start`` of FashionMNIST's training split (the
    lessons train on the first 20,000), ``val_size`` validation images from index 5,000 (the lessons
    validate on the first 5,000), and an MLP with ``hidden`` units, on the CPU. Pixels are in [0, 1]
    if ``scaled``, else raw (0..255), as :func:`~lrcourse.load_fashion_mnist` gives them."""
    with grader_step("loading the data for the check"):
        data = load_fashion_mnist(scaled=scaled, device="cpu")
    return Setup(train=data.train[start:start + train_size], val=data.val[5000:5000 + val_size], epochs=epochs,
                 model=partial(MLP, hidden=hidden),
                 description=f"on {train_size} other training images with an MLP of {hidden} hidden units, "
                             f"{epochs} epochs")


def reference_history(setup: Setup, schedule, seed: int):
    """The :class:`~lrcourse.callbacks.History` of the grader's own run of ``schedule`` with ``seed``:
    ``train_with_schedule`` with its defaults (SGD with momentum 0.9, batches of 64)."""
    with grader_step(f"{setup.description}, the check's own run with seed {seed}"):
        return train_with_schedule(setup.train, schedule, val=setup.val, epochs=setup.epochs, model=setup.model,
                                   seed=seed).history


def reference_history_at_lr(setup: Setup, lr: float, optimizer: str, seed: int):
    """The :class:`~lrcourse.callbacks.History` of the grader's own run at a constant ``lr`` with
    ``optimizer`` and ``seed``: ``train_at_lr`` with its defaults (batches of 32)."""
    with grader_step(f"{setup.description}, the check's own run with seed {seed}"):
        return train_at_lr(setup.train, lr, val=setup.val, optimizer=optimizer, epochs=setup.epochs,
                           model=setup.model, seed=seed).history
