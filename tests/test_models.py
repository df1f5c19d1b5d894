import pytest
import torch

from lrcourse import MLP, SmallCNN


def test_mlp_is_the_books_network():
    model = MLP()
    assert model(torch.zeros(5, 1, 28, 28)).shape == (5, 10)
    assert [tuple(p.shape) for p in model.parameters()] == [(1000, 784), (1000,), (10, 1000), (10,)]
    assert sum(p.numel() for p in model.parameters()) == 795_010


def test_small_cnn_maps_images_to_ten_logits_and_has_batchnorm():
    model = SmallCNN()
    assert model(torch.zeros(4, 1, 28, 28)).shape == (4, 10)
    assert sum(isinstance(m, torch.nn.BatchNorm2d) for m in model.modules()) == 2
    assert SmallCNN(channels=(8, 8))(torch.zeros(2, 1, 28, 28)).shape == (2, 10)


def test_small_cnn_without_batchnorm_has_conv_biases_instead():
    model = SmallCNN(batch_norm=False)
    assert model(torch.zeros(4, 1, 28, 28)).shape == (4, 10)
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in model.modules())
    convs = [m for m in model.modules() if isinstance(m, torch.nn.Conv2d)]
    assert len(convs) == 2 and all(conv.bias is not None for conv in convs)
    assert all(conv.bias is None for conv in SmallCNN().modules() if isinstance(conv, torch.nn.Conv2d))


@pytest.mark.parametrize("make, name", [
    (lambda: MLP(hidden=0), "hidden"),
    (lambda: MLP(num_classes=1.5), "num_classes"),
    (lambda: SmallCNN(channels=(16,)), "channels"),
    (lambda: SmallCNN(channels=(16, -1)), "channels"),
    (lambda: SmallCNN(batch_norm=1), "batch_norm"),
    (lambda: SmallCNN(batch_norm="no"), "batch_norm"),
])
def test_bad_sizes_name_the_parameter(make, name):
    with pytest.raises(ValueError, match=name):
        make()
