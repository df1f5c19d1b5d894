"""Starting processes that train together: :func:`init` under ``torchrun``, :func:`spawn` from Python.

``torchrun --nproc_per_node=N script.py`` starts N copies of a script; each calls :func:`init`
to join the others. :func:`spawn` does the same from inside Python (a test, a notebook, a
benchmark): it starts N processes on this machine, joins them with gloo over localhost, calls
one function in each and returns what each returned or raised. It never hangs: processes still
running after ``timeout`` seconds are killed and reported as such.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import signal
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, Callable

import torch
import torch.distributed as dist

from ..checks import check_int, check_positive
from .group import collective_device

HOST = "127.0.0.1"
POLL_SECONDS = 0.05
GRACE_SECONDS = 5.0  # after another process failed, beyond the collective timeout
SETTLE_SECONDS = 0.05


def init(backend: str | None = None, timeout: float = 300.0) -> torch.device:
    """Join the other processes ``torchrun`` started, and return the device this process trains on.

    Reads ``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``, ``MASTER_ADDR`` and ``MASTER_PORT`` (torchrun
    sets them). ``backend`` defaults to NCCL when CUDA is available, each process taking the GPU
    ``LOCAL_RANK``, and gloo on CPUs. A collective that waits longer than ``timeout`` seconds for
    another process fails with an error (PyTorch's own default is 30 minutes for gloo).
    """
    missing = [name for name in ("RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT") if name not in os.environ]
    if missing:
        raise RuntimeError(f"{', '.join(missing)} not set: start this program with torchrun, e.g. "
                           "torchrun --standalone --nproc_per_node=2 -m lrcourse.distributed")
    check_positive("timeout", timeout)
    if backend is None:
        backend = "nccl" if torch.cuda.is_available() else "gloo"
    device = torch.device("cpu")
    if backend == "nccl":
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0)))
        torch.cuda.set_device(device)
    if not dist.is_initialized():
        dist.init_process_group(backend, timeout=timedelta(seconds=timeout))
    return device


def shutdown() -> None:
    """Leave the process group (``destroy_process_group``), safely on every PyTorch version.

    Call it on every process at the end, instead of ``dist.destroy_process_group()``. On PyTorch 2.5
    (Binder's pins), gloo's process group can deadlock when it is destroyed: its destructor holds
    Python's GIL while it waits for its worker threads, and a worker thread still freeing the last
    collective's tensor waits for the GIL. Here the last collective is one whose tensor this function
    holds until the group is gone, and the worker threads get a moment without the GIL first. Does
    nothing when no process group is initialized.
    """
    if not dist.is_initialized():
        return
    held = torch.zeros(1, device=collective_device())
    dist.all_reduce(held)  # every earlier collective has completed, on every process
    time.sleep(SETTLE_SECONDS)  # sleeping releases the GIL: the workers finish freeing earlier tensors
    dist.destroy_process_group()
    del held  # only now: freeing it no longer involves the group's threads


@dataclass
class Outcome:
    """What one process of :func:`spawn` did: returned ``value``, or failed with ``error``
    (the exception's type and message, or how the process ended) and ``traceback``."""

    rank: int
    value: Any = None
    error: str | None = None
    traceback: str | None = None
    exitcode: int | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def spawn(function: Callable, nprocs: int = 2, args: tuple = (), *, timeout: float = 120.0,
          collective_timeout: float = 30.0, threads: int = 1, backend: str = "gloo") -> list[Outcome]:
    """Call ``function(*args)`` in each of ``nprocs`` new processes joined by ``torch.distributed``.

    The processes are started with the ``spawn`` method, so ``function`` must be importable (defined
    at the top level of a module, not in a notebook) and ``args`` picklable. Each process uses
    ``threads`` PyTorch threads (as torchrun sets ``OMP_NUM_THREADS=1``); a collective waiting longer
    than ``collective_timeout`` seconds fails. Returns one :class:`Outcome` per rank, in rank order,
    after every process has ended. Processes still running are killed ``timeout`` seconds after the
    start, or ``collective_timeout`` + 5 seconds after another process failed (they can only fail
    too, or wait for it forever).

    Example::

        outcomes = spawn(my_module.train, 2, (config,))
        assert all(o.ok for o in outcomes), [o.error for o in outcomes]
    """
    check_int("nprocs", nprocs, 1)
    check_positive("timeout", timeout)
    check_positive("collective_timeout", collective_timeout)
    check_int("threads", threads, 1)
    if not callable(function):
        raise TypeError(f"function must be callable; got {type(function).__name__}")
    # The parent holds the rendezvous store on a port the system picks: no race for a free port.
    store = dist.TCPStore(HOST, 0, is_master=True, wait_for_workers=False)
    folder = Path(tempfile.mkdtemp(prefix="lrcourse-spawn-"))
    context = multiprocessing.get_context("spawn")
    processes = [context.Process(target=_child, name=f"lrcourse-rank{rank}",
                                 args=(function, args, rank, nprocs, store.port, backend, collective_timeout,
                                       threads, str(folder / f"{rank}.pt")))
                 for rank in range(nprocs)]
    try:
        for process in processes:
            process.start()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and any(process.is_alive() for process in processes):
            if any(process.exitcode not in (None, 0) for process in processes):
                deadline = min(deadline, time.monotonic() + collective_timeout + GRACE_SECONDS)
            time.sleep(POLL_SECONDS)
        return [_outcome(rank, process, folder / f"{rank}.pt") for rank, process in enumerate(processes)]
    finally:
        for process in processes:
            if process.is_alive():
                process.kill()
                process.join(5)
        shutil.rmtree(folder, ignore_errors=True)
        del store


def _outcome(rank: int, process, path: Path) -> Outcome:
    if process.is_alive():
        return Outcome(rank, error="still running when the time was up (spawn's timeout, or another process had "
                                   "failed): killed")
    if path.exists():
        value, error, trace = torch.load(path, weights_only=False)
        return Outcome(rank, value, error, trace, process.exitcode)
    code = process.exitcode
    how = f"was killed by signal {signal.Signals(-code).name}" if code is not None and code < 0 else \
        f"exited with code {code}"
    return Outcome(rank, error=f"the process {how} before returning", exitcode=code)


def _child(function, args, rank, nprocs, port, backend, collective_timeout, threads, path) -> None:
    torch.set_num_threads(threads)
    if backend == "nccl":
        torch.cuda.set_device(rank % torch.cuda.device_count())
    value = error = trace = None
    try:
        wait = timedelta(seconds=collective_timeout)
        store = dist.TCPStore(HOST, port, is_master=False, timeout=wait)
        dist.init_process_group(backend, store=store, rank=rank, world_size=nprocs, timeout=wait)
        value = function(*args)
    except BaseException as exception:  # noqa: BLE001 - everything is reported to the parent
        error, trace = f"{type(exception).__name__}: {exception}", traceback.format_exc()
    # The outcome first: shutting down after a peer died may itself fail.
    partial = f"{path}.partial"
    torch.save((value, error, trace), partial)
    os.replace(partial, path)
    if dist.is_initialized():
        if error is None:
            shutdown()
        else:  # a peer may be gone: no last collective, and the parent stops whoever waits
            dist.destroy_process_group()
    if error is not None:
        sys.exit(1)  # tells the parent at once, so it stops waiting for the others
