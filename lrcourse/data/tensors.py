"""Data as tensors on the device, and a batch iterator that replaces DataLoader.

A whole small dataset (FashionMNIST is 220 MB as float32) lives on the device once and
every batch is a slice of it: no per-sample transform, no worker processes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import torch

from ..checks import check_bool, check_int


@dataclass(frozen=True)
class TensorData:
    """Inputs ``x`` (N, ...) and integer labels ``y`` (N,), on the same device, and optionally
    the class names (``classes[k]`` names label ``k``).

    Slicing gives a view: ``data[:1000]`` is the first 1000 examples, no copy, same classes.
    """

    x: torch.Tensor
    y: torch.Tensor
    classes: tuple[str, ...] | None = None

    def __post_init__(self):
        for name in ("x", "y"):
            if not isinstance(getattr(self, name), torch.Tensor):
                raise TypeError(f"{name} must be a torch.Tensor; got {type(getattr(self, name)).__name__} "
                                "(for NumPy arrays or tables use lrcourse.data.from_arrays)")
        if len(self.x) != len(self.y):
            raise ValueError(f"x and y must have the same length; got {len(self.x)} and {len(self.y)}")
        if self.classes is not None:
            if isinstance(self.classes, str) or not all(isinstance(c, str) for c in self.classes):
                raise TypeError(f"classes must be None or a sequence of class names (str); got {self.classes!r}")
            object.__setattr__(self, "classes", tuple(self.classes))

    def __len__(self) -> int:
        return len(self.y)

    def __getitem__(self, index) -> TensorData:
        return TensorData(self.x[index], self.y[index], self.classes)

    @property
    def device(self) -> torch.device:
        return self.x.device

    def to(self, device) -> TensorData:
        return TensorData(self.x.to(device), self.y.to(device), self.classes)


def _check_data(data) -> None:
    if not isinstance(data, TensorData):
        raise TypeError(f"data must be a TensorData; got {type(data).__name__}")


def batches(
    data: TensorData,
    batch_size: int,
    shuffle: bool = False,
    generator: torch.Generator | None = None,
    drop_last: bool = False,
) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Yield ``(x, y)`` batches of ``data`` without leaving its device.

    With ``shuffle`` the order is a permutation drawn from ``generator`` (a CPU generator;
    pass a seeded one for a reproducible order). ``drop_last`` skips a final short batch.
    The arguments are checked when ``batches`` is called, not at the first batch.
    """
    _check_data(data)
    batch_size = check_int("batch_size", batch_size, low=1)
    check_bool("shuffle", shuffle)
    check_bool("drop_last", drop_last)
    if generator is not None and not isinstance(generator, torch.Generator):
        raise TypeError(f"generator must be None or a torch.Generator; got {type(generator).__name__}")
    return _batches(data, batch_size, shuffle, generator, drop_last)


def _batches(data, batch_size, shuffle, generator, drop_last):
    n = len(data)
    stop = n - n % batch_size if drop_last else n
    if shuffle:
        order = torch.randperm(n, generator=generator).to(data.device)
        for start in range(0, stop, batch_size):
            idx = order[start:start + batch_size]
            yield data.x[idx], data.y[idx]
    else:
        for start in range(0, stop, batch_size):
            yield data.x[start:start + batch_size], data.y[start:start + batch_size]


def num_batches(data: TensorData, batch_size: int, drop_last: bool = False) -> int:
    """How many batches :func:`batches` yields."""
    _check_data(data)
    batch_size = check_int("batch_size", batch_size, low=1)
    check_bool("drop_last", drop_last)
    return len(data) // batch_size if drop_last else -(-len(data) // batch_size)
