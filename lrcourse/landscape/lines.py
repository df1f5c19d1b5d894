r"""The loss between and around sets of weights: straight lines, planes, and the optimizer's path.

* :func:`interpolate` (Goodfellow, Vinyals & Saxe 2015): the loss along the straight line
  :math:`\theta(\alpha) = (1 - \alpha)\,\theta_a + \alpha\,\theta_b` between two weight states; with
  :math:`\alpha` outside [0, 1] the line extends past them, which shows how steep the walls are
  (Keskar et al. 2017 compare sharp and flat minima this way).
* :func:`random_direction` with *filter normalization* (Li et al. 2018): a random direction whose
  every filter (a row of a linear layer, an output channel of a convolution) has the norm of the
  same filter of the weights, so that slices of networks of different weight scales compare.
* :func:`loss_slice`: the loss on the plane :math:`\theta + x\,d_1 + y\,d_2` over a grid of
  :math:`(x, y)`; :func:`pca_directions` and :func:`project` give the plane in which an
  optimizer's path moved most (Li et al., section 7) and the path's coordinates in it.

Each function leaves the model's weights, buffers, ``.grad`` and train/eval mode as they were.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

import numpy as np
import torch

from ..checks import ArgumentTypeError, check_choice, check_int, check_module, is_real
from ..data import TensorData
from ..metrics import evaluate

#: A direction (or a weight state): one tensor per parameter name.
Direction = dict


@dataclass(frozen=True)
class Interpolation:
    """The loss and accuracy at ``alphas`` along the line from state a (alpha 0) to state b (alpha 1)."""

    alphas: np.ndarray
    loss: np.ndarray
    accuracy: np.ndarray

    @property
    def barrier(self) -> float:
        """How far the loss rises between the two ends above the straight line joining their
        losses (0 when the path between them never climbs): :math:`\\max_{0 \\le \\alpha \\le 1}
        L(\\alpha) - ((1 - \\alpha) L(0) + \\alpha L(1))`, over the alphas in [0, 1]."""
        inside = (self.alphas >= 0) & (self.alphas <= 1)
        if not (np.isclose(self.alphas, 0).any() and np.isclose(self.alphas, 1).any()):
            raise ValueError("barrier needs the points 0 and 1 among the alphas")
        start, end = self.loss[np.isclose(self.alphas, 0)][0], self.loss[np.isclose(self.alphas, 1)][0]
        a = self.alphas[inside]
        return float(np.max(self.loss[inside] - ((1 - a) * start + a * end)))


@dataclass(frozen=True)
class LossSlice:
    """The loss on a plane: ``loss[i, j]`` at ``center + xs[j] * d1 + ys[i] * d2`` (rows are y, as
    ``matplotlib.contour`` expects)."""

    xs: np.ndarray
    ys: np.ndarray
    loss: np.ndarray


def _float_state(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {name: value.detach().clone() for name, value in model.state_dict().items()}


@contextmanager
def _kept(model: torch.nn.Module):
    """Every entry of the model's state (weights and buffers) restored afterwards."""
    saved = _float_state(model)
    try:
        yield
    finally:
        model.load_state_dict(saved)


def _check_state(name: str, state, model: torch.nn.Module) -> None:
    if not isinstance(state, Mapping):
        raise ArgumentTypeError(f"{name} must be a state dict (model.state_dict()); got {type(state).__name__}")
    own = model.state_dict()
    if set(state) != set(own):
        missing, extra = sorted(set(own) - set(state)), sorted(set(state) - set(own))
        raise ValueError(f"{name} must have the model's state keys; missing {missing[:3]}, unexpected {extra[:3]}")
    for key, value in own.items():
        if not isinstance(state[key], torch.Tensor) or state[key].shape != value.shape:
            raise ValueError(f"{name}[{key!r}] must be a tensor of shape {tuple(value.shape)}")


def _check_data(data) -> None:
    if not isinstance(data, TensorData):
        raise ArgumentTypeError(f"data must be a lrcourse.TensorData; got {type(data).__name__}")
    if len(data) == 0:
        raise ValueError("data must hold at least one example")


def _points(name: str, points) -> np.ndarray:
    if isinstance(points, (str, bytes)) or not isinstance(points, (Sequence, np.ndarray)) or not len(points):
        raise ArgumentTypeError(f"{name} must be a non-empty sequence of numbers; got {type(points).__name__}")
    if not all(is_real(p) for p in points):
        raise ValueError(f"{name} must hold finite numbers only")
    return np.asarray(points, dtype=float)


def interpolate(model: torch.nn.Module, state_a, state_b, data: TensorData,
                points: Sequence[float] = tuple(np.linspace(-0.5, 1.5, 21)),
                loss_fn: Callable | None = None) -> Interpolation:
    """The loss and accuracy of ``model`` on ``data`` (in eval mode) with the weights
    :math:`(1 - \\alpha)\\,\\theta_a + \\alpha\\,\\theta_b` for each ``alpha`` in ``points``.

    ``state_a`` and ``state_b`` are state dicts of ``model`` (copy them:
    ``{k: v.clone() for k, v in model.state_dict().items()}``, since ``state_dict()`` returns
    live references). Buffers are interpolated too (batch norm's running statistics); integer
    buffers (batch counts) are taken from ``state_a``.

    Example::

        line = interpolate(model, init_state, final_state, data.val[:2000])
        plt.plot(line.alphas, line.loss)
    """
    check_module("model", model)
    _check_state("state_a", state_a, model)
    _check_state("state_b", state_b, model)
    _check_data(data)
    alphas = _points("points", points)
    losses, accuracies = [], []
    with _kept(model):
        for alpha in alphas:
            mixed = {key: (1 - alpha) * a + alpha * state_b[key].to(a) if a.is_floating_point() else a
                     for key, a in state_a.items()}
            model.load_state_dict(mixed)
            metrics = evaluate(model, data, loss_fn=loss_fn)
            losses.append(metrics["loss"])
            accuracies.append(metrics["accuracy"])
    return Interpolation(alphas, np.array(losses), np.array(accuracies))


