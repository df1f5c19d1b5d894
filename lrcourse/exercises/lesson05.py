"""Exercises of lesson 05, cyclical learning rates.

- ``q1``: the triangular policy as a function of the step.
- ``q2``: read ``(base_lr, max_lr)`` off a range-test curve (lesson 03's :func:`curve`).
"""

from __future__ import annotations

import math

import numpy as np
import torch

from .core import Question
from .grading import Case, Incorrect, NotAttempted, as_number, grade_cases, is_stub
from .lesson03 import curve

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
