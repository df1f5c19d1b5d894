"""fit and the range test on two CPU processes (gloo over localhost), against one process.

Each ``spawn`` starts two fresh Python processes (most of a test's time is their import of torch),
so one spawn runs many scenarios and the tests below check its results. Every spawn has a
timeout: a hanging rank is killed and reported, never waited for.
"""

from __future__ import annotations

import math
import os
import signal
import sys
import time
import warnings

import pytest
import torch
from torch.utils.data import DataLoader, DistributedSampler, TensorDataset

import lrcourse
import lrcourse.schedules as S
from lrcourse import Callback, EarlyStopping, SnapshotSaver, fit
from lrcourse.data import TensorData
from lrcourse.distributed import current, init, is_main_process, spawn
from lrcourse.range_test import lr_range_test

WORLD = 2
TIMEOUT = 600  # seconds for a whole spawn; CI runs two lanes on two cores (240 s was once too short)
# torchrun takes 6-10 s here. On torch 2.5.1 (the Binder lane) destroy_process_group could deadlock (3 runs in 25
# under load; lrcourse.distributed.shutdown avoids it). Each attempt is limited; should a process hang anyway, it
# prints its stack and a second attempt is made (a warning in the test report keeps the first one's stacks).
TORCHRUN_TIMEOUT = 180


# ---- set-ups, the same in the test process and in every rank -------------------------------

def blobs(n: int, seed: int) -> TensorData:
    """A small 5-class problem with 20 features, the same on every process."""
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 20, generator=generator)
    y = (x @ torch.randn(20, 5, generator=torch.Generator().manual_seed(99))).argmax(1)
    return TensorData(x, y)


TRAIN, VAL = blobs(997, 0), blobs(301, 1)  # 997 = 15 x 64 + 37: the last batch splits 19 / 18


def mlp(seed: int = 0):
    torch.manual_seed(seed)
    model = lrcourse.MLP(hidden=32, in_features=20, num_classes=5)
    return model, torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)


def weights(model) -> dict:
    return {name: tensor.detach().clone() for name, tensor in model.state_dict().items()}


def train_mlp(seed: int = 0, **kwargs):
    model, optimizer = mlp(seed)
    options = dict(epochs=2, batch_size=64, val=VAL, progress=False)
    history = fit(model, TRAIN, optimizer, **{**options, **kwargs})
    return history.to_dict(), weights(model)


class StopOnRank(Callback):
    """Stops after ``step`` on one rank only: what a callback reading a clock might do."""

    def __init__(self, rank: int, step: int):
        self.rank, self.step = rank, step

    def on_batch_end(self, state):
        if torch.distributed.get_rank() == self.rank and state.step == self.step:
            state.stop(f"rank {self.rank} had enough")


class BNNet(torch.nn.Sequential):
    def __init__(self):
        super().__init__(torch.nn.Linear(20, 16), torch.nn.BatchNorm1d(16), torch.nn.ReLU(), torch.nn.Linear(16, 5))


def error_of(function, *args, **kwargs) -> str | None:
    try:
        function(*args, **kwargs)
    except (ValueError, TypeError) as error:
        return f"{type(error).__name__}: {error}"
    return None


