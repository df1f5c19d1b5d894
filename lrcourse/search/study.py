"""A search run on an Optuna study: workers that claim its planned trials, and recovery.

A search is *planned* when its study is created: all its trials go into the study's queue at once
(``study.enqueue_trial``): grid and random points with their parameters fixed, TPE's with the
parameters left for the sampler to choose when a worker starts the trial. Any number of workers
(processes, machines) running the same search on the same storage claim queued trials one at a
time until none is left, so between them they run exactly the planned trials.

A worker that dies (killed, machine lost) leaves its trial *running*. The next worker that looks
notices, because the process is gone (same machine) or its heartbeat stopped for
:data:`GRACE_SECONDS` (any machine), marks the trial failed and queues its parameters again. So a
search resumes where it stopped: no trial lost, none run twice.

SQLite's Python driver starts a transaction only at the first write, so reading "waiting" and
writing "running" is not atomic there: two processes could claim the same trial. On SQLite a
file lock beside the database (``lr.db.lock``) makes claiming atomic; other databases lock the row.
"""

from __future__ import annotations

import contextlib
import math
import os
import socket
import threading
import time
from numbers import Real
from pathlib import Path

import optuna
from optuna.exceptions import StorageInternalError
from optuna.trial import TrialState

from ..checks import ArgumentTypeError
from ..interrupts import deferred_interrupts
from .report import COST, Reporter
from .result import COMPLETE, FAILED, PRUNED, RUNNING, WAITING, Search, TrialRecord
from .space import REPORT, Range
from .storage import SLOT, Plan

#: Seconds between a running trial's heartbeats, and of silence after which it is taken as dead.
HEARTBEAT_SECONDS, GRACE_SECONDS = 10.0, 60.0
#: User attribute of a running trial: its worker, {"id": "host:pid", "beat": time}.
WORKER = "worker"
_STATES = {TrialState.COMPLETE: COMPLETE, TrialState.PRUNED: PRUNED, TrialState.FAIL: FAILED,
           TrialState.RUNNING: RUNNING, TrialState.WAITING: WAITING}
_HOST = socket.gethostname()
#: What a storage raises when a finished trial is updated (Optuna < 4.2: a plain RuntimeError).
FINISHED = getattr(optuna.exceptions, "UpdateFinishedTrialError", RuntimeError)


class _Heartbeat:
    """While a trial runs, stamp it every HEARTBEAT_SECONDS so other workers know it is alive."""

    def __init__(self, storage, trial_id: int):
        self.storage, self.trial_id, self.done = storage, trial_id, threading.Event()
        self.thread = threading.Thread(target=self._beat, daemon=True)

    def __enter__(self):
        self.thread.start()

    def __exit__(self, *exc) -> None:
        self.done.set()
        self.thread.join()

    def _beat(self) -> None:
        while not self.done.wait(HEARTBEAT_SECONDS):
            with contextlib.suppress(StorageInternalError):  # a busy database: the next beat will do
                self.storage.set_trial_user_attr(self.trial_id, WORKER, _stamp())


def run_worker(study: optuna.Study, storage, lock, plan: Plan, objective, space: dict[str, Range],
               takes_report: bool, label: str, on_trial=None) -> None:
    """Claim and run queued trials until none is left (or ``on_trial(search)`` returns True)."""
    study_id = storage.get_study_id_from_name(study.study_name)
    while True:
        recover(study, storage, lock, plan)
        trial_id = _claim(study, storage, lock, study_id)
        if trial_id is None:
            return
        _run_trial(study, storage, trial_id, plan, objective, space, takes_report)
        if on_trial is not None and on_trial(collect(study, plan, label)):
            return


def _claim(study, storage, lock, study_id: int) -> int | None:
    for attempt in range(5):
        try:
            with lock:
                queue = study.get_trials(deepcopy=False, states=(TrialState.WAITING,))
                # In the plan's order: a trial queued again after a failure runs first.
                for waiting in sorted(queue, key=lambda t: (t.user_attrs.get(SLOT, math.inf), t.number)):
                    trial_id = storage.get_trial_id_from_study_id_trial_number(study_id, waiting.number)
                    with contextlib.suppress(FINISHED):
                        if storage.set_trial_state_values(trial_id, TrialState.RUNNING):
                            storage.set_trial_user_attr(trial_id, WORKER, _stamp())
                            return trial_id
                return None
        except StorageInternalError:  # a database busy with another worker: look again
            time.sleep(0.1 * (attempt + 1))
    raise StorageInternalError("could not claim a trial: the database stayed busy")


