"""How far each range-test rule's pick lands from the best of a grid of training runs.

For each set-up of ``SETUPS`` (MLP and SmallCNN; SGD, SGD + momentum, AdaGrad, Adam, AdamW,
RMSprop; batch 64 and 256; scaled and raw pixels), a training run at each LR of a grid of
third-decades, averaged over the training seeds ``TRAIN_SEEDS``, gives the grid's best validation
accuracy (on ``VAL_SIZE`` held-out images). What a training run is depends on the axis (``AXES``):

- "one-epoch": one epoch on 20,000 images at a constant LR (all eighteen set-ups);
- "small-data": four epochs on 5,000 images, the same number of examples seen four times, as the
  course's lessons and exercises train (eight of the set-ups): the best LR moves with the run's
  length and data;
- "small-data-cosine": the same, the LR annealed from the pick to zero by a cosine, as the home
  experiment's "cosine" run uses the suggestion.

Then, for each range-test seed, each rule picks an LR from range tests run with that seed, a model
is trained at the pick in the same way (same training seeds, so the same initial weights and batch
orders as the grid), and the gap is the grid's best minus that accuracy, in points. The tables give
every pick and gap, and each rule's worst gap over all set-ups and seeds; the cost of the tests
(the examples they train on) is printed after them.

The noise floor: how far a picker that had seen the other training seeds' whole grids lands on this
seed's (the best LR of their mean grid, its gap on seed b's grid). A rule that sees none of seed b's
runs cannot be expected to beat it. "Beyond the floor" is a rule's gap on seed b minus that floor,
the worst over the training seeds: the part of a miss that the grid's own noise does not explain.
Two more measures of what no rule can beat (``lrcourse.lr_grids``): how far two training seeds' mean grid
picks on the other two's, per set-up; and, after the cosine axis, the best one LR does on both four-epoch
axes at once, which train from the same range tests, so that any rule picks the same LR for both.

Range-test seed ``s`` means: the model the tests look at is initialised with seed ``s``, and
``lr_range_test(..., seed=3 * s, repeats=3)`` runs tests with batch orders ``3s, 3s+1, 3s+2``; the
single-test rules read the first of them.

The accuracies (grid and picks) are kept per axis (``benchmarks/range_test_results.json``,
``range_test_results_small_data.json``, ``range_test_results_small_data_cosine.json``), keyed by
set-up and LR, and reused by later runs. They are committed with the README's tables, so a fresh clone
reproduces those in minutes; ``--recompute`` ignores the files and trains everything again (rewriting
them as it goes). The range tests themselves always run.

Run through ``python benchmarks/range_test.py --skip-speed [--axis NAME]``.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import filelock
import numpy as np

import lrcourse
from lrcourse.device import seeded
from lrcourse.experiments import MODELS, OPTIMIZERS, train_with_schedule
from lrcourse.loaders import steps_per_epoch
from lrcourse.lr_grids import noise_floor, one_lr_for_both, split_half_floor
from lrcourse.lr_rules import median_lr
from lrcourse.metrics import evaluate
from lrcourse.range_test import DEFAULT_RULE, RangeTest, lr_range_test
from lrcourse.schedules import constant, cosine

NUM_ITER = 100  # lr_range_test's default: steps per test
VAL_SIZE = 10_000
TRAIN_SEEDS = (0, 1, 2, 3)  # with two, one seed's luck moved the grid's best by up to two grid steps
RANGE_SEEDS = (0, 1, 2)
REPEATS = 3
GRID_POINTS = 13  # third-decades: four decades


@dataclass(frozen=True)
class Setup:
    model: str  # a key of lrcourse.experiments.MODELS
    optimizer: str  # a key of lrcourse.experiments.OPTIMIZERS
    batch_size: int
    scaled: bool  # pixels in [0, 1], or raw 0..255
    grid_start: int  # the grid's lowest LR is 10 ** (grid_start / 3)

    @property
    def name(self) -> str:
        return f"{self.model} {self.optimizer} b{self.batch_size}{'' if self.scaled else ' raw'}"

    @property
    def grid(self) -> list[float]:
        return [float(10 ** ((self.grid_start + k) / 3)) for k in range(GRID_POINTS)]


SETUPS = (
    Setup("mlp", "sgd", 64, True, -7),
    Setup("mlp", "momentum", 64, True, -10),
    Setup("mlp", "adam", 64, True, -13),
    Setup("mlp", "adamw", 256, True, -12),
    Setup("mlp", "rmsprop", 64, True, -15),
    Setup("mlp", "momentum", 256, False, -18),
    Setup("mlp", "adam", 256, False, -15),
    Setup("mlp", "sgd", 64, False, -15),
    Setup("cnn", "momentum", 64, True, -9),
    Setup("cnn", "adam", 256, True, -12),
    # Held out: added after the loss rules were designed on the ten above. These five showed that the
    # accuracy's peak is too noisy a pick and led to accuracy_plateau ...
    Setup("mlp", "adagrad", 64, True, -12),
    Setup("mlp", "rmsprop", 256, False, -18),
    Setup("mlp", "adamw", 64, False, -15),
    Setup("mlp", "sgd", 256, True, -7),
    Setup("cnn", "sgd", 64, True, -7),
    # ... and these three checked it (they also preferred halving the plateau's middle to dividing it by 1.5).
    Setup("mlp", "momentum", 64, False, -18),
    Setup("mlp", "adam", 256, True, -13),
    Setup("cnn", "adamw", 64, True, -13),
)
HELD_OUT = 8  # the last eight set-ups


@dataclass(frozen=True)
class Axis:
    """What a training run at one LR is: ``epochs`` on the first ``train_size`` training images, the LR
    constant or annealed by a cosine from it to zero (``schedule``)."""

    train_size: int
    epochs: int
    cache: Path
    setups: tuple[str, ...]  # names of the set-ups this axis runs
    schedule: str = "constant"  # or "cosine"


# The same 20,000 examples as four passes over 5,000 images, like the lessons' runs; chosen before any of it
# was run: each optimizer family, both models, raw pixels with SGD and momentum.
SMALL_DATA = ("mlp sgd b64", "mlp momentum b64", "mlp adam b64", "mlp adamw b256", "mlp sgd b64 raw",
              "mlp momentum b64 raw", "cnn momentum b64", "cnn adam b256")
AXES = {
    "one-epoch": Axis(20_000, 1, Path(__file__).with_name("range_test_results.json"),
                      tuple(setup.name for setup in SETUPS)),
    "small-data": Axis(5_000, 4, Path(__file__).with_name("range_test_results_small_data.json"), SMALL_DATA),
    "small-data-cosine": Axis(5_000, 4, Path(__file__).with_name("range_test_results_small_data_cosine.json"),
                              SMALL_DATA, schedule="cosine"),
}


def single(rule: str) -> Callable[[RangeTest], float]:
    """A rule applied to one test: the first of the repeated result's tests."""
    return lambda result: getattr(result.tests[0], rule)


