"""FashionMNIST: where it is found, how the shared cache stays trustworthy, and loading it as tensors.

Sources, in order: ``root=`` (or ``LRCOURSE_DATA``), read in place and never copied; else the
shared cache ``cache_dir()/FashionMNIST/raw``, which only lrcourse fills, from the system
folder (Debian's package) or torchvision's download, and which is checked before each use.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import torch
from filelock import FileLock
from torchvision.datasets import FashionMNIST as _TorchvisionFashionMNIST

from ..checks import check_bool, check_int, check_path
from ..device import resolve_device
from . import idx
from ..files import cache_dir, write_bytes_atomically
from .tensors import TensorData

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
KINDS = {name: "images" if "images" in name else "labels" for name in FILES}
TRAIN_SIZE = 60_000
#: How many images (or labels) each file of the real FashionMNIST holds.
COUNTS = {name: TRAIN_SIZE if name.startswith("train") else 10_000 for name in FILES}
# Folders that system packages install the raw files into (Debian: dataset-fashion-mnist).
SYSTEM_DIRS = (Path("/usr/share/datasets/fashion-mnist"),)
#: Written into the cache by lrcourse once it has filled and checked it: each file's size and
#: modification time. A cache without it, or whose files no longer match it, is made again.
MANIFEST = ".lrcourse-manifest.json"


class DataNotFoundError(FileNotFoundError):
    """FashionMNIST is neither on this machine nor downloadable."""


@dataclass(frozen=True)
class FashionMNIST:
    """The three splits and the class names. ``train`` and ``val`` come from the training
    images (60,000 in FashionMNIST); ``test`` is the official 10,000-image test set."""

    train: TensorData
    val: TensorData
    test: TensorData
    classes: tuple[str, ...] = CLASSES


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


def _cache_raw() -> Path:
    return cache_dir() / "FashionMNIST" / "raw"


def _stamp(path: Path) -> list[int]:
    stat = path.stat()
    return [stat.st_size, stat.st_mtime_ns]


def _cache_is_valid(raw: Path) -> bool:
    """Cheap checks, no full read: the manifest lrcourse wrote matches every file's size and
    modification time, and every header has the right magic number and FashionMNIST's counts."""
    try:
        recorded = json.loads((raw / MANIFEST).read_text())
        return all(recorded.get(name) == _stamp(raw / name)
                   and idx.check_header(raw / name, KINDS[name]) == COUNTS[name] for name in FILES)
    except (OSError, ValueError, AttributeError):
        return False


def _fill_cache(files: dict[str, Path], raw: Path) -> None:
    """Unpack the system folder's files into the cache, each checked, each written atomically."""
    for name, path in files.items():
        data = idx.read_bytes(path)
        _check_count(path, name, idx.check_bytes(data, path, KINDS[name]))
        write_bytes_atomically(raw / name, data)


def _check_count(path: Path, name: str, count: int) -> None:
    if count != COUNTS[name]:
        raise ValueError(f"{str(path)!r} holds {count} {KINDS[name]}; FashionMNIST's {name} holds {COUNTS[name]}")


def _ensure_cache(download: bool) -> Path:
    """The cache's raw folder, checked; made again (from a system folder, else by torchvision's
    download) when it is missing, damaged or was not made by lrcourse."""
    raw = _cache_raw()
    if _cache_is_valid(raw):
        return raw
    raw.mkdir(parents=True, exist_ok=True)
    # Two notebooks starting at once: the second waits, then finds the cache made.
    with FileLock(raw / ".lock"):
        if _cache_is_valid(raw):
            return raw
        # Not trusted: drop the unpacked files. Downloaded .gz files stay; torchvision checks
        # their MD5 before it unpacks them again.
        for name in (MANIFEST, *FILES):
            (raw / name).unlink(missing_ok=True)
        system = next((files for files in map(_raw_files, SYSTEM_DIRS) if files is not None), None)
        if system is not None:
            _fill_cache(system, raw)
        elif not download:
            raise DataNotFoundError(_not_found_message("no local copy, and download=False."))
        else:
            try:
                _TorchvisionFashionMNIST(str(raw.parent.parent), train=True, download=True)
            except Exception as error:  # noqa: BLE001 - offline, a proxy, a bad mirror: one clear message
                raise DataNotFoundError(
                    _not_found_message(f"no local copy, and the download failed ({error}).")) from error
            for name in FILES:
                _check_count(raw / name, name, idx.check_header(raw / name, KINDS[name]))
        write_bytes_atomically(raw / MANIFEST, json.dumps({name: _stamp(raw / name) for name in FILES}).encode())
    return raw


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


