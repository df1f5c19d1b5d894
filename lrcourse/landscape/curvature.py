r"""How curved the loss is: the top eigenvalue of its Hessian (the *sharpness*), by power iteration.

The Hessian :math:`H = \nabla^2 L(\theta)` of a network's loss has one row per weight, far too large
to build; but its product with a vector :math:`v` costs about two backward passes:
:math:`Hv = \nabla_\theta \big(\nabla_\theta L(\theta) \cdot v\big)` (double backward). Power iteration
repeats :math:`v \leftarrow Hv / \lVert Hv \rVert` and reads the eigenvalue as the Rayleigh quotient
:math:`\lambda = v^\top H v`; it converges to the eigenvalue of largest magnitude.

Why the LR cares: on a quadratic, gradient descent is stable only for :math:`\eta < 2 / \lambda_{max}`
(lesson 01). Cohen et al. (2021) found that full-batch gradient descent on a network drives
:math:`\lambda_{max}` up until it reaches about :math:`2/\eta`, and it then hovers there, the
*edge of stability*. :class:`SharpnessMonitor` records it during :func:`lrcourse.fit`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch
import torch.nn.functional as F

from ..callbacks import Callback, FitState
from ..checks import ArgumentTypeError, check_at_least, check_callable, check_choice, check_int, check_module
from ..checks import model_device, on_device
from ..data import TensorData


@dataclass(frozen=True)
class TopEigen:
    """The result of power iteration: the eigenvalue of largest magnitude (``value``), its unit
    eigenvector (``vector``, one tensor per trainable parameter, in ``model.parameters()`` order),
    how many Hessian-vector products it took (``iterations``) and whether the eigenvalue changed
    by less than ``tol`` (relative) in the last one (``converged``)."""

    value: float
    vector: tuple[torch.Tensor, ...]
    iterations: int
    converged: bool


def trainable(model: torch.nn.Module) -> list[torch.nn.Parameter]:
    """The parameters the Hessian is taken over: those with ``requires_grad``."""
    return [p for p in model.parameters() if p.requires_grad]


class _Restore:
    """Leaves the model's train/eval mode and buffers (BatchNorm's running statistics) as they were."""

    def __init__(self, model: torch.nn.Module, mode: str):
        self.model, self.mode = model, mode

    def __enter__(self):
        self.was_training = self.model.training
        self.buffers = [(b, b.clone()) for b in self.model.buffers()]
        self.model.train(self.mode == "train")
        return self

    def __exit__(self, *exc):
        self.model.train(self.was_training)
        with torch.no_grad():
            for buffer, copy in self.buffers:
                buffer.copy_(copy)
        return False


def _dot(a, b) -> torch.Tensor:
    return sum((x * y).sum() for x, y in zip(a, b))


def _gradients(model, params, data: TensorData, loss_fn) -> list:
    """The loss's gradient with its graph kept, for a second differentiation (None: no dependence)."""
    return list(torch.autograd.grad(loss_fn(model(data.x), data.y), params, create_graph=True, allow_unused=True))


def _second(grads, vector, params, retain: bool) -> list[torch.Tensor]:
    """:math:`Hv`: the gradient of :math:`g \\cdot v`; zero where the gradient does not depend on a weight."""
    used = [(g, v) for g, v in zip(grads, vector) if g is not None and g.requires_grad]
    if not used:  # a loss linear in the weights
        return [torch.zeros_like(p) for p in params]
    hv = torch.autograd.grad(_dot(*zip(*used)), params, retain_graph=retain, allow_unused=True)
    return [torch.zeros_like(p) if h is None else h for h, p in zip(hv, params)]


def _check_data(data, batch_size) -> None:
    if not isinstance(data, TensorData):
        raise ArgumentTypeError(f"data must be a lrcourse.TensorData (a fixed batch or subset); got "
                                f"{type(data).__name__}")
    if len(data) == 0:
        raise ValueError("data must hold at least one example")
    if batch_size is not None:
        check_int("batch_size", batch_size, 1)


