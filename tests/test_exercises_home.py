"""Lesson 11's paired comparison and lesson 15's home-experiment questions: wrong answers fail, naming the property."""

import dataclasses
import functools

import pytest
import torch

import lrcourse
from lrcourse.data import TensorData
from lrcourse.exercises import core, lesson11, lesson15
from lrcourse.experiments import home_experiment
from lrcourse.range_test import RangeTest
from test_home import made_up_report


@functools.cache
def _lesson15_context() -> tuple:
    """What lesson 15's notebook defines before its questions, on made-up data (3 classes of 8x8 images:
    a pattern per class under noise)."""
    generator = torch.Generator().manual_seed(0)
    labels = torch.arange(150) % 3
    patterns = torch.rand(3, 1, 8, 8, generator=generator)
    data = TensorData(patterns[labels] + 0.5 * torch.randn(150, 1, 8, 8, generator=generator), labels)
    names = {"DATA": data, "MODEL": functools.partial(lrcourse.MLP, hidden=16, in_features=64, num_classes=3),
             "EPOCHS": 1, "BATCH": 32, "home_experiment": home_experiment}
    exec(lesson15.q1.solution_code, names)
    return tuple(names.items())


def notebook_context(lesson: str) -> dict:
    """The names a lesson's notebook defines before its exercises, for the solutions that use them."""
    return dict(_lesson15_context()) if lesson == "lesson15" else {}


@pytest.fixture(autouse=True)
def progress_file(tmp_path, monkeypatch):
    monkeypatch.setenv("LRCOURSE_PROGRESS", str(tmp_path / "progress.json"))


# --- lesson 11, q3: a paired comparison over seeds -----------------------------------------

def one_seed(run_a, run_b):
    return {"differences": {0: run_a(0) - run_b(0)}, "verdict": "a" if run_a(0) > run_b(0) else "b"}


def unpaired(run_a, run_b):
    a, b = [run_a(seed) for seed in (0, 1, 2)], [run_b(seed) for seed in (3, 4, 5)]
    return {"differences": {seed: x - y for seed, x, y in zip((0, 1, 2), a, b)}, "verdict": "no difference"}


def verdict_by_the_mean(run_a, run_b):
    differences = {seed: run_a(seed) - run_b(seed) for seed in (0, 1, 2)}
    mean = sum(differences.values()) / 3
    return {"differences": differences, "verdict": "a" if mean > 0 else "b" if mean < 0 else "no difference"}


def b_minus_a(run_a, run_b):
    differences = {seed: run_b(seed) - run_a(seed) for seed in (0, 1, 2)}
    return {"differences": differences, "verdict": "a"}


def returns_a_list(run_a, run_b):
    return [run_a(seed) - run_b(seed) for seed in (0, 1, 2)]


@pytest.mark.parametrize("answer, words", [
    (one_seed, "ran run_a with 1 seed(s); at least 3 are needed"),
    (unpaired, "run_a and run_b were not given the same seeds"),
    (verdict_by_the_mean, "changes sign with the seed, your verdict 'a' does not follow from your differences"),
    (b_minus_a, "the difference you return for seed 0 is not run_a(0) - run_b(0)"),
    (returns_a_list, "expected a dict with 'differences' and 'verdict'"),
])
def test_comparison_wrong_answers(answer, words):
    feedback = lesson11.q3.feedback(answer)
    assert feedback.outcome == core.INCORRECT and words in feedback.message, feedback.message


def test_comparison_with_more_seeds_passes_and_says_no_difference_for_equal_runs():
    def compare(run_a, run_b):
        differences = {seed: run_a(seed) - run_b(seed) for seed in range(10, 15)}
        verdict = ("a" if all(d > 0 for d in differences.values()) else "b" if all(d < 0 for d in differences.values())
                   else "no difference")
        return {"differences": differences, "verdict": verdict}

    assert lesson11.q3.feedback(compare).outcome == core.CORRECT
    same = lesson11.RecordedRun(lambda seed: 0.8)
    got = compare(same, lesson11.RecordedRun(lambda seed: 0.8))
    assert got["verdict"] == "no difference"


# --- lesson 15: the learner's own report and conclusion --------------------------------------

