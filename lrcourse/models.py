"""The two models the lessons train on FashionMNIST."""

from __future__ import annotations

from torch import nn

from .checks import check_bool, check_int


class MLP(nn.Sequential):
    """784 -> hidden -> ReLU -> 10: the network "Modern Computer Vision with PyTorch" (ch. 3)
    trains on FashionMNIST. ``model[1]`` and ``model[3]`` are the two linear layers."""

    def __init__(self, hidden: int = 1000, in_features: int = 28 * 28, num_classes: int = 10):
        for name, value in (("hidden", hidden), ("in_features", in_features), ("num_classes", num_classes)):
            check_int(name, value, 1)
        super().__init__(
            nn.Flatten(),
            nn.Linear(in_features, hidden),
            nn.ReLU(),
            nn.Linear(hidden, num_classes),
        )


def _conv_block(c_in: int, c_out: int, batch_norm: bool) -> nn.Sequential:
    if not batch_norm:
        return nn.Sequential(nn.Conv2d(c_in, c_out, kernel_size=3, padding=1), nn.ReLU(), nn.MaxPool2d(2))
    # No conv bias: BatchNorm's shift does its job.
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, kernel_size=3, padding=1, bias=False),
        nn.BatchNorm2d(c_out),
        nn.ReLU(),
        nn.MaxPool2d(2),
    )


class SmallCNN(nn.Sequential):
    """Two conv-BN-ReLU-pool blocks (28x28 -> 14x14 -> 7x7) and one linear head.

    ``channels=(16, 32)`` keeps an epoch on a 2-core CPU in the tens of seconds.
    ``batch_norm=False`` drops the BatchNorm layers (the convolutions get a bias instead), to
    measure what batch norm does to the usable LR (lesson 06)."""

    def __init__(self, channels: tuple[int, int] = (16, 32), num_classes: int = 10, batch_norm: bool = True):
        if not isinstance(channels, (tuple, list)) or len(channels) != 2:
            raise ValueError(f"channels must be two ints >= 1; got {channels!r}")
        for index, value in enumerate(channels):
            check_int(f"channels[{index}]", value, 1)
        check_bool("batch_norm", batch_norm)
        c1, c2 = channels
        super().__init__(
            _conv_block(1, c1, batch_norm),
            _conv_block(c1, c2, batch_norm),
            nn.Flatten(),
            nn.Linear(c2 * 7 * 7, num_classes),
        )
