r"""How large the weights are, and how far each step moves them relative to their size.

For a weight followed by batch norm the loss does not change when the weight is scaled,
:math:`L(c\,w) = L(w)`, so what decides how far a step moves the *function* is not the LR but the
relative step :math:`\lVert \Delta w \rVert / \lVert w \rVert`. Its gradient is orthogonal to
:math:`w` and shrinks like :math:`1/\lVert w \rVert`, so a plain SGD step moves
:math:`w` by :math:`\eta \lVert g \rVert \propto \eta / \lVert w \rVert` and the relative step is about
:math:`\eta / \lVert w \rVert^2`: an *effective LR*. Without weight decay :math:`\lVert w \rVert`
only grows (each step adds an orthogonal piece), so the effective LR falls by itself; weight decay
keeps the norm small and the effective LR up (van Laarhoven 2017, *L2 Regularization versus Batch
and Weight Normalization*; Zhang, Wang, Xu & Grosse 2019, *Three Mechanisms of Weight Decay
Regularization*). :class:`WeightNormMonitor` measures both during :func:`lrcourse.fit`.
"""

from __future__ import annotations

from typing import Sequence

import torch

from .callbacks import Callback, FitState
from .checks import ArgumentTypeError, check_int


class WeightNormMonitor(Callback):
    """Records, every ``every`` steps, each watched weight's norm :math:`\\lVert w_t \\rVert` and the
    relative size of the step just taken, :math:`\\lVert w_t - w_{t-1} \\rVert / \\lVert w_{t-1} \\rVert`.

    ``names`` are the parameters to watch (as in ``model.named_parameters()``); None watches every
    weight of two or more dimensions (convolution kernels and linear weights, not biases or batch
    norm's scale and shift). Results: ``steps`` (0-based index of the step taken), ``norms[name]``
    and ``relative_steps[name]``, one value per record.
    """

    def __init__(self, every: int = 10, names: Sequence[str] | None = None):
        check_int("every", every, 1)
        if names is not None and (isinstance(names, (str, bytes)) or not all(isinstance(n, str) for n in names)):
            raise ArgumentTypeError(f"names must be a list of parameter names or None; got {names!r}")
        self.every = every
        self.names = None if names is None else list(names)
        self.steps: list[int] = []
        self.norms: dict[str, list[float]] = {}
        self.relative_steps: dict[str, list[float]] = {}

    def on_train_begin(self, state: FitState) -> None:
        parameters = dict(state.model.named_parameters())
        if self.names is None:
            watched = [name for name, p in parameters.items() if p.dim() >= 2]
        else:
            unknown = [name for name in self.names if name not in parameters]
            if unknown:
                raise ValueError(f"names must be parameters of the model; unknown: {unknown}; the model has "
                                 f"{list(parameters)}")
            watched = self.names
        self._params = {name: parameters[name] for name in watched}
        self.steps = []
        self.norms = {name: [] for name in watched}
        self.relative_steps = {name: [] for name in watched}
        self._before = self._copy()

    def _copy(self) -> dict[str, torch.Tensor]:
        return {name: p.detach().clone() for name, p in self._params.items()}

    def on_batch_end(self, state: FitState) -> None:
        if state.step % self.every == 0:
            self.steps.append(state.step)
            for name, p in self._params.items():
                before = self._before[name]
                self.norms[name].append(float(p.detach().norm()))
                self.relative_steps[name].append(float((p.detach() - before).norm() / before.norm().clamp_min(1e-12)))
        if (state.step + 1) % self.every == 0:
            # The weights before the next recorded step.
            self._before = self._copy()