def scenarios(folder: str) -> dict:
    """Everything one pair of processes checks; each rank returns its own results."""
    rank = torch.distributed.get_rank()
    out = {"group": (current().rank, current().world_size), "main": is_main_process()}
    # Rank 1 starts from other weights: fit sends rank 0's to everyone.
    out["fit"] = train_mlp(seed=rank)
    out["clip"] = train_mlp(clip_grad_norm=0.5, epochs=1)
    model, optimizer = mlp()
    out["no seed"] = fit(model, TRAIN, optimizer, epochs=1, batch_size=64, seed=None, progress=False).loss
    out["early"] = train_mlp(epochs=6, callbacks=[EarlyStopping(patience=0, min_delta=0.5)])
    out["one rank stops"] = train_mlp(callbacks=[StopOnRank(rank=1, step=5)])[0]
    model, optimizer = mlp()
    optimizer.param_groups[0]["lr"] = 1e6
    out["diverged"] = fit(model, TRAIN, optimizer, epochs=2, batch_size=64, progress=False).to_dict()
    saver = SnapshotSaver(S.cosine_restarts(base_lr=0.1, T_0=2), folder=folder)
    model, optimizer = mlp()
    fit(model, TRAIN[:256], optimizer, epochs=2, batch_size=64, callbacks=[saver], progress=False)
    out["snapshots"] = (len(saver.snapshots), [p.name for p in saver.paths])

    # The range test: rank 1's own model and optimizer come back to it.
    model, optimizer = mlp(seed=rank)
    before = weights(model)
    test = lr_range_test(model, TRAIN, optimizer, num_iter=60, batch_size=64, progress=False)
    out["range"] = (test.lrs, test.losses, test.stop_reason, test.accuracies)
    out["range restored"] = all(torch.equal(before[k], v) for k, v in weights(model).items()) and \
        optimizer.param_groups[0]["lr"] == 0.1 and optimizer.state_dict()["state"] == {}
    model, optimizer = mlp()
    stop_rank_1 = lr_range_test(model, TRAIN, optimizer, num_iter=60, batch_size=64, progress=False,
                                on_step=lambda t: rank == 1 and t.steps == 7)
    out["range on_step"] = (stop_rank_1.steps, stop_rank_1.stop_reason)

    # A loader with a DistributedSampler: each rank its share, reshuffled every epoch.
    dataset = TensorDataset(TRAIN.x, TRAIN.y)
    loader = DataLoader(dataset, batch_size=32, sampler=DistributedSampler(dataset, seed=0))
    validation = TensorDataset(VAL.x, VAL.y)
    val_loader = DataLoader(validation, batch_size=100, sampler=DistributedSampler(validation, shuffle=False))
    model, optimizer = mlp()
    out["loader"] = fit(model, loader, optimizer, epochs=2, val=val_loader, progress=False).to_dict()

    # BatchNorm: every rank ends with the same weights and buffers.
    torch.manual_seed(0)
    net = BNNet()
    fit(net, TRAIN, torch.optim.SGD(net.parameters(), lr=0.1), epochs=1, batch_size=64, val=VAL, progress=False)
    out["batchnorm"] = weights(net)

    # Refusals, raised on every rank before any weight changes.
    model, optimizer = mlp()
    out["untouched before"] = weights(model)
    out["errors"] = {
        "indivisible": error_of(fit, model, TRAIN, optimizer, 1, batch_size=63, progress=False),
        "val sizes": error_of(fit, model, TRAIN, optimizer, 1, batch_size=64, val=VAL[:300 if rank else 301],
                              progress=False),
        "plain loader": error_of(fit, model, DataLoader(dataset, batch_size=32), optimizer, 1, progress=False),
        "one rank's bad epochs": error_of(fit, model, TRAIN, optimizer, 0 if rank == 1 else 1, batch_size=64,
                                          progress=False),
        "range test val sizes": error_of(lr_range_test, model, TRAIN, optimizer, num_iter=10, progress=False,
                                         val=VAL[:300 if rank else 301]),
    }
    out["untouched after"] = weights(model)
    return out


@pytest.fixture(scope="module")
def ranks(tmp_path_factory):
    folder = tmp_path_factory.mktemp("snapshots")
    outcomes = spawn(scenarios, WORLD, (str(folder),), timeout=TIMEOUT)
    for outcome in outcomes:
        assert outcome.ok, f"rank {outcome.rank}: {outcome.error}\n{outcome.traceback}"
    return [outcome.value for outcome in outcomes], folder


def assert_histories_close(one: dict, two: dict, tolerance: float = 1e-5) -> None:
    assert len(one["loss"]) == len(two["loss"]) and one["lr"] == two["lr"]
    for key in ("loss", "train_loss", "val_loss", "grad_norm"):
        assert len(one[key]) == len(two[key]), key
        assert max((abs(a - b) for a, b in zip(one[key], two[key])), default=0.0) < tolerance, key
    # Accuracies count examples: equal unless a prediction flips on a rounding difference.
    for key in ("train_accuracy", "val_accuracy"):
        assert one[key] == pytest.approx(two[key], abs=2 / 300), key


