"""Class splits, head swaps, gradual unfreezing and fine-tuning runs; weight-norm monitoring."""

import copy

import pytest
import torch
from torch import nn

import lrcourse
import lrcourse.schedules as S
from lrcourse.data import TensorData
from lrcourse.finetune import GradualUnfreezing, fine_tune, split_classes, swap_head
from lrcourse.param_groups import depth_multipliers
from lrcourse.weight_norms import WeightNormMonitor


def _data(n=64, classes=10, seed=0):
    generator = torch.Generator().manual_seed(seed)
    return TensorData(torch.rand(n, 1, 28, 28, generator=generator),
                      torch.randint(0, classes, (n,), generator=generator))


def _cnn():
    return lrcourse.SmallCNN(channels=(2, 3), num_classes=4)


def test_split_classes_keeps_and_relabels_in_the_order_given():
    data = _data(200)
    part = split_classes(data, [7, 2])
    assert len(part) == int(((data.y == 7) | (data.y == 2)).sum())
    torch.testing.assert_close(part.x, data.x[(data.y == 7) | (data.y == 2)])
    assert torch.equal(part.y, torch.where(data.y[(data.y == 7) | (data.y == 2)] == 7, 0, 1))
    assert len(split_classes(data, [11])) == 0


@pytest.mark.parametrize("classes, error, match", [
    ([], TypeError, "classes must be a non-empty sequence"),
    ("12", TypeError, "classes must be a non-empty sequence"),
    ([1, 1], ValueError, "must not repeat"),
    ([-1], ValueError, "classes"),
    ([1.5], ValueError, "classes"),
])
def test_split_classes_bad_arguments(classes, error, match):
    with pytest.raises(error, match=match):
        split_classes(_data(), classes)


def test_swap_head_copies_the_body_and_leaves_the_model_alone():
    torch.manual_seed(0)
    model = _cnn()
    before = copy.deepcopy(model.state_dict())
    new = swap_head(model, 7, seed=3)
    assert new[-1].out_features == 7 and new[-1].in_features == model[-1].in_features
    for key, value in model.state_dict().items():
        torch.testing.assert_close(value, before[key], rtol=0, atol=0)
        if not key.startswith("3."):
            torch.testing.assert_close(new.state_dict()[key], value, rtol=0, atol=0)
    again = swap_head(model, 7, seed=3)
    torch.testing.assert_close(again[-1].weight, new[-1].weight, rtol=0, atol=0)
    assert new[0][0].weight.data_ptr() != model[0][0].weight.data_ptr()


def test_swap_head_needs_a_linear_last_layer():
    with pytest.raises(ValueError, match="last layer must be an nn.Linear"):
        swap_head(nn.Sequential(nn.Linear(3, 3), nn.Conv1d(1, 1, 1)), 2)
    with pytest.raises(ValueError, match="num_classes must be an int >= 1"):
        swap_head(_cnn(), 0)


def test_gradual_unfreezing_trains_one_more_layer_each_epoch():
    torch.manual_seed(0)
    model = _cnn()
    data = _data(32, classes=4)
    snapshots = []

    class Snapshot(lrcourse.Callback):
        def on_epoch_end(self, state):
            snapshots.append(copy.deepcopy({k: v for k, v in state.model.named_parameters()}))

    start = copy.deepcopy(dict(model.named_parameters()))
    model[1][0].weight.requires_grad_(False)  # frozen by the user: stays frozen, and is restored so
    unfreezing = GradualUnfreezing(every=1)
    # Snapshot runs first: it sees each epoch's weights before the next layer is unfrozen.
    lrcourse.fit(model, data, torch.optim.SGD(model.parameters(), lr=0.1), epochs=3, batch_size=8,
                 callbacks=[Snapshot(), unfreezing], progress=False)
    assert unfreezing.unfrozen == [1, 2, 3]

    def moved(epoch, prefix):
        return any(not torch.equal(snapshots[epoch][k], start[k]) for k in start if k.startswith(prefix))

    assert moved(0, "3.") and not moved(0, "1.") and not moved(0, "0.")
    assert moved(1, "1.1.") and not moved(1, "0.")  # the second block's batch norm; its conv is frozen
    assert torch.equal(snapshots[2]["1.0.weight"], start["1.0.weight"])
    assert moved(2, "0.")
    assert not model[1][0].weight.requires_grad
    assert all(p.requires_grad for name, p in model.named_parameters() if name != "1.0.weight")


