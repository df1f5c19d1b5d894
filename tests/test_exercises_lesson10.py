"""Lesson 10's experiment question (q4): wrong experiments fail, naming the property they miss."""

import numpy as np
import pytest

import lrcourse.schedules as S
from lrcourse.data import num_batches
from lrcourse.exercises import core, lesson10
from lrcourse.experiments import train_at_lr, train_with_schedule


@pytest.fixture(autouse=True)
def progress_file(tmp_path, monkeypatch):
    monkeypatch.setenv("LRCOURSE_PROGRESS", str(tmp_path / "progress.json"))


def experiment(rule="linear", warm_up=True, seeds_used=None, decide=lesson10.verdict):
    """q4's experiment with one thing changed."""
    def keeps_up(train, val, model, base_lr, base_batch, batch, seeds):
        seeds = seeds[:seeds_used] if seeds_used else seeds
        lr = S.scale_lr(base_lr, base_batch, batch, rule) if rule else base_lr
        schedule = (S.gradual_warmup(base_lr, base_batch, batch, num_batches(train, batch), rule=rule)
                    if warm_up and rule else S.constant(base_lr=lr))
        options = dict(val=val, optimizer="momentum", epochs=lesson10.Q4_EPOCHS, model=model)
        base = [train_at_lr(train, base_lr, batch_size=base_batch, seed=s, **options).history.val_accuracy[-1]
                for s in seeds]
        scaled = [train_with_schedule(train, schedule, batch_size=batch, seed=s, **options).history.val_accuracy[-1]
                  for s in seeds]
        return {"base": base, "scaled": scaled, "verdict": decide(base, scaled)}
    return keeps_up


def means_only(base, scaled):
    return "behind" if np.mean(scaled) < np.mean(base) else "ahead" if np.mean(scaled) > np.mean(base) else "level"


def test_the_reference_experiment_passes():
    assert lesson10.q4.feedback(experiment()).outcome == core.CORRECT


@pytest.mark.parametrize("answer, words", [
    (experiment(rule=None), "your scaled runs are not"),            # the LR not scaled at all
    (experiment(rule="sqrt"), "your scaled runs are not"),          # the other rule
    (experiment(warm_up=False), "your scaled runs are not"),        # no warm-up
    (experiment(seeds_used=2), "holds 2 accuracies for 3 seeds"),   # fewer seeds than given
    (experiment(decide=lambda base, scaled: "level"), "does not follow from your accuracies"),
    (experiment(decide=means_only), "does not follow from your accuracies"),  # ignores the noise
    (lambda *args: [0.8, 0.7], "expected a dict with 'base', 'scaled' and 'verdict'"),
])
def test_wrong_experiments_fail_and_say_which_property(answer, words):
    feedback = lesson10.q4.feedback(answer)
    assert feedback.outcome == core.INCORRECT and words in feedback.message, feedback.message


def test_the_verdict_rule():
    assert lesson10.verdict([0.8, 0.8, 0.8], [0.7, 0.71, 0.69]) == "behind"
    assert lesson10.verdict([0.8, 0.8, 0.8], [0.9, 0.91, 0.89]) == "ahead"
    assert lesson10.verdict([0.8, 0.8, 0.8], [0.85, 0.75, 0.81]) == "level"
    assert lesson10.verdict([0.8, 0.7, 0.9], [0.8, 0.7, 0.9]) == "level"
