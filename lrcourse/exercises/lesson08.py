"""Exercises of lesson 08, ReduceLROnPlateau and EarlyStopping.

- ``q1``: a plateau detector: the epochs at which ReduceLROnPlateau cuts the LR.
- ``q2``: predict the epoch at which EarlyStopping stops, for a given history.
- ``q3``: choose both patiences for a budget of stalled epochs.
- ``q4``: an experiment: does ReduceLROnPlateau help, over seeds, paired, with a verdict against the noise.
"""

from __future__ import annotations

import math

from ..plateau import EarlyStopping, ReduceLROnPlateau, replay
from . import sandbox
from .core import Question
from .grading import Case, Incorrect, as_int_list, as_number, call, grade_cases

TITLE = "ReduceLROnPlateau and EarlyStopping"

#: The validation losses of q2, one per epoch from epoch 1; EarlyStopping(patience=3, min_delta=0.005).
Q2_LOSSES = (0.90, 0.72, 0.65, 0.61, 0.607, 0.62, 0.604, 0.615, 0.603, 0.61, 0.62)
Q2_PATIENCE, Q2_MIN_DELTA = 3, 0.005


def _reductions(losses, patience: int, threshold: float) -> list[int]:
    callback = ReduceLROnPlateau(patience=patience, threshold=threshold, factor=0.5)
    replay([callback], losses, lr=1.0)
    return [epoch for epoch, _, _ in callback.reductions]


def _reduction_cases():
    for losses, patience, threshold in (([1.0, 0.8, 0.7, 0.7, 0.7, 0.7, 0.7], 2, 1e-4),
                                        ([1.0, 0.9, 0.95, 0.92, 0.91, 0.96, 0.97, 0.98, 0.99], 1, 1e-4),
                                        ([0.5, 0.4999, 0.4998, 0.4997, 0.4996, 0.4995], 2, 1e-3),
                                        ([0.5, 0.4999, 0.4998, 0.4997, 0.4996, 0.4995], 2, 1e-5),
                                        ([0.6] * 12, 3, 1e-4),
                                        ([0.9, 0.8, 0.81, 0.82, 0.7, 0.71, 0.72, 0.73, 0.74], 0, 1e-4)):
        yield Case(f"for losses {losses} with patience={patience}, threshold={threshold:g}",
                   (list(losses), patience, threshold), _reductions(losses, patience, threshold))


def _check_reduction_epochs(got, case: Case) -> str | None:
    got = as_int_list(got, "epoch numbers", case.description)
    if got == case.expected:
        return None
    extra = sorted(set(got) - set(case.expected))
    missing = sorted(set(case.expected) - set(got))
    if extra and (not missing or extra[0] < missing[0]):
        return (f"you reduce the LR at epoch {extra[0]}, where ReduceLROnPlateau does not. Count the epochs without "
                "an improvement up to there: does it reduce when that count reaches patience, or when it goes past it?")
    if missing:
        return (f"ReduceLROnPlateau reduces the LR at epoch {missing[0]} and you do not. An improvement must beat the "
                "best loss so far (not the previous epoch's) by more than threshold * best; after a reduction the "
                "count starts again")
    return f"your list {got} holds the right epochs, but not once each in increasing order"


def _grade_reduction_epochs(reduction_epochs) -> None:
    grade_cases(reduction_epochs, _reduction_cases(), _check_reduction_epochs)


def _early_stop(losses, patience: int, min_delta: float) -> tuple[int | None, EarlyStopping]:
    callback = EarlyStopping(patience=patience, min_delta=min_delta)
    return replay([callback], losses).stopped_epoch, callback


def _grade_stop_epoch(answer) -> None:
    value = as_number(answer, "stop_epoch")
    if value != int(value) or not 1 <= value <= len(Q2_LOSSES):
        raise Incorrect(f"stop_epoch should be an epoch number from 1 to {len(Q2_LOSSES)}; got {value:g}")
    expected, _ = _early_stop(Q2_LOSSES, Q2_PATIENCE, Q2_MIN_DELTA)
    if value == expected:
        return
    if value < expected:
        raise Incorrect(f"at epoch {int(value)} EarlyStopping is still waiting: count again which epochs beat the best "
                        f"loss so far by more than min_delta={Q2_MIN_DELTA:g}; each of them starts the count again")
    raise Incorrect(f"EarlyStopping has already stopped before epoch {int(value)}. An improvement smaller than "
                    f"min_delta={Q2_MIN_DELTA:g} does not count as one")