def random_direction(model: torch.nn.Module, seed: int = 0, normalization: str = "filter") -> Direction:
    """A random Gaussian direction in the model's parameter space, by parameter name.

    ``normalization="filter"`` (Li et al. 2018): each filter :math:`d_{i,j}` (the slice along the
    first axis of a weight of two or more dimensions) is rescaled to the norm of the same
    filter of the weights, :math:`d_{i,j} \\leftarrow d_{i,j} / \\lVert d_{i,j} \\rVert \\cdot
    \\lVert \\theta_{i,j} \\rVert`; one-dimensional parameters (biases, batch norm's scale and
    shift) get zero, as in the authors' code. ``"none"``: the raw Gaussian direction.
    """
    check_module("model", model)
    check_int("seed", seed, 0)
    check_choice("normalization", normalization, ("filter", "none"))
    generator = torch.Generator().manual_seed(seed)
    direction = {}
    for name, parameter in model.named_parameters():
        d = torch.randn(parameter.shape, generator=generator, dtype=parameter.dtype).to(parameter.device)
        if normalization == "filter":
            if parameter.dim() <= 1:
                d.zero_()
            else:
                w = parameter.detach()
                dims = tuple(range(1, w.dim()))
                norm_w = torch.linalg.vector_norm(w, dim=dims, keepdim=True)
                d *= norm_w / (torch.linalg.vector_norm(d, dim=dims, keepdim=True) + 1e-10)
        direction[name] = d
    return direction


def _check_direction(name: str, direction, model: torch.nn.Module) -> None:
    params = dict(model.named_parameters())
    if not isinstance(direction, Mapping) or set(direction) != set(params) or \
            any(direction[k].shape != p.shape for k, p in params.items()):
        raise ValueError(f"{name} must map every parameter name of the model to a tensor of its shape "
                         "(see random_direction)")


def loss_slice(model: torch.nn.Module, data: TensorData, directions: tuple[Direction, Direction],
               xs: Sequence[float] = tuple(np.linspace(-1, 1, 15)), ys: Sequence[float] | None = None,
               loss_fn: Callable | None = None) -> LossSlice:
    """The loss of ``model`` on ``data`` (eval mode) at ``θ + x d1 + y d2`` for every ``x`` in ``xs``
    and ``y`` in ``ys`` (``xs`` again when None), where θ are the model's current weights."""
    check_module("model", model)
    _check_data(data)
    if not isinstance(directions, (tuple, list)) or len(directions) != 2:
        raise ArgumentTypeError("directions must be a pair (d1, d2) of directions")
    for index, direction in enumerate(directions):
        _check_direction(f"directions[{index}]", direction, model)
    xs = _points("xs", xs)
    ys = xs if ys is None else _points("ys", ys)
    d1, d2 = directions
    loss = np.empty((len(ys), len(xs)))
    with _kept(model):
        center = {name: p.detach().clone() for name, p in model.named_parameters()}
        params = dict(model.named_parameters())
        for i, y in enumerate(ys):
            for j, x in enumerate(xs):
                with torch.no_grad():
                    for name, p in params.items():
                        p.copy_(center[name] + float(x) * d1[name] + float(y) * d2[name])
                loss[i, j] = evaluate(model, data, loss_fn=loss_fn)["loss"]
    return LossSlice(xs, ys, loss)


def flatten(model: torch.nn.Module) -> torch.Tensor:
    """The model's parameters as one vector (a copy), in ``model.parameters()`` order."""
    return torch.cat([p.detach().flatten() for p in model.parameters()]).clone()


def unflatten(model: torch.nn.Module, vector: torch.Tensor) -> Direction:
    """A flat vector (as :func:`flatten` makes) split into a direction by parameter name."""
    sizes = [p.numel() for p in model.parameters()]
    if vector.dim() != 1 or vector.numel() != sum(sizes):
        raise ValueError(f"vector must be 1-D with {sum(sizes)} entries (the model's parameter count); got "
                         f"shape {tuple(vector.shape)}")
    pieces = torch.split(vector, sizes)
    return {name: piece.view_as(p).to(p) for (name, p), piece in zip(model.named_parameters(), pieces)}


def pca_directions(weights: Sequence[torch.Tensor], origin: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor,
                                                                                  np.ndarray]:
    """The two unit directions along which a path of flat weight vectors (``weights``, e.g.
    ``SharpnessMonitor.weights``) moved most about ``origin`` (usually its last point): the top
    two principal components of the matrix of rows :math:`\\theta_t - \\theta_{origin}`. Returns
    them and the fraction of the path's variance each explains."""
    if len(weights) < 3:
        raise ValueError(f"weights must hold at least 3 points of the path; got {len(weights)}")
    matrix = torch.stack([w.double() - origin.double() for w in weights])
    _, values, vh = torch.linalg.svd(matrix, full_matrices=False)
    explained = (values ** 2 / (values ** 2).sum()).numpy()
    return vh[0].to(origin.dtype), vh[1].to(origin.dtype), explained[:2]


def project(weights: Sequence[torch.Tensor], origin: torch.Tensor,
            directions: tuple[torch.Tensor, torch.Tensor]) -> np.ndarray:
    """Coordinates (one row ``(x, y)`` per point) of each flat weight vector relative to ``origin``
    along two orthonormal directions."""
    basis = torch.stack([d.double() for d in directions])
    return torch.stack([basis @ (w.double() - origin.double()) for w in weights]).numpy()
