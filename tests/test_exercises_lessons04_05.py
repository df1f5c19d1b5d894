"""The experiment questions of lessons 04 and 05: wrong answers fail, naming the property they miss (the shown
solutions pass in tests/test_exercises.py). Each check trains a few small MLPs: seconds, not minutes."""

import pytest

from lrcourse.exercises import core, lesson04, lesson05
from lrcourse.experiments import train_with_schedule


@pytest.fixture(autouse=True)
def progress_file(tmp_path, monkeypatch):
    monkeypatch.setenv("LRCOURSE_PROGRESS", str(tmp_path / "progress.json"))


def final_accuracies(schedule, train, val, epochs, model, seeds, last=True):
    histories = {seed: train_with_schedule(train, schedule, val=val, epochs=epochs, model=model, seed=seed).history
                 for seed in seeds}
    return {seed: h.val_accuracy[-1] if last else max(h.val_accuracy) for seed, h in histories.items()}


def compare(a_final, b_final, verdict_by_means=False):
    differences = [a_final[seed] - b_final[seed] for seed in a_final]
    mean = sum(differences) / len(differences)
    if verdict_by_means:
        verdict = "a" if mean > 0 else "b"
    else:
        verdict = "a" if min(differences) > 0 else "b" if max(differences) < 0 else "no clear difference"
    return {"a": a_final, "b": b_final, "difference": (mean, min(differences), max(differences)), "verdict": verdict}


def one_seed(schedule_a, schedule_b, train, val, epochs, model):
    return compare(*(final_accuracies(s, train, val, epochs, model, [0]) for s in (schedule_a, schedule_b)))


def by_means(schedule_a, schedule_b, train, val, epochs, model):
    return compare(*(final_accuracies(s, train, val, epochs, model, [0, 1, 2]) for s in (schedule_a, schedule_b)),
                   verdict_by_means=True)


def unpaired(schedule_a, schedule_b, train, val, epochs, model):
    a = final_accuracies(schedule_a, train, val, epochs, model, [0, 1, 2])
    b = final_accuracies(schedule_b, train, val, epochs, model, [3, 4, 5])
    result = compare(a, dict(zip(a, b.values())))
    return {**result, "b": b}


def best_epoch(schedule_a, schedule_b, train, val, epochs, model):
    return compare(*(final_accuracies(s, train, val, epochs, model, [0, 1, 2], last=False)
                     for s in (schedule_a, schedule_b)))


def spread_as_std(schedule_a, schedule_b, train, val, epochs, model):
    result = compare(*(final_accuracies(s, train, val, epochs, model, [0, 1, 2]) for s in (schedule_a, schedule_b)))
    mean, low, high = result["difference"]
    return {**result, "difference": (mean, mean - (high - low) / 2, mean + (high - low) / 2)}


@pytest.mark.parametrize("answer, words", [
    (one_seed, "you ran 1 seed(s)"),
    (by_means, "does not follow from your numbers: 'a' ended higher on"),
    (unpaired, "'a' and 'b' were run on different seeds"),
    (best_epoch, "is not the final validation accuracy"),
    (spread_as_std, "your lowest difference"),
    (lambda *args: "b", "expected a dict with the keys 'a', 'b', 'difference' and 'verdict'"),
])
def test_compare_schedules_wrong_answers(answer, words):
    feedback = lesson04.q3.feedback(answer)
    assert feedback.outcome == core.INCORRECT and words in feedback.message, feedback.message


def first_epoch_reaching(schedule, target, train, val, epochs, model, seeds=(0, 1, 2), scale=None, zero_based=False,
                         missing=None, whole_run=False):
    found = {}
    for seed in seeds:
        history = train_with_schedule(train, schedule, val=val, epochs=epochs, model=model, seed=seed).history
        reached = [epoch for epoch, accuracy in enumerate(history.val_accuracy, start=1) if accuracy >= target]
        steps = history.steps_per_epoch if scale is None else scale
        epoch = epochs if whole_run else reached[0] - zero_based if reached else None
        found[seed] = epoch * steps if reached else missing
    return found


@pytest.mark.parametrize("answer, words", [
    (lambda *args: first_epoch_reaching(*args, scale=1), "which is not at the end of an epoch"),
    (lambda *args: first_epoch_reaching(*args, zero_based=True), "had not reached the target after that many"),
    (lambda *args: first_epoch_reaching(*args, whole_run=True), "had reached the target earlier"),
    (lambda *args: first_epoch_reaching(*args, scale=320), "but the run has"),
    (lambda *args: first_epoch_reaching(*args, seeds=(0,)), "you ran 1 seed(s)"),
    (lambda *args: first_epoch_reaching(*args, missing=0), "never reached the target: return None then"),
    (lambda *args: [64, 64, 64], "expected a dict {seed: iterations or None}"),
])
def test_iterations_to_target_wrong_answers(answer, words):
    feedback = lesson05.q3.feedback(answer)
    assert feedback.outcome == core.INCORRECT and words in feedback.message, feedback.message
