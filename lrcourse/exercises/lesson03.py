"""Exercises of lesson 03, the LR range test.

- ``q1``: the exponential LR ramp.
- ``q2``: bias-corrected smoothing of the losses.
- ``q3``: pick a LR from a range-test curve (:func:`curve`).
- ``q4``: an experiment: write ``find_lr(make_model, make_optimizer, train, batch_size)``; it is run
  on set-ups the lesson did not show, and the LR it returns must train within a margin of the
  grader's own grid search, at a fraction of the grid's cost.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import numpy as np
import torch

from ..data import TensorData, load_fashion_mnist
from ..device import seeded
from ..experiments import OPTIMIZERS
from ..lr_rules import smooth
from ..metrics import evaluate
from ..models import MLP
from ..range_test import RangeTest
from ..schedules import ExpAnneal
from ..train import fit
from . import sandbox
from .core import Question
from .grading import Case, Incorrect, Wrong, as_number, call, grade_cases

TITLE = "The LR range test"


def _as_list(value, length: int) -> np.ndarray:
    """``value`` as an array of ``length`` floats, or :class:`Wrong` saying why it is not one."""
    try:
        array = np.asarray([float(v) for v in value], dtype=float)
    except (TypeError, ValueError):
        raise Wrong(f"your function returned a {type(value).__name__}; expected a list of numbers") from None
    if len(array) != length:
        raise Wrong(f"your function returned {len(array)} values; expected {length}")
    return array


def _ramp_cases():
    for start, end, n in ((1e-7, 10.0, 100), (1e-4, 1e-1, 4), (0.5, 2.0, 2), (1e-3, 1.0, 7)):
        ramp = ExpAnneal(start, end)  # the range test's own ramp is the reference
        yield Case(f"for start_lr={start:g}, end_lr={end:g}, num_iter={n}", (start, end, n),
                   [ramp(i / (n - 1)) for i in range(n)])


def _check_ramp(got, case: Case) -> str | None:
    start, end, n = case.args
    got = _as_list(got, n)
    if np.allclose(got, case.expected, rtol=1e-9):
        return None
    if not (np.isclose(got[0], start) and np.isclose(got[-1], end)):
        return (f"your ramp runs from {got[0]:.3g} to {got[-1]:.3g}; it should start at start_lr and end exactly "
                "at end_lr")
    if np.allclose(got, np.linspace(start, end, n), rtol=1e-9):
        return "your ramp is linear: equal steps in LR, not equal ratios"
    ratios = got[1:] / got[:-1]
    return (f"consecutive LRs of your ramp have ratios from {ratios.min():.4g} to {ratios.max():.4g}; an exponential "
            "ramp multiplies by the same factor every step")


def _grade_ramp(exp_ramp) -> None:
    grade_cases(exp_ramp, _ramp_cases(), _check_ramp)


def _smoothing_cases():
    for losses, beta in (([2.0, 2.0, 2.0, 2.0], 0.9), ([2.3, 2.1, 1.7, 1.9, 1.2], 0.98), ([1.0, 3.0, 2.0], 0.0),
                         ([0.5, 0.4, 0.6, 0.2, 0.3, 0.1], 0.5)):
        yield Case(f"for losses={losses} and beta={beta}", (list(losses), beta), (losses, smooth(losses, beta)))


def _check_smoothing(got, case: Case) -> str | None:
    beta = case.args[1]
    losses, expected = case.expected
    got = _as_list(got, len(losses))
    if np.allclose(got, expected, rtol=1e-9):
        return None
    if beta and np.isclose(got[0], (1 - beta) * losses[0]):
        return (f"your first smoothed value is {got[0]:.4g}: the moving average starts at 0 and is pulled towards "
                "it. That is what the bias correction is for")
    first_wrong = int(np.argmax(~np.isclose(got, expected, rtol=1e-9)))
    return (f"your smoothed value at index {first_wrong} is {got[first_wrong]:.4g}, which is not the bias-corrected "
            "moving average")


def _grade_smoothing(smooth_losses) -> None:
    grade_cases(smooth_losses, _smoothing_cases(), _check_smoothing)


def curve() -> RangeTest:
    """The range-test curve of q3: a made-up but typical one (flat, a fall, a blow-up)."""
    lrs = np.geomspace(1e-7, 10, 100)
    log_lr = np.log10(lrs)
    losses = 2.3 - 1.4 / (1 + np.exp(-(log_lr + 2.5) * 2.5)) + np.where(log_lr > -0.8, (log_lr + 0.8) ** 2 * 4, 0)
    wiggle = 0.02 * np.sin(np.arange(100) * 1.7)
    return RangeTest(start_lr=1e-7, end_lr=10.0, num_iter=100, mode="exp", lrs=list(lrs),
                     losses=list(losses + wiggle), smoothed=list(losses))


def _grade_pick(answer) -> None:
    lr = as_number(answer, "my_lr")
    test = curve()
    if lr <= 0:
        raise Incorrect(f"my_lr is {lr:g}; a learning rate must be > 0")
    loss_at = float(np.interp(np.log(lr), np.log(test.lrs), test.smoothed))
    if lr < test.steepest / 4:
        raise Incorrect(f"at lr={lr:.2g} the loss on the curve is {loss_at:.2f}: it has barely started to fall, "
                        "so training would be slow. Look further right")
    if lr > min(test.lowest / 2, test.steepest * 10):
        raise Incorrect(f"at lr={lr:.2g} the loss is already near or past its lowest point; a constant LR there "
                        "sits on the edge of divergence. Look further left")


@dataclass(frozen=True)
class Setup:
    """A set-up ``find_lr`` is tried on: an MLP of ``hidden`` units trained with ``optimizer`` for
    ``EPOCHS`` epochs on ``TRAIN_SIZE`` images from image ``first`` on (raw 0..255 pixels unless
    ``scaled``), and the grader's grid of LRs ``10 ** (k / 3)`` for ``k`` in ``grid``."""

    description: str
    hidden: int
    optimizer: str
    scaled: bool
    first: int
    grid: range


