"""The schedules' values: against PyTorch's schedulers, the source notes, and each other."""

import math

import numpy as np
import pytest
import torch
from torch.optim import lr_scheduler as L

import lrcourse.schedules as S


def run_torch(make_scheduler, steps, lr, optimizer=torch.optim.SGD, **optimizer_kwargs):
    """LR and momentum (``betas[0]`` for Adam) of param group 0 at steps 0 .. steps - 1,
    stepping the scheduler after each optimizer step as a training loop does."""
    param = torch.nn.Parameter(torch.zeros(1))
    optimizer = optimizer([param], lr=lr, **optimizer_kwargs)
    scheduler = make_scheduler(optimizer)
    lrs, momenta = [], []
    for _ in range(steps):
        group = optimizer.param_groups[0]
        lrs.append(group["lr"])
        momenta.append(group["betas"][0] if "betas" in group else group.get("momentum", 0.0))
        optimizer.step()  # no gradient, so no update; keeps PyTorch's order check quiet
        scheduler.step()
    return np.array(lrs), np.array(momenta)


def assert_close(ours, theirs):
    np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=0)


# (our schedule, PyTorch's scheduler on an optimizer whose lr is our base LR, steps)
PYTORCH_EQUIVALENTS = {
    "StepLR": (S.step_decay(base_lr=0.1, step_size=30, gamma=0.1),
               lambda o: L.StepLR(o, step_size=30, gamma=0.1), 200),
    "StepLR-halving": (S.step_decay(base_lr=0.1, step_size=7, gamma=0.5),
                       lambda o: L.StepLR(o, step_size=7, gamma=0.5), 100),
    "MultiStepLR": (S.multistep(base_lr=0.1, milestones=[30, 80, 120], gamma=0.1),
                    lambda o: L.MultiStepLR(o, milestones=[30, 80, 120], gamma=0.1), 200),
    "ExponentialLR": (S.exponential(base_lr=0.1, gamma=0.96),
                      lambda o: L.ExponentialLR(o, gamma=0.96), 300),
    "PolynomialLR": (S.polynomial(base_lr=0.05, total_steps=50, power=0.9),
                     lambda o: L.PolynomialLR(o, total_iters=50, power=0.9), 120),
    "PolynomialLR-linear": (S.linear_decay(base_lr=0.05, total_steps=50),
                            lambda o: L.PolynomialLR(o, total_iters=50, power=1.0), 120),
    "CosineAnnealingLR": (S.cosine(base_lr=0.1, total_steps=50, eta_min=0.001),
                          lambda o: L.CosineAnnealingLR(o, T_max=50, eta_min=0.001), 250),
    "CosineAnnealingLR-to-0": (S.cosine(base_lr=0.1, total_steps=40),
                               lambda o: L.CosineAnnealingLR(o, T_max=40), 40),
    "LinearLR-decay": (S.linear_decay(base_lr=0.1, total_steps=50),
                       lambda o: L.LinearLR(o, start_factor=1.0, end_factor=0.0, total_iters=50), 80),
    "LinearLR-warmup": (S.linear_warmup(warmup_steps=10, then=S.constant(base_lr=0.1), start_factor=0.25),
                        lambda o: L.LinearLR(o, start_factor=0.25, total_iters=10), 40),
    "SequentialLR-warmup-cosine": (
        S.linear_warmup(warmup_steps=10, then=S.cosine(base_lr=0.1, total_steps=90)),
        lambda o: L.SequentialLR(o, [L.LinearLR(o, start_factor=1 / 11, total_iters=10),
                                     L.CosineAnnealingLR(o, T_max=90)], milestones=[10]), 100),
    "CyclicLR-triangular": (S.triangular(base_lr=0.001, max_lr=0.006, step_size=20),
                            lambda o: L.CyclicLR(o, 0.001, 0.006, step_size_up=20, cycle_momentum=False), 200),
    "CyclicLR-triangular2": (S.triangular2(base_lr=0.001, max_lr=0.006, step_size=20),
                             lambda o: L.CyclicLR(o, 0.001, 0.006, step_size_up=20, mode="triangular2",
                                                  cycle_momentum=False), 200),
    "CyclicLR-exp_range": (S.exp_range(base_lr=0.001, max_lr=0.006, step_size=20, gamma=0.995),
                           lambda o: L.CyclicLR(o, 0.001, 0.006, step_size_up=20, mode="exp_range", gamma=0.995,
                                                cycle_momentum=False), 200),
    "CosineAnnealingWarmRestarts": (S.cosine_restarts(base_lr=0.1, T_0=10, eta_min=0.001),
                                    lambda o: L.CosineAnnealingWarmRestarts(o, T_0=10, eta_min=0.001), 100),
    "CosineAnnealingWarmRestarts-T_mult=2": (S.cosine_restarts(base_lr=0.1, T_0=10, T_mult=2),
                                             lambda o: L.CosineAnnealingWarmRestarts(o, T_0=10, T_mult=2), 310),
    "CosineAnnealingWarmRestarts-T_mult=3": (S.cosine_restarts(base_lr=0.1, T_0=3, T_mult=3, eta_min=0.01),
                                             lambda o: L.CosineAnnealingWarmRestarts(o, T_0=3, T_mult=3,
                                                                                     eta_min=0.01), 400),
}


