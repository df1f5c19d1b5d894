"""Measuring a model: its mean loss and accuracy on a dataset."""

from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F

from .checks import check_module, model_device, on_device
from .data import TensorData
from .loaders import check_source, epoch_batches


@torch.no_grad()
def evaluate(model: torch.nn.Module, data, batch_size: int | None = 1000,
             loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None) -> dict[str, float]:
    """Mean loss and accuracy of ``model`` on ``data`` (``TensorData`` or a loader of ``(x, y)``
    batches, then with ``batch_size=None``), in eval mode, without gradients.

    ``loss_fn`` must return the batch mean (cross-entropy by default). The model's train/eval
    mode is restored afterwards.
    """
    check_module("model", model)
    batch_size = batch_size if isinstance(data, TensorData) else None  # a loader makes its own batches
    check_source("data", data, batch_size)
    loss_fn = loss_fn or F.cross_entropy
    device = model_device(model)
    data = on_device(data, device) if isinstance(data, TensorData) else data
    was_training = model.training
    model.eval()
    total_loss = torch.zeros((), device=device)
    correct = torch.zeros((), device=device, dtype=torch.long)
    seen = 0
    try:
        for x, y in epoch_batches(data, batch_size, device, name="data"):
            out = model(x)
            total_loss += loss_fn(out, y) * len(y)
            correct += (out.argmax(1) == y).sum()
            seen += len(y)
    finally:
        model.train(was_training)
    return {"loss": total_loss.item() / seen, "accuracy": correct.item() / seen}
