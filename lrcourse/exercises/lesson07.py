"""Exercises of lesson 07, SGDR and snapshot ensembles.

- ``q1``: the steps at which SGDR ends a cycle (where a snapshot is taken).
- ``q2``: an ensemble's prediction from its members' probabilities.
- ``q3``: an experiment: is the ensemble ahead of its best member, over seeds, paired, beyond a margin?
"""

from __future__ import annotations

import torch

from ..compare import compare
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


class _SnapshotRuns:
    """A stand-in for "train with restarts from this seed and return the snapshots' predictions": for
    ``seed`` it returns ``(probabilities, labels)``, the members' probabilities of shape
    ``(members, examples, classes)`` and the true classes, drawn from a generator seeded by the
    set-up and the seed (so the same seed gives the same run). Each set-up mixes a signal the
    members share, noise of their own (which averaging cancels) and, in ``misled`` members, a
    confident wrong class they share (which averaging cannot cancel). It records the seeds asked for."""

    def __init__(self, setup: int, signal: float, own_noise: float, misled: int, members: int = 4,
                 flip_odd_seeds: bool = False):
        self.setup, self.signal, self.own_noise, self.misled = setup, signal, own_noise, misled
        self.members, self.flip_odd_seeds, self.seeds = members, flip_odd_seeds, []

    def __call__(self, seed):
        self.seeds.append(seed)
        generator = torch.Generator().manual_seed(1000 * self.setup + int(seed))
        examples, classes = 300, 5
        labels = torch.randint(classes, (examples,), generator=generator)
        shared = torch.randn(examples, classes, generator=generator)
        wrong = (labels + torch.randint(1, classes, (examples,), generator=generator)) % classes
        misled = self.misled if not (self.flip_odd_seeds and int(seed) % 2) else 0
        logits = []
        for member in range(self.members):
            own = self.own_noise * torch.randn(examples, classes, generator=generator)
            member_logits = self.signal * torch.nn.functional.one_hot(labels, classes) + shared + own
            if member >= self.members - misled:   # the last members share a confident mistake on a third of the images
                lead = torch.rand(examples, generator=generator) < 0.35
                member_logits = member_logits + 6.0 * lead[:, None] * torch.nn.functional.one_hot(wrong, classes)
            logits.append(member_logits)
        return torch.softmax(torch.stack(logits), dim=2), labels


def _verdict_setups():
    return [("set-up A (members with noise of their own)", _SnapshotRuns(1, 2.0, 2.5, 0), 0.01),
            ("set-up B (the same set-up, a margin of 0.5)", _SnapshotRuns(2, 2.0, 2.5, 0), 0.5),
            ("set-up C (three members share a confident mistake)", _SnapshotRuns(3, 2.5, 0.3, 3), 0.01),
            ("set-up D (the shared mistake in even seeds only)", _SnapshotRuns(4, 2.0, 2.5, 3, flip_odd_seeds=True),
             0.01)]


def _expected_verdict(runs: _SnapshotRuns, margin: float, seeds) -> str:
    ensemble, best = [], []
    for seed in seeds:
        probabilities, labels = runs(seed)
        ensemble.append(float((probabilities.mean(0).argmax(1) == labels).float().mean()))
        best.append(max(float((member.argmax(1) == labels).float().mean()) for member in probabilities))
    return {"a": "ensemble", "b": "best member", "level": "level"}[compare(ensemble, best, margin).verdict]


def _check_verdict(got, case: Case) -> str | None:
    runs, margin = case.args
    seeds = sorted(set(runs.seeds))
    if got not in ("ensemble", "best member", "level"):
        return f"you return {got!r}; return one of 'ensemble', 'best member' or 'level'"
    if len(seeds) < 3:
        return (f"you trained from {len(seeds)} different seed(s); a verdict needs at least 3, and the seeds "
                "must differ")
    expected = _expected_verdict(_SnapshotRuns(runs.setup, runs.signal, runs.own_noise, runs.misled, runs.members,
                                               runs.flip_odd_seeds), margin, seeds)
    if got != expected:
        return (f"you return {got!r}, but that is not what a paired comparison over the seeds you ran ({seeds}) "
                f"says. Compare, seed by seed, the ensemble's accuracy with the best member's of the same run, and "
                f"call a winner only if it wins every seed by more than margin={margin:g}")
    return None


def _grade_verdict(ensemble_verdict) -> None:
    cases = (Case(f"in {description}", (runs, margin)) for description, runs, margin in _verdict_setups())
    grade_cases(ensemble_verdict, cases, _check_verdict)


q3 = Question(
    "Is the ensemble ahead? An experiment over seeds", _grade_verdict,
    hints=("Call train_once(seed) for three or more different seeds; each call is one training run with its "
           "snapshots, and its best member is the best snapshot of that same run.",
           "For each seed: the ensemble's accuracy (average the probabilities, then argmax, compare with labels) "
           "minus the best member's accuracy. lrcourse.compare.compare(ensemble, best, margin).verdict reads those "
           "paired differences: 'a' (every seed above margin), 'b' (every seed below -margin), else 'level'."),
    solution="""
from lrcourse.compare import compare

def ensemble_verdict(train_once, margin):
    ensemble, best = [], []
    for seed in (0, 1, 2):
        probabilities, labels = train_once(seed)
        ensemble.append((probabilities.mean(0).argmax(1) == labels).float().mean().item())
        best.append(max((member.argmax(1) == labels).float().mean().item() for member in probabilities))
    return {"a": "ensemble", "b": "best member", "level": "level"}[compare(ensemble, best, margin).verdict]
""",
    answer_name="ensemble_verdict",
)
