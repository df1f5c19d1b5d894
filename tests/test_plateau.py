"""The callbacks' decisions on scripted metric histories (no training needed), and replayed on a recorded run."""

import functools
import math

import pytest
import torch

import lrcourse
from lrcourse.callbacks import EvaluateEachEpoch, FitState
from lrcourse.experiments import train_at_lr
from lrcourse.plateau import EarlyStopping, ReduceLROnPlateau, replay_early_stopping
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


NAN, INF = float("nan"), float("inf")
PLATEAU_BAD = [  # (keyword arguments, error, what the message says)
    (dict(monitor="loss"), ValueError,
     "monitor must be one of .*'val_loss', 'val_accuracy', 'train_loss', 'train_accuracy'"),
    (dict(monitor=None), TypeError, "monitor must be one of"),
    (dict(mode="lowest"), ValueError, "mode must be one of \\('min', 'max'\\)"),
    (dict(mode=0), TypeError, "mode must be one of"),
    (dict(factor=1.0), ValueError, "factor must be a finite number in \\(0, 1\\)"),
    (dict(factor=0.0), ValueError, "factor must be a finite number in \\(0, 1\\)"),
    (dict(factor=NAN), ValueError, "factor must be a finite number"),
    (dict(factor="0.5"), TypeError, "factor must be a number"),
    (dict(factor=True), TypeError, "factor must be a number"),
    (dict(patience=-2), ValueError, "patience must be an int >= 0"),
    (dict(patience=2.0), TypeError, "patience must be an int"),
    (dict(patience=None), TypeError, "patience must be an int"),
    (dict(threshold=-1e-4), ValueError, "threshold must be a finite number >= 0"),
    (dict(threshold=NAN), ValueError, "threshold must be a finite number >= 0; got nan"),
    (dict(threshold=INF), ValueError, "threshold must be a finite number >= 0; got inf"),
    (dict(threshold="1e-4"), TypeError, "threshold must be a number"),
    (dict(threshold_mode="relative"), ValueError, "threshold_mode must be one of \\('rel', 'abs'\\)"),
    (dict(threshold_mode=None), TypeError, "threshold_mode must be one of"),
    (dict(cooldown=-1), ValueError, "cooldown must be an int >= 0"),
    (dict(cooldown=0.5), TypeError, "cooldown must be an int"),
    (dict(min_lr=-1), ValueError, "min_lr must be a finite number >= 0"),
    (dict(min_lr=NAN), ValueError, "min_lr must be a finite number >= 0"),
    (dict(min_lr=INF), ValueError, "min_lr must be a finite number >= 0"),
    (dict(min_lr=[0.0]), TypeError, "min_lr must be a number"),
    (dict(eps=-1e-8), ValueError, "eps must be a finite number >= 0"),
    (dict(eps=NAN), ValueError, "eps must be a finite number >= 0"),
    (dict(eps=INF), ValueError, "eps must be a finite number >= 0"),
    (dict(eps=None), TypeError, "eps must be a number"),
]


@pytest.mark.parametrize("kwargs, error, match", PLATEAU_BAD)
def test_reduce_lr_on_plateau_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        ReduceLROnPlateau(**kwargs)