def test_the_group_and_the_main_process(ranks):
    values, _ = ranks
    assert [v["group"] for v in values] == [(0, 2), (1, 2)]
    assert [v["main"] for v in values] == [True, False]


def test_two_processes_train_as_one_with_the_same_global_batch(ranks):
    values, _ = ranks
    history, trained = train_mlp(seed=0)
    for value in values:
        assert_histories_close(history, value["fit"][0])
        difference = max((trained[k] - value["fit"][1][k]).abs().max().item() for k in trained)
        assert difference < 1e-5
    # ... and every rank holds the very same run.
    assert values[0]["fit"][0]["loss"] == values[1]["fit"][0]["loss"]
    assert all(torch.equal(values[0]["fit"][1][k], values[1]["fit"][1][k]) for k in trained)


def test_without_a_seed_every_rank_still_draws_the_same_order(ranks):
    values, _ = ranks
    assert values[0]["no seed"] == values[1]["no seed"]
    model, optimizer = mlp()
    seeded = fit(model, TRAIN, optimizer, epochs=1, batch_size=64, progress=False).loss
    assert max(abs(a - b) for a, b in zip(seeded, values[0]["no seed"])) > 1e-3  # another order than seed 0


def test_clipping_uses_the_global_gradient(ranks):
    values, _ = ranks
    history, trained = train_mlp(clip_grad_norm=0.5, epochs=1)
    assert 0 < sum(n > 0.5 for n in history["grad_norm"])  # the clip did act
    for value in values:
        assert_histories_close(history, value["clip"][0])
        assert max((trained[k] - value["clip"][1][k]).abs().max().item() for k in trained) < 1e-5


def test_early_stopping_stops_every_rank_at_the_same_epoch(ranks):
    values, _ = ranks
    history, _ = train_mlp(epochs=6, callbacks=[EarlyStopping(patience=0, min_delta=0.5)])
    assert len(history["train_loss"]) < 6
    for value in values:
        assert len(value["early"][0]["train_loss"]) == len(history["train_loss"])
        assert value["early"][0]["stop_reason"] == history["stop_reason"]


def test_a_callback_that_stops_on_one_rank_stops_them_all_after_the_same_step(ranks):
    values, _ = ranks
    for value in values:
        history = value["one rank stops"]
        assert len(history["loss"]) == len(history["lr"]) == 6  # steps 0..5, as one process stopping at 5
        assert history["stop_reason"] == "rank 1 had enough"
        assert len(history["train_loss"]) == 1  # the epoch's metrics, as one process records them
    one, two = values[0]["one rank stops"], values[1]["one rank stops"]
    assert one == {**two, "seconds": one["seconds"]}  # all but the wall-clock time


def test_divergence_is_found_at_the_same_step_on_every_rank(ranks):
    values, _ = ranks
    model, optimizer = mlp()
    optimizer.param_groups[0]["lr"] = 1e6
    expected = fit(model, TRAIN, optimizer, epochs=2, batch_size=64, progress=False).diverged_at
    assert expected is not None
    assert [v["diverged"]["diverged_at"] for v in values] == [expected, expected]


def test_snapshots_are_written_by_rank_0_only(ranks):
    values, folder = ranks
    assert values[0]["snapshots"] == (4, [f"snapshot-00{i}.pt" for i in range(1, 5)])
    assert values[1]["snapshots"] == (4, [])
    assert sorted(p.name for p in folder.iterdir()) == [f"snapshot-00{i}.pt" for i in range(1, 5)]


