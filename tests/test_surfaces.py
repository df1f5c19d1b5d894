import numpy as np
import pytest
import torch

from lrcourse.surfaces import (SURFACES, curvatures, gradient_descent, quadratic, saddle, sharp_and_flat, two_minima,
                               valley)


@pytest.mark.parametrize("name", sorted(SURFACES))
def test_gradients_match_autograd(name):
    surface = SURFACES[name]()
    point = np.array([0.7, -0.4])[: surface.dim]
    w = torch.tensor(point, requires_grad=True)
    surface.f(w).backward()
    np.testing.assert_allclose(surface.grad(point), w.grad.numpy(), rtol=1e-12)


@pytest.mark.parametrize("curvature", [0.5, 1.0, 8.0])
def test_quadratic_step_multiplies_by_one_minus_lr_times_curvature(curvature):
    lr = 0.3 / curvature
    descent = gradient_descent(quadratic(curvature), 1.5, lr, steps=5)
    np.testing.assert_allclose(descent.path[:, 0], 1.5 * (1 - lr * curvature) ** np.arange(6))


@pytest.mark.parametrize("curvature", [1.0, 4.0])
def test_divergence_starts_at_two_over_curvature(curvature):
    below = gradient_descent(quadratic(curvature), 1.0, 1.98 / curvature, steps=300)
    above = gradient_descent(quadratic(curvature), 1.0, 2.02 / curvature, steps=300)
    assert below.final_loss < below.loss[0] < above.final_loss


def test_gradient_descent_matches_torch_sgd():
    surface = valley((1.0, 20.0))
    descent = gradient_descent(surface, (-2.0, 1.0), 0.05, steps=10)
    w = torch.nn.Parameter(torch.tensor([-2.0, 1.0], dtype=torch.float64))
    optimizer = torch.optim.SGD([w], lr=0.05)
    for _ in range(10):
        optimizer.zero_grad()
        (0.5 * (w[0] ** 2 + 20 * w[1] ** 2)).backward()
        optimizer.step()
    np.testing.assert_allclose(descent.path[-1], w.detach().numpy(), atol=1e-12)


@pytest.mark.parametrize("momentum", [0.5, 0.9])
def test_momentum_matches_torch_sgd(momentum):
    surface = valley((1.0, 20.0))
    descent = gradient_descent(surface, (-2.0, 1.0), 0.05, steps=10, momentum=momentum)
    w = torch.nn.Parameter(torch.tensor([-2.0, 1.0], dtype=torch.float64))
    optimizer = torch.optim.SGD([w], lr=0.05, momentum=momentum)
    for _ in range(10):
        optimizer.zero_grad()
        (0.5 * (w[0] ** 2 + 20 * w[1] ** 2)).backward()
        optimizer.step()
    np.testing.assert_allclose(descent.path[-1], w.detach().numpy(), atol=1e-12)
    assert descent.momentum == momentum


@pytest.mark.parametrize("momentum", [0.0, 0.5, 0.85, 0.95])
@pytest.mark.parametrize("curvature", [1.0, 4.0])
def test_with_momentum_divergence_starts_at_two_times_one_plus_beta_over_curvature(momentum, curvature):
    limit = 2 * (1 + momentum) / curvature
    below = gradient_descent(quadratic(curvature), 1.0, 0.99 * limit, steps=2000, momentum=momentum)
    above = gradient_descent(quadratic(curvature), 1.0, 1.01 * limit, steps=2000, momentum=momentum)
    assert below.final_loss < below.loss[0] < above.final_loss


def test_divergent_run_stops_and_is_marked():
    descent = gradient_descent(quadratic(1.0), 1.0, 3.0, steps=1000)
    assert descent.diverged and descent.diverged_at == len(descent.loss) - 1 < 1000


def test_oscillation_counts_sign_flips():
    assert gradient_descent(quadratic(1.0), 1.0, 1.5, steps=10).sign_flips == 10
    assert gradient_descent(quadratic(1.0), 1.0, 0.5, steps=10).sign_flips == 0


