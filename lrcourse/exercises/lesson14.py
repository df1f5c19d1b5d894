"""Exercises of lesson 14, fine-tuning, weight decay and clipping.

- ``q1``: ULMFiT's slanted triangular LR, step by step, as the paper defines it.
- ``q2``: the weight decay PyTorch's AdamW needs to decay as much per step as the paper's AdamW.
- ``q3``: an experiment: does weight decay raise a batch-normalized layer's effective step, over seeds?
"""

from __future__ import annotations

import math
from functools import partial

import numpy as np
import torch
from torch import nn

from ..data import TensorData
from ..device import seeded
from ..train import fit
from ..weight_norms import WeightNormMonitor
from . import sandbox
from .core import Question
from .grading import Case, Incorrect, Wrong, as_number, call, grade_cases, per_seed
from .lesson13 import teacher_data

TITLE = "Fine-tuning, weight decay and clipping"


# ---- q1 -------------------------------------------------------------------------------------------------

def _stlr(step: int, max_lr: float, total_steps: int, cut_frac: float, ratio: float) -> float:
    """Howard & Ruder (2018), eq. 3."""
    cut = math.floor(total_steps * cut_frac)
    p = step / cut if step < cut else 1 - (step - cut) / (cut * (1 / cut_frac - 1))
    return max_lr * (1 + p * (ratio - 1)) / ratio


