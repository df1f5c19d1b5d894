"""Helpers for the ported PyTorch scheduler tests: PyTorch's fixture optimizer, and running
PyTorch's scheduler beside ours step by step."""

import warnings

from dataclasses import dataclass

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


@dataclass
class SideBySide:
    """PyTorch's scheduler and ours traced on two fixture optimizers: per step (rows) and group
    (columns), the LRs and momenta of each, and the values they should take (or None)."""

    theirs_lr: np.ndarray
    theirs_momentum: np.ndarray
    ours_lr: np.ndarray
    ours_momentum: np.ndarray
    lr_targets: object = None
    momentum_targets: object = None

    def mismatches(self) -> list[str]:
        """What differs, in words; empty when ours follows PyTorch's and the targets at every step."""
        found = []
        for what, got, want, rtol, atol in (
                ("LR vs PyTorch", self.ours_lr, self.theirs_lr, 1e-9, 1e-15),
                ("momentum vs PyTorch", self.ours_momentum, self.theirs_momentum, 1e-9, 1e-15),
                ("LR vs targets", self.ours_lr, self.lr_targets, 0, 1e-5),
                ("momentum vs targets", self.ours_momentum, self.momentum_targets, 0, 1e-5)):
            if want is None:
                continue
            want = np.array(want, dtype=float)
            want = want.T if "targets" in what else want
            if got.shape != want.shape or not np.allclose(got, want, rtol=rtol, atol=atol):
                found.append(f"{what}: got {np.array2string(got, precision=6)}, "
                             f"want {np.array2string(want, precision=6)}")
        return found


def side_by_side(reference, ours, steps, lr_targets=None, momentum_targets=None, **optimizer_kwargs) -> SideBySide:
    """Run PyTorch's scheduler (``reference(optimizer)``) and ours (``ours(optimizer)``, a list
    of schedulers) on two fixture optimizers, ``steps`` steps each; ``.mismatches()`` says where
    ours does not follow PyTorch's (or the targets)."""
    theirs_opt, ours_opt = fixture_optimizer(**optimizer_kwargs), fixture_optimizer(**optimizer_kwargs)
    theirs_lr, theirs_m = trace(theirs_opt, [reference(theirs_opt)], steps)
    ours_lr, ours_m = trace(ours_opt, ours(ours_opt), steps)
    return SideBySide(theirs_lr, theirs_m, ours_lr, ours_m, lr_targets, momentum_targets)


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