#: Set-ups the lesson never trains on: other widths, optimizers, pixel scales and images.
SETUPS = (
    Setup("an MLP of 32 hidden units, SGD with momentum 0.9, pixels scaled to [0, 1]", 32, "momentum", True, 30_000,
          range(-9, 0)),
    Setup("an MLP of 128 hidden units, Adam, pixels scaled to [0, 1]", 128, "adam", True, 40_000, range(-12, -3)),
)
TRAIN_SIZE, VAL_SIZE, EPOCHS, BATCH_SIZE, SEEDS = 4_000, 2_000, 2, 64, (0, 1)
MARGIN = 0.03  # accuracy the found LR may lose against the grid's best: 2 epochs on 4,000 images are noisy
#: The most examples find_lr may train on: three training runs' worth (a grid costs one run per LR).
BUDGET = 3 * EPOCHS * TRAIN_SIZE


class _Counter:
    """Counts the examples that models built by the grader's ``make_model`` train on."""

    def __init__(self):
        self.examples = 0

    def __call__(self, module, inputs) -> None:
        if module.training and torch.is_grad_enabled():
            self.examples += len(inputs[0])


def _setup_data(setup: Setup) -> tuple[TensorData, TensorData]:
    data = load_fashion_mnist(scaled=setup.scaled, device="cpu")
    return data.train[setup.first:setup.first + TRAIN_SIZE], data.val[:VAL_SIZE]


def _accuracy(setup: Setup, lr: float, train: TensorData, val: TensorData) -> float:
    """Validation accuracy after ``EPOCHS`` epochs at ``lr``, the mean over ``SEEDS``."""
    accuracies = []
    for seed in SEEDS:
        model = seeded(partial(MLP, hidden=setup.hidden), seed)
        history = fit(model, train, OPTIMIZERS[setup.optimizer](model.parameters(), lr=lr), epochs=EPOCHS,
                      batch_size=BATCH_SIZE, val=val, progress=False, seed=seed)
        accuracies.append(history.val_accuracy[-1] if history.val_accuracy else evaluate(model, val)["accuracy"])
    return float(np.mean(accuracies))