STOPPING_BAD = [
    (dict(monitor="val_acc"), ValueError, "monitor must be one of"),
    (dict(monitor=["val_loss"]), TypeError, "monitor must be one of"),
    (dict(mode="lowest"), ValueError, "mode must be one of"),
    (dict(mode=None), TypeError, "mode must be one of"),
    (dict(patience=-1), ValueError, "patience must be an int >= 0"),
    (dict(patience=1.5), TypeError, "patience must be an int"),
    (dict(min_delta=-0.1), ValueError, "min_delta must be a finite number >= 0"),
    (dict(min_delta=NAN), ValueError, "min_delta must be a finite number >= 0"),
    (dict(min_delta=INF), ValueError, "min_delta must be a finite number >= 0"),
    (dict(min_delta="0"), TypeError, "min_delta must be a number"),
    (dict(restore_best_weights=1), TypeError, "restore_best_weights must be True or False"),
    (dict(restore_best_weights="yes"), TypeError, "restore_best_weights must be True or False"),
    (dict(restore_best_weights=None), TypeError, "restore_best_weights must be True or False"),
    (dict(baseline="0.5"), TypeError, "baseline must be a number"),
    (dict(baseline=NAN), ValueError, "baseline must be a finite number"),
    (dict(baseline=-INF), ValueError, "baseline must be a finite number"),
    (dict(baseline=True), TypeError, "baseline must be a number"),
    (dict(start_from_epoch=-1), ValueError, "start_from_epoch must be an int >= 0"),
    (dict(start_from_epoch=1.0), TypeError, "start_from_epoch must be an int"),
]


@pytest.mark.parametrize("kwargs, error, match", STOPPING_BAD)
def test_early_stopping_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        EarlyStopping(**kwargs)


def test_numpy_and_zero_dim_numbers_are_accepted():
    import numpy as np

    callback = ReduceLROnPlateau(factor=np.float32(0.5), patience=np.int64(0), threshold=torch.tensor(0.0))
    assert callback.options["factor"] == 0.5 and type(callback.options["patience"]) is int
    assert EarlyStopping(baseline=np.float64(0.3), min_delta=torch.tensor(0.01)).baseline == 0.3


def test_a_nan_threshold_would_have_cut_the_lr_on_an_improving_loss():
    # The case: with threshold=nan, PyTorch counts no epoch as better; now it is refused,
    # and the same halving loss with a valid threshold never cuts the LR.
    halving = [1.0 / 2 ** epoch for epoch in range(8)]
    assert replay_callbacks([ReduceLROnPlateau(patience=1, threshold=1e-4)], halving).lrs == [0.1] * 8
    with pytest.raises(ValueError, match="threshold"):
        ReduceLROnPlateau(patience=1, threshold=NAN)


REPLAY_BAD = [  # (callbacks, values, keyword arguments, error, what the message says)
    (EarlyStopping(), [1.0], {}, TypeError, "callbacks must be a list of callbacks"),
    ("EarlyStopping", [1.0], {}, TypeError, "callbacks must be a list of callbacks"),
    ([EarlyStopping, ReduceLROnPlateau()], [1.0], {}, TypeError, "callbacks\\[0\\] must be a Callback"),
    ([None], [1.0], {}, TypeError, "callbacks\\[0\\] must be a Callback"),
    ([], 1.0, {}, TypeError, "values must be a sequence of numbers"),
    ([], "1.0 0.9", {}, TypeError, "values must be a sequence of numbers"),
    ([], [1.0, "0.9"], {}, TypeError, "values\\[1\\] must be a number"),
    ([], [1.0, None], {}, TypeError, "values\\[1\\] must be a number"),
    ([], [], {}, ValueError, "values must hold at least one"),
    ([], [1.0], dict(monitor="loss"), ValueError, "monitor must be one of"),
    ([], [1.0], dict(monitor=3), TypeError, "monitor must be one of"),
    ([], [1.0], dict(lr=0), ValueError, "lr must be a finite number > 0"),
    ([], [1.0], dict(lr=NAN), ValueError, "lr must be a finite number > 0"),
    ([], [1.0], dict(lr="0.1"), TypeError, "lr must be a number"),
]


@pytest.mark.parametrize("callbacks, values, kwargs, error, match", REPLAY_BAD)
def test_replay_bad_arguments(callbacks, values, kwargs, error, match):
    with pytest.raises(error, match=match):
        replay_callbacks(callbacks, values, **kwargs)


