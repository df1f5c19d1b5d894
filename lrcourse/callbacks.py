"""The callback protocol of :func:`lrcourse.fit`.

A callback overrides any of the four hooks; each receives the :class:`FitState`. To end
training, a hook calls ``state.stop(reason)``: ``fit`` finishes the current step and returns.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch

if TYPE_CHECKING:
    from .train import History


@dataclass
class FitState:
    """What a callback can see and act on while :func:`lrcourse.fit` runs.

    ``step`` counts optimizer steps taken so far (0-based index of the last one in
    ``on_batch_end``); ``loss`` is that step's loss as a tensor on the device (call
    ``.item()`` only if you need the number: it waits for the device). ``epochs`` is the
    number of epochs ``fit`` was asked to run, so ``epochs * history.steps_per_epoch`` is
    the planned number of steps.
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

    def stop(self, reason: str) -> None:
        """Ask ``fit`` to stop after this step, recording why in the History."""
        self.stop_training = True
        self.stop_reason = reason


class Callback:
    """Base class with do-nothing hooks; subclasses override the ones they need."""

    def on_train_begin(self, state: FitState) -> None:
        pass

    def on_batch_end(self, state: FitState) -> None:
        pass

    def on_epoch_end(self, state: FitState) -> None:
        pass

    def on_train_end(self, state: FitState) -> None:
        pass
