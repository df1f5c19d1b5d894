"""Every question: its shown solution passes; plausible wrong answers fail and say which case."""

import importlib
import json

import numpy as np
import pytest
import torch

import lrcourse
import lrcourse.exercises as exercises
from lrcourse.exercises import (core, grading, lesson01, lesson02, lesson03, lesson04, lesson05, lesson06, lesson07,
                                lesson08, lesson09, lesson10, lesson11)
from lrcourse.range_test import lr_range_test
from lrcourse.surfaces import curvatures, gradient_descent
from test_exercises_home import notebook_context

LESSON_MODULES = [importlib.import_module(f"lrcourse.exercises.{key}") for key in exercises.LESSONS]
ALL_QUESTIONS = [q for lesson in LESSON_MODULES for q in exercises.questions(lesson)]


@pytest.fixture(autouse=True)
def progress_file(tmp_path, monkeypatch):
    path = tmp_path / "progress.json"
    monkeypatch.setenv("LRCOURSE_PROGRESS", str(path))
    return path


def solution_answer(question):
    namespace = {"ex": __import__(f"lrcourse.exercises.{question.lesson}", fromlist=["_"]),
                 **notebook_context(question.lesson)}
    exec(question.solution_code, namespace)
    return namespace[question.answer_name]


@pytest.mark.parametrize("question", ALL_QUESTIONS, ids=repr)
def test_shown_solution_passes_and_is_recorded(question, progress_file, capsys):
    answer = solution_answer(question)
    assert question.feedback(answer).outcome == core.CORRECT
    assert question.check(answer) is None  # the cell shows the feedback only, no True/False under it
    assert capsys.readouterr().out == "Correct: well done.\n"
    assert list(json.loads(progress_file.read_text())[question.lesson]) == [question.name]


@pytest.mark.parametrize("question", ALL_QUESTIONS, ids=repr)
def test_stub_is_not_attempted(question, progress_file, capsys):
    assert question.feedback(...).outcome == core.NOT_ATTEMPTED
    assert question.feedback(None).outcome == core.NOT_ATTEMPTED
    assert question.check(...) is None
    assert capsys.readouterr().out.startswith("Not attempted yet: set ")
    assert not progress_file.exists()


def test_lesson_and_question_names_are_derived():
    assert exercises.LESSONS == tuple(f"lesson{n:02d}" for n in range(1, 16))
    for lesson in LESSON_MODULES:
        named = {name: value for name, value in vars(lesson).items() if isinstance(value, core.Question)}
        assert list(named) == [f"q{n}" for n in range(1, len(named) + 1)]
        assert [q.name for q in exercises.questions(lesson)] == list(named)
        for name, question in named.items():
            assert (question.lesson, question.name) == (lesson.__name__.rpartition(".")[2], name)


def gd_uphill(w, grad, lr):
    return w + lr * grad


def gd_without_lr(w, grad, lr):
    return w - grad


def gd_in_place(w, grad, lr):
    w -= lr * grad
    return w


def gd_stub(w, grad, lr):
    ...


def gd_raises(w, grad, lr):
    return w[0] - lr * grad


def gd_loops(w, grad, lr):
    while True:
        pass


@pytest.mark.parametrize("answer, outcome, words", [
    (gd_uphill, core.INCORRECT, "for w = 1, grad = 0.5, lr = 0.1, your function returned 1.05: w moved uphill"),
    (gd_without_lr, core.INCORRECT, "ignores the learning rate"),
    (gd_in_place, core.INCORRECT, "changed the w it was given"),
    (lambda w, grad, lr: "w", core.INCORRECT, "returned a str"),
    (lambda w, grad, lr: np.zeros(7), core.INCORRECT, "returned shape (7,)"),
    (lambda w, grad, lr: w - lr * grad * np.nan, core.INCORRECT, "returned nan"),
    (gd_stub, core.NOT_ATTEMPTED, "returns None"),
    (gd_raises, core.ERROR, "for w = 1, grad = 0.5, lr = 0.1, your function raised TypeError"),
    (42, core.INCORRECT, "expected a function; got int 42"),
])
def test_gd_step_wrong_answers(answer, outcome, words):
    feedback = lesson01.q1.feedback(answer)
    assert feedback.outcome == outcome and words in feedback.message