def test_replay_keeps_nan_values_a_diverged_run_records():
    result = replay_callbacks([EarlyStopping(patience=2)], [1.0, float("nan"), float("nan")])
    assert result.stopped_epoch == 3 and math.isnan(result.values[1])  # NaN never counts as better
    assert replay_callbacks([], torch.tensor([1.0, 0.5])).values == [1.0, 0.5]


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


# --- replay_early_stopping: one recorded run gives the outcome of every EarlyStopping setting ---

def tiny_run(fmnist, callbacks):
    """A small, noisy, seeded run: a 32-unit MLP, 1,000 images, 12 epochs under ReduceLROnPlateau(patience=1)."""
    plateau = ReduceLROnPlateau(patience=1, factor=0.5)
    run = train_at_lr(fmnist.train[:1000], 0.1, val=fmnist.val[:300], optimizer="momentum", epochs=12,
                      batch_size=100, model=functools.partial(lrcourse.MLP, hidden=32), callbacks=[plateau, *callbacks])
    return run, plateau


@pytest.fixture(scope="module")
def recorded(fmnist):
    tests = EvaluateEachEpoch(fmnist.test[:1000])
    run, plateau = tiny_run(fmnist, [tests])
    return run.history, plateau, tests


@pytest.mark.parametrize("options, stops", [
    (dict(patience=1, restore_best_weights=True), True),
    (dict(patience=2, min_delta=0.02, restore_best_weights=True), True),
    (dict(monitor="val_accuracy", mode="max", patience=2), True),   # no restore: the score is the last epoch's
    (dict(patience=20, restore_best_weights=True), False),          # never stops: the whole run
])
def test_replay_early_stopping_equals_a_real_fit(fmnist, recorded, options, stops):
    history, plateau, tests = recorded
    replayed = replay_early_stopping(history, EarlyStopping(**options), tests.accuracy)
    stopping = EarlyStopping(**options)
    real, real_plateau = tiny_run(fmnist, [stopping])
    assert (replayed.stopping.stopped_epoch is not None) == stops and replayed.epochs == real.history.epochs
    assert replayed.stopping.best_epoch == stopping.best_epoch
    assert replayed.stopping.stopped_epoch == stopping.stopped_epoch
    for name in ("val_loss", "val_accuracy", "train_loss", "train_accuracy", "lr", "loss", "stop_reason"):
        assert getattr(replayed.history, name) == getattr(real.history, name), name   # bit for bit
    assert [r for r in plateau.reductions if r[0] <= replayed.epochs] == real_plateau.reductions
    assert replayed.score == lrcourse.evaluate(real.model, fmnist.test[:1000])["accuracy"]  # the restored weights'


def test_replay_early_stopping_picks_the_score_and_cuts_the_history():
    history = History(steps_per_epoch=2, val_loss=[1.0, 0.5, 0.7, 0.8, 0.9], train_loss=[1.0] * 5,
                      lr=[0.1] * 10, loss=list(range(10)), seconds=10.0)
    scores = [0.1, 0.2, 0.3, 0.4, 0.5]
    watcher = EarlyStopping(patience=2, restore_best_weights=True)
    restored = replay_early_stopping(history, watcher, scores)
    assert (restored.epochs, restored.stopping.best_epoch, restored.score) == (4, 2, 0.2)
    assert watcher.best_epoch is None and watcher.stopped_epoch is None and restored.stopping is not watcher  # untouched
    assert restored.history.loss == [0, 1, 2, 3, 4, 5, 6, 7] and restored.history.seconds == 8.0
    assert restored.history.stop_reason == restored.stopping.reason and history.val_loss[-1] == 0.9  # input untouched
    assert replay_early_stopping(history, EarlyStopping(patience=2), scores).score == 0.4   # the last epoch's weights
    assert replay_early_stopping(history, EarlyStopping(patience=2)).score is None
    whole = replay_early_stopping(history, EarlyStopping(patience=9), scores)
    assert whole.epochs == 5 and whole.stopping.stopped_epoch is None and whole.history == history


