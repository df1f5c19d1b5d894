"""Exercises of lesson 05, cyclical learning rates.

- ``q1``: the triangular policy as a function of the step.
- ``q2``: read ``(base_lr, max_lr)`` off a range-test curve (lesson 03's :func:`curve`).
- ``q3``: an experiment: iterations to reach a target accuracy, over seeds (Smith's axis in CLR's Table 1).
"""

from __future__ import annotations

import math

import numpy as np
import torch

from .. import schedules as S
from ..data import num_batches
from .core import Question
from .grading import Case, Incorrect, NotAttempted, as_number, call, grade_cases, is_stub
from .lesson03 import curve
from .setups import reference_history, setup

TITLE = "Cyclical learning rates"


def _pytorch_triangular(steps: int, base_lr: float, max_lr: float, step_size: int) -> list[float]:
    """PyTorch's CyclicLR(mode="triangular") LRs for steps 0..steps-1: the reference for q1."""
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=base_lr)
    scheduler = torch.optim.lr_scheduler.CyclicLR(optimizer, base_lr=base_lr, max_lr=max_lr, step_size_up=step_size,
                                                  cycle_momentum=False)
    lrs = []
    for _ in range(steps):
        lrs.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    return lrs


def _triangular_cases():
    for base_lr, max_lr, step_size in ((0.001, 0.006, 4), (0.01, 0.1, 5), (0.2, 0.2, 3)):
        expected = _pytorch_triangular(4 * step_size + 3, base_lr, max_lr, step_size)
        for step, want in enumerate(expected):
            yield Case(f"for step {step} with base_lr={base_lr:g}, max_lr={max_lr:g}, step_size={step_size}",
                       (step, base_lr, max_lr, step_size), want)


def _check_triangular(got, case: Case) -> str | None:
    _, base_lr, max_lr, _ = case.args
    got = as_number(got, "your LR")
    if math.isclose(got, case.expected, rel_tol=1e-9, abs_tol=1e-12):
        return None
    if not base_lr - 1e-12 <= got <= max_lr + 1e-12:
        return f"your LR is {got:.4g}, outside [base_lr, max_lr]"
    return (f"your LR is {got:.4g}. Where in the cycle is this step: climbing, at the top (step_size steps in) or "
            "coming down?")


def _grade_triangular(triangular_lr) -> None:
    grade_cases(triangular_lr, _triangular_cases(), _check_triangular)


def _grade_range(answer) -> None:
    if not isinstance(answer, (tuple, list)) or len(answer) != 2:
        raise Incorrect(f"lr_range should be a pair (base_lr, max_lr); got {answer!r}")
    if any(is_stub(value) for value in answer):
        raise NotAttempted("replace each ... in lr_range with a learning rate read off the plot")
    base_lr, max_lr = (as_number(value, name) for value, name in zip(answer, ("base_lr", "max_lr")))
    test = curve()
    if not 0 < base_lr < max_lr:
        raise Incorrect(f"expected 0 < base_lr < max_lr; got base_lr={base_lr:g}, max_lr={max_lr:g}")
    loss = lambda lr: float(np.interp(np.log(lr), np.log(test.lrs), test.smoothed))  # noqa: E731
    if max_lr > test.lowest:
        raise Incorrect(f"at max_lr={max_lr:.2g} the loss is already past its lowest point ({loss(max_lr):.2f}): "
                        "the cycle would spend its peaks diverging")
    if max_lr < test.steepest:
        raise Incorrect(f"max_lr={max_lr:.2g} stops before the loss has finished falling; the top of the cycle "
                        "can go further right")
    if base_lr > test.steepest:
        raise Incorrect(f"base_lr={base_lr:.2g} is already in the steep part of the curve; the bottom of the cycle "
                        "should be where the loss starts to fall")
    if base_lr < test.cyclical_range[0] / 10:
        raise Incorrect(f"at base_lr={base_lr:.2g} the loss is still flat ({loss(base_lr):.2f}): the bottom of the "
                        "cycle would be wasted. Move it right, to where the loss starts to fall")


#: Seconds one call of the learner's iterations_to_target may take (three short runs, on a busy machine).
TARGET_SECONDS = 60.0


def _target_cases():
    """(set-up, schedule, target): a target every seed reaches within the run, and one no seed reaches."""
    unseen = setup(start=40_000, epochs=4)
    steps = num_batches(unseen.train, 64)
    yield unseen, S.triangular(base_lr=0.01, max_lr=0.1, step_size=steps), 0.72
    yield unseen, S.constant(base_lr=0.05), 0.85


def _grade_iterations(iterations_to_target) -> None:
    for case in _target_cases():
        _grade_iterations_case(iterations_to_target, *case)


