"""Exercises of lesson 04, decay schedules and warm-up.

- ``q1``: step decay as a function of the step.
- ``q2``: the peak LR of the Transformer's warm-up schedule.
"""

from __future__ import annotations

import math

import torch

from .core import Question
from .grading import Case, Incorrect, as_number, grade_cases

TITLE = "Decay schedules and warm-up"

D_MODEL, WARMUP_STEPS = 512, 4000


def _pytorch_step_lr(step: int, base_lr: float, step_size: int, gamma: float) -> float:
    """The LR PyTorch's StepLR applies at ``step``: the reference for q1."""
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=base_lr)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=step_size, gamma=gamma)
    for _ in range(step):
        optimizer.step()
        scheduler.step()
    return optimizer.param_groups[0]["lr"]


def _step_decay_cases():
    for step, base_lr, step_size, gamma in ((0, 0.1, 30, 0.1), (29, 0.1, 30, 0.1), (30, 0.1, 30, 0.1),
                                            (45, 0.1, 30, 0.1), (95, 0.5, 30, 0.5), (7, 1.0, 1, 0.9)):
        yield Case(f"for step={step}, base_lr={base_lr:g}, step_size={step_size}, gamma={gamma:g}",
                   (step, base_lr, step_size, gamma), _pytorch_step_lr(step, base_lr, step_size, gamma))


def _check_step_decay(got, case: Case) -> str | None:
    step, base_lr, step_size, gamma = case.args
    got = as_number(got, "your LR")
    if math.isclose(got, case.expected, rel_tol=1e-9):
        return None
    if math.isclose(got, base_lr * gamma ** (step / step_size), rel_tol=1e-9):
        return (f"your LR is {got:.4g}: it changes within a step_size interval, but step decay holds the LR constant "
                "between drops")
    return (f"your function returned {got:.4g}: count how many drops have happened by this step, and what each one "
            "multiplies the LR by")


def _grade_step_decay(step_decay_lr) -> None:
    grade_cases(step_decay_lr, _step_decay_cases(), _check_step_decay)


def _grade_transformer_peak(answer) -> None:
    value = as_number(answer, "peak_lr")
    expected = D_MODEL ** -0.5 * WARMUP_STEPS ** -0.5
    if math.isclose(value, expected, rel_tol=0.01):
        return
    if math.isclose(value, 1e-3, rel_tol=0.01):
        raise Incorrect("0.001 is the 'initial LR' one of the source notes gives, but the paper's formula never uses "
                        "it: evaluate the formula where it peaks")
    if math.isclose(value, D_MODEL ** -0.5, rel_tol=0.01):
        raise Incorrect(f"{value:.3g} is only the d_model factor; the step factor at the peak is missing")
    raise Incorrect(f"{value:.3g} is not the formula's value at its peak: find the step where the two terms of "
                    "the min are equal, and evaluate there")


q1 = Question(
    "Step decay", _grade_step_decay,
    hints=("The LR is base_lr until step_size steps have passed, then base_lr * gamma, and so on.",
           "The number of drops so far is step // step_size (integer division)."),
    solution="""
def step_decay_lr(step, base_lr, step_size, gamma):
    return base_lr * gamma ** (step // step_size)
""",
    answer_name="step_decay_lr",
)

q2 = Question(
    "The Transformer's peak LR", _grade_transformer_peak,
    hints=("lrate = d_model^-0.5 * min(step^-0.5, step * warmup^-1.5); the first term falls, the second rises.",
           "They are equal at step = warmup_steps = 4000."),
    solution="""
peak_lr = 512 ** -0.5 * 4000 ** -0.5
""",
    answer_name="peak_lr",
)