def test_evaluate_each_epoch_leaves_training_unchanged(fmnist):
    # Dropout draws from the global generator while training, and a shuffling loader draws a seed from it:
    # evaluating on forks of the generators keeps the training draws where they were.
    def dropout_mlp():
        return torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(784, 16), torch.nn.Dropout(0.5),
                                   torch.nn.Linear(16, 10))

    test = fmnist.test[:200]
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(test.x, test.y), batch_size=50, shuffle=True)
    histories, recorders = [], []
    for callbacks in ([], [EvaluateEachEpoch(loader)], [EvaluateEachEpoch(test, batch_size=64)]):
        lrcourse.seed_everything(0)
        run = train_at_lr(fmnist.train[:500], 0.05, optimizer="momentum", epochs=3, batch_size=50,
                          model=dropout_mlp, callbacks=callbacks)
        histories.append(run.history.loss)
        recorders.append((callbacks, run.model))
    assert histories[0] == histories[1] == histories[2]
    (_, _), (loader_cb, model), (tensor_cb, _) = recorders
    assert len(loader_cb[0].accuracy) == len(tensor_cb[0].loss) == 3
    assert loader_cb[0].accuracy == tensor_cb[0].accuracy
    assert tensor_cb[0].accuracy[-1] == lrcourse.evaluate(model, test)["accuracy"]


def test_evaluate_each_epoch_at_new_best_skips_only_what_no_replay_reads(fmnist):
    every = EvaluateEachEpoch(fmnist.test[:1000])
    lazy = EvaluateEachEpoch(fmnist.test[:1000], at_new_best=("val_loss", "val_accuracy"))
    run, _ = tiny_run(fmnist, [every, lazy])
    history = run.history
    best_loss = [i for i, v in enumerate(history.val_loss) if v < min(history.val_loss[:i], default=math.inf)]
    best_acc = [i for i, v in enumerate(history.val_accuracy) if v > max(history.val_accuracy[:i], default=-1)]
    evaluated = sorted({*best_loss, *best_acc, history.epochs - 1})
    assert [i for i, v in enumerate(lazy.accuracy) if not math.isnan(v)] == evaluated
    assert len(lazy.accuracy) == len(lazy.loss) == history.epochs > len(evaluated)   # something was skipped
    for i in evaluated:
        assert (lazy.accuracy[i], lazy.loss[i]) == (every.accuracy[i], every.loss[i])
    for options in (dict(patience=1, restore_best_weights=True), dict(patience=3, min_delta=0.01, restore_best_weights=True),
                    dict(monitor="val_accuracy", mode="max", patience=2, restore_best_weights=True),
                    dict(patience=1), dict(patience=20, restore_best_weights=True)):
        assert (replay_early_stopping(history, EarlyStopping(**options), lazy.accuracy).score
                == replay_early_stopping(history, EarlyStopping(**options), every.accuracy).score), options


def test_evaluate_each_epoch_at_new_best_scores_the_last_epoch_whatever_runs_after_it(fmnist):
    # The EarlyStopping restores the best weights at the end, before the lazy callback's own end hook runs.
    stopping = EarlyStopping(patience=1, restore_best_weights=True)
    every = EvaluateEachEpoch(fmnist.test[:1000])
    lazy = EvaluateEachEpoch(fmnist.test[:1000], at_new_best=("val_loss",))
    run, _ = tiny_run(fmnist, [every, stopping, lazy])
    assert stopping.stopped_epoch is not None and stopping.best_epoch < run.history.epochs
    assert lazy.accuracy[-1] == every.accuracy[-1] != every.accuracy[stopping.best_epoch - 1]
    assert lrcourse.evaluate(run.model, fmnist.test[:1000])["accuracy"] == every.accuracy[stopping.best_epoch - 1]


