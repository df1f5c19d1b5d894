"""Snapshot ensembles (Huang et al. 2017, "Snapshot Ensembles: Train 1, get M for free").

Train once with warm restarts (:func:`lrcourse.schedules.cosine_restarts`); just before
each restart the LR is at its lowest and the model sits in a minimum. :class:`SnapshotSaver`
keeps the weights there; :class:`SnapshotEnsemble` averages the members' predicted
probabilities.
"""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import torch
import torch.nn.functional as F

from .callbacks import Callback, FitState
from .data import TensorData, batches
from .distributed import is_main_process

SNAPSHOT_PATTERN = "snapshot-{:03d}.pt"
SNAPSHOT_GLOB = "snapshot-*.pt"


def cycle_ends(T_0: int, T_mult: int, total_steps: int) -> list[int]:
    """The 0-based steps that end a cycle of SGDR (``T_0``, then each cycle ``T_mult`` times longer)."""
    if isinstance(T_0, bool) or not isinstance(T_0, int) or T_0 < 1:
        raise ValueError(f"T_0 must be an int >= 1; got {T_0!r}")
    if isinstance(T_mult, bool) or not isinstance(T_mult, int) or T_mult < 1:
        raise ValueError(f"T_mult must be an int >= 1; got {T_mult!r}")
    ends, length, end = [], T_0, T_0
    while end <= total_steps:
        ends.append(end - 1)
        length *= T_mult
        end += length
    return ends


@dataclass(frozen=True)
class SnapshotPlan:
    """An SGDR run laid out for ``M`` snapshots: its schedule, length and snapshot steps."""

    schedule: object
    total_steps: int
    snapshot_steps: list[int]
    steps_per_epoch: int

    @property
    def epochs(self) -> float:
        return self.total_steps / self.steps_per_epoch


def snapshot_plan(base_lr: float, T_0: int, T_mult: int = 1, M: int = 5, steps_per_epoch: int = 1,
                  eta_min: float = 0.0) -> SnapshotPlan:
    """The SGDR schedule whose ``M``-th cycle ends the run: cycles of ``T_0``, ``T_0 * T_mult``,
    ... epochs (``steps_per_epoch`` steps each), one snapshot at the end of each."""
    for name, value, low in (("T_0", T_0, 1), ("T_mult", T_mult, 1), ("M", M, 1), ("steps_per_epoch", steps_per_epoch, 1)):
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise ValueError(f"{name} must be an int >= {low}; got {value!r}")
    from .schedules import cosine_restarts

    schedule = cosine_restarts(base_lr=base_lr, T_0=T_0 * steps_per_epoch, T_mult=T_mult, eta_min=eta_min)
    total = T_0 * steps_per_epoch * sum(T_mult ** i for i in range(M))
    return SnapshotPlan(schedule, total, cycle_ends(schedule.T_0, T_mult, total), steps_per_epoch)


class SnapshotSaver(Callback):
    """Keeps the model's weights at the last step of each SGDR cycle.

    ``schedule`` is a :func:`~lrcourse.schedules.cosine_restarts` schedule (its ``T_0`` and
    ``T_mult`` give the cycle ends). Snapshots go to ``snapshots`` (CPU copies of the
    ``state_dict``) and, with ``folder``, to files written atomically: to a temporary name,
    then renamed, so a crash mid-save never leaves a broken snapshot. A folder that already
    holds snapshots is refused rather than overwritten. Under ``torch.distributed`` every process
    keeps the (identical) snapshots in memory and only rank 0 writes the files.
    """

    def __init__(self, schedule, folder: str | os.PathLike | None = None):
        if not (hasattr(schedule, "T_0") and hasattr(schedule, "T_mult")):
            raise ValueError(f"schedule must be a cosine_restarts schedule (with T_0 and T_mult); got {schedule!r}")
        self.schedule = schedule
        self.folder = None if folder is None else Path(folder)
        if self.folder is not None:
            _check_writable(self.folder)
            existing = sorted(path.name for path in self.folder.glob(SNAPSHOT_GLOB))
            if existing:
                # Writing snapshot-001.pt again would overwrite another run's snapshots.
                raise ValueError(f"folder {str(self.folder)!r} already holds snapshots ({', '.join(existing[:3])}"
                                 f"{', ...' if len(existing) > 3 else ''}): pass an empty or new folder")
        self.snapshots: list[dict[str, torch.Tensor]] = []
        self.steps: list[int] = []
        self.paths: list[Path] = []
        self._ends: set[int] = set()

    def on_train_begin(self, state: FitState) -> None:
        total = state.epochs * state.history.steps_per_epoch
        self._ends = set(cycle_ends(self.schedule.T_0, self.schedule.T_mult, total))

    def on_batch_end(self, state: FitState) -> None:
        if state.step in self._ends:
            weights = {name: tensor.detach().to("cpu", copy=True) for name, tensor in state.model.state_dict().items()}
            self.snapshots.append(weights)
            self.steps.append(state.step)
            if self.folder is not None and is_main_process():
                self.paths.append(save_snapshot(weights, self.folder / SNAPSHOT_PATTERN.format(len(self.snapshots))))