@pytest.mark.parametrize("name", sorted(PYTORCH_EQUIVALENTS))
def test_matches_pytorch_at_every_step(name):
    schedule, make_scheduler, steps = PYTORCH_EQUIVALENTS[name]
    # PyTorch's warm-ups scale the optimizer's LR, which is the LR reached after the warm-up.
    lr = schedule(schedule.warmup_steps) if isinstance(schedule, S.LinearWarmup) else schedule(0)
    theirs, _ = run_torch(make_scheduler, steps, lr=lr)
    assert_close(S.sample(schedule, steps), theirs)


ONE_CYCLES = [
    dict(max_lr=0.1, total_steps=100),
    dict(max_lr=0.1, total_steps=100, anneal="linear"),
    dict(max_lr=0.5, total_steps=30, pct_start=0.25, div_factor=10.0, final_div_factor=100.0),  # peak at 6.5
    dict(max_lr=0.1, total_steps=100, three_phase=True),
    dict(max_lr=0.1, total_steps=101, pct_start=0.4, anneal="linear", three_phase=True,
         base_momentum=0.8, max_momentum=0.9),
]


@pytest.mark.parametrize("optimizer", [torch.optim.SGD, torch.optim.Adam])
@pytest.mark.parametrize("kwargs", ONE_CYCLES, ids=str)
def test_one_cycle_matches_pytorch_lr_and_momentum(kwargs, optimizer):
    ours = S.one_cycle(**kwargs)
    torch_kwargs = {("anneal_strategy" if k == "anneal" else k): v for k, v in kwargs.items()}
    extra = {"momentum": 0.9} if optimizer is torch.optim.SGD else {}
    steps = kwargs["total_steps"]
    lrs, momenta = run_torch(lambda o: L.OneCycleLR(o, **torch_kwargs), steps, 1.0, optimizer, **extra)
    assert_close(S.sample(ours, steps), lrs)
    assert_close(S.sample(ours.momentum, steps), momenta)


def test_one_cycle_defaults_peak_at_30_percent():
    schedule = S.one_cycle(max_lr=0.1, total_steps=1000)
    assert schedule(0) == 0.1 / 25 and schedule(299) == 0.1 and schedule(999) == 0.1 / 25 / 1e4
    assert schedule.momentum(0) == 0.95 and schedule.momentum(299) == 0.85 and schedule.momentum(999) == 0.95
    assert schedule(1000) == schedule(999)  # the scheduler step after the last update


def test_spec_example_is_exact():
    assert S.step_decay(base_lr=0.1, step_size=30, gamma=0.1)(45) == 0.01


def test_worked_numbers_of_the_notes():
    halving = S.step_decay(base_lr=0.1, step_size=10, gamma=0.5)
    assert [halving(t) for t in (0, 9, 10, 20)] == [0.1, 0.1, 0.05, 0.025]
    decay = S.exponential(base_lr=0.1, gamma=0.96)
    assert [decay(t) for t in (0, 1, 2)] == [0.1, 0.096, 0.09216]
    one_over_t = S.inverse_time(base_lr=0.1, k=0.5)
    assert [one_over_t(t) for t in (0, 2, 6)] == [0.1, 0.05, 0.025]
    inception = S.step_decay(base_lr=0.045, step_size=2, gamma=0.94)  # per epoch
    assert inception(5) == 0.039762


