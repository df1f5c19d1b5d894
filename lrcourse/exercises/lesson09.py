"""Exercises of lesson 09, adaptive optimizers.

- ``q1``: one step of Adam, as ``torch.optim.Adam`` takes it.
- ``q2``: AdaGrad's effective LR after a sequence of gradients.
- ``q3``: how much AdaGrad's effective LR shrinks under a constant gradient.
- ``q4``: an experiment: find a good LR for an optimizer by a sweep, graded on data and optimizers not seen.
"""

from __future__ import annotations

import math

import torch

from . import sandbox
from .core import Question
from .grading import Case, Incorrect, Wrong, as_number, call, grade_cases

TITLE = "Adaptive optimizers"


def _torch_adam(gradients: torch.Tensor, start: torch.Tensor, lr: float, betas: tuple[float, float], eps: float):
    """Parameter, m and v after each of PyTorch's Adam steps on ``gradients`` (one row per step)."""
    parameter = torch.nn.Parameter(start.clone())
    optimizer = torch.optim.Adam([parameter], lr=lr, betas=betas, eps=eps)
    states = []
    for gradient in gradients:
        parameter.grad = gradient.clone()
        optimizer.step()
        state = optimizer.state[parameter]
        states.append((parameter.detach().clone(), state["exp_avg"].clone(), state["exp_avg_sq"].clone()))
    return states


def _as_tensor(value, what: str, shape) -> torch.Tensor:
    if not isinstance(value, torch.Tensor):
        raise Wrong(f"your {what} is a {type(value).__name__}; expected a tensor")
    if value.shape != shape:
        raise Wrong(f"your {what} has shape {tuple(value.shape)}; expected {tuple(shape)}")
    return value.detach().double()


def _adam_cases():
    """Five steps of two set-ups. Each step starts from Adam's own state after the step before
    (the learner's state equals it, or the grading stopped there)."""
    generator = torch.Generator().manual_seed(3)
    zeros = torch.zeros(4, dtype=torch.float64)
    for lr, betas, eps, scale in ((1e-3, (0.9, 0.999), 1e-8, 1.0), (0.1, (0.8, 0.99), 1e-6, 100.0)):
        start = torch.randn(4, generator=generator, dtype=torch.float64)
        gradients = scale * torch.randn(5, 4, generator=generator, dtype=torch.float64)
        expected = _torch_adam(gradients, start, lr, betas, eps)
        before = [(start, zeros, zeros)] + expected[:-1]
        for t, (gradient, (parameter, m, v), want) in enumerate(zip(gradients, before, expected), start=1):
            yield Case(f"for step t={t} with lr={lr:g}, betas={betas}, eps={eps:g}",
                       (parameter.clone(), gradient.clone(), m.clone(), v.clone(), t, lr, betas[0], betas[1], eps),
                       (parameter, want))


def _check_adam_step(result, case: Case) -> str | None:
    before, (want_p, want_m, want_v) = case.expected
    if not isinstance(result, (tuple, list)) or len(result) != 3:
        return f"expected your function to return (param, m, v); got {type(result).__name__}"
    parameter, m, v = (_as_tensor(value, what, (4,)) for value, what in zip(result, ("param", "m", "v")))
    if not torch.allclose(m, want_m, rtol=1e-6, atol=1e-12):
        return "your m is off: it is the moving average of the gradients, with beta1"
    if not torch.allclose(v, want_v, rtol=1e-6, atol=1e-12):
        return "your v is off: it is the moving average of the squared gradients, with beta2"
    if torch.allclose(parameter, want_p, rtol=1e-6, atol=1e-10):
        return None
    step, want_step = before - parameter, before - want_p
    if torch.allclose(step, -want_step, rtol=1e-6, atol=1e-10):
        return "your parameter moved uphill: subtract the step"
    ratio = float(step.abs().mean() / want_step.abs().mean())
    return (f"your step is {ratio:.3g} times the size of Adam's. m and v are right, so look at how they are turned "
            "into a step: both start at zero, and Adam corrects for that")


def _grade_adam_step(adam_step) -> None:
    grade_cases(adam_step, _adam_cases(), _check_adam_step)


def _adagrad_cases():
    for grads, lr, eps in (([0.5], 0.1, 1e-10), ([3.0, 4.0], 1.0, 1e-10), ([0.1] * 100, 0.01, 1e-10),
                           ([0.0, 0.0], 0.1, 0.5), ([2.0, -2.0, 1.0], 0.5, 1e-10)):
        shown = grads if len(grads) < 6 else f"[0.1] * {len(grads)}"
        yield Case(f"for gradients {shown} with lr={lr:g}, eps={eps:g}", (list(grads), lr, eps), grads)


def _check_adagrad_lr(got, case: Case) -> str | None:
    _, lr, eps = case.args
    grads = case.expected
    got = as_number(got, "your effective LR")
    if math.isclose(got, lr / (math.sqrt(sum(g * g for g in grads)) + eps), rel_tol=1e-9):
        return None
    if math.isclose(got, lr / (math.sqrt(sum(g * g for g in grads) / len(grads)) + eps), rel_tol=1e-9):
        return (f"your effective LR is {got:.4g}: you average the squared gradients, as RMSprop does. AdaGrad adds "
                "them up, so its effective LR only ever shrinks")
    return (f"your effective LR is {got:.4g}. AdaGrad divides lr by the square root of everything it has "
            "accumulated, plus eps")