def _grade_find_lr(find_lr) -> None:
    for setup in SETUPS:
        train, val = _setup_data(setup)
        counter = _Counter()

        def make_model():
            model = seeded(partial(MLP, hidden=setup.hidden), 0)
            model.register_forward_pre_hook(counter)
            return model

        def make_optimizer(parameters, lr):
            return OPTIMIZERS[setup.optimizer](parameters, lr=lr)

        case = f"for {setup.description}"
        lr = as_number(call(find_lr, make_model, make_optimizer, train, BATCH_SIZE, case=case, time_limit=30),
                       f"{case}, the LR your find_lr returned")
        if not lr > 0:
            raise Incorrect(f"{case}, your find_lr returned {lr:g}; a learning rate must be > 0")
        if counter.examples > BUDGET:
            raise Incorrect(f"{case}, your find_lr trained on {counter.examples:,} examples, more than three training "
                            f"runs ({BUDGET:,}). Finding the LR must cost a fraction of the grid search it replaces")
        with sandbox.stage(f"{case}, the grader's own grid search", 60):
            grid = {10 ** (k / 3): _accuracy(setup, 10 ** (k / 3), train, val) for k in setup.grid}
            found = _accuracy(setup, lr, train, val)
        best = max(grid.values())
        if found < best - MARGIN:
            raise Incorrect(f"{case}, {EPOCHS} epochs at your LR ({lr:.2g}) reach {found:.1%} validation accuracy, "
                            f"{100 * (best - found):.1f} points below the best of a grid of {len(grid)} LRs; it must "
                            f"be within {100 * MARGIN:g} points")


q1 = Question(
    "The exponential ramp", _grade_ramp,
    hints=("Each step multiplies the LR by the same factor; after num_iter - 1 steps it must be at end_lr.",
           "The factor is (end_lr / start_lr) ** (1 / (num_iter - 1)); step i is start_lr * factor ** i."),
    solution="""
def exp_ramp(start_lr, end_lr, num_iter):
    return [start_lr * (end_lr / start_lr) ** (i / (num_iter - 1)) for i in range(num_iter)]
""",
    answer_name="exp_ramp",
)

q2 = Question(
    "Bias-corrected smoothing", _grade_smoothing,
    hints=("Keep a running average avg = beta * avg + (1 - beta) * loss, starting from avg = 0.",
           "Starting from 0 drags the first values down; divide the average at step i (0-based) by 1 - beta ** (i + 1)."),
    solution="""
def smooth_losses(losses, beta):
    average, smoothed = 0.0, []
    for i, loss in enumerate(losses):
        average = beta * average + (1 - beta) * loss
        smoothed.append(average / (1 - beta ** (i + 1)))
    return smoothed
""",
    answer_name="smooth_losses",
)

q3 = Question(
    "Pick a LR from the curve", _grade_pick,
    hints=("You want a LR where the loss is falling fast, not where it is flat or where it turns up.",
           "The steepest part of the descent is a good choice; anything up to a few times larger but well "
           "short of the minimum works too."),
    solution="""
my_lr = ex.curve().steepest
""",
    answer_name="my_lr",
)

q4 = Question(
    "Find the LR of a set-up you have not seen", _grade_find_lr,
    hints=("Run the range test with the optimizer and the batch size you will train with: build it with "
           "make_optimizer(model.parameters(), lr) (the test sets the LR itself) and pass batch_size.",
           "One test is noisy. lr_range_test(..., repeats=3) runs three and returns their median pick as "
           ".suggestion, at three times the cost of one test: still far below a grid search."),
    solution="""
from lrcourse.range_test import lr_range_test

def find_lr(make_model, make_optimizer, train, batch_size):
    model = make_model()
    optimizer = make_optimizer(model.parameters(), 1e-3)   # the test sets the LR itself
    test = lr_range_test(model, train, optimizer, batch_size=batch_size, repeats=3, progress=False)
    return test.suggestion
""",
    answer_name="find_lr",
)
