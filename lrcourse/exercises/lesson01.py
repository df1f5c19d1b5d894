"""Exercises of lesson 01, what the learning rate does.

- ``q1``: write one gradient-descent step.
- ``q2``: the largest stable LR on the ill-conditioned valley :data:`VALLEY`.
- ``q3``: label three FashionMNIST training curves as too low, good or too high.
- ``q4``: an experiment: find the largest stable LR of heavy-ball momentum by running descents.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import torch

from ..data import FashionMNIST
from ..experiments import Run, train_at_lr
from ..plots import plot_loss
from ..surfaces import gradient_descent, quadratic, valley
from .core import Question
from .grading import Case, Incorrect, NotAttempted, as_number, call, grade_cases, is_stub

TITLE = "What the learning rate does"

# q2: the valley's two curvatures, where the descent starts, and how long it runs.
VALLEY_CURVATURES = (2.0, 50.0)
VALLEY = valley(VALLEY_CURVATURES)
START = (1.0, 1.0)
STEPS = 200

# q3: the learning rate behind each curve (SGD, batch 32, one epoch on 6,400 images).
LABELS = ("too low", "good", "too high")
MYSTERY_LRS = {"A": 0.1, "B": 1.0, "C": 0.002}
_MYSTERY_LABELS = {"A": "good", "B": "too high", "C": "too low"}


def _array(value) -> np.ndarray:
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu()
    return np.asarray(value, dtype=float)


def _show(value) -> str:
    array = _array(value)
    return np.array2string(array, separator=", ", formatter={"float_kind": "{:g}".format}) if array.ndim else f"{array:g}"


def _sgd_step(w, grad, lr) -> np.ndarray:
    """PyTorch's own SGD update, the reference the learner's step is compared with."""
    parameter = torch.nn.Parameter(torch.as_tensor(_array(w)).clone())
    parameter.grad = torch.as_tensor(_array(grad)).clone()
    torch.optim.SGD([parameter], lr=lr).step()
    return parameter.detach().numpy()


def _gd_step_cases():
    for w, grad, lr in ((1.0, 0.5, 0.1),
                        (np.array([1.0, -2.0, 0.5]), np.array([0.2, -0.4, 1.0]), 0.05),
                        (torch.tensor([[0.3, -0.1], [2.0, 0.0]]), torch.tensor([[1.0, 1.0], [-3.0, 0.5]]), 0.5),
                        (2.0, -1.0, 0.0)):
        # expected: w as it was (to catch an in-place update) and PyTorch's step.
        yield Case(f"for w = {_show(w)}, grad = {_show(grad)}, lr = {lr:g}", (w, grad, lr),
                   (_array(w).copy(), _sgd_step(w, grad, lr)))


def _check_gd_step(got, case: Case) -> str | None:
    w, grad, lr = case.args
    before, reference = case.expected
    if not np.array_equal(_array(w), before):
        return ("your function changed the w it was given (an in-place update); return the new weights and leave w "
                "as it was")
    try:
        value = _array(got)
    except (TypeError, ValueError):
        return f"your function returned a {type(got).__name__}, not a number or an array"
    if value.shape != before.shape:
        return f"your function returned shape {value.shape}; expected the shape of w, {before.shape}"
    if np.allclose(value, reference, rtol=1e-5, atol=1e-6):
        return None
    if np.allclose(value, before + lr * _array(grad)):
        why = "w moved uphill, in the direction of the gradient"
    elif np.allclose(value, before - _array(grad)):
        why = "the step ignores the learning rate"
    else:
        why = "that is not one gradient-descent step from w"
    return f"your function returned {_show(got)}: {why}"


def _grade_gd_step(gd_step) -> None:
    grade_cases(gd_step, _gd_step_cases(), _check_gd_step)


def _grade_largest_lr(answer) -> None:
    lr = as_number(answer, "largest_lr")
    if lr <= 0:
        raise Incorrect(f"largest_lr is {lr:g}; a learning rate must be > 0")
    descent = gradient_descent(VALLEY, START, lr, STEPS)
    growth = f"the loss goes from {descent.loss[0]:.3g} to {descent.final_loss:.3g}"
    if descent.diverged or descent.final_loss > descent.loss[0]:
        raise Incorrect(f"at lr = {lr:g}, gradient descent on the valley from {START} is unstable: {growth} "
                        f"in {len(descent.loss) - 1} steps. The largest stable LR is smaller")
    if lr < 0.97 * 2 / max(VALLEY_CURVATURES):
        raise Incorrect(f"at lr = {lr:g} the descent is stable ({growth} in {STEPS} steps), but so is a somewhat "
                        f"larger LR: look for the boundary between stable and unstable")


def _grade_labels(answer) -> None:
    if not isinstance(answer, dict):
        raise Incorrect(f"labels should be a dict like {{'A': 'good', ...}}; got a {type(answer).__name__}")
    if any(is_stub(label) for label in answer.values()):
        raise NotAttempted("replace each ... in labels with 'too low', 'good' or 'too high'")
    if set(answer) != set(MYSTERY_LRS):
        raise Incorrect(f"labels should have exactly the keys 'A', 'B' and 'C'; got {sorted(map(repr, answer))}")
    for curve in sorted(answer):
        if answer[curve] not in LABELS:
            raise Incorrect(f"the label of curve {curve}, {answer[curve]!r}, is not one of {', '.join(map(repr, LABELS))}")
    for curve in sorted(answer):
        if answer[curve] != _MYSTERY_LABELS[curve]:
            raise Incorrect(f"curve {curve} is not {answer[curve]!r}. Compare how fast and how smoothly its loss "
                            "falls with the other two")


# q4: set-ups the lesson never shows (surface, start, momentum), how long each descent runs, and how
# close to the boundary an answer must be (a 5% larger LR must already be unstable).
_LIMIT_CASES = ((lambda: valley((3.0, 30.0)), (1.0, 1.0), 0.5), (lambda: quadratic(7.0), (1.0,), 0.8),
                (lambda: valley((1.0, 12.0)), (-1.0, 0.5), 0.0), (lambda: valley((2.0, 5.0)), (0.5, -1.0), 0.9))
LIMIT_STEPS = 400
_LIMIT_SLACK = 1.05


def _settles(surface, start, lr: float, momentum: float) -> bool:
    descent = gradient_descent(surface, start, lr, LIMIT_STEPS, momentum=momentum)
    return not descent.diverged and descent.final_loss < descent.loss[0]


def _grade_limit(stability_limit) -> None:
    for make_surface, start, momentum in _LIMIT_CASES:
        surface = make_surface()
        where = f"on {surface.name} from {start} with momentum {momentum}"
        lr = as_number(call(stability_limit, surface, start, momentum, case=where, time_limit=20),
                       f"{where}, your LR")
        if not lr > 0:
            raise Incorrect(f"{where}, your LR is {lr:g}; a learning rate is > 0")
        if not _settles(surface, start, lr, momentum):
            raise Incorrect(f"{where}, the descent at your LR ({lr:g}) does not settle in {LIMIT_STEPS} steps: "
                            "it is above the boundary")
        if _settles(surface, start, _LIMIT_SLACK * lr, momentum):
            raise Incorrect(f"{where}, a 5% larger LR than yours ({lr:g}) still settles: your LR is below the "
                            "boundary; search closer to it")


def mystery_runs(data: FashionMNIST) -> dict[str, Run]:
    """The three runs behind q3's curves (about two seconds on a CPU)."""
    return {curve: train_at_lr(data.train[:6400], lr, val=data.val[:2000], epochs=1, batch_size=32)
            for curve, lr in MYSTERY_LRS.items()}