def _grade_iterations_case(iterations_to_target, where_setup, schedule, target) -> None:
    where = f"for {schedule} and target {target:g} {where_setup.description}"
    result = call(iterations_to_target, schedule, target, where_setup.train, where_setup.val, where_setup.epochs,
                  where_setup.model, case=where, time_limit=TARGET_SECONDS)
    if not isinstance(result, dict):
        raise Incorrect(f"{where}, expected a dict {{seed: iterations or None}}; got {type(result).__name__}")
    if any(isinstance(seed, bool) or not isinstance(seed, int) for seed in result):
        raise Incorrect(f"{where}, the keys of your dict should be the seeds (ints); got {list(result)!r:.200}")
    if len(result) < 3:
        raise Incorrect(f"{where}, you ran {len(result)} seed(s): how long a schedule takes varies from seed to seed, "
                        "so measure at least 3")
    steps_per_epoch = num_batches(where_setup.train, 64)
    for seed in sorted(result):
        got = result[seed]
        if got is not None and (isinstance(got, bool) or not isinstance(got, int)):
            raise Incorrect(f"{where}, for seed {seed} you returned {got!r:.100}; expected a number of iterations "
                            "(an int) or None")
        history = reference_history(where_setup, schedule, seed)
        want = history.steps_to_reach(target)
        if got == want:
            continue
        if want is None:
            raise Incorrect(f"{where}, for seed {seed} you returned {got}, but in that run the validation accuracy "
                            "never reached the target: return None then")
        if got is None:
            raise Incorrect(f"{where}, for seed {seed} you returned None, but the validation accuracy did reach the "
                            "target in that run")
        if got % steps_per_epoch:
            raise Incorrect(f"{where}, for seed {seed} you returned {got}, which is not at the end of an epoch: the "
                            "validation accuracy is measured once per epoch, so count the iterations of whole "
                            "epochs (optimizer steps, one per batch)")
        epoch = got // steps_per_epoch
        if not 1 <= epoch <= len(history.val_accuracy):
            raise Incorrect(f"{where}, for seed {seed} you returned {got}, but the run has "
                            f"{len(history.val_accuracy) * steps_per_epoch} iterations (optimizer steps, one per batch)")
        if history.val_accuracy[epoch - 1] < target:
            raise Incorrect(f"{where}, for seed {seed} you returned {got}: the validation accuracy had not reached "
                            f"the target after that many iterations")
        raise Incorrect(f"{where}, for seed {seed} you returned {got}: the validation accuracy had reached the target "
                        "earlier. Count up to the first epoch that reaches it (accuracy >= target)")


q1 = Question(
    "The triangular policy", _grade_triangular,
    hints=("A cycle is 2 * step_size steps: up from base_lr to max_lr, then down again.",
           "With x = abs(step / step_size - 2 * cycle - 1) and cycle = step // (2 * step_size), "
           "the LR is base_lr + (max_lr - base_lr) * max(0, 1 - x)."),
    solution="""
def triangular_lr(step, base_lr, max_lr, step_size):
    cycle = step // (2 * step_size)
    x = abs(step / step_size - 2 * cycle - 1)
    return base_lr + (max_lr - base_lr) * max(0.0, 1 - x)
""",
    answer_name="triangular_lr",
)

q2 = Question(
    "Bounds from a range test", _grade_range,
    hints=("Smith: base_lr where the loss starts to fall, max_lr where it stops falling or gets ragged.",
           "Both lie left of the lowest point; the steepest part of the curve lies between them."),
    solution="""
lr_range = ex.curve().cyclical_range
""",
    answer_name="lr_range",
)

q3 = Question(
    "Iterations to a target accuracy", _grade_iterations,
    hints=("For each of at least three seeds, train once: train_with_schedule(train, schedule, val=val, "
           "epochs=epochs, model=model, seed=seed). The validation accuracy is measured at the end of every epoch.",
           "The first epoch (counted from 1) whose val_accuracy is >= target, times the steps of one epoch "
           "(history.steps_per_epoch); None if no epoch reached it."),
    solution="""
from lrcourse.experiments import train_with_schedule

def iterations_to_target(schedule, target, train, val, epochs, model, seeds=(0, 1, 2)):
    found = {}
    for seed in seeds:
        history = train_with_schedule(train, schedule, val=val, epochs=epochs, model=model, seed=seed).history
        reached = [epoch for epoch, accuracy in enumerate(history.val_accuracy, start=1) if accuracy >= target]
        found[seed] = reached[0] * history.steps_per_epoch if reached else None
    return found
""",
    answer_name="iterations_to_target",
)
