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


@pytest.mark.parametrize("make, name", [
    (lambda: MLP(hidden=0), "hidden"),
    (lambda: MLP(num_classes=1.5), "num_classes"),
    (lambda: SmallCNN(channels=(16,)), "channels"),
    (lambda: SmallCNN(channels=(16, -1)), "channels"),
])
def test_bad_sizes_name_the_parameter(make, name):
    with pytest.raises(ValueError, match=name):
        make()