#: Each rule as a function of the result of ``lr_range_test(..., repeats=REPEATS)``: the single-test
#: rules read its first test; "(3 tests, median)" is the median of the tests' picks, which is what
#: ``RangeTest.suggestion`` returns for ``repeats=3`` for ``DEFAULT_RULE``.
RULES: dict[str, Callable[[RangeTest], float]] = {
    "steepest (1 test)": single("steepest"),
    "valley (1 test)": single("valley"),
    "min_over_10 (1 test)": single("min_over_10"),
    "midway (1 test)": single("midway"),
    "accuracy_plateau (1 test)": single("accuracy_plateau"),
    "loss_and_accuracy (1 test)": single("loss_and_accuracy"),
    "steepest (3 tests, median)": lambda result: median_lr([test.steepest for test in result.tests]),
    "midway (3 tests, median)": lambda result: median_lr([test.midway for test in result.tests]),
    "accuracy_plateau (3 tests, median)": lambda result: median_lr([test.accuracy_plateau for test in result.tests]),
    "loss_and_accuracy (3 tests, median)": lambda result: result.suggestion,
}
DEFAULT = f"{DEFAULT_RULE} (1 test)"  # what lr_range_test(...).suggestion picks with its default repeats=1


class Accuracies:
    """A training run's validation accuracy at an LR, per training seed: trained once, then read from
    the axis's JSON cache. Each new result is merged into the file under a lock and written atomically,
    so two runs of the benchmark (say, on different set-ups) lose nothing of each other's."""

    def __init__(self, axis: Axis, recompute: bool):
        self.axis, self.path, self.recompute = axis, axis.cache, recompute
        self.config = {"train_size": axis.train_size, "val_size": VAL_SIZE, "epochs": axis.epochs,
                       "train_seeds": list(TRAIN_SEEDS)}
        if axis.schedule != "constant":  # the constant axes' caches predate the schedule
            self.config["schedule"] = axis.schedule
        self.data = {"config": self.config, "setups": {}} if recompute else self.read()
        self.trained = 0

    def read(self) -> dict:
        cached = json.loads(self.path.read_text()) if self.path.exists() else {}
        return cached if cached.get("config") == self.config else {"config": self.config, "setups": {}}

    def __call__(self, setup: Setup, lr: float, train, val) -> float:
        """The mean accuracy over the training seeds at ``lr``."""
        return float(np.mean(self.seeds(setup, lr, train, val)))

    def seeds(self, setup: Setup, lr: float, train, val) -> list[float]:
        """The accuracy at ``lr`` for each training seed."""
        key = lr_key(lr)
        runs = self.data["setups"].setdefault(setup.name, {})
        if key not in runs:
            runs[key] = [train_run(setup, float(key), train, val, seed, self.axis) for seed in TRAIN_SEEDS]
            self.trained += len(TRAIN_SEEDS)
            self.save(setup.name, key, runs[key])
        return runs[key]

    def save(self, name: str, key: str, accuracies: list[float]) -> None:
        with filelock.FileLock(f"{self.path}.lock"):
            merged = self.read()
            merged["setups"].setdefault(name, {})[key] = accuracies
            temporary = self.path.with_suffix(".json.tmp")
            with open(temporary, "w") as file:
                json.dump(merged, file, indent=1, sort_keys=True)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, self.path)


