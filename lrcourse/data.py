"""FashionMNIST as tensors on the device, and a batch iterator that replaces DataLoader.

The whole dataset (70,000 images of 28x28 pixels) is 220 MB as float32, so it lives on the
device once and every batch is a slice of it: no per-sample transform, no worker processes.
"""

from __future__ import annotations

import gzip
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import torch
from torchvision.datasets import FashionMNIST as _TorchvisionFashionMNIST

from .device import resolve_device

CLASSES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)
FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)
TRAIN_SIZE = 60_000
# Folders that system packages install the raw files into (Debian: dataset-fashion-mnist).
SYSTEM_DIRS = (Path("/usr/share/datasets/fashion-mnist"),)


class DataNotFoundError(FileNotFoundError):
    """FashionMNIST is neither on this machine nor downloadable."""


@dataclass(frozen=True)
class TensorData:
    """Inputs ``x`` (N, 1, 28, 28) and integer labels ``y`` (N,), on the same device.

    Slicing gives a view: ``data[:1000]`` is the first 1000 examples, no copy.
    """

    x: torch.Tensor
    y: torch.Tensor

    def __post_init__(self):
        if len(self.x) != len(self.y):
            raise ValueError(f"x and y must have the same length; got {len(self.x)} and {len(self.y)}")

    def __len__(self) -> int:
        return len(self.y)

    def __getitem__(self, index) -> TensorData:
        return TensorData(self.x[index], self.y[index])

    @property
    def device(self) -> torch.device:
        return self.x.device

    def to(self, device) -> TensorData:
        return TensorData(self.x.to(device), self.y.to(device))


@dataclass(frozen=True)
class FashionMNIST:
    """The three splits and the class names. ``train`` and ``val`` come from the 60,000
    training images; ``test`` is the official 10,000-image test set."""

    train: TensorData
    val: TensorData
    test: TensorData
    classes: tuple[str, ...] = CLASSES


