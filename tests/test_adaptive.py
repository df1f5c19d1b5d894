"""Effective LRs read from the optimizer's state agree with the steps PyTorch takes."""

import copy

import pytest
import torch

from lrcourse.adaptive import EffectiveLRMonitor, adamw_paper, effective_lrs, lr_quantiles
from lrcourse.experiments import train_at_lr

OPTIMIZERS = {
    "sgd": lambda p: torch.optim.SGD(p, lr=0.1),
    "adagrad": lambda p: torch.optim.Adagrad(p, lr=0.1, lr_decay=0.01),
    "rmsprop": lambda p: torch.optim.RMSprop(p, lr=1e-3),
    "adam": lambda p: torch.optim.Adam(p, lr=1e-3, betas=(0.8, 0.99)),
    "adamw": lambda p: torch.optim.AdamW(p, lr=1e-3, weight_decay=0.0),
}


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_last_step_is_effective_lr_times_gradient_or_momentum(name):
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(5, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2)).double()
    optimizer = OPTIMIZERS[name](model.parameters())
    x = torch.randn(16, 5, dtype=torch.float64)
    for _ in range(4):
        before = copy.deepcopy(model.state_dict())
        optimizer.zero_grad()
        model(x).pow(2).mean().backward()
        optimizer.step()
    lrs = effective_lrs(model, optimizer)
    assert list(lrs) == [name for name, _ in model.named_parameters()]
    for pname, parameter in model.named_parameters():
        state = optimizer.state[parameter]
        direction = state["exp_avg"] if "exp_avg" in state else parameter.grad
        torch.testing.assert_close(before[pname] - parameter.detach(), lrs[pname] * direction, rtol=1e-9, atol=0)


def test_adamw_step_is_effective_lr_times_momentum_plus_decoupled_decay():
    # AdamW is a subclass of Adam in newer torch but not in 2.5 (Binder's): both must give its formula.
    torch.manual_seed(0)
    model = torch.nn.Linear(5, 3).double()
    lr, decay = 1e-2, 0.1
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=decay)
    x = torch.randn(8, 5, dtype=torch.float64)
    for _ in range(3):
        before = copy.deepcopy(model.state_dict())
        optimizer.zero_grad()
        model(x).pow(2).mean().backward()
        optimizer.step()
    lrs = effective_lrs(model, optimizer)
    for pname, parameter in model.named_parameters():
        expected = lr * decay * before[pname] + lrs[pname] * optimizer.state[parameter]["exp_avg"]
        torch.testing.assert_close(before[pname] - parameter.detach(), expected, rtol=1e-9, atol=0)


class _LoggingAdam(torch.optim.Adam):
    """A subclass may change the step, so its effective LR is not Adam's by right."""


BAD_OPTIMIZERS = [
    (lambda p: torch.optim.Adam(p, amsgrad=True), "amsgrad=True is not supported"),
    (lambda p: torch.optim.AdamW(p, amsgrad=True), "amsgrad=True is not supported"),
    (lambda p: torch.optim.RMSprop(p, centered=True), "centered=True is not supported"),
    (lambda p: torch.optim.RMSprop(p, momentum=0.9), "RMSprop with momentum"),
    (lambda p: torch.optim.Adadelta(p), "must be SGD, Adagrad, RMSprop, Adam or AdamW; got Adadelta"),
    (lambda p: torch.optim.NAdam(p), "must be SGD, Adagrad, RMSprop, Adam or AdamW; got NAdam"),
    (lambda p: _LoggingAdam(p), "must be SGD, Adagrad, RMSprop, Adam or AdamW; got _LoggingAdam"),
    (lambda p: torch.optim.Adam(p), "'weight' has no optimizer state yet"),
    (lambda p: torch.optim.AdamW(p), "'weight' has no optimizer state yet"),
]


@pytest.mark.parametrize("make_optimizer, message", BAD_OPTIMIZERS)
def test_unsupported_settings_and_missing_state_are_named(make_optimizer, message):
    model = torch.nn.Linear(3, 1)
    with pytest.raises(ValueError, match=message):
        effective_lrs(model, make_optimizer(model.parameters()))


@pytest.mark.parametrize("every", [0, -1, 2.0, True, "5"])
def test_monitor_every_must_be_a_positive_int(every):
    with pytest.raises(ValueError, match="every must be an int >= 1"):
        EffectiveLRMonitor(every=every)


