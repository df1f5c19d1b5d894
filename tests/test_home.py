"""The home experiment: the split, the recipe over seeds, its Report (stats, JSON, plot) and its bad inputs."""

import functools
import json
import math

import matplotlib
import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

import lrcourse
from lrcourse.callbacks import History
from lrcourse.data import TensorData
from lrcourse.experiments import (Report, SeedRun, Split, default_lr, home_experiment, train_at_lr,
                                  train_val_split, train_with_schedule)
from lrcourse.plots import plot_report
from lrcourse.range_test import RangeTest
import lrcourse.schedules as S

matplotlib.use("Agg")
TINY_MODEL = functools.partial(lrcourse.MLP, hidden=16, num_classes=3)


@pytest.fixture(scope="module")
def three_classes(fmnist):
    """300 images of FashionMNIST's first three classes, class by class, as a folder reads them."""
    index = torch.cat([torch.nonzero(fmnist.train.y == k).flatten()[:100] for k in range(3)])
    return TensorData(fmnist.train.x[index], fmnist.train.y[index])


@pytest.fixture(scope="module")
def report(three_classes):
    return home_experiment(TINY_MODEL, three_classes, epochs=2, batch_size=32, seeds=(0, 1), num_iter=30)


# --- train_val_split ----------------------------------------------------------------------

def test_split_is_stratified_disjoint_shuffled_and_seeded(three_classes):
    split = train_val_split(three_classes, val_fraction=0.2, seed=0)
    assert len(split.train) == 240 and len(split.val) == 60
    assert torch.bincount(split.val.y).tolist() == [20, 20, 20]
    rows = {tuple(x.flatten()[:50].tolist()) for x in torch.cat([split.train.x, split.val.x])}
    assert len(rows) == 300  # every example once
    assert split.train.y[:30].unique().numel() == 3  # mixed, not class by class
    again, other = train_val_split(three_classes, 0.2, seed=0), train_val_split(three_classes, 0.2, seed=1)
    torch.testing.assert_close(again.val.x, split.val.x)
    assert not torch.equal(other.val.x, split.val.x)


def test_split_keeps_one_example_on_each_side_of_a_small_class():
    data = TensorData(torch.randn(5, 1, 2, 2), torch.tensor([0, 0, 1, 1, 1]))
    split = train_val_split(data, val_fraction=0.01)
    assert torch.bincount(split.val.y).tolist() == [1, 1] and len(split.train) == 3


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(data=torch.zeros(3)), TypeError, "data must be a lrcourse.data.TensorData"),
    (dict(val_fraction=0.0), ValueError, "val_fraction must be a finite number in \\(0, 1\\)"),
    (dict(val_fraction=1.0), ValueError, "val_fraction must be a finite number in \\(0, 1\\)"),
    (dict(val_fraction="0.2"), TypeError, "val_fraction"),
    (dict(seed=-1), ValueError, "seed must be an int >= 0"),
    (dict(data=TensorData(torch.zeros(3, 1), torch.tensor([0, 0, 1]))), ValueError, "class 1 has 1"),
])
def test_split_bad_inputs(kwargs, error, match):
    args = dict(data=TensorData(torch.zeros(4, 1), torch.tensor([0, 0, 1, 1])), val_fraction=0.5, seed=0) | kwargs
    with pytest.raises(error, match=match):
        train_val_split(**args)


# --- home_experiment ------------------------------------------------------------------------

def test_report_holds_every_range_test_and_run(report):
    assert report.seeds == [0, 1] and report.stop_reason is None and report.epochs == 2
    assert len(report.range_tests) == 2 and report.restored == [True, True]
    assert all(test.steps >= 10 for test in report.range_tests)
    assert [(run.name, run.seed) for run in report.runs] == [
        (name, seed) for seed in (0, 1) for name in ("default", "found", "one_cycle")]
    assert all(len(run.history.val_accuracy) == 2 for run in report.runs)
    assert report.found_lr == pytest.approx(math.sqrt(report.picks[0] * report.picks[1]))
    assert report.max_lr == pytest.approx(math.sqrt(report.range_tests[0].cyclical_range[1]
                                                    * report.range_tests[1].cyclical_range[1]))
    assert report.default_lr == default_lr("momentum") and report.lr_source == "range test"
    assert report.data == {"train": 240, "val": 60, "unit": "examples", "classes": None}
    assert report.model == "MLP(hidden=16, num_classes=3)"


