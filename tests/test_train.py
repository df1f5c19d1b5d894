import copy
import warnings

import pytest
import torch

import lrcourse.train as train_module
from lrcourse import MLP, Callback, evaluate, fit, seed_everything
from lrcourse.data import TensorData


@pytest.fixture(scope="module")
def subset(fmnist):
    return fmnist.train[:4000], fmnist.val[:2000]


def sgd_mlp(lr=0.05, seed=0, momentum=0.9, hidden=128):
    seed_everything(seed)
    model = MLP(hidden=hidden)
    return model, torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum)


def run(train, lr=0.05, hidden=128, **kwargs):
    model, opt = sgd_mlp(lr=lr, hidden=hidden)
    return model, fit(model, train, opt, progress=False, **kwargs)


def test_loss_falls_and_history_records_every_step_and_epoch(subset):
    train, val = subset
    model, opt = sgd_mlp()
    history = fit(model, train, opt, epochs=3, batch_size=64, val=val, progress=False)
    assert history.steps_per_epoch == 63 and history.steps == len(history.lr) == 3 * 63
    assert history.epochs == 3 and len(history.val_accuracy) == 3 and not history.diverged
    assert history.train_loss[-1] < 0.7 * history.train_loss[0] < 0.7 * 2.31  # ln(10): chance level
    assert history.val_accuracy[-1] > 0.75
    assert sum(history.loss[:10]) / 10 > 2 * sum(history.loss[-10:]) / 10
    assert history.val_loss[-1] == pytest.approx(evaluate(model, val)["loss"], rel=1e-5)
    assert history.to_dict()["train_loss"] == history.train_loss


def test_same_seeds_give_the_same_run(subset):
    runs = [run(subset[0], epochs=1, batch_size=64)[1] for _ in range(2)]
    assert runs[0].loss == runs[1].loss
    _, other = run(subset[0], epochs=1, batch_size=64, seed=1)
    assert other.loss != runs[0].loss


