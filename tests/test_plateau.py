"""The callbacks' decisions on scripted metric histories: no training needed."""

import pytest
import torch

import lrcourse
from lrcourse.callbacks import FitState
from lrcourse.plateau import EarlyStopping, ReduceLROnPlateau
from lrcourse.plateau import replay as replay_callbacks
from lrcourse.callbacks import History


def replay(callback, values, monitor="val_loss", lr=0.1, model=None):
    """Feed ``values`` to ``callback`` as if ``fit`` had produced them, one epoch each; returns the state."""
    model = model or torch.nn.Linear(2, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    state = FitState(model=model, optimizer=optimizer, history=History(steps_per_epoch=1), epochs=len(values))
    callback.on_train_begin(state)
    for epoch, value in enumerate(values):
        state.epoch = epoch
        getattr(state.history, monitor).append(value)
        callback.on_epoch_end(state)
        if state.stop_training:
            break
    callback.on_train_end(state)
    return state


def test_reduce_lr_on_plateau_matches_pytorch_and_records_reductions():
    losses = [1.0, 0.9, 0.9, 0.9, 0.9, 0.85, 0.85, 0.85, 0.85, 0.85, 0.85]
    callback = ReduceLROnPlateau(patience=2, factor=0.5)
    state = replay(callback, losses)
    assert callback.reductions == [(5, 0.1, 0.05), (9, 0.05, 0.025)]
    assert state.optimizer.param_groups[0]["lr"] == 0.025
    optimizer = torch.optim.SGD(torch.nn.Linear(2, 1).parameters(), lr=0.1)
    reference = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, patience=2, factor=0.5)
    for loss in losses:
        reference.step(loss)
    assert optimizer.param_groups[0]["lr"] == 0.025


def test_reduce_lr_respects_min_lr_cooldown_and_max_mode():
    callback = ReduceLROnPlateau(monitor="val_accuracy", mode="max", patience=0, factor=0.1, min_lr=0.005, cooldown=1)
    replay(callback, [0.5, 0.5, 0.5, 0.5, 0.5, 0.5], monitor="val_accuracy")
    assert [new for _, _, new in callback.reductions] == [pytest.approx(0.01), 0.005]
    assert [epoch for epoch, _, _ in callback.reductions] == [2, 4]  # cooldown skips epoch 3


def test_early_stopping_counts_patience_from_the_best_epoch():
    callback = EarlyStopping(patience=3)
    state = replay(callback, [1.0, 0.8, 0.7, 0.75, 0.72, 0.71, 0.6])
    assert (callback.best, callback.best_epoch, callback.stopped_epoch) == (0.7, 3, 6)
    assert state.stop_reason.startswith("early stopping: val_loss did not improve") and "epoch 3" in state.stop_reason


def test_min_delta_ignores_tiny_improvements():
    callback = EarlyStopping(patience=2, min_delta=0.05)
    replay(callback, [1.0, 0.98, 0.97, 0.96])
    assert callback.best_epoch == 1 and callback.stopped_epoch == 3


def test_baseline_and_start_from_epoch():
    losses = [0.9, 0.8, 0.85]
    without, with_baseline = EarlyStopping(patience=2), EarlyStopping(patience=2, baseline=0.5)
    replay(without, losses)
    replay(with_baseline, losses)  # improvements above the baseline do not reset the patience
    assert without.stopped_epoch is None and with_baseline.stopped_epoch == 3
    late = EarlyStopping(patience=1, start_from_epoch=3)
    replay(late, [1.0, 1.1, 1.2, 1.3, 1.4, 1.5])
    assert late.best_epoch == 4 and late.stopped_epoch == 5


def test_restore_best_weights():
    model = torch.nn.Linear(2, 1)

    class Drift(EarlyStopping):  # change the weights every epoch, as training would
        def on_epoch_end(self, state):
            with torch.no_grad():
                state.model.weight += 1.0
            super().on_epoch_end(state)

    callback = Drift(patience=2, restore_best_weights=True)
    start = model.weight.detach().clone()
    replay(callback, [1.0, 0.5, 0.7, 0.8, 0.9], model=model)
    assert callback.best_epoch == 2
    torch.testing.assert_close(model.weight.detach(), start + 1.0 + 1.0, rtol=0, atol=0)  # two drifts, bit for bit


def test_missing_validation_metric_names_the_fix():
    with pytest.raises(ValueError, match="pass val= to fit"):
        replay(EarlyStopping(), [0.5], monitor="train_loss")


@pytest.mark.parametrize("make, match", [
    (lambda: EarlyStopping(monitor="val_acc"), "monitor must be one of"),
    (lambda: EarlyStopping(mode="lowest"), "mode must be"),
    (lambda: EarlyStopping(patience=-1), "patience must be"),
    (lambda: EarlyStopping(min_delta=-0.1), "min_delta must be"),
    (lambda: ReduceLROnPlateau(factor=1.0), "factor must be in"),
    (lambda: ReduceLROnPlateau(factor=0.0), "factor must be in"),
    (lambda: ReduceLROnPlateau(patience=-2), "patience must be"),
    (lambda: ReduceLROnPlateau(threshold=-1e-4), "threshold must be a number >= 0"),
    (lambda: ReduceLROnPlateau(min_lr=-1), "min_lr must be"),
    (lambda: ReduceLROnPlateau(threshold_mode="relative"), "threshold_mode must be 'rel' or 'abs'"),
    (lambda: EarlyStopping(baseline="0.5"), "baseline must be None or a number"),
    (lambda: EarlyStopping(start_from_epoch=-1), "start_from_epoch must be"),
    (lambda: ReduceLROnPlateau(monitor="loss"), "'val_loss', 'val_accuracy', 'train_loss', 'train_accuracy'"),
])
def test_bad_arguments(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_callbacks_in_a_real_fit(fmnist):
    lrcourse.seed_everything(0)
    model = lrcourse.MLP()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
    plateau, stopper = ReduceLROnPlateau(patience=0, factor=0.5), EarlyStopping(patience=1, min_delta=1.0)
    history = lrcourse.fit(model, fmnist.train[:1000], optimizer, epochs=5, batch_size=100, val=fmnist.val[:500],
                           callbacks=[plateau, stopper], progress=False)
    assert history.epochs == 2 and stopper.stopped_epoch == 2 and history.stop_reason == stopper.reason


def test_replay_drives_both_callbacks_like_fit():
    plateau, stopping = ReduceLROnPlateau(patience=1, factor=0.5), EarlyStopping(patience=4)
    result = replay_callbacks([plateau, stopping], [1.0, 0.9, 0.95, 0.96, 0.97, 0.98, 0.99, 1.0])
    assert [epoch for epoch, _, _ in plateau.reductions] == [4, 6]  # the plateau callback runs first
    assert result.lrs == [0.1, 0.1, 0.1, 0.05, 0.05, 0.025]
    assert result.stopped_epoch == 6 and "did not improve" in result.reason
    assert replay_callbacks([EarlyStopping(patience=2)], [3.0, 2.0, 1.0]).stopped_epoch is None
    with pytest.raises(ValueError, match="monitor must be one of"):
        replay_callbacks([], [1.0], monitor="loss")