def test_grade_cases_names_the_first_failing_case():
    def check(got, case):
        if got == "boom":
            raise grading.Wrong("it went boom")
        return None if got == case.expected else f"you return {got}"

    cases = [grading.Case(f"for x={x}", (x,), 2 * x) for x in (1, 2, 3)]
    grading.grade_cases(lambda x: 2 * x, cases, check)
    with pytest.raises(grading.Incorrect, match=r"^for x=2, you return 5$"):
        grading.grade_cases(lambda x: 2 * x + (x == 2), cases, check)
    with pytest.raises(grading.Incorrect, match=r"^for x=1, it went boom$"):
        grading.grade_cases(lambda x: "boom", cases, check)
    with pytest.raises(grading.LearnerError, match=r"^for x=3, your function raised ZeroDivisionError"):
        grading.grade_cases(lambda x: 1 / (x - 3) and 2 * x, cases, check)


def test_endless_loop_is_stopped(monkeypatch):
    monkeypatch.setattr(grading, "TIME_LIMIT_SECONDS", 0.2)
    feedback = lesson01.q1.feedback(gd_loops)
    assert feedback.outcome == core.ERROR and "still running after 0.2 s" in feedback.message


@pytest.mark.parametrize("answer, words", [
    (0.05, "at lr = 0.05, gradient descent on the valley from (1.0, 1.0) is unstable"),
    (0.0401, "is unstable"),
    (2 / 2.0, "is unstable"),  # the flat direction's limit, not the steep one's
    (0.02, "at lr = 0.02 the descent is stable"),
    (-0.04, "must be > 0"),
    (float("nan"), "expected a finite number"),
    ("0.04", "should be a single number; got str '0.04'"),
    ([0.04], "got list"),
])
def test_largest_lr_wrong_answers(answer, words):
    feedback = lesson01.q2.feedback(answer)
    assert feedback.outcome == core.INCORRECT and words in feedback.message


def test_largest_lr_accepts_tensors_and_values_just_below():
    assert lesson01.q2.feedback(torch.tensor(0.04))
    assert lesson01.q2.feedback(0.039)


@pytest.mark.parametrize("answer, words", [
    ({"A": "too high", "B": "good", "C": "too low"}, "curve A is not 'too high'"),
    ({"A": "good", "B": "too low", "C": "too high"}, "curve B is not 'too low'"),
    ({"A": "good", "B": "high", "C": "too low"}, "'high', is not one of"),
    ({"A": "good"}, "exactly the keys"),
    (["good", "too high", "too low"], "should be a dict"),
])
def test_curve_labels_wrong_answers(answer, words):
    feedback = lesson01.q3.feedback(answer)
    assert feedback.outcome == core.INCORRECT and words in feedback.message


def test_mystery_curves_show_what_their_labels_say(fmnist):
    runs = lesson01.mystery_runs(fmnist)
    accuracy = {curve: run.history.val_accuracy[-1] for curve, run in runs.items()}
    by_label = {lesson01._MYSTERY_LABELS[curve]: acc for curve, acc in accuracy.items()}
    assert by_label["good"] > by_label["too low"] + 0.05 and by_label["good"] > by_label["too high"] + 0.05
    assert runs["C"].history.loss[0] > runs["C"].history.loss[-1]  # too low still learns, slowly


@pytest.mark.parametrize("change, words", [
    ({("raw", 1e-3): False}, "starting with raw pixels at lr=0.001"),
    ({("scaled", 1e-1): True, ("raw", 1e-1): True}, "2 of the six predictions differ"),
    ({("raw", 1e-5): "yes"}, "use True or False"),
])
def test_prediction_wrong_answers(change, words):
    answer = {**solution_answer(lesson02.q1), **change}
    feedback = lesson02.q1.feedback(answer)
    assert feedback.outcome == core.INCORRECT and words in feedback.message


def test_prediction_missing_pair():
    answer = solution_answer(lesson02.q1)
    del answer["scaled", 1e-5]
    assert "no entry for ('scaled', 1e-05)" in lesson02.q1.feedback(answer).message


@pytest.mark.parametrize("answer, words", [
    (lambda m: {n: (p.min().item(), p.max().item()) for n, p in m.named_parameters() if n.endswith("weight")},
     "no entry for 'bias'"),
    (lambda m: {n: (p.max().item(), p.min().item()) for n, p in m.named_parameters()}, "min above max"),
    (lambda m: {n: (-p.abs().max().item(), p.abs().max().item()) for n, p in m.named_parameters()},
     "not the smallest and largest value"),
    (lambda m: {n: (p.min().item(), p.max().item()) for n, p in m.named_parameters() if p.requires_grad},
     "for an MLP whose first layer is frozen, your dict has no entry for '1.weight'"),
    (lambda m: [p.min() for p in m.parameters()], "returned a list; expected a dict"),
    (lambda m: {n: p.min().item() for n, p in m.named_parameters()}, "expected a pair (min, max)"),
])
def test_weight_ranges_wrong_answers(answer, words):
    feedback = lesson02.q2.feedback(answer)
    assert feedback.outcome == core.INCORRECT and words in feedback.message


