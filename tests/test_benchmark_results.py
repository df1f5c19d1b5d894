"""The range-test benchmark's committed accuracies (benchmarks/range_test_results*.json) still match its code.

The README's suggestion-quality tables are read from these files; if the benchmark's grids, training seeds or
axes change without the files being recomputed, a fresh clone would mix old runs with new ones. These tests
catch that, and a file from a benchmark run that stopped before every grid was trained."""

import importlib.util
import json
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.fixture(scope="module")
def quality():
    spec = importlib.util.spec_from_file_location("suggestion_quality", BENCHMARKS / "suggestion_quality.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while it is executed
    spec.loader.exec_module(module)
    yield module
    sys.modules.pop(spec.name, None)


@pytest.mark.parametrize("axis_name", ["one-epoch", "small-data", "small-data-cosine"])
def test_committed_accuracies_cover_every_grid_with_every_training_seed(quality, axis_name):
    axis = quality.AXES[axis_name]
    stored = json.loads(axis.cache.read_text())
    assert stored["config"] == quality.Accuracies(axis, recompute=False).config  # what the code would train
    setups = {setup.name: setup for setup in quality.SETUPS}
    assert set(stored["setups"]) == set(axis.setups)
    for name, runs in stored["setups"].items():
        missing = [lr for lr in setups[name].grid if quality.lr_key(lr) not in runs]
        assert not missing, f"{axis_name}, {name}: no runs at {missing}"
        for key, accuracies in runs.items():
            assert float(key) > 0 and len(accuracies) == len(quality.TRAIN_SEEDS), (name, key)
            assert all(0 <= a <= 1 for a in accuracies), (name, key, accuracies)


def test_a_file_whose_config_differs_is_not_read(quality, tmp_path):
    axis = quality.AXES["one-epoch"]
    moved = quality.Axis(axis.train_size, axis.epochs, tmp_path / "results.json", axis.setups)
    stale = {"config": {**quality.Accuracies(moved, recompute=False).config, "train_seeds": [0]},
             "setups": {"mlp sgd b64": {"0.1": [0.5]}}}
    moved.cache.write_text(json.dumps(stale))
    assert quality.Accuracies(moved, recompute=False).data["setups"] == {}


def test_one_lr_cannot_serve_both_four_epoch_axes_on_every_set_up(quality):
    """What the README's bullet rests on, from the committed files: on MLP + SGD at batch 64 no LR trained for
    both a constant LR and a cosine lands within a point of both grids' best, while on the CNN with Adam
    (whose two grids peak at the same LR) one does."""
    stored = {name: json.loads(quality.AXES[name].cache.read_text())["setups"]
              for name in ("small-data", "small-data-cosine")}
    setups = {setup.name: setup for setup in quality.SETUPS}

    def worse_gap(name):
        pick = quality.shared_pick(setups[name], stored["small-data"], stored["small-data-cosine"])
        return max(pick.first_gap, pick.second_gap)

    assert worse_gap("mlp sgd b64") > 1.0
    assert worse_gap("cnn adam b256") < 1.0
