"""The progress file: which questions were answered correctly, and when.

``~/.cache/lrcourse/progress.json`` (or ``$LRCOURSE_PROGRESS``) holds
``{lesson: {question: when it was first answered correctly}}``. Nothing in it is ever lost:

- a file that cannot be read, or is not in that shape, is never overwritten: the next save moves
  it aside (``progress.json.unreadable-<time>``, in the same folder) with a warning naming it;
- two notebooks saving at once lose nothing: a save holds a lock (``progress.json.lock``),
  reads the file afresh, adds its answer, writes a temporary file of its own, fsyncs it and
  renames it over the old one (a crash leaves the old file or the new one, never a torn one);
- a file or folder that cannot be written only warns: checks keep working.
"""

from __future__ import annotations

import json
import os
import warnings
from datetime import datetime, timezone
from pathlib import Path

import filelock

from ..files import cache_dir, write_bytes_atomically

#: How long a save waits for another process holding the lock before giving up (with a warning).
LOCK_TIMEOUT_SECONDS = 10.0

_warned: set[str] = set()


def _warn_once(message: str) -> None:
    if message not in _warned:
        _warned.add(message)
        warnings.warn(message, stacklevel=3)


def progress_path() -> Path:
    """``$LRCOURSE_PROGRESS`` if set, else ``progress.json`` in the lrcourse cache folder."""
    return Path(os.environ.get("LRCOURSE_PROGRESS") or cache_dir() / "progress.json")


def _read(path: Path) -> tuple[dict[str, dict[str, str]], str | None]:
    """The progress in ``path`` (empty if there is no file) and, if it cannot be used, why."""
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return {}, None
    except (OSError, ValueError) as error:
        return {}, str(error)
    if not isinstance(data, dict) or not all(
            isinstance(questions, dict) and all(isinstance(when, str) for when in questions.values())
            for questions in data.values()):
        return {}, "not in the expected format"
    return data, None


def load_progress() -> dict[str, dict[str, str]]:
    """``{lesson: {question: when it was first answered correctly}}``; empty if unreadable (with a warning)."""
    path = progress_path()
    data, problem = _read(path)
    if problem:
        _warn_once(f"could not read your exercise progress from {path} ({problem}); showing none. The file is "
                   "kept: the next correct answer moves it aside rather than overwriting it")
    return data


def record_correct(lesson: str, question: str) -> None:
    """Add a correct answer to the progress file, merged with what is there; warn if that fails."""
    path = progress_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with filelock.FileLock(f"{path}.lock", timeout=LOCK_TIMEOUT_SECONDS):
            data, problem = _read(path)
            if problem:
                aside = _move_aside(path)
                warnings.warn(f"your exercise progress file {path} could not be read ({problem}); it was moved to "
                              f"{aside} and a new one started", stacklevel=2)
            answered = data.setdefault(lesson, {})
            if question in answered:
                return
            answered[question] = datetime.now(timezone.utc).isoformat(timespec="seconds")
            write_bytes_atomically(path, json.dumps(data, indent=1, sort_keys=True).encode())
    except (OSError, filelock.Timeout) as error:
        _warn_once(f"could not save your exercise progress to {path} ({error}); checks still work")


def _move_aside(path: Path) -> Path:
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S")
    aside = path.with_name(f"{path.name}.unreadable-{stamp}")
    number = 1
    while aside.exists():
        number += 1
        aside = path.with_name(f"{path.name}.unreadable-{stamp}-{number}")
    path.rename(aside)
    return aside