def test_weight_ranges_check_leaves_the_global_rng_as_it_was(monkeypatch):
    monkeypatch.setattr(core, "SANDBOX", False)  # in this process: a child's RNG could not leak anyway
    torch.manual_seed(123)
    state = torch.random.get_rng_state()
    assert lesson02.q2.feedback(solution_answer(lesson02.q2)).outcome == core.CORRECT
    assert torch.equal(torch.random.get_rng_state(), state)
    first, second = lesson02._weight_range_cases(), lesson02._weight_range_cases()
    assert [case.expected for case in first] == [case.expected for case in second]  # the same models every time


def test_weight_ranges_accepts_tensor_values():
    answer = lambda m: {n: (p.min(), p.max()) for n, p in m.named_parameters()}  # noqa: E731
    assert lesson02.q2.feedback(answer)


def test_feedback_html_is_escaped():
    feedback = lesson01.q2.feedback("<b>")
    assert "&lt;b&gt;" in feedback._repr_html_() and "<b>'" not in feedback._repr_html_()


def test_hints_and_solution(capsys):
    lesson01.q2.hint()
    lesson01.q2.hint(3)
    lesson01.q2.solution()
    shown = capsys.readouterr().out
    assert "Hint 1 of 3" in shown and "Hint 3 of 3" in shown and "largest_lr =" in shown
    with pytest.raises(ValueError, match="n must be an int in \\[1, 3\\]"):
        lesson01.q2.hint(4)


def test_progress_records_correct_answers_only(progress_file):
    lesson01.q2.check(0.02)
    assert not progress_file.exists()
    lesson01.q2.check(0.04)
    lesson02.q2.check(solution_answer(lesson02.q2))
    recorded = json.loads(progress_file.read_text())
    assert set(recorded) == {"lesson01", "lesson02"} and set(recorded["lesson01"]) == {"q2"}
    table = exercises.progress()
    assert (table.done, table.total) == (2, len(ALL_QUESTIONS))
    assert "lesson01  1/4" in str(table) and "<table>" in table._repr_html_()


def linear_ramp(start_lr, end_lr, num_iter):
    return list(np.linspace(start_lr, end_lr, num_iter))


def ramp_one_short(start_lr, end_lr, num_iter):
    return [start_lr * (end_lr / start_lr) ** (i / num_iter) for i in range(num_iter)]


def smoothing_without_correction(losses, beta):
    average, out = 0.0, []
    for loss in losses:
        average = beta * average + (1 - beta) * loss
        out.append(average)
    return out


def adam_without_bias_correction(param, grad, m, v, t, lr, beta1, beta2, eps):
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad ** 2
    return param - lr * m / (v.sqrt() + eps), m, v


def reductions_at_patience(losses, patience, threshold):
    best, bad, epochs = float("inf"), 0, []
    for epoch, loss in enumerate(losses, start=1):
        best, bad = (loss, 0) if loss < best * (1 - threshold) else (best, bad + 1)
        if bad >= patience:
            epochs.append(epoch)
            bad = 0
    return epochs


def reductions_against_previous_epoch(losses, patience, threshold):
    previous, bad, epochs = float("inf"), 0, []
    for epoch, loss in enumerate(losses, start=1):
        bad = 0 if loss < previous * (1 - threshold) else bad + 1
        previous = loss
        if bad > patience:
            epochs.append(epoch)
            bad = 0
    return epochs


def find_lr_by_grid_search(make_model, make_optimizer, train, batch_size):
    """Right in spirit, far too dear: a training run per LR of a grid."""
    best = {}
    for lr in (1e-4, 1e-3, 1e-2, 1e-1):
        model = make_model()
        history = lrcourse.fit(model, train, make_optimizer(model.parameters(), lr), epochs=2, batch_size=batch_size,
                               progress=False)
        best[lr] = -history.train_loss[-1]
    return max(best, key=best.get)


def find_lr_lowest_loss(make_model, make_optimizer, train, batch_size):
    """The LR where the loss is lowest: on the edge of divergence."""
    model = make_model()
    return lr_range_test(model, train, make_optimizer(model.parameters(), 1e-3), batch_size=batch_size,
                         progress=False).lowest


def _accuracies(train_once, seeds, pick_member=max):
    ensemble, member = [], []
    for seed in seeds:
        probabilities, labels = train_once(seed)
        ensemble.append((probabilities.mean(0).argmax(1) == labels).float().mean().item())
        member.append(pick_member([(m.argmax(1) == labels).float().mean().item() for m in probabilities]))
    return np.array(ensemble), np.array(member)


