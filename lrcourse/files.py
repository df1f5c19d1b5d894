"""Where lrcourse keeps its files, and how it writes them so that nothing is ever half written
(snapshots, the data cache, the exercise progress file: one implementation)."""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import BinaryIO, Callable


def cache_dir() -> Path:
    """Where lrcourse keeps downloaded and unpacked data: ``$XDG_CACHE_HOME/lrcourse``,
    by default ``~/.cache/lrcourse``."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "lrcourse"


def fsync_dir(folder: Path) -> None:
    """Make a rename in ``folder`` durable. Windows cannot open a folder, and needs no such step."""
    if os.name == "nt":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomically(path: str | os.PathLike, write: Callable[[BinaryIO], object]) -> Path:
    """Write a file with ``write(f)`` so that ``path`` holds either its old content or all of the new.

    The data goes to a temporary file of a unique name in the same folder (two writers never
    share one), is flushed and fsynced, then renamed over ``path`` with ``os.replace``; the
    folder is fsynced last, so that after a power cut the name cannot point at an empty file.
    On any error, KeyboardInterrupt included, the temporary file is removed and ``path`` is untouched.
    """
    path = Path(path)
    # "x" creates the file exclusively, with the usual permissions (mkstemp's would be 0600).
    partial = path.with_name(f".{path.name}.{os.getpid()}-{uuid.uuid4().hex[:8]}.partial")
    file = open(partial, "xb")
    try:
        with file as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(partial, path)
    except BaseException:
        try:
            os.unlink(partial)
        except FileNotFoundError:
            pass
        raise
    fsync_dir(path.parent)
    return path


def write_bytes_atomically(path: str | os.PathLike, data: bytes) -> Path:
    """:func:`write_atomically` for a ``bytes`` payload."""
    return write_atomically(path, lambda f: f.write(data))
