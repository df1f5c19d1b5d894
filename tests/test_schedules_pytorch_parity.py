"""PyTorch's own LR-scheduler tests, ported to lrcourse's schedules: the decays, warm-up,
LambdaLR, state dicts and checkpoints (the cyclical ones are in ..._cyclical.py).

Each test carries the name of the test in pytorch/pytorch's test/optim/test_lrscheduler.py it
ports, keeps its set-up and its hand-written targets, and runs PyTorch's scheduler beside ours
step by step as the reference: ours must give PyTorch's LR (and momentum) at every step, to a
relative 1e-9, and PyTorch's targets to its own tolerance (1e-5). PyTorch's fixture is an SGD
optimizer with two param groups, LRs 0.05 and 0.5. Where lrcourse differs on purpose, the test
says so: momenta run 1..22 in PyTorch's cyclic tests and are divided by ``M = 25`` here
(lrcourse refuses a momentum >= 1), in the reference too; fractional epochs (``step(0.1)``)
have no counterpart, since lrcourse's steps are whole.

Not ported, because lrcourse mirrors none of them: ChainedScheduler, ConstantLR,
MultiplicativeLR, ReduceLROnPlateau (see lrcourse.plateau), SWALR, SequentialLR other than a
warm-up, custom ``scale_fn``, and the deprecated ``scheduler.step(epoch)`` constant-epoch tests.
"""

import io
import math
import pickle
import warnings

import numpy as np
import pytest
import torch
from scheduler_reference import closed_form, fixture_optimizer, lr_only, per_group, side_by_side, tenfold, trace
from torch.optim import SGD, AdamW
from torch.optim.lr_scheduler import (CosineAnnealingLR, CosineAnnealingWarmRestarts, CyclicLR, ExponentialLR,
                                      LambdaLR, LinearLR, MultiStepLR, OneCycleLR, PolynomialLR, StepLR)

import lrcourse.schedules as S


def _pytorch_resumes_exactly() -> bool:
    """PyTorch's own fix of pytorch/pytorch#102261: ExponentialLR built with last_epoch=0 after a checkpoint."""
    optimizer = SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    scheduler = ExponentialLR(optimizer, gamma=0.5)
    optimizer.step()
    scheduler.step()
    ExponentialLR(optimizer, gamma=0.5, last_epoch=0)
    return optimizer.param_groups[0]["lr"] == 0.5


def _pytorch_copies_tensor_lrs() -> bool:
    optimizer = SGD([torch.nn.Parameter(torch.zeros(1))], lr=torch.tensor(0.1))
    scheduler = ExponentialLR(optimizer, gamma=0.5)
    return scheduler.base_lrs[0] is not optimizer.param_groups[0]["initial_lr"]


# Behaviours that differ between the PyTorch versions the course supports (Binder's pin and the newest).
PYTORCH_RESUMES_EXACTLY = _pytorch_resumes_exactly()
PYTORCH_COPIES_TENSOR_LRS = _pytorch_copies_tensor_lrs()


# --- StepLR, MultiStepLR, ExponentialLR, PolynomialLR, CosineAnnealingLR ---------------------

def test_step_lr():
    targets = tenfold([0.05] * 3 + [0.005] * 3 + [0.0005] * 3 + [0.00005])
    run = side_by_side(lambda o: StepLR(o, gamma=0.1, step_size=3),
                       lr_only(S.step_decay(base_lr=0.05, step_size=3, gamma=0.1)), 10, targets)
    assert not run.mismatches()