def _verdict(difference_low, difference_high, margin):
    return "ensemble" if difference_low > margin else "best member" if difference_high < -margin else "level"


def epochs_one_seed(train_for, target, budgets):
    return next((epochs for epochs in sorted(budgets) if train_for(epochs, 0) >= target), None)


def epochs_best_seed(train_for, target, budgets):  # a lucky seed decides
    return next((epochs for epochs in sorted(budgets) if max(train_for(epochs, s) for s in (0, 1, 2)) >= target), None)


def epochs_in_given_order(train_for, target, budgets):
    return next((epochs for epochs in budgets if np.mean([train_for(epochs, s) for s in (0, 1, 2)]) >= target), None)


def epochs_largest_budget(train_for, target, budgets):
    for epochs in budgets:
        [train_for(epochs, s) for s in (0, 1, 2)]
    return max(budgets)


def verdict_one_seed(train_once, margin):
    ensemble, best = _accuracies(train_once, (0,))
    return _verdict(ensemble[0] - best[0], ensemble[0] - best[0], margin)


def verdict_from_means(train_once, margin):  # not paired: a mean can hide a seed that loses
    ensemble, best = _accuracies(train_once, (0, 1, 2))
    difference = ensemble.mean() - best.mean()
    return _verdict(difference, difference, margin)


def verdict_against_last_member(train_once, margin):
    ensemble, last = _accuracies(train_once, (0, 1, 2), pick_member=lambda accuracies: accuracies[-1])
    return _verdict((ensemble - last).min(), (ensemble - last).max(), margin)


def verdict_without_margin(train_once, margin):
    ensemble, best = _accuracies(train_once, (0, 1, 2))
    return _verdict((ensemble - best).min(), (ensemble - best).max(), 0.0)


