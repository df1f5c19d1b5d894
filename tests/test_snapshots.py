import math
import os
import stat

import pytest
import torch
import torch.nn.functional as F

import lrcourse
import lrcourse.schedules as S
import lrcourse.snapshots.saver as saver_module
from lrcourse.callbacks import FitState
from lrcourse.experiments import train_snapshot_ensemble, train_with_schedule
from lrcourse.plots import plot_snapshot_plan
from lrcourse.snapshots import (SnapshotEnsemble, SnapshotSaver, cycle_ends, load_snapshots,
                                save_snapshot, snapshot_plan, snapshot_plan_for)
from lrcourse.train import History


def test_cycle_ends():
    assert cycle_ends(10, 1, 35) == [9, 19, 29]
    assert cycle_ends(10, 2, 70) == [9, 29, 69]
    with pytest.raises(ValueError, match="T_0 must be"):
        cycle_ends(0, 1, 10)
    with pytest.raises(ValueError, match="T_mult must be"):
        cycle_ends(5, 0, 10)


def test_saver_keeps_one_snapshot_per_cycle_in_memory_and_on_disk(fmnist, tmp_path):
    schedule = S.cosine_restarts(base_lr=0.1, T_0=5)
    saver = SnapshotSaver(schedule, folder=tmp_path / "snaps")
    run = train_with_schedule(fmnist.train[:640], schedule, epochs=2, batch_size=64, callbacks=[saver])
    assert saver.steps == [4, 9, 14, 19] and len(saver.snapshots) == 4
    assert [p.name for p in saver.paths] == [f"snapshot-00{i}.pt" for i in range(1, 5)]
    assert not list((tmp_path / "snaps").glob("*.partial"))
    last = {k: v for k, v in run.model.state_dict().items()}
    for name, tensor in load_snapshots(tmp_path / "snaps")[-1].items():
        assert torch.equal(tensor, last[name])


def test_a_crash_between_write_and_rename_leaves_earlier_snapshots_readable(tmp_path, monkeypatch):
    weights = lrcourse.MLP(hidden=4).state_dict()
    save_snapshot(weights, tmp_path / "snapshot-001.pt")

    def crash(src, dst):
        raise OSError("killed")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="killed"):
        save_snapshot(weights, tmp_path / "snapshot-002.pt")
    monkeypatch.undo()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["snapshot-001.pt"]  # no partial file left behind
    assert len(load_snapshots(tmp_path)) == 1


def test_save_fsyncs_the_file_before_the_rename_and_the_folder_after(tmp_path, monkeypatch):
    calls, real_fsync, real_replace = [], os.fsync, os.replace

    def fsync(fd):
        calls.append("fsync folder" if stat.S_ISDIR(os.fstat(fd).st_mode) else "fsync file")
        real_fsync(fd)

    def replace(src, dst):
        calls.append("replace")
        real_replace(src, dst)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    save_snapshot(lrcourse.MLP(hidden=4).state_dict(), tmp_path / "snapshot-001.pt")
    assert calls == ["fsync file", "replace", "fsync folder"]


def test_a_failed_save_keeps_the_snapshot_in_memory_and_training_going(fmnist, tmp_path, monkeypatch):
    schedule = S.cosine_restarts(base_lr=0.1, T_0=5)
    saver = SnapshotSaver(schedule, folder=tmp_path / "snaps")
    real_save, count = saver_module.save_snapshot, []

    def disk_full_once(weights, path):
        count.append(path)
        if len(count) == 2:
            raise OSError(28, "No space left on device")
        return real_save(weights, path)

    monkeypatch.setattr(saver_module, "save_snapshot", disk_full_once)
    with pytest.warns(RuntimeWarning, match="could not write .*snapshot-002.pt.*No space left"):
        run = train_with_schedule(fmnist.train[:640], schedule, epochs=2, batch_size=64, callbacks=[saver])
    assert run.history.epochs == 2 and saver.steps == [4, 9, 14, 19]
    assert len(saver.snapshots) == len(saver.paths) == len(saver.steps) == 4
    assert [p and p.name for p in saver.paths] == ["snapshot-001.pt", None, "snapshot-003.pt", "snapshot-004.pt"]
    assert [step for step, _ in saver.failures] == [9] and "No space left" in saver.failures[0][1]
    assert sorted(p.name for p in (tmp_path / "snaps").iterdir()) == ["snapshot-001.pt", "snapshot-003.pt",
                                                                      "snapshot-004.pt"]


