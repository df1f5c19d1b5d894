"""Exercises of lesson 12, searching for the learning rate.

- ``q1``: log-uniform sampling (graded statistically).
- ``q2``: pick the method for a budget from the curves of a race.
- ``q3``: param groups with a head and a body multiplier.
- ``q4``: design a search that finds a good LR within a budget of trials, on set-ups you have not seen.
"""

from __future__ import annotations

import math
from functools import lru_cache, partial

import numpy as np
import torch

from ..models import MLP, SmallCNN
from . import sandbox
from .core import Question
from .grading import Case, Incorrect, as_number, call, grade_cases

TITLE = "Searching for the learning rate"

#: q4: the range the LR lies in, the budget of trials and the margin to a fine grid's best.
Q4_RANGE, Q4_BUDGET, Q4_MARGIN = (1e-5, 10.0), 8, 0.03
#: Seconds the grading of q4 may take per step (training runs on a shared CPU).
Q4_SECONDS = 60.0


# --- q1: log-uniform sampling -----------------------------------------------------------------------

def _log_uniform_cases():
    for low, high, size, seed in ((1e-5, 1.0, 4000, 11), (0.01, 10.0, 4000, 12), (2.0, 3.0, 4000, 13),
                                  (1e-4, 1e-1, 5, 14)):
        yield Case(f"for low={low:g}, high={high:g}, size={size}", (low, high, size, seed))


def _samples(function, low, high, size, seed, case):
    got = call(function, low, high, size, np.random.default_rng(seed), case=case)
    try:
        return np.asarray(got, dtype=float).reshape(-1)
    except (TypeError, ValueError):
        raise Incorrect(f"{case}, your function returned a {type(got).__name__}; expected an array of numbers") \
            from None


def _grade_log_uniform(log_uniform) -> None:
    for case in _log_uniform_cases():
        low, high, size, seed = case.args
        where = case.description
        got = _samples(log_uniform, low, high, size, seed, where)
        again = _samples(log_uniform, low, high, size, seed, where)
        other = _samples(log_uniform, low, high, size, seed + 100, where)
        if len(got) != size:
            raise Incorrect(f"{where}, your function returned {len(got)} samples; expected size={size}")
        # Rounding may put an end point a hair outside.
        if not np.all(np.isfinite(got)) or got.min() < low * (1 - 1e-9) or got.max() > high * (1 + 1e-9):
            raise Incorrect(f"{where}, your samples run from {got.min():.3g} to {got.max():.3g}: outside [low, high]")
        if not np.array_equal(got, again) or (size > 1 and np.array_equal(got, other)):
            raise Incorrect(f"{where}, your samples do not come from rng: two generators with the same seed must give "
                            "the same samples, and generators with other seeds other samples")
        if size >= 1000:
            # Log-uniform: log(x) is uniform on [log low, log high]. The Kolmogorov-Smirnov distance of
            # 4000 such samples from that uniform is below 0.035 but for 1 time in 10^4 or so.
            u = np.sort((np.log(got) - math.log(low)) / (math.log(high) - math.log(low)))
            distance = np.max(np.maximum(np.arange(1, size + 1) / size - u, u - np.arange(size) / size))
            if distance > 0.035:
                top = np.mean(got > high / 10) if high / low >= 100 else np.mean(got > math.sqrt(low * high))
                part = "top decade" if high / low >= 100 else "upper half of the range in log scale"
                raise Incorrect(f"{where}, your samples are not spread evenly in log(x): {top:.0%} of them lie in the "
                                f"{part}. Log-uniform means uniform in the exponent")


q1 = Question(
    "Log-uniform sampling", _grade_log_uniform,
    hints=("Draw the exponent uniformly, not the LR: between log(low) and log(high).",
           "np.exp(rng.uniform(np.log(low), np.log(high), size)): every decade then gets the same share."),
    solution="""
import numpy as np

def log_uniform(low, high, size, rng):
    return np.exp(rng.uniform(np.log(low), np.log(high), size))
""",
    answer_name="log_uniform",
)


# --- q2: pick the method for a budget ----------------------------------------------------------------

def _curves(spec):
    """``{method: [(costs, values) per seed]}`` from ``{method: [[(examples of the trial, value or None), ...]]}``:
    ``costs[i]`` is the examples spent when trial ``i`` ended."""
    return {method: [([float(c) for c in np.cumsum([cost for cost, _ in trials])], [value for _, value in trials])
                     for trials in seeds] for method, seeds in spec.items()}


