"""Sharpness against closed forms and full Hessians; lines and slices of the loss; nothing left changed."""

import copy

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

import lrcourse
from lrcourse.data import TensorData
from lrcourse.experiments import train_at_lr
from lrcourse.landscape import (SharpnessMonitor, interpolate, loss_slice, pca_directions, project,
                                random_direction, sharpness, top_eigen)
from lrcourse.landscape.lines import flatten, unflatten


def _regression(n=200, d=6, k=1, seed=0):
    generator = torch.Generator().manual_seed(seed)
    # Columns of different scales give a clear gap between the top eigenvalues.
    x = torch.randn(n, d, generator=generator, dtype=torch.float64) * torch.linspace(0.5, 3.0, d, dtype=torch.float64)
    y = torch.randn(n, k, generator=generator, dtype=torch.float64)
    return TensorData(x, y)


def _linear(d, k, seed=0):
    torch.manual_seed(seed)
    return nn.Linear(d, k).double()


@pytest.mark.parametrize("k", [1, 3])
def test_linear_model_with_squared_loss_matches_the_closed_form(k):
    # mse_loss averages over n * k numbers: L = 1/(n k) sum_ij (w_j . x~_i - y_ij)^2 with x~ = [x, 1].
    # Its Hessian is block diagonal, k blocks 2/(n k) X~^T X~, so the top eigenvalue is
    # (2 / k) * lambda_max(X~^T X~ / n).
    data = _regression(k=k)
    x_tilde = torch.cat([data.x, torch.ones(len(data), 1, dtype=torch.float64)], dim=1)
    expected = 2 / k * torch.linalg.eigvalsh(x_tilde.T @ x_tilde / len(data)).max().item()
    top = top_eigen(_linear(6, k), data, F.mse_loss, iters=500, tol=1e-12)
    assert top.converged
    assert top.value == pytest.approx(expected, rel=1e-9)
    # The eigenvector of a block-diagonal Hessian: the same direction in every output's block.
    assert sharpness(_linear(6, k), data, F.mse_loss, iters=500, tol=1e-12, batch_size=64) == \
        pytest.approx(expected, rel=1e-9)


def test_half_squared_error_halves_the_eigenvalue():
    data = _regression()
    full = sharpness(_linear(6, 1), data, F.mse_loss, iters=500, tol=1e-12)
    half = sharpness(_linear(6, 1), data, lambda out, y: 0.5 * F.mse_loss(out, y), iters=500, tol=1e-12)
    assert half == pytest.approx(full / 2, rel=1e-9)


def test_network_matches_the_largest_eigenvalue_of_the_full_hessian():
    torch.manual_seed(1)
    model = nn.Sequential(nn.Linear(4, 5), nn.Tanh(), nn.Linear(5, 3)).double()
    x, y = torch.randn(40, 4, dtype=torch.float64), torch.randint(0, 3, (40,))
    params = list(model.parameters())
    shapes = [p.shape for p in params]

    def loss_of(flat):
        pieces = torch.split(flat, [s.numel() for s in shapes])
        out = torch.func.functional_call(model, {name: piece.view(s) for (name, _), piece, s in
                                                 zip(model.named_parameters(), pieces, shapes)}, (x,))
        return F.cross_entropy(out, y)

    hessian = torch.autograd.functional.hessian(loss_of, torch.cat([p.detach().flatten() for p in params]))
    eigenvalues = torch.linalg.eigvalsh(hessian)
    largest = eigenvalues[eigenvalues.abs().argmax()].item()
    top = top_eigen(model, TensorData(x, y), iters=1000, tol=1e-12)
    assert top.value == pytest.approx(largest, rel=1e-6)
    vector = torch.cat([v.flatten() for v in top.vector])
    torch.testing.assert_close(hessian @ vector, top.value * vector, rtol=0, atol=1e-5)