def test_an_interrupt_during_a_save_keeps_the_snapshot_and_the_lists_in_step(tmp_path, monkeypatch):
    model = lrcourse.MLP(hidden=4)
    saver = SnapshotSaver(S.cosine_restarts(base_lr=0.1, T_0=1), folder=tmp_path)
    state = FitState(model=model, optimizer=torch.optim.SGD(model.parameters(), lr=0.1),
                     history=History(steps_per_epoch=1), epochs=3)
    saver.on_train_begin(state)
    saver.on_batch_end(state)

    def interrupted(weights, path):
        raise KeyboardInterrupt

    monkeypatch.setattr(saver_module, "save_snapshot", interrupted)
    state.step = 1
    with pytest.raises(KeyboardInterrupt):
        saver.on_batch_end(state)
    assert len(saver.snapshots) == len(saver.paths) == len(saver.steps) == 2
    assert saver.paths[1] is None and "interrupted" in saver.failures[0][1]
    assert SnapshotSaver(S.cosine_restarts(base_lr=0.1, T_0=1)).paths == []  # no folder: no paths


def test_corrupt_or_foreign_snapshots_give_clear_errors(tmp_path):
    save_snapshot(lrcourse.MLP(hidden=4).state_dict(), tmp_path / "snapshot-001.pt")
    (tmp_path / "snapshot-002.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="snapshot-002.pt' is corrupt"):
        load_snapshots(tmp_path)
    with pytest.raises(ValueError, match=r"snapshots\[0\] does not match the model"):
        SnapshotEnsemble([lrcourse.MLP(hidden=4).state_dict()], lambda: lrcourse.MLP(hidden=8))
    with pytest.raises(ValueError, match="is not a folder"):
        load_snapshots(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="no snapshot files"):
        load_snapshots(tmp_path / "empty")


def test_unwritable_folder(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(ValueError, match="is not writable"):
        SnapshotSaver(S.cosine_restarts(base_lr=0.1, T_0=5), folder=blocker / "snaps")
    with pytest.raises(TypeError, match="cosine_restarts"):
        SnapshotSaver(S.cosine(base_lr=0.1, total_steps=10))


def test_ensemble_averages_probabilities(fmnist):
    members = []
    for seed in range(3):
        torch.manual_seed(seed)
        members.append(lrcourse.MLP(hidden=16).state_dict())
    ensemble = SnapshotEnsemble(members, lambda: lrcourse.MLP(hidden=16))
    x = fmnist.val[:50].x
    expected = torch.stack([F.softmax(m(x), 1) for m in ensemble.members]).mean(0)
    torch.testing.assert_close(ensemble.predict_proba(x), expected)
    report = ensemble.evaluate(fmnist.val[:200])
    assert len(report.members) == 3
    accuracy = (expected.argmax(1) == fmnist.val[:50].y).float().mean().item()
    assert SnapshotEnsemble(members, lambda: lrcourse.MLP(hidden=16)).evaluate(fmnist.val[:50]).ensemble["accuracy"] \
        == pytest.approx(accuracy)
    assert report.gain == report.ensemble["accuracy"] - max(m["accuracy"] for m in report.members)
    last_two = SnapshotEnsemble(members, lambda: lrcourse.MLP(hidden=16), last_k=2)
    assert len(last_two.members) == 2
    with pytest.raises(ValueError, match="last_k must be"):
        SnapshotEnsemble(members, lambda: lrcourse.MLP(hidden=16), last_k=4)


def test_snapshot_plan_lays_out_m_cycles():
    plan = snapshot_plan(base_lr=0.1, T_0=2, T_mult=2, M=3, steps_per_epoch=10)
    assert plan.total_steps == 140 and plan.epochs == 14
    assert plan.snapshot_steps == [19, 59, 139]
    assert plan.schedule(20) == 0.1 and plan.schedule(19) < 0.001
    with pytest.raises(ValueError, match="M must be an int >= 1"):
        snapshot_plan(base_lr=0.1, T_0=2, M=0)
    with pytest.raises(ValueError, match="T_0 must be an int >= 1"):
        snapshot_plan(base_lr=0.1, T_0=0)


def test_snapshot_plan_for_fills_the_budget_with_m_cycles():
    plan = snapshot_plan_for(epochs=8, base_lr=0.1, M=3, T_mult=2, steps_per_epoch=14)
    assert plan.total_steps == 112 and plan.epochs == 8
    assert plan.snapshot_steps == [15, 47, 111]                      # cycles of 16, 32 and 64 steps
    assert plan.schedule.T_0 == 16 and plan.schedule(16) == 0.1 and plan.schedule(15) < 0.01
    # with T_mult = 1 it is snapshot_plan with T_0 = epochs / M
    same = snapshot_plan(base_lr=0.1, T_0=2, M=4, steps_per_epoch=14)
    equal_cycles = snapshot_plan_for(epochs=8, base_lr=0.1, M=4, steps_per_epoch=14)
    assert equal_cycles.snapshot_steps == same.snapshot_steps and equal_cycles.total_steps == same.total_steps
    assert [equal_cycles.schedule(t) for t in range(112)] == [same.schedule(t) for t in range(112)]
    # the last snapshot is the run's last step, for any T_mult
    for T_mult, M in ((1, 1), (2, 4), (3, 3)):
        units = sum(T_mult ** i for i in range(M))
        plan = snapshot_plan_for(epochs=units, base_lr=0.05, M=M, T_mult=T_mult, steps_per_epoch=3)
        assert len(plan.snapshot_steps) == M and plan.snapshot_steps[-1] == plan.total_steps - 1


def test_disagreement_counts_pairs_that_differ():
    class Fixed(torch.nn.Module):
        def __init__(self, classes):
            super().__init__()
            self.classes = torch.tensor(classes)
            self.weight = torch.nn.Parameter(torch.zeros(1))

        def forward(self, x):
            return F.one_hot(self.classes[: len(x)], 3).float() * 10 + self.weight

    ensemble = SnapshotEnsemble([{"weight": torch.zeros(1)}] * 3, lambda: Fixed([0, 1, 2, 0]))
    ensemble.members[1].classes = torch.tensor([0, 1, 2, 1])  # differs from the others on one example in four
    data = lrcourse.TensorData(torch.zeros(4, 1), torch.zeros(4, dtype=torch.long))
    # Pairs (0,1) and (1,2) disagree on 1 of 4 examples, (0,2) never: (0.25 + 0.25 + 0) / 3.
    assert ensemble.disagreement(data) == pytest.approx(1 / 6)
    assert SnapshotEnsemble([{"weight": torch.zeros(1)}], lambda: Fixed([0])).disagreement(data) == 0.0


def test_train_snapshot_ensemble_checks_the_plan_and_returns_the_members(fmnist):
    train = fmnist.train[:320]
    plan = snapshot_plan(base_lr=0.05, T_0=1, M=2, steps_per_epoch=5)
    run, ensemble = train_snapshot_ensemble(train, plan, batch_size=64)
    assert len(ensemble.members) == 2 and run.history.epochs == 2
    for name, tensor in ensemble.members[-1].state_dict().items():
        assert torch.equal(tensor, run.model.state_dict()[name])
    with pytest.raises(ValueError, match="plan.steps_per_epoch must match"):
        train_snapshot_ensemble(train, plan, batch_size=32)


def test_saver_refuses_a_folder_holding_another_runs_snapshots(tmp_path):
    weights = lrcourse.MLP(hidden=4).state_dict()
    save_snapshot(weights, tmp_path / "snapshot-001.pt")
    before = (tmp_path / "snapshot-001.pt").read_bytes()
    with pytest.raises(ValueError, match="already holds snapshots \\(snapshot-001.pt\\)"):
        SnapshotSaver(S.cosine_restarts(base_lr=0.1, T_0=5), folder=tmp_path)
    assert (tmp_path / "snapshot-001.pt").read_bytes() == before


# --- bad inputs: every one a clear error, raised before anything is built or written ----------------------------

def mlp4():
    return lrcourse.MLP(hidden=4)


def with_value(value):
    weights = mlp4().state_dict()
    weights["1.weight"][0, 0] = value  # the first Linear layer of the MLP
    return weights


@pytest.fixture
def folder_with(tmp_path):
    """A folder holding one good snapshot and then ``content`` as snapshot-002.pt."""
    def make(content):
        folder = tmp_path / "snaps"
        folder.mkdir(exist_ok=True)
        save_snapshot(mlp4().state_dict(), folder / "snapshot-001.pt")
        torch.save(content, folder / "snapshot-002.pt")
        return folder
    return make


ENSEMBLE_FILES_BAD = [  # (what snapshot-002.pt holds, error, what the message says)
    (torch.zeros(3), TypeError, "snapshot file .*snapshot-002.pt' must hold a state_dict .*got Tensor"),
    ([mlp4().state_dict()], TypeError, "snapshot file .*snapshot-002.pt' must hold a state_dict .*got list"),
    ({"epoch": 3, "model": mlp4().state_dict()}, TypeError,
     "snapshot-002.pt' .*entry 'epoch' is int: is it a checkpoint"),
    (lrcourse.MLP(hidden=8).state_dict(), ValueError, "snapshot file .*snapshot-002.pt' does not match the model"),
    (with_value(math.nan), ValueError, "snapshot file .*snapshot-002.pt' holds NaN or infinite weights in '1.weight'"),
    (with_value(math.inf), ValueError, "snapshot-002.pt' holds NaN or infinite weights"),
]


@pytest.mark.parametrize("content, error, match", ENSEMBLE_FILES_BAD)
def test_ensemble_names_the_bad_file(content, error, match, folder_with):
    calls = []
    with pytest.raises(error, match=match):
        SnapshotEnsemble(folder_with(content), lambda: calls.append(1) or mlp4())
    if error is TypeError or "NaN" in match:
        assert calls == []  # found before the first member was built


class Same:
    """A factory that wrongly hands out one model again and again."""

    def __init__(self):
        self.model = mlp4()

    def __call__(self):
        return self.model


GOOD = [mlp4().state_dict(), mlp4().state_dict()]
ENSEMBLE_BAD = [  # (snapshots, model_factory, keyword arguments, error, what the message says)
    (mlp4().state_dict(), mlp4, {}, TypeError, "got a single state_dict: wrap it in a list"),
    (mlp4(), mlp4, {}, TypeError, "snapshots must be a list of state_dicts or a folder; got MLP"),
    (torch.zeros(3), mlp4, {}, TypeError, "snapshots must be a list of state_dicts or a folder; got Tensor"),
    (42, mlp4, {}, TypeError, "snapshots must be a list of state_dicts or a folder; got int"),
    ([], mlp4, {}, ValueError, "snapshots must hold at least one snapshot"),
    ([torch.zeros(3)], mlp4, {}, TypeError, r"snapshots\[0\] must hold a state_dict .*got Tensor"),
    ([GOOD[0], [1, 2]], mlp4, {}, TypeError, r"snapshots\[1\] must hold a state_dict .*got list"),
    ([GOOD[0], with_value(math.inf)], mlp4, {}, ValueError, r"snapshots\[1\] holds NaN or infinite weights"),
    ("/no/such/folder", mlp4, {}, ValueError, "snapshots='/no/such/folder' is not a folder"),
    (GOOD, mlp4(), {}, TypeError, "model_factory must build a new model on each call .*got a model"),
    (GOOD, None, {}, TypeError, "model_factory must be a class or function .*got NoneType"),
    (GOOD, "MLP", {}, TypeError, "model_factory must be a class or function .*got str"),
    (GOOD, lambda: None, {}, TypeError, "model_factory must return a torch.nn.Module; it returned NoneType"),
    (GOOD, lambda: 3, {}, TypeError, "model_factory must return a torch.nn.Module; it returned int"),
    (GOOD, lambda hidden: lrcourse.MLP(hidden=hidden), {}, TypeError, "model_factory must be callable with no arg"),
    (GOOD, Same(), {}, ValueError, "model_factory must build a new model on each call; it returned the same one"),
    (GOOD, mlp4, {"last_k": 0}, ValueError, r"last_k must be an int in \[1, 2\]"),
    (GOOD, mlp4, {"last_k": 3}, ValueError, r"last_k must be an int in \[1, 2\]"),
    (GOOD, mlp4, {"last_k": 1.5}, TypeError, "last_k must be an int"),
    (GOOD, mlp4, {"last_k": True}, TypeError, "last_k must be an int"),
    (GOOD, mlp4, {"device": "tpu"}, ValueError, "device must be"),
]


@pytest.mark.parametrize("snapshots, factory, kwargs, error, match", ENSEMBLE_BAD)
def test_ensemble_bad_arguments(snapshots, factory, kwargs, error, match):
    with pytest.raises(error, match=match):
        SnapshotEnsemble(snapshots, factory, **kwargs)


def test_ensemble_methods_check_their_data():
    ensemble = SnapshotEnsemble(GOOD, mlp4)
    data = lrcourse.TensorData(torch.zeros(4, 1, 28, 28), torch.zeros(4, dtype=torch.long))
    for method in (ensemble.evaluate, ensemble.disagreement):
        with pytest.raises(TypeError, match="data must be a TensorData"):
            method(data.x)
        with pytest.raises(ValueError, match="data must hold at least one example"):
            method(data[:0])
        with pytest.raises(ValueError, match="batch_size must be an int >= 1"):
            method(data, batch_size=0)
    with pytest.raises(TypeError, match="x must be a torch.Tensor"):
        ensemble.predict_proba(data.x.numpy())


class FakeSchedule:
    def __init__(self, T_0, T_mult):
        self.T_0, self.T_mult = T_0, T_mult


SAVER_BAD = [  # (schedule, folder, error, what the message says)
    (None, None, TypeError, "schedule must be a cosine_restarts schedule"),
    (S.cosine(base_lr=0.1, total_steps=10), None, TypeError, "schedule must be a cosine_restarts schedule"),
    (FakeSchedule(0, 1), None, ValueError, "T_0 must be an int >= 1"),
    (FakeSchedule(5, 1.5), None, TypeError, "T_mult must be an int"),
    (S.cosine_restarts(base_lr=0.1, T_0=5), 3, TypeError, "folder must be a folder path"),
    (S.cosine_restarts(base_lr=0.1, T_0=5), "", ValueError, "folder must be a folder path"),
]


@pytest.mark.parametrize("schedule, folder, error, match", SAVER_BAD)
def test_saver_bad_arguments(schedule, folder, error, match):
    with pytest.raises(error, match=match):
        SnapshotSaver(schedule, folder=folder)


SAVE_BAD = [  # (weights, path relative to tmp_path or an object, error, what the message says)
    (torch.zeros(3), "snapshot-001.pt", TypeError, "weights must hold a state_dict .*got Tensor"),
    ({"w": 1.0}, "snapshot-001.pt", TypeError, "weights must hold a state_dict .*entry 'w' is float"),
    ({1: torch.zeros(1)}, "snapshot-001.pt", TypeError, "weights must hold a state_dict"),
    ({"w": torch.tensor([math.nan])}, "snapshot-001.pt", ValueError, "weights holds NaN or infinite weights in 'w'"),
    ({"w": torch.zeros(1)}, 7, TypeError, "path must be a folder path"),
    ({"w": torch.zeros(1)}, "missing/snapshot-001.pt", ValueError, "its folder does not exist"),
]


@pytest.mark.parametrize("weights, path, error, match", SAVE_BAD)
def test_save_snapshot_bad_arguments(weights, path, error, match, tmp_path):
    with pytest.raises(error, match=match):
        save_snapshot(weights, tmp_path / path if isinstance(path, str) else path)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("folder, error, match", [
    (3, TypeError, "snapshots must be a folder path"),
    (None, TypeError, "snapshots must be a folder path"),
    ("/no/such/folder", ValueError, "is not a folder"),
])
def test_load_snapshots_bad_arguments(folder, error, match):
    with pytest.raises(error, match=match):
        load_snapshots(folder)


PLAN_BAD = [  # (function, keyword arguments, error, what the message says)
    (cycle_ends, dict(T_0=0, T_mult=1, total_steps=10), ValueError, "T_0 must be an int >= 1"),
    (cycle_ends, dict(T_0=1.5, T_mult=1, total_steps=10), TypeError, "T_0 must be an int"),
    (cycle_ends, dict(T_0=5, T_mult=0, total_steps=10), ValueError, "T_mult must be an int >= 1"),
    (cycle_ends, dict(T_0=5, T_mult="2", total_steps=10), TypeError, "T_mult must be an int"),
    (cycle_ends, dict(T_0=5, T_mult=1, total_steps=-1), ValueError, "total_steps must be an int >= 0"),
    (cycle_ends, dict(T_0=5, T_mult=1, total_steps=2.5), TypeError, "total_steps must be an int"),
    (snapshot_plan, dict(base_lr=0, T_0=2), ValueError, "base_lr must be a finite number > 0"),
    (snapshot_plan, dict(base_lr=-0.1, T_0=2), ValueError, "base_lr must be a finite number > 0"),
    (snapshot_plan, dict(base_lr=math.nan, T_0=2), ValueError, "base_lr must be a finite number > 0"),
    (snapshot_plan, dict(base_lr=math.inf, T_0=2), ValueError, "base_lr must be a finite number > 0"),
    (snapshot_plan, dict(base_lr="0.1", T_0=2), TypeError, "base_lr must be a number"),
    (snapshot_plan, dict(base_lr=0.1, T_0=0), ValueError, "T_0 must be an int >= 1"),
    (snapshot_plan, dict(base_lr=0.1, T_0=2, T_mult=0), ValueError, "T_mult must be an int >= 1"),
    (snapshot_plan, dict(base_lr=0.1, T_0=2, M=0), ValueError, "M must be an int >= 1"),
    (snapshot_plan, dict(base_lr=0.1, T_0=2, M=2.0), TypeError, "M must be an int"),
    (snapshot_plan, dict(base_lr=0.1, T_0=2, steps_per_epoch=0), ValueError, "steps_per_epoch must be an int >= 1"),
    (snapshot_plan, dict(base_lr=0.1, T_0=2, eta_min=-1e-3), ValueError, r"eta_min must be a finite number in \[0,"),
    (snapshot_plan, dict(base_lr=0.1, T_0=2, eta_min=0.2), ValueError, r"eta_min must be a finite number in \[0, 0.1"),
    (snapshot_plan, dict(base_lr=0.1, T_0=2, eta_min=math.nan), ValueError, "eta_min must be a finite number"),
    (snapshot_plan_for, dict(epochs=8, base_lr=0.1, M=3, T_mult=2, steps_per_epoch=10), ValueError,
     r"80 steps\) must be divisible by 1 \+ T_mult \+ ... \+ T_mult\*\*\(M-1\) = 7"),
    (snapshot_plan_for, dict(epochs=0, base_lr=0.1, M=2), ValueError, "epochs must be an int >= 1"),
    (snapshot_plan_for, dict(epochs=2.0, base_lr=0.1, M=2), TypeError, "epochs must be an int"),
    (snapshot_plan_for, dict(epochs=4, base_lr=0, M=2), ValueError, "base_lr must be a finite number > 0"),
    (snapshot_plan_for, dict(epochs=4, base_lr=0.1, M=0), ValueError, "M must be an int >= 1"),
    (snapshot_plan_for, dict(epochs=4, base_lr=0.1, M=2, T_mult=0), ValueError, "T_mult must be an int >= 1"),
    (snapshot_plan_for, dict(epochs=4, base_lr=0.1, M=2, steps_per_epoch=0), ValueError,
     "steps_per_epoch must be an int >= 1"),
    (snapshot_plan_for, dict(epochs=4, base_lr=0.1, M=2, eta_min=0.2), ValueError,
     r"eta_min must be a finite number in \[0, 0.1"),
    (plot_snapshot_plan, dict(plan="plan"), TypeError, "plan must be a SnapshotPlan"),
]


@pytest.mark.parametrize("function, kwargs, error, match", PLAN_BAD)
def test_plan_bad_arguments(function, kwargs, error, match):
    with pytest.raises(error, match=match):
        function(**kwargs)


def test_numpy_and_zero_dim_numbers_are_numbers():
    import numpy as np

    plan = snapshot_plan(base_lr=np.float32(0.1), T_0=np.int64(2), M=torch.tensor(2), eta_min=torch.tensor(0.0))
    assert plan.total_steps == 4 and plan.schedule(0) == pytest.approx(0.1)
