"""The linear scaling rule across processes: one small experiment, on one process or many.

Each process trains on ``per_process_batch`` examples per step, so N processes make a global
(effective) batch of ``N * per_process_batch``. The LR is scaled from a good ``base_lr`` at
``base_batch`` by the rule (:func:`lrcourse.schedules.scale_lr`) and reached by Goyal et al.'s
gradual warm-up (:func:`lrcourse.schedules.gradual_warmup`). :func:`run` trains it in this
process (under ``torchrun``: in every process, together); :func:`torchrun` starts
``python -m lrcourse.distributed`` on N processes and reads back what rank 0 wrote. Given the
data, :func:`torchrun` hands it to the processes in a file (:func:`save_data`), so they neither
load all of FashionMNIST (220 MB each) nor train on anything else than the caller.
"""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import torch

from ..checks import check_int, check_positive
from ..data import TensorData, load_fashion_mnist, num_batches
from ..device import seeded
from ..models import MLP
from ..schedules import gradual_warmup, scale_lr, to_lambda_lr
from ..train import fit
from .group import current, is_main_process

STOP_SECONDS = 15  # for torchrun to stop its workers, or for a process to print its stack and end


@dataclass(frozen=True)
class Experiment:
    """What to train: an MLP with ``hidden`` units on the first ``train_size`` FashionMNIST training
    images, SGD with momentum 0.9 at the LR scaled from ``base_lr`` at ``base_batch``, warmed up
    over ``warmup_epochs``, for ``epochs`` epochs; validated on ``val_size`` held-out images."""

    per_process_batch: int = 256
    base_lr: float = 0.02
    base_batch: int = 32
    rule: str = "linear"
    warmup_epochs: int = 1
    epochs: int = 3
    train_size: int = 10_000
    val_size: int = 5_000
    hidden: int = 256
    seed: int = 0

    def __post_init__(self):
        for name in ("per_process_batch", "base_batch", "epochs", "train_size", "val_size", "hidden"):
            check_int(name, getattr(self, name), 1)
        check_int("warmup_epochs", self.warmup_epochs, 0)
        check_int("seed", self.seed, 0)
        check_positive("base_lr", self.base_lr)
        scale_lr(self.base_lr, self.base_batch, self.per_process_batch, self.rule)  # checks the rule

    def batch(self, processes: int) -> int:
        """The global batch of ``processes`` processes."""
        return self.per_process_batch * processes

    def lr(self, processes: int) -> float:
        """The LR the rule gives for the global batch of ``processes`` processes."""
        return scale_lr(self.base_lr, self.base_batch, self.batch(processes), self.rule)

    def arguments(self) -> list[str]:
        """The command-line arguments of ``python -m lrcourse.distributed`` for this experiment."""
        return [f"--{f.name.replace('_', '-')}={getattr(self, f.name)}" for f in dataclasses.fields(self)]


@dataclass
class Result:
    """A finished experiment: its settings, the number of processes, the global batch and LR,
    the History (as a dict), the trained weights (on the CPU) and the seconds training took."""

    experiment: Experiment
    processes: int
    batch: int
    lr: float
    history: dict
    weights: dict
    seconds: float


def run(experiment: Experiment, processes: int | None = None, device=None, train: TensorData | None = None,
        val: TensorData | None = None) -> Result:
    """Train ``experiment`` here; under torch.distributed every process calls it and they train together.

    ``processes`` (default: the number of processes in the group, 1 without one) sets the global
    batch; on a single process it may be larger than 1, to train alone with the batch that many
    processes would make. ``train`` and ``val`` replace the first ``train_size`` and ``val_size``
    FashionMNIST images (both or neither).
    """
    group = current()
    world = 1 if group is None else group.world_size
    processes = world if processes is None else check_int("processes", processes, 1)
    if group is not None and processes != world:
        raise ValueError(f"processes must be the group's size ({world}) under torch.distributed; got {processes}")
    if (train is None) != (val is None):
        raise ValueError("train and val must be given together (or neither: FashionMNIST is loaded)")
    if train is None:  # copies of the first images, so that the rest of the data set can be freed
        data = load_fashion_mnist(device=device)
        train, val = (TensorData(part.x[:size].clone(), part.y[:size].clone())
                      for part, size in ((data.train, experiment.train_size), (data.val, experiment.val_size)))
        del data
    elif device is not None:
        train, val = train.to(device), val.to(device)
    batch = experiment.batch(processes)
    warmup = experiment.warmup_epochs * num_batches(train, batch)
    schedule = (gradual_warmup(experiment.base_lr, experiment.base_batch, batch, warmup, rule=experiment.rule)
                if warmup else None)
    lr = experiment.lr(processes)
    model = seeded(lambda: MLP(hidden=experiment.hidden), experiment.seed, train.device)
    optimizer = torch.optim.SGD(model.parameters(), lr=schedule(0) if schedule else lr, momentum=0.9)
    started = time.perf_counter()
    history = fit(model, train, optimizer, epochs=experiment.epochs, batch_size=batch, val=val,
                  scheduler=to_lambda_lr(optimizer, schedule) if schedule else None, seed=experiment.seed,
                  progress=False)
    weights = {name: tensor.detach().to("cpu", copy=True) for name, tensor in model.state_dict().items()}
    return Result(experiment, processes, batch, lr, history.to_dict(), weights, time.perf_counter() - started)


def save(result: Result, path: str | os.PathLike) -> None:
    """Write ``result`` atomically (a temporary file, flushed, then renamed); on rank 0 only."""
    if not is_main_process():
        return
    partial = Path(f"{path}.partial")
    with open(partial, "wb") as file:
        torch.save(dataclasses.asdict(result), file)
        file.flush()
        os.fsync(file.fileno())
    os.replace(partial, path)