def test_runs_are_the_library_runs_from_the_same_weights(three_classes, report):
    split = train_val_split(three_classes)
    steps = 2 * 8
    for seed in (0, 1):
        default = train_at_lr(split.train, report.default_lr, val=split.val, optimizer="momentum", epochs=2,
                              batch_size=32, model=TINY_MODEL, seed=seed)
        cycle = train_with_schedule(split.train, S.one_cycle(max_lr=report.max_lr, total_steps=steps), val=split.val,
                                    epochs=2, batch_size=32, model=TINY_MODEL, seed=seed, cycle_momentum=True)
        runs = {run.name: run for run in report.runs if run.seed == seed}
        assert runs["default"].history.val_accuracy == default.history.val_accuracy
        assert runs["one_cycle"].history.val_accuracy == cycle.history.val_accuracy
        assert runs["one_cycle"].history.lr == pytest.approx(cycle.history.lr)


def test_given_lr_cosine_and_range_tests_only(three_classes):
    report = home_experiment(TINY_MODEL, three_classes, epochs=1, batch_size=64, seeds=(3,), lr=0.02, max_lr=0.3,
                             runs=("one_cycle", "cosine"), num_iter=20)
    assert report.found_lr == 0.02 and report.max_lr == 0.3 and report.lr_source == "given"
    assert [run.name for run in report.runs] == ["cosine", "one_cycle"]  # in the report's order
    assert report.runs[0].history.lr == pytest.approx([S.cosine(base_lr=0.02, total_steps=4)(t) for t in range(4)])
    short = home_experiment(TINY_MODEL, three_classes, epochs=1, batch_size=128, seeds=(0,), runs=("found",),
                            num_iter=20)  # two steps: too few for 1-cycle, which is not asked for
    assert [run.history.steps for run in short.runs] == [2]
    only_tests = home_experiment(TINY_MODEL, three_classes, epochs=0, batch_size=64, seeds=(0, 1), num_iter=20)
    assert len(only_tests.range_tests) == 2 and not only_tests.runs and only_tests.stop_reason is None
    assert np.isfinite(only_tests.found_lr)


def test_loaders_and_the_global_random_state(three_classes):
    split = train_val_split(three_classes)
    loaders = Split(DataLoader(TensorDataset(split.train.x, split.train.y), batch_size=48, shuffle=True,
                               generator=torch.Generator().manual_seed(0)),
                    # A loader without a generator of its own draws its workers' base seed from the global one.
                    DataLoader(TensorDataset(split.val.x, split.val.y), batch_size=100,
                               generator=torch.Generator().manual_seed(0)))
    state = torch.get_rng_state()
    report = home_experiment(TINY_MODEL, loaders, epochs=1, batch_size=None, seeds=(0, 1), num_iter=20)
    assert torch.equal(torch.get_rng_state(), state)
    assert report.data["unit"] == "batches" and report.data["train"] == 5 and report.batch_size is None
    assert all(run.history.steps == 5 for run in report.runs) and all(report.restored)


def test_progress_rises_and_stop_keeps_the_finished_runs(three_classes):
    seen = []

    def stop_in_second_seed(fraction, partial):
        seen.append(fraction)
        return len(partial.runs) == 4

    report = home_experiment(TINY_MODEL, three_classes, epochs=1, batch_size=32, seeds=(0, 1),
                             on_progress=stop_in_second_seed, num_iter=20)
    assert report.stop_reason == "stopped during training" and len(report.runs) == 4
    assert seen == sorted(seen) and 0 < seen[0] and seen[-1] < 1
    stopped = home_experiment(TINY_MODEL, three_classes, epochs=1, batch_size=32, seeds=(0, 1), num_iter=20,
                              on_progress=lambda fraction, partial: True)
    assert stopped.stop_reason == "stopped during a range test" and not stopped.range_tests and not stopped.runs