@pytest.mark.parametrize("question, answer, words", [
    (lesson03.q1, linear_ramp, "your ramp is linear"),
    (lesson03.q1, ramp_one_short, "it should start at start_lr and end exactly at end_lr"),
    (lesson03.q1, lambda s, e, n: [s] * (n - 1), "returned 99 values; expected 100"),
    (lesson03.q2, smoothing_without_correction, "That is what the bias correction is for"),
    (lesson03.q2, lambda losses, beta: losses, "is not the bias-corrected moving average"),
    (lesson03.q3, 1e-5, "it has barely started to fall"),
    (lesson03.q3, 0.5, "already near or past its lowest point"),
    (lesson03.q4, lambda make_model, make_optimizer, train, batch_size: 0.0, "a learning rate must be > 0"),
    (lesson03.q4, find_lr_by_grid_search, "more than three training runs"),
    (lesson03.q4, find_lr_lowest_loss, "points below the best of a grid"),
    (lesson04.q1, lambda t, b, s, g: b * g ** (t / s), "holds the LR constant between drops"),
    (lesson04.q1, lambda t, b, s, g: b * g ** ((t + 1) // s), "for step=29"),
    (lesson04.q2, 1e-3, "the paper's formula never uses it"),
    (lesson04.q2, 512 ** -0.5, "only the d_model factor"),
    (lesson05.q1, lambda t, lo, hi, s: lo + (hi - lo) * abs(np.sin(np.pi * t / (2 * s))), "for step 1 with"),
    (lesson05.q1, lambda t, lo, hi, s: lo + (hi - lo) * abs(t / s % 2 - 1), "for step 0 with"),  # starts at the top
    (lesson05.q2, (1e-6, 0.5), "past its lowest point"),
    (lesson05.q2, (1e-7, 0.01), "the loss is still flat"),
    (lesson05.q2, (0.01, 0.005), "expected 0 < base_lr < max_lr"),
    (lesson06.q1, lambda t, m, T, p: m / 25 + (m - m / 25) * min(t / (p * T), 1), "for step 1 of 100"),
    (lesson06.q2, 0.95, "where the LR is lowest"),
    (lesson06.q3, epochs_one_seed, "trained from 1 different seed(s)"),
    (lesson06.q3, epochs_best_seed, "in set-up B"),
    (lesson06.q3, epochs_in_given_order, "in set-up C"),
    (lesson06.q3, epochs_largest_budget, "in set-up A"),
    (lesson06.q3, lambda train_for, target, budgets: "3 epochs", "return one of the budgets"),
    (lesson07.q1, lambda T_0, T_mult, n: [end + 1 for end in lesson07.cycle_ends(T_0, T_mult, n)], "first steps of the new"),
    (lesson07.q1, lambda T_0, T_mult, n: list(range(T_0 - 1, n, T_0)), "for T_0=3, T_mult=2"),
    (lesson07.q2, lambda p: p.argmax(2).mode(0).values, "members give [0.55, 0.45], [0.55, 0.45], [0.05, 0.95]"),
    (lesson07.q2, lambda p: p.log().mean(0).argmax(1), "members give [0.99, 0.01]"),
    (lesson07.q2, lambda p: p.mean(1).argmax(1), "Which dimension holds the members?"),
    (lesson07.q3, verdict_one_seed, "from 1 different seed(s)"),
    (lesson07.q3, lambda train_once, margin: "yes", "one of 'ensemble', 'best member' or 'level'"),
    (lesson07.q3, verdict_from_means, "in set-up D"),
    (lesson07.q3, verdict_against_last_member, "in set-up C"),
    (lesson07.q3, verdict_without_margin, "in set-up B"),
    (lesson08.q1, reductions_at_patience, "when that count reaches patience, or when it goes past it?"),
    (lesson08.q1, reductions_against_previous_epoch, "reduces the LR at epoch 4 and you do not"),
    (lesson08.q2, 9, "at epoch 9 EarlyStopping is still waiting"),
    (lesson08.q2, 11, "already stopped before epoch 11"),
    (lesson08.q3, lambda budget, k: (2, 3), "the LR is reduced 0 time(s)"),
    (lesson08.q3, lambda budget, k: (budget // (k + 1) - 1, (k + 1) * (budget // (k + 1)) - 1), "had 2 epoch(s)"),
    (lesson08.q3, lambda budget, k: (0, k + 1), "a plateau patience of 1 would fit"),
    (lesson09.q1, adam_without_bias_correction, "your step is 3.16 times the size of Adam's"),
    (lesson09.q1, lambda p, g, m, v, t, lr, b1, b2, eps: (p, b2 * m + (1 - b2) * g, v), "your m is off"),
    (lesson09.q2, lambda grads, lr, eps: lr / ((sum(g * g for g in grads) / len(grads)) ** 0.5 + eps), "as RMSprop"),
    (lesson09.q2, lambda grads, lr, eps: lr / (sum(g * g for g in grads) + eps), "for gradients [0.5]"),
    (lesson09.q3, 100, "growth of the accumulated sum"),
    (lesson10.q1, lambda lr, b0, b, rule: lr * b0 / b, "it moves the wrong way"),
    (lesson10.q1, lambda lr, b0, b, rule: lr * b / b0, "for base_lr=0.001 at base_batch=32"),
    (lesson10.q2, 0.1 * (8192 / 256) ** 0.5, "the square-root rule"),
    (lesson10.q3, 57, "drops the last, smaller batch"),
    (lesson10.q3, 20, "the steps of one epoch"),
    (lesson11.q1, lambda n, b, e, drop: e * (n // b), "the last, smaller batch is a step too"),
    (lesson11.q1, lambda n, b, e, drop: -(-n // b), "the steps of one epoch"),
    (lesson11.q2, 1e-3, "no higher than a good constant LR"),
    (lesson11.q2, 0.5, "past the lowest point"),
])
def test_later_lessons_wrong_answers(question, answer, words):
    feedback = question.feedback(answer)
    assert feedback.outcome == core.INCORRECT and words in feedback.message, feedback.message


# --- lesson 01 q4: the stability limit with momentum, found by experiment -------------------------------------

def limit_without_momentum(surface, start, momentum):  # 2 / c: the limit of plain gradient descent
    return 2 / max(curvatures(surface, np.zeros(surface.dim)))


def limit_on_a_coarse_grid(surface, start, momentum):  # right method, too coarse to find the boundary
    lrs = np.geomspace(1e-3, 10, 20)
    return max(lr for lr in lrs if not gradient_descent(surface, start, lr, 400, momentum=momentum).diverged)


def limit_overshot(surface, start, momentum):
    return 1.2 * 2 * (1 + momentum) / max(curvatures(surface, np.zeros(surface.dim)))


@pytest.mark.parametrize("answer, named", [(limit_without_momentum, "still settles: your LR is below the boundary"),
                                           (limit_on_a_coarse_grid, "still settles: your LR is below the boundary"),
                                           (limit_overshot, "does not settle in 400 steps: it is above the boundary")])
def test_lesson01_q4_wrong_limits_fail_naming_the_property(answer, named):
    feedback = lesson01.q4.feedback(answer)
    assert feedback.outcome == core.INCORRECT and named in feedback.message
