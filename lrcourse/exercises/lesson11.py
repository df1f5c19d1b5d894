"""Exercises of lesson 11, the whole recipe.

- ``q1``: the ``total_steps`` a step-wise schedule such as ``OneCycleLR`` needs for a run.
- ``q2``: 1-cycle's ``max_lr`` read off a range-test curve (lesson 03's :func:`curve`).
- ``q3``: a paired comparison of two runs over seeds, with a verdict that respects the noise;
  graded on runs the learner has not seen (a small real training and made-up ones), by what
  the comparison called and what it returned.
"""

from __future__ import annotations

import functools
import math
from typing import Callable

from .core import Question
from .grading import Case, Incorrect, Wrong, as_number, call, grade_cases
from .lesson03 import curve
from .sandbox import stage

TITLE = "The whole recipe"


def _total_steps_cases():
    for n_examples, batch_size, epochs, drop_last in ((50_000, 128, 3, False), (50_000, 128, 3, True),
                                                      (1000, 100, 2, False), (1001, 100, 2, False),
                                                      (1001, 100, 2, True), (60, 64, 5, False)):
        yield Case(f"for {n_examples} examples, batch_size={batch_size}, epochs={epochs}, drop_last={drop_last}",
                   (n_examples, batch_size, epochs, drop_last))