@pytest.mark.parametrize("name, make_reference, schedule, single", [
    ("test_get_last_lr_step_lr", lambda o: StepLR(o, 3, gamma=0.1), S.step_decay(base_lr=0.1, step_size=3),
     [0.1] * 3 + [0.01] * 3 + [0.001] * 3 + [0.0001]),
    ("test_get_last_lr_multi_step_lr", lambda o: MultiStepLR(o, gamma=0.1, milestones=[2, 5, 9]),
     S.multistep(base_lr=0.1, milestones=[2, 5, 9]), [0.1] * 2 + [0.01] * 3 + [0.001] * 4 + [0.0001]),
    ("test_get_last_lr_linearlr", lambda o: LinearLR(o, start_factor=1 / 4, end_factor=3 / 5, total_iters=4),
     S.linear_warmup(warmup_steps=4, then=S.constant(base_lr=0.1 * 3 / 5), start_factor=(1 / 4) / (3 / 5)),
     [0.1 * (1 / 4 + i * (3 / 5 - 1 / 4) / 4) for i in range(4)] + [0.1 * 3 / 5] * 6),
], ids=lambda v: v if isinstance(v, str) else "")
def test_get_last_lr(name, make_reference, schedule, single):
    theirs_opt, ours_opt = (SGD([torch.nn.Parameter(torch.zeros(1))], 0.1) for _ in range(2))
    theirs, ours = make_reference(theirs_opt), S.to_lambda_lr(ours_opt, schedule)
    for target in single:
        assert ours.get_last_lr() == pytest.approx(theirs.get_last_lr(), rel=1e-9)
        assert ours.get_last_lr() == pytest.approx([target], abs=1e-5)
        for optimizer, scheduler in ((theirs_opt, theirs), (ours_opt, ours)):
            optimizer.step()
            scheduler.step()


def test_multi_step_lr():
    targets = tenfold([0.05] * 2 + [0.005] * 3 + [0.0005] * 4 + [0.00005])
    run = side_by_side(lambda o: MultiStepLR(o, gamma=0.1, milestones=[2, 5, 9]),
                       lr_only(S.multistep(base_lr=0.05, milestones=[2, 5, 9], gamma=0.1)), 10, targets)
    assert not run.mismatches()


@pytest.mark.parametrize("name, make_reference, schedule, single", [
    ("test_multi_step_lr_with_epoch", lambda o: MultiStepLR(o, gamma=0.1, milestones=[2, 5, 9]),
     S.multistep(base_lr=0.05, milestones=[2, 5, 9]), [0.05] * 2 + [0.005] * 3 + [0.0005] * 4 + [0.00005]),
    ("test_linearlr_with_epoch", lambda o: LinearLR(o, start_factor=0.5, total_iters=4),
     S.linear_warmup(warmup_steps=4, then=S.constant(base_lr=0.05), start_factor=0.5),
     [0.05 * (0.5 + i * 0.5 / 4) for i in range(4)] + [0.05] * 6),
], ids=lambda v: v if isinstance(v, str) else "")
def test_with_epoch(name, make_reference, schedule, single):
    # PyTorch jumps to an epoch with step(epoch); a schedule is called with the step.
    np.testing.assert_allclose(S.sample(schedule, 10), closed_form(make_reference, 10), rtol=1e-9)
    np.testing.assert_allclose(S.sample(schedule, 10), single, atol=1e-5)


def test_exp_lr():
    run = side_by_side(lambda o: ExponentialLR(o, gamma=0.9), lr_only(S.exponential(base_lr=0.05, gamma=0.9)), 10,
                       tenfold([0.05 * 0.9**x for x in range(10)]))
    assert not run.mismatches()


def test_poly_lr():
    single = [(1.0 - x / 5) ** 0.9 * 0.05 for x in range(5)] + [0.0] * 5
    run = side_by_side(lambda o: PolynomialLR(o, power=0.9, total_iters=5),
                       lr_only(S.polynomial(base_lr=0.05, total_steps=5, power=0.9)), 10, tenfold(single))
    assert not run.mismatches()