def flat_test():
    lrs = [1e-5 * 1.3 ** i for i in range(40)]
    losses = [1.1 + 0.01 * (i % 3) + (0.5 * (i - 30) if i > 30 else 0) for i in range(40)]
    return RangeTest(1e-5, lrs[-1], 40, "exp", lrs=lrs, losses=losses, smoothed=losses)


FINALS = {"default": [0.90, 0.91, 0.90], "found": [0.93, 0.92, 0.94], "one_cycle": [0.95, 0.96, 0.95]}


def test_a_complete_report_and_a_fitting_conclusion_pass():
    report = made_up_report(FINALS)
    assert lesson15.q1.feedback(report).outcome == core.CORRECT
    for margin in (0.02, 0.03, 0.01 - 0.004):  # within the spread of the paired differences (+- half a point)
        conclusion = {"report": report, "winner": "one_cycle", "margin": margin}
        assert lesson15.q2.feedback(conclusion).outcome == core.CORRECT, margin


@pytest.mark.parametrize("change, words", [
    (dict(seeds=[0]), "ran 1 seed; at least two are needed"),
    (dict(restored=[True, False, True]), "the model's weights were not as before"),
    (dict(range_tests=[]), "holds no range test"),
    (dict(found_lr=5.0), "lies outside the learning region of your own range tests: past the lowest point"),
    (dict(found_lr=1e-5), "below where the loss starts to fall"),
    (dict(range_tests=[flat_test()] * 3), "your range tests show no learning region"),
    (dict(stop_reason="stopped during training"), "did not finish its training runs: stopped during training"),
    (dict(epochs=0, runs=[]), "range tests only (epochs=0)"),
    (dict(run_names=["found"]), "needs the run at the found LR and at least one other"),
    (dict(epochs=3), "the run 'default' did not finish for every seed"),
])
def test_report_wrong_answers(change, words):
    report = made_up_report(FINALS, **change)
    feedback = lesson15.q1.feedback(report)
    assert feedback.outcome == core.INCORRECT and words in feedback.message, feedback.message


def test_report_answer_must_be_a_report():
    feedback = lesson15.q1.feedback({"runs": []})
    assert feedback.outcome == core.INCORRECT and "should be the Report that home_experiment returned" in \
        feedback.message


@pytest.mark.parametrize("conclusion, words", [
    (dict(winner="default", margin=0.02), "'default' ended below 'found' on every seed: it did not win"),
    (dict(winner="one_cycle", margin=0.1), "a margin of 0.1 over the next best run, 'found', is not what your seeds"),
    (dict(winner="one_cycle", margin=2.3), "margin is a fraction of accuracy"),
    (dict(winner="one_cycle", margin=-0.02), "is not what your seeds measured"),
    (dict(winner="1-cycle", margin=0.02), "winner should name one of the runs of your report"),
    (dict(winner="one_cycle", margin="2 points"), "should be a single number"),
    (dict(winner="one_cycle"), "should be a dict with the keys 'report', 'winner' and 'margin'"),
])
def test_conclusion_wrong_answers(conclusion, words):
    answer = {"report": made_up_report(FINALS), **conclusion}
    feedback = lesson15.q2.feedback(answer)
    assert feedback.outcome == core.INCORRECT and words in feedback.message, feedback.message


def test_a_winner_within_the_seed_spread_may_be_named():
    report = made_up_report({"found": [0.93, 0.95, 0.92], "one_cycle": [0.94, 0.94, 0.94]})
    for winner, margin in (("one_cycle", 0.0033), ("found", -0.0033)):
        answer = {"report": report, "winner": winner, "margin": margin}
        assert lesson15.q2.feedback(answer).outcome == core.CORRECT, winner


def test_feedback_carries_the_question_for_graders():
    feedback = lesson15.q1.feedback(made_up_report(FINALS))
    bundle = feedback._repr_mimebundle_()[core.FEEDBACK_MIME]
    assert bundle == {"lesson": "lesson15", "question": "q1", "outcome": "correct", "message": "well done."}
    assert dataclasses.replace(feedback, lesson="", question="") == feedback  # who it is for is not compared
