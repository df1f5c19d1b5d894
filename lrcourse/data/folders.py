"""Image folders as :class:`TensorData`: your own pictures in torchvision's ``ImageFolder``
layout (one sub-folder per class), decoded once and cached; and a small sample folder
written from FashionMNIST, for learners (and CI) without data of their own.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import uuid
import warnings
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps

from ..checks import check_bool, check_int, check_path
from .fashion import CLASSES, _locate, _read_all
from ..files import cache_dir, write_bytes_atomically
from .tensors import TensorData

#: Bump when the decoding changes, so that older cache entries are not used.
DECODE_VERSION = 1
SAMPLE_MARKER = ".lrcourse-sample.json"


def _visible(path: Path) -> bool:
    # Hidden names are skipped: Jupyter's .ipynb_checkpoints would otherwise become a class.
    return not path.name.startswith(".")


def _listing(root: Path) -> dict[str, list[Path]]:
    """Each class folder's files (recursively, sorted), as torchvision's ImageFolder finds them."""
    folders = sorted((p for p in root.iterdir() if p.is_dir() and _visible(p)), key=lambda p: p.name)
    if not folders:
        raise ValueError(f"path={str(root)!r} holds no class folders: expected one sub-folder of images per "
                         "class (torchvision's ImageFolder layout), e.g. path/cat/1.jpg, path/dog/2.jpg")
    if len(folders) == 1:
        raise ValueError(f"path={str(root)!r} holds one class folder ({folders[0].name!r}); a classifier needs "
                         "at least 2 classes, one sub-folder each")
    listing = {}
    for folder in folders:
        files = []
        for parent, dirs, names in os.walk(folder, followlinks=True):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            files += [Path(parent, name) for name in sorted(names) if not name.startswith(".")]
        listing[folder.name] = files
    empty = [name for name, files in listing.items() if not files]
    if empty:
        raise ValueError(f"path={str(root)!r}: class folder(s) {empty} hold no files")
    return listing


def _key(root: Path, listing: dict[str, list[Path]], size: int, grayscale: bool, max_per_class) -> str:
    """A hash of what decoding depends on: the settings and every file's name, size and mtime."""
    digest = hashlib.sha256(json.dumps([DECODE_VERSION, size, grayscale, max_per_class]).encode())
    for files in listing.values():
        for path in files:
            try:
                stat = path.stat()
                digest.update(f"{path.relative_to(root).as_posix()}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
            except OSError:  # a broken link: it will be skipped as unreadable
                digest.update(f"{path.relative_to(root).as_posix()}\0missing\n".encode())
    return digest.hexdigest()[:32]


def _decode(path: Path, size: int, grayscale: bool) -> np.ndarray | None:
    """One image as uint8 (size, size) or (size, size, 3); None if it is not a readable image."""
    try:
        with Image.open(path) as image:
            image = ImageOps.exif_transpose(image)  # phone photos store their rotation apart
            image = image.convert("L" if grayscale else "RGB")
            return np.asarray(image.resize((size, size), Image.Resampling.BILINEAR))
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        return None


def _decode_all(root: Path, listing, size, grayscale, max_per_class) -> dict:
    images, labels, skipped = [], [], []
    for label, (name, files) in enumerate(listing.items()):
        kept = 0
        for path in files:
            if max_per_class is not None and kept == max_per_class:
                break
            array = _decode(path, size, grayscale)
            if array is None:
                skipped.append(path.relative_to(root).as_posix())
                continue
            images.append(array)
            labels.append(label)
            kept += 1
        if kept == 0:
            raise ValueError(f"path={str(root)!r}: class folder {name!r} holds no readable image "
                             f"({len(files)} files, none of them an image PIL can open)")
    x = torch.from_numpy(np.stack(images))
    x = x.unsqueeze(1) if grayscale else x.permute(0, 3, 1, 2).contiguous()
    return {"x": x, "y": torch.tensor(labels, dtype=torch.int64), "classes": list(listing),
            "skipped": len(skipped), "skipped_examples": skipped[:3]}


def _load_cached(path: Path, channels: int, size: int) -> dict | None:
    """The cache entry, or None when it is missing or not what this call would decode."""
    try:
        entry = torch.load(path, map_location="cpu", weights_only=True)
        x, y, classes = entry["x"], entry["y"], entry["classes"]
        if (x.dtype == torch.uint8 and x.shape[1:] == (channels, size, size) and len(x) == len(y)
                and int(y.min()) >= 0 and int(y.max()) < len(classes) and isinstance(entry["skipped"], int)):
            return entry
    except Exception:  # noqa: BLE001 - a damaged or foreign cache entry is decoded again, never trusted
        pass
    return None


def from_image_folder(path: str | os.PathLike, size: int = 28, grayscale: bool = True,
                      max_per_class: int | None = None) -> TensorData:
    """Images in class folders (``path/cat/1.jpg``, ``path/dog/2.png``, ...: torchvision's
    ``ImageFolder`` layout) as :class:`TensorData` on the CPU, with ``classes`` the folder names
    in sorted order (label ``k`` is ``classes[k]``).

    Every image is decoded by PIL, turned upright (EXIF), converted to grayscale (1 channel) or
    RGB (3), resized to ``size`` x ``size`` pixels (the aspect ratio is not kept) and scaled to
    [0, 1]: ``x`` has shape (N, 1 or 3, size, size). Examples come class by class, in sorted file
    order; shuffle or split them before training. With ``max_per_class``, only the first that
    many readable images of each class. Files that are not readable images are skipped and
    counted in one warning. Hidden files and folders (names starting with ".") are ignored.

    The result is cached in ``cache_dir()/image-folders``, keyed by the settings and every file's
    name, size and modification time: a second call on an unchanged folder reads the cache
    instead of decoding. Change, add or remove a file and the folder is decoded again.

    Raises:
        ValueError: ``path`` does not exist, is not a folder, holds fewer than 2 class folders,
            or a class folder holds no readable image.
    """
    root = check_path("path", path)
    size = check_int("size", size, low=1)
    check_bool("grayscale", grayscale)
    if max_per_class is not None:
        max_per_class = check_int("max_per_class", max_per_class, low=1)
    if not root.exists():
        raise ValueError(f"path={str(root)!r} does not exist")
    if not root.is_dir():
        raise ValueError(f"path={str(root)!r} is a file; pass the folder that holds one sub-folder per class")
    listing = _listing(root)
    cached = cache_dir() / "image-folders" / f"{_key(root, listing, size, grayscale, max_per_class)}.pt"
    entry = _load_cached(cached, 1 if grayscale else 3, size)
    if entry is None:
        entry = _decode_all(root, listing, size, grayscale, max_per_class)
        buffer = io.BytesIO()
        torch.save(entry, buffer)
        cached.parent.mkdir(parents=True, exist_ok=True)
        write_bytes_atomically(cached, buffer.getvalue())
    if entry["skipped"]:
        warnings.warn(f"from_image_folder skipped {entry['skipped']} file(s) in {str(root)!r} that are not "
                      f"readable images, e.g. {', '.join(entry['skipped_examples'])}", stacklevel=2)
    return TensorData(entry["x"].float().div_(255), entry["y"], tuple(entry["classes"]))


def _sample_names(classes: int) -> list[str]:
    """Folder names that sort in FashionMNIST's label order: '0-t-shirt-top', '1-trouser', ..."""
    return [f"{k}-{CLASSES[k].lower().replace('/', '-').replace(' ', '-')}" for k in range(classes)]


def _marker(folder: Path) -> dict | None:
    """The settings of the sample lrcourse wrote into ``folder``, or None if it wrote none there."""
    try:
        marker = json.loads((folder / SAMPLE_MARKER).read_text())
        return marker if isinstance(marker, dict) else None
    except (OSError, ValueError):
        return None


def _is_complete_sample(folder: Path, request: dict) -> bool:
    """Whether ``folder`` holds the whole sample with these settings."""
    marker = _marker(folder)
    if marker is None or {key: marker.get(key) for key in request} != request:
        return False
    names = _sample_names(request["classes"])
    return all(len(list((folder / name).glob("*.png"))) == request["per_class"] for name in names)


def write_sample_folder(path: str | os.PathLike, classes: int = 3, per_class: int = 200) -> Path:
    """Write a small image folder from FashionMNIST: ``per_class`` PNG images (28 x 28,
    grayscale) for each of its first ``classes`` classes, the first such images of the training
    set, in folders named ``0-t-shirt-top``, ``1-trouser``, ... Returns the folder's path.

    The same arguments always write the same images, and a folder that already holds this
    whole sample is left as it is. The folder is built under a temporary name and then renamed
    into place, so it is never half written. A non-empty folder is refused unless it holds an
    earlier sample (its marker file ``.lrcourse-sample.json``), which is replaced.

    Example:
        >>> data = from_image_folder(write_sample_folder("fashion-sample"))   # 600 images, 3 classes
    """
    folder = check_path("path", path)
    classes = check_int("classes", classes, low=2, high=len(CLASSES))
    per_class = check_int("per_class", per_class, low=1, high=6000)
    request = {"classes": classes, "per_class": per_class, "version": 1}
    if folder.exists() and not folder.is_dir():
        raise ValueError(f"path={str(folder)!r} is a file; pass a new or empty folder")
    if folder.is_dir():
        if _is_complete_sample(folder, request):
            return folder
        if any(folder.iterdir()) and _marker(folder) is None:
            raise ValueError(f"path={str(folder)!r} is not empty and is not a sample folder lrcourse wrote: "
                             "pass a new or empty folder, so that nothing of yours is overwritten")
    tensors = _read_all(_locate(None, download=True))
    images, labels = tensors["train-images-idx3-ubyte"].numpy(), tensors["train-labels-idx1-ubyte"].numpy()
    picked = [np.flatnonzero(labels == label)[:per_class] for label in range(classes)]
    if min(map(len, picked)) < per_class:
        raise ValueError(f"per_class must be at most {min(map(len, picked))}, the images of the rarest class; "
                         f"got {per_class}")
    folder.parent.mkdir(parents=True, exist_ok=True)
    partial = folder.with_name(f".{folder.name}.{os.getpid()}-{uuid.uuid4().hex[:8]}.partial")
    try:
        for name, indices in zip(_sample_names(classes), picked):
            (partial / name).mkdir(parents=True)
            for i, index in enumerate(indices):
                Image.fromarray(images[index]).save(partial / name / f"{i:04d}.png")
        write_bytes_atomically(partial / SAMPLE_MARKER, json.dumps(request).encode())
        _swap_into_place(partial, folder, request)
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    return folder


def _swap_into_place(partial: Path, folder: Path, request: dict) -> None:
    """Rename the finished ``partial`` folder to ``folder``, moving an earlier sample (or an
    empty folder) out of the way first."""
    old = None
    if folder.is_dir():
        if any(folder.iterdir()):
            old = folder.with_name(f".{folder.name}.{os.getpid()}-{uuid.uuid4().hex[:8]}.old")
            os.rename(folder, old)
        else:
            folder.rmdir()
    try:
        os.rename(partial, folder)
    except OSError:
        # Another process put a folder there meanwhile: fine if it is this same sample.
        if not _is_complete_sample(folder, request):
            if old is not None and not folder.exists():
                os.rename(old, folder)  # put the earlier sample back
            raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
