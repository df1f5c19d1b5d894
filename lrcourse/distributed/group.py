"""What ``fit`` and the range test do differently when several processes train one model.

:func:`current` returns None in a single process (the usual case: nothing here runs) and a
:class:`Group` when ``torch.distributed`` is initialized with more than one process. Then:

- ``batch_size`` is the *global* batch. Every rank draws the same shuffled order (the same
  seed) and takes its contiguous slice of each global batch (:meth:`Group.epoch_batches`):
  rank ``r`` of ``W`` gets ``torch.tensor_split(batch, W)[r]``.
- After each backward pass, one all-reduce sums ``[n_r g_r, n_r loss_r, n_r, stop_r]`` over the
  ranks (:meth:`Group.all_reduce_step`), where ``g_r`` and ``loss_r`` are the mean gradient and
  loss over rank ``r``'s ``n_r`` examples. Dividing by :math:`N = \\sum_r n_r` gives

      g = (1/N) sum_r n_r g_r,    loss = (1/N) sum_r n_r loss_r,

  the gradient and loss one process computes on the whole global batch, up to float rounding,
  also when a last, short batch splits unevenly. Every rank applies the same update.
- Everything the History records is reduced the same way, so it is identical on every rank, and
  so are the decisions taken from it (divergence, callbacks). A callback that stops on one rank
  only is announced with the next all-reduce and every rank stops there together.

BatchNorm normalizes each rank's slice with that slice's statistics (as DistributedDataParallel
does without ``SyncBatchNorm``), so a model with BatchNorm trains differently than on one process;
its running statistics are averaged over the ranks at each epoch's end.
"""

from __future__ import annotations

import pickle
import random
from contextlib import contextmanager
from typing import Callable, Iterator

import torch
import torch.distributed as dist
from torch.utils.data import DistributedSampler

from ..data import TensorData
from ..loaders import epoch_batches as local_batches
from ..metrics import evaluate

#: The facts every rank must agree on before training, in the order they are gathered.
FACTS = ("train", "train labels", "val", "batch_size", "steps", "seed", "parameters", "on_step")
UNSET = -2  # a fact a rank does not have (its checks failed first, or it does not apply)


class DistributedError(RuntimeError):
    """A collective operation failed: another process died, was stopped, or did not answer in time."""


def current() -> Group | None:
    """The :class:`Group` of the default process group, or None when there is only one process."""
    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
        return None
    return Group(dist.get_rank(), dist.get_world_size())


def is_main_process() -> bool:
    """True in a single process, and on rank 0 of a process group: the one that writes files and shows progress."""
    return not (dist.is_available() and dist.is_initialized()) or dist.get_rank() == 0


def sampler_of(loader):
    """A loader's DistributedSampler (its own sampler, or its batch sampler's), or None."""
    for sampler in (getattr(loader, "sampler", None), getattr(getattr(loader, "batch_sampler", None), "sampler", None)):
        if isinstance(sampler, DistributedSampler):
            return sampler
    return None


def collective_device() -> torch.device:
    """Where the default group's collectives take their tensors: NCCL only moves CUDA tensors (the
    process's current device), gloo takes CPU tensors for everything."""
    if dist.get_backend() == "nccl":
        return torch.device("cuda", torch.cuda.current_device())
    return torch.device("cpu")