def _pick_cases():
    # Each trial: (examples it trained, its value or None when pruned). Built so that each wrong way of
    # reading the curves picks another method than the right one.
    later = {"fast": [[(10, 0.80), (10, 0.82)], [(10, 0.81), (10, 0.83)], [(10, 0.82), (10, 0.82)]],
             "slow": [[(30, 0.86)], [(30, 0.87)], [(30, 0.86)]]}
    yield Case("for a budget of 20 examples, where one method is better only after the budget",
               (_curves(later), 20), "fast")
    yield Case("for a budget of 40 examples on the same curves", (_curves(later), 40), "slow")
    lucky = {"steady": [[(10, 0.84)], [(10, 0.85)], [(10, 0.84)]],
             "lucky": [[(10, 0.90)], [(10, 0.78)], [(10, 0.79)]]}
    yield Case("for a budget of 10 examples, where one method won one seed by much", (_curves(lucky), 10), "steady")
    late = {"first": [[(5, 0.88), (5, 0.70)], [(5, 0.87), (5, 0.71)], [(5, 0.88), (5, 0.70)]],
            "second": [[(5, 0.80), (5, 0.84)], [(5, 0.80), (5, 0.85)], [(5, 0.81), (5, 0.84)]]}
    yield Case("for a budget of 10 examples, where a method's last trial is not its best", (_curves(late), 10),
               "first")
    pruned = {"pruning": [[(4, None), (4, None), (8, 0.83)], [(4, None), (8, 0.84)], [(4, None), (8, 0.83)]],
              "plain": [[(8, 0.80)], [(8, 0.81)], [(8, 0.80)]],
              "late": [[(30, 0.95)], [(6, 0.9)], [(6, 0.9)]]}
    yield Case("for a budget of 16 examples, with pruned trials (value None) and a method that found nothing in "
               "one seed", (_curves(pruned), 16), "pruning")


def _check_pick(got, case: Case) -> str | None:
    curves, budget = case.args
    if got not in curves:
        return f"your function returned {got!r}, which is not one of the methods {sorted(curves)}"
    if got == case.expected:
        return None
    within = [[v for c, v in zip(costs, values) if c <= budget and v is not None] for costs, values in curves[got]]
    if any(not found for found in within):
        return f"you picked {got!r}, which had not completed a trial within the budget in every seed"
    return (f"you picked {got!r}, but another method has a higher mean over the seeds of the best value found "
            "within the budget")


def _grade_pick(pick_method) -> None:
    grade_cases(pick_method, _pick_cases(), _check_pick)


q2 = Question(
    "Which method for this budget?", _grade_pick,
    hints=("For each seed of a method: the best value among the trials that ended with costs[i] <= budget "
           "(skip None: pruned trials). A method with nothing there in some seed cannot be picked.",
           "Average that best over the seeds, per method, and return the method with the highest mean."),
    solution="""
import numpy as np

def pick_method(curves, budget):
    means = {}
    for method, seeds in curves.items():
        bests = []
        for costs, values in seeds:
            found = [v for c, v in zip(costs, values) if c <= budget and v is not None]
            bests.append(max(found) if found else None)
        if None not in bests:
            means[method] = np.mean(bests)
    return max(means, key=means.get)
""",
    answer_name="pick_method",
)


# --- q3: param groups with multipliers --------------------------------------------------------------

def _models():
    def three_linear():
        return torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(784, 64), torch.nn.ReLU(),
                                   torch.nn.Linear(64, 32), torch.nn.ReLU(), torch.nn.Linear(32, 10))

    yield "an MLP with 50 hidden units", partial(MLP, 50), 0.1, 0.1
    yield "the SmallCNN (BatchNorm layers too)", SmallCNN, 0.05, 0.01
    yield "a Sequential of three Linear layers", three_linear, 0.3, 0.5


def _grade_groups(make_optimizer) -> None:
    for what, build, lr, body in _models():
        model = build()
        case = f"for {what}, lr={lr:g}, body={body:g}"
        optimizer = call(make_optimizer, model, lr, body, case=case)
        if not isinstance(optimizer, torch.optim.SGD):
            raise Incorrect(f"{case}, your function returned a {type(optimizer).__name__}; expected a torch.optim.SGD")
        owner = {}
        for group in optimizer.param_groups:
            for p in group["params"]:
                if id(p) in owner:
                    raise Incorrect(f"{case}, a parameter is in two param groups")
                owner[id(p)] = group
        head = list(model.children())[-1]
        for name, p in model.named_parameters():
            if id(p) not in owner:
                raise Incorrect(f"{case}, the parameter {name} is in no param group: it would not train")
            in_head = any(p is q for q in head.parameters())
            if not math.isclose(owner[id(p)]["lr"], lr if in_head else lr * body, rel_tol=1e-9):
                raise Incorrect(f"{case}, {name} (in the {'head' if in_head else 'body'}) is in a group with "
                                f"lr={owner[id(p)]['lr']:g}; the head (the last layer) should train at lr, the body "
                                "(every other layer) at lr * body")
        if any(group.get("momentum") != 0.9 for group in optimizer.param_groups):
            raise Incorrect(f"{case}, every group should have momentum 0.9")


