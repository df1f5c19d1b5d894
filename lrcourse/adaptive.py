"""What adaptive optimizers adapt: the step size each single weight actually gets.

SGD moves every weight by ``lr`` times its gradient. AdaGrad, RMSprop and Adam divide by
a running measure of each weight's own gradient size, so every weight gets its own
*effective* learning rate; :func:`effective_lrs` reads it from the optimizer's state:

* AdaGrad: :math:`\\eta / (\\sqrt{\\sum_{s \\le t} g_s^2} + \\epsilon)` (with ``lr_decay``,
  :math:`\\eta` is divided by :math:`1 + (t - 1) \\cdot lr\\_decay`), times the gradient;
* RMSprop: :math:`\\eta / (\\sqrt{v_t} + \\epsilon)`, :math:`v_t = \\alpha v_{t-1} + (1 - \\alpha) g_t^2`,
  times the gradient;
* Adam, AdamW: :math:`\\frac{\\eta}{1 - \\beta_1^t} / (\\sqrt{v_t / (1 - \\beta_2^t)} + \\epsilon)`, times the
  momentum :math:`m_t` (so the step is :math:`\\eta \\hat m_t / (\\sqrt{\\hat v_t} + \\epsilon)`);
* SGD: :math:`\\eta` for every weight.

That is the factor PyTorch applied in the last step; with weight decay, AdamW's decay and
the other optimizers' L2 term come on top.

:class:`StepSizeMonitor` records how far each step actually moves one layer: its weights and its
outputs. For Adam the step of a weight is :math:`\\eta\\,|\\hat m_t| / (\\sqrt{\\hat v_t} + \\epsilon)`:
:math:`\\eta` (to within :math:`\\epsilon`) at the first step for every weight with a nonzero gradient (then
:math:`\\hat m_1 / \\sqrt{\\hat v_1} = \\operatorname{sign} g_1`, whatever the gradient's size), and
later close to :math:`\\eta` only while the weight's gradient keeps its sign; where it changes sign
from batch to batch, :math:`m_t` averages out and the steps shrink.

:func:`adamw_paper` builds AdamW in Loshchilov & Hutter's own parametrisation, where the decay
per step does not depend on the base LR (PyTorch's and Keras's AdamW multiply it by the LR).
"""

from __future__ import annotations

import math

import torch

from .callbacks import Callback, FitState
from .checks import ArgumentTypeError, check_at_least, check_positive, model_device

#: Quantiles the monitor records, over all weights of the model.
QUANTILES = (0.1, 0.5, 0.9)
_MAX_SAMPLE = 1 << 22  # torch.quantile's input limit is 2**24 elements; a strided sample is plenty


def _group_of(optimizer: torch.optim.Optimizer) -> dict[int, dict]:
    return {id(p): group for group in optimizer.param_groups for p in group["params"]}


def _sgd(group: dict, state: dict, parameter: torch.Tensor) -> torch.Tensor:
    return torch.full_like(parameter, group["lr"])


def _adagrad(group: dict, state: dict, parameter: torch.Tensor) -> torch.Tensor:
    step = float(state["step"])
    return group["lr"] / (1 + (step - 1) * group["lr_decay"]) / (state["sum"].sqrt() + group["eps"])


def _rmsprop(group: dict, state: dict, parameter: torch.Tensor) -> torch.Tensor:
    return group["lr"] / (state["square_avg"].sqrt() + group["eps"])


def _adam(group: dict, state: dict, parameter: torch.Tensor) -> torch.Tensor:
    step = float(state["step"])
    beta1, beta2 = group["betas"]
    correction2 = math.sqrt(1 - beta2 ** step)
    return group["lr"] / (1 - beta1 ** step) / (state["exp_avg_sq"].sqrt() / correction2 + group["eps"])


# Looked up by the optimizer's exact class: a subclass may step differently, and AdamW is a subclass of
# Adam only in newer torch (not in 2.5), so neither isinstance nor the class hierarchy can be relied on.
_FORMULAS = {
    torch.optim.SGD: _sgd,
    torch.optim.Adagrad: _adagrad,
    torch.optim.RMSprop: _rmsprop,
    torch.optim.Adam: _adam,
    torch.optim.AdamW: _adam,  # the same step size; AdamW's decoupled decay comes on top
}


