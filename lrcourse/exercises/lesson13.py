"""Exercises of lesson 13, the loss landscape, sharpness and the LR.

- ``q1``: read a Hessian: minimum, maximum or saddle, and the largest stable LR of a minimum.
- ``q2``: the largest LR at which gradient descent can settle in the sharp well of ``sharp_and_flat()``.
- ``q3``: an experiment: which of two LRs ends flatter, over seeds, on a set-up you have not seen.
"""

from __future__ import annotations

import math
from functools import partial

import numpy as np
import torch

from ..data import TensorData
from ..experiments import train_at_lr
from ..landscape import sharpness
from ..models import MLP
from ..surfaces import curvatures, sharp_and_flat
from . import sandbox
from .core import Question
from .grading import Case, Incorrect, Wrong, as_number, call, grade_cases, per_seed

TITLE = "The loss landscape, sharpness and the LR"


# ---- q1 -------------------------------------------------------------------------------------------------

def _hessian_cases():
    rotation = np.array([[1.0, 1.0], [-1.0, 1.0]]) / math.sqrt(2)
    for description, matrix in (
            ("diag(1, 20)", np.diag([1.0, 20.0])),
            ("[[2, 1], [1, 2]]", np.array([[2.0, 1.0], [1.0, 2.0]])),
            ("[[1, 2], [2, 1]]", np.array([[1.0, 2.0], [2.0, 1.0]])),
            ("diag(-1, -3)", np.diag([-1.0, -3.0])),
            ("diag(1, -1, -2)", np.diag([1.0, -1.0, -2.0])),
            ("a rotated diag(400, 0.5)", rotation @ np.diag([400.0, 0.5]) @ rotation.T),
    ):
        eigenvalues = np.linalg.eigvalsh(matrix)
        kind = "minimum" if eigenvalues.min() > 0 else "maximum" if eigenvalues.max() < 0 else "saddle"
        yield Case(f"for the Hessian {description}", (matrix.copy(),), (kind, 2 / eigenvalues.max() if kind == "minimum"
                                                                        else None))


def _check_classify(result, case: Case) -> str | None:
    kind, lr = case.expected
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        return f"expected a pair (kind, max_stable_lr); got {type(result).__name__}"
    got_kind, got_lr = result
    if got_kind not in ("minimum", "maximum", "saddle"):
        return f"the kind must be 'minimum', 'maximum' or 'saddle'; got {got_kind!r}"
    if got_kind != kind:
        return (f"your kind is {got_kind!r}, which is not right: look at the signs of all the eigenvalues, not at the "
                "diagonal entries or the determinant")
    if kind != "minimum":
        return None if got_lr is None else f"max_stable_lr should be None for a {kind}: descent does not settle there"
    got_lr = as_number(got_lr, "your max_stable_lr")
    if math.isclose(got_lr, lr, rel_tol=1e-6):
        return None
    if math.isclose(got_lr, lr / 2, rel_tol=1e-6):
        return f"your max_stable_lr is {got_lr:.4g}: that is where descent starts to oscillate, not where it diverges"
    return (f"your max_stable_lr is {got_lr:.4g}: gradient descent stays in a minimum while every direction's factor "
            "|1 - lr * curvature| is below 1; which direction decides?")


def _grade_classify(classify) -> None:
    grade_cases(classify, _hessian_cases(), _check_classify)


# ---- q2 -------------------------------------------------------------------------------------------------

def _grade_sharp_lr(answer) -> None:
    value = as_number(answer, "sharp_lr")
    surface = sharp_and_flat()
    curvature = curvatures(surface, surface.minimum)[-1]
    limit = 2 / curvature
    if 0.97 * limit <= value <= limit * 1.0001:
        return
    if math.isclose(value, 1 / curvature, rel_tol=0.03):
        raise Incorrect(f"{value:.4g} is where descent starts to oscillate in the sharp well; it still converges "
                        "above it")
    if value > limit:
        raise Incorrect(f"{value:.4g} is too high: at that LR descent cannot settle in the sharp well")
    raise Incorrect(f"{value:.4g} is too low: descent still settles in the sharp well above it. Measure the well's "
                    "curvature (lrcourse.surfaces.curvatures) and use the 2/c rule")


# ---- q3 -------------------------------------------------------------------------------------------------

def teacher_data(n: int, seed: int, features: int = 32, classes: int = 4) -> TensorData:
    """``n`` random inputs labelled by a random small network: a set-up the lessons never used."""
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(n, features, generator=generator)
    first = torch.randn(features, 16, generator=generator)
    second = torch.randn(16, classes, generator=generator)
    return TensorData(x, (torch.tanh(x @ first) @ second).argmax(1))


def small_mlp(features: int = 32, classes: int = 4, hidden: int = 32):
    """A model factory for :func:`teacher_data` of that shape."""
    return partial(MLP, hidden=hidden, in_features=features, num_classes=classes)


