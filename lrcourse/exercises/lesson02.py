"""Exercises of lesson 02, the learning rate and the scale of the inputs.

- ``q1``: predict which (input scaling, LR) pairs of the lesson's experiment train.
- ``q2``: compute the range of every parameter tensor of a model.
- ``q3``: an experiment: train on raw and on scaled pixels at one LR over seeds, paired, and give a verdict.
"""

from __future__ import annotations

import math

import torch

from ..models import MLP, SmallCNN
from ..seeds import paired
from .core import Question
from .grading import Case, Incorrect, NotAttempted, as_number, call, grade_cases, is_stub
from .lesson04 import _seed_accuracies
from .setups import reference_history_at_lr, setup

TITLE = "Input scaling and the learning rate"

#: The lesson's experiment: Adam, batch 32, 3 epochs on 20,000 images. "Trains" means at
#: least 60% validation accuracy. Lesson 02 asserts these same outcomes when it runs.
PAIRS = (("scaled", 1e-1), ("scaled", 1e-3), ("scaled", 1e-5), ("raw", 1e-1), ("raw", 1e-3), ("raw", 1e-5))
_TRAINS = {("scaled", 1e-1): False, ("scaled", 1e-3): True, ("scaled", 1e-5): True,
           ("raw", 1e-1): False, ("raw", 1e-3): True, ("raw", 1e-5): True}


def _grade_prediction(answer) -> None:
    if not isinstance(answer, dict):
        raise Incorrect(f"prediction should be a dict from (scaling, lr) to True or False; got a {type(answer).__name__}")
    if any(is_stub(value) for value in answer.values()):
        raise NotAttempted("replace each ... in prediction with True (it trains) or False")
    missing = [pair for pair in PAIRS if pair not in answer]
    if missing:
        raise Incorrect(f"prediction has no entry for {missing[0]}; it needs one for each of the six pairs")
    for pair in PAIRS:
        if not isinstance(answer[pair], bool):
            raise Incorrect(f"the prediction for {pair} is {answer[pair]!r}; use True or False")
    wrong = [pair for pair in PAIRS if answer[pair] != _TRAINS[pair]]
    if wrong:
        scaling, lr = wrong[0]
        raise Incorrect(f"{len(wrong)} of the six predictions differ from the experiment, starting with "
                        f"{scaling} pixels at lr={lr:g}. Look at that run's accuracy curve again")


def _reference_ranges(model: torch.nn.Module) -> dict[str, tuple[float, float]]:
    return {name: (p.min().item(), p.max().item()) for name, p in model.named_parameters()}


def _weight_range_cases() -> list[Case]:
    # The models' initial weights come from PyTorch's global generator: seeded inside fork_rng, so
    # the cases are the same at every check and the learner's own random state is left as it was.
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        tiny = torch.nn.Linear(2, 1)
        with torch.no_grad():
            tiny.weight.copy_(torch.tensor([[-3.0, 0.5]]))
            tiny.bias.fill_(7.0)
        frozen = MLP()
        frozen[1].requires_grad_(False)
        models = [("a Linear(2, 1) with weights [-3, 0.5] and bias 7", tiny), ("lrcourse.MLP()", MLP()),
                  ("lrcourse.SmallCNN()", SmallCNN()), ("an MLP whose first layer is frozen", frozen)]
    return [Case(f"for {description}", (model,), _reference_ranges(model)) for description, model in models]


def _check_weight_ranges(got, case: Case) -> str | None:
    if not isinstance(got, dict):
        return f"your function returned a {type(got).__name__}; expected a dict"
    expected = case.expected
    for name in expected:
        if name not in got:
            return (f"your dict has no entry for {name!r} (one per parameter tensor, named as in "
                    "model.named_parameters())")
    extra = sorted(set(got) - set(expected))
    if extra:
        return f"your dict has an entry {extra[0]!r} that is not a parameter name"
    for name, (low, high) in expected.items():
        value = got[name]
        if not isinstance(value, (tuple, list)) or len(value) != 2:
            return f"the entry for {name!r} is {value!r}; expected a pair (min, max)"
        got_low, got_high = (as_number(v, f"the range of {name!r}") for v in value)
        if got_low > got_high:
            return f"the range of {name!r} is ({got_low:.4g}, {got_high:.4g}): min above max"
        if abs(got_low - low) > 1e-6 or abs(got_high - high) > 1e-6:
            return (f"your range of {name!r} is ({got_low:.4g}, {got_high:.4g}), which is not the smallest and "
                    "largest value of that tensor")
    return None


def _grade_weight_ranges(weight_ranges) -> None:
    grade_cases(weight_ranges, _weight_range_cases(), _check_weight_ranges)


#: Seconds one call of the learner's scaling_effect may take (six runs of a fraction of a second, on a busy machine).
SCALING_SECONDS = 90.0
_TOLERANCE = 1e-9  # the check's own run with the same seed repeats the learner's exactly
SCALING_VERDICTS = ("scaled", "raw", "no clear difference")


def _scaling_cases():
    """(raw set-up, scaled set-up, lr, optimizer) on data and a width the lesson never uses: one LR where scaled
    pixels win on every seed, one where raw pixels do, and one too close to call on three seeds."""
    raw, scaled = (setup(start=40_000, epochs=2, scaled=flag) for flag in (False, True))
    for lr, optimizer in ((1e-2, "sgd"), (3e-4, "sgd"), (7e-5, "adam")):
        yield raw, scaled, lr, optimizer