def cache_dir() -> Path:
    """Where lrcourse keeps downloaded and unpacked data: ``$XDG_CACHE_HOME/lrcourse``,
    by default ``~/.cache/lrcourse``."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "lrcourse"


def _raw_files(folder: Path) -> dict[str, Path] | None:
    """The four raw files in ``folder`` (plain or .gz, directly or in torchvision's
    ``FashionMNIST/raw`` layout), or None if any is missing."""
    for candidate in (folder, folder / "FashionMNIST" / "raw"):
        found = {}
        for name in FILES:
            for path in (candidate / name, candidate / f"{name}.gz"):
                if path.is_file():
                    found[name] = path
                    break
        if len(found) == len(FILES):
            return found
    return None


def _as_torchvision_root(files: dict[str, Path]) -> Path:
    """A root folder that torchvision's FashionMNIST reader accepts for these files: the
    files' own folder if they are already unpacked in its layout, else the cache, where
    they are unpacked (once) from the .gz files."""
    raw = {path.parent for path in files.values()}
    if len(raw) == 1 and all(path.suffix != ".gz" for path in files.values()):
        folder = raw.pop()
        if folder.name == "raw" and folder.parent.name == "FashionMNIST":
            return folder.parent.parent
    root = cache_dir()
    target = root / "FashionMNIST" / "raw"
    target.mkdir(parents=True, exist_ok=True)
    for name, path in files.items():
        if (target / name).is_file():
            continue
        # Unpack to a temporary name, then rename, so an interrupted run leaves no half file.
        partial = target / f"{name}.partial"
        with (gzip.open(path) if path.suffix == ".gz" else open(path, "rb")) as src, open(partial, "wb") as dst:
            shutil.copyfileobj(src, dst)
        partial.replace(target / name)
    return root


def _not_found_message(why: str) -> str:
    return (
        f"FashionMNIST was not found: {why}\n"
        "Get it in one of three ways:\n"
        "  1. Pass root= (or set the LRCOURSE_DATA environment variable) to a folder holding\n"
        "     the four files " + ", ".join(f"{f}.gz" for f in FILES) + ".\n"
        "  2. On Debian or Ubuntu: sudo apt-get install dataset-fashion-mnist\n"
        "     (puts them in /usr/share/datasets/fashion-mnist).\n"
        f"  3. Connect to the internet and run again: torchvision downloads them into {cache_dir()}."
    )


def find_fashion_mnist(root: str | os.PathLike | None = None, download: bool = True) -> Path:
    """Return a folder that torchvision's ``FashionMNIST`` reader can load, looking in order at:
    ``root`` (or the ``LRCOURSE_DATA`` environment variable), the cache (:func:`cache_dir`),
    ``/usr/share/datasets/fashion-mnist``, and finally torchvision's download into the cache.

    Raises:
        ValueError: ``root`` (or ``LRCOURSE_DATA``) is given but does not hold the files.
        DataNotFoundError: no local copy, and ``download`` is False or the download failed.
    """
    explicit, source = (root, "root") if root is not None else (os.environ.get("LRCOURSE_DATA"), "LRCOURSE_DATA")
    if explicit:
        files = _raw_files(Path(explicit).expanduser())
        if files is None:
            raise ValueError(
                f"{source}={str(explicit)!r} does not hold FashionMNIST: expected the files "
                + ", ".join(FILES)
                + " (each may end in .gz), directly in it or in FashionMNIST/raw/"
            )
        return _as_torchvision_root(files)
    for folder in (cache_dir(), *SYSTEM_DIRS):
        files = _raw_files(folder)
        if files is not None:
            return _as_torchvision_root(files)
    if not download:
        raise DataNotFoundError(_not_found_message("no local copy, and download=False."))
    try:
        _TorchvisionFashionMNIST(str(cache_dir()), train=True, download=True)
        _TorchvisionFashionMNIST(str(cache_dir()), train=False, download=True)
    except (OSError, RuntimeError) as error:
        raise DataNotFoundError(_not_found_message(f"no local copy, and the download failed ({error}).")) from error
    return cache_dir()


def load_fashion_mnist(
    scaled: bool = True,
    device: str | torch.device | None = None,
    val_size: int = 10_000,
    seed: int = 0,
    root: str | os.PathLike | None = None,
    download: bool = True,
) -> FashionMNIST:
    """Load FashionMNIST as float tensors on ``device`` (default: the best available).

    Args:
        scaled: if True, pixels are divided by 255 into [0, 1]; if False they keep their raw
            0..255 values (lesson 02 compares the two).
        device: where the tensors live; None picks cuda > mps > cpu.
        val_size: how many of the 60,000 training images to hold out for validation,
            0 <= val_size < 60,000. The split is a seeded random permutation.
        seed: seed of the train/val split.
        root: folder holding the raw files; see :func:`find_fashion_mnist` for the search.
        download: allow torchvision to download the files when no local copy exists.
    """
    if isinstance(val_size, bool) or not isinstance(val_size, int) or not 0 <= val_size < TRAIN_SIZE:
        raise ValueError(f"val_size must be an int with 0 <= val_size < {TRAIN_SIZE}; got {val_size!r}")
    device = resolve_device(device)
    folder = find_fashion_mnist(root, download=download)
    train = _TorchvisionFashionMNIST(str(folder), train=True)
    test = _TorchvisionFashionMNIST(str(folder), train=False)

    def to_float(images: torch.Tensor) -> torch.Tensor:
        # uint8 goes to the device (4x less to copy), then becomes float there.
        x = images.to(device).unsqueeze(1).float()
        return x.div_(255.0) if scaled else x

    order = torch.randperm(TRAIN_SIZE, generator=torch.Generator().manual_seed(seed))
    val_idx, train_idx = order[:val_size], order[val_size:]
    return FashionMNIST(
        train=TensorData(to_float(train.data[train_idx]), train.targets[train_idx].to(device)),
        val=TensorData(to_float(train.data[val_idx]), train.targets[val_idx].to(device)),
        test=TensorData(to_float(test.data), test.targets.to(device)),
    )


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
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be an int >= 1; got {batch_size!r}")
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
    return len(data) // batch_size if drop_last else -(-len(data) // batch_size)
