"""Exercises of lesson 10, batch size and learning rate.

- ``q1``: scale a learning rate to a new batch size, linearly or by the square root.
- ``q2``: Goyal et al.'s LR for ResNet-50 at batch size 8192.
- ``q3``: how many optimizer steps a run at a large batch size takes.
"""

from __future__ import annotations

import math

from .core import Question
from .grading import Case, Incorrect, as_number, grade_cases

TITLE = "Batch size and learning rate"

#: q3's run: training examples, epochs, batch size (the last batch may be smaller).
Q3_EXAMPLES, Q3_EPOCHS, Q3_BATCH = 10_000, 3, 512


def _scaled_lr_cases():
    for base_lr, base_batch, batch, rule in ((0.1, 256, 512, "linear"), (0.1, 256, 128, "linear"),
                                             (0.001, 32, 512, "sqrt"), (0.01, 64, 16, "sqrt"),
                                             (0.05, 100, 100, "linear"), (3e-4, 128, 8192, "sqrt")):
        yield Case(f"for base_lr={base_lr:g} at base_batch={base_batch}, scaled to batch={batch} by the {rule!r} "
                   "rule", (base_lr, base_batch, batch, rule))


def _check_scaled_lr(got, case: Case) -> str | None:
    base_lr, base_batch, batch, rule = case.args
    got = as_number(got, "your LR")
    ratio = batch / base_batch
    factor, other = (ratio, math.sqrt(ratio)) if rule == "linear" else (math.sqrt(ratio), ratio)
    if math.isclose(got, base_lr * factor, rel_tol=1e-9):
        return None
    if math.isclose(got, base_lr / factor, rel_tol=1e-9):
        return (f"your LR is {got:.4g}: it moves the wrong way. A larger batch gives a less noisy gradient, which "
                "tolerates a larger LR")
    if math.isclose(got, base_lr * other, rel_tol=1e-9):
        return f"your LR is {got:.4g}: that is the other rule"
    return f"your LR is {got:.4g}. Scale base_lr by the ratio of the batch sizes, or by its square root"


def _grade_scaled_lr(scaled_lr) -> None:
    grade_cases(scaled_lr, _scaled_lr_cases(), _check_scaled_lr)


def _grade_goyal(answer) -> None:
    value = as_number(answer, "resnet_lr")
    if math.isclose(value, 3.2, rel_tol=1e-6):
        return
    if math.isclose(value, 0.1 * math.sqrt(8192 / 256), rel_tol=1e-6):
        raise Incorrect(f"{value:.3g} is the square-root rule; Goyal et al. scale linearly")
    raise Incorrect(f"{value:g} is not it: their reference is LR 0.1 for a batch of 256 images")


def _grade_steps(answer) -> None:
    value = as_number(answer, "steps")
    expected = Q3_EPOCHS * math.ceil(Q3_EXAMPLES / Q3_BATCH)
    if value == expected:
        return
    if value == Q3_EPOCHS * (Q3_EXAMPLES // Q3_BATCH):
        raise Incorrect(f"{value:g} drops the last, smaller batch of each epoch; fit keeps it (drop_last=False)")
    if value == math.ceil(Q3_EXAMPLES / Q3_BATCH):
        raise Incorrect(f"{value:g} is the steps of one epoch; the run has {Q3_EPOCHS}")
    raise Incorrect(f"{value:g} is not it: count the batches in one epoch, then the epochs")


q1 = Question(
    "Scaling the LR with the batch", _grade_scaled_lr,
    hints=("Both rules multiply base_lr by a function of batch / base_batch.",
           "'linear': base_lr * batch / base_batch; 'sqrt': base_lr * (batch / base_batch) ** 0.5."),
    solution="""
def scaled_lr(base_lr, base_batch, batch, rule):
    ratio = batch / base_batch
    return base_lr * (ratio if rule == "linear" else ratio ** 0.5)
""",
    answer_name="scaled_lr",
)

q2 = Question(
    "ResNet-50 in one hour", _grade_goyal,
    hints=("Goyal et al.: LR 0.1 for every 256 images in the batch.", "8192 is 32 times 256."),
    solution="""
resnet_lr = 0.1 * 8192 / 256
""",
    answer_name="resnet_lr",
)

q3 = Question(
    "Fewer, larger steps", _grade_steps,
    hints=("One epoch at batch size 512 over 10,000 images: how many batches, counting the last, smaller one?",
           "ceil(10000 / 512) batches per epoch, times 3 epochs."),
    solution="""
import math

steps = ex.Q3_EPOCHS * math.ceil(ex.Q3_EXAMPLES / ex.Q3_BATCH)
""",
    answer_name="steps",
)
