"""PyTorch's own tests of CyclicLR, OneCycleLR and CosineAnnealingWarmRestarts, ported to
lrcourse's schedules (see test_schedules_pytorch_parity.py for how, and what is left out).

PyTorch's cyclic tests cycle momenta between numbers like 1 and 5 or 22; lrcourse refuses a
momentum >= 1, so every momentum here is PyTorch's divided by ``M``, in the reference run too.
Where PyTorch gives one ``base_lr`` for both groups, ours gives both groups the same schedule.
"""

import copy
import math
import pickle
import warnings

import numpy as np
import pytest
import torch
from scheduler_reference import M, fixture_optimizer, per_group, side_by_side, trace, with_momentum
from torch.optim import SGD, Adam, Rprop
from torch.optim.lr_scheduler import CosineAnnealingLR, CosineAnnealingWarmRestarts, CyclicLR, OneCycleLR

import lrcourse.schedules as S

POLICIES = {"triangular": S.triangular, "triangular2": S.triangular2, "exp_range": S.exp_range}


def cyclic(mode, base_lr, max_lr, base_momentum, max_momentum, up, down=None, gamma=1.0):
    """PyTorch's CyclicLR as its tests build it, and ours: one schedule per group."""
    per = dict(gamma=gamma) if mode == "exp_range" else {}

    def reference(optimizer):
        return CyclicLR(optimizer, base_lr=base_lr, max_lr=max_lr, step_size_up=up, step_size_down=down,
                        cycle_momentum=True, base_momentum=base_momentum, max_momentum=max_momentum, mode=mode,
                        gamma=gamma)

    lists = [x if isinstance(x, list) else [x, x] for x in (base_lr, max_lr, base_momentum, max_momentum)]
    schedules = [POLICIES[mode](base_lr=b, max_lr=m, step_size_up=up, step_size_down=down, base_momentum=bm,
                                max_momentum=mm, **per) for b, m, bm, mm in zip(*lists)]
    return reference, per_group(*schedules, momentum=True)


TRIANGLE = [1, 2, 3, 4, 5, 4, 3, 2, 1, 2, 3]
TRIANGLE2 = [1, 2, 3, 4, 5, 4, 3, 2, 1, 1.5, 2.0, 2.5, 3.0, 2.5, 2.0, 1.5, 1, 1.25, 1.50, 1.75, 2.00, 1.75]
EXP_XS = [0, 0.25, 0.5, 0.75, 1, 0.75, 0.50, 0.25, 0, 0.25, 0.5, 0.75, 1]


def mirrored(lrs, base, peak):
    """PyTorch's momentum targets: the LR's wave mirrored, from ``peak`` down toward ``base``."""
    return [(peak + base - lr) / M for lr in lrs]


@pytest.mark.parametrize("name, mode, shift, lrs", [
    ("test_cycle_lr_triangular_mode_one_lr", "triangular", 0, TRIANGLE),
    ("test_cycle_lr_triangular2_mode_one_lr", "triangular2", 0, TRIANGLE2),
    ("test_cycle_lr_triangular_mode", "triangular", 1, TRIANGLE),
    ("test_cycle_lr_triangular2_mode", "triangular2", 2, TRIANGLE2),
], ids=lambda v: v if isinstance(v, str) and v.startswith("test") else "")
def test_cycle_lr_modes(name, mode, shift, lrs):
    # "_one_lr": one base_lr and max_lr for both groups; else a list, the second group shifted.
    lists = shift > 0
    base, peak = ([1, 1 + shift], [5, 5 + shift]) if lists else (1, 5)
    momenta = ([b / M for b in base], [p / M for p in peak]) if lists else (1 / M, 5 / M)
    reference, ours = cyclic(mode, base, peak, *momenta, up=4)
    lr_targets = [lrs, [x + shift for x in lrs]]
    momentum_targets = [mirrored(lrs, 1, 5), [m + shift / M for m in mirrored(lrs, 1, 5)]]
    assert not side_by_side(reference, ours, len(lrs), lr_targets, momentum_targets).mismatches()