def test_cos_anneal_lr():
    eta_min = 1e-10
    # eta_min is one absolute LR for every group in PyTorch: one schedule per group.
    targets = [[eta_min + (lr - eta_min) * (1 + math.cos(math.pi * x / 10)) / 2 for x in range(10)]
               for lr in (0.05, 0.5)]
    run = side_by_side(lambda o: CosineAnnealingLR(o, T_max=10, eta_min=eta_min),
                       per_group(*(S.cosine(base_lr=lr, total_steps=10, eta_min=eta_min) for lr in (0.05, 0.5))),
                       10, targets)
    assert not run.mismatches()


CLOSED_FORMS = {
    "test_closed_form_step_lr": (lambda o: StepLR(o, gamma=0.1, step_size=3),
                                 S.step_decay(base_lr=0.05, step_size=3, gamma=0.1)),
    "test_closed_form_linearlr": (lambda o: LinearLR(o, start_factor=1 / 3, end_factor=0.7, total_iters=4),
                                  S.linear_warmup(warmup_steps=4, then=S.constant(base_lr=0.05 * 0.7),
                                                  start_factor=(1 / 3) / 0.7)),
    "test_closed_form_multi_step_lr": (lambda o: MultiStepLR(o, gamma=0.1, milestones=[2, 5, 9]),
                                       S.multistep(base_lr=0.05, milestones=[2, 5, 9], gamma=0.1)),
    "test_closed_form_exp_lr": (lambda o: ExponentialLR(o, gamma=0.9), S.exponential(base_lr=0.05, gamma=0.9)),
    "test_closed_form_poly_lr": (lambda o: PolynomialLR(o, power=0.9), S.polynomial(base_lr=0.05, total_steps=5,
                                                                                     power=0.9)),
    "test_closed_form_cos_anneal_lr": (lambda o: CosineAnnealingLR(o, T_max=5, eta_min=1e-10),
                                       S.cosine(base_lr=0.05, total_steps=5, eta_min=1e-10)),
}


@pytest.mark.parametrize("name", CLOSED_FORMS)
def test_closed_form(name):
    make_reference, schedule = CLOSED_FORMS[name]
    optimizer = fixture_optimizer()
    recursive, _ = trace(optimizer, [make_reference(optimizer)], 20)
    np.testing.assert_allclose(S.sample(schedule, 20), recursive[:, 0], rtol=1e-9, atol=1e-15)
    np.testing.assert_allclose(S.sample(schedule, 20), closed_form(make_reference, 20), rtol=1e-9, atol=1e-15)


def test_cos_anneal_lr_continue():
    # PyTorch's test anneals to eta_min=0.1, above the LR of 0.05; lrcourse refuses a cosine that
    # rises (a warm-up is linear_warmup's job), so eta_min is 0.01 here.
    with pytest.raises(ValueError, match="eta_min"):
        S.cosine(base_lr=0.05, total_steps=5, eta_min=0.1)
    theirs_opt, ours_opt = fixture_optimizer(lrs=(0.05,)), fixture_optimizer(lrs=(0.05,))
    schedule = S.cosine(base_lr=0.05, total_steps=5, eta_min=0.01)
    theirs, ours = CosineAnnealingLR(theirs_opt, T_max=5, eta_min=0.01), S.to_lambda_lr(ours_opt, schedule)
    for optimizer, scheduler in ((theirs_opt, theirs), (ours_opt, ours)):
        optimizer.step()
        scheduler.step()
    resumed_theirs = CosineAnnealingLR(theirs_opt, T_max=5, eta_min=0.01, last_epoch=0)
    resumed_ours = S.to_lambda_lr(ours_opt, schedule, last_step=1)  # PyTorch's last_epoch + 1
    assert resumed_ours.get_last_lr() == pytest.approx(ours.get_last_lr(), rel=1e-12)
    assert resumed_ours.get_last_lr() == pytest.approx(resumed_theirs.get_last_lr(), rel=1e-9)


# --- LinearLR (a warm-up), LambdaLR ---------------------------------------------------------

