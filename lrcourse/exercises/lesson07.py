"""Exercises of lesson 07, SGDR and snapshot ensembles.

- ``q1``: the steps at which SGDR ends a cycle (where a snapshot is taken).
- ``q2``: an ensemble's prediction from its members' probabilities.
"""

from __future__ import annotations

import torch

from ..snapshots import cycle_ends
from .core import Question
from .grading import Case, as_int_list, grade_cases

TITLE = "SGDR and snapshot ensembles"


def _snapshot_cases():
    for T_0, T_mult, total_steps in ((10, 1, 35), (10, 1, 40), (3, 2, 21), (5, 3, 100), (4, 2, 5), (7, 1, 6)):
        yield Case(f"for T_0={T_0}, T_mult={T_mult}, total_steps={total_steps}", (T_0, T_mult, total_steps),
                   cycle_ends(T_0, T_mult, total_steps))


def _check_snapshot_steps(got, case: Case) -> str | None:
    total_steps, expected = case.args[2], case.expected
    got = as_int_list(got, "step numbers", case.description)
    if got == expected:
        return None
    if any(step >= total_steps for step in got):
        return f"your list holds step {max(got)}, but training only runs steps 0 to {total_steps - 1}"
    if [step - 1 for step in got] == expected:
        return (f"you return {got}: those are the first steps of the new cycles, where the LR is back at its "
                "highest. The snapshot is taken one step earlier, at the lowest LR")
    if len(got) != len(expected):
        return (f"you return {len(got)} snapshot steps, but SGDR completes {len(expected)} cycle(s). Only completed "
                "cycles give a snapshot")
    return f"you return {got}. Check where each cycle ends: each is T_mult times as long as the one before"


def _grade_snapshot_steps(snapshot_steps) -> None:
    grade_cases(snapshot_steps, _snapshot_cases(), _check_snapshot_steps)


def _members_cases() -> list[tuple[str, torch.Tensor]]:
    # Each case separates averaging probabilities from a majority vote, from averaging
    # log-probabilities, and from trusting the most confident member.
    vote_differs = torch.tensor([[[0.55, 0.45]], [[0.55, 0.45]], [[0.05, 0.95]]])
    geometric_differs = torch.tensor([[[0.99, 0.01]], [[0.3, 0.7]], [[0.3, 0.7]], [[0.3, 0.7]]])
    confident_differs = torch.tensor([[[0.3, 0.7, 0.0]], [[0.5, 0.1, 0.4]], [[0.5, 0.2, 0.3]], [[0.5, 0.2, 0.3]]])
    generator = torch.Generator().manual_seed(7)
    random = torch.softmax(3 * torch.randn(5, 40, 10, generator=generator), dim=2)
    return [("3 members, 1 example, 2 classes", vote_differs), ("4 members, 1 example, 2 classes", geometric_differs),
            ("4 members, 1 example, 3 classes", confident_differs), ("5 members, 40 examples, 10 classes", random)]


def _check_ensemble_predict(got, case: Case) -> str | None:
    probabilities, expected = case.expected
    if not isinstance(got, torch.Tensor):
        return f"expected a tensor of class indices; got {type(got).__name__}"
    if got.shape != expected.shape:
        return (f"your result has shape {tuple(got.shape)}; expected one class per example, shape "
                f"{tuple(expected.shape)}. Which dimension holds the members?")
    wrong = torch.nonzero(got.long() != expected).flatten()
    if len(wrong):
        i = int(wrong[0])
        members = ", ".join(str([round(value, 2) for value in row]) for row in probabilities[:, i].tolist())
        return (f"for example {i}, whose members give {members}, you predict class {int(got[i])}. Average the "
                "members' probabilities first, then take the largest")
    return None


def _grade_ensemble_predict(ensemble_predict) -> None:
    cases = (Case(f"for probabilities of shape {tuple(p.shape)} ({description})", (p.clone(),),
                  (p, p.mean(0).argmax(1))) for description, p in _members_cases())
    grade_cases(ensemble_predict, cases, _check_ensemble_predict)


q1 = Question(
    "Where SGDR takes its snapshots", _grade_snapshot_steps,
    hints=("Cycle i lasts T_0 * T_mult**i steps; the first starts at step 0.",
           "Walk through the cycles: end = T_0, then end += T_0 * T_mult, ...; each completed cycle's last step is "
           "end - 1, as long as end <= total_steps."),
    solution="""
def snapshot_steps(T_0, T_mult, total_steps):
    steps, length, end = [], T_0, T_0
    while end <= total_steps:
        steps.append(end - 1)
        length *= T_mult
        end += length
    return steps
""",
    answer_name="snapshot_steps",
)

q2 = Question(
    "Averaging the members", _grade_ensemble_predict,
    hints=("The input has shape (members, examples, classes): average over the members' dimension.",
           "probabilities.mean(dim=0) gives one probability vector per example; .argmax(dim=1) picks its class."),
    solution="""
def ensemble_predict(probabilities):
    return probabilities.mean(dim=0).argmax(dim=1)
""",
    answer_name="ensemble_predict",
)