def test_two_minima_lr_decides_the_basin():
    surface = two_minima()
    assert surface.minimum[0] == pytest.approx(-1.5257, abs=1e-4)
    assert gradient_descent(surface, (2.0, 1.0), 0.05, 60).path[-1, 0] > 1.0
    assert gradient_descent(surface, (2.0, 1.0), 0.4, 60).path[-1, 0] < -1.0


@pytest.mark.parametrize("kwargs, match", [
    (dict(start=(1.0,), lr=0.1, steps=5), "start must have 2"),
    (dict(start=(np.nan, 0.0), lr=0.1, steps=5), "start must be finite"),
    (dict(start=(1.0, 0.0), lr=0.0, steps=5), "lr must be"),
    (dict(start=(1.0, 0.0), lr=0.1, steps=0), "steps must be"),
    (dict(start=(1.0, 0.0), lr=0.1, momentum=1.0), "momentum must be a finite number in"),
    (dict(start=(1.0, 0.0), lr=0.1, momentum=-0.1), "momentum must be"),
    (dict(start=(1.0, 0.0), lr=0.1, momentum="0.9"), "momentum must be a number"),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        gradient_descent(valley(), **kwargs)


def test_bad_surface_parameters():
    with pytest.raises(ValueError, match="curvature"):
        quadratic(0.0)
    with pytest.raises(ValueError, match="curvatures"):
        valley((1.0, -1.0))


def test_curvatures_of_a_valley_and_a_saddle():
    np.testing.assert_allclose(curvatures(valley((1.0, 20.0)), (0.3, -0.2)), [1.0, 20.0], rtol=1e-6)
    np.testing.assert_allclose(curvatures(saddle(), (0.0, 0.0)), [-1.0, 1.0], rtol=1e-6)   # both signs: a saddle
    np.testing.assert_allclose(curvatures(saddle(), saddle().minimum), [1.0, 2.0], rtol=1e-6)
    assert np.allclose(saddle().grad(np.array(saddle().minimum)), 0)


def test_descent_lingers_near_the_saddle_for_a_time_like_one_over_lr():
    def escape(lr):
        path = gradient_descent(saddle(), (-1.5, 1e-3), lr, 2000).path
        return int(np.argmax(np.abs(path[:, 1]) > 0.5))
    # y grows by about (1 + lr) per step: the escape time falls about as 1 / lr.
    assert 1.7 < escape(0.05) / escape(0.1) < 2.3
    assert gradient_descent(saddle(), (-1.5, 1e-3), 0.1, 500).path[-1] == pytest.approx([0.0, 1.0], abs=1e-6)


def test_sharp_minimum_holds_only_below_two_over_its_curvature():
    surface = sharp_and_flat()
    sharp = surface.minimum[0]
    flat = gradient_descent(surface, 2.5, 0.01, 2000).path[-1, 0]
    sharpness, flatness = curvatures(surface, [sharp])[0], curvatures(surface, [flat])[0]
    assert 40 < sharpness < 50 and 2 < flatness < 4
    assert surface.f(np.array([sharp])) < surface.f(np.array([flat]))  # the sharp minimum is the deeper one
    stays = gradient_descent(surface, -1.3, 0.9 * 2 / sharpness, 500)
    assert stays.path[-1, 0] == pytest.approx(sharp, abs=1e-6)
    bounces = gradient_descent(surface, -1.3, 1.2 * 2 / sharpness, 500)
    assert bounces.sign_flips > 100 and bounces.final_loss > surface.f(np.array([sharp])) + 0.05
    thrown = gradient_descent(surface, -1.3, 0.3, 500)
    assert thrown.path[-1, 0] == pytest.approx(flat, abs=1e-6)


def test_curvatures_bad_arguments():
    with pytest.raises(ValueError, match="point must be 2 finite"):
        curvatures(saddle(), (0.0,))
    with pytest.raises(ValueError, match="h must be"):
        curvatures(saddle(), (0.0, 0.0), h=0)
