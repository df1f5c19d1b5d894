"""Searches on SQLite across processes: one killed with SIGKILL mid-trial and resumed, two sharing a study.

The workers are forked from the test process (no second import of torch), each a separate process
with its own pid and its own database connections; they log "start LR" and "done LR PID" lines.
"""

import collections
import math
import multiprocessing
import os
import signal
import time

import optuna
import pytest

from lrcourse.search import bayes_search, grid_points, grid_search, load_search, parse_space, random_search, \
    sample_points

STEP_SECONDS = 0.1
SPACE = {"lr": (1e-4, 1.0, "log")}
LR = parse_space(SPACE)
FORK = multiprocessing.get_context("fork")


class Objective:
    """Two 'epochs' of STEP_SECONDS each; with ``ready`` and ``workers``, the first trial of each worker
    waits until that many workers have marked themselves ready, so that all take part."""

    identity = "tests.test_search_workers.Objective"

    def __init__(self, log, ready=None, workers=1):
        self.log, self.ready, self.workers = log, ready, workers

    def write(self, line):
        with open(self.log, "a") as file:  # one short append: two processes' lines never mix
            file.write(line + "\n")

    def __call__(self, lr, report):
        self.write(f"start {lr!r}")
        deadline = time.monotonic() + 60
        while self.ready is not None and len(os.listdir(self.ready)) < self.workers and time.monotonic() < deadline:
            time.sleep(0.02)
        value = -abs(math.log10(lr) + 1.5)
        for epoch in range(2):
            time.sleep(STEP_SECONDS)
            if report(value + 0.1 * epoch, 10 * (epoch + 1)):
                break
        self.write(f"done {lr!r} {os.getpid()}")
        return value


def run(method, url, n, objective):
    if objective.ready is not None:
        open(os.path.join(objective.ready, str(os.getpid())), "w").close()
    {"grid": lambda: grid_search(objective, SPACE, n, storage=url, study_name=method),
     "random": lambda: random_search(objective, SPACE, n, seed=3, storage=url, study_name=method),
     "tpe": lambda: bayes_search(objective, SPACE, n, seed=3, storage=url, study_name=method)}[method]()


def start(*args) -> multiprocessing.Process:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    process = FORK.Process(target=run, args=args)
    process.start()
    return process


def read_log(log):
    lines = log.read_text().splitlines() if log.exists() else []
    starts = [float(line.split()[1]) for line in lines if line.startswith("start")]
    dones = [(float(line.split()[1]), int(line.split()[2])) for line in lines if line.startswith("done")]
    return starts, dones


@pytest.mark.parametrize("method", ["grid", "tpe"])
def test_a_search_killed_mid_trial_resumes_with_no_trial_lost_or_repeated(tmp_path, method):
    url, log, n = f"sqlite:///{tmp_path}/lr.db", tmp_path / "log", 6
    worker = start(method, url, n, Objective(log))
    deadline = time.monotonic() + 240
    while worker.is_alive() and time.monotonic() < deadline:  # kill it inside its third trial
        starts, dones = read_log(log)
        if len(dones) == 2 and len(starts) == 3:
            break
        time.sleep(0.01)
    os.kill(worker.pid, signal.SIGKILL)
    worker.join()
    assert worker.exitcode == -signal.SIGKILL and len(read_log(log)[1]) == 2, read_log(log)
    killed = read_log(log)[0][2]

    resumed = start(method, url, n, Objective(log))
    resumed.join()
    assert resumed.exitcode == 0
    search = load_search(url, method)
    starts, dones = read_log(log)
    done_lrs = [lr for lr, _ in dones]
    assert len(done_lrs) == n and len(set(done_lrs)) == n  # every trial finished, none twice
    assert collections.Counter(starts)[killed] == 2 and len(starts) == n + 1  # only the killed one started again
    assert search.count("complete") == n and search.count("failed") == 1 and search.pending == 0
    assert sorted(t.params["lr"] for t in search.trials if t.state == "complete") == sorted(done_lrs)
    if method == "grid":
        assert sorted(done_lrs) == [p["lr"] for p in grid_points(LR, n)]
    else:  # TPE's random start is random search's first points
        assert {p["lr"] for p in sample_points(LR, 2, 3)} <= set(done_lrs)


def test_two_processes_on_one_sqlite_study_share_its_trials(tmp_path):
    url, log, ready, n = f"sqlite:///{tmp_path}/lr.db", tmp_path / "log", tmp_path / "ready", 10
    ready.mkdir()
    workers = [start("random", url, n, Objective(log, ready, 2)) for _ in range(2)]
    for worker in workers:
        worker.join(300)
        assert worker.exitcode == 0
    starts, dones = read_log(log)
    assert len(starts) == n and sorted(lr for lr, _ in dones) == sorted(p["lr"] for p in sample_points(LR, n, 3))
    by_worker = collections.Counter(pid for _, pid in dones)
    assert sorted(by_worker) == sorted(worker.pid for worker in workers) and sum(by_worker.values()) == n
    search = load_search(url, "random")
    assert search.count("complete") == n and search.count("failed") == 0 and search.pending == 0
