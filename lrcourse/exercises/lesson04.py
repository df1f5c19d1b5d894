"""Exercises of lesson 04, decay schedules and warm-up.

- ``q1``: step decay as a function of the step.
- ``q2``: the peak LR of the Transformer's warm-up schedule.
- ``q3``: an experiment: compare two schedules over seeds, paired, and give a verdict with the spread.
"""

from __future__ import annotations

import math

import torch

from .. import schedules as S
from ..data import num_batches
from ..seeds import VERDICTS, paired
from .core import Question
from .grading import Case, Incorrect, as_number, call, grade_cases
from .setups import reference_history, setup

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


#: Seconds one call of the learner's compare_schedules may take (six runs of a fraction of a second, on a busy machine).
COMPARE_SECONDS = 90.0
_TOLERANCE = 1e-9  # the check's own run with the same seed repeats the learner's exactly


def _compare_cases():
    """(set-up, schedule_a, schedule_b): one where b wins clearly (a constant LR too high to settle, and its
    cosine decay), and one whose schedules are too close to tell apart on a few seeds."""
    unseen = setup(start=30_000)
    steps = unseen.epochs * num_batches(unseen.train, 64)
    yield unseen, S.constant(base_lr=0.3), S.cosine(base_lr=0.3, total_steps=steps)
    yield unseen, S.constant(base_lr=0.05), S.cosine(base_lr=0.05, total_steps=steps)


def _seed_accuracies(value, name: str, where: str) -> dict[int, float]:
    if not isinstance(value, dict):
        raise Incorrect(f"{where}, {name!r} should be a dict {{seed: final validation accuracy}}; got "
                        f"{type(value).__name__}")
    checked = {}
    for seed, accuracy in value.items():
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise Incorrect(f"{where}, the keys of {name!r} should be the seeds (ints); got {seed!r}")
        accuracy = as_number(accuracy, f"{where}, the accuracy of {name!r} for seed {seed}")
        if not 0 <= accuracy <= 1:
            raise Incorrect(f"{where}, the accuracy of {name!r} for seed {seed} is {accuracy:g}; an accuracy is a "
                            "fraction in [0, 1]")
        checked[seed] = accuracy
    return checked


def _grade_compare(compare_schedules) -> None:
    for case in _compare_cases():
        _grade_compare_case(compare_schedules, *case)


def _grade_compare_case(compare_schedules, where_setup, schedule_a, schedule_b) -> None:
    where = f"comparing {schedule_a} with {schedule_b} {where_setup.description}"
    result = call(compare_schedules, schedule_a, schedule_b, where_setup.train, where_setup.val, where_setup.epochs,
                  where_setup.model, case=where, time_limit=COMPARE_SECONDS)
    if not isinstance(result, dict) or not {"a", "b", "difference", "verdict"} <= set(result):
        raise Incorrect(f"{where}, expected a dict with the keys 'a', 'b', 'difference' and 'verdict'; got "
                        f"{result!r:.200}")
    a = _seed_accuracies(result["a"], "a", where)
    b = _seed_accuracies(result["b"], "b", where)
    if set(a) != set(b):
        raise Incorrect(f"{where}, 'a' and 'b' were run on different seeds ({sorted(a)} and {sorted(b)}): run both "
                        "schedules on the same seeds, so that each seed compares them from the same initial weights "
                        "and batch order")
    if len(a) < 3:
        raise Incorrect(f"{where}, you ran {len(a)} seed(s); one or two runs cannot tell a difference from the "
                        "noise: use at least 3 seeds")
    for seed in sorted(a):
        for name, schedule, got in (("a", schedule_a, a[seed]), ("b", schedule_b, b[seed])):
            history = reference_history(where_setup, schedule, seed)
            if not math.isclose(got, history.val_accuracy[-1], rel_tol=0, abs_tol=_TOLERANCE):
                raise Incorrect(f"{where}, your accuracy of {name!r} for seed {seed} ({got:.4f}) is not the final "
                                f"validation accuracy of train_with_schedule with that schedule, set-up and seed")
    seeds = sorted(a)
    comparison = paired([a[seed] for seed in seeds], [b[seed] for seed in seeds])
    difference = result["difference"]
    if not isinstance(difference, (tuple, list)) or len(difference) != 3:
        raise Incorrect(f"{where}, 'difference' should be a tuple (mean, lowest, highest) of the per-seed "
                        f"differences a - b; got {difference!r:.200}")
    for value, name, want in zip(difference, ("mean", "lowest", "highest"),
                                 (comparison.mean, comparison.low, comparison.high)):
        if not math.isclose(as_number(value, f"{where}, the {name} difference"), want, rel_tol=0, abs_tol=1e-9):
            raise Incorrect(f"{where}, your {name} difference ({float(value):.4f}) is not the {name} of your "
                            "per-seed differences: take a - b seed by seed, then their mean, lowest and highest")
    verdict = result["verdict"]
    if verdict not in VERDICTS:
        raise Incorrect(f"{where}, the verdict should be one of {VERDICTS}; got {verdict!r:.100}")
    if verdict != comparison.verdict:
        wins = sum(d > 0 for d in comparison.differences)
        raise Incorrect(f"{where}, your verdict {verdict!r} does not follow from your numbers: 'a' ended higher "
                        f"on {wins} of {len(seeds)} seeds. A verdict for one schedule needs it ahead on "
                        "every seed; otherwise the difference is within the noise")


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

q3 = Question(
    "Compare two schedules over seeds", _grade_compare,
    hints=("Loop over at least three seeds; for each, train once with schedule_a and once with schedule_b "
           "(train_with_schedule(train, schedule, val=val, epochs=epochs, model=model, seed=seed)) and keep "
           "history.val_accuracy[-1].",
           "Pair the runs by seed: the differences are a[seed] - b[seed]. The verdict is 'a' if every difference is "
           "> 0, 'b' if every one is < 0, else 'no clear difference'."),
    solution="""
from lrcourse.experiments import train_with_schedule

def compare_schedules(schedule_a, schedule_b, train, val, epochs, model, seeds=(0, 1, 2)):
    final = {name: {seed: train_with_schedule(train, schedule, val=val, epochs=epochs, model=model,
                                              seed=seed).history.val_accuracy[-1]
                    for seed in seeds}
             for name, schedule in (("a", schedule_a), ("b", schedule_b))}
    differences = [final["a"][seed] - final["b"][seed] for seed in seeds]
    if min(differences) > 0:
        verdict = "a"
    elif max(differences) < 0:
        verdict = "b"
    else:
        verdict = "no clear difference"
    return {**final, "difference": (sum(differences) / len(differences), min(differences), max(differences)),
            "verdict": verdict}
""",
    answer_name="compare_schedules",
)