def test_ctrl_c_keeps_the_report_of_the_finished_runs(three_classes):
    def interrupt(fraction, partial):
        if len(partial.runs) == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt) as caught:
        home_experiment(TINY_MODEL, three_classes, epochs=1, batch_size=32, seeds=(0,), on_progress=interrupt,
                        num_iter=20)
    report = caught.value.report
    assert report.stop_reason == "interrupted (KeyboardInterrupt)" and [run.name for run in report.runs] == [
        "default", "found"]


def _counting_model():
    calls = []

    def model():
        calls.append(1)
        return TINY_MODEL()

    return model, calls


@pytest.mark.parametrize("change, error, match", [
    (dict(model_fn=3), TypeError, "model_fn must be callable"),
    (dict(data=torch.zeros(10, 1, 28, 28)), TypeError, "data must be a lrcourse.data.TensorData .* or have .train"),
    (dict(data=[(torch.zeros(2, 784), torch.zeros(2, dtype=torch.long))]), TypeError, "or have .train and .val"),
    (dict(data=Split(None, None)), TypeError, "have .train and .val"),
    (dict(epochs=-1), ValueError, "epochs must be an int >= 0"),
    (dict(epochs=1.5), ValueError, "epochs must be an int >= 0"),
    (dict(batch_size=0), ValueError, "batch_size must be an int >= 1"),
    (dict(batch_size=None), TypeError, "batch_size must be an int >= 1"),
    (dict(seeds=()), TypeError, "seeds must be a non-empty sequence"),
    (dict(seeds="01"), TypeError, "seeds must be a non-empty sequence"),
    (dict(seeds=3), TypeError, "seeds must be a non-empty sequence"),
    (dict(seeds=(0, 0)), ValueError, "seeds must be distinct"),
    (dict(seeds=(0, -1)), ValueError, "every seed must be an int >= 0"),
    (dict(seeds=(0.5,)), ValueError, "every seed must be an int >= 0"),
    (dict(optimizer="lbfgs"), ValueError, "optimizer must be one of"),
    (dict(lr=0.0), ValueError, "lr must be a finite number > 0"),
    (dict(lr=float("nan")), ValueError, "lr must be a finite number > 0"),
    (dict(max_lr=-1.0), ValueError, "max_lr must be a finite number > 0"),
    (dict(runs=()), TypeError, "runs must be a non-empty sequence"),
    (dict(runs="found"), TypeError, "runs must be a non-empty sequence"),
    (dict(runs=("found", "warmup")), ValueError, "every name in runs must be one of"),
    (dict(runs=("found", "found")), ValueError, "runs must not repeat"),
    (dict(num_iter=5), ValueError, "num_iter must be an int >= 10"),
    (dict(val_fraction=1.0), ValueError, "val_fraction must be a finite number in"),
    (dict(on_progress="yes"), TypeError, "on_progress must be callable"),
    (dict(batch_size=128), ValueError, "epochs x batches per epoch must be at least 4 for 1-cycle"),
])
def test_home_experiment_bad_inputs_fail_before_any_model_is_built(three_classes, change, error, match):
    model, calls = _counting_model()
    args = dict(model_fn=model, data=three_classes, epochs=1, batch_size=32) | change
    with pytest.raises(error, match=match):
        home_experiment(**args)
    assert not calls


def test_a_loader_with_a_batch_size_and_a_model_that_does_not_fit_are_refused(three_classes):
    split = train_val_split(three_classes)
    loaders = Split(DataLoader(TensorDataset(split.train.x, split.train.y), batch_size=48),
                    DataLoader(TensorDataset(split.val.x, split.val.y), batch_size=100))
    with pytest.raises(ValueError, match="batch_size must be None when data.train is a loader"):
        home_experiment(TINY_MODEL, loaders, epochs=1, batch_size=32)
    with pytest.raises(ValueError, match="class indices from 0 to 1"):
        home_experiment(functools.partial(lrcourse.MLP, hidden=8, num_classes=2), three_classes, 1, 32)


# --- Report ---------------------------------------------------------------------------------