def _check_patiences(got, case: Case) -> str | None:
    budget, reductions = case.args
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        return f"expected a pair (plateau_patience, early_stopping_patience); got {got!r}"
    p, q = (as_number(value, name) for value, name in zip(got, ("plateau_patience", "early_stopping_patience")))
    if p != int(p) or q != int(q) or p < 0 or q < 0:
        return f"patiences are whole numbers >= 0; got ({p:g}, {q:g})"
    p, q = int(p), int(q)
    plateau = ReduceLROnPlateau(patience=p, factor=0.5)
    stopped = replay([plateau, EarlyStopping(patience=q)], [1.0] * (budget + 3 * (p + q) + 5), lr=1.0).stopped_epoch
    used = [epoch for epoch, _, _ in plateau.reductions if stopped is None or epoch < stopped]
    setting = f"with patiences ({p}, {q})"
    if stopped is None or stopped - 1 > budget:
        return f"{setting}, training goes on for more than {budget} epochs after the last improvement"
    if len(used) != reductions:
        return (f"{setting}, the LR is reduced {len(used)} time(s) before training stops (epoch {stopped}); you "
                f"wanted {reductions}")
    last = used[-1] if used else 1
    if stopped - last != p + 1:
        return (f"{setting}, the last LR (from epoch {last}) had {stopped - last} epoch(s) before training stopped at "
                f"epoch {stopped}; give it as long as the plateau patience gives every LR ({p + 1} epochs), no more "
                "and no less")
    if (p + 2) * (reductions + 1) <= budget:
        return (f"{setting}, everything holds, but a plateau patience of {p + 1} would fit the budget too: use the "
                "largest, it is more tolerant of a noisy validation loss")
    return None


def _grade_patiences(choose_patiences) -> None:
    cases = (Case(f"for a budget of {budget} stalled epochs and {reductions} reduction(s)", (budget, reductions))
             for budget, reductions in ((9, 2), (12, 2), (6, 1), (20, 3), (4, 3), (10, 0)))
    grade_cases(choose_patiences, cases, _check_patiences)


q1 = Question(
    "A plateau detector", _grade_reduction_epochs,
    hints=("Keep the best loss so far and count the epochs since it improved; an epoch improves when its loss is "
           "below best * (1 - threshold).",
           "ReduceLROnPlateau reduces when the count goes past patience (count > patience), then resets the count "
           "to 0; the best loss is kept. Epochs are numbered from 1."),
    solution="""
def reduction_epochs(losses, patience, threshold):
    best, bad, epochs = float("inf"), 0, []
    for epoch, loss in enumerate(losses, start=1):
        if loss < best * (1 - threshold):
            best, bad = loss, 0
        else:
            bad += 1
        if bad > patience:
            epochs.append(epoch)
            bad = 0
    return epochs
""",
    answer_name="reduction_epochs",
)

q2 = Question(
    "When does early stopping stop?", _grade_stop_epoch,
    hints=("Walk through the epochs keeping the best loss so far; an epoch improves only if its loss is below "
           "best - min_delta.",
           "Training stops at the epoch where the count of epochs since the last improvement reaches patience (3)."),
    solution="""
from lrcourse.plateau import EarlyStopping, replay

stop_epoch = replay([EarlyStopping(patience=3, min_delta=0.005)], ex.Q2_LOSSES).stopped_epoch
""",
    answer_name="stop_epoch",
)

q3 = Question(
    "Patiences for a budget", _grade_patiences,
    hints=("ReduceLROnPlateau with patience p cuts the LR every p + 1 stalled epochs; EarlyStopping with patience q "
           "stops after q stalled epochs.",
           "k reductions, each LR given p + 1 epochs: the original LR and the k reduced ones make k + 1 windows of "
           "p + 1 epochs, and that must fit in the budget."),
    solution="""
def choose_patiences(budget, reductions):
    windows = reductions + 1
    plateau_patience = budget // windows - 1
    return plateau_patience, windows * (plateau_patience + 1)
""",
    answer_name="choose_patiences",
)