def test_linearlr():
    single = [0.05 * (0.5 + i * 0.5 / 4) for i in range(4)] + [0.05] * 6
    run = side_by_side(lambda o: LinearLR(o, start_factor=0.5, total_iters=4),
                       lr_only(S.linear_warmup(warmup_steps=4, then=S.constant(base_lr=0.05), start_factor=0.5)), 10,
                       tenfold(single))
    assert not run.mismatches()


@pytest.mark.parametrize("name, start_factor", [("test_linearlr_start_factor_limits1", 0.0),
                                                ("test_linearlr_start_factor_limits2", 1.1)])
def test_linearlr_start_factor_limits(name, start_factor):
    with pytest.raises(ValueError):
        LinearLR(fixture_optimizer(), start_factor=start_factor, total_iters=4)
    with pytest.raises(ValueError, match="start_factor"):
        S.linear_warmup(warmup_steps=4, then=S.constant(base_lr=0.05), start_factor=start_factor)


def test_lambda_lr():
    targets = [[0.05 * 0.9**x for x in range(10)], [0.4 * 0.8**x for x in range(10)]]
    run = side_by_side(lambda o: LambdaLR(o, lr_lambda=[lambda x1: 0.9**x1, lambda x2: 0.8**x2]),
                       per_group(S.exponential(base_lr=0.05, gamma=0.9), S.exponential(base_lr=0.4, gamma=0.8)),
                       10, targets, lrs=(0.05, 0.4))
    assert not run.mismatches()


@pytest.mark.parametrize("name", ["test_lambda_lr_state_dict_fn", "test_lambda_lr_state_dict_obj"])
def test_lambda_lr_state_dict(name):
    # A plain lambda is not saved (PyTorch's _fn test); a schedule is, as PyTorch's _obj test's callable.
    scheduler = S.to_lambda_lr(fixture_optimizer(), S.exponential(base_lr=0.05, gamma=0.9))
    state = scheduler.state_dict()
    assert state["lr_lambdas"][0] == {"schedule": S.exponential(base_lr=0.05, gamma=0.9), "reference_lr": 0.05}
    copy = S.to_lambda_lr(fixture_optimizer(), S.constant(base_lr=1.0))
    copy.load_state_dict(pickle.loads(pickle.dumps(state)))
    for key in scheduler.__dict__:
        if key not in ("optimizer", "lr_lambdas"):
            assert scheduler.__dict__[key] == copy.__dict__[key]
    assert copy.lr_lambdas[0] == scheduler.lr_lambdas[0]


# --- state dicts and checkpoints ------------------------------------------------------------

STATE_DICTS = {
    "test_step_lr_state_dict": (S.step_decay(base_lr=0.05, step_size=3, gamma=0.1),
                                S.step_decay(base_lr=0.05, step_size=1, gamma=0.005)),
    "test_multi_step_lr_state_dict": (S.multistep(base_lr=0.05, milestones=[2, 5, 9]),
                                      S.multistep(base_lr=0.05, milestones=[1, 4, 6], gamma=0.01)),
    "test_exp_step_lr_state_dict": (S.exponential(base_lr=0.05, gamma=0.1), S.exponential(base_lr=0.05, gamma=0.01)),
    "test_cosine_lr_state_dict": (S.cosine(base_lr=0.05, total_steps=10, eta_min=1e-10),
                                  S.cosine(base_lr=0.05, total_steps=5, eta_min=5e-11)),
    "test_CosineAnnealingWarmRestarts_lr_state_dict": (S.cosine_restarts(base_lr=0.05, T_0=10, T_mult=2),
                                                       S.cosine_restarts(base_lr=0.05, T_0=100)),
}


