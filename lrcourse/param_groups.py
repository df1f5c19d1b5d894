"""Per-layer learning rates: parameter groups built from a model and LR multipliers.

An optimizer takes a list of parameter groups, each with its own ``lr``. Giving the layers near
the input a fraction of the head's LR is the guide's "LR multipliers per layer" and ULMFiT's
*discriminative fine-tuning* (Howard & Ruder 2018: each layer's LR is the next one's divided by
2.6). The range test and every schedule keep the groups' ratios to the first group's LR, so the
multipliers hold throughout.

Layers are the model's top-level children that hold parameters, in order from input to output
(``model[0]``, ``model[1]``, ... for ``nn.Sequential``; ``named_children()`` otherwise).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch

from .checks import ArgumentTypeError, check_module, check_positive


def layers(model: torch.nn.Module) -> list[tuple[str, torch.nn.Module]]:
    """The model's top-level children that hold trainable parameters, from input to output."""
    check_module("model", model)
    found = [(name, child) for name, child in model.named_children()
             if any(p.requires_grad for p in child.parameters())]
    if not found:
        raise ValueError("model must have top-level children with trainable parameters to split into layers")
    return found


def layer_groups(model: torch.nn.Module, lr: float, multipliers) -> list[dict]:
    """Parameter groups with ``lr`` times a multiplier per layer, for ``torch.optim.X(groups, ...)``.

    ``multipliers`` is one of:

    - a sequence with one factor per layer of :func:`layers` (input to output);
    - a mapping from a layer's name to its factor; layers not named get the factor of the key
      ``"*"`` (which must then be given), e.g. ``{"3": 1.0, "*": 0.1}`` for the head at ``lr`` and
      the body at a tenth.

    Each group holds ``params``, ``lr`` and ``name`` (the layer's name; optimizers keep extra keys).
    The first group is the input layer; put the factor 1 where you want ``lr`` itself.

    Example::

        groups = layer_groups(model, 0.01, depth_multipliers(model, 2.6))   # ULMFiT
        optimizer = torch.optim.SGD(groups, momentum=0.9)
    """
    named = layers(model)
    check_positive("lr", lr)
    if isinstance(multipliers, Mapping):
        unknown = sorted(set(multipliers) - {name for name, _ in named} - {"*"})
        if unknown:
            raise ValueError(f"multipliers names layers the model does not have: {unknown}; its layers are "
                             f"{[name for name, _ in named]} (and '*' for the rest)")
        missing = [name for name, _ in named if name not in multipliers]
        if missing and "*" not in multipliers:
            raise ValueError(f"multipliers must give a factor for every layer or a '*' entry for the rest; "
                             f"missing {missing}")
        factors = [multipliers.get(name, multipliers.get("*")) for name, _ in named]
    elif isinstance(multipliers, Sequence) and not isinstance(multipliers, (str, bytes)):
        if len(multipliers) != len(named):
            raise ValueError(f"multipliers must have one factor per layer ({len(named)}: "
                             f"{[name for name, _ in named]}); got {len(multipliers)}")
        factors = list(multipliers)
    else:
        raise ArgumentTypeError(f"multipliers must be a sequence of factors or a mapping from layer name to factor; "
                                f"got {type(multipliers).__name__}")
    for (name, _), factor in zip(named, factors):
        check_positive(f"multipliers[{name!r}]", factor)
    return [{"params": [p for p in layer.parameters() if p.requires_grad], "lr": float(lr) * float(factor),
             "name": name} for (name, layer), factor in zip(named, factors)]


def depth_multipliers(model: torch.nn.Module, factor: float = 2.6) -> list[float]:
    """ULMFiT's discriminative factors: the last layer 1, each earlier one ``factor`` times smaller,
    :math:`m_l = \\text{factor}^{-(L - 1 - l)}` for layer ``l`` of ``L``."""
    check_positive("factor", factor)
    count = len(layers(model))
    return [float(factor) ** -(count - 1 - index) for index in range(count)]


def head_body_multipliers(model: torch.nn.Module, body: float) -> dict[str, float]:
    """The last layer (the head) at 1, every other layer (the body) at ``body``."""
    check_positive("body", body)
    head = layers(model)[-1][0]
    return {head: 1.0, "*": float(body)}
