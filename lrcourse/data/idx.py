"""The IDX files FashionMNIST comes in, read with every header checked against the file.

An IDX file is a header (a magic number saying the element type and the number of
dimensions, then each dimension as a big-endian 32-bit integer) followed by the elements.
torchvision's reader checks with bare ``assert``s; these checks name the file and the fault.
"""

from __future__ import annotations

import gzip
import math
import struct
import zlib
from pathlib import Path

import torch

#: Magic numbers: unsigned bytes (0x08) in 3 dimensions (images) or 1 (labels).
MAGIC = {"images": 0x00000803, "labels": 0x00000801}
IMAGE_SHAPE = (28, 28)
NUM_CLASSES = 10


def _dims(prefix: bytes, size: int, path: Path, kind: str) -> tuple[int, ...]:
    """The dimensions the header (the file's first bytes, ``prefix``) declares, checked against
    the file's ``size`` in bytes (uncompressed)."""
    ndim = 3 if kind == "images" else 1
    header = 4 + 4 * ndim
    if size < header:
        raise ValueError(f"{str(path)!r} is too short to be an IDX {kind} file ({size} bytes)")
    magic = int.from_bytes(prefix[:4], "big")
    if magic != MAGIC[kind]:
        raise ValueError(f"{str(path)!r} is not an IDX {kind} file: its magic number is {magic:#010x}, "
                         f"expected {MAGIC[kind]:#010x}")
    dims = struct.unpack(">" + "I" * ndim, prefix[4:header])
    if kind == "images" and dims[1:] != IMAGE_SHAPE:
        raise ValueError(f"{str(path)!r} holds images of {dims[1]}x{dims[2]} pixels; FashionMNIST's are 28x28")
    if dims[0] == 0:
        raise ValueError(f"{str(path)!r} holds no {kind}")
    expected = header + math.prod(dims)
    if size != expected:
        raise ValueError(f"{str(path)!r}: its header says {dims[0]} {kind} ({expected} bytes) but the file holds "
                         f"{size} bytes; it is truncated or damaged: copy or download it again")
    return dims


def check_header(path: Path, kind: str) -> int:
    """Cheap check of an uncompressed IDX file (its header and its size, no full read);
    returns how many images or labels it holds."""
    with open(path, "rb") as f:
        prefix = f.read(16)
    return _dims(prefix, path.stat().st_size, path, kind)[0]


def check_bytes(data: bytes, path: Path, kind: str) -> int:
    """Check the bytes of an IDX file read from ``path``; returns how many images or labels it holds."""
    return _dims(data[:16], len(data), path, kind)[0]


def read_bytes(path: Path) -> bytes:
    """The file's bytes, decompressed if it ends in ``.gz``."""
    if path.suffix != ".gz":
        return path.read_bytes()
    try:
        with gzip.open(path) as f:
            return f.read()
    except (OSError, EOFError, zlib.error) as error:  # gzip.BadGzipFile is an OSError
        raise ValueError(f"{str(path)!r} is not a complete gzip file ({error}); it is truncated or damaged: "
                         "copy or download it again") from None


def parse(data: bytes, path: Path, kind: str) -> torch.Tensor:
    """The uint8 tensor an IDX file's bytes hold: (N, 28, 28) images or (N,) labels in 0..9."""
    dims = _dims(data[:16], len(data), path, kind)
    header = len(data) - math.prod(dims)
    tensor = torch.frombuffer(bytearray(data), dtype=torch.uint8, offset=header).view(dims)
    if kind == "labels" and int(tensor.max()) >= NUM_CLASSES:
        raise ValueError(f"{str(path)!r} holds labels up to {int(tensor.max())}; FashionMNIST's are 0..9")
    return tensor


def read(path: Path, kind: str) -> torch.Tensor:
    """:func:`parse` of the file at ``path`` (plain or ``.gz``)."""
    return parse(read_bytes(path), path, kind)