def _grade_scaling(scaling_effect) -> None:
    for case in _scaling_cases():
        _grade_scaling_case(scaling_effect, *case)


def _grade_scaling_case(scaling_effect, raw, scaled, lr, optimizer) -> None:
    where = f"with {optimizer} at lr={lr:g} {scaled.description}"
    result = call(scaling_effect, raw.train, raw.val, scaled.train, scaled.val, lr, optimizer, scaled.epochs,
                  scaled.model, case=where, time_limit=SCALING_SECONDS)
    if not isinstance(result, dict) or not {"raw", "scaled", "verdict"} <= set(result):
        raise Incorrect(f"{where}, expected a dict with the keys 'raw', 'scaled' and 'verdict'; got {result!r:.200}")
    accuracies = {name: _seed_accuracies(result[name], name, where) for name in ("raw", "scaled")}
    if set(accuracies["raw"]) != set(accuracies["scaled"]):
        raise Incorrect(f"{where}, 'raw' and 'scaled' were run on different seeds ({sorted(accuracies['raw'])} and "
                        f"{sorted(accuracies['scaled'])}): run both on the same seeds, so that each seed compares "
                        "them from the same initial weights and batch order")
    seeds = sorted(accuracies["raw"])
    if len(seeds) < 3:
        raise Incorrect(f"{where}, you ran {len(seeds)} seed(s); one or two runs cannot tell a difference from the "
                        "noise: use at least 3 seeds")
    for seed in seeds:
        for name, data in (("raw", raw), ("scaled", scaled)):
            history = reference_history_at_lr(data, lr, optimizer, seed)
            got = accuracies[name][seed]
            if not math.isclose(got, history.val_accuracy[-1], rel_tol=0, abs_tol=_TOLERANCE):
                raise Incorrect(f"{where}, your accuracy on {name} pixels for seed {seed} ({got:.4f}) is not the "
                                f"final validation accuracy of train_at_lr with that data, LR, optimizer, epochs, "
                                "model and seed")
    comparison = paired([accuracies["scaled"][seed] for seed in seeds], [accuracies["raw"][seed] for seed in seeds],
                        "scaled", "raw")
    verdict = result["verdict"]
    if verdict not in SCALING_VERDICTS:
        raise Incorrect(f"{where}, the verdict should be one of {SCALING_VERDICTS}; got {verdict!r:.100}")
    if verdict != {"a": "scaled", "b": "raw"}.get(comparison.verdict, comparison.verdict):
        wins = sum(d > 0 for d in comparison.differences)
        raise Incorrect(f"{where}, your verdict {verdict!r} does not follow from your numbers: scaled pixels ended "
                        f"higher on {wins} of {len(seeds)} seeds. A verdict for one side needs it ahead on every "
                        "seed; otherwise the difference is within the noise")


q1 = Question(
    "Which pairs train?", _grade_prediction,
    hints=("Adam moves each weight by at most about lr per step, whatever the size of its gradient (exactly lr "
           "at the first step, less later as the gradients' signs change).",
           "On scaled pixels, 0.1 is too high for this network; 1e-5 is slow but gets there within 3 epochs.",
           "On raw pixels, 0.1 is too high as well; both smaller LRs train."),
    solution="""
prediction = {("scaled", 1e-1): False, ("scaled", 1e-3): True, ("scaled", 1e-5): True,
              ("raw", 1e-1): False, ("raw", 1e-3): True, ("raw", 1e-5): True}
""",
    answer_name="prediction",
)

q2 = Question(
    "Per-layer weight ranges", _grade_weight_ranges,
    hints=("model.named_parameters() yields (name, tensor) pairs, biases included.",
           "For each tensor, .min().item() and .max().item() give plain floats."),
    solution="""
def weight_ranges(model):
    return {name: (p.min().item(), p.max().item()) for name, p in model.named_parameters()}
""",
    answer_name="weight_ranges",
)

q3 = Question(
    "Raw or scaled pixels, over seeds", _grade_scaling,
    hints=("Loop over at least three seeds; for each, train once on the raw data and once on the scaled data with "
           "train_at_lr(train, lr, val=val, optimizer=optimizer, epochs=epochs, model=model, seed=seed) and keep "
           "run.history.val_accuracy[-1].",
           "Pair the runs by seed: lrcourse.seeds.paired(scaled_list, raw_list) gives the per-seed differences and "
           "their verdict ('a' means scaled is ahead on every seed, 'b' raw, else 'no clear difference')."),
    solution="""
from lrcourse.experiments import train_at_lr
from lrcourse.seeds import paired

def scaling_effect(train_raw, val_raw, train_scaled, val_scaled, lr, optimizer, epochs, model, seeds=(0, 1, 2)):
    final = {name: {seed: train_at_lr(train, lr, val=val, optimizer=optimizer, epochs=epochs, model=model,
                                      seed=seed).history.val_accuracy[-1]
                    for seed in seeds}
             for name, train, val in (("raw", train_raw, val_raw), ("scaled", train_scaled, val_scaled))}
    verdict = paired([final["scaled"][s] for s in seeds], [final["raw"][s] for s in seeds]).verdict
    return {**final, "verdict": {"a": "scaled", "b": "raw"}.get(verdict, verdict)}
""",
    answer_name="scaling_effect",
)
