"""Lesson 02's experiment question (q3): wrong answers fail, naming the property they miss (the shown solution
passes in tests/test_exercises.py). Each check trains a few small MLPs: seconds, not minutes."""

import pytest
import torch

from lrcourse.exercises import core, lesson02
from lrcourse.exercises.setups import setup
from lrcourse.experiments import train_at_lr


@pytest.fixture(autouse=True)
def progress_file(tmp_path, monkeypatch):
    monkeypatch.setenv("LRCOURSE_PROGRESS", str(tmp_path / "progress.json"))


def finals(train, val, lr, optimizer, epochs, model, seeds, batch_size=32):
    return {seed: train_at_lr(train, lr, val=val, optimizer=optimizer, epochs=epochs, model=model, seed=seed,
                              batch_size=batch_size).history.val_accuracy[-1] for seed in seeds}


def effect(train_raw, val_raw, train_scaled, val_scaled, lr, optimizer, epochs, model, seeds=(0, 1, 2),
           raw_seeds=None, by_means=False, verdict=None, one_val=False, **options):
    raw = finals(train_raw, val_scaled if one_val else val_raw, lr, optimizer, epochs, model, raw_seeds or seeds, **options)
    scaled = finals(train_scaled, val_scaled, lr, optimizer, epochs, model, seeds, **options)
    differences = [scaled[seed] - raw[seed] for seed in seeds] if raw_seeds is None else [0.0]
    if verdict is None and by_means:
        verdict = "scaled" if sum(differences) > 0 else "raw"
    elif verdict is None:
        verdict = ("scaled" if min(differences) > 0 else "raw" if max(differences) < 0 else "no clear difference")
    return {"raw": raw, "scaled": scaled, "verdict": verdict}


@pytest.mark.parametrize("answer, words", [
    (lambda *args: effect(*args, seeds=(0,)), "you ran 1 seed(s)"),
    (lambda *args: effect(*args, raw_seeds=(3, 4, 5)), "'raw' and 'scaled' were run on different seeds"),
    (lambda *args: effect(*args, by_means=True), "does not follow from your numbers: scaled pixels ended higher on"),
    (lambda *args: effect(*args, verdict="scaled"), "does not follow from your numbers"),
    (lambda *args: effect(*args, one_val=True), "is not the final validation accuracy of train_at_lr"),
    (lambda *args: effect(*args, batch_size=64), "is not the final validation accuracy of train_at_lr"),
    (lambda *args: effect(*args, verdict="a"), "the verdict should be one of"),
    (lambda *args: [0.8, 0.8, 0.8], "expected a dict with the keys 'raw', 'scaled' and 'verdict'"),
])
def test_scaling_effect_wrong_answers(answer, words):
    feedback = lesson02.q3.feedback(answer)
    assert feedback.outcome == core.INCORRECT and words in feedback.message, feedback.message


def test_raw_setup_holds_the_same_images_unscaled():
    raw, scaled = (setup(start=40_000, train_size=50, val_size=20, scaled=flag) for flag in (False, True))
    torch.testing.assert_close(raw.train.x, scaled.train.x * 255)
    torch.testing.assert_close(raw.val.x, scaled.val.x * 255)
    assert torch.equal(raw.train.y, scaled.train.y) and raw.train.x.max() > 1