def _run_trial(study, storage, trial_id: int, plan: Plan, objective, space, takes_report) -> None:
    trial = optuna.Trial(study, trial_id)
    reporter = Reporter(trial)
    with _Heartbeat(storage, trial_id):
        try:
            params = {name: trial.suggest_float(name, r.low, r.high, log=r.log) for name, r in space.items()}
            value = objective(**params, **({REPORT: reporter} if takes_report else {}))
            if reporter.pruned:
                state = TrialState.PRUNED
            elif isinstance(value, bool) or not isinstance(value, Real):
                raise ArgumentTypeError(f"objective must return a number, the value to maximize; it returned "
                                        f"{type(value).__name__} for {params}")
            else:  # NaN or infinite: recorded as failed, as Optuna does, and the search goes on
                state = TrialState.COMPLETE if math.isfinite(value) else TrialState.FAIL
        except optuna.TrialPruned:
            state, value = TrialState.PRUNED, None
        except BaseException:
            # Interrupted, or the objective raised: record the trial as failed and queue it again,
            # so that running the search again retries it. A second Ctrl-C waits for this.
            with deferred_interrupts(raise_after=False):
                _finish(study, storage, trial_id, trial, TrialState.FAIL, None, reporter)
                requeue(study, storage.get_trial(trial_id), plan)
            raise
    _finish(study, storage, trial_id, trial, state, value, reporter)


def _finish(study, storage, trial_id, trial, state, value, reporter: Reporter) -> None:
    storage.set_trial_user_attr(trial_id, COST, reporter.cost())
    if state == TrialState.COMPLETE:
        study.tell(trial, float(value))
    else:
        study.tell(trial, state=state)


def requeue(study: optuna.Study, frozen, plan: Plan) -> None:
    """Queue a failed trial's slot again, with its planned parameters and any the sampler had chosen."""
    slot = frozen.user_attrs.get(SLOT)
    if slot is not None:
        study.enqueue_trial({**plan.slots[slot], **frozen.params}, user_attrs={SLOT: slot})


def recover(study, storage, lock, plan: Plan) -> None:
    """Fail and queue again every running trial whose worker is dead (see the module's docstring)."""
    now = time.time()
    with lock:
        for running in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
            if not _dead(running, now):
                continue
            trial_id = storage.get_trial_id_from_study_id_trial_number(
                storage.get_study_id_from_name(study.study_name), running.number)
            beat = (running.user_attrs.get(WORKER) or {}).get("beat", now)
            try:
                if running.datetime_start is not None:  # it ran until its last heartbeat
                    seconds = max(0.0, beat - running.datetime_start.timestamp())
                    storage.set_trial_user_attr(trial_id, COST, {"examples": 0, **running.user_attrs.get(COST, {}),
                                                                 "seconds": seconds})
                if not storage.set_trial_state_values(trial_id, TrialState.FAIL):
                    continue
            except FINISHED:
                continue  # another worker recovered it first
            requeue(study, running, plan)


def _dead(trial, now: float) -> bool:
    worker = trial.user_attrs.get(WORKER) or {}
    host, _, pid = str(worker.get("id", "")).rpartition(":")
    if host == _HOST and pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid)):
        return True
    beat = worker.get("beat")
    if beat is None and trial.datetime_start is not None:
        beat = trial.datetime_start.timestamp()
    return beat is not None and now - beat > GRACE_SECONDS


def _stamp() -> dict:
    return {"id": f"{_HOST}:{os.getpid()}", "beat": time.time()}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    with contextlib.suppress(OSError):  # a zombie (killed, not yet reaped by its parent) is dead
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0] != "Z"
    return True


def collect(study: optuna.Study, plan: Plan, method: str | None = None) -> Search:
    """The study as a :class:`Search`: ended trials in the order they ended, then the others."""
    records = []
    for trial in study.get_trials(deepcopy=False):
        state, slot, cost = _STATES[trial.state], trial.user_attrs.get(SLOT), trial.user_attrs.get(COST) or {}
        params = dict(trial.params) or (dict(plan.slots[slot]) if slot is not None else {})
        ended = trial.datetime_complete.timestamp() if trial.datetime_complete else None
        records.append(TrialRecord(
            number=trial.number, params=params, state=state,
            value=trial.value if state in (COMPLETE, PRUNED) else None,
            examples=int(cost.get("examples", 0)), seconds=float(cost.get("seconds", 0.0)),
            values=[trial.intermediate_values[step] for step in sorted(trial.intermediate_values)],
            slot=slot, ended=ended))
    records.sort(key=lambda r: (r.ended is None, r.ended or 0.0, r.number))
    return Search(method=method or plan.method, space=plan.space, trials=records, study_name=study.study_name)
