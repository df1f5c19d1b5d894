"""Lesson 12's questions: wrong answers fail, naming the property they miss (the shown solutions pass in
tests/test_exercises.py)."""

import numpy as np
import pytest
import torch

from lrcourse.exercises import core, lesson12
from lrcourse.param_groups import layer_groups, layers


@pytest.fixture(autouse=True)
def progress_file(tmp_path, monkeypatch):
    monkeypatch.setenv("LRCOURSE_PROGRESS", str(tmp_path / "progress.json"))


def best_over_everything(curves, budget):
    """Ignores the budget."""
    means = {m: np.mean([max(v for v in values if v is not None) for _, values in seeds]) for m, seeds in curves.items()}
    return max(means, key=means.get)


def best_of_first_seed(curves, budget):
    found = {m: max([v for c, v in zip(*seeds[0]) if c <= budget and v is not None], default=-1)
             for m, seeds in curves.items()}
    return max(found, key=found.get)


def last_value_within(curves, budget):
    means = {}
    for method, seeds in curves.items():
        lasts = [[v for c, v in zip(costs, values) if c <= budget and v is not None] for costs, values in seeds]
        if all(lasts):
            means[method] = np.mean([found[-1] for found in lasts])
    return max(means, key=means.get)


def head_at_body_lr(model, lr, body):
    head = layers(model)[-1][0]
    return torch.optim.SGD(layer_groups(model, lr, {head: body, "*": 1.0}), momentum=0.9)


def weights_of_linear_and_conv_only(model, lr, body):
    *body_layers, head = [m for m in model.modules() if isinstance(m, (torch.nn.Linear, torch.nn.Conv2d))]
    return torch.optim.SGD([{"params": [p for m in body_layers for p in m.parameters()], "lr": lr * body},
                            {"params": list(head.parameters()), "lr": lr}], momentum=0.9)


@pytest.mark.parametrize("question, answer, words", [
    (lesson12.q1, lambda low, high, size, rng: rng.uniform(low, high, size), "not spread evenly in log(x)"),
    (lesson12.q1, lambda low, high, size, rng: 10 ** rng.uniform(low, high, size), "outside [low, high]"),
    (lesson12.q1, lambda low, high, size, rng: np.exp(np.random.uniform(np.log(low), np.log(high), size)),
     "do not come from rng"),
    (lesson12.q1, lambda low, high, size, rng: np.logspace(np.log10(low), np.log10(high), size), "do not come from rng"),
    (lesson12.q1, lambda low, high, size, rng: np.exp(rng.uniform(np.log(low), np.log(high), size - 1)),
     "returned 3999 samples"),
    (lesson12.q2, best_over_everything, "had not completed a trial within the budget in every seed"),
    (lesson12.q2, best_of_first_seed, "another method has a higher mean over the seeds"),
    (lesson12.q2, last_value_within, "another method has a higher mean over the seeds"),
    (lesson12.q2, lambda curves, budget: "grid", "not one of the methods"),
    (lesson12.q3, lambda model, lr, body: torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9),
     "(in the body) is in a group with lr=0.1"),
    (lesson12.q3, head_at_body_lr, "(in the body) is in a group with lr=0.1"),
    (lesson12.q3, weights_of_linear_and_conv_only, "is in no param group"),
    (lesson12.q3, lambda model, lr, body: torch.optim.Adam(model.parameters(), lr=lr), "expected a torch.optim.SGD"),
    (lesson12.q4, lambda objective, budget: 0.1, "more than 3% below the best of a fine grid"),
    (lesson12.q4, lambda objective, budget: float(max(np.geomspace(1e-5, 10, 12), key=objective)),
     "more than the budget"),
    (lesson12.q4, lambda objective, budget: 30.0, "outside the range"),
])
def test_wrong_answers_fail_and_name_the_property(question, answer, words):
    feedback = question.feedback(answer)
    assert feedback.outcome == core.INCORRECT and words in feedback.message, feedback.message


def test_the_practice_objective_counts_its_trials():
    objective = lesson12.practice_objective()
    accuracy = objective(0.05)
    assert 0.0 <= accuracy <= 1.0 and objective.calls == 1
