"""Exercises of lesson 15, your home experiment. Both grade *your own* result, not a reference:

- ``q1``: the :class:`~lrcourse.experiments.Report` of your home experiment: the range tests ran and
  left the model as they found it, the LR you trained at lies in the learning region of your own
  curves, at least two seeds, every run finished;
- ``q2``: your conclusion (which run won, and by how much) agrees with your numbers, within
  their seed spread.
"""

from __future__ import annotations

import math

from ..experiments.report import Report
from .core import Question
from .grading import Incorrect, as_number

TITLE = "Your home experiment"

#: How far a stated margin may lie outside the seed spread of the paired differences (rounding):
#: half a point of accuracy.
MARGIN_TOLERANCE = 0.005


def _as_report(answer, what: str) -> Report:
    if not isinstance(answer, Report):
        raise Incorrect(f"{what} should be the Report that home_experiment returned; got {type(answer).__name__}")
    return answer


def _grade_report(answer) -> None:
    report = _as_report(answer, "report")
    if not report.range_tests:
        raise Incorrect("the report holds no range test: run home_experiment, which starts with them")
    if len(report.restored) != len(report.range_tests) or not all(report.restored):
        raise Incorrect("after a range test the model's weights were not as before: the test must leave the model "
                        "as it found it (restore it), or the runs after it start from trained weights")
    if any(test.steps < 10 for test in report.range_tests):
        raise Incorrect("a range test of the report took fewer than 10 steps: too few to read a curve from")
    if len(set(report.seeds)) < 2:
        raise Incorrect(f"the experiment ran {len(set(report.seeds))} seed; at least two are needed to see how "
                        "much of a difference is noise")
    if report.stop_reason is not None or report.epochs < 1:
        why = report.stop_reason or "it ran the range tests only (epochs=0)"
        raise Incorrect(f"the experiment did not finish its training runs: {why}. Run it to the end")
    if "found" not in report.run_names or len(report.run_names) < 2:
        raise Incorrect(f"the report's runs are {tuple(report.run_names)}: it needs the run at the found LR and at "
                        "least one other to compare it with")
    for name in report.run_names:
        done = {run.seed for run in report.runs
                if run.name == name and (len(run.history.val_accuracy) == report.epochs or run.history.diverged)}
        if done != set(report.seeds):
            raise Incorrect(f"the run {name!r} did not finish for every seed of the report")
    low, high = report.learning_region
    if not low < high:
        raise Incorrect("your range tests show no learning region: their loss does not fall before it turns up. "
                        "Check that the model can learn the data (the labels, the input scale), then run again")
    if not low <= report.found_lr <= high:
        side = "below where the loss starts to fall" if report.found_lr < low else "past the lowest point"
        raise Incorrect(f"the LR of your 'found' run, {report.found_lr:.3g}, lies outside the learning region of your "
                        f"own range tests: {side} of their curves. Read it off your plot again")


def _grade_conclusion(answer) -> None:
    if not isinstance(answer, dict) or set(answer) != {"report", "winner", "margin"}:
        keys = f" with keys {sorted(map(str, answer))}" if isinstance(answer, dict) else ""
        raise Incorrect("my_conclusion should be a dict with the keys 'report', 'winner' and 'margin'; got "
                        f"{type(answer).__name__}{keys}")
    report = _as_report(answer["report"], "my_conclusion['report']")
    winner = answer["winner"]
    if winner not in report.names:
        raise Incorrect(f"winner should name one of the runs of your report, {tuple(report.names)}; got {winner!r}")
    margin = as_number(answer["margin"], "my_conclusion['margin']")
    if len(report.seeds) < 2 or len(report.names) < 2:
        raise Incorrect("the report needs at least two runs over at least two seeds to draw a conclusion from")
    others = [name for name in report.names if name != winner]
    for other in others:
        difference = report.difference(winner, other)
        if math.isnan(difference.high) or difference.high < 0:
            raise Incorrect(f"by your numbers, {winner!r} ended below {other!r} on every seed: it did not win")
    runner_up = max(others, key=lambda name: report.mean(name))
    difference = report.difference(winner, runner_up)
    if not difference.low - MARGIN_TOLERANCE <= margin <= difference.high + MARGIN_TOLERANCE:
        hint = (" (margin is a fraction of accuracy: 0.01 is one point)"
                if 0.5 <= abs(margin) and abs(margin / 100 - difference.mean) <= MARGIN_TOLERANCE else "")
        raise Incorrect(f"a margin of {margin:.4g} over the next best run, {runner_up!r}, is not what your seeds "
                        f"measured, within their spread{hint}")


q1 = Question(
    "Your home experiment ran properly", _grade_report,
    hints=("Run home_experiment on the sample or your own folder, with at least two seeds, to the end.",
           "Pass lr= a value inside the shaded learning region of your range-test plot: from where the loss starts "
           "to fall to its lowest point."),
    solution="""
my_report = home_experiment(MODEL, DATA, epochs=EPOCHS, batch_size=BATCH, seeds=(0, 1, 2))
""",
    answer_name="my_report",
)

q2 = Question(
    "Your conclusion agrees with your numbers", _grade_conclusion,
    hints=("Read the table: the winner has the highest mean final validation accuracy; the margin is its mean "
           "minus the next best run's.",
           "report.best names the run with the highest mean; report.difference(a, b).mean is the mean of a - b "
           "over your seeds."),
    solution="""
runner_up = max((name for name in my_report.names if name != my_report.best), key=my_report.mean)
my_conclusion = {"report": my_report, "winner": my_report.best,
                 "margin": my_report.difference(my_report.best, runner_up).mean}
""",
    answer_name="my_conclusion",
)