def _check_total_steps(got, case: Case) -> str | None:
    n_examples, batch_size, epochs, drop_last = case.args
    got = as_number(got, "your total_steps")
    per_epoch = n_examples // batch_size if drop_last else math.ceil(n_examples / batch_size)
    if got == epochs * per_epoch:
        return None
    if not drop_last and got == epochs * (n_examples // batch_size):
        return (f"you return {got:g}: without drop_last the last, smaller batch is a step too. OneCycleLR raises an "
                "error when it is stepped more than total_steps times")
    if got == per_epoch:
        return f"you return {got:g}, the steps of one epoch"
    return f"you return {got:g}. Count the batches of one epoch, then multiply by the epochs"


def _grade_total_steps(total_steps) -> None:
    grade_cases(total_steps, _total_steps_cases(), _check_total_steps)


def _grade_max_lr(answer) -> None:
    max_lr = as_number(answer, "max_lr_pick")
    test = curve()
    if max_lr <= 0:
        raise Incorrect(f"max_lr is {max_lr:g}; a learning rate must be > 0")
    if max_lr > test.lowest:
        raise Incorrect(f"max_lr={max_lr:.2g} is past the lowest point of the curve: at its peak the cycle would "
                        "be in the region where the loss blows up")
    if max_lr < test.steepest:
        raise Incorrect(f"max_lr={max_lr:.2g} is no higher than a good constant LR would be. 1-cycle's peak goes "
                        "further right, towards the end of the descent: the annealing that follows cleans up")


VERDICTS = ("a", "b", "no difference")
#: Seconds the learner's comparison may take on the case that trains real (tiny) models.
COMPARISON_TIME_LIMIT = 60.0


class RecordedRun:
    """A run of the grader's: ``run(seed)`` returns the final validation accuracy of that seed's
    run, and records the seeds it was called with and what it returned for each."""

    def __init__(self, accuracy: Callable[[int], float]):
        self.accuracy, self.seeds, self.results = accuracy, [], {}

    def __call__(self, seed) -> float:
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise TypeError(f"seed must be an int >= 0; got {seed!r}")
        self.seeds.append(seed)
        self.results[seed] = self.accuracy(seed)
        return self.results[seed]


def _noise(seed: int, salt: int) -> float:
    """A made-up run's noise: a fixed number in [-1, 1) for each seed."""
    return ((seed * 7919 + salt * 104729) % 1000) / 500 - 1


def _made_up_cases():
    base = 0.85
    yield "for two made-up runs where a ends 2 points ahead, give or take 0.3", (
        lambda s: base + 0.02 + 0.003 * _noise(s, 1), lambda s: base + 0.003 * _noise(s, 2))
    yield "for two made-up runs where b ends 1.5 points ahead, give or take 0.3", (
        lambda s: base + 0.003 * _noise(s, 3), lambda s: base + 0.015 + 0.003 * _noise(s, 4))
    # Ahead on average, but one seed in three goes the other way.
    yield "for two made-up runs whose difference changes sign with the seed", (
        lambda s: base + (0.01 if s % 3 else -0.004), lambda s: base)
    yield "for two runs that are the same", (lambda s: base + 0.003 * _noise(s, 5),
                                             lambda s: base + 0.003 * _noise(s, 5))


def _real_case():
    """1-cycle against a low constant LR for a small MLP on 1,000 FashionMNIST images: seeds matter here."""
    from ..data import load_fashion_mnist
    from ..experiments import train_with_schedule
    from ..models import MLP
    from ..schedules import constant, one_cycle

    data = load_fashion_mnist(val_size=1000, seed=11)
    train, val = data.train[:1000], data.val
    model = functools.partial(MLP, hidden=32)

    def final_accuracy(schedule, seed: int) -> float:
        run = train_with_schedule(train, schedule, val=val, optimizer="momentum", epochs=2, batch_size=64,
                                  model=model, seed=seed)
        return run.history.val_accuracy[-1]

    return ("for a small MLP on 1,000 images: 1-cycle to 0.2 against a constant 0.005",
            (functools.partial(final_accuracy, one_cycle(max_lr=0.2, total_steps=32)),
             functools.partial(final_accuracy, constant(base_lr=0.005))))


def _check_comparison(got, run_a: RecordedRun, run_b: RecordedRun) -> None:
    if not isinstance(got, dict) or not {"differences", "verdict"} <= set(got):
        raise Wrong(f"your function returned {type(got).__name__}; expected a dict with 'differences' and 'verdict'")
    for name, run in (("run_a", run_a), ("run_b", run_b)):
        if len(set(run.seeds)) < 3:
            raise Wrong(f"your comparison ran {name} with {len(set(run.seeds))} seed(s); at least 3 are needed to "
                        "tell a difference from the noise")
    if set(run_a.seeds) != set(run_b.seeds):
        raise Wrong("run_a and run_b were not given the same seeds: a paired comparison runs both with each seed, "
                    "so that each pair shares its initial weights and batch order")
    differences = got["differences"]
    if not isinstance(differences, dict) or set(differences) != set(run_a.seeds):
        raise Wrong("'differences' should map each seed you ran to run_a(seed) - run_b(seed); its keys are not the "
                    "seeds you ran")
    for seed, value in differences.items():
        expected = run_a.results[seed] - run_b.results[seed]
        value = as_number(value, f"the difference for seed {seed}")
        if not math.isclose(value, expected, rel_tol=1e-6, abs_tol=1e-9):
            raise Wrong(f"the difference you return for seed {seed} is not run_a({seed}) - run_b({seed})")
    values = [run_a.results[seed] - run_b.results[seed] for seed in differences]
    right = "a" if all(v > 0 for v in values) else "b" if all(v < 0 for v in values) else "no difference"
    verdict = got["verdict"]
    if verdict not in VERDICTS:
        raise Wrong(f"the verdict should be one of {VERDICTS}; got {verdict!r}")
    if verdict != right:
        rule = {"a": "'a' needs a - b > 0 on every seed", "b": "'b' needs a - b < 0 on every seed",
                "no difference": "'no difference' is for seeds that disagree in sign"}[verdict]
        raise Wrong(f"your verdict {verdict!r} does not follow from your differences: {rule}")


def _grade_comparison(compare) -> None:
    cases = list(_made_up_cases())
    with stage("preparing a small real experiment", COMPARISON_TIME_LIMIT):
        cases.append(_real_case())
    for description, (accuracy_a, accuracy_b) in cases:
        run_a, run_b = RecordedRun(accuracy_a), RecordedRun(accuracy_b)
        got = call(compare, run_a, run_b, case=description, time_limit=COMPARISON_TIME_LIMIT)
        try:
            _check_comparison(got, run_a, run_b)
        except Wrong as wrong:
            raise Incorrect(f"{description}, {wrong}") from None


q1 = Question(
    "total_steps for a run", _grade_total_steps,
    hints=("A step-wise schedule is stepped once per batch: count the batches of the whole run.",
           "Per epoch: ceil(n / batch_size) batches, or n // batch_size with drop_last=True."),
    solution="""
import functools
import math
from typing import Callable

def total_steps(n_examples, batch_size, epochs, drop_last):
    per_epoch = n_examples // batch_size if drop_last else math.ceil(n_examples / batch_size)
    return epochs * per_epoch
""",
    answer_name="total_steps",
)

q2 = Question(
    "1-cycle's peak from a range test", _grade_max_lr,
    hints=("Smith takes max_lr near the end of the loss's descent on the range-test plot.",
           "Between the steepest point and the lowest point of the smoothed curve; RangeTest.cyclical_range[1] is "
           "one such choice."),
    solution="""
max_lr_pick = ex.curve().cyclical_range[1]
""",
    answer_name="max_lr_pick",
)

q3 = Question(
    "Is the difference larger than the noise?", _grade_comparison,
    hints=("Call run_a and run_b with the same seeds (at least three), so that each pair of runs shares its initial "
           "weights and batch order; subtract per seed.",
           "The verdict is 'a' only if a - b > 0 on every seed, 'b' only if it is < 0 on every seed; otherwise the "
           "seeds disagree and the verdict is 'no difference'."),
    solution="""
def compare(run_a, run_b):
    differences = {seed: run_a(seed) - run_b(seed) for seed in (0, 1, 2)}
    if all(d > 0 for d in differences.values()):
        verdict = "a"
    elif all(d < 0 for d in differences.values()):
        verdict = "b"
    else:
        verdict = "no difference"
    return {"differences": differences, "verdict": verdict}
""",
    answer_name="compare",
)