def measure(make_model, train: TensorData, lr: float, seed: int, steps: int) -> float:
    """The protocol of q3: ``steps`` steps of full-batch gradient descent from ``make_model`` seeded
    with ``seed``, then the sharpness of the loss on ``train``."""
    run = train_at_lr(train, lr, optimizer="sgd", epochs=steps, batch_size=len(train), model=make_model, seed=seed)
    return sharpness(run.model, train)


#: q3's set-ups: (data seed, hidden width, the two LRs, steps).
_FLATNESS_SETUPS = ((7, 24, (0.05, 0.5), 150), (8, 32, (0.1, 0.15), 150), (9, 24, (0.02, 0.2), 30))


def _flatness_result(result, lrs) -> dict:
    if not isinstance(result, dict) or set(result) != {"sharpness", "flatter"}:
        raise Wrong("expected a dict with the keys 'sharpness' and 'flatter'")
    table = result["sharpness"]
    if not isinstance(table, dict) or sorted(table) != sorted(lrs):
        raise Wrong(f"result['sharpness'] must have one entry per LR, keys {sorted(lrs)}")
    for lr in lrs:
        per_seed(table[lr], f"result['sharpness'][{lr:g}]")
    return table


def _grade_flatness(flatness) -> None:
    for data_seed, hidden, lrs, steps in _FLATNESS_SETUPS:
        train = teacher_data(256, data_seed)
        make_model = small_mlp(hidden=hidden)
        description = f"on an unseen set-up (teacher data seed {data_seed}, width {hidden}, lrs {lrs}, {steps} steps)"
        result = call(flatness, make_model, train, lrs, steps, case=description, time_limit=30)
        try:
            table = _flatness_result(result, lrs)
        except Wrong as wrong:
            raise Incorrect(f"{description}, {wrong}") from None
        for lr, pick in ((lrs[0], min), (lrs[1], max)):
            seed = pick(table[lr])
            with sandbox.stage(f"{description}, re-measuring lr={lr:g}, seed={seed}", 30):
                expected = measure(make_model, train, lr, seed, steps)
            got = as_number(table[lr][seed], f"your sharpness for lr={lr:g}, seed={seed}")
            if not math.isclose(got, expected, rel_tol=0.05):
                raise Incorrect(f"{description}, your sharpness for lr={lr:g}, seed={seed} is {got:.4g}, not what the "
                                "protocol gives: train with train_at_lr as in the question, then measure "
                                "sharpness(model, train)")
        low = {lr: min(table[lr].values()) for lr in lrs}
        high = {lr: max(table[lr].values()) for lr in lrs}
        separate = high[lrs[0]] < low[lrs[1]] or high[lrs[1]] < low[lrs[0]]
        verdict = min(lrs, key=lambda lr: high[lr]) if separate else None
        if result["flatter"] != verdict:
            why = ("the seeds' ranges of the two LRs overlap, so the difference is within the noise" if not separate
                   else "the seeds' ranges do not overlap, so one LR is flatter in every seed")
            raise Incorrect(f"{description}, your verdict {result['flatter']!r} does not follow from your numbers: "
                            f"{why}")


q1 = Question(
    "Minimum, maximum or saddle", _grade_classify,
    hints=("The eigenvalues of the Hessian are the curvatures along its principal directions: "
           "numpy.linalg.eigvalsh gives them.",
           "All positive: a minimum; all negative: a maximum; both signs: a saddle. Gradient descent stays in a "
           "minimum for lr < 2 / (largest eigenvalue)."),
    solution="""
import numpy as np

def classify(hessian):
    eigenvalues = np.linalg.eigvalsh(hessian)
    if eigenvalues.min() > 0:
        return "minimum", 2 / eigenvalues.max()
    if eigenvalues.max() < 0:
        return "maximum", None
    return "saddle", None
""",
    answer_name="classify",
)

q2 = Question(
    "The sharp well's LR limit", _grade_sharp_lr,
    hints=("lrcourse.surfaces.curvatures(surface, point) gives the curvature at a point; the sharp minimum is "
           "surface.minimum.",
           "Descent settles in a minimum of curvature c only if lr < 2 / c."),
    solution="""
from lrcourse.surfaces import curvatures, sharp_and_flat

surface = sharp_and_flat()
sharp_lr = 2 / curvatures(surface, surface.minimum)[-1]
""",
    answer_name="sharp_lr",
)

q3 = Question(
    "Which LR ends flatter? An experiment over seeds", _grade_flatness,
    hints=("For each LR and each of (at least) three seeds, call ex.measure(make_model, train, lr, seed, steps).",
           "Collect min and max over seeds per LR. If one LR's maximum is below the other's minimum, that LR is "
           "flatter; otherwise the difference is within the noise: None."),
    solution="""
def flatness(make_model, train, lrs, steps):
    table = {lr: {seed: ex.measure(make_model, train, lr, seed, steps) for seed in (0, 1, 2)} for lr in lrs}
    low = {lr: min(values.values()) for lr, values in table.items()}
    high = {lr: max(values.values()) for lr, values in table.items()}
    a, b = lrs
    flatter = a if high[a] < low[b] else b if high[b] < low[a] else None
    return {"sharpness": table, "flatter": flatter}
""",
    answer_name="flatness",
)
