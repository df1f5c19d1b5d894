"""fit under bad input, interrupts, loaders and clipping: nothing changes before an error, nothing is lost."""

import copy
import os
import signal

import numpy as np
import pytest
import torch

from lrcourse import MLP, Callback, EarlyStopping, ReduceLROnPlateau, evaluate, fit
from lrcourse.checks import ArgumentTypeError
from lrcourse.data import TensorData
from lrcourse.device import seeded


@pytest.fixture(scope="module")
def small(fmnist):
    return fmnist.train[:640], fmnist.val[:200]


def mlp_sgd(lr=0.05, hidden=64):
    model = seeded(lambda: MLP(hidden=hidden), 0)
    return model, torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)


def weights(model):
    return {k: v.clone() for k, v in model.state_dict().items()}


def same_weights(a, b):
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


# Each row: what to change in fit's arguments, the error type, words the message must contain.
# "DATA:..." rows build data from the training subset; the model has 10 classes.
BAD_FIT_ARGUMENTS = [
    (dict(epochs=0), ValueError, "epochs must be an int >= 1"),
    (dict(epochs=1.5), ValueError, "epochs must be an int >= 1"),
    (dict(epochs="2"), TypeError, "epochs must be an int >= 1"),
    (dict(batch_size=0), ValueError, "batch_size must be an int >= 1"),
    (dict(batch_size=None), TypeError, "batch_size must be an int >= 1"),
    (dict(batch_size=32.0), ValueError, "batch_size must be an int >= 1"),
    (dict(scheduler_interval="batch"), ValueError, "scheduler_interval must be one of"),
    (dict(model="mlp"), TypeError, "model must be a torch.nn.Module"),
    (dict(optimizer="sgd"), TypeError, "optimizer must be a torch.optim.Optimizer"),
    (dict(optimizer="FOREIGN"), ValueError, "optimizer must optimize this model's parameters"),
    (dict(train="TENSOR"), TypeError, "train must be a lrcourse.data.TensorData or a torch.utils.data.DataLoader"),
    (dict(train="EMPTY"), ValueError, "train must hold at least one example"),
    (dict(train="GENERATOR"), TypeError, "train is an iterator"),
    (dict(train="UINT8_X"), TypeError, "train.x must be a floating-point tensor; got torch.uint8"),
    (dict(train="FLOAT64_X"), TypeError, "train.x is torch.float64 but the model's weights are torch.float32"),
    (dict(train="INT32_Y"), TypeError, "train.y must hold class indices as torch.long"),
    (dict(train="FLOAT_Y"), TypeError, "train.y must hold class indices as torch.long"),
    (dict(train="LABEL_MINUS_100"), ValueError, "train.y must hold class indices from 0 to 9"),
    (dict(train="LABEL_10"), ValueError, "train.y must hold class indices from 0 to 9"),
    (dict(train="WRONG_SHAPE"), ValueError, "the model cannot take train's inputs of shape (1, 14, 14)"),
    (dict(val="EMPTY"), ValueError, "val must hold at least one example"),
    (dict(val="UINT8_X"), TypeError, "val.x must be a floating-point tensor; got torch.uint8"),
    (dict(val="LABEL_10"), ValueError, "val.y must hold class indices from 0 to 9"),
    (dict(val="INT32_Y"), TypeError, "val.y must hold class indices as torch.long"),
    (dict(callbacks=EarlyStopping()), TypeError, "callbacks must be a list"),
    (dict(callbacks="early"), TypeError, "callbacks must be a list"),
    (dict(callbacks=[object()]), TypeError, "callbacks must be lrcourse.Callback instances"),
    (dict(callbacks=[EarlyStopping()]), ValueError, "monitor='val_loss' needs validation data"),
    (dict(callbacks=[ReduceLROnPlateau(monitor="val_accuracy", mode="max")]), ValueError,
     "monitor='val_accuracy' needs validation data"),
    (dict(loss_fn="cross_entropy"), TypeError, "loss_fn must be callable"),
    (dict(loss_fn=lambda out, y: (out - 1) ** 2), ValueError, "loss_fn must return the batch-mean loss"),
    (dict(loss_fn=lambda out, y: 1 / 0), ValueError, "loss_fn(model(x), y) failed"),
    (dict(seed=1.5), ValueError, "seed must be an int >= 0"),
    (dict(seed="0"), TypeError, "seed must be an int >= 0"),
    (dict(seed=-1), ValueError, "seed must be an int >= 0"),
    (dict(progress="no"), TypeError, "progress must be True or False"),
    (dict(clip_grad_norm=0.0), ValueError, "clip_grad_norm must be a finite number > 0"),
    (dict(clip_grad_norm=float("inf")), ValueError, "clip_grad_norm must be a finite number > 0"),
    (dict(scheduler="STEP_LR_WITH_PLATEAU_CALLBACK"), ValueError, "cannot be combined"),
    (dict(scheduler="FOREIGN_SCHEDULER"), ValueError, "scheduler was built on a different optimizer"),
    (dict(scheduler=object()), TypeError, "scheduler must have a step() method"),
]