def top_eigen(model: torch.nn.Module, data: TensorData, loss_fn: Callable | None = None, iters: int = 20,
              tol: float = 1e-3, init=None, seed: int = 0, batch_size: int | None = None,
              mode: str = "train") -> TopEigen:
    """Power iteration on the Hessian of the mean loss of ``model`` over ``data``.

    Args:
        data: a fixed set of examples (the Hessian of a mini-batch loss changes with the batch).
        loss_fn: returns the batch-mean loss; cross-entropy by default.
        iters: at most this many Hessian-vector products; stops earlier once the eigenvalue
            changes by less than ``tol`` times its size.
        init: a start vector (e.g. the previous ``TopEigen.vector``: a warm start converges in a
            few products when the weights moved little); None draws one from ``seed``.
        batch_size: split ``data`` into chunks of this many examples (the Hessian of the mean is
            the mean of the chunks' Hessians, weighted by size); None: one chunk. With batch norm
            in train mode each chunk is normalized by its own statistics.
        mode: ``"train"`` (the loss the optimizer sees: batch statistics) or ``"eval"``.

    The model's weights, ``.grad``, train/eval mode and buffers are left as they were.

    Example::

        top = top_eigen(model, data.train[:1000])
        print(top.value, 2 / lr)   # gradient descent at lr is stable near here if top.value < 2 / lr
    """
    check_module("model", model)
    _check_data(data, batch_size)
    check_int("iters", iters, 1)
    check_at_least("tol", tol, 0.0)
    check_int("seed", seed, 0)
    check_choice("mode", mode, ("train", "eval"))
    loss_fn = F.cross_entropy if loss_fn is None else loss_fn
    check_callable("loss_fn", loss_fn)
    params = trainable(model)
    if not params:
        raise ValueError("model must have trainable parameters (requires_grad=True)")
    vector = _start_vector(params, init, seed)
    data = on_device(data, model_device(model))
    chunks = [data] if batch_size is None or batch_size >= len(data) else \
        [data[i:i + batch_size] for i in range(0, len(data), batch_size)]

    with _Restore(model, mode):
        if len(chunks) == 1:
            # One chunk: the first backward's graph is kept and every product reuses it.
            grads = _gradients(model, params, chunks[0], loss_fn)

            def product(v):
                return _second(grads, v, params, retain=True)
        else:
            def product(v):
                total = [torch.zeros_like(p) for p in params]
                for chunk in chunks:
                    hv = _second(_gradients(model, params, chunk, loss_fn), v, params, retain=False)
                    for t, h in zip(total, hv):
                        t.add_(h, alpha=len(chunk) / len(data))
                return total

        value, converged, done = 0.0, False, 0
        for done in range(1, iters + 1):
            hv = [h.detach() for h in product(vector)]
            new = float(_dot(vector, hv))
            norm = float(torch.sqrt(_dot(hv, hv)))
            converged = done > 1 and abs(new - value) <= tol * abs(new)
            value = new
            if norm == 0.0:  # a zero Hessian: every vector is an eigenvector, of eigenvalue 0
                converged = True
                break
            vector = [h / norm for h in hv]
            if converged:
                break
    return TopEigen(value=value, vector=tuple(v.detach() for v in vector), iterations=done, converged=converged)


def _start_vector(params, init, seed: int) -> list[torch.Tensor]:
    if init is None:
        generator = torch.Generator().manual_seed(seed)
        vector = [torch.randn(p.shape, generator=generator, dtype=p.dtype).to(p.device) for p in params]
    else:
        vector = [torch.as_tensor(v) for v in init] if isinstance(init, (list, tuple)) else None
        if vector is None or len(vector) != len(params) or any(v.shape != p.shape for v, p in zip(vector, params)):
            raise ValueError("init must be a list of tensors shaped like the model's trainable parameters "
                             "(a TopEigen.vector of the same model)")
        vector = [v.detach().to(device=p.device, dtype=p.dtype) for v, p in zip(vector, params)]
    norm = torch.sqrt(_dot(vector, vector))
    if not torch.isfinite(norm) or norm == 0:
        raise ValueError("init must be a finite, non-zero vector")
    return [v / norm for v in vector]


def sharpness(model: torch.nn.Module, data: TensorData, loss_fn: Callable | None = None, iters: int = 20,
              **options) -> float:
    """The top eigenvalue of the Hessian of the loss over ``data`` (its largest in magnitude, which
    for a network away from a saddle is the largest positive one): :func:`top_eigen`'s ``value``.
    ``options`` are :func:`top_eigen`'s (``tol``, ``seed``, ``batch_size``, ``mode``, ``init``).

    Example::

        sharpness(model, data.train[:1000])   # gradient descent is stable below lr = 2 / this
    """
    return top_eigen(model, data, loss_fn, iters, **options).value


class SharpnessMonitor(Callback):
    """Records the sharpness on ``data`` every ``every`` steps of :func:`lrcourse.fit` (and after the
    last step): ``steps`` and ``values``. Each measurement starts from the previous eigenvector, so
    it takes a few Hessian-vector products (at most ``iters``). With ``keep_weights=True`` it also
    keeps the flattened weights at each record (``weights``), for drawing the path."""

    def __init__(self, data: TensorData, every: int = 10, iters: int = 20, tol: float = 1e-3,
                 loss_fn: Callable | None = None, keep_weights: bool = False):
        _check_data(data, None)
        check_int("every", every, 1)
        check_int("iters", iters, 1)
        check_at_least("tol", tol, 0.0)
        if loss_fn is not None:
            check_callable("loss_fn", loss_fn)
        if not isinstance(keep_weights, bool):
            raise ArgumentTypeError(f"keep_weights must be True or False; got {type(keep_weights).__name__}")
        self.data, self.every, self.iters, self.tol, self.loss_fn = data, every, iters, tol, loss_fn
        self.keep_weights = keep_weights
        self.steps: list[int] = []
        self.values: list[float] = []
        self.weights: list[torch.Tensor] = []
        self._vector = None

    def on_train_begin(self, state: FitState) -> None:
        self.steps, self.values, self.weights, self._vector = [], [], [], None
        self._record(state.model, -1)  # before the first step

    def on_batch_end(self, state: FitState) -> None:
        if (state.step + 1) % self.every == 0:
            self._record(state.model, state.step)

    def on_train_end(self, state: FitState) -> None:
        done = state.history.steps
        if self.steps and self.steps[-1] != done and not state.history.diverged:
            self._record(state.model, done - 1)

    def _record(self, model: torch.nn.Module, step: int) -> None:
        top = top_eigen(model, self.data, self.loss_fn, self.iters, tol=self.tol, init=self._vector)
        self._vector = top.vector
        # ``step`` is the 0-based index of the last step taken: the weights after step + 1 updates.
        self.steps.append(step + 1)
        self.values.append(top.value)
        if self.keep_weights:
            self.weights.append(torch.cat([p.detach().flatten() for p in model.parameters()]).cpu())