@pytest.mark.parametrize("name, shift", [("test_cycle_lr_exp_range_mode_one_lr", 0),
                                         ("test_cycle_lr_exp_range_mode", 1)])
def test_cycle_lr_exp_range_mode(name, shift):
    (b1, m1), (b2, m2) = (1, 5), ((5, 12) if shift else (1, 5))
    lr_targets = [[b + x * (m - b) * 0.9**i for i, x in enumerate(EXP_XS)] for b, m in ((b1, m1), (b2, m2))]
    momentum_targets = [[(m - x * (m - b) * 0.9**i) / M for i, x in enumerate(EXP_XS)] for b, m in ((b1, m1), (b2, m2))]
    base, peak = ([b1, b2], [m1, m2]) if shift else (b1, m1)
    momenta = ([b1 / M, b2 / M], [m1 / M, m2 / M]) if shift else (b1 / M, m1 / M)
    reference, ours = cyclic("exp_range", base, peak, *momenta, up=4, gamma=0.9)
    assert not side_by_side(reference, ours, len(EXP_XS), lr_targets, momentum_targets).mismatches()


def test_cycle_lr_triangular_mode_one_lr_no_momentum():
    schedule = S.triangular(base_lr=1, max_lr=5, step_size_up=4)
    run = side_by_side(lambda o: CyclicLR(o, base_lr=1, max_lr=5, step_size_up=4, cycle_momentum=False),
                       lambda o: [S.to_lambda_lr(o, [schedule, schedule])], 11, [TRIANGLE, TRIANGLE])
    assert not run.mismatches()
    assert (run.ours_momentum == 0).all()  # SGD's default momentum, untouched


UP_DOWN_LRS = [1.0, 2.0, 3.0, 4.0, 5.0, 13 / 3, 11 / 3, 9 / 3, 7 / 3, 5 / 3, 1.0]
UP_DOWN_2 = [1.0, 3.0, 5.0, 13 / 3, 11 / 3, 9 / 3, 7 / 3, 5 / 3, 1.0, 2.0, 3.0, 8 / 3, 7 / 3, 6 / 3, 5 / 3, 4 / 3,
             1.0, 3 / 2, 2.0, 11 / 6, 10 / 6, 9 / 6, 8 / 6, 7 / 6]
UP_DOWN_XS = [0.0, 0.5, 1.0, 5 / 6, 4 / 6, 3 / 6, 2 / 6, 1 / 6, 0.0, 0.5, 1.0, 5 / 6, 4 / 6]


def test_cycle_lr_triangular_mode_step_size_up_down():
    reference, ours = cyclic("triangular", 1, 5, 1 / M, 5 / M, up=4, down=6)
    assert not side_by_side(reference, ours, 11, [UP_DOWN_LRS] * 2, [mirrored(UP_DOWN_LRS, 1, 5)] * 2).mismatches()


def test_cycle_lr_triangular2_mode_step_size_up_down():
    reference, ours = cyclic("triangular2", [1, 3], [5, 7], [1 / M, 3 / M], [5 / M, 7 / M], up=2, down=6)
    lr_targets = [UP_DOWN_2, [x + 2 for x in UP_DOWN_2]]
    momentum_targets = [mirrored(UP_DOWN_2, 1, 5), [m + 2 / M for m in mirrored(UP_DOWN_2, 1, 5)]]
    assert not side_by_side(reference, ours, len(UP_DOWN_2), lr_targets, momentum_targets).mismatches()


def test_cycle_lr_exp_range_mode_step_size_up_down():
    reference, ours = cyclic("exp_range", 1, 5, 1 / M, 5 / M, up=2, down=6, gamma=0.9)
    lrs = [1 + x * 4 * 0.9**i for i, x in enumerate(UP_DOWN_XS)]
    assert not side_by_side(reference, ours, len(lrs), [lrs] * 2, [mirrored(lrs, 1, 5)] * 2).mismatches()