def _stlr_cases():
    for max_lr, total, cut_frac, ratio in ((0.01, 1000, 0.1, 32), (0.4, 95, 0.1, 32), (1.0, 50, 0.2, 10)):
        cut = math.floor(total * cut_frac)
        for step in sorted({0, 1, cut - 1, cut, cut + 1, total // 2, total - 1}):
            yield Case(f"for step={step} of total_steps={total} (max_lr={max_lr:g}, cut_frac={cut_frac:g}, "
                       f"ratio={ratio:g})", (step, max_lr, total, cut_frac, ratio),
                       _stlr(step, max_lr, total, cut_frac, ratio))


def _check_stlr(got, case: Case) -> str | None:
    step, max_lr, total, cut_frac, ratio = case.args
    got = as_number(got, "your LR")
    if math.isclose(got, case.expected, rel_tol=1e-9):
        return None
    if got > max_lr * (1 + 1e-9) or got < max_lr / ratio * (1 - 1e-9):
        return f"your LR is {got:.4g}: the schedule stays between max_lr / ratio and max_lr"
    rising = step < math.floor(total * cut_frac)
    return (f"your LR is {got:.4g}: in the {'rising' if rising else 'falling'} part, check p; the paper rounds "
            "cut = floor(total_steps * cut_frac) down")


def _grade_stlr(slanted_triangular) -> None:
    grade_cases(slanted_triangular, _stlr_cases(), _check_stlr)


# ---- q2 -------------------------------------------------------------------------------------------------

#: q2's set-up: the paper's weight decay lambda, Adam's step size alpha (PyTorch's lr), schedule multiplier 1.
Q2_LAMBDA, Q2_LR = 1e-4, 1e-3


def _grade_torch_wd(answer) -> None:
    value = as_number(answer, "torch_weight_decay")
    if math.isclose(value, Q2_LAMBDA / Q2_LR, rel_tol=1e-6):
        return
    if math.isclose(value, Q2_LAMBDA, rel_tol=1e-6):
        raise Incorrect("with weight_decay=1e-4 PyTorch's AdamW shrinks each weight by lr * 1e-4 per step, ten "
                        "thousand times less than the paper's 1e-4")
    if math.isclose(value, Q2_LAMBDA * Q2_LR, rel_tol=1e-6):
        raise Incorrect(f"{value:g} multiplies where it should divide: PyTorch shrinks by lr * weight_decay per step")
    raise Incorrect(f"{value:g} is not it: write the shrink per step in both forms and set them equal")


# ---- q3 -------------------------------------------------------------------------------------------------

def bn_mlp(features: int = 32, width: int = 32, classes: int = 4) -> nn.Module:
    """A linear layer followed by batch norm (so its weight is scale-invariant), ReLU, and a head."""
    return nn.Sequential(nn.Linear(features, width, bias=False), nn.BatchNorm1d(width), nn.ReLU(),
                         nn.Linear(width, classes))


def measure(make_model, train: TensorData, lr: float, weight_decay: float, seed: int, epochs: int) -> tuple[float,
                                                                                                         float]:
    """q3's protocol: SGD (momentum 0.9, batch 32) with ``weight_decay`` from ``make_model`` seeded with
    ``seed``; returns the first layer's final weight norm and its mean relative step
    ``||dw|| / ||w||`` over the second half of training."""
    model = seeded(make_model, seed)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9, weight_decay=weight_decay)
    monitor = WeightNormMonitor(every=1, names=["0.weight"])
    fit(model, train, optimizer, epochs=epochs, batch_size=32, callbacks=[monitor], progress=False, seed=seed)
    steps = monitor.relative_steps["0.weight"]
    return monitor.norms["0.weight"][-1], float(np.mean(steps[len(steps) // 2:]))


#: q3's set-ups: (data seed, width, lr, weight decay, epochs).
_DECAY_SETUPS = ((21, 32, 0.1, 0.01, 8), (22, 24, 0.1, 1e-5, 8), (23, 32, 0.05, 0.005, 8))


def _decay_table(result) -> dict:
    if not isinstance(result, dict) or set(result) != {"relative_step", "raises"}:
        raise Wrong("expected a dict with the keys 'relative_step' and 'raises'")
    table = result["relative_step"]
    if not isinstance(table, dict) or set(table) != {"without", "with"}:
        raise Wrong("result['relative_step'] must have the keys 'without' and 'with' (weight decay)")
    for key in ("without", "with"):
        per_seed(table[key], f"result['relative_step'][{key!r}]")
    return table


def _grade_decay(decay_effect) -> None:
    for data_seed, width, lr, weight_decay, epochs in _DECAY_SETUPS:
        train = teacher_data(512, data_seed)
        make_model = partial(bn_mlp, width=width)
        description = (f"on an unseen set-up (teacher data seed {data_seed}, width {width}, lr={lr:g}, "
                       f"weight_decay={weight_decay:g}, {epochs} epochs)")
        result = call(decay_effect, make_model, train, lr, weight_decay, epochs, case=description, time_limit=30)
        try:
            table = _decay_table(result)
        except Wrong as wrong:
            raise Incorrect(f"{description}, {wrong}") from None
        for key, decay in (("without", 0.0), ("with", weight_decay)):
            seed = min(table[key])
            with sandbox.stage(f"{description}, re-measuring seed {seed} {key} weight decay", 30):
                expected = measure(make_model, train, lr, decay, seed, epochs)[1]
            got = as_number(table[key][seed], f"your relative step {key} weight decay, seed {seed}")
            if not math.isclose(got, expected, rel_tol=0.02):
                raise Incorrect(f"{description}, your relative step {key} weight decay for seed {seed} is {got:.4g}, "
                                "not "
                                f"what the protocol gives: use ex.measure(make_model, train, lr, "
                                f"{'0.0' if key == 'without' else 'weight_decay'}, seed, epochs)[1]")
        low = {key: min(values.values()) for key, values in table.items()}
        high = {key: max(values.values()) for key, values in table.items()}
        verdict = True if low["with"] > high["without"] else False if high["with"] < low["without"] else None
        if result["raises"] is not verdict:
            why = ("the seeds' ranges with and without decay overlap: the difference is within the noise"
                   if verdict is None else "the seeds' ranges do not overlap, so the effect holds in every seed")
            raise Incorrect(f"{description}, your verdict {result['raises']!r} does not follow from your numbers: "
                            f"{why}")


q1 = Question(
    "ULMFiT's slanted triangular LR", _grade_stlr,
    hints=("cut = floor(total_steps * cut_frac) steps of rise; p goes 0 -> 1 during the rise, then 1 -> 0 over the "
           "rest.",
           "p = step / cut if step < cut else 1 - (step - cut) / (cut * (1 / cut_frac - 1)); "
           "lr = max_lr * (1 + p * (ratio - 1)) / ratio."),
    solution="""
import math

def slanted_triangular(step, max_lr, total_steps, cut_frac=0.1, ratio=32):
    cut = math.floor(total_steps * cut_frac)
    p = step / cut if step < cut else 1 - (step - cut) / (cut * (1 / cut_frac - 1))
    return max_lr * (1 + p * (ratio - 1)) / ratio
""",
    answer_name="slanted_triangular",
)

q2 = Question(
    "Two AdamWs", _grade_torch_wd,
    hints=("The paper shrinks each weight by eta_t * lambda per step (eta_t the schedule's multiplier, here 1); "
           "PyTorch's AdamW by lr * weight_decay.",
           "Set lr * weight_decay = lambda with lr = ex.Q2_LR and lambda = ex.Q2_LAMBDA."),
    solution="""
torch_weight_decay = ex.Q2_LAMBDA / ex.Q2_LR
""",
    answer_name="torch_weight_decay",
)

q3 = Question(
    "Does weight decay raise the effective step? An experiment over seeds", _grade_decay,
    hints=("For each of (at least) three seeds, measure the relative step with weight_decay=0.0 and with "
           "weight_decay: ex.measure(make_model, train, lr, decay, seed, epochs)[1].",
           "raises is True if the smallest value with decay is above the largest without, False if the largest "
           "with decay is below the smallest without, and None otherwise."),
    solution="""
def decay_effect(make_model, train, lr, weight_decay, epochs):
    table = {key: {seed: ex.measure(make_model, train, lr, decay, seed, epochs)[1] for seed in (0, 1, 2)}
             for key, decay in (("without", 0.0), ("with", weight_decay))}
    low = {key: min(values.values()) for key, values in table.items()}
    high = {key: max(values.values()) for key, values in table.items()}
    raises = True if low["with"] > high["without"] else False if high["with"] < low["without"] else None
    return {"relative_step": table, "raises": raises}
""",
    answer_name="decay_effect",
)
