"""Lessons 13 and 14: wrong answers fail and name the property (the shown solutions are run with every
other question's in test_exercises.py)."""

import math

import numpy as np
import pytest

from lrcourse.exercises import core, lesson13, lesson14


@pytest.fixture(autouse=True)
def progress_file(tmp_path, monkeypatch):
    monkeypatch.setenv("LRCOURSE_PROGRESS", str(tmp_path / "progress.json"))


def classify_by_diagonal(hessian):
    d = np.diag(hessian)
    kind = "minimum" if (d > 0).all() else "maximum" if (d < 0).all() else "saddle"
    return kind, (2 / d.max() if kind == "minimum" else None)


def classify_by_determinant(hessian):
    eigenvalues = np.linalg.eigvalsh(hessian)
    if np.linalg.det(hessian) < 0:
        return "saddle", None
    return ("minimum", 2 / eigenvalues.max()) if np.trace(hessian) > 0 else ("maximum", None)


def classify_half(hessian):
    eigenvalues = np.linalg.eigvalsh(hessian)
    kind = "minimum" if eigenvalues.min() > 0 else "maximum" if eigenvalues.max() < 0 else "saddle"
    return kind, (1 / eigenvalues.max() if kind == "minimum" else None)


def one_seed(make_model, train, lrs, steps):
    table = {lr: {0: lesson13.measure(make_model, train, lr, 0, steps)} for lr in lrs}
    return {"sharpness": table, "flatter": min(lrs, key=lambda lr: table[lr][0])}


def by_means(make_model, train, lrs, steps):
    table = {lr: {seed: lesson13.measure(make_model, train, lr, seed, steps) for seed in (0, 1, 2)} for lr in lrs}
    return {"sharpness": table, "flatter": min(lrs, key=lambda lr: np.mean(list(table[lr].values())))}


def with_momentum(make_model, train, lrs, steps):
    from lrcourse.experiments import train_at_lr
    from lrcourse.landscape import sharpness

    table = {lr: {seed: sharpness(train_at_lr(train, lr, optimizer="momentum", epochs=steps, batch_size=len(train),
                                              model=make_model, seed=seed).model, train) for seed in (0, 1, 2)}
             for lr in lrs}
    return {"sharpness": table, "flatter": None}


def stlr_without_floor(step, max_lr, total_steps, cut_frac=0.1, ratio=32):
    cut = total_steps * cut_frac
    p = step / cut if step < cut else 1 - (step - cut) / (cut * (1 / cut_frac - 1))
    return max_lr * (1 + p * (ratio - 1)) / ratio


def stlr_without_ratio(step, max_lr, total_steps, cut_frac=0.1, ratio=32):
    cut = math.floor(total_steps * cut_frac)
    p = step / cut if step < cut else 1 - (step - cut) / (cut * (1 / cut_frac - 1))
    return max_lr * p


def decay_one_seed(make_model, train, lr, weight_decay, epochs):
    table = {key: {0: lesson14.measure(make_model, train, lr, decay, 0, epochs)[1]}
             for key, decay in (("without", 0.0), ("with", weight_decay))}
    return {"relative_step": table, "raises": table["with"][0] > table["without"][0]}


def decay_by_means(make_model, train, lr, weight_decay, epochs):
    table = {key: {seed: lesson14.measure(make_model, train, lr, decay, seed, epochs)[1] for seed in (0, 1, 2)}
             for key, decay in (("without", 0.0), ("with", weight_decay))}
    means = {key: np.mean(list(values.values())) for key, values in table.items()}
    return {"relative_step": table, "raises": bool(means["with"] > means["without"])}


def decay_norms(make_model, train, lr, weight_decay, epochs):
    table = {key: {seed: lesson14.measure(make_model, train, lr, decay, seed, epochs)[0] for seed in (0, 1, 2)}
             for key, decay in (("without", 0.0), ("with", weight_decay))}
    return {"relative_step": table, "raises": True}


@pytest.mark.parametrize("question, answer, words", [
    (lesson13.q1, classify_by_diagonal, "for the Hessian [[2, 1], [1, 2]], your max_stable_lr is 1:"),
    (lesson13.q1, classify_by_determinant, "for the Hessian diag(1, -1, -2), your kind is 'maximum'"),
    (lesson13.q1, classify_half, "where descent starts to oscillate"),
    (lesson13.q1, lambda h: "saddle", "expected a pair (kind, max_stable_lr)"),
    (lesson13.q2, 1 / 44.5, "where descent starts to oscillate"),
    (lesson13.q2, 0.1, "too high"),
    (lesson13.q2, 0.01, "too low"),
    (lesson13.q3, one_seed, "at least 3 seeds"),
    (lesson13.q3, by_means, "does not follow from your numbers: the seeds' ranges of the two LRs overlap"),
    (lesson13.q3, with_momentum, "not what the protocol gives"),
    (lesson14.q1, stlr_without_floor, "rounds cut = floor"),
    (lesson14.q1, stlr_without_ratio, "stays between max_lr / ratio and max_lr"),
    (lesson14.q2, 1e-4, "ten thousand times less"),
    (lesson14.q2, 1e-7, "multiplies where it should divide"),
    (lesson14.q3, decay_one_seed, "at least 3 seeds"),
    (lesson14.q3, decay_by_means,
     "does not follow from your numbers: the seeds' ranges with and without decay overlap"),
    (lesson14.q3, decay_norms, "not what the protocol gives"),
])
def test_wrong_answers_name_the_property(question, answer, words):
    feedback = question.feedback(answer)
    assert feedback.outcome == core.INCORRECT and words in feedback.message, feedback.message
