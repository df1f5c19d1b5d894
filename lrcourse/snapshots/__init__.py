"""Snapshot ensembles (Huang et al. 2017, "Snapshot Ensembles: Train 1, get M for free").

Train once with warm restarts (:func:`lrcourse.schedules.cosine_restarts`); just before
each restart the LR is at its lowest and the model sits in a minimum. :class:`SnapshotSaver`
keeps the weights there; :class:`SnapshotEnsemble` averages the members' predicted
probabilities.
"""

from .ensemble import EnsembleReport, SnapshotEnsemble
from .plan import SnapshotPlan, cycle_ends, snapshot_plan, snapshot_plan_for
from .saver import SNAPSHOT_GLOB, SNAPSHOT_PATTERN, SnapshotSaver, load_snapshots, save_snapshot

__all__ = [
    "SNAPSHOT_GLOB",
    "SNAPSHOT_PATTERN",
    "EnsembleReport",
    "SnapshotEnsemble",
    "SnapshotPlan",
    "SnapshotSaver",
    "cycle_ends",
    "load_snapshots",
    "save_snapshot",
    "snapshot_plan",
    "snapshot_plan_for",
]