def lr_key(lr: float) -> str:
    """How an LR is written in the results files: six significant digits, so a pick and the grid point it
    rounds to share their runs."""
    return f"{lr:.6g}"


def train_run(setup: Setup, lr: float, train, val, seed: int, axis: Axis) -> float:
    """The final validation accuracy of a run at ``lr`` (constant, or its cosine's start)."""
    total_steps = axis.epochs * steps_per_epoch(train, setup.batch_size)
    schedule = constant(base_lr=lr) if axis.schedule == "constant" else cosine(base_lr=lr, total_steps=total_steps)
    run = train_with_schedule(train, schedule, val=val, optimizer=setup.optimizer, epochs=axis.epochs,
                              batch_size=setup.batch_size, model=MODELS[setup.model], seed=seed)
    if run.history.val_accuracy:
        return run.history.val_accuracy[-1]
    return evaluate(run.model, val)["accuracy"]  # diverged: the weights before the first non-finite loss


def range_tests(setup: Setup, train, seed: int) -> RangeTest:
    model = seeded(MODELS[setup.model], seed, train.device)
    optimizer = OPTIMIZERS[setup.optimizer](model.parameters(), lr=1e-3)
    return lr_range_test(model, train, optimizer, batch_size=setup.batch_size, seed=REPEATS * seed, repeats=REPEATS,
                         progress=False)