def test_warm_start_converges_in_fewer_products():
    data = _regression()
    cold = top_eigen(_linear(6, 1), data, F.mse_loss, iters=500, tol=1e-10)
    warm = top_eigen(_linear(6, 1), data, F.mse_loss, iters=500, tol=1e-10, init=list(cold.vector))
    assert warm.iterations < cold.iterations and warm.value == pytest.approx(cold.value, rel=1e-8)


def test_model_state_is_left_as_it_was():
    model = lrcourse.SmallCNN(channels=(2, 3))
    data = TensorData(torch.randn(16, 1, 28, 28), torch.randint(0, 10, (16,)))
    F.cross_entropy(model(data.x), data.y).backward()  # a pending .grad that must survive
    grads = [p.grad.clone() for p in model.parameters()]
    state = copy.deepcopy(model.state_dict())
    for training in (True, False):
        model.train(training)
        sharpness(model, data, iters=3)
        sharpness(model, data, iters=3, batch_size=5, mode="eval")
        assert model.training is training
    for key, value in model.state_dict().items():
        torch.testing.assert_close(value, state[key], rtol=0, atol=0)
    for p, g in zip(model.parameters(), grads):
        torch.testing.assert_close(p.grad, g, rtol=0, atol=0)


def test_zero_hessian_is_zero():
    model = nn.Linear(3, 1).double()
    data = TensorData(torch.zeros(4, 3, dtype=torch.float64), torch.zeros(4, 1, dtype=torch.float64))
    top = top_eigen(model, data, lambda out, y: (out - y).sum(), iters=5)
    assert top.value == 0.0 and top.converged


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(data=(torch.zeros(2, 3), torch.zeros(2))), TypeError, "data must be a lrcourse.TensorData"),
    (dict(data=TensorData(torch.zeros(0, 3), torch.zeros(0))), ValueError, "data must hold at least one"),
    (dict(iters=0), ValueError, "iters must be an int >= 1"),
    (dict(tol=-1.0), ValueError, "tol must be"),
    (dict(mode="test"), ValueError, "mode must be one of"),
    (dict(seed=-1), ValueError, "seed must be"),
    (dict(batch_size=0), ValueError, "batch_size must be"),
    (dict(loss_fn="mse"), TypeError, "loss_fn must be callable"),
    (dict(init=[torch.zeros(3)]), ValueError, "init must be a list of tensors shaped"),
    (dict(init=[torch.zeros(1, 3), torch.zeros(1)]), ValueError, "init must be a finite, non-zero"),
    (dict(model="linear"), TypeError, "model must be a torch.nn.Module"),
])
def test_top_eigen_bad_arguments(kwargs, error, match):
    arguments = dict(model=nn.Linear(3, 1), data=TensorData(torch.randn(4, 3), torch.randn(4, 1)),
                     loss_fn=F.mse_loss)
    arguments.update(kwargs)
    with pytest.raises(error, match=match):
        top_eigen(**arguments)


def test_frozen_model_is_refused():
    model = nn.Linear(3, 1).requires_grad_(False)
    with pytest.raises(ValueError, match="trainable parameters"):
        sharpness(model, TensorData(torch.randn(4, 3), torch.randn(4, 1)), F.mse_loss)


def test_monitor_records_without_changing_training(fmnist):
    subset = fmnist.train[:64]
    cnn = lambda: lrcourse.SmallCNN(channels=(2, 4))  # noqa: E731 - batch norm: buffers must be restored
    monitor = SharpnessMonitor(subset[:32], every=3, iters=4, keep_weights=True)
    with_monitor = train_at_lr(subset, 0.05, epochs=1, batch_size=8, model=cnn, callbacks=[monitor])
    plain = train_at_lr(subset, 0.05, epochs=1, batch_size=8, model=cnn)
    for a, b in zip(with_monitor.model.state_dict().values(), plain.model.state_dict().values()):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    assert monitor.steps == [0, 3, 6, 8]
    assert len(monitor.values) == len(monitor.weights) == 4 and all(v > 0 for v in monitor.values)
    torch.testing.assert_close(monitor.weights[-1], flatten(with_monitor.model))


