import pytest
import torch

from lrcourse import MLP, SmallCNN
from lrcourse.device import seeded
from lrcourse.param_groups import depth_multipliers, head_body_multipliers, layer_groups, layers
from lrcourse.range_test import lr_range_test


def test_layers_are_the_children_with_parameters():
    assert [name for name, _ in layers(MLP())] == ["1", "3"]
    assert [name for name, _ in layers(SmallCNN())] == ["0", "1", "3"]


def test_groups_cover_every_trainable_parameter_once_with_the_right_lr():
    model = SmallCNN()
    groups = layer_groups(model, 0.01, depth_multipliers(model, 2.0))
    assert [g["name"] for g in groups] == ["0", "1", "3"]
    assert [g["lr"] for g in groups] == pytest.approx([0.0025, 0.005, 0.01])
    ids = [id(p) for g in groups for p in g["params"]]
    assert sorted(ids) == sorted(id(p) for p in model.parameters()) and len(set(ids)) == len(ids)
    optimizer = torch.optim.SGD(groups, momentum=0.9)
    assert [g["lr"] for g in optimizer.param_groups] == pytest.approx([0.0025, 0.005, 0.01])


def test_head_and_body_and_frozen_parameters():
    model = SmallCNN()
    for p in model[0].parameters():
        p.requires_grad_(False)
    groups = layer_groups(model, 0.1, head_body_multipliers(model, body=0.1))
    assert [(g["name"], g["lr"]) for g in groups] == [("1", pytest.approx(0.01)), ("3", pytest.approx(0.1))]


def test_the_range_test_keeps_the_multipliers(fmnist):
    model = seeded(MLP, 0)
    optimizer = torch.optim.SGD(layer_groups(model, 1e-3, [0.1, 1.0]), momentum=0.9)
    seen = []
    lr_range_test(model, fmnist.train[:640], optimizer, num_iter=8, progress=False,
                  on_step=lambda r: seen.append([g["lr"] for g in optimizer.param_groups]) and False)
    assert all(first == pytest.approx(second / 10) for first, second in seen)


@pytest.mark.parametrize("model, lr, multipliers, error, words", [
    ("mlp", 0.1, [1.0], ValueError, "one factor per layer (2"),
    ("mlp", 0.1, {"9": 1.0, "*": 0.1}, ValueError, "names layers the model does not have: ['9']"),
    ("mlp", 0.1, {"3": 1.0}, ValueError, "a '*' entry for the rest; missing ['1']"),
    ("mlp", 0.1, [1.0, 0.0], ValueError, "multipliers['3'] must be a finite number > 0"),
    ("mlp", 0.1, [1.0, float("nan")], ValueError, "multipliers['3'] must be"),
    ("mlp", 0.1, 0.5, TypeError, "multipliers must be a sequence of factors or a mapping"),
    ("mlp", 0.1, "0.5", TypeError, "multipliers must be a sequence of factors or a mapping"),
    ("mlp", -1.0, [1.0, 1.0], ValueError, "lr must be a finite number > 0"),
    ("linear", 0.1, [1.0], ValueError, "top-level children with trainable parameters"),
    ("not a model", 0.1, [1.0], TypeError, "model must be a torch.nn.Module"),
])
def test_bad_inputs(model, lr, multipliers, error, words):
    built = {"mlp": MLP(), "linear": torch.nn.Linear(2, 2), "not a model": "mlp"}[model]
    with pytest.raises(error) as raised:
        layer_groups(built, lr, multipliers)
    assert words in str(raised.value)


def test_bad_factors():
    with pytest.raises(ValueError, match="factor must be a finite number > 0"):
        depth_multipliers(MLP(), 0)
    with pytest.raises(ValueError, match="body must be a finite number > 0"):
        head_body_multipliers(MLP(), -1)
