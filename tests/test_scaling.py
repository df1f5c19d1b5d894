"""scale_lr and gradual_warmup: the LR for a larger batch, and Goyal et al.'s warm-up to it."""

import math

import pytest
import torch

import lrcourse
import lrcourse.schedules as S


@pytest.mark.parametrize("base_lr, base_batch, batch, rule, expected", [
    (0.1, 256, 8192, "linear", 3.2),          # Goyal et al.'s ResNet-50
    (0.1, 256, 1024, "sqrt", 0.2),
    (0.1, 256, 64, "linear", 0.025),          # a smaller batch scales down
    (0.02, 32, 32, "sqrt", 0.02),
    (3e-4, 128, 512, "sqrt", 6e-4),
])
def test_scale_lr(base_lr, base_batch, batch, rule, expected):
    assert S.scale_lr(base_lr, base_batch, batch, rule) == pytest.approx(expected, rel=1e-12)
    assert lrcourse.scale_lr is S.scale_lr


@pytest.mark.parametrize("args, name", [
    ((0.0, 32, 64, "linear"), "base_lr"),
    ((math.nan, 32, 64, "linear"), "base_lr"),
    ((0.1, 0, 64, "linear"), "base_batch"),
    ((0.1, 32, 64.0, "linear"), "batch"),
    ((0.1, 32, True, "linear"), "batch"),
    ((0.1, 32, 64, "square"), "rule"),
])
def test_scale_lr_refuses_bad_arguments(args, name):
    with pytest.raises(ValueError, match=name):
        S.scale_lr(*args)


def test_gradual_warmup_rises_by_equal_steps_from_the_base_lr_to_the_scaled_one():
    schedule = S.gradual_warmup(0.1, 256, 8192, warmup_steps=5)
    assert [schedule(t) for t in range(8)] == pytest.approx([0.1, 0.72, 1.34, 1.96, 2.58, 3.2, 3.2, 3.2])
    # The first w steps are PyTorch's LinearLR from 1/k of the target.
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=3.2)
    linear = torch.optim.lr_scheduler.LinearLR(optimizer, start_factor=1 / 32, total_iters=5)
    torch_lrs = []
    for _ in range(5):
        torch_lrs.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        linear.step()
    assert [schedule(t) for t in range(5)] == pytest.approx(torch_lrs, rel=1e-12)


def test_gradual_warmup_leads_into_a_given_schedule_and_is_constant_without_a_larger_batch():
    scaled = S.scale_lr(0.02, 32, 512)
    then = S.cosine(base_lr=scaled, total_steps=100)
    schedule = S.gradual_warmup(0.02, 32, 512, warmup_steps=10, then=then)
    assert schedule(0) == pytest.approx(0.02) and schedule(10) == pytest.approx(scaled) and schedule(60) == then(50)
    flat = S.gradual_warmup(0.05, 64, 64, warmup_steps=4)
    assert {flat(t) for t in range(8)} == {0.05}
    smaller = S.gradual_warmup(0.05, 64, 32, warmup_steps=4)  # nothing to warm up to: constant at the scaled LR
    assert {smaller(t) for t in range(8)} == {0.025}


@pytest.mark.parametrize("kwargs, name", [
    (dict(warmup_steps=0), "warmup_steps"),
    (dict(rule="cube"), "rule"),
    (dict(then="cosine"), "then"),
    (dict(then=S.constant(base_lr=1.0)), "then must start at the scaled LR"),
])
def test_gradual_warmup_refuses_bad_arguments(kwargs, name):
    with pytest.raises(ValueError, match=name):
        S.gradual_warmup(**{"base_lr": 0.1, "base_batch": 32, "batch": 128, "warmup_steps": 5, **kwargs})
