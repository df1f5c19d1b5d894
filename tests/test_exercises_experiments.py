"""The experiment questions of lessons 08 and 09: wrong experiments fail with the property named.

(Their shown solutions pass in test_exercises.py, with every other question's.)"""

import statistics

import pytest

from lrcourse import ReduceLROnPlateau
from lrcourse.exercises import core, lesson08, lesson09
from lrcourse.experiments import train_at_lr


def plateau_gain(paired=True, verdict=None):
    def experiment(train, val, seeds):
        def final_accuracy(seed, callbacks):
            run = train_at_lr(train, 0.05, val=val, optimizer="momentum", epochs=6, batch_size=64, seed=seed,
                              callbacks=callbacks)
            return run.history.val_accuracy[-1]

        differences = [final_accuracy(seed, [ReduceLROnPlateau(patience=0, factor=0.1)])
                       - final_accuracy(seed if paired else seed + 100, []) for seed in seeds]
        if verdict is not None:
            return differences, verdict(differences)
        mean, error = statistics.mean(differences), statistics.stdev(differences) / len(differences) ** 0.5
        return differences, "helps" if mean > 2 * error else "hurts" if mean < -2 * error else "unclear"
    return experiment


@pytest.mark.parametrize("question, answer, words", [
    (lesson08.q4, plateau_gain(paired=False), "the difference for seed 11 is not the one this grader measured"),
    (lesson08.q4, plateau_gain(verdict=lambda d: "helps" if statistics.mean(d) > 0 else "hurts"),
     "does not follow from them"),
    (lesson08.q4, lambda train, val, seeds: ([0.0, 0.0], "unclear"), "expected one difference per seed"),
    (lesson09.q4, lambda train, val, optimizer, lrs: lrs[0], "more than a point below the best LR of the sweep"),
    (lesson09.q4, lambda train, val, optimizer, lrs: 0.03, "is not one of the LRs in lrs"),
])
def test_wrong_experiments_fail_with_the_property_named(question, answer, words):
    feedback = question.feedback(answer)
    assert feedback.outcome == core.INCORRECT and words in feedback.message, feedback.message