def materialize(change, train, val, model, optimizer):
    """Turn the table's placeholders into real bad arguments."""
    made = dict(change)
    builders = {
        "TENSOR": lambda data: data.x,
        "EMPTY": lambda data: data[:0],
        "GENERATOR": lambda data: ((data.x[i:i + 32], data.y[i:i + 32]) for i in range(0, len(data), 32)),
        "UINT8_X": lambda data: TensorData((data.x * 255).to(torch.uint8), data.y),
        "FLOAT64_X": lambda data: TensorData(data.x.double(), data.y),
        "INT32_Y": lambda data: TensorData(data.x, data.y.int()),
        "FLOAT_Y": lambda data: TensorData(data.x, data.y.float()),
        "LABEL_MINUS_100": lambda data: TensorData(data.x, torch.where(torch.arange(len(data)) == 5, -100, data.y)),
        "LABEL_10": lambda data: TensorData(data.x, torch.where(torch.arange(len(data)) == 5, 10, data.y)),
        "WRONG_SHAPE": lambda data: TensorData(data.x[:, :, ::2, ::2], data.y),
    }
    for key, source in (("train", train), ("val", val)):
        if isinstance(made.get(key), str):
            made[key] = builders[made[key]](source)
    if made.get("optimizer") == "FOREIGN":
        made["optimizer"] = torch.optim.SGD(MLP(hidden=64).parameters(), lr=0.1)
    if made.get("scheduler") == "STEP_LR_WITH_PLATEAU_CALLBACK":
        made["scheduler"] = torch.optim.lr_scheduler.StepLR(optimizer, step_size=5)
        made["callbacks"] = [ReduceLROnPlateau(monitor="train_loss")]
    if made.get("scheduler") == "FOREIGN_SCHEDULER":
        made["scheduler"] = torch.optim.lr_scheduler.StepLR(torch.optim.SGD(MLP(hidden=8).parameters(), lr=1), 5)
    return made


@pytest.mark.parametrize("change, error, words", BAD_FIT_ARGUMENTS, ids=[w for _, _, w in BAD_FIT_ARGUMENTS])
def test_bad_arguments_raise_a_clear_error_before_anything_changes(small, change, error, words):
    train, val = small
    model, opt = mlp_sgd()
    before, mode = weights(model), model.training
    args = dict(model=model, train=train, optimizer=opt, epochs=1, batch_size=32, progress=False)
    with pytest.raises(error) as raised:
        fit(**{**args, **materialize(change, train, val, model, opt)})
    assert words in str(raised.value)
    assert same_weights(before, weights(model)) and model.training == mode
    assert opt.state_dict()["state"] == {}
    assert all(p.grad is None for p in model.parameters())


def test_type_errors_are_also_value_errors_for_older_callers(small):
    model, opt = mlp_sgd()
    with pytest.raises(ValueError):
        fit(model, small[0], opt, epochs="1", batch_size=32, progress=False)
    assert issubclass(ArgumentTypeError, TypeError)


class InterruptAt(Callback):
    """Raises KeyboardInterrupt at a step, as a Ctrl-C during training would."""

    def __init__(self, step):
        self.step, self.ended = step, 0

    def on_batch_end(self, state):
        if state.step == self.step:
            raise KeyboardInterrupt

    def on_train_end(self, state):
        self.ended += 1


def test_an_interrupt_ends_the_run_consistently_and_attaches_the_history(small):
    train, val = small
    model, opt = mlp_sgd()
    stopping = EarlyStopping(patience=10, restore_best_weights=True)
    interrupt = InterruptAt(step=47)  # 20 steps per epoch: in the middle of the third epoch
    with pytest.raises(KeyboardInterrupt) as raised:
        fit(model, train, opt, epochs=5, batch_size=32, val=val, callbacks=[stopping, interrupt], progress=False)
    history = raised.value.history
    assert history.interrupted and "interrupted" in history.stop_reason
    assert history.epochs == 2 and history.steps == len(history.lr) == 48  # the partial epoch's steps kept
    assert interrupt.ended == 1
    # EarlyStopping's on_train_end ran: the model holds its best epoch's weights.
    assert stopping.best_epoch in (1, 2)
    assert evaluate(model, val)["loss"] == pytest.approx(history.val_loss[stopping.best_epoch - 1], rel=1e-5)