def load(path: str | os.PathLike) -> Result:
    saved = torch.load(path, weights_only=False)
    return Result(**{**saved, "experiment": Experiment(**saved["experiment"])})


def save_data(train: TensorData, val: TensorData, path: str | os.PathLike) -> None:
    """Write ``train`` and ``val`` (on the CPU) for ``python -m lrcourse.distributed --data PATH``."""
    torch.save({name: (data.x.cpu(), data.y.cpu()) for name, data in (("train", train), ("val", val))}, path)


def load_data(path: str | os.PathLike) -> tuple[TensorData, TensorData]:
    saved = torch.load(path, weights_only=True)
    return TensorData(*saved["train"]), TensorData(*saved["val"])


def torchrun(experiment: Experiment, processes: int = 2, timeout: float = 600.0, train: TensorData | None = None,
             val: TensorData | None = None) -> Result:
    """Run ``experiment`` on ``processes`` CPU processes under PyTorch's own launcher, ``torchrun``, as on
    a real cluster, and return rank 0's :class:`Result`. With ``train`` and ``val``, the processes train on
    those (handed over in a file) instead of loading FashionMNIST.

    Raises RuntimeError with the end of the processes' output if they fail, or after ``timeout`` seconds.
    Nothing outlives the call: on a timeout, an error or Ctrl-C every process it started is stopped, and
    on a timeout each first prints where it was stuck (Python's faulthandler).

    Example::

        >>> result = torchrun(Experiment(epochs=1), processes=2)  # doctest: +SKIP
        >>> result.batch, result.lr
        (512, 0.32)
    """
    check_int("processes", processes, 1)
    check_positive("timeout", timeout)
    if (train is None) != (val is None):
        raise ValueError("train and val must be given together (or neither: FashionMNIST is loaded)")
    with tempfile.TemporaryDirectory(prefix="lrcourse-torchrun-") as folder:
        out = Path(folder) / "result.pt"
        # --standalone's rendezvous, spelled out on 127.0.0.1: "localhost" can name ::1 and 127.0.0.1 and
        # the host's name may not resolve. Rendezvous and collectives give up well within ``timeout``,
        # and each process stops itself, printing its stack, before the timeout (--deadline).
        wait = max(1, int(timeout / 3))
        command = [sys.executable, "-m", "torch.distributed.run", "--nnodes=1", f"--nproc-per-node={processes}",
                   "--rdzv-backend=c10d", "--rdzv-endpoint=127.0.0.1:0", f"--rdzv-id={uuid.uuid4()}",
                   "--local-addr=127.0.0.1", f"--rdzv-conf=join_timeout={wait},read_timeout={wait}",
                   "-m", "lrcourse.distributed", *experiment.arguments(), f"--out={out}", "--device=cpu",
                   f"--timeout={wait}", f"--deadline={0.8 * timeout:g}", "--quiet"]
        if train is not None:
            save_data(train, val, Path(folder) / "data.pt")
            command.append(f"--data={Path(folder) / 'data.pt'}")
        # LOGLEVEL=INFO: the launcher says how far it got, shown only if something goes wrong.
        env = {**os.environ, "PYTHONFAULTHANDLER": "1", "LOGLEVEL": "INFO"}
        code, printed = _run_group(command, env, timeout)
        if code is None or (code != 0 and "Timeout (" in printed):  # faulthandler's heading (--deadline)
            raise RuntimeError(f"torchrun did not finish within {timeout:g} s; what its processes printed, "
                               f"with where each one was stuck:\n{printed[-8000:] or '(nothing)'}")
        if code != 0 or not out.exists():
            raise RuntimeError(f"torchrun failed (exit code {code}):\n{printed[-6000:]}")
        return load(out)


def _run_group(command: list[str], env: dict, timeout: float) -> tuple[int | None, str]:
    """Run ``command`` in a process group of its own; return its exit code (None after ``timeout``) and
    its output. Whatever happens, no process of the group is left running. (torchrun starts its workers
    in sessions of their own; it stops them itself when it receives SIGTERM.)"""
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env,
                               start_new_session=True)
    printed = b""
    try:
        try:
            printed, _ = process.communicate(timeout=timeout)
            return process.returncode, printed.decode(errors="replace")
        except subprocess.TimeoutExpired as expired:
            printed = expired.output or b""
        # SIGTERM: torchrun stops its workers (each has printed its stack by now if it was stuck: --deadline)
        # and prints where it was; then SIGABRT: faulthandler prints where whatever still runs is stuck.
        for signum in (signal.SIGTERM, signal.SIGABRT):
            _signal_group(process, signum)
            try:
                printed, _ = process.communicate(timeout=STOP_SECONDS)
                break
            except subprocess.TimeoutExpired as expired:
                printed = expired.output or printed
        return None, printed.decode(errors="replace")
    finally:
        if process.poll() is None:  # Ctrl-C or an error here: let torchrun stop its workers first
            _signal_group(process, signal.SIGTERM)
            try:
                process.wait(STOP_SECONDS)
            except subprocess.TimeoutExpired:
                pass
        _signal_group(process, signal.SIGKILL)
        process.wait()
        process.stdout.close()  # a straggler still holding the pipe must not block us


def _signal_group(process: subprocess.Popen, signum: int) -> None:
    try:
        os.killpg(process.pid, signum)
    except (ProcessLookupError, PermissionError):
        pass  # the group is gone already