def _explicit(root) -> tuple[Path, str] | None:
    """The folder given by ``root`` or else ``LRCOURSE_DATA``, and which of the two gave it."""
    if root is not None:
        return check_path("root", root), "root"
    env = os.environ.get("LRCOURSE_DATA")
    return (Path(env).expanduser(), "LRCOURSE_DATA") if env else None


def _locate(root, download: bool) -> dict[str, Path]:
    explicit = _explicit(root)
    if explicit is None:
        raw = _ensure_cache(download)
        return {name: raw / name for name in FILES}
    folder, source = explicit
    files = _raw_files(folder)
    if files is None:
        raise ValueError(
            f"{source}={str(folder)!r} does not hold FashionMNIST: expected the files " + ", ".join(FILES)
            + " (each may end in .gz), directly in it or in FashionMNIST/raw/"
        )
    return files


def _read_all(files: dict[str, Path]) -> dict[str, torch.Tensor]:
    """Every file read and checked; images and labels of a split must be as many."""
    tensors = {name: idx.read(path, KINDS[name]) for name, path in files.items()}
    for split in ("train", "t10k"):
        images, labels = f"{split}-images-idx3-ubyte", f"{split}-labels-idx1-ubyte"
        if len(tensors[images]) != len(tensors[labels]):
            raise ValueError(f"{str(files[images])!r} holds {len(tensors[images])} images but "
                             f"{str(files[labels])!r} holds {len(tensors[labels])} labels")
    return tensors


def find_fashion_mnist(root: str | os.PathLike | None = None, download: bool = True) -> Path:
    """Make sure FashionMNIST is on this machine, its files checked, and say where.

    With ``root`` (or else the ``LRCOURSE_DATA`` environment variable): that folder, once its
    four files (plain or .gz, directly in it or in ``FashionMNIST/raw``) are read and checked;
    nothing is copied. Without: the cache folder :func:`cache_dir`, which
    ``torchvision.datasets.FashionMNIST(folder)`` loads; lrcourse fills it from
    ``/usr/share/datasets/fashion-mnist`` or by torchvision's download, and makes it again if
    its files are damaged.

    Raises:
        ValueError: ``root`` (or ``LRCOURSE_DATA``) does not hold the files, or a file is damaged
            (the message names it).
        DataNotFoundError: no local copy, and ``download`` is False or the download failed.
    """
    download = check_bool("download", download)
    explicit = _explicit(root)
    files = _locate(root, download)
    if explicit is None:
        return cache_dir()
    _read_all(files)
    return explicit[0]


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
        val_size: how many of the training images to hold out for validation,
            0 <= val_size < 60,000. The split is a seeded random permutation.
        seed: seed of the train/val split.
        root: folder holding the raw files, read in place; see :func:`find_fashion_mnist`.
        download: allow torchvision to download the files when no local copy exists.
    """
    check_bool("scaled", scaled)
    val_size = check_int("val_size", val_size, low=0)
    seed = check_int("seed", seed, low=0)
    check_bool("download", download)
    device = resolve_device(device)
    explicit = _explicit(root)
    if explicit is None and val_size >= TRAIN_SIZE:
        raise ValueError(f"val_size must be an int with 0 <= val_size < {TRAIN_SIZE}; got {val_size!r}")
    tensors = _read_all(_locate(root, download))
    train_x, train_y = tensors["train-images-idx3-ubyte"], tensors["train-labels-idx1-ubyte"].long()
    if val_size >= len(train_x):
        raise ValueError(f"val_size must be an int with 0 <= val_size < {len(train_x)} (the training images in "
                         f"{explicit[1]}); got {val_size!r}")

    def to_float(images: torch.Tensor) -> torch.Tensor:
        # uint8 goes to the device (4x less to copy), then becomes float there.
        x = images.to(device).unsqueeze(1).float()
        return x.div_(255.0) if scaled else x

    order = torch.randperm(len(train_x), generator=torch.Generator().manual_seed(seed))
    val_idx, train_idx = order[:val_size], order[val_size:]
    return FashionMNIST(
        train=TensorData(to_float(train_x[train_idx]), train_y[train_idx].to(device), CLASSES),
        val=TensorData(to_float(train_x[val_idx]), train_y[val_idx].to(device), CLASSES),
        test=TensorData(to_float(tensors["t10k-images-idx3-ubyte"]),
                        tensors["t10k-labels-idx1-ubyte"].long().to(device), CLASSES),
    )
