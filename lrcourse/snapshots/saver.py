"""Taking snapshots during ``fit`` and writing them to files that are never half written."""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import torch

from ..checks import check_path
from ..callbacks import Callback, FitState
from ..distributed.group import is_main_process
from ..files import write_atomically
from .plan import cycle_ends

SNAPSHOT_PATTERN = "snapshot-{:03d}.pt"
SNAPSHOT_GLOB = "snapshot-*.pt"


@dataclass(frozen=True)
class _Taken:
    """One snapshot: the step, the weights, and where its file went (or why it did not)."""

    step: int
    weights: dict[str, torch.Tensor]
    path: Path | None
    error: str | None


class SnapshotSaver(Callback):
    """Keeps the model's weights at the last step of each SGDR cycle.

    ``schedule`` is a :func:`~lrcourse.schedules.cosine_restarts` schedule (its ``T_0`` and
    ``T_mult`` give the cycle ends). Snapshots go to ``snapshots`` (CPU copies of the
    ``state_dict``), their steps to ``steps`` and, with ``folder``, to files written atomically
    (:func:`save_snapshot`), whose paths go to ``paths``. A folder that already holds snapshots
    is refused rather than overwritten.

    A file that cannot be written (a full disk, a folder deleted mid-run) does not stop
    training: the snapshot stays in memory, its entry in ``paths`` is None, ``failures`` says
    what went wrong, and a ``RuntimeWarning`` is issued. ``snapshots``, ``steps`` and ``paths``
    always have one entry per snapshot taken (``paths`` is empty without ``folder`` and on
    processes other than rank 0); a
    KeyboardInterrupt during a save keeps the snapshot in memory, then propagates. Under
    ``torch.distributed`` every process keeps the (identical) snapshots and only rank 0 writes files.
    """

    def __init__(self, schedule, folder: str | os.PathLike | None = None):
        if not (hasattr(schedule, "T_0") and hasattr(schedule, "T_mult")):
            raise TypeError(f"schedule must be a cosine_restarts schedule (with T_0 and T_mult); got {schedule!r}")
        cycle_ends(schedule.T_0, schedule.T_mult, 0)  # checks T_0 and T_mult now, not at the first step
        self.schedule = schedule
        self.folder = None if folder is None else check_path("folder", folder)
        if self.folder is not None:
            _check_writable(self.folder)
            existing = sorted(path.name for path in self.folder.glob(SNAPSHOT_GLOB))
            if existing:
                # Writing snapshot-001.pt again would overwrite another run's snapshots.
                raise ValueError(f"folder {str(self.folder)!r} already holds snapshots ({', '.join(existing[:3])}"
                                 f"{', ...' if len(existing) > 3 else ''}): pass an empty or new folder")
        # One list, appended to once per snapshot, so that the views below always agree.
        self._taken: list[_Taken] = []
        self._ends: set[int] = set()
        self._writes = self.folder is not None  # False on ranks other than 0 under torch.distributed

    @property
    def snapshots(self) -> list[dict[str, torch.Tensor]]:
        return [taken.weights for taken in self._taken]

    @property
    def steps(self) -> list[int]:
        return [taken.step for taken in self._taken]

    @property
    def paths(self) -> list[Path | None]:
        return [taken.path for taken in self._taken] if self._writes else []

    @property
    def failures(self) -> list[tuple[int, str]]:
        """``(step, error)`` for each snapshot whose file could not be written."""
        return [(taken.step, taken.error) for taken in self._taken if taken.error is not None]

    def on_train_begin(self, state: FitState) -> None:
        total = state.epochs * state.history.steps_per_epoch
        self._ends = set(cycle_ends(self.schedule.T_0, self.schedule.T_mult, total))
        self._writes = self.folder is not None and is_main_process()

    def on_batch_end(self, state: FitState) -> None:
        if state.step not in self._ends:
            return
        weights = {name: tensor.detach().to("cpu", copy=True) for name, tensor in state.model.state_dict().items()}
        path = error = None
        if self._writes:  # every rank holds the same weights; one writes
            target = self.folder / SNAPSHOT_PATTERN.format(len(self._taken) + 1)
            try:
                path = save_snapshot(weights, target)
            except (OSError, RuntimeError) as exc:  # torch.save reports a full disk as a RuntimeError
                error = f"could not write {str(target)!r}: {type(exc).__name__}: {exc}"
                warnings.warn(f"SnapshotSaver {error}; the snapshot is kept in memory and training goes on",
                              RuntimeWarning, stacklevel=2)
            except BaseException:
                self._taken.append(_Taken(state.step, weights, None, f"interrupted while writing {str(target)!r}"))
                raise
        self._taken.append(_Taken(state.step, weights, path, error))


def _check_writable(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".write-test-{os.getpid()}"  # one per process: several may probe one folder
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as error:
        raise ValueError(f"folder {str(folder)!r} is not writable: {error}") from None


def _check_state(label: str, state) -> None:
    """A state_dict: a dict of tensors by name, every floating-point value finite."""
    if not isinstance(state, dict):
        raise TypeError(f"{label} must hold a state_dict (a dict of tensors, as model.state_dict() returns); "
                        f"got {type(state).__name__}")
    for name, tensor in state.items():
        if not isinstance(name, str) or not isinstance(tensor, torch.Tensor):
            raise TypeError(f"{label} must hold a state_dict (a dict of tensors by name); its entry {name!r} is "
                            f"{type(tensor).__name__}: is it a checkpoint? pass the model's state_dict from it")
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
            raise ValueError(f"{label} holds NaN or infinite weights in {name!r}: it comes from a diverged run")


def save_snapshot(weights: dict[str, torch.Tensor], path: str | os.PathLike) -> Path:
    """Write ``weights`` (a state_dict) to ``path`` atomically: to a temporary file, fsynced,
    renamed over ``path``, then the folder fsynced. A crash or power cut leaves either no file
    or the whole file under ``path``, never a partial one."""
    _check_state("weights", weights)
    path = check_path("path", path)
    if not path.parent.is_dir():
        raise ValueError(f"path={str(path)!r}: its folder does not exist")
    return write_atomically(path, lambda f: torch.save(weights, f))


def _read_snapshots(folder) -> list[tuple[str, dict[str, torch.Tensor]]]:
    """The snapshot files in ``folder``, in order, as ``(label naming the file, state_dict)``."""
    folder = check_path("snapshots", folder)
    if not folder.is_dir():
        raise ValueError(f"snapshots={str(folder)!r} is not a folder")
    paths = sorted(folder.glob(SNAPSHOT_GLOB))
    if not paths:
        raise ValueError(f"no snapshot files ({SNAPSHOT_PATTERN.format(1)}, ...) in {str(folder)!r}")
    snapshots = []
    for path in paths:
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as error:  # noqa: BLE001 - any unreadable file gets the same clear message
            raise ValueError(f"snapshot {str(path)!r} is corrupt or not a state_dict ({type(error).__name__})") from None
        label = f"snapshot file {str(path)!r}"
        _check_state(label, state)
        snapshots.append((label, state))
    return snapshots


def load_snapshots(folder: str | os.PathLike) -> list[dict[str, torch.Tensor]]:
    """The snapshots in ``folder``, in order. A file that cannot be read, or that holds
    something other than a state_dict of finite weights, raises an error naming it."""
    return [state for _, state in _read_snapshots(folder)]
