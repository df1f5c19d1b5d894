"""Helpers for the ported PyTorch scheduler tests: PyTorch's fixture optimizer, and running
PyTorch's scheduler beside ours step by step."""

import warnings

import numpy as np
import torch
from torch.optim import SGD

import lrcourse.schedules as S

M = 25  # PyTorch's cyclic tests' momenta (up to 22) divided by this, to lie in [0, 1)


def fixture_optimizer(optimizer=SGD, lrs=(0.05, 0.5), **kwargs):
    """PyTorch's ``self.opt``: two param groups, group 0 at the default LR."""
    groups = [{"params": [torch.nn.Parameter(torch.zeros(1))]}]
    groups += [{"params": [torch.nn.Parameter(torch.zeros(1))], "lr": lr} for lr in lrs[1:]]
    return optimizer(groups, lr=lrs[0], **kwargs)


def momentum_of(group):
    return group["betas"][0] if "betas" in group else group.get("momentum")


def trace(optimizer, schedulers, steps):
    """Every group's LR and momentum at steps 0 .. steps - 1, stepping as a training loop does."""
    lrs, momenta = [], []
    for _ in range(steps):
        lrs.append([float(group["lr"]) for group in optimizer.param_groups])
        momenta.append([momentum_of(group) for group in optimizer.param_groups])
        optimizer.step()
        for scheduler in schedulers:
            scheduler.step()
    return np.array(lrs, dtype=float), np.array(momenta, dtype=float)


def side_by_side(reference, ours, steps, lr_targets=None, momentum_targets=None, **optimizer_kwargs):
    """Run PyTorch's scheduler (``reference(optimizer)``) and ours (``ours(optimizer)``, a list
    of schedulers) on two fixture optimizers; ours must follow PyTorch's at every step."""
    theirs_opt, ours_opt = fixture_optimizer(**optimizer_kwargs), fixture_optimizer(**optimizer_kwargs)
    theirs_lr, theirs_m = trace(theirs_opt, [reference(theirs_opt)], steps)
    ours_lr, ours_m = trace(ours_opt, ours(ours_opt), steps)
    np.testing.assert_allclose(ours_lr, theirs_lr, rtol=1e-9, atol=1e-15)
    np.testing.assert_allclose(ours_m, theirs_m, rtol=1e-9, atol=1e-15)
    for got, targets in ((ours_lr, lr_targets), (ours_m, momentum_targets)):
        if targets is not None:
            np.testing.assert_allclose(got, np.array(targets, dtype=float).T, rtol=0, atol=1e-5)
    return ours_lr, ours_m


def lr_only(schedule):
    return lambda optimizer: [S.to_lambda_lr(optimizer, schedule)]


def per_group(*schedules, momentum=False):
    """Our schedulers for one schedule per group, and for the momentum of each if ``momentum``."""
    def build(optimizer):
        schedulers = [S.to_lambda_lr(optimizer, list(schedules))]
        if momentum:
            schedulers.append(S.MomentumScheduler(optimizer, [s.momentum for s in schedules]))
        return schedulers
    return build


def with_momentum(schedule):
    return lambda optimizer: [S.to_lambda_lr(optimizer, [schedule] * len(optimizer.param_groups)),
                              S.MomentumScheduler(optimizer, schedule.momentum)]


def closed_form(make_reference, steps):
    """PyTorch's closed form: ``scheduler.step(epoch)`` (deprecated) for each epoch."""
    optimizer = fixture_optimizer()
    scheduler = make_reference(optimizer)
    lrs = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for epoch in range(steps):
            optimizer.step()
            scheduler.step(epoch)
            lrs.append(optimizer.param_groups[0]["lr"])
    return np.array(lrs)


def tenfold(single):
    return [single, [x * 10 for x in single]]
