"""Exercises of lesson 11, the whole recipe.

- ``q1``: the ``total_steps`` a step-wise schedule such as ``OneCycleLR`` needs for a run.
- ``q2``: 1-cycle's ``max_lr`` read off a range-test curve (lesson 03's :func:`curve`).
"""

from __future__ import annotations

import math

from .core import Question
from .grading import Case, Incorrect, as_number, grade_cases
from .lesson03 import curve

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


q1 = Question(
    "total_steps for a run", _grade_total_steps,
    hints=("A step-wise schedule is stepped once per batch: count the batches of the whole run.",
           "Per epoch: ceil(n / batch_size) batches, or n // batch_size with drop_last=True."),
    solution="""
import math

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