def test_cycle_lr_with_momentumless_optimizer():
    # Adam without cycle_momentum: its betas stay as they are.
    schedule = S.triangular(base_lr=1, max_lr=5, step_size=4)
    run = side_by_side(lambda o: CyclicLR(o, base_lr=1, max_lr=5, step_size_up=4, cycle_momentum=False),
                       lambda o: [S.to_lambda_lr(o, [schedule] * 2)], 11, [TRIANGLE] * 2, optimizer=Adam)
    assert not run.mismatches()
    assert (run.ours_momentum == 0.9).all()


def test_cycle_lr_cycle_momentum_fail_with_momentumless_optimizer():
    with pytest.raises(ValueError):
        CyclicLR(Rprop([torch.nn.Parameter(torch.zeros(1))]), base_lr=1, max_lr=5, cycle_momentum=True)
    with pytest.raises(ValueError, match="momentum or betas"):
        S.MomentumScheduler(Rprop([torch.nn.Parameter(torch.zeros(1))]),
                            S.triangular(base_lr=1, max_lr=5, step_size=2000).momentum)


def test_cycle_lr_cycle_momentum_with_beta1_optimizer():
    schedule = S.triangular(base_lr=1, max_lr=5, step_size_up=2000)
    run = side_by_side(lambda o: CyclicLR(o, base_lr=1, max_lr=5), with_momentum(schedule), 50, optimizer=Adam)
    assert not run.mismatches()


def test_cycle_lr_state_dict_picklable():
    schedule = S.exp_range(base_lr=1, max_lr=5, step_size=10, gamma=0.99)
    scheduler = S.to_lambda_lr(Adam([torch.nn.Parameter(torch.zeros(1))]), schedule)
    state = pickle.loads(pickle.dumps(scheduler.state_dict()))
    assert state["lr_lambdas"][0]["schedule"] == schedule
    assert pickle.loads(pickle.dumps(schedule.momentum)) == schedule.momentum


def test_cycle_lr_scale_fn_restored_from_state_dict():
    # PyTorch restores the mode from the state dict; here, the whole schedule comes back.
    optimizer = Adam([torch.nn.Parameter(torch.zeros(1))])
    scheduler = S.to_lambda_lr(optimizer, S.triangular2(base_lr=1, max_lr=5, step_size=4))
    restored = S.to_lambda_lr(optimizer, S.triangular(base_lr=1, max_lr=5, step_size=4))
    restored.load_state_dict(scheduler.state_dict())
    assert isinstance(restored.lr_lambdas[0].schedule, S.Triangular2)
    assert restored.lr_lambdas[0] == scheduler.lr_lambdas[0] and restored.lr_lambdas[0].schedule(12) == 3.0  # halved


def test_cosine_then_cyclic():
    # https://github.com/pytorch/pytorch/issues/21965: the cycle never overshoots max_lr after a cosine.
    lrs = []
    triangle = S.triangular(base_lr=0.1, max_lr=0.3, step_size_up=1, step_size_down=3)
    for second in (lambda o: CyclicLR(o, base_lr=0.1, max_lr=0.3, step_size_up=1, step_size_down=3),
                   lambda o: S.to_lambda_lr(o, triangle)):
        optimizer = SGD(torch.nn.Linear(2, 1).parameters(), lr=0.5)
        first, then = CosineAnnealingLR(optimizer, T_max=20, eta_min=0.1), second(optimizer)
        seen = []
        for i in range(40):
            optimizer.step()
            (first if i <= first.T_max else then).step()
            seen.append(optimizer.param_groups[0]["lr"])
        lrs.append(seen)
    assert max(lrs[0][21:]) <= 0.3 and max(lrs[1][21:]) <= 0.3
    # Ours sets the schedule's absolute LR whatever the cosine left behind.
    assert lrs[1][21:] == pytest.approx([triangle(i - 20) for i in range(21, 40)], rel=1e-12)