def test_the_range_test_matches_one_process_and_restores_every_rank(ranks):
    values, _ = ranks
    model, optimizer = mlp()
    single = lr_range_test(model, TRAIN, optimizer, num_iter=60, batch_size=64, progress=False)
    assert single.stop_reason == "diverged"  # the test runs into the blow-up, and stops there
    for value in values:
        lrs, losses, reason, accuracies = value["range"]
        assert reason == single.stop_reason and lrs == single.lrs
        # The global batch's accuracy, counted over both ranks' slices.
        assert len(accuracies) == single.steps and max(abs(a - b) for a, b in zip(accuracies, single.accuracies)) < 0.02
        assert max(abs(a - b) / max(abs(b), 1e-3) for a, b in zip(losses, single.losses)) < 1e-4
        assert value["range restored"]
        assert value["range on_step"] == (7, "stopped")


def test_a_loader_with_a_distributed_sampler_trains_the_same_history_on_every_rank(ranks):
    values, _ = ranks
    one, two = values[0]["loader"], values[1]["loader"]
    assert one == {**two, "seconds": one["seconds"]}
    assert one["steps_per_epoch"] == math.ceil(math.ceil(len(TRAIN) / 2) / 32)
    assert one["train_loss"][-1] < 0.7 * one["train_loss"][0]


def test_batchnorm_ends_with_the_same_weights_and_buffers_on_every_rank(ranks):
    values, _ = ranks
    one, two = values[0]["batchnorm"], values[1]["batchnorm"]
    assert all(torch.equal(one[k], two[k]) for k in one)


@pytest.mark.parametrize("case, words", [
    ("indivisible", ["batch_size", "divisible", "2"]),
    ("val sizes", ["val differs", "rank 0: 301", "rank 1: 300"]),
    ("plain loader", ["DistributedSampler"]),
    ("range test val sizes", ["val differs"]),
])
def test_bad_set_ups_are_refused_on_every_rank_before_training(ranks, case, words):
    values, _ = ranks
    for value in values:
        error = value["errors"][case]
        assert error is not None and error.startswith("ValueError") and all(w in error for w in words), error
        assert all(torch.equal(value["untouched before"][k], t) for k, t in value["untouched after"].items())


def test_a_check_failing_on_one_rank_is_an_error_on_both(ranks):
    values, _ = ranks
    assert "epochs" in values[1]["errors"]["one rank's bad epochs"]
    assert "[1] refused the run" in values[0]["errors"]["one rank's bad epochs"]


# ---- faults ---------------------------------------------------------------------------------

class Die(Callback):
    def __init__(self, how: str):
        self.how = how

    def on_batch_end(self, state):
        if torch.distributed.get_rank() == 1 and state.step == 3:
            if self.how == "killed":
                os.kill(os.getpid(), signal.SIGKILL)
            time.sleep(3600)  # hangs


def train_until_a_rank_fails(how: str) -> None:
    train_mlp(epochs=3, callbacks=[Die(how)])


@pytest.mark.parametrize("how, collective_timeout", [("killed", 60), ("hangs", 5)])
def test_a_rank_that_dies_or_hangs_makes_the_other_fail_with_a_clear_error(how, collective_timeout):
    started = time.monotonic()
    survivor, failed = spawn(train_until_a_rank_fails, WORLD, (how,), timeout=TIMEOUT,
                             collective_timeout=collective_timeout)
    assert time.monotonic() - started < TIMEOUT - 30  # ended by the failure, not by spawn's own timeout
    assert survivor.error is not None and survivor.error.startswith("DistributedError: rank 0 of 2")
    assert "Another process has probably stopped" in survivor.error
    if how == "killed":
        assert failed.error == "the process was killed by signal SIGKILL before returning"
    else:
        assert failed.error.startswith("still running") and "killed" in failed.error


# ---- the experiment under torchrun ---------------------------------------------------------