def test_inverse_sqrt_is_the_transformer_formula_normalized_to_its_peak():
    d_model, warmup = 512, 4000
    schedule = S.inverse_sqrt(base_lr=(d_model * warmup) ** -0.5, warmup_steps=warmup)
    for t in (0, 1, 999, 3998, 3999, 4000, 10_000, 99_999):
        s = t + 1  # the paper counts steps from 1
        assert schedule(t) == pytest.approx(d_model**-0.5 * min(s**-0.5, s * warmup**-1.5), rel=1e-12)
    assert max(S.sample(schedule, 8000)) == schedule(warmup - 1) == pytest.approx(6.99e-4, rel=1e-3)


def test_linear_warmup_defaults_to_equal_increments_and_shifts_then():
    then = S.linear_decay(base_lr=0.1, total_steps=90)  # BERT: warm up, then decay to 0
    schedule = S.linear_warmup(warmup_steps=4, then=then)
    expected = [0.1 * (t + 1) / 5 for t in range(4)] + [then(t) for t in range(91)]
    np.testing.assert_allclose(S.sample(schedule, 95), expected, rtol=1e-15)
    assert schedule(4) == 0.1 and schedule(94) == 0.0


def cyclical_lr(stepsize, min_lr=3e-4, max_lr=3e-3, scaler=lambda cycle: 1.0):
    """The lecture notes' LambdaLR helper, rewritten: a triangle between min_lr and max_lr
    rising for ``stepsize`` steps, its height times ``scaler(cycle)``, cycles counted from 1."""

    def lr_lambda(it):
        cycle = math.floor(1 + it / (2 * stepsize))
        x = abs(it / stepsize - 2 * cycle + 1)
        return min_lr + (max_lr - min_lr) * max(0.0, 1 - x) * scaler(cycle)

    return lr_lambda


@pytest.mark.parametrize("policy, scaler", [(S.triangular, lambda cycle: 1.0),
                                            (S.triangular2, lambda cycle: 1 / 2 ** (cycle - 1))],
                         ids=["triangular", "triangular2"])
def test_lecture_cyclical_lr_helper_is_reproduced(policy, scaler):
    step_size, end_lr, factor = 4 * 25, 3e-3, 6  # step_size = 4 * len(train_loader), as in the notes
    clr = cyclical_lr(step_size, min_lr=end_lr / factor, max_lr=end_lr, scaler=scaler)
    # The notes' optimizer has lr=1, so LambdaLR's multiplier is the LR itself.
    theirs, _ = run_torch(lambda o: L.LambdaLR(o, [clr]), 1000, lr=1.0)
    schedule = policy(base_lr=end_lr / factor, max_lr=end_lr, step_size=step_size)
    assert_close(S.sample(schedule, 1000), theirs)
    via_adapter, _ = run_torch(lambda o: S.to_lambda_lr(o, schedule), 1000, lr=1.0)
    assert_close(via_adapter, theirs)


@pytest.mark.parametrize("kwargs", [dict(total_steps=100), dict(total_steps=30, pct_start=0.25),
                                    dict(total_steps=100, anneal="linear")], ids=str)
def test_one_cycle_is_a_combine_of_two_phases(kwargs):
    schedule = S.one_cycle(max_lr=0.1, **kwargs)
    total, anneal = kwargs["total_steps"], S.cos_anneal if kwargs.get("anneal", "cos") == "cos" else S.lin_anneal
    # PyTorch's peak is at step pct_start * total - 1 and its last LR at step total - 1.
    peak = kwargs.get("pct_start", 0.3) * total - 1
    up = peak / (total - 1)
    combined = S.combine([up, 1 - up], [anneal(0.004, 0.1), anneal(0.1, 4e-7)], total - 1)
    np.testing.assert_allclose(S.sample(schedule, total), S.sample(combined, total), rtol=1e-12)


@pytest.mark.parametrize("cycles", [1, 3, 10])
def test_sgdr_is_a_combine_of_equal_cosine_phases(cycles):
    restarts = S.cosine_restarts(base_lr=0.1, T_0=10, eta_min=0.001)
    combined = S.combine([1 / cycles] * cycles, [S.cos_anneal(0.1, 0.001)] * cycles, 10 * cycles)
    np.testing.assert_allclose(S.sample(restarts, 10 * cycles), S.sample(combined, 10 * cycles), rtol=1e-12)