def quality(setups, accuracy: Accuracies, device) -> None:
    axis = accuracy.axis
    data = {scaled: lrcourse.load_fashion_mnist(scaled=scaled, device=device) for scaled in (True, False)}
    print(f"Suggestion quality: {axis.epochs} epoch(s) on {axis.train_size:,} images, validation accuracy on "
          f"{VAL_SIZE:,}, mean of training seeds {TRAIN_SEEDS}; grids of {GRID_POINTS} third-decades; range-test "
          f"seeds {RANGE_SEEDS}, {REPEATS} tests of {NUM_ITER} steps each")
    gaps = {rule: [] for rule in RULES}
    beyond = {rule: [] for rule in RULES}  # gap on a training seed minus that seed's noise floor
    costs, halves = [], []
    for setup in setups:
        train, val = data[setup.scaled].train[:axis.train_size], data[setup.scaled].val[:VAL_SIZE]
        per_seed = np.array([accuracy.seeds(setup, lr, train, val) for lr in setup.grid])
        grid = dict(zip(setup.grid, per_seed.mean(axis=1)))
        best_lr = max(grid, key=grid.get)
        floor = noise_floor(per_seed)
        halves.append((split_half_floor(per_seed), setup.name))
        edge = " (at the grid's edge: widen it)" if best_lr in (setup.grid[0], setup.grid[-1]) else ""
        seeds = per_seed[setup.grid.index(best_lr)]
        print(f"\n{setup.name}: grid best lr={best_lr:.3g}, {grid[best_lr]:.2%}{edge} (training seeds "
              f"{max(seeds) - min(seeds):.1%} apart there); noise floor per training seed: "
              + ", ".join(f"{f:.1f}" for f in floor) + f"; two seeds' best LR on the other two's grid: "
              f"{halves[-1][0]:.1f} behind at worst; grid: "
              + " ".join(f"{lr:.2g}:{100 * acc:.1f}" for lr, acc in grid.items()))
        print(f"  {'rule':<30} " + " ".join(f"{f'seed {s}: LR, gap':>19}" for s in RANGE_SEEDS))
        picks = {rule: [] for rule in RULES}
        for seed in RANGE_SEEDS:
            result = range_tests(setup, train, seed)
            costs.append((setup, sum(test.steps for test in result.tests) * setup.batch_size, result.seconds))
            for rule, pick in RULES.items():
                lr = pick(result)
                at_pick = np.array(accuracy.seeds(setup, lr, train, val))
                gap = 100 * (grid[best_lr] - at_pick.mean())
                picks[rule].append((lr, gap))
                gaps[rule].append((gap, setup.name, seed))
                excess = 100 * (per_seed.max(axis=0) - at_pick) - floor
                beyond[rule].append((float(excess.max()), setup.name, seed))
        for rule, row in picks.items():
            print(f"  {rule:<30} " + " ".join(f"{lr:>10.2g} {gap:>+7.1f}  " for lr, gap in row))
    summary(setups, gaps, beyond, show_held_out=axis is AXES["one-epoch"])
    print(f"Two training seeds' mean grid picks an LR more than a point behind the other two seeds' best on "
          f"{sum(h > 1 for h, _ in halves)} of {len(halves)} set-ups (worst: {max(halves)[0]:.1f}, {max(halves)[1]})")
    if axis is AXES["small-data-cosine"]:
        one_pick_for_both(setups, accuracy)
    print(f"Cost: training examples per range test, and as a fraction of one epoch of the {axis.train_size:,} "
          f"images trained on here and of all 50,000 training images ({REPEATS} tests cost {REPEATS} times as much):")
    for batch_size in sorted({setup.batch_size for setup, _, _ in costs}):
        examples = [n / REPEATS for setup, n, _ in costs if setup.batch_size == batch_size]
        seconds = [s / REPEATS for setup, _, s in costs if setup.batch_size == batch_size]
        print(f"  batch {batch_size}: up to {max(examples):,.0f} examples = {max(examples) / axis.train_size:.2f} "
              f"and {max(examples) / 50_000:.2f} of an epoch; {np.median(seconds):.1f} s per test (median, wall "
              f"clock, noisy)")
    print(f"({accuracy.trained} training runs this time; the others came from {axis.cache.name})")


