"""Schedules across checkpoints and param groups: a run interrupted and resumed gets exactly
the LRs and momenta of one that was not; each group can follow its own schedule."""

import io

import pytest
import torch

import lrcourse.schedules as S

STEPS, INTERRUPT = 60, 23
SCHEDULES = {
    "triangular2-uneven": S.triangular2(base_lr=0.01, max_lr=0.1, step_size_up=4, step_size_down=12),
    "exp_range": S.exp_range(base_lr=0.01, max_lr=0.1, step_size=5, gamma=0.99),
    "one_cycle": S.one_cycle(max_lr=0.1, epochs=6, steps_per_epoch=10, three_phase=True),
    "warm-up + cosine": S.linear_warmup(warmup_steps=5, then=S.cosine(base_lr=0.1, total_steps=55)),
}


def make_model_and_optimizer(optimizer):
    torch.manual_seed(0)
    model = torch.nn.Linear(4, 2)
    head = torch.nn.Linear(2, 1)
    groups = [{"params": model.parameters()}, {"params": head.parameters(), "lr": 0.01}]
    kwargs = {"momentum": 0.9} if optimizer is torch.optim.SGD else {}
    return torch.nn.Sequential(model, head), optimizer(groups, lr=0.1, **kwargs)


def schedulers_for(optimizer, schedule, last_step=0):
    cycled = [S.MomentumScheduler(optimizer, schedule.momentum, last_step=last_step)] if hasattr(
        schedule, "momentum") else []
    return [S.to_lambda_lr(optimizer, schedule, last_step=last_step), *cycled]


def momentum_of(group):
    return group["betas"][0] if "betas" in group else group["momentum"]


def train(model, optimizer, schedulers, steps, seen):
    """``steps`` steps of a real training loop, recording every group's LR and momentum."""
    for _ in range(steps):
        seen.append([(group["lr"], momentum_of(group)) for group in optimizer.param_groups])
        x = torch.randn(8, 4)
        model(x).pow(2).mean().backward()
        optimizer.step()
        optimizer.zero_grad()
        for scheduler in schedulers:
            scheduler.step()


def checkpoint(model, optimizer, schedulers):
    buffer = io.BytesIO()
    torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "rng": torch.get_rng_state(),
                "schedulers": [scheduler.state_dict() for scheduler in schedulers]}, buffer)
    buffer.seek(0)
    with torch.serialization.safe_globals(list(S.SAFE_GLOBALS)):
        return torch.load(buffer)  # weights_only=True, torch's default


@pytest.mark.parametrize("optimizer", [torch.optim.SGD, torch.optim.Adam], ids=["SGD", "Adam"])
@pytest.mark.parametrize("how", ["state_dicts", "last_step"])
@pytest.mark.parametrize("name", SCHEDULES)
def test_a_resumed_run_gets_the_lrs_and_momenta_of_an_uninterrupted_one(name, how, optimizer):
    schedule = SCHEDULES[name]
    model, opt = make_model_and_optimizer(optimizer)
    uninterrupted = []
    train(model, opt, schedulers_for(opt, schedule), STEPS, uninterrupted)

    model, opt = make_model_and_optimizer(optimizer)
    interrupted = []
    schedulers = schedulers_for(opt, schedule)
    train(model, opt, schedulers, INTERRUPT, interrupted)
    saved = checkpoint(model, opt, schedulers)
    del model, opt, schedulers

    model, opt = make_model_and_optimizer(optimizer)  # a new process: everything rebuilt
    model.load_state_dict(saved["model"])
    torch.set_rng_state(saved["rng"])
    if how == "state_dicts":  # PyTorch's way: build, then load the optimizer's state and each scheduler's
        schedulers = schedulers_for(opt, schedule)
        opt.load_state_dict(saved["optimizer"])
        for scheduler, state in zip(schedulers, saved["schedulers"]):
            scheduler.load_state_dict(state)
    else:  # the optimizer's state, then the schedule started at the step reached
        opt.load_state_dict(saved["optimizer"])
        schedulers = schedulers_for(opt, schedule, last_step=saved["schedulers"][0]["last_epoch"])
    train(model, opt, schedulers, STEPS - INTERRUPT, interrupted)
    assert interrupted == uninterrupted  # exactly
    assert schedulers[0].last_epoch == STEPS


def test_pytorch_last_epoch_is_last_step_minus_one():
    schedule = SCHEDULES["one_cycle"]
    ours, theirs = (torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1, momentum=0.9) for _ in range(2))
    for group in theirs.param_groups:
        group["initial_lr"] = 0.1 / 25  # as a saved optimizer state would hold
        group["max_lr"], group["min_lr"] = 0.1, 0.1 / 25 / 1e4
        group["max_momentum"], group["base_momentum"] = 0.95, 0.85
    S.to_lambda_lr(ours, schedule, last_step=INTERRUPT)
    S.MomentumScheduler(ours, schedule.momentum, last_step=INTERRUPT)
    torch.optim.lr_scheduler.OneCycleLR(theirs, max_lr=0.1, total_steps=60, three_phase=True,
                                        last_epoch=INTERRUPT - 1)
    assert ours.param_groups[0]["lr"] == pytest.approx(theirs.param_groups[0]["lr"], rel=1e-9)
    assert ours.param_groups[0]["momentum"] == pytest.approx(theirs.param_groups[0]["momentum"], rel=1e-9)


def test_each_group_follows_its_own_schedule():
    backbone = S.one_cycle(max_lr=0.01, total_steps=40)
    head = S.one_cycle(max_lr=0.1, total_steps=40, base_momentum=0.8, max_momentum=0.9)
    _, optimizer = make_model_and_optimizer(torch.optim.SGD)
    schedulers = [S.to_lambda_lr(optimizer, [backbone, head]),
                  S.MomentumScheduler(optimizer, [backbone.momentum, head.momentum])]
    for step in range(41):
        (first, second) = optimizer.param_groups
        assert first["lr"] == pytest.approx(backbone(step), rel=1e-12)
        assert second["lr"] == pytest.approx(head(step), rel=1e-12)
        assert (first["momentum"], second["momentum"]) == (backbone.momentum(step), head.momentum(step))
        if step < 40:  # 40 optimizer steps; the last scheduler step sets step 40
            optimizer.step()
            for scheduler in schedulers:
                scheduler.step()


def test_one_schedule_keeps_the_other_groups_ratio_to_group_0():
    schedule = S.triangular(base_lr=0.01, max_lr=0.1, step_size=3)
    _, optimizer = make_model_and_optimizer(torch.optim.SGD)  # group 1 at a tenth of group 0
    scheduler = S.to_lambda_lr(optimizer, schedule)
    for step in range(12):
        assert [group["lr"] for group in optimizer.param_groups] == pytest.approx(
            [schedule(step), schedule(step) / 10], rel=1e-12)
        optimizer.step()
        scheduler.step()
