"""Exercises of lesson 06, the 1-cycle policy.

- ``q1``: the 1-cycle LR as a function of the step, as PyTorch's OneCycleLR computes it.
- ``q2``: the momentum at the LR's peak.
- ``q3``: an experiment on Smith & Topin's axis: the fewest epochs at which a baseline reaches a target
  accuracy, over seeds.
"""

from __future__ import annotations

import math

import torch

from ..compare import speedup
from .core import Question
from .grading import Case, Incorrect, as_number, grade_cases

TITLE = "The 1-cycle policy"


def _pytorch_one_cycle(max_lr: float, total_steps: int, pct_start: float) -> list[float]:
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=max_lr, momentum=0.9)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=max_lr, total_steps=total_steps,
                                                    pct_start=pct_start)
    lrs = []
    for _ in range(total_steps):
        lrs.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    return lrs


def _one_cycle_cases():
    for max_lr, total_steps, pct_start in ((0.1, 100, 0.3), (1.0, 40, 0.25), (0.01, 1000, 0.5)):
        expected = _pytorch_one_cycle(max_lr, total_steps, pct_start)
        for step in sorted({0, 1, total_steps // 8, int(pct_start * total_steps) - 1, total_steps // 2,
                            3 * total_steps // 4, total_steps - 1}):
            yield Case(f"for step {step} of {total_steps} with max_lr={max_lr:g}, pct_start={pct_start:g}",
                       (step, max_lr, total_steps, pct_start), expected[step])


def _check_one_cycle(got, case: Case) -> str | None:
    step, max_lr, total_steps, pct_start = case.args
    got = as_number(got, "your LR")
    # 1% of max_lr: the shape matters here, not PyTorch's off-by-one conventions.
    if abs(got - case.expected) <= 0.01 * max_lr:
        return None
    where = "rising" if step < pct_start * total_steps - 1 else "falling"
    return (f"in the {where} phase, your LR is {got:.4g}. Check the phase's start and end values and that it "
            "follows half a cosine between them")


def _grade_one_cycle(one_cycle_lr) -> None:
    grade_cases(one_cycle_lr, _one_cycle_cases(), _check_one_cycle)


def _grade_momentum(answer) -> None:
    value = as_number(answer, "momentum_at_peak")
    if math.isclose(value, 0.85, abs_tol=1e-9):
        return
    if math.isclose(value, 0.95, abs_tol=1e-9):
        raise Incorrect("0.95 is the momentum where the LR is lowest; 1-cycle moves momentum the opposite way to the LR")
    raise Incorrect(f"{value:g} is not one of the two momentum values of OneCycleLR's defaults")


q1 = Question(
    "The 1-cycle LR at step t", _grade_one_cycle,
    hints=("Two phases: from max_lr / 25 up to max_lr over pct_start of the steps, then down to max_lr / 25 / 1e4.",
           "Within a phase going from a to b, at fraction p of the phase: b + (a - b) * (1 + cos(pi * p)) / 2. "
           "PyTorch ends phase 1 at step pct_start * total_steps - 1 and phase 2 at total_steps - 1."),
    solution="""
import math

def one_cycle_lr(step, max_lr, total_steps, pct_start):
    start, end = max_lr / 25, max_lr / 25 / 1e4
    peak = pct_start * total_steps - 1
    def cos_anneal(a, b, p):
        return b + (a - b) * (1 + math.cos(math.pi * p)) / 2
    if step <= peak:
        return cos_anneal(start, max_lr, step / peak)
    return cos_anneal(max_lr, end, (step - peak) / (total_steps - 1 - peak))
""",
    answer_name="one_cycle_lr",
)

q2 = Question(
    "Momentum at the peak", _grade_momentum,
    hints=("In 1-cycle, momentum moves opposite to the LR.",
           "OneCycleLR's defaults: base_momentum=0.85, max_momentum=0.95."),
    solution="""
momentum_at_peak = 0.85
""",
    answer_name="momentum_at_peak",
)


class _BudgetRuns:
    """A stand-in for "train the baseline for ``epochs`` epochs from ``seed`` and return its final
    accuracy": a saturating curve ``top - drop * exp(-epochs / tau)`` plus noise drawn from a
    generator seeded by the set-up, the budget and the seed (the same call gives the same number).
    It records the ``(epochs, seed)`` pairs asked for."""

    def __init__(self, setup: int, top: float, drop: float, tau: float, noise: float):
        self.setup, self.top, self.drop, self.tau, self.noise, self.calls = setup, top, drop, tau, noise, []

    def __call__(self, epochs, seed):
        self.calls.append((epochs, seed))
        generator = torch.Generator().manual_seed(100_000 * self.setup + 1000 * int(epochs) + int(seed))
        return self.top - self.drop * math.exp(-epochs / self.tau) + self.noise * float(torch.randn(1, generator=generator))

    def seeds_at(self, epochs) -> list:
        return sorted({seed for budget, seed in self.calls if budget == epochs})


def _budget_setups():
    return [("set-up A (budgets 2, 3, 4, 6, 8; target 0.85)", _BudgetRuns(1, 0.88, 0.12, 2.0, 0.003), 0.85,
             (2, 3, 4, 6, 8)),
            ("set-up B (noisy runs; target 0.86)", _BudgetRuns(2, 0.87, 0.10, 2.5, 0.012), 0.86, (1, 2, 3, 4, 6, 8)),
            ("set-up C (budgets given out of order; target 0.86)", _BudgetRuns(3, 0.88, 0.12, 2.0, 0.003), 0.86,
             (8, 2, 6, 3, 4))]


def _check_epochs_to_target(got, case: Case) -> str | None:
    runs, target, budgets = case.args
    if got not in budgets:
        return f"you return {got!r}; return one of the budgets (in these set-ups the largest reaches the target)"
    needed = [budget for budget in budgets if budget <= got]
    thin = [budget for budget in sorted(needed) if len(runs.seeds_at(budget)) < 3]
    if thin:
        return (f"the budget of {thin[0]} epochs was trained from {len(runs.seeds_at(thin[0]))} different seed(s); "
                "every budget up to your answer needs at least 3, so that a lucky seed cannot decide")
    fresh = _BudgetRuns(runs.setup, runs.top, runs.drop, runs.tau, runs.noise)
    baseline = {budget: [fresh(budget, seed) for seed in runs.seeds_at(budget)] for budget in needed}
    expected = speedup(1, [target], baseline).matched_at
    if got != expected:
        return (f"you return {got!r}, but over the seeds you ran, the smallest budget whose MEAN final accuracy "
                f"reaches the target is another one. Average each budget over its seeds, and look at the budgets "
                "from the smallest up")
    return None


def _grade_epochs_to_target(epochs_to_target) -> None:
    cases = (Case(f"in {description}", (runs, target, budgets)) for description, runs, target, budgets
             in _budget_setups())
    grade_cases(epochs_to_target, cases, _check_epochs_to_target)


q3 = Question(
    "Epochs to a target accuracy: an experiment over seeds", _grade_epochs_to_target,
    hints=("For each budget (smallest first), call train_for(epochs, seed) for three or more different seeds: each "
           "call is a full run with that budget.",
           "lrcourse.compare.speedup(1, [target], {budget: accuracies, ...}).matched_at is the smallest budget whose "
           "mean reaches the target (or None)."),
    solution="""
from lrcourse.compare import speedup

def epochs_to_target(train_for, target, budgets):
    baseline = {epochs: [train_for(epochs, seed) for seed in (0, 1, 2)] for epochs in budgets}
    return speedup(1, [target], baseline).matched_at
""",
    answer_name="epochs_to_target",
)