q3 = Question(
    "A head and a body", _grade_groups,
    hints=("lrcourse.param_groups builds the groups: layer_groups(model, lr, multipliers).",
           "head_body_multipliers(model, body) gives the multipliers; pass the groups to torch.optim.SGD with "
           "momentum=0.9."),
    solution="""
import torch
from lrcourse.param_groups import head_body_multipliers, layer_groups

def make_optimizer(model, lr, body):
    return torch.optim.SGD(layer_groups(model, lr, head_body_multipliers(model, body)), momentum=0.9)
""",
    answer_name="make_optimizer",
)


# --- q4: design a search ---------------------------------------------------------------------------

class CountedObjective:
    """``objective(lr)``: the validation accuracy of a small MLP (32 hidden units) trained 2 epochs on
    1,000 FashionMNIST images with ``optimizer`` at ``lr``; ``calls`` counts the trials run."""

    def __init__(self, optimizer: str, offset: int, seed: int):
        from ..search import TrainingObjective  # here: importing the exercises does not import Optuna

        data = _data()
        self._objective = TrainingObjective(data.train[offset:offset + 1000], data.val[offset // 10:][:1000],
                                            epochs=2, batch_size=50, optimizer=optimizer, model=partial(MLP, 32),
                                            seed=seed)
        self.identity = f"{self._objective.identity} counted"
        self.calls = 0

    def __call__(self, lr):
        self.calls += 1
        return self._objective(lr)


@lru_cache(maxsize=1)
def _data():
    from ..data import load_fashion_mnist

    return load_fashion_mnist(device="cpu")


def practice_objective() -> CountedObjective:
    """A set-up to try your ``find_lr`` on (the grader uses others)."""
    return CountedObjective("momentum", 0, 0)


#: The grader's set-ups: (description, optimizer, data offset, seed).
Q4_SETUPS = (("SGD with momentum on 1,000 other images", "momentum", 20_000, 5),
             ("Adam on 1,000 other images", "adam", 30_000, 6))


def _grade_find_lr(find_lr) -> None:
    for what, optimizer, offset, seed in Q4_SETUPS:
        case = f"on a set-up you have not seen ({what}), with a budget of {Q4_BUDGET} trials"
        with sandbox.stage(f"{case}, preparing", Q4_SECONDS):
            objective = CountedObjective(optimizer, offset, seed)
        found = call(find_lr, objective, Q4_BUDGET, case=case, time_limit=Q4_SECONDS)
        lr = as_number(found, "the LR your function returned")
        if objective.calls > Q4_BUDGET:
            raise Incorrect(f"{case}, your function ran {objective.calls} trials: more than the budget")
        if not Q4_RANGE[0] <= lr <= Q4_RANGE[1]:
            raise Incorrect(f"{case}, your function returned lr={lr:.3g}, outside the range {Q4_RANGE}")
        with sandbox.stage(f"{case}, the grader's own grid", Q4_SECONDS):
            reference = CountedObjective(optimizer, offset, seed)
            best = max(reference(float(x)) for x in np.geomspace(*Q4_RANGE, 13))
            reached = reference(lr)
        if reached < best - Q4_MARGIN:
            raise Incorrect(f"{case}, training at your LR reaches {reached:.1%}, more than {Q4_MARGIN:.0%} below the "
                            "best of a fine grid over the range (13 trials). Spread your trials over the whole range "
                            "on a log scale, then look closer where they did best")


q4 = Question(
    "Find the LR within a budget", _grade_find_lr,
    hints=(f"Your function gets objective (call objective(lr) to run one trial) and a budget of trials. The LR lies "
           f"between {Q4_RANGE[0]:g} and {Q4_RANGE[1]:g}: several decades, so search on a log scale.",
           "Spend most of the budget on a coarse log grid (np.geomspace) over the whole range, then the rest close to "
           "its best point. lrcourse.search's bayes_search(objective, {'lr': (1e-5, 10, 'log')}, budget) is "
           "another way: its .best.params['lr'] is the answer."),
    solution="""
import numpy as np

def find_lr(objective, budget):
    # Most of the budget on a coarse log grid over the whole range...
    coarse = np.geomspace(1e-5, 10.0, budget - 3)
    tried = {float(lr): objective(float(lr)) for lr in coarse}
    first = max(tried, key=tried.get)
    # ...then two trials half a grid step either side of its best point...
    step = coarse[1] / coarse[0]
    for lr in (first / step ** 0.5, first * step ** 0.5):
        lr = float(np.clip(lr, 1e-5, 10.0))
        tried[lr] = objective(lr)
    # ...and the last a quarter step from the best so far, on the side that did better.
    best = max(tried, key=tried.get)
    lr = float(np.clip(best * step ** (0.25 if best >= first else -0.25), 1e-5, 10.0))
    tried[lr] = objective(lr)
    return max(tried, key=tried.get)
""",
    answer_name="find_lr",
)