@pytest.mark.parametrize("kwargs, match", [
    (dict(every=0), "every must be"), (dict(iters=0), "iters must be"), (dict(keep_weights=1), "keep_weights"),
    (dict(loss_fn=3), "loss_fn must be callable"), (dict(data=[1, 2]), "data must be a lrcourse.TensorData"),
])
def test_monitor_bad_arguments(kwargs, match):
    arguments = dict(data=TensorData(torch.randn(4, 3), torch.randn(4, 1)))
    arguments.update(kwargs)
    with pytest.raises(ValueError, match=match):
        SharpnessMonitor(**arguments)


# ---- lines and slices ----------------------------------------------------------------------------------

def _states(seed_a=0, seed_b=1):
    return [copy.deepcopy(_linear(6, 1, seed).state_dict()) for seed in (seed_a, seed_b)]


def test_interpolation_ends_are_the_two_states_and_the_model_is_restored():
    data = _regression()
    a, b = _states()
    model = _linear(6, 1, seed=5)
    before = copy.deepcopy(model.state_dict())
    line = interpolate(model, a, b, data, points=[0.0, 0.5, 1.0, 1.5], loss_fn=F.mse_loss)
    for alpha, loss in zip(line.alphas, line.loss):
        probe = _linear(6, 1)
        probe.load_state_dict({k: (1 - alpha) * a[k] + alpha * b[k] for k in a})
        assert loss == pytest.approx(lrcourse.evaluate(probe, data, loss_fn=F.mse_loss)["loss"], rel=1e-12)
    for key, value in model.state_dict().items():
        torch.testing.assert_close(value, before[key], rtol=0, atol=0)
    # A convex loss lies below its chord: no barrier.
    assert line.barrier == pytest.approx(0.0, abs=1e-12)


def test_permuted_hidden_units_give_a_barrier():
    # Swapping hidden units gives a different point with the same loss; halfway, the units are averaged.
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    x = torch.randn(256, 4)
    data = TensorData(x, model(x).argmax(1).detach())  # labels the model fits
    for _ in range(200):
        model.zero_grad()
        F.cross_entropy(model(x), data.y).backward()
        with torch.no_grad():
            for p in model.parameters():
                p -= 0.5 * p.grad
    a = copy.deepcopy(model.state_dict())
    order = torch.roll(torch.arange(8), 1)
    b = dict(a, **{"0.weight": a["0.weight"][order], "0.bias": a["0.bias"][order], "2.weight": a["2.weight"][:, order]})
    line = interpolate(model, a, b, data, points=np.linspace(0, 1, 11))
    assert line.loss[0] == pytest.approx(line.loss[-1], rel=1e-5)
    assert line.barrier > 0.1


@pytest.mark.parametrize("change, error, match", [
    (dict(state_a=[1, 2]), TypeError, "state_a must be a state dict"),
    (dict(state_b={"weight": torch.zeros(1, 6)}), ValueError, "state_b must have the model's state keys"),
    (dict(state_b={"weight": torch.zeros(2, 6), "bias": torch.zeros(1)}), ValueError, r"state_b\['weight'\]"),
    (dict(points=[]), TypeError, "points must be a non-empty sequence"),
    (dict(points=[0.0, float("nan")]), ValueError, "points must hold finite numbers"),
    (dict(data=None), TypeError, "data must be a lrcourse.TensorData"),
])
def test_interpolate_bad_arguments(change, error, match):
    a, b = _states()
    arguments = dict(model=_linear(6, 1), state_a=a, state_b=b, data=_regression(), points=[0.0, 1.0])
    arguments.update(change)
    with pytest.raises(error, match=match):
        interpolate(**arguments)


