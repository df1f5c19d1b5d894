"""Effective LRs read from the optimizer's state agree with the steps PyTorch takes."""

import copy

import pytest
import torch

import lrcourse
from lrcourse.adaptive import EffectiveLRMonitor, StepSizeMonitor, adamw_paper, effective_lrs, lr_quantiles
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


def _fit_batches(model, optimizer, batches, monitor, loss_fn):
    lrcourse.fit(model, batches, optimizer, epochs=1, callbacks=[monitor], loss_fn=loss_fn, progress=False)


def test_step_size_monitor_measures_each_step_of_weight_output_and_gradient():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(5, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2)).double()
    batches = [(torch.randn(8, 5, dtype=torch.float64), torch.randint(0, 2, (8,))) for _ in range(3)]
    probe = torch.randn(6, 5, dtype=torch.float64)
    lr = 0.01
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    # The same steps by hand, on a copy, for the expected values.
    twin = copy.deepcopy(model)
    twin_optimizer = torch.optim.Adam(twin.parameters(), lr=lr)
    expected = {"weight": [], "output": [], "grad": [], "all nonzero": []}
    for x, y in batches:
        w, z = twin[0].weight.detach().clone(), twin[0](probe).detach()
        twin_optimizer.zero_grad()
        torch.nn.functional.cross_entropy(twin(x), y).backward()
        twin_optimizer.step()
        expected["grad"].append(twin[0].weight.grad.norm().item())
        expected["all nonzero"].append(bool((twin[0].weight.grad != 0).all()))
        expected["weight"].append((twin[0].weight - w).abs().mean().item())
        expected["output"].append((twin[0](probe) - z).abs().mean().item())
    monitor = StepSizeMonitor("0", probe=probe)
    _fit_batches(model, optimizer, batches, monitor, None)
    assert monitor.weight_steps == pytest.approx(expected["weight"], rel=1e-9)
    assert monitor.output_steps == pytest.approx(expected["output"], rel=1e-9)
    assert monitor.gradient_norms == pytest.approx(expected["grad"], rel=1e-9)
    # Adam's first step is lr * g / (|g| + eps): every weight with a nonzero gradient moves by lr.
    assert expected["all nonzero"][0] and monitor.weight_steps[0] == pytest.approx(lr, rel=1e-6)


def test_step_size_monitor_adam_steps_shrink_when_the_gradient_changes_sign():
    def steps(signs):
        weight = torch.nn.Linear(1, 1, bias=False).double()
        batches = [(torch.full((1, 1), s, dtype=torch.float64), torch.zeros(1, dtype=torch.long)) for s in signs]
        monitor = StepSizeMonitor("")   # the Linear itself is the model: its name is ""
        _fit_batches(weight, torch.optim.Adam(weight.parameters(), lr=0.1), batches, monitor,
                     lambda out, y: out.mean())   # gradient = the input, +1 or -1
        return monitor.weight_steps

    assert steps([1.0] * 6) == pytest.approx([0.1] * 6, rel=1e-6)   # same sign every step: lr every step
    alternating = steps([1.0, -1.0] * 3)
    assert alternating[0] == pytest.approx(0.1, rel=1e-6)
    # Step 2: m = 0.9 * 0.1 - 0.1 = -0.01, m_hat = -0.01 / (1 - 0.9^2), v_hat = 1: lr / 19.
    assert alternating[1] == pytest.approx(0.1 / 19, rel=1e-6)
    assert max(alternating[1:]) < 0.05                              # m averages out: below half the lr
    assert StepSizeMonitor("").output_steps == []                   # no probe, no output changes


@pytest.mark.parametrize("kwargs, error, message", [
    ({"layer": 1}, TypeError, "layer must be a module name"),
    ({"layer": None}, TypeError, "layer must be a module name"),
    ({"layer": "0", "probe": [[1.0, 2.0]]}, TypeError, "probe must be a tensor"),
])
def test_step_size_monitor_rejects_bad_arguments(kwargs, error, message):
    with pytest.raises(error, match=message):
        StepSizeMonitor(**kwargs)


@pytest.mark.parametrize("layer, probe, message", [
    ("5", None, "layer must name a module of the model that has a weight; got '5'; modules with a weight: "
                r"\['0', '2'\]"),
    ("1", None, "layer must name a module of the model that has a weight; got '1'"),   # the Tanh
    ("0", torch.zeros(2, 7), "probe must be a batch of inputs of layer '0'"),
])
def test_step_size_monitor_rejects_a_layer_or_probe_the_model_does_not_fit(layer, probe, message):
    model = torch.nn.Sequential(torch.nn.Linear(5, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2))
    before = copy.deepcopy(model.state_dict())
    batches = [(torch.randn(8, 5), torch.randint(0, 2, (8,)))]
    with pytest.raises(ValueError, match=message):
        _fit_batches(model, torch.optim.Adam(model.parameters()), batches, StepSizeMonitor(layer, probe), None)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())   # refused before any step


def test_step_size_monitor_leaves_batch_norm_statistics_alone():
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4))
    monitor = StepSizeMonitor("1", probe=torch.full((5, 4), 100.0))
    batches = [(torch.randn(8, 3), torch.randint(0, 4, (8,))) for _ in range(2)]
    reference = copy.deepcopy(model)
    _fit_batches(model, torch.optim.SGD(model.parameters(), lr=0.1), batches, monitor, None)
    _fit_batches(reference, torch.optim.SGD(reference.parameters(), lr=0.1), batches, StepSizeMonitor("1"), None)
    torch.testing.assert_close(model[1].running_mean, reference[1].running_mean)
    assert model[1].training and len(monitor.output_steps) == 2