class SecondCtrlC(Callback):
    """A first Ctrl-C during training, a second one while the run is ending."""

    def __init__(self):
        self.finished = False

    def on_batch_end(self, state):
        if state.step == 3:
            raise KeyboardInterrupt

    def on_train_end(self, state):
        os.kill(os.getpid(), signal.SIGINT)  # arrives in the middle of the clean-up
        self.finished = True


def test_a_second_ctrl_c_waits_until_the_run_has_ended(small):
    model, opt = mlp_sgd()
    second = SecondCtrlC()
    with pytest.raises(KeyboardInterrupt) as raised:
        fit(model, small[0], opt, epochs=2, batch_size=32, callbacks=[second], progress=False)
    assert second.finished and raised.value.history.steps == 4


def test_a_loader_trains_like_the_same_batches_as_tensors(small):
    train, _ = small
    order = torch.randperm(len(train), generator=torch.Generator().manual_seed(3))
    batches = [(train.x[order[i:i + 64]], train.y[order[i:i + 64]]) for i in range(0, len(train), 64)]
    model, opt = mlp_sgd()
    history = fit(model, batches, opt, epochs=2, progress=False)
    reference, ref_opt = mlp_sgd()
    losses = []
    for _ in range(2):
        for x, y in batches:
            ref_opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(reference(x), y)
            loss.backward()
            ref_opt.step()
            losses.append(loss.item())
    assert history.steps_per_epoch == 10 and history.epochs == 2
    np.testing.assert_allclose(history.loss, losses, rtol=1e-5)
    for a, b in zip(model.parameters(), reference.parameters()):
        torch.testing.assert_close(a, b)


def test_a_dataloader_with_workers_trains_and_evaluates(small):
    train, val = small
    dataset = torch.utils.data.TensorDataset(train.x, train.y)
    loader = torch.utils.data.DataLoader(dataset, batch_size=64, shuffle=True, num_workers=1,
                                         generator=torch.Generator().manual_seed(0))
    val_loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(val.x, val.y), batch_size=100)
    model, opt = mlp_sgd()
    history = fit(model, loader, opt, epochs=2, val=val_loader, progress=False)
    assert history.steps == 20 and len(history.val_loss) == 2
    assert evaluate(model, val_loader) == pytest.approx(evaluate(model, val), rel=1e-5)
    with pytest.raises(ValueError, match="batch_size must be None when train is a loader"):
        fit(model, loader, opt, epochs=1, batch_size=64, progress=False)


def test_clipping_matches_torch_and_records_the_norms(small):
    train, _ = small
    model, opt = mlp_sgd(lr=0.5)
    history = fit(model, train[:256], opt, epochs=1, batch_size=64, clip_grad_norm=0.5, progress=False, seed=1)
    reference, ref_opt = mlp_sgd(lr=0.5)
    order = torch.randperm(256, generator=torch.Generator().manual_seed(1))
    norms = []
    for i in range(0, 256, 64):
        x, y = train.x[order[i:i + 64]], train.y[order[i:i + 64]]
        ref_opt.zero_grad()
        torch.nn.functional.cross_entropy(reference(x), y).backward()
        norms.append(torch.nn.utils.clip_grad_norm_(reference.parameters(), 0.5).item())
        ref_opt.step()
    np.testing.assert_allclose(history.grad_norm, norms, rtol=1e-5)
    assert history.clip_grad_norm == 0.5
    assert history.clipped_fraction == pytest.approx(np.mean(np.asarray(norms) > 0.5))
    for a, b in zip(model.parameters(), reference.parameters()):
        torch.testing.assert_close(a, b)


def test_divergence_with_clipping_keeps_one_norm_per_completed_step(small):
    model, opt = mlp_sgd(lr=1e9)
    history = fit(model, small[0], opt, epochs=3, batch_size=32, clip_grad_norm=1e30, progress=False)
    assert history.diverged and len(history.grad_norm) == history.diverged_at


def test_evaluate_refuses_empty_data():
    model, _ = mlp_sgd()
    with pytest.raises(ValueError, match="data must hold at least one example"):
        evaluate(model, TensorData(torch.zeros(0, 1, 28, 28), torch.zeros(0, dtype=torch.long)))


def test_fit_leaves_the_global_random_state_alone(small):
    model, opt = mlp_sgd()
    before = torch.get_rng_state()
    fit(model, small[0], opt, epochs=1, batch_size=64, progress=False)
    assert torch.equal(before, torch.get_rng_state())
    copy.deepcopy(model)  # still a usable model