@pytest.mark.parametrize("name", STATE_DICTS)
def test_scheduler_state_dict(name):
    first, second = STATE_DICTS[name]
    optimizer = fixture_optimizer()
    scheduler = S.to_lambda_lr(optimizer, first)
    for _ in range(10):
        optimizer.step()
        scheduler.step()
    copy = S.to_lambda_lr(fixture_optimizer(), second)
    copy.load_state_dict(scheduler.state_dict())
    for key in scheduler.__dict__:
        if key != "optimizer":
            assert scheduler.__dict__[key] == copy.__dict__[key]
    assert copy.get_last_lr() == scheduler.get_last_lr() == pytest.approx([first(10), 10 * first(10)], rel=1e-12)


# PyTorch's schedulers with the arguments of its state-dict and checkpoint tests, and ours for an
# optimizer whose LR is ``lr`` (AdamW's default 1e-3 in the checkpoint test).
def equivalents(lr):
    return {
        "ExponentialLR": (lambda o, **k: ExponentialLR(o, gamma=0.999, **k), S.exponential(base_lr=lr, gamma=0.999)),
        "StepLR": (lambda o, **k: StepLR(o, step_size=30, **k), S.step_decay(base_lr=lr, step_size=30)),
        "MultiStepLR": (lambda o, **k: MultiStepLR(o, milestones=[30, 80], **k),
                        S.multistep(base_lr=lr, milestones=[30, 80])),
        "LinearLR": (lambda o, **k: LinearLR(o, **k),
                     S.linear_warmup(warmup_steps=5, then=S.constant(base_lr=lr), start_factor=1 / 3)),
        "PolynomialLR": (lambda o, **k: PolynomialLR(o, **k), S.polynomial(base_lr=lr, total_steps=5)),
        "CosineAnnealingLR": (lambda o, **k: CosineAnnealingLR(o, T_max=10, **k),
                              S.cosine(base_lr=lr, total_steps=10)),
        "CosineAnnealingWarmRestarts": (lambda o, **k: CosineAnnealingWarmRestarts(o, T_0=20, **k),
                                        S.cosine_restarts(base_lr=lr, T_0=20)),
        "CyclicLR": (lambda o, **k: CyclicLR(o, base_lr=0.01, max_lr=0.1, **k),
                     S.triangular(base_lr=0.01, max_lr=0.1, step_size_up=2000)),
        "OneCycleLR": (lambda o, **k: OneCycleLR(o, max_lr=0.01, total_steps=10, anneal_strategy="linear", **k),
                       S.one_cycle(max_lr=0.01, total_steps=10, anneal="linear")),
    }


@pytest.mark.parametrize("weights_only", [True, False])
@pytest.mark.parametrize("name", list(equivalents(0.05)))
def test_lr_scheduler_state_dict_load(name, weights_only):
    schedule = equivalents(0.05)[name][1]
    state = S.to_lambda_lr(fixture_optimizer(), schedule).state_dict()
    buffer = io.BytesIO()
    torch.save(state, buffer)
    buffer.seek(0)
    with torch.serialization.safe_globals(list(S.SAFE_GLOBALS)):
        loaded = torch.load(buffer, weights_only=weights_only)
    assert loaded == state
    again = S.to_lambda_lr(fixture_optimizer(), S.constant(base_lr=1.0))
    again.load_state_dict(loaded)
    assert again.state_dict() == state


@pytest.mark.parametrize("name", list(equivalents(1e-3)))
def test_lr_scheduler_checkpoint(name):
    make_reference, schedule = equivalents(1e-3)[name]
    model = torch.nn.Linear(3, 3)
    cycles = hasattr(schedule, "momentum")  # PyTorch's CyclicLR and OneCycleLR cycle beta1 by default
    results = []
    for reference, build in ((True, lambda o, **k: [make_reference(o, **k)]),
                             (False, lambda o, last_epoch=-1: [S.to_lambda_lr(o, schedule, last_step=last_epoch + 1)]
                              + ([S.MomentumScheduler(o, schedule.momentum, last_step=last_epoch + 1)] if cycles
                                 else []))):
        optimizer = AdamW(model.parameters())
        schedulers = build(optimizer)
        optimizer.step()
        for scheduler in schedulers:
            scheduler.step()
        resumed = AdamW(model.parameters())
        resumed.load_state_dict(optimizer.state_dict())
        build(resumed, last_epoch=0)
        group, before = resumed.param_groups[0], optimizer.param_groups[0]
        # Older PyTorch steps some schedulers once more when built with last_epoch >= 0
        # (pytorch/pytorch#102261); lrcourse's schedules resume exactly on every version.
        if not reference or PYTORCH_RESUMES_EXACTLY:
            assert (group["lr"], group["betas"]) == (before["lr"], before["betas"])
        results.append((before["lr"], before["betas"][0]))
    assert results[1] == pytest.approx(results[0], rel=1e-9)