def _formula(optimizer: torch.optim.Optimizer):
    """The effective-LR formula for ``optimizer``; ValueError for an optimizer or setting it does not cover."""
    formula = _FORMULAS.get(type(optimizer))
    if formula is None:
        raise ValueError(f"optimizer must be SGD, Adagrad, RMSprop, Adam or AdamW; got {type(optimizer).__name__}")
    for group in optimizer.param_groups:
        for option in ("amsgrad", "centered"):
            if group.get(option):
                raise ValueError(f"{option}=True is not supported: its effective LR has another formula")
        if formula is _rmsprop and group["momentum"]:
            raise ValueError("RMSprop with momentum is not supported: its steps mix the LR into the momentum buffer")
    return formula


def adamw_paper(params, lr: float, weight_decay: float, **kwargs) -> torch.optim.AdamW:
    """AdamW as Loshchilov & Hutter write it ("Decoupled weight decay regularization", ICLR 2019,
    Algorithm 2): :math:`\\theta_t = \\theta_{t-1} - \\eta_t (\\alpha \\hat m_t / (\\sqrt{\\hat v_t} + \\epsilon)
    + \\lambda \\theta_{t-1})`, with base LR :math:`\\alpha` = ``lr``, :math:`\\lambda` = ``weight_decay`` and
    schedule multiplier :math:`\\eta_t` = (the LR now) / ``lr``. Every step shrinks each weight by the
    fraction :math:`\\eta_t \\lambda`, whatever the base LR.

    ``torch.optim.AdamW`` shrinks by :math:`lr_t \\cdot wd = \\alpha \\eta_t \\cdot wd` instead, so the
    paper's form is ``torch.optim.AdamW`` with ``weight_decay = λ / lr``; that is what this returns (other
    keyword arguments go to AdamW). Exact under any scheduler that scales the LR.

    Example:
        >>> model = torch.nn.Linear(3, 1)
        >>> optimizer = adamw_paper(model.parameters(), lr=1e-3, weight_decay=1e-4)
        >>> optimizer.param_groups[0]["weight_decay"]   # λ / lr: PyTorch multiplies it by the LR again
        0.1
    """
    lr = check_positive("lr", lr)
    weight_decay = check_at_least("weight_decay", weight_decay, 0.0)
    return torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay / lr, **kwargs)


@torch.no_grad()
def effective_lrs(model: torch.nn.Module, optimizer: torch.optim.Optimizer) -> dict[str, torch.Tensor]:
    """Each parameter's effective LR (same shape as the parameter), by the parameter's name
    in ``model``, as applied in the optimizer's last step (see the module docstring).

    ``optimizer`` must be exactly ``torch.optim`` SGD, Adagrad, RMSprop, Adam or AdamW: a subclass
    may step differently, so it raises ValueError like any other optimizer."""
    formula = _formula(optimizer)
    groups = _group_of(optimizer)
    result = {}
    for name, parameter in model.named_parameters():
        group = groups.get(id(parameter))
        if group is None:
            continue
        state = optimizer.state.get(parameter, {})
        if formula is not _sgd and "step" not in state:
            raise ValueError(f"parameter {name!r} has no optimizer state yet: take at least one optimizer step first")
        result[name] = formula(group, state, parameter)
    return result


