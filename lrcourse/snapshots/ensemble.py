"""An ensemble of snapshots: the members' probabilities averaged."""

from __future__ import annotations

import copy
import inspect
import os
from dataclasses import dataclass
from typing import Callable, Sequence

import torch
import torch.nn.functional as F

from ..checks import check_int
from ..data import TensorData, batches
from ..device import resolve_device
from .saver import _check_state, _read_snapshots


@dataclass
class EnsembleReport:
    """Loss and accuracy of each member and of the ensemble (averaged probabilities)."""

    members: list[dict[str, float]]
    ensemble: dict[str, float]

    @property
    def best_member(self) -> dict[str, float]:
        return max(self.members, key=lambda metrics: metrics["accuracy"])

    @property
    def gain(self) -> float:
        """Ensemble accuracy minus the best member's, in accuracy units (0.01 = one point)."""
        return self.ensemble["accuracy"] - self.best_member["accuracy"]


class SnapshotEnsemble:
    """An ensemble of snapshots of one architecture; predicts by averaging probabilities.

    ``snapshots`` is a list of ``state_dict``s or a folder written by :class:`SnapshotSaver`;
    ``model_factory()`` builds the architecture (a class such as ``lrcourse.MLP``, or a function
    such as ``lambda: lrcourse.MLP(hidden=64)``: a new model on each call); ``last_k`` keeps only
    the last k snapshots; ``device`` moves the members there. Every argument and every snapshot
    (a dict of finite tensors that fits the model) is checked before the first member is built;
    an error names the file (or the list index) at fault.
    """

    def __init__(self, snapshots: Sequence[dict] | str | os.PathLike, model_factory: Callable[[], torch.nn.Module],
                 last_k: int | None = None, device=None):
        labelled = _labelled_snapshots(snapshots)
        if last_k is not None:
            last_k = check_int("last_k", last_k, low=1, high=len(labelled))
            labelled = labelled[-last_k:]
        _check_factory(model_factory)
        device = None if device is None else resolve_device(device)
        for label, state in labelled:
            _check_state(label, state)
        members: list[torch.nn.Module] = []
        for label, state in labelled:
            model = model_factory()
            if not isinstance(model, torch.nn.Module):
                raise TypeError(f"model_factory must return a torch.nn.Module; it returned {type(model).__name__}")
            if any(model is member for member in members):
                raise ValueError("model_factory must build a new model on each call; it returned the same one twice "
                                 "(pass a class or a function such as lambda: MLP(), not a model)")
            try:
                model.load_state_dict(copy.deepcopy(state))
            except (RuntimeError, KeyError) as error:
                raise ValueError(f"{label} does not match the model built by model_factory: "
                                 f"{str(error).splitlines()[0]}") from None
            members.append(model.to(device).eval() if device is not None else model.eval())
        self.members = members

    @torch.no_grad()
    def member_probabilities(self, x: torch.Tensor) -> torch.Tensor:
        """Softmax outputs of every member, shape (members, N, classes)."""
        if not isinstance(x, torch.Tensor):
            raise TypeError(f"x must be a torch.Tensor; got {type(x).__name__}")
        return torch.stack([F.softmax(member(x), dim=1) for member in self.members])

    def predict_proba(self, x: torch.Tensor) -> torch.Tensor:
        """The members' probabilities, averaged."""
        return self.member_probabilities(x).mean(0)

    @torch.no_grad()
    def disagreement(self, data: TensorData, batch_size: int = 1000) -> float:
        """How often two members predict different classes: the fraction of examples on which
        a pair disagrees, averaged over all pairs (0 for a single member)."""
        _check_eval_data(data)
        count = len(self.members)
        if count < 2:
            return 0.0
        differing = 0.0
        for x, _ in batches(data, batch_size):
            predictions = self.member_probabilities(x.to(_device(self.members[0]))).argmax(2)
            differing += float((predictions[:, None] != predictions[None]).float().sum()) / 2
        return differing / (count * (count - 1) / 2) / len(data)

    def evaluate(self, data: TensorData, batch_size: int = 1000) -> EnsembleReport:
        """Each member's and the ensemble's loss (negative log-likelihood) and accuracy on ``data``."""
        _check_eval_data(data)
        count = len(self.members)
        nll, correct = torch.zeros(count + 1), torch.zeros(count + 1)
        for x, y in batches(data, batch_size):
            probabilities = self.member_probabilities(x.to(_device(self.members[0])))
            probabilities = torch.cat([probabilities, probabilities.mean(0, keepdim=True)]).cpu()
            picked = probabilities[:, torch.arange(len(y)), y.cpu()]
            nll += -picked.clamp_min(1e-12).log().sum(1)
            correct += (probabilities.argmax(2) == y.cpu()).sum(1)
        metrics = [{"loss": float(n / len(data)), "accuracy": float(c / len(data))} for n, c in zip(nll, correct)]
        return EnsembleReport(members=metrics[:-1], ensemble=metrics[-1])


def _labelled_snapshots(snapshots) -> list[tuple[str, dict]]:
    """``(label, state)`` pairs; the label names the file, or the index in a list."""
    if isinstance(snapshots, (str, os.PathLike)):
        return _read_snapshots(snapshots)
    if isinstance(snapshots, dict):
        raise TypeError("snapshots must be a list of state_dicts or a folder; got a single state_dict: "
                        "wrap it in a list, [state_dict]")
    if isinstance(snapshots, (torch.nn.Module, torch.Tensor)) or not hasattr(snapshots, "__iter__"):
        raise TypeError(f"snapshots must be a list of state_dicts or a folder; got {type(snapshots).__name__}")
    labelled = [(f"snapshots[{index}]", state) for index, state in enumerate(snapshots)]
    if not labelled:
        raise ValueError("snapshots must hold at least one snapshot")
    return labelled


def _check_factory(model_factory) -> None:
    if isinstance(model_factory, torch.nn.Module):
        raise TypeError("model_factory must build a new model on each call (a class such as lrcourse.MLP, or "
                        f"lambda: MLP()); got a model, {type(model_factory).__name__}(...)")
    if not callable(model_factory):
        raise TypeError(f"model_factory must be a class or function that builds the model; got "
                        f"{type(model_factory).__name__}")
    try:
        inspect.signature(model_factory).bind()
    except TypeError:
        raise TypeError("model_factory must be callable with no arguments (e.g. lambda: MLP(hidden=64))") from None
    except ValueError:  # no signature to inspect (some built-ins): calling it will tell
        pass


def _check_eval_data(data) -> None:
    if not isinstance(data, TensorData):
        raise TypeError(f"data must be a TensorData; got {type(data).__name__}")
    if len(data) == 0:
        raise ValueError("data must hold at least one example; got 0")


def _device(model: torch.nn.Module) -> torch.device:
    return next(model.parameters()).device