@pytest.mark.parametrize("at_new_best, error, match", [
    ("val_loss", TypeError, "at_new_best must be a tuple of History fields"),
    (None, TypeError, "at_new_best must be a tuple"),
    (("loss",), ValueError, "at_new_best must be one of"),
    ((1,), TypeError, "at_new_best must be one of"),
])
def test_evaluate_each_epoch_at_new_best_bad_arguments(at_new_best, error, match):
    with pytest.raises(error, match=match):
        EvaluateEachEpoch(lrcourse.TensorData(torch.zeros(2, 784), torch.zeros(2, dtype=torch.long)),
                          at_new_best=at_new_best)


def test_evaluate_each_epoch_at_new_best_refuses_a_run_without_val_before_training(fmnist):
    lazy = EvaluateEachEpoch(fmnist.test[:100], at_new_best=("train_loss", "val_accuracy"))
    model = lrcourse.MLP(hidden=8)
    before = [p.clone() for p in model.parameters()]
    with pytest.raises(ValueError, match="needs val data"):
        lrcourse.fit(model, fmnist.train[:100], torch.optim.SGD(model.parameters(), lr=0.1), epochs=1, batch_size=50,
                     callbacks=[lazy])
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters()))


REPLAY_STOPPING_BAD = [  # (history, stopping, scores, error, what the message says)
    ([1.0], EarlyStopping(), None, TypeError, "history must be a lrcourse.History"),
    (History(val_loss=[1.0]), ReduceLROnPlateau(), None, TypeError, "stopping must be an EarlyStopping"),
    (History(val_loss=[1.0]), "EarlyStopping", None, TypeError, "stopping must be an EarlyStopping"),
    (History(train_loss=[1.0]), EarlyStopping(), None, ValueError,
     "history has no val_loss values: record the run with val="),
    (History(val_loss=[1.0]), EarlyStopping(monitor="val_accuracy"), None, ValueError, "history has no val_accuracy"),
    (History(val_loss=[1.0, 0.9]), EarlyStopping(), [0.5], ValueError,
     "scores must hold one value per recorded epoch \\(2\\); got 1"),
    (History(val_loss=[1.0]), EarlyStopping(), 0.5, TypeError, "values must be a sequence of numbers"),
    (History(val_loss=[1.0]), EarlyStopping(), ["0.5"], TypeError, "values\\[0\\] must be a number"),
    (History(val_loss=[1.0, 0.9, 1.1]), EarlyStopping(patience=1, restore_best_weights=True), [0.5, math.nan, 0.7],
     ValueError, "scores holds NaN at epoch 2, the weights this run ends with"),
]


@pytest.mark.parametrize("history, stopping, scores, error, match", REPLAY_STOPPING_BAD)
def test_replay_early_stopping_bad_arguments(history, stopping, scores, error, match):
    with pytest.raises(error, match=match):
        replay_early_stopping(history, stopping, scores)


@pytest.mark.parametrize("data, batch_size, error, match", [
    (None, 1000, TypeError, "data must be a lrcourse.data.TensorData or a torch.utils.data.DataLoader"),
    (torch.zeros(3, 784), 1000, TypeError, "wrap inputs and labels"),
    ("test", 1000, TypeError, "data must be a lrcourse.data.TensorData"),
    (lrcourse.TensorData(torch.zeros(0, 784), torch.zeros(0, dtype=torch.long)), 1000, ValueError,
     "data must hold at least one example"),
    (lrcourse.TensorData(torch.zeros(2, 784), torch.zeros(2, dtype=torch.long)), 0, ValueError,
     "batch_size must be an int >= 1"),
    (lrcourse.TensorData(torch.zeros(2, 784), torch.zeros(2, dtype=torch.long)), 1.5, TypeError,
     "batch_size must be an int"),
])
def test_evaluate_each_epoch_bad_arguments(data, batch_size, error, match):
    with pytest.raises(error, match=match):
        EvaluateEachEpoch(data, batch_size=batch_size)