def test_filter_normalized_direction():
    model = lrcourse.SmallCNN(channels=(2, 3))
    direction = random_direction(model, seed=3)
    for name, parameter in model.named_parameters():
        d = direction[name]
        if parameter.dim() <= 1:
            assert torch.count_nonzero(d) == 0
        else:
            dims = tuple(range(1, d.dim()))
            torch.testing.assert_close(torch.linalg.vector_norm(d, dim=dims),
                                       torch.linalg.vector_norm(parameter.detach(), dim=dims), rtol=1e-5, atol=1e-7)
    again = random_direction(model, seed=3)
    assert all(torch.equal(direction[k], again[k]) for k in direction)
    raw = random_direction(model, seed=3, normalization="none")
    assert all(torch.count_nonzero(v) == v.numel() for v in raw.values())


def test_slice_center_is_the_model_and_points_shift_the_weights():
    data = _regression()
    model = _linear(6, 1)
    before = copy.deepcopy(model.state_dict())
    d1, d2 = random_direction(model, 0, "none"), random_direction(model, 1, "none")
    grid = loss_slice(model, data, (d1, d2), xs=[-0.5, 0.0, 0.5], ys=[0.0, 1.0], loss_fn=F.mse_loss)
    assert grid.loss.shape == (2, 3)
    assert grid.loss[0, 1] == pytest.approx(lrcourse.evaluate(model, data, loss_fn=F.mse_loss)["loss"])
    probe = _linear(6, 1)
    probe.load_state_dict({k: before[k] + 0.5 * d1[k] + 1.0 * d2[k] for k in before})
    assert grid.loss[1, 2] == pytest.approx(lrcourse.evaluate(probe, data, loss_fn=F.mse_loss)["loss"])
    for key, value in model.state_dict().items():
        torch.testing.assert_close(value, before[key], rtol=0, atol=0)
    with pytest.raises(ValueError, match=r"directions\[1\] must map every parameter"):
        loss_slice(model, data, (d1, {"weight": d2["weight"]}))


def test_pca_finds_the_line_a_path_moved_along():
    generator = torch.Generator().manual_seed(0)
    u = torch.randn(50, generator=generator, dtype=torch.float64)
    u /= u.norm()
    origin = torch.randn(50, generator=generator, dtype=torch.float64)
    noise = 0.01 * torch.randn(11, 50, generator=generator, dtype=torch.float64)
    path = [origin + t * u + noise[t] for t in range(10, -1, -1)]
    first, second, explained = pca_directions(path, origin)
    assert abs(float(first @ u)) == pytest.approx(1.0, abs=1e-3) and explained[0] > 0.99
    assert float(first @ second) == pytest.approx(0.0, abs=1e-9)
    coordinates = project(path, origin, (first, second))
    np.testing.assert_allclose(np.abs(coordinates[:, 0]), np.arange(10, -1, -1), atol=0.05)


def test_flatten_and_unflatten_round_trip():
    model = lrcourse.SmallCNN(channels=(2, 3))
    vector = flatten(model)
    direction = unflatten(model, vector)
    for name, parameter in model.named_parameters():
        torch.testing.assert_close(direction[name], parameter.detach())
    with pytest.raises(ValueError, match="vector must be 1-D"):
        unflatten(model, vector[:-1])


def test_lines_and_slices_leave_grads_mode_and_buffers():
    torch.manual_seed(0)
    model = lrcourse.SmallCNN(channels=(2, 3))
    data = TensorData(torch.randn(12, 1, 28, 28), torch.randint(0, 10, (12,)))
    F.cross_entropy(model(data.x), data.y).backward()  # train mode: running stats moved, .grad pending
    grads = [p.grad.clone() for p in model.parameters()]
    state = copy.deepcopy(model.state_dict())
    other = {k: v + 0.1 if v.is_floating_point() else v for k, v in state.items()}
    interpolate(model, state, other, data, points=[0.0, 0.5, 2.0])
    loss_slice(model, data, (random_direction(model, 0), random_direction(model, 1)), xs=[-0.5, 0.5])
    assert model.training
    for key, value in model.state_dict().items():
        torch.testing.assert_close(value, state[key], rtol=0, atol=0)
    for p, g in zip(model.parameters(), grads):
        torch.testing.assert_close(p.grad, g, rtol=0, atol=0)