def test_lr_quantiles_over_all_weights():
    lrs = {"a": torch.tensor([1.0, 2.0, 3.0]), "b": torch.tensor([[4.0, 5.0]])}
    assert lr_quantiles(lrs, (0.0, 0.5, 1.0)) == (1.0, 3.0, 5.0)


def test_monitor_in_fit_and_adagrad_never_grows(fmnist):
    monitor = EffectiveLRMonitor(every=5)
    train_at_lr(fmnist.train[:640], 0.01, optimizer="adagrad", epochs=2, batch_size=32, callbacks=[monitor])
    assert monitor.steps == list(range(0, 40, 5)) and len(monitor.quantiles) == 8
    for earlier, later in zip(monitor.quantiles, monitor.quantiles[1:]):
        assert all(b <= a for a, b in zip(earlier, later))  # AdaGrad's sums only grow
    sgd = EffectiveLRMonitor(every=10)
    train_at_lr(fmnist.train[:320], 0.05, optimizer="sgd", epochs=1, batch_size=32, callbacks=[sgd])
    assert all(q == pytest.approx((0.05,) * 3) for q in sgd.quantiles)


def _shrink_per_step(optimizer_factory, lr, weight_decay, multipliers):
    """The fraction a weight with no gradient loses at each step, under a LambdaLR with these multipliers."""
    weight = torch.nn.Parameter(torch.ones(1, dtype=torch.float64))
    optimizer = optimizer_factory([weight], lr=lr, weight_decay=weight_decay)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: multipliers[step])
    shrinks = []
    for _ in range(len(multipliers) - 1):
        before = weight.item()
        weight.grad = torch.zeros(1, dtype=torch.float64)
        optimizer.step()
        scheduler.step()
        shrinks.append(1 - weight.item() / before)
    return shrinks


@pytest.mark.parametrize("lr", [1e-4, 1e-3, 3e-2])
def test_adamw_paper_shrinks_by_schedule_multiplier_times_decay_whatever_the_base_lr(lr):
    multipliers = [1.0, 0.5, 0.25, 1.0]
    shrinks = _shrink_per_step(adamw_paper, lr, 1e-3, multipliers)
    torch.testing.assert_close(torch.tensor(shrinks, dtype=torch.float64), 1e-3 * torch.tensor(multipliers[:-1], dtype=torch.float64),
                               rtol=1e-6, atol=0)  # 1 - w_after / w_before cancels: ~1e-10 of 1e-6 is lost
    # PyTorch's AdamW with the same numbers multiplies the decay by the LR as well.
    torch_shrinks = _shrink_per_step(torch.optim.AdamW, lr, 1e-3, multipliers)
    torch.testing.assert_close(torch.tensor(torch_shrinks), lr * torch.tensor(shrinks), rtol=1e-6, atol=0)


def test_adamw_paper_steps_like_torch_adamw_apart_from_the_decay():
    torch.manual_seed(0)
    model = torch.nn.Linear(4, 2).double()
    twin = copy.deepcopy(model)
    ours = adamw_paper(model.parameters(), lr=1e-2, weight_decay=1e-3, betas=(0.8, 0.99))
    reference = torch.optim.AdamW(twin.parameters(), lr=1e-2, weight_decay=1e-3 / 1e-2, betas=(0.8, 0.99))
    x = torch.randn(8, 4, dtype=torch.float64)
    for net, optimizer in ((model, ours), (twin, reference)):
        for _ in range(3):
            optimizer.zero_grad()
            net(x).pow(2).mean().backward()
            optimizer.step()
    for a, b in zip(model.parameters(), twin.parameters()):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    assert type(ours) is torch.optim.AdamW and effective_lrs(model, ours).keys() == {"weight", "bias"}


@pytest.mark.parametrize("kwargs, message", [
    (dict(lr=0.0, weight_decay=1e-3), "lr must be"),
    (dict(lr=-1e-3, weight_decay=1e-3), "lr must be"),
    (dict(lr=float("nan"), weight_decay=1e-3), "lr must be"),
    (dict(lr=1e-3, weight_decay=-1e-3), "weight_decay must be"),
    (dict(lr=1e-3, weight_decay=float("inf")), "weight_decay must be"),
    (dict(lr="0.001", weight_decay=1e-3), "lr must be"),
])
def test_adamw_paper_rejects_bad_input(kwargs, message):
    with pytest.raises((ValueError, TypeError), match=message):
        adamw_paper([torch.nn.Parameter(torch.ones(1))], **kwargs)