@pytest.mark.parametrize("name", ["test_constant_initial_params_cyclelr", "test_constant_initial_params_onecyclelr"])
def test_constant_initial_params(name):
    # PyTorch's schedulers copy the tensors they are given; a schedule holds plain floats.
    lr = torch.as_tensor(0.1)
    optimizer = SGD([torch.nn.Parameter(torch.randn(1))], lr=lr, momentum=0.9)
    schedule = (S.triangular(base_lr=0.1, max_lr=0.2, step_size_up=2000) if "cyclelr" in name
                else S.one_cycle(max_lr=0.1, total_steps=10))
    before = copy.deepcopy(schedule)
    schedulers = [S.to_lambda_lr(optimizer, schedule), S.MomentumScheduler(optimizer, schedule.momentum)]
    for step in range(1, 3):
        lr.multiply_(0.5)
        optimizer.step()
        for scheduler in schedulers:
            scheduler.step()
        assert optimizer.param_groups[0]["initial_lr"] == 0.1 and schedulers[0].base_lrs == [0.1]
        assert schedule == before
        assert optimizer.param_groups[0]["lr"] == pytest.approx(schedule(step), rel=1e-6)
        assert optimizer.param_groups[0]["momentum"] == schedule.momentum(step)


# --- OneCycleLR ------------------------------------------------------------------------------

@pytest.mark.parametrize("name, kwargs, parameter", [
    ("test_onecycle_lr_invalid_anneal_strategy", dict(total_steps=10, anneal="CATS"), "anneal"),
    ("test_onecycle_lr_invalid_pct_start", dict(total_steps=10, pct_start=1.1), "pct_start"),
    ("test_onecycle_lr_cannot_calculate_total_steps", {}, "total_steps"),
])
def test_onecycle_lr_invalid(name, kwargs, parameter):
    torch_kwargs = {("anneal_strategy" if k == "anneal" else k): v for k, v in kwargs.items()}
    with pytest.raises(ValueError):
        OneCycleLR(fixture_optimizer(), max_lr=1e-3, **torch_kwargs)
    with pytest.raises(ValueError, match=parameter):
        S.one_cycle(max_lr=1e-3, **kwargs)


def annealing_cos(start, end, pct):
    return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)


ONE_CYCLES = {
    "test_onecycle_lr_linear_annealing": (
        dict(max_lr=25, final_div_factor=2, total_steps=10, anneal="linear"),
        [1, 13, 25, 21.5, 18, 14.5, 11, 7.5, 4, 0.5], [22, 11.5, 1, 4, 7, 10, 13, 16, 19, 22]),
    "test_onecycle_lr_linear_annealing_three_phases": (
        dict(max_lr=25, div_factor=25, total_steps=10, anneal="linear", pct_start=0.4, final_div_factor=4,
             three_phase=True),
        [1, 9, 17, 25, 17, 9, 1, 0.75, 0.5, 0.25], [22, 15, 8, 1, 8, 15, 22, 22, 22, 22]),
    "test_onecycle_lr_cosine_annealing": (
        dict(max_lr=25, final_div_factor=2, total_steps=10),
        [1, 13, 25] + [annealing_cos(25, 0.5, i / 7) for i in range(1, 7)] + [0.5],
        [22, 11.5, 1] + [annealing_cos(1, 22, i / 7) for i in range(1, 7)] + [22]),
    "test_cycle_lr_with_adam": (
        dict(max_lr=25, final_div_factor=2, total_steps=10, anneal="linear"),
        [1, 13, 25, 21.5, 18, 14.5, 11, 7.5, 4, 0.5], [22, 11.5, 1, 4, 7, 10, 13, 16, 19, 22]),
}


@pytest.mark.parametrize("name", ONE_CYCLES)
def test_onecycle_lr(name):
    kwargs, lrs, momenta = ONE_CYCLES[name]
    kwargs = dict(kwargs, base_momentum=1 / M, max_momentum=22 / M)
    torch_kwargs = {("anneal_strategy" if k == "anneal" else k): v for k, v in kwargs.items()}
    run = side_by_side(lambda o: OneCycleLR(o, **torch_kwargs), with_momentum(S.one_cycle(**kwargs)), 10,
                       [lrs] * 2, [[m / M for m in momenta]] * 2, optimizer=Adam if "adam" in name else SGD)
    assert not run.mismatches()