def test_raise_error_when_last_epoch_is_greater_than_0_and_initial_lr_is_not_specified():
    # PyTorch cannot resume a fresh optimizer (KeyError: it scales 'initial_lr'); an
    # absolute schedule can, so lrcourse resumes it at the schedule's LR instead.
    with pytest.raises(KeyError, match="initial_lr"):
        StepLR(SGD([torch.nn.Parameter(torch.zeros(2, 2))], 0.1), step_size=3, gamma=0.1, last_epoch=1)
    optimizer = SGD([torch.nn.Parameter(torch.zeros(2, 2))], 0.1)
    S.to_lambda_lr(optimizer, S.step_decay(base_lr=0.1, step_size=3), last_step=3)
    assert optimizer.param_groups[0]["lr"] == 0.01 and optimizer.param_groups[0]["initial_lr"] == 0.1


@pytest.mark.parametrize("name", ["StepLR", "MultiStepLR", "LinearLR", "ExponentialLR", "PolynomialLR",
                                  "CosineAnnealingLR", "CosineAnnealingWarmRestarts"])
def test_constant_initial_lr(name):
    schedule = equivalents(0.1)[name][1]
    lr = torch.as_tensor(0.1)
    optimizer = SGD([torch.nn.Parameter(torch.randn(1))], lr=lr)
    scheduler = S.to_lambda_lr(optimizer, schedule)
    for step in range(1, 3):
        optimizer.step()
        scheduler.step()
        group = optimizer.param_groups[0]
        assert float(group["lr"]) == pytest.approx(schedule(step), rel=1e-6)  # the LR the next step uses
        lr.multiply_(0.1)  # the caller changes its tensor: the schedule's base must not move
        assert group["initial_lr"] == 0.1 and scheduler.base_lrs == [0.1]
        # Older PyTorch shares tensors between base_lrs and initial_lr, and get_last_lr returns the live one.
        if PYTORCH_COPIES_TENSOR_LRS:
            assert scheduler.base_lrs[0] is not group["initial_lr"]
            assert scheduler.get_last_lr()[0] == pytest.approx(schedule(step), rel=1e-6)


def old_pattern(optimizer, scheduler, steps=35):
    for _ in range(steps):
        scheduler.step()
        optimizer.step()


@pytest.mark.parametrize("name, last_step", [("test_old_pattern_warning", 0),
                                             ("test_old_pattern_warning_resuming", 11)])
def test_old_pattern_warning(name, last_step):
    optimizer = fixture_optimizer()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # building it warns of nothing
        scheduler = S.to_lambda_lr(optimizer, S.step_decay(base_lr=0.05, step_size=3), last_step=last_step)
    with pytest.warns(UserWarning, match="how-to-adjust-learning-rate"):
        old_pattern(optimizer, scheduler)


def test_new_pattern_no_warning():
    optimizer = fixture_optimizer()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        scheduler = S.to_lambda_lr(optimizer, S.step_decay(base_lr=0.05, step_size=3))
        for _ in range(35):
            optimizer.step()
            scheduler.step()
    assert optimizer.param_groups[0]["lr"] == pytest.approx(S.step_decay(base_lr=0.05, step_size=3)(35))