class Group:
    """The processes of the default group, as ``fit`` and the range test use them."""

    def __init__(self, rank: int, world_size: int):
        self.rank, self.world_size = rank, world_size
        self.device = collective_device()

    # ---- before training -------------------------------------------------------------------

    def check_sources(self, train, val, batch_size: int | None) -> None:
        """Local checks of the data under distributed training (the same on every rank)."""
        if isinstance(train, TensorData):
            if batch_size % self.world_size:
                raise ValueError(f"batch_size must be divisible by the number of processes ({self.world_size}): it "
                                 f"is the global batch, split evenly across them; got {batch_size}")
        else:
            self._check_sampler("train", train, required=True)
        if val is not None and not isinstance(val, TensorData):
            self._check_sampler("val", val, required=False)

    def _check_sampler(self, name: str, loader, required: bool) -> None:
        sampler = sampler_of(loader)
        if sampler is None:
            if required:
                raise ValueError(f"{name} is a loader without a DistributedSampler, so every one of the {self.world_size} "
                                 "processes would train on the same batches: build it with DataLoader(dataset, "
                                 "batch_size=per_process_batch, sampler=DistributedSampler(dataset, seed=...)), or "
                                 "pass a TensorData, which fit splits across the processes itself")
            return
        if (sampler.num_replicas, sampler.rank) != (self.world_size, self.rank):
            raise ValueError(f"{name}'s DistributedSampler has num_replicas={sampler.num_replicas}, rank={sampler.rank}; "
                             f"this process is rank {self.rank} of {self.world_size}")

    @contextmanager
    def checks(self) -> Iterator[dict]:
        """Run argument checks on every rank, and agree before anyone trains.

        The block fills the dict it is given with :data:`FACTS`. When the block raises on one rank,
        that rank re-raises its error and every other rank raises a ValueError naming it; when the
        facts differ between ranks, every rank raises a ValueError naming the fact. Nobody is left
        waiting for a rank that gave up.
        """
        facts: dict[str, int] = {}
        try:
            yield facts
        except (ValueError, TypeError) as error:
            self._gather(facts, failed=True)
            raise error
        table = self._gather(facts, failed=False)
        failed = [rank for rank, row in enumerate(table) if row[0]]
        if failed:
            raise ValueError(f"process(es) {failed} refused the run (their own error says why); this is rank {self.rank}")
        for column, name in enumerate(FACTS, start=1):
            values = [row[column] for row in table]
            if len(set(values)) > 1:
                listed = ", ".join(f"rank {rank}: {'none' if value < 0 else value}" for rank, value in enumerate(values))
                raise ValueError(f"{name} differs between the {self.world_size} processes ({listed}); every process must "
                                 "pass the same data and settings")

    def _gather(self, facts: dict, failed: bool) -> list[list[int]]:
        row = torch.tensor([int(failed)] + [int(facts.get(name, UNSET)) for name in FACTS], dtype=torch.int64)
        rows = [torch.empty_like(row, device=self.device) for _ in range(self.world_size)]
        self._run("the check of the run's settings", dist.all_gather, rows, row.to(self.device))
        return [r.tolist() for r in rows]

    def facts(self, model, train, val, batch_size: int | None, steps: int, seed: int | None,
              on_step: bool = False) -> dict[str, int]:
        """The :data:`FACTS` of a run on this rank (-1 for what it does not have)."""
        return {"train": len(train), "train labels": int(train.y.sum()) if isinstance(train, TensorData) else -1,
                "val": -1 if val is None else len(val), "batch_size": -1 if batch_size is None else batch_size,
                "steps": steps, "seed": -1 if seed is None else seed,
                "parameters": sum(p.numel() for p in model.parameters()), "on_step": int(on_step)}

    def shared_seed(self, seed: int | None) -> int:
        """``seed``, or (None on every rank) one drawn by rank 0 and sent to all: the same order everywhere."""
        if seed is not None:
            return seed
        value = torch.tensor([random.SystemRandom().randrange(2**62)], device=self.device)
        self._run("sharing the seed", dist.broadcast, value, 0)
        return int(value.item())

    @torch.no_grad()
    def broadcast_model(self, model: torch.nn.Module) -> None:
        """Rank 0's weights and buffers on every rank (as DistributedDataParallel starts)."""
        for tensor in model.state_dict().values():
            self._run("sending rank 0's weights", dist.broadcast, tensor, 0)

    # ---- batches -----------------------------------------------------------------------------

    def epoch_batches(self, data, batch_size: int | None, device: torch.device, generator: torch.Generator,
                      epoch: int, name: str = "train") -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """This rank's slice of each global batch of a pass over ``data`` (a loader: its DistributedSampler's
        share, reshuffled per ``epoch``). The order is the single process's: same generator, same draw."""
        if not isinstance(data, TensorData):
            sampler_of(data).set_epoch(epoch)
            yield from local_batches(data, None, device, name=name)
            return
        order = torch.randperm(len(data), generator=generator).to(data.device)
        for start in range(0, len(data), batch_size):
            mine = order[start:start + batch_size].tensor_split(self.world_size)[self.rank]
            yield data.x[mine], data.y[mine]

    def endless_batches(self, data, batch_size, device, generator, name: str = "train"):
        """Passes one after another (the range test's stream)."""
        epoch = 0
        while True:
            yield from self.epoch_batches(data, batch_size, device, generator, epoch, name)
            epoch += 1

    # ---- every step --------------------------------------------------------------------------

    def forward_backward(self, model: torch.nn.Module, loss_fn: Callable, parameters: list, x, y,
                         state) -> tuple[torch.Tensor | None, torch.Tensor | None]:
        """Forward and backward on this rank's slice, then :meth:`all_reduce_step`: ``(outputs, or
        None for an empty slice; the global batch's loss)``. When a rank's callback had stopped
        ``state`` after the previous step, every rank's ``state`` stops with its reason and the loss
        is None: the step must not be applied."""
        if len(y):
            out = model(x)
            loss = loss_fn(out, y)
            loss.backward()
            loss = loss.detach()
        else:  # a last batch smaller than the number of processes leaves some ranks nothing
            out, loss = None, torch.zeros((), device=y.device)
        total, stop = self.all_reduce_step(parameters, loss, len(y), state.stop_training)
        if stop:
            state.stop(self.stop_reason(state.stop_reason if state.stop_training else None))
            return out, None
        return out, total

    def all_reduce_step(self, parameters: list, loss: torch.Tensor, n: int, stop: bool = False) -> tuple[torch.Tensor, bool]:
        """Average the gradients of ``parameters`` over the global batch, in place, weighting each
        rank by its ``n`` examples; returns the global mean loss and whether any rank set ``stop``.

        One flat buffer, one all-reduce: ``[n g, n loss, n, stop]`` summed, then divided by the
        summed ``n``. A parameter without a gradient here counts as a zero gradient.
        """
        grads = [p.grad.reshape(-1) if p.grad is not None else torch.zeros(p.numel(), device=loss.device,
                                                                              dtype=loss.dtype)
                 for p in parameters]
        # An empty slice's loss is NaN (a mean over nothing): it must count as nothing.
        extra = torch.stack([loss if n else torch.zeros_like(loss), torch.full_like(loss, n),
                             torch.full_like(loss, float(stop))])
        flat = torch.cat([*grads, extra]) if grads else extra
        flat[:-2].mul_(n)
        self._run("the gradient all-reduce", dist.all_reduce, flat)
        count = flat[-2]
        flat[:-2].div_(count)
        offset = 0
        for p in parameters:
            p.grad = flat[offset:offset + p.numel()].view_as(p)
            offset += p.numel()
        return flat[-3], bool(flat[-1] > 0)

    # ---- every epoch -------------------------------------------------------------------------

    def sum(self, *values: float | torch.Tensor) -> list[float]:
        """The sums over the ranks of a few numbers (one all-reduce)."""
        flat = torch.tensor([float(v) for v in values], dtype=torch.float64, device=self.device)
        self._run("summing the epoch's metrics", dist.all_reduce, flat)
        return flat.tolist()

    def evaluate(self, model: torch.nn.Module, data, batch_size: int | None, loss_fn=None) -> dict[str, float]:
        """:func:`~lrcourse.metrics.evaluate` over all of ``data``, each rank doing its share: a
        contiguous slice of ``TensorData``, its DistributedSampler's share of a loader. A loader
        without one is evaluated whole on every rank."""
        if isinstance(data, TensorData):
            part = data[torch.arange(len(data)).tensor_split(self.world_size)[self.rank].to(data.device)]
            n = len(part)
        elif sampler_of(data) is not None:
            part, n = data, len(sampler_of(data))
        else:
            return evaluate(model, data, batch_size, loss_fn)
        metrics = evaluate(model, part, batch_size, loss_fn) if n else {"loss": 0.0, "accuracy": 0.0}
        loss, correct, total = self.sum(metrics["loss"] * n, metrics["accuracy"] * n, n)
        return {"loss": loss / total, "accuracy": correct / total}

    @torch.no_grad()
    def average_buffers(self, model: torch.nn.Module) -> None:
        """Average floating-point buffers (BatchNorm's running statistics) over the ranks."""
        buffers = [b for b in model.buffers() if torch.is_floating_point(b)]
        if not buffers:
            return
        flat = torch.cat([b.reshape(-1) for b in buffers])
        self._run("averaging the buffers", dist.all_reduce, flat)
        flat /= self.world_size
        offset = 0
        for b in buffers:
            b.copy_(flat[offset:offset + b.numel()].view_as(b))
            offset += b.numel()

    def any(self, flag: bool) -> bool:
        """True on every rank when ``flag`` is True on any rank."""
        value = torch.tensor([float(flag)], device=self.device)
        self._run("agreeing to stop", dist.all_reduce, value)
        return value.item() > 0

    def agree_to_stop(self, state) -> None:
        """If any rank's ``state`` stopped, stop every rank's, with the first stopping rank's reason."""
        if self.any(state.stop_training):
            state.stop(self.stop_reason(state.stop_reason if state.stop_training else None))

    def stop_reason(self, reason: str | None) -> str:
        """The first stopping rank's reason, on every rank (called by all ranks once a stop is agreed)."""
        reasons = [None] * self.world_size
        self._run("sharing why training stopped", dist.all_gather_object, reasons, reason)
        return next((r for r in reasons if r is not None), "stopped by another process")

    # ---- errors ------------------------------------------------------------------------------

    def _run(self, what: str, collective: Callable, *args):
        try:
            return collective(*args)
        except (RuntimeError, pickle.PickleError) as error:
            if isinstance(error, DistributedError):
                raise
            first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            raise DistributedError(
                f"rank {self.rank} of {self.world_size}: {what} failed ({first}). Another process has probably "
                "stopped (an error, Ctrl-C, or it was killed): look at its output. A process that hangs is given up "
                "on after init_process_group's timeout") from error
