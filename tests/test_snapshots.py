import os

import pytest
import torch
import torch.nn.functional as F

import lrcourse
import lrcourse.schedules as S
from lrcourse.experiments import train_snapshot_ensemble, train_with_schedule
from lrcourse.snapshots import (SnapshotEnsemble, SnapshotSaver, cycle_ends, load_snapshots, save_snapshot,
                                snapshot_plan)


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
    assert (tmp_path / "snapshot-002.pt.partial").exists() and not (tmp_path / "snapshot-002.pt").exists()
    assert len(load_snapshots(tmp_path)) == 1


def test_corrupt_or_foreign_snapshots_give_clear_errors(tmp_path):
    save_snapshot(lrcourse.MLP(hidden=4).state_dict(), tmp_path / "snapshot-001.pt")
    (tmp_path / "snapshot-002.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="snapshot-002.pt' is corrupt"):
        load_snapshots(tmp_path)
    with pytest.raises(ValueError, match="does not match the model"):
        SnapshotEnsemble([lrcourse.MLP(hidden=4).state_dict()], lambda: lrcourse.MLP(hidden=8))
    with pytest.raises(ValueError, match="no snapshot files"):
        load_snapshots(tmp_path / "empty")


def test_unwritable_folder(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(ValueError, match="is not writable"):
        SnapshotSaver(S.cosine_restarts(base_lr=0.1, T_0=5), folder=blocker / "snaps")
    with pytest.raises(ValueError, match="cosine_restarts"):
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