def one_pick_for_both(setups, cosine_runs: Accuracies) -> None:
    """The four-epoch axes train on the same images from the same range tests, so every rule picks the same
    LR for a constant LR and for a cosine: its worst gap over both is at least what the best single LR gets."""
    constant_runs = Accuracies(AXES["small-data"], recompute=False).data["setups"]
    print("\nOne pick for both four-epoch axes (a constant LR, and a cosine from it): the LR trained on both whose "
          "larger gap is least, and its gaps (constant / cosine): no rule that reads only the range test does better "
          "(among the LRs trained).")
    bounds = []
    for setup in setups:
        if setup.name not in constant_runs:
            print(f"  {setup.name}: not in {AXES['small-data'].cache.name}; run --axis small-data first")
            continue
        lr, on_constant, on_cosine = shared_pick(setup, constant_runs, cosine_runs.data["setups"])
        bounds.append((max(on_constant, on_cosine), setup.name))
        print(f"  {setup.name:<22} {float(lr):>9.3g}: {on_constant:4.1f} / {on_cosine:4.1f}")
    if bounds:
        print(f"  worst: {max(bounds)[0]:.1f} points ({max(bounds)[1]})")


def shared_pick(setup: Setup, constant_runs: dict, cosine_runs: dict):
    """:func:`lrcourse.lr_grids.one_lr_for_both` of a set-up's runs on the two four-epoch axes, as the results
    files store them (``{set-up name: {lr_key: accuracies per training seed}}``)."""
    runs = [{float(key): seeds for key, seeds in stored[setup.name].items()} for stored in (constant_runs, cosine_runs)]
    return one_lr_for_both(*runs, grid=[float(lr_key(lr)) for lr in setup.grid])


def summary(setups, gaps: dict, beyond: dict, show_held_out: bool) -> None:
    """The table of worst gaps; the held-out column only on the axis the rules were designed on."""
    print(f"\nWorst gap (grid best minus the accuracy at the rule's pick, points) over {len(setups)} set-ups x "
          f"{len(RANGE_SEEDS)} range-test seeds:")
    held_out = {setup.name for setup in SETUPS[-HELD_OUT:]} if show_held_out else set()
    print(f"| {'rule':<32} | worst gap | where | mean gap | within 1 point | worst, scaled pixels only "
          f"| worst, held-out set-ups | worst beyond the noise floor |")
    print(f"|{'-' * 34}|----------:|-------|---------:|---------------:|---------------------------|"
          f"-------------------------|------------------------------|")

    def worst_of(rows):
        return f"{max(rows)[0]:.1f} ({max(rows)[1]}, seed {max(rows)[2]})" if rows else "-"

    for rule, rows in gaps.items():
        worst = max(rows)
        within = sum(gap <= 1.0 for gap, _, _ in rows)
        scaled = [row for row in rows if not row[1].endswith(" raw")]
        print(f"| {rule:<32} | {worst[0]:9.1f} | {worst[1]}, seed {worst[2]} | {np.mean([g for g, _, _ in rows]):8.1f} "
              f"| {within:>3} of {len(rows):<3}    | {worst_of(scaled)} | "
              f"{worst_of([row for row in rows if row[1] in held_out])} | {worst_of(beyond[rule])} |")
    worst_default, worst_beyond = max(gaps[DEFAULT])[0], max(beyond[DEFAULT])[0]
    print(f"\nThe default's worst gap: {worst_default:.1f} points (target <= 1.0): "
          f"{'PASS' if worst_default <= 1.0 else 'FAIL'}; beyond the noise floor: {worst_beyond:.1f} "
          f"{'PASS' if worst_beyond <= 1.0 else 'FAIL'}")