Q4_LR, Q4_EPOCHS = 0.05, 6
Q4_TIME_LIMIT = 120.0  # seconds: six trainings of 6 epochs on 1,000 images take ~7 s of CPU; room for a busy machine


def _final_accuracy(train, val, seed: int, plateau: bool) -> float:
    from ..experiments import train_at_lr   # training is imported only when a learner's experiment is graded

    callbacks = [ReduceLROnPlateau(patience=0, factor=0.1)] if plateau else []
    run = train_at_lr(train, Q4_LR, val=val, optimizer="momentum", epochs=Q4_EPOCHS, batch_size=64, seed=seed,
                      callbacks=callbacks)
    return run.history.val_accuracy[-1]


def verdict(differences) -> str:
    """"helps" when the mean difference is more than two standard errors above 0, "hurts" when more than two
    below, else "unclear"."""
    n = len(differences)
    mean = sum(differences) / n
    error = math.sqrt(sum((d - mean) ** 2 for d in differences) / (n - 1) / n)
    return "helps" if mean > 2 * error else "hurts" if mean < -2 * error else "unclear"


def _grade_plateau_gain(plateau_gain) -> None:
    from ..data import load_fashion_mnist

    with sandbox.stage("loading the grader's data", Q4_TIME_LIMIT):
        data = load_fashion_mnist()
    train, val, seeds = data.train[30_000:31_000], data.val[4_000:5_000], (11, 12, 13)
    setting = f"on 1,000 training images the notebook does not use, with seeds {seeds}"
    result = call(plateau_gain, train, val, seeds, case=setting, time_limit=Q4_TIME_LIMIT)
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        raise Incorrect(f"{setting}, expected a pair (differences, verdict); got {type(result).__name__}")
    differences, said = result
    if not isinstance(differences, (tuple, list)) or len(differences) != len(seeds):
        raise Incorrect(f"{setting}, expected one difference per seed ({len(seeds)}); got "
                        f"{len(differences) if isinstance(differences, (tuple, list)) else type(differences).__name__}")
    differences = [as_number(d, "each difference") for d in differences]
    with sandbox.stage("the grader's own run of the experiment", Q4_TIME_LIMIT):
        wanted = [_final_accuracy(train, val, seed, True) - _final_accuracy(train, val, seed, False) for seed in seeds]
    for seed, got, want in zip(seeds, differences, wanted):
        if abs(got - want) > 0.005:
            raise Incorrect(f"{setting}, the difference for seed {seed} is not the one this grader measured: train both "
                            "runs of a seed from that same seed (the same initial weights and batches), with and "
                            "without the callback, and subtract the final validation accuracies (with minus without)")
    if said not in ("helps", "hurts", "unclear"):
        raise Incorrect(f'{setting}, the verdict should be "helps", "hurts" or "unclear"; got {said!r}')
    if said != verdict(differences):
        raise Incorrect(f"{setting}, your differences are right but the verdict {said!r} does not follow from them: "
                        "compare their mean with two standard errors (the standard deviation over seeds divided by "
                        "the square root of the number of seeds)")


q4 = Question(
    "An experiment: does the LR cut help?", _grade_plateau_gain,
    hints=("For each seed, two runs from the same seed: that pairs them, so the seed's own luck cancels in the "
           "difference.",
           "mean = sum(d) / n; standard error = sqrt(sum((d - mean)**2) / (n - 1)) / sqrt(n); \"helps\" if "
           "mean > 2 * standard error, \"hurts\" if mean < -2 * standard error, else \"unclear\"."),
    solution="""
import statistics
from lrcourse import ReduceLROnPlateau
from lrcourse.experiments import train_at_lr

def plateau_gain(train, val, seeds):
    def final_accuracy(seed, callbacks):
        run = train_at_lr(train, 0.05, val=val, optimizer="momentum", epochs=6, batch_size=64, seed=seed,
                          callbacks=callbacks)
        return run.history.val_accuracy[-1]

    differences = [final_accuracy(seed, [ReduceLROnPlateau(patience=0, factor=0.1)]) - final_accuracy(seed, [])
                   for seed in seeds]
    mean, error = statistics.mean(differences), statistics.stdev(differences) / len(differences) ** 0.5
    verdict = "helps" if mean > 2 * error else "hurts" if mean < -2 * error else "unclear"
    return differences, verdict
""",
    answer_name="plateau_gain",
)