def test_torchrun_on_two_processes_equals_one_process_with_their_global_batch(fmnist):
    from lrcourse.distributed.experiment import Experiment, run, torchrun

    experiment = Experiment(per_process_batch=128, epochs=1, train_size=1500, val_size=500, hidden=32)
    train, val = fmnist.train[:1500], fmnist.val[:500]
    try:
        two = torchrun(experiment, processes=2, timeout=TORCHRUN_TIMEOUT, train=train, val=val)
    except RuntimeError as error:
        if "did not finish" not in str(error):
            raise
        warnings.warn(f"torchrun hung; trying once more. {error}")
        two = torchrun(experiment, processes=2, timeout=TORCHRUN_TIMEOUT, train=train, val=val)
    one = run(experiment, processes=2, train=train, val=val)
    assert (two.processes, two.batch, one.batch) == (2, 256, 256) and two.lr == one.lr == 0.02 * 256 / 32
    # Without data, the experiment trains on FashionMNIST's first train_size and val_size images: the same run.
    assert run(experiment, processes=2, device="cpu").history["loss"] == one.history["loss"]
    assert max(abs(a - b) for a, b in zip(one.history["loss"], two.history["loss"])) < 1e-5
    assert max((one.weights[k] - two.weights[k]).abs().max().item() for k in one.weights) < 1e-5
    # The LRs followed Goyal et al.'s warm-up from the base LR to the scaled one over the first epoch.
    assert two.history["lr"][0] == pytest.approx(0.02) and two.history["lr"][-1] < 0.16


def test_a_process_group_that_hangs_is_stopped_whole_and_says_where_it_was(monkeypatch):
    from lrcourse.distributed import experiment
    from lrcourse.distributed.experiment import _run_group

    monkeypatch.setattr(experiment, "STOP_SECONDS", 2)
    # The parent starts a child that would outlive it, prints the child's PID, and both sleep; both ignore
    # SIGTERM (as a process stuck in C++ may), so only SIGABRT, which makes faulthandler print, stops them.
    script = ("import signal, subprocess, sys, time\n"
              "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
              "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(300)'])\n"
              "print(child.pid, flush=True)\n"
              "def stuck_here():\n    time.sleep(300)\n"
              "stuck_here()\n")
    env = {**os.environ, "PYTHONFAULTHANDLER": "1"}
    started = time.monotonic()
    code, printed = _run_group([sys.executable, "-c", script], env, timeout=3)
    assert code is None and time.monotonic() - started < 60
    assert "stuck_here" in printed  # faulthandler's stack of the parent
    child = int(printed.split()[0])
    with pytest.raises(ProcessLookupError):
        for _ in range(50):  # the child was killed with its group; give the kernel a moment to reap it
            os.kill(child, 0)
            time.sleep(0.1)
    code, printed = _run_group([sys.executable, "-c", "print('done')"], env, timeout=60)
    assert (code, printed) == (0, "done\n")


def test_torchrun_refuses_bad_arguments():
    from lrcourse.distributed.experiment import Experiment, torchrun

    for kwargs, words in [({"processes": 0}, "processes"), ({"timeout": 0}, "timeout"), ({"timeout": "1"}, "timeout"),
                          ({"train": TRAIN}, "train and val")]:
        with pytest.raises((ValueError, TypeError), match=words):
            torchrun(Experiment(), **kwargs)


@pytest.mark.parametrize("argv, words", [
    (["--rule=cubic"], "rule"),
    (["--per-process-batch=0"], "per_process_batch"),
    (["--base-lr=-1"], "base_lr"),
    (["--deadline=0"], "deadline"),
])
def test_the_command_line_refuses_bad_settings(argv, words, capsys):
    from lrcourse.distributed.__main__ import main

    with pytest.raises(SystemExit) as stop:
        main(argv)
    assert stop.value.code == 2 and words in capsys.readouterr().err


# ---- one process ---------------------------------------------------------------------------

def test_one_process_has_no_group_and_is_the_main_process():
    assert current() is None and is_main_process()


def test_init_outside_torchrun_says_how_to_start(monkeypatch):
    for name in ("RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(RuntimeError, match="torchrun"):
        init()


@pytest.mark.parametrize("kwargs, name", [
    (dict(nprocs=0), "nprocs"),
    (dict(timeout=0), "timeout"),
    (dict(collective_timeout=-1), "collective_timeout"),
    (dict(threads=0), "threads"),
    (dict(function="train"), "function"),
])
def test_spawn_refuses_bad_arguments(kwargs, name):
    with pytest.raises((ValueError, TypeError), match=name):
        spawn(**{"function": train_mlp, "nprocs": 2, **kwargs})