def _check_writable(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".write-test-{os.getpid()}"  # one per process: several may probe the same folder
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as error:
        raise ValueError(f"folder {str(folder)!r} is not writable: {error}") from None


def save_snapshot(weights: dict[str, torch.Tensor], path: Path) -> Path:
    """Write ``weights`` to ``path`` atomically (a temporary file, then a rename)."""
    partial = path.with_name(path.name + ".partial")
    torch.save(weights, partial)
    os.replace(partial, path)
    return path


def load_snapshots(folder: str | os.PathLike) -> list[dict[str, torch.Tensor]]:
    """The snapshots in ``folder``, in order; a file that cannot be read raises ValueError naming it."""
    paths = sorted(Path(folder).glob(SNAPSHOT_GLOB))
    if not paths:
        raise ValueError(f"no snapshot files ({SNAPSHOT_PATTERN.format(1)}, ...) in {str(folder)!r}")
    snapshots = []
    for path in paths:
        try:
            snapshots.append(torch.load(path, map_location="cpu", weights_only=True))
        except Exception as error:  # noqa: BLE001 - any unreadable file gets the same clear message
            raise ValueError(f"snapshot {str(path)!r} is corrupt or not a state_dict ({type(error).__name__})") from None
    return snapshots


@dataclass
class EnsembleReport:
    """Loss and accuracy of each member and of the ensemble (averaged probabilities)."""

    members: list[dict[str, float]]
    ensemble: dict[str, float]

    @property
    def best_member(self) -> dict[str, float]:
        return max(self.members, key=lambda metrics: metrics["accuracy"])

    @property
    def gain(self) -> float:
        """Ensemble accuracy minus the best member's, in accuracy units (0.01 = one point)."""
        return self.ensemble["accuracy"] - self.best_member["accuracy"]


class SnapshotEnsemble:
    """An ensemble of snapshots of one architecture; predicts by averaging probabilities.

    ``snapshots`` is a list of ``state_dict``s or a folder written by :class:`SnapshotSaver`;
    ``model_factory()`` builds the architecture; ``last_k`` keeps only the last k snapshots.
    """

    def __init__(self, snapshots: Sequence[dict] | str | os.PathLike, model_factory: Callable[[], torch.nn.Module],
                 last_k: int | None = None, device=None):
        states = load_snapshots(snapshots) if isinstance(snapshots, (str, os.PathLike)) else list(snapshots)
        if not states:
            raise ValueError("snapshots must hold at least one snapshot")
        if last_k is not None:
            if isinstance(last_k, bool) or not isinstance(last_k, int) or not 1 <= last_k <= len(states):
                raise ValueError(f"last_k must be an int from 1 to {len(states)}; got {last_k!r}")
            states = states[-last_k:]
        self.members = []
        for index, state in enumerate(states):
            model = model_factory()
            try:
                model.load_state_dict(copy.deepcopy(state))
            except (RuntimeError, KeyError) as error:
                raise ValueError(f"snapshot {index} does not match the model built by model_factory: "
                                 f"{str(error).splitlines()[0]}") from None
            self.members.append(model.to(device).eval() if device is not None else model.eval())

    @torch.no_grad()
    def member_probabilities(self, x: torch.Tensor) -> torch.Tensor:
        """Softmax outputs of every member, shape (members, N, classes)."""
        return torch.stack([F.softmax(member(x), dim=1) for member in self.members])

    def predict_proba(self, x: torch.Tensor) -> torch.Tensor:
        """The members' probabilities, averaged."""
        return self.member_probabilities(x).mean(0)

    @torch.no_grad()
    def disagreement(self, data: TensorData, batch_size: int = 1000) -> float:
        """How often two members predict different classes: the fraction of examples on which
        a pair disagrees, averaged over all pairs (0 for a single member)."""
        count = len(self.members)
        if count < 2:
            return 0.0
        differing = 0.0
        for x, _ in batches(data, batch_size):
            predictions = self.member_probabilities(x.to(_device(self.members[0]))).argmax(2)
            differing += float((predictions[:, None] != predictions[None]).float().sum()) / 2
        return differing / (count * (count - 1) / 2) / len(data)

    def evaluate(self, data: TensorData, batch_size: int = 1000) -> EnsembleReport:
        """Each member's and the ensemble's loss (negative log-likelihood) and accuracy on ``data``."""
        count = len(self.members)
        nll, correct = torch.zeros(count + 1), torch.zeros(count + 1)
        for x, y in batches(data, batch_size):
            probabilities = self.member_probabilities(x.to(_device(self.members[0])))
            probabilities = torch.cat([probabilities, probabilities.mean(0, keepdim=True)]).cpu()
            picked = probabilities[:, torch.arange(len(y)), y.cpu()]
            nll += -picked.clamp_min(1e-12).log().sum(1)
            correct += (probabilities.argmax(2) == y.cpu()).sum(1)
        metrics = [{"loss": float(n / len(data)), "accuracy": float(c / len(data))} for n, c in zip(nll, correct)]
        return EnsembleReport(members=metrics[:-1], ensemble=metrics[-1])


def _device(model: torch.nn.Module) -> torch.device:
    return next(model.parameters()).device