def test_cosine_is_a_single_phase_combine():
    combined = S.combine([1.0], [S.cos_anneal(0.1, 0.001)], 50)
    np.testing.assert_allclose(S.sample(S.cosine(base_lr=0.1, total_steps=50, eta_min=0.001), 51),
                               S.sample(combined, 51), rtol=1e-15)


def test_combine_boundaries_fall_on_whole_steps_and_belong_to_the_later_phase():
    # [0.1] * 10 adds up to 0.30000000000000004 after three shares, 9.000000000000002 steps of 30.
    combined = S.combine([0.1] * 10, [S.lin_anneal(1.0, 0.5)] * 10, 30)
    assert [combined(t) for t in range(0, 30, 3)] == [1.0] * 10  # every phase starts over
    assert combined(30) == 0.5
    assert [combined(t) for t in (1, 2, 10, 29)] == pytest.approx([5 / 6, 2 / 3, 5 / 6, 2 / 3], rel=1e-15)


def test_phases_hit_their_ends_exactly():
    for phase in (S.cos_anneal(0.004, 0.1), S.lin_anneal(0.004, 0.1), S.exp_anneal(0.004, 0.1)):
        assert phase(0) == 0.004 and phase(1) == 0.1
    assert S.exp_anneal(1e-7, 10.0)(0.5) == pytest.approx(1e-3, rel=1e-12)  # the geometric middle
    assert S.cos_anneal(1.0, 0.0)(0.5) == pytest.approx(0.5) and S.lin_anneal(1.0, 0.0)(0.25) == 0.75


# Issue 15: a schedule never hands an optimizer inf, nan or a denormal LR without a word.

@pytest.mark.parametrize("schedule, steps_per_factor", [(S.exponential(base_lr=0.1, gamma=1.1), 1),
                                                         (S.step_decay(base_lr=0.1, step_size=5, gamma=10.0), 5)],
                         ids=["exponential", "step_decay"])
def test_overflow_is_an_error_naming_the_step_gamma_and_the_last_finite_step(schedule, steps_per_factor):
    message = str(pytest.raises(ValueError, schedule, 10**6).value)
    last = int(message.rsplit("finite up to step ", 1)[1])
    assert math.isfinite(schedule(last)) and schedule(last) > 1e307
    with pytest.raises(ValueError, match=rf"step={last + 1} overflows.*gamma={schedule.gamma!r}"):
        schedule(last + 1)
    assert (last + 1) % steps_per_factor == 0  # the first step of a new factor


def test_steps_far_past_overflow_are_the_same_clear_error():
    with pytest.raises(ValueError, match=r"step=1000000000000 overflows"):  # not decimal.Overflow
        S.exponential(base_lr=0.1, gamma=1.1)(10**12)


def test_decays_below_the_smallest_normal_float_are_zero_not_denormal():
    lrs = S.sample(S.exponential(base_lr=0.1, gamma=0.5), 1200)
    assert np.all((lrs == 0) | (lrs >= np.finfo(float).tiny)) and lrs[-1] == 0.0
    assert np.all(np.diff(lrs) <= 0)
    assert S.step_decay(base_lr=0.1, step_size=1, gamma=1e-10)(40) == 0.0
    assert S.exponential(base_lr=0.1, gamma=0.5)(10**12) == 0.0


EXTREMES = [
    S.constant(base_lr=1e308),
    S.inverse_time(base_lr=1e308, k=1e308),
    S.polynomial(base_lr=1e308, total_steps=7, power=1e3),
    S.cosine(base_lr=1e308, total_steps=3),
    S.inverse_sqrt(base_lr=1e308, warmup_steps=1),
    S.triangular2(base_lr=1e-300, max_lr=1e308, step_size=1),
    S.exp_range(base_lr=1e-300, max_lr=1e308, step_size=2, gamma=1e-300),
    S.cosine_restarts(base_lr=1e308, T_0=1, T_mult=7),
    S.multistep(base_lr=1e300, milestones=[1, 2], gamma=1e4),
    S.exponential(base_lr=1e-300, gamma=1e300),
]


@pytest.mark.parametrize("schedule", EXTREMES, ids=lambda s: type(s).__name__)
def test_extreme_arguments_give_finite_lrs_or_an_error_naming_the_step(schedule):
    for step in (0, 1, 2, 3, 7, 10**6, 10**15):
        try:
            lr = schedule(step)
        except ValueError as error:
            assert f"step={step}" in str(error)
        else:
            assert math.isfinite(lr) and (lr == 0 or lr >= np.finfo(float).tiny)