def lr_quantiles(lrs: dict[str, torch.Tensor], quantiles=QUANTILES) -> tuple[float, ...]:
    """Quantiles of the effective LRs of all weights together."""
    values = torch.cat([lr.flatten().float() for lr in lrs.values()])
    if values.numel() > _MAX_SAMPLE:
        values = values[:: -(-values.numel() // _MAX_SAMPLE)]
    return tuple(torch.quantile(values, torch.tensor(quantiles, device=values.device)).tolist())


class EffectiveLRMonitor(Callback):
    """Records the 10%, 50% and 90% quantiles of the weights' effective LRs every ``every`` steps
    of :func:`lrcourse.fit`: ``steps`` and ``quantiles`` (one tuple per record)."""

    def __init__(self, every: int = 25):
        if isinstance(every, bool) or not isinstance(every, int) or every < 1:
            raise ValueError(f"every must be an int >= 1; got {every!r}")
        self.every = every
        self.steps: list[int] = []
        self.quantiles: list[tuple[float, ...]] = []

    def on_train_begin(self, state: FitState) -> None:
        _formula(state.optimizer)
        self.steps, self.quantiles = [], []

    def on_batch_end(self, state: FitState) -> None:
        if state.step % self.every == 0:
            self.steps.append(state.step)
            self.quantiles.append(lr_quantiles(effective_lrs(state.model, state.optimizer)))


class StepSizeMonitor(Callback):
    """Records, after every step of :func:`lrcourse.fit`, how far that step moved the module named
    ``layer`` (as in ``model.named_modules()``, e.g. ``"1"`` for the first linear layer of
    :class:`lrcourse.MLP`): ``weight_steps`` holds the mean absolute change of its ``weight``,
    :math:`\\overline{|w_t - w_{t-1}|}`, and, given ``probe`` (a batch of the layer's *inputs*),
    ``output_steps`` holds the mean absolute change of its output on them,
    :math:`\\overline{|f_t(p) - f_{t-1}(p)|}`; ``gradient_norms`` holds the norm of the weight's
    gradient in that step (0 where it got none). One value per step, in step order. Meant for short
    runs: it copies the weight and runs the layer on ``probe`` at every step.

    Example (Adam's first step moves every weight with a nonzero gradient by lr)::

        monitor = StepSizeMonitor("1", probe=data.train.x[:256].flatten(1))
        lrcourse.fit(model, data.train[:3200], torch.optim.Adam(model.parameters(), lr=1e-3), epochs=1,
                     batch_size=32, callbacks=[monitor], progress=False)
        np.array(monitor.weight_steps) / 1e-3   # about 1 at first, smaller once gradients change sign
    """

    def __init__(self, layer: str, probe: torch.Tensor | None = None):
        if not isinstance(layer, str):
            raise ArgumentTypeError(f"layer must be a module name (str) as in model.named_modules(); "
                                    f"got {type(layer).__name__} {layer!r}")
        if probe is not None and not isinstance(probe, torch.Tensor):
            raise ArgumentTypeError(f"probe must be a tensor of the layer's inputs or None; got {type(probe).__name__}")
        self.layer, self.probe = layer, probe
        self.weight_steps: list[float] = []
        self.output_steps: list[float] = []
        self.gradient_norms: list[float] = []

    def on_train_begin(self, state: FitState) -> None:
        modules = dict(state.model.named_modules())
        module = modules.get(self.layer)
        if module is None or not isinstance(getattr(module, "weight", None), torch.Tensor):
            with_weight = [name for name, m in modules.items() if isinstance(getattr(m, "weight", None), torch.Tensor)]
            raise ValueError(f"layer must name a module of the model that has a weight; got {self.layer!r}; "
                             f"modules with a weight: {with_weight}")
        self._module = module
        self.weight_steps, self.output_steps, self.gradient_norms = [], [], []
        self._probe = None if self.probe is None else self.probe.to(model_device(state.model))
        self._weight = module.weight.detach().clone()
        self._output = self._run_probe()

    @torch.no_grad()
    def _run_probe(self) -> torch.Tensor | None:
        if self._probe is None:
            return None
        was_training = self._module.training
        self._module.eval()  # a measurement: batch norm must not update its running statistics on the probe
        try:
            return self._module(self._probe)
        except RuntimeError as error:
            raise ValueError(f"probe must be a batch of inputs of layer {self.layer!r}: {error}") from error
        finally:
            self._module.train(was_training)

    def on_batch_end(self, state: FitState) -> None:
        weight = self._module.weight.detach()
        grad = self._module.weight.grad
        self.gradient_norms.append(0.0 if grad is None else float(grad.norm()))
        self.weight_steps.append(float((weight - self._weight).abs().mean()))
        self._weight = weight.clone()
        if self._probe is not None:
            output = self._run_probe()
            self.output_steps.append(float((output - self._output).abs().mean()))
            self._output = output