def _grade_adagrad_lr(adagrad_lr) -> None:
    grade_cases(adagrad_lr, _adagrad_cases(), _check_adagrad_lr)


def _grade_shrink(answer) -> None:
    value = as_number(answer, "shrink_factor")
    if math.isclose(value, 10.0, rel_tol=1e-6):
        return
    if math.isclose(value, 100.0, rel_tol=1e-6):
        raise Incorrect("100 would be the growth of the accumulated sum; the effective LR divides by its square root")
    raise Incorrect(f"{value:g} is not it: write the accumulated sum after 1 step and after 100 steps of the same gradient")


q1 = Question(
    "One Adam step", _grade_adam_step,
    hints=("m = beta1 * m + (1 - beta1) * grad; v = beta2 * v + (1 - beta2) * grad ** 2.",
           "Bias-correct both: m_hat = m / (1 - beta1 ** t), v_hat = v / (1 - beta2 ** t); then "
           "param - lr * m_hat / (sqrt(v_hat) + eps)."),
    solution="""
def adam_step(param, grad, m, v, t, lr, beta1, beta2, eps):
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad ** 2
    m_hat = m / (1 - beta1 ** t)
    v_hat = v / (1 - beta2 ** t)
    return param - lr * m_hat / (v_hat.sqrt() + eps), m, v
""",
    answer_name="adam_step",
)

q2 = Question(
    "AdaGrad's effective LR", _grade_adagrad_lr,
    hints=("AdaGrad keeps, for each weight, the sum of all its squared gradients so far.",
           "The effective LR is lr / (sqrt(sum of squared gradients) + eps)."),
    solution="""
import math

def adagrad_lr(grads, lr, eps):
    return lr / (math.sqrt(sum(g * g for g in grads)) + eps)
""",
    answer_name="adagrad_lr",
)

q3 = Question(
    "How fast AdaGrad shrinks", _grade_shrink,
    hints=("With the same gradient g every step, the sum after n steps is n * g ** 2.",
           "The effective LR is proportional to 1 / sqrt(n)."),
    solution="""
shrink_factor = 10
""",
    answer_name="shrink_factor",
)


Q4_LRS = tuple(10.0 ** (k / 2) for k in range(-10, 1))   # 1e-5 to 1 in half-decades
Q4_TIME_LIMIT = 120.0  # seconds: eleven one-epoch runs on 1,000 images take a few seconds of CPU; room for a busy machine


def _sweep(train, val, optimizer: str, lrs) -> list[float]:
    from ..experiments import train_at_lr   # training is imported only when a learner's experiment is graded

    return [train_at_lr(train, lr, val=val, optimizer=optimizer, epochs=1, batch_size=64).history.val_accuracy[-1]
            for lr in lrs]


def _grade_good_lr(good_lr) -> None:
    from ..data import load_fashion_mnist

    with sandbox.stage("loading the grader's data", Q4_TIME_LIMIT):
        data = load_fashion_mnist()
    train, val = data.train[40_000:41_000], data.val[3_000:4_000]
    for optimizer in ("momentum", "adam"):
        setting = f"for {optimizer!r} on 1,000 training images the notebook does not use"
        found = as_number(call(good_lr, train, val, optimizer, list(Q4_LRS), case=setting, time_limit=Q4_TIME_LIMIT),
                          "the LR you found")
        if not any(math.isclose(found, lr, rel_tol=1e-9) for lr in Q4_LRS):
            raise Incorrect(f"{setting}, {found:g} is not one of the LRs in lrs: return the LR of the sweep that did "
                            "best")
        with sandbox.stage("the grader's own sweep", Q4_TIME_LIMIT):
            accuracies = _sweep(train, val, optimizer, Q4_LRS)
        at_found = accuracies[min(range(len(Q4_LRS)), key=lambda i: abs(math.log(Q4_LRS[i] / found)))]
        if at_found < max(accuracies) - 0.01:
            raise Incorrect(f"{setting}, one epoch at your LR reaches a validation accuracy more than a point below the "
                            "best LR of the sweep: train one run per LR and keep the one with the highest final "
                            "validation accuracy")


q4 = Question(
    "An experiment: find a good LR", _grade_good_lr,
    hints=("One run per LR: train_at_lr(train, lr, val=val, optimizer=optimizer, epochs=1, batch_size=64); its "
           "history.val_accuracy[-1] is the score.",
           "Return the LR (one of lrs) whose run scored highest: max(lrs, key=score)."),
    solution="""
from lrcourse.experiments import train_at_lr

def good_lr(train, val, optimizer, lrs):
    def score(lr):
        run = train_at_lr(train, lr, val=val, optimizer=optimizer, epochs=1, batch_size=64)
        return run.history.val_accuracy[-1]

    return max(lrs, key=score)
""",
    answer_name="good_lr",
)
