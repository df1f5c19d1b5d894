"""Exercises of lesson 06, the 1-cycle policy.

- ``q1``: the 1-cycle LR as a function of the step, as PyTorch's OneCycleLR computes it.
- ``q2``: the momentum at the LR's peak.
"""

from __future__ import annotations

import math

import torch

from .core import Question
from .grading import Case, Incorrect, as_number, grade_cases

TITLE = "The 1-cycle policy"


def _pytorch_one_cycle(max_lr: float, total_steps: int, pct_start: float) -> list[float]:
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=max_lr, momentum=0.9)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=max_lr, total_steps=total_steps,
                                                    pct_start=pct_start)
    lrs = []
    for _ in range(total_steps):
        lrs.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    return lrs


def _one_cycle_cases():
    for max_lr, total_steps, pct_start in ((0.1, 100, 0.3), (1.0, 40, 0.25), (0.01, 1000, 0.5)):
        expected = _pytorch_one_cycle(max_lr, total_steps, pct_start)
        for step in sorted({0, 1, total_steps // 8, int(pct_start * total_steps) - 1, total_steps // 2,
                            3 * total_steps // 4, total_steps - 1}):
            yield Case(f"for step {step} of {total_steps} with max_lr={max_lr:g}, pct_start={pct_start:g}",
                       (step, max_lr, total_steps, pct_start), expected[step])


def _check_one_cycle(got, case: Case) -> str | None:
    step, max_lr, total_steps, pct_start = case.args
    got = as_number(got, "your LR")
    # 1% of max_lr: the shape matters here, not PyTorch's off-by-one conventions.
    if abs(got - case.expected) <= 0.01 * max_lr:
        return None
    where = "rising" if step < pct_start * total_steps - 1 else "falling"
    return (f"in the {where} phase, your LR is {got:.4g}. Check the phase's start and end values and that it "
            "follows half a cosine between them")


def _grade_one_cycle(one_cycle_lr) -> None:
    grade_cases(one_cycle_lr, _one_cycle_cases(), _check_one_cycle)


def _grade_momentum(answer) -> None:
    value = as_number(answer, "momentum_at_peak")
    if math.isclose(value, 0.85, abs_tol=1e-9):
        return
    if math.isclose(value, 0.95, abs_tol=1e-9):
        raise Incorrect("0.95 is the momentum where the LR is lowest; 1-cycle moves momentum the opposite way to the LR")
    raise Incorrect(f"{value:g} is not one of the two momentum values of OneCycleLR's defaults")


q1 = Question(
    "The 1-cycle LR at step t", _grade_one_cycle,
    hints=("Two phases: from max_lr / 25 up to max_lr over pct_start of the steps, then down to max_lr / 25 / 1e4.",
           "Within a phase going from a to b, at fraction p of the phase: b + (a - b) * (1 + cos(pi * p)) / 2. "
           "PyTorch ends phase 1 at step pct_start * total_steps - 1 and phase 2 at total_steps - 1."),
    solution="""
import math

def one_cycle_lr(step, max_lr, total_steps, pct_start):
    start, end = max_lr / 25, max_lr / 25 / 1e4
    peak = pct_start * total_steps - 1
    def cos_anneal(a, b, p):
        return b + (a - b) * (1 + math.cos(math.pi * p)) / 2
    if step <= peak:
        return cos_anneal(start, max_lr, step / peak)
    return cos_anneal(max_lr, end, (step - peak) / (total_steps - 1 - peak))
""",
    answer_name="one_cycle_lr",
)

q2 = Question(
    "Momentum at the peak", _grade_momentum,
    hints=("In 1-cycle, momentum moves opposite to the LR.",
           "OneCycleLR's defaults: base_momentum=0.85, max_momentum=0.95."),
    solution="""
momentum_at_peak = 0.85
""",
    answer_name="momentum_at_peak",
)
