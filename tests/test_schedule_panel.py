import numpy as np
import pytest
import torch
from torch.optim.lr_scheduler import (CosineAnnealingLR, CosineAnnealingWarmRestarts, CyclicLR, ExponentialLR,  # noqa: F401
                                      LambdaLR, LinearLR, OneCycleLR, PolynomialLR, SequentialLR, StepLR)

from lrcourse.widgets.schedules import FAMILIES, Knobs, pytorch_code, schedule_panel

KNOBS = Knobs(base_lr=0.01, max_lr=0.1, step_size=30, gamma=0.5, total_steps=200)


@pytest.mark.parametrize("family", list(FAMILIES))
def test_shown_pytorch_code_gives_the_same_lrs(family):
    namespace = {name: value for name, value in globals().items() if name[0].isupper()}
    namespace.update(torch=torch, model=torch.nn.Linear(1, 1))
    exec(pytorch_code(family, KNOBS), namespace)
    optimizer, scheduler = namespace["optimizer"], namespace["scheduler"]
    schedule = FAMILIES[family][0](KNOBS)
    # The momentum the plot draws (dashed): the schedule's own, else SGD's constant 0.9.
    momentum = getattr(schedule, "momentum", lambda step: 0.9)
    ours, theirs = [], []
    for step in range(KNOBS.total_steps - 1):
        theirs.append((optimizer.param_groups[0]["lr"], optimizer.param_groups[0]["momentum"]))
        ours.append((schedule(step), momentum(step)))
        optimizer.step()
        scheduler.step()
    np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-15)


def test_panel_follows_controls_and_shows_code():
    panel = schedule_panel()
    assert "StepLR(optimizer, step_size=300, gamma=0.5)" in panel.result.code
    panel.controls["schedule"].value = "1-cycle"
    panel.controls["compare"].value = "cosine"
    assert "OneCycleLR" in panel.result.code and panel.result.compare is not None
    assert len(panel.figure.axes) == 2  # the LR axis and 1-cycle's momentum axis
    texts = [o["data"].get("text/markdown", "") for o in panel.output.outputs]
    assert any("OneCycleLR" in text for text in texts)


def test_invalid_combination_is_shown_not_raised():
    panel = schedule_panel("triangular")
    panel.controls["max_lr"].value = 1e-4  # below base_lr
    assert panel.error and "max_lr" in panel.error


def test_unknown_schedule():
    with pytest.raises(ValueError, match="schedule must be one of"):
        schedule_panel("warm restarts")