def test_fine_tune_puts_the_head_first_and_keeps_the_ratios():
    torch.manual_seed(0)
    body = _cnn()
    data = _data(40, classes=3)
    factors = depth_multipliers(body, 2.0)
    schedule = S.linear_decay(base_lr=0.1, total_steps=10)
    run = fine_tune(body, data, 0.1, num_classes=3, epochs=2, batch_size=8, multipliers=factors, schedule=schedule)
    assert run.model[-1].out_features == 3
    assert run.history.lr[:3] == pytest.approx([schedule(t) for t in range(3)])
    # The body was copied: the pre-trained model is untouched.
    assert torch.equal(body[0][0].weight, _cnn_state()["0.0.weight"])


def _cnn_state():
    torch.manual_seed(0)
    return _cnn().state_dict()


def test_head_only_leaves_the_body_weights():
    torch.manual_seed(0)
    body = _cnn()
    run = fine_tune(body, _data(40, classes=3), 0.1, num_classes=3, epochs=1, batch_size=8, head_only=True)
    for key in ("0.0.weight", "1.0.weight", "0.1.weight"):
        torch.testing.assert_close(run.model.state_dict()[key], body.state_dict()[key], rtol=0, atol=0)
    assert not torch.equal(run.model[-1].weight, swap_head(body, 3)[-1].weight)


@pytest.mark.parametrize("kwargs, match", [
    (dict(lr=0.0), "lr must be"), (dict(optimizer="lion"), "optimizer must be one of"),
    (dict(head_only=True, unfreeze_every=1), "exclude each other"), (dict(multipliers=[1.0]), "one factor per layer"),
    (dict(unfreeze_every=0), "every must be an int >= 1"), (dict(pretrained="cnn"), "pretrained must be"),
])
def test_fine_tune_bad_arguments(kwargs, match):
    arguments = dict(pretrained=_cnn(), train=_data(16, classes=3), lr=0.1, num_classes=3)
    arguments.update(kwargs)
    with pytest.raises(ValueError, match=match):
        fine_tune(**arguments)


def test_weight_norm_monitor_measures_each_step():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 5), nn.ReLU(), nn.Linear(5, 3))
    data = _data(48, classes=3)
    weights = []

    class Keep(lrcourse.Callback):
        def on_train_begin(self, state):
            weights.append(model[1].weight.detach().clone())

        def on_batch_end(self, state):
            weights.append(model[1].weight.detach().clone())

    monitor = WeightNormMonitor(every=2)
    lrcourse.fit(model, data, torch.optim.SGD(model.parameters(), lr=0.5, weight_decay=0.1), epochs=1,
                 batch_size=8, callbacks=[Keep(), monitor], progress=False)
    assert monitor.steps == [0, 2, 4] and set(monitor.norms) == {"1.weight", "3.weight"}
    for index, step in enumerate(monitor.steps):
        after, before = weights[step + 1], weights[step]
        assert monitor.norms["1.weight"][index] == pytest.approx(float(after.norm()))
        expected = float((after - before).norm() / before.norm())
        assert monitor.relative_steps["1.weight"][index] == pytest.approx(expected)


def test_weight_norm_monitor_bad_arguments():
    with pytest.raises(ValueError, match="every must be"):
        WeightNormMonitor(every=0)
    with pytest.raises(TypeError, match="names must be a list"):
        WeightNormMonitor(names="weight")
    model = nn.Linear(3, 2)
    with pytest.raises(ValueError, match="names must be parameters of the model"):
        lrcourse.fit(model, TensorData(torch.randn(4, 3), torch.tensor([0, 1, 0, 1])),
                     torch.optim.SGD(model.parameters(), lr=0.1), epochs=1, batch_size=2,
                     callbacks=[WeightNormMonitor(names=["bias", "kernel"])], progress=False)


def test_stop_at_target_ends_after_the_epoch_that_reaches_it():
    from lrcourse.callbacks import StopAtTarget

    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 3))
    data = _data(24, classes=3)
    stop = StopAtTarget(0.9, monitor="train_accuracy")
    history = lrcourse.fit(model, data, torch.optim.SGD(model.parameters(), lr=0.5), epochs=200, batch_size=8,
                           callbacks=[stop], progress=False)
    assert stop.reached_at == history.epochs - 1 < 199
    assert history.train_accuracy[-1] >= 0.9 and all(a < 0.9 for a in history.train_accuracy[:-1])
    with pytest.raises(ValueError, match="monitor must be one of"):
        StopAtTarget(0.1, monitor="loss")
    with pytest.raises(ValueError, match="target must be a finite number"):
        StopAtTarget(float("nan"))
    with pytest.raises(ValueError, match="needs val data"):
        lrcourse.fit(model, data, torch.optim.SGD(model.parameters(), lr=0.5), epochs=1, batch_size=8,
                     callbacks=[StopAtTarget(0.1, monitor="val_loss")], progress=False)
