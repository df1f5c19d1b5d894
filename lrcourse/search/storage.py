"""Where a search lives: its plan, the Optuna storage and study it runs on.

A study is created once per plan (the search's method, objective, space, seed and pruner) with all
its trials queued; running the same search again, from any process, loads that study and resumes it,
after checking that it was created for the same plan. :mod:`~lrcourse.search.study` runs the trials.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import optuna
from filelock import FileLock
from optuna.exceptions import DuplicatedStudyError

from ..checks import ArgumentTypeError

#: Seconds a worker waits for a study that another worker is creating.
PLAN_WAIT_SECONDS = 30.0
#: User attributes: the study's plan; a trial's slot in it.
PLAN, SLOT = "lrcourse.search", "slot"


@dataclass(frozen=True)
class Plan:
    """What a study was created for: the search ``method``, the ``objective``'s identity, the
    ``space`` (JSON form), the ``seed``, the ``pruner``'s class name and, per trial, the parameters
    fixed in advance (``{}`` where the sampler chooses)."""

    method: str
    objective: str
    space: dict
    seed: int | None
    pruner: str | None
    slots: tuple

    def to_dict(self) -> dict:
        return {"method": self.method, "objective": self.objective, "space": self.space, "seed": self.seed,
                "pruner": self.pruner, "slots": [dict(slot) for slot in self.slots]}


def open_storage(storage):
    """``(storage, lock)``: an Optuna storage for None (in memory), a database URL or a storage
    object, and the lock that makes claiming a trial atomic (a file lock for SQLite)."""
    if storage is None:
        return optuna.storages.InMemoryStorage(), contextlib.nullcontext()
    if isinstance(storage, optuna.storages.BaseStorage):
        url = getattr(storage, "url", None)
        path = sqlite_path(url) if isinstance(url, str) else None
        return storage, FileLock(f"{path}.lock") if path is not None else contextlib.nullcontext()
    if not isinstance(storage, str):
        raise ArgumentTypeError(f"storage must be None, a database URL such as 'sqlite:///lr.db', or an Optuna "
                                f"storage; got {type(storage).__name__}")
    path = sqlite_path(storage)
    lock = FileLock(f"{path}.lock") if path is not None else contextlib.nullcontext()
    # SQLite: wait for another process's write instead of failing at once.
    engine = {"connect_args": {"timeout": 60}} if path is not None else None
    try:
        with lock:
            return optuna.storages.RDBStorage(storage, engine_kwargs=engine), lock
    except Exception as error:  # noqa: BLE001 - any failure to open is a bad storage argument
        raise ValueError(f"storage {storage!r} cannot be opened: {type(error).__name__}: {error}") from error


def sqlite_path(url: str) -> Path | None:
    """The file of a ``sqlite:///`` URL, checked to be writable; None for other databases."""
    if "://" not in url:
        raise ValueError(f"storage must be a database URL such as 'sqlite:///lr.db' or "
                         f"'postgresql://user:password@host/db'; got {url!r}")
    if not url.startswith("sqlite:///"):
        return None
    path = Path(url[len("sqlite:///"):].split("?")[0])
    if not path.name or path.name == ":memory:" or path.is_dir():
        raise ValueError(f"storage must name a database file, e.g. 'sqlite:///lr.db' (in-memory SQLite keeps "
                         f"nothing: use storage=None); got {url!r}")
    folder = path.absolute().parent
    try:
        if not folder.is_dir():
            raise OSError(f"{folder} is not a folder")
        with tempfile.TemporaryFile(dir=folder):
            pass  # SQLite writes a journal beside the file: the folder must take new files
        if path.exists():
            with open(path, "r+b"):
                pass
    except OSError as error:
        raise ValueError(f"storage {url!r} is not writable: {error}") from None
    return path


def default_name(plan: Plan) -> str:
    """A study name derived from the plan: the same search gets the same name, so running it again resumes."""
    digest = hashlib.sha256(json.dumps(plan.to_dict(), sort_keys=True).encode()).hexdigest()[:12]
    return f"{plan.method}-{digest}"


def open_study(storage, lock, study_name: str, plan: Plan, sampler, pruner) -> optuna.Study:
    """Create the study and queue its planned trials, or load it if it exists and was created for
    the same plan (else ``ValueError``, the stored study left as it was)."""
    with lock:
        try:
            study = optuna.create_study(storage=storage, study_name=study_name, direction="maximize",
                                        sampler=sampler, pruner=pruner)
        except DuplicatedStudyError:
            study = optuna.load_study(study_name=study_name, storage=storage, sampler=sampler, pruner=pruner)
            _check_same_plan(study, plan, _wait_for_plan(study))
            return study
        for slot, params in enumerate(plan.slots):
            study.enqueue_trial(dict(params), user_attrs={SLOT: slot})
        study.set_user_attr(PLAN, plan.to_dict())  # last: a worker that loads the study waits for it
    return study


def _wait_for_plan(study: optuna.Study) -> dict:
    """The plan stored in ``study``, once the worker creating it has stored it."""
    deadline = time.monotonic() + PLAN_WAIT_SECONDS
    while PLAN not in study.user_attrs:
        trials = study.get_trials(deepcopy=False)
        foreign = trials and not any(trial.user_attrs.get(SLOT) is not None for trial in trials)
        if foreign or time.monotonic() > deadline:
            raise ValueError(f"study {study.study_name!r} was not created by lrcourse.search; choose another "
                             f"study_name (the stored study was left as it was)")
        time.sleep(0.2)
    return study.user_attrs[PLAN]


def _check_same_plan(study: optuna.Study, plan: Plan, stored: dict) -> None:
    wanted = plan.to_dict()
    for key in ("objective", "space", "method", "seed", "pruner", "slots"):
        if stored.get(key) != wanted[key]:
            what = ("planned trials" if key == "slots" else key)
            shown = (f"{len(stored.get(key) or [])} vs {len(wanted[key])} trials, or other points"
                     if key == "slots" else f"{stored.get(key)!r}, this search's is {wanted[key]!r}")
            raise ValueError(f"study {study.study_name!r} was created by another search: its {what} differ: {shown}. "
                             f"Use another study_name for this search; the stored study was left as it was")