def test_onecycle_lr_epochs_and_steps_per_epoch():
    # Not a test of PyTorch's file: OneCycleLR's other way to give the length, which lrcourse takes too.
    schedule = S.one_cycle(max_lr=0.1, epochs=3, steps_per_epoch=7)
    assert schedule == S.one_cycle(max_lr=0.1, total_steps=21) and schedule.total_steps == 21
    run = side_by_side(lambda o: OneCycleLR(o, max_lr=0.1, epochs=3, steps_per_epoch=7), with_momentum(schedule), 21,
                       momentum=0.9)
    assert not run.mismatches()


# --- CosineAnnealingWarmRestarts -------------------------------------------------------------

@pytest.mark.parametrize("T_mult", [1, 2, 4])
def test_CosineAnnealingWarmRestarts_lr1(T_mult):
    eta_min, T_i, T_cur, targets = 1e-10, 10, 0, [[0.05], [0.5]]
    for _ in range(1, 100):
        T_cur += 1
        if T_cur >= T_i:
            T_cur, T_i = T_cur - T_i, T_mult * T_i
        for target, lr in zip(targets, (0.05, 0.5)):
            target.append(eta_min + (lr - eta_min) * (1 + math.cos(math.pi * T_cur / T_i)) / 2)
    # eta_min is one absolute LR for both groups in PyTorch: one schedule per group here.
    ours = per_group(*(S.cosine_restarts(base_lr=lr, T_0=10, T_mult=T_mult, eta_min=eta_min) for lr in (0.05, 0.5)))
    run = side_by_side(lambda o: CosineAnnealingWarmRestarts(o, T_0=10, T_mult=T_mult, eta_min=eta_min), ours, 100,
                       targets)
    assert not run.mismatches()


@pytest.mark.parametrize("T_mult, epochs, T_curs, T_is", [
    (1, [0, 1, 2, 3, 4, 5, 12, 27, 3, 4, 5, 6, 13], [1, 2, 3, 4, 5, 2, 7, 3, 4, 5, 6, 3], [10] * 12),
    (2, [0, 1, 2, 3, 4, 5, 25, 32, 33, 34, 80, 81, 3], [1, 2, 3, 4, 5, 15, 2, 3, 4, 10, 11, 3],
     [10, 10, 10, 10, 10, 20, 40, 40, 40, 80, 80, 10]),
])
def test_CosineAnnealingWarmRestarts_lr3(T_mult, epochs, T_curs, T_is):
    # PyTorch's interleaved step(epoch) calls; its T_mult=3 case steps fractional epochs,
    # which have no counterpart here. Our schedule is called at each epoch PyTorch jumps to.
    eta_min = 1e-10
    optimizer = fixture_optimizer()
    reference = CosineAnnealingWarmRestarts(optimizer, T_0=10, T_mult=T_mult, eta_min=eta_min)
    schedule = S.cosine_restarts(base_lr=0.05, T_0=10, T_mult=T_mult, eta_min=eta_min)
    targets = [eta_min + (0.05 - eta_min) * (1 + math.cos(math.pi * c / i)) / 2 for c, i in zip(T_curs, T_is)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # step(epoch) is deprecated
        for epoch, target in zip(epochs, [0.05] + targets):
            reference.step(epoch)
            assert schedule(epoch) == pytest.approx(optimizer.param_groups[0]["lr"], rel=1e-9)
            assert schedule(epoch) == pytest.approx(target, abs=1e-5)


def test_cycle_momentum_through_a_training_loop_matches_pytorch():
    # Not in PyTorch's file: a whole loop with both schedulers, the triangular policy, SGD with momentum.
    schedule = S.triangular(base_lr=0.001, max_lr=0.006, step_size_up=5, step_size_down=15)
    optimizers = [SGD(torch.nn.Linear(2, 1).parameters(), lr=0.1, momentum=0.9) for _ in range(2)]
    theirs = trace(optimizers[0], [CyclicLR(optimizers[0], 0.001, 0.006, step_size_up=5, step_size_down=15)], 80)
    ours = trace(optimizers[1], [S.to_lambda_lr(optimizers[1], schedule),
                                 S.MomentumScheduler(optimizers[1], schedule.momentum)], 80)
    for got, expected in zip(ours, theirs):
        np.testing.assert_allclose(got, expected, rtol=1e-9)