def made_up_report(finals: dict, seeds=(0, 1, 2), epochs=2, **changes) -> Report:
    """A report whose runs end at ``finals[name][i]`` for seed ``seeds[i]`` (no training)."""
    lrs = list(np.geomspace(1e-5, 1.0, 40))
    losses = [2.3 - 1.5 / (1 + math.exp(-(math.log10(lr) + 2.5) * 3)) + (5 * (lr - 0.3) if lr > 0.3 else 0)
              for lr in lrs]
    tests = [RangeTest(1e-5, 1.0, 40, "exp", lrs=lrs, losses=losses, smoothed=losses) for _ in seeds]
    runs = [SeedRun(name, seed, 0.05, History(steps_per_epoch=3, val_accuracy=[value - 0.05, value][-epochs:]))
            for name, values in finals.items() for seed, value in zip(seeds, values)]
    fields = dict(optimizer="momentum", model="MLP", epochs=epochs, batch_size=32, seeds=list(seeds),
                  data={"train": 480, "val": 120, "unit": "examples", "classes": ["a", "b", "c"]}, default_lr=1e-3,
                  found_lr=tests[0].steepest, max_lr=tests[0].cyclical_range[1], lr_source="range test",
                  run_names=list(finals), range_tests=tests, restored=[True] * len(seeds), runs=runs)
    return Report(**(fields | changes))


def test_report_statistics_are_paired_by_seed():
    report = made_up_report({"default": [0.90, 0.92, 0.91], "found": [0.93, 0.92, 0.95],
                             "one_cycle": [0.94, 0.95, 0.96]})
    assert report.final_accuracies("found") == {0: 0.93, 1: 0.92, 2: 0.95}
    assert report.mean("one_cycle") == pytest.approx(0.95) and report.spread("found") == pytest.approx(0.03)
    difference = report.difference("one_cycle", "found")
    assert difference.differences == pytest.approx((0.01, 0.03, 0.01))
    assert (difference.mean, difference.low, difference.high) == pytest.approx((0.05 / 3, 0.01, 0.03))
    assert report.beats("one_cycle", "found") and not report.beats("found", "default")  # seed 1 is level
    assert report.best == "one_cycle" and report.names == ["default", "found", "one_cycle"]
    (row,) = [row for row in report.table() if row["run"] == "found"]
    assert row["lr"] == 0.05 and row["mean"] == pytest.approx(0.9333, abs=1e-4)
    assert "found LR, constant (lr 0.05): 93.33%, spread 3.00% (93.00%, 92.00%, 95.00%)" in str(report)
    assert "<table>" in report._repr_html_()
    with pytest.raises(ValueError, match="name must be one of"):
        report.final_accuracies("adam")


def test_a_diverged_run_counts_as_nan_and_never_best():
    report = made_up_report({"default": [0.9, 0.9], "found": [0.95, 0.96]}, seeds=(0, 1))
    report.runs[2].history.diverged_at = 4
    assert math.isnan(report.mean("found")) and report.best == "default"


def test_report_json_round_trip(report):
    text = report.to_json()
    again = Report.from_json(text)
    assert again.to_json() == text and json.loads(text)["format"] == 1
    assert again.table() == report.table() and str(again) == str(report)
    assert isinstance(again.range_tests[0], RangeTest) and again.range_tests[0].suggestion == report.picks[0]
    assert isinstance(again.runs[0].history, History) and again.learning_region == report.learning_region


def test_json_keeps_nan_and_refuses_other_formats():
    report = made_up_report({"default": [0.9, 0.9], "found": [0.95, 0.96]}, seeds=(0, 1))
    report.runs[0].history.val_loss = [float("nan")]
    assert math.isnan(Report.from_json(report.to_json()).runs[0].history.val_loss[0])
    for text in ('{"format": 2}', "[1, 2]"):
        with pytest.raises(ValueError, match="text must be a home-experiment report of format 1"):
            Report.from_json(text)


def test_plot_draws_one_page(report):
    axes = report.plot()
    tests_ax, curves_ax, table_ax = axes
    assert len([line for line in tests_ax.lines if line.get_label().startswith("seed")]) == 2
    assert len(curves_ax.collections) == 3  # a seed band per run
    assert table_ax.tables and "2 seeds" in table_ax.get_title()
    partial = made_up_report({"default": [0.9]}, seeds=(0,), runs=[], stop_reason="stopped during training")
    _, curves_ax, table_ax = plot_report(partial)
    assert not curves_ax.lines and "stopped during training" in table_ax.get_title()
    with pytest.raises(ValueError, match="report must be a lrcourse.experiments.Report"):
        plot_report({"runs": []})