def test_scheduler_steps_after_the_optimizer_per_step_or_per_epoch(subset):
    train, _ = subset
    model, opt = sgd_mlp(lr=0.1)
    scheduler = torch.optim.lr_scheduler.StepLR(opt, step_size=10, gamma=0.5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # PyTorch warns if scheduler.step() comes before optimizer.step()
        history = fit(model, train[:640], opt, epochs=2, batch_size=32, scheduler=scheduler, progress=False)
    assert history.lr == [0.1 * 0.5 ** (step // 10) for step in range(40)]

    model, opt = sgd_mlp(lr=0.1)
    scheduler = torch.optim.lr_scheduler.ExponentialLR(opt, gamma=0.5)
    history = fit(model, train[:640], opt, epochs=3, batch_size=320, scheduler=scheduler,
                  scheduler_interval="epoch", progress=False)
    assert history.lr == [0.1, 0.1, 0.05, 0.05, 0.025, 0.025]


def test_reduce_on_plateau_steps_on_the_validation_loss(subset):
    train, val = subset
    model, opt = sgd_mlp(lr=0.1)
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, patience=0, threshold=10.0)  # nothing counts as better
    history = fit(model, train[:320], opt, epochs=3, batch_size=320, val=val, scheduler=scheduler,
                  scheduler_interval="epoch", progress=False)
    assert history.lr == pytest.approx([0.1, 0.01, 0.001])


def test_absurd_lr_marks_divergence_stops_and_keeps_finite_weights(subset):
    model, history = run(subset[0], lr=1e8, hidden=1000, epochs=5, batch_size=32)
    assert history.diverged and history.diverged_at == len(history.loss) - 1 == len(history.lr) - 1
    assert history.diverged_at < 125 and history.epochs == 0
    assert not torch.isfinite(torch.tensor(history.loss[-1]))
    assert "diverged" in history.stop_reason
    assert all(torch.isfinite(p).all() for p in model.parameters())


def test_divergence_checked_in_chunks_finds_the_same_step(subset, monkeypatch):
    # On a GPU the loss is read every few steps, not every step; simulate that on the CPU.
    expected = run(subset[0], lr=1e8, hidden=1000, epochs=5, batch_size=32)[1].diverged_at
    monkeypatch.setattr(train_module, "_check_every", lambda device: 4)
    _, history = run(subset[0], lr=1e8, hidden=1000, epochs=5, batch_size=32)
    assert history.diverged_at == expected and len(history.loss) == len(history.lr) == expected + 1


class Recorder(Callback):
    def __init__(self, stop_at_step=None):
        self.events, self.stop_at_step = [], stop_at_step

    def on_train_begin(self, state):
        self.events.append("begin")

    def on_batch_end(self, state):
        self.events.append(("batch", state.epoch, state.step))
        if state.step == self.stop_at_step:
            state.stop("enough")

    def on_epoch_end(self, state):
        self.events.append(("epoch", state.epoch))

    def on_train_end(self, state):
        self.events.append("end")


def test_callbacks_see_every_hook_in_order_and_can_stop(subset):
    recorder = Recorder()
    run(subset[0][:96], epochs=2, batch_size=32, callbacks=[recorder])
    assert recorder.events == ["begin", ("batch", 0, 0), ("batch", 0, 1), ("batch", 0, 2), ("epoch", 0),
                               ("batch", 1, 3), ("batch", 1, 4), ("batch", 1, 5), ("epoch", 1), "end"]
    stopper = Recorder(stop_at_step=4)
    _, history = run(subset[0][:96], epochs=5, batch_size=32, callbacks=[stopper])
    assert history.stop_reason == "enough" and history.steps == 5 and stopper.events[-1] == "end"


@pytest.mark.parametrize("change, name", [
    (dict(epochs=0), "epochs"),
    (dict(batch_size=0), "batch_size"),
    (dict(batch_size=3.0), "batch_size"),
    (dict(scheduler_interval="batch"), "scheduler_interval"),
    (dict(optimizer="foreign"), "optimizer"),
    (dict(train="tensor"), "train"),
    (dict(callbacks=[object()]), "callbacks"),
])
def test_bad_arguments_raise_before_anything_changes(subset, change, name):
    model, opt = sgd_mlp()
    before = copy.deepcopy(model.state_dict())
    args = dict(model=model, train=subset[0], optimizer=opt, epochs=1, batch_size=32, progress=False)
    if change.get("optimizer") == "foreign":
        change = dict(optimizer=torch.optim.SGD(MLP(hidden=128).parameters(), lr=0.1))
    if change.get("train") == "tensor":
        change = dict(train=subset[0].x)
    with pytest.raises(ValueError, match=name):
        fit(**{**args, **change})
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert opt.state_dict()["state"] == {}


def test_evaluate_reports_mean_loss_and_accuracy_and_restores_the_mode():
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(4, 3))
    with torch.no_grad():
        model[1].weight.zero_()
        model[1].bias.copy_(torch.tensor([0.0, 5.0, 0.0]))  # always predicts class 1
    data = TensorData(torch.zeros(10, 1, 2, 2), torch.tensor([1] * 7 + [0] * 3))
    model.train()
    metrics = evaluate(model, data, batch_size=4)
    assert metrics["accuracy"] == pytest.approx(0.7) and model.training
    expected = torch.nn.functional.cross_entropy(model(data.x), data.y).item()
    assert metrics["loss"] == pytest.approx(expected, rel=1e-6)


def test_lrs_applied_shows_the_scheduler_order_effect():
    from lrcourse.experiments import lrs_applied

    def halving(optimizer):
        return torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=0.5)

    assert lrs_applied(halving, steps=3) == ([1.0, 0.5, 0.25], [])
    used, caught = lrs_applied(halving, steps=3, scheduler_first=True)
    assert used == [0.5, 0.25, 0.125] and len(caught) == 1 and "before `optimizer.step()`" in caught[0]
