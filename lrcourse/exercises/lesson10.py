"""Exercises of lesson 10, batch size and learning rate.

- ``q1``: scale a learning rate to a new batch size, linearly or by the square root.
- ``q2``: Goyal et al.'s LR for ResNet-50 at batch size 8192.
- ``q3``: how many optimizer steps a run at a large batch size takes.
- ``q4``: an experiment: does a larger batch with the linearly scaled LR and warm-up keep up with the
  base batch, over seeds, and is the gap larger than the noise? Graded on set-ups the lesson never ran.
"""

from __future__ import annotations

import math

import numpy as np

from .. import schedules as S
from ..data import load_fashion_mnist, num_batches
from ..experiments import train_at_lr, train_with_schedule
from ..models import MLP
from ..schedules import scale_lr
from . import sandbox
from .core import Question
from .grading import Case, Incorrect, Wrong, as_number, call, grade_cases

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
    right = scale_lr(base_lr, base_batch, batch, rule)
    other = scale_lr(base_lr, base_batch, batch, "sqrt" if rule == "linear" else "linear")
    if math.isclose(got, right, rel_tol=1e-9):
        return None
    if math.isclose(got, base_lr * base_lr / right, rel_tol=1e-9):
        return (f"your LR is {got:.4g}: it moves the wrong way. A larger batch gives a less noisy gradient, which "
                "tolerates a larger LR")
    if math.isclose(got, other, rel_tol=1e-9):
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


#: q4's runs: epochs, and the verdicts a comparison can reach.
Q4_EPOCHS = 2
VERDICTS = ("behind", "level", "ahead")
#: Seconds (wall clock) for q4's data loading and for each set of runs: generous, for a busy machine.
Q4_TIME_LIMIT = 120


def verdict(base, scaled) -> str:
    """q4's rule: the paired differences d = scaled - base (one per seed) put the scaled runs "behind"
    when mean(d) < -2 SE, "ahead" when mean(d) > 2 SE, "level" otherwise; SE = std(d, ddof=1) / sqrt(n)."""
    d = np.subtract(scaled, base)
    margin = 2 * d.std(ddof=1) / math.sqrt(len(d))
    return "behind" if d.mean() < -margin else "ahead" if d.mean() > margin else "level"


def _narrow_mlp():
    return MLP(hidden=48)


def _q4_setups() -> list[tuple[str, tuple]]:
    """Set-ups the lesson never ran: other images, another width, other seeds and batches."""
    data = load_fashion_mnist(device="cpu")
    train, val = data.train[20_000:21_500], data.val[5_000:6_000]
    return [(f"for 1,500 other training images, an MLP with 48 hidden units, base_lr=0.02 at base_batch={base_batch}, "
             f"batch={batch} and seeds={seeds}", (train, val, _narrow_mlp, 0.02, base_batch, batch, seeds))
            for base_batch, batch, seeds in ((16, 256, (3, 4, 5)), (16, 32, (10, 11, 12)))]


def _reference_runs(train, val, model, base_lr, base_batch, batch, seeds):
    """The grader's own runs, as q4 asks for them."""
    base = [train_at_lr(train, base_lr, val=val, optimizer="momentum", epochs=Q4_EPOCHS, batch_size=base_batch,
                        model=model, seed=seed).history.val_accuracy[-1] for seed in seeds]
    warmup = S.gradual_warmup(base_lr, base_batch, batch, warmup_steps=num_batches(train, batch))
    scaled = [train_with_schedule(train, warmup, val=val, optimizer="momentum", epochs=Q4_EPOCHS, batch_size=batch,
                                  model=model, seed=seed).history.val_accuracy[-1] for seed in seeds]
    return base, scaled


def _as_accuracies(got, key: str, seeds) -> list[float]:
    values = got[key]
    try:
        values = [float(value) for value in values]
    except (TypeError, ValueError):
        raise Wrong(f"got[{key!r}] should be a list of accuracies, one per seed") from None
    if len(values) != len(seeds):
        raise Wrong(f"got[{key!r}] holds {len(values)} accuracies for {len(seeds)} seeds: run every seed you are "
                    "given (one run per seed says nothing about the noise)")
    return values


def _grade_keeps_up(keeps_up) -> None:
    with sandbox.stage("loading the grader's data", Q4_TIME_LIMIT):
        setups = _q4_setups()
    for description, args in setups:
        got = call(keeps_up, *args, case=description, time_limit=Q4_TIME_LIMIT)
        try:
            if not isinstance(got, dict) or not {"base", "scaled", "verdict"} <= set(got):
                raise Wrong(f"your function returned {type(got).__name__}; expected a dict with 'base', 'scaled' "
                            "and 'verdict'")
            seeds = args[-1]
            base, scaled = _as_accuracies(got, "base", seeds), _as_accuracies(got, "scaled", seeds)
            with sandbox.stage(f"{description}: the grader's own runs", Q4_TIME_LIMIT):
                reference = _reference_runs(*args)
            if not np.allclose(base, reference[0], atol=1e-9):
                raise Wrong("your base runs are not model() trained at base_lr with base_batch, SGD with momentum "
                            f"0.9, {Q4_EPOCHS} epochs, from each seed (their accuracies differ)")
            if not np.allclose(scaled, reference[1], atol=1e-9):
                raise Wrong("your scaled runs are not model() trained with batch at the linearly scaled LR, reached "
                            f"by the gradual warm-up over the first epoch, {Q4_EPOCHS} epochs, from each seed "
                            "(their accuracies differ)")
            if got["verdict"] not in VERDICTS:
                raise Wrong(f"the verdict should be one of {VERDICTS}; got {got['verdict']!r}")
            if got["verdict"] != verdict(base, scaled):
                raise Wrong(f"your verdict {got['verdict']!r} does not follow from your accuracies by the rule: "
                            "compare the mean of the per-seed differences with twice their standard error")
        except Wrong as wrong:
            raise Incorrect(f"{description}, {wrong}") from None


q4 = Question(
    "Does the larger batch keep up?", _grade_keeps_up,
    hints=("For each seed: one run at base_lr with base_batch (train_at_lr), one at the larger batch with "
           "S.gradual_warmup(base_lr, base_batch, batch, warmup_steps=...) as the schedule (train_with_schedule). "
           "Both with optimizer='momentum' and epochs=ex.Q4_EPOCHS.",
           "One epoch of warm-up is num_batches(train, batch) steps (lrcourse.data.num_batches). The verdict: "
           "d = scaled - base per seed; 'behind' if d.mean() < -2 * d.std(ddof=1) / sqrt(len(d)), 'ahead' if "
           "above +2 standard errors, else 'level' (ex.verdict does exactly this)."),
    solution="""
import lrcourse.schedules as S
from lrcourse.data import num_batches
from lrcourse.experiments import train_at_lr, train_with_schedule

def keeps_up(train, val, model, base_lr, base_batch, batch, seeds):
    base, scaled = [], []
    warmup = S.gradual_warmup(base_lr, base_batch, batch, warmup_steps=num_batches(train, batch))
    for seed in seeds:
        base.append(train_at_lr(train, base_lr, val=val, optimizer="momentum", epochs=ex.Q4_EPOCHS,
                                batch_size=base_batch, model=model, seed=seed).history.val_accuracy[-1])
        scaled.append(train_with_schedule(train, warmup, val=val, optimizer="momentum", epochs=ex.Q4_EPOCHS,
                                          batch_size=batch, model=model, seed=seed).history.val_accuracy[-1])
    return {"base": base, "scaled": scaled, "verdict": ex.verdict(base, scaled)}
""",
    answer_name="keeps_up",
)