def plot_mystery_runs(runs: dict[str, Run], axes=None):
    """One loss-per-step panel per curve, titled only with its letter."""
    if axes is None:
        _, axes = plt.subplots(1, len(runs), figsize=(10, 3), sharey=True)
    for ax, (curve, run) in zip(axes, runs.items()):
        plot_loss(run.history, ax=ax, label=f"curve {curve}")
        ax.set_title(f"curve {curve}")
    return axes


q1 = Question(
    "One gradient-descent step", _grade_gd_step,
    hints=("The gradient points uphill; a step goes the other way, by an amount set by the LR.",
           "w_new = w - (learning rate) x (gradient). Return a new value rather than changing w in place."),
    solution="""
def gd_step(w, grad, lr):
    return w - lr * grad
""",
    answer_name="gd_step",
)

q2 = Question(
    "The largest stable LR on a valley", _grade_largest_lr,
    hints=("On a quadratic with curvature c, each step multiplies the distance to the minimum by (1 - lr * c).",
           "The valley has two curvatures; the descent is stable only if both directions shrink (|1 - lr * c| <= 1).",
           "The steeper direction (curvature 50) sets the limit."),
    solution="""
largest_lr = 2 / max(ex.VALLEY_CURVATURES)
""",
    answer_name="largest_lr",
)

q3 = Question(
    "Too low, good or too high?", _grade_labels,
    hints=("A LR that is too low gives a smooth loss that falls slowly; a good one falls fast, then flattens.",
           "A LR that is too high gives a noisy loss that stalls high, jumps, or becomes NaN."),
    solution="""
labels = {"A": "good", "B": "too high", "C": "too low"}
""",
    answer_name="labels",
)

q4 = Question(
    "The stability limit with momentum, by experiment", _grade_limit,
    hints=("Run gradient_descent(surface, start, lr, ex.LIMIT_STEPS, momentum=momentum) over a fine grid of LRs "
           "(np.geomspace over a few decades) and keep the largest whose final loss is below its first.",
           "Momentum raises the limit above 2 / curvature: let your grid reach well past it. To get within 5%, refine "
           "the grid around the boundary, or bisect between the last LR that settles and the first that does not."),
    solution="""
from lrcourse.surfaces import gradient_descent

def stability_limit(surface, start, momentum):
    def settles(lr):
        d = gradient_descent(surface, start, lr, ex.LIMIT_STEPS, momentum=momentum)
        return not d.diverged and d.final_loss < d.loss[0]
    low, high = 1e-4, 1e-4
    while settles(high):          # grow until unstable
        low, high = high, high * 2
    for _ in range(40):           # then bisect the boundary
        middle = (low + high) / 2
        low, high = (middle, high) if settles(middle) else (low, middle)
    return low
""",
    answer_name="stability_limit",
)
