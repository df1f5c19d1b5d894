"""Which device to train on, seeding, and a short report of the machine a lesson runs on."""

from __future__ import annotations

import math
import os
import platform
import random
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
import torch

from .checks import ArgumentTypeError, check_int
from .interrupts import deferred_interrupts


def default_device() -> torch.device:
    """The best device available: cuda, then mps (Apple silicon), then cpu."""
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def resolve_device(device: str | torch.device | None) -> torch.device:
    """``None`` gives :func:`default_device`; a name must be a device this machine has."""
    if device is None:
        return default_device()
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError):
        raise ValueError(
            f"device must be None, 'cpu', 'cuda', 'cuda:N' or 'mps'; got {device!r}"
        ) from None
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device={str(device)!r} but CUDA is not available on this machine; use None or 'cpu'")
    if resolved.type == "cuda" and resolved.index is not None and resolved.index >= torch.cuda.device_count():
        raise ValueError(f"device={str(device)!r} but this machine has {torch.cuda.device_count()} CUDA device(s)")
    if resolved.type == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise ValueError(f"device={str(device)!r} but MPS is not available on this machine; use None or 'cpu'")
    if resolved.type not in ("cpu", "cuda", "mps"):
        raise ValueError(f"device must be None, 'cpu', 'cuda', 'cuda:N' or 'mps'; got {device!r}")
    return resolved


def seed_everything(seed: int) -> None:
    """Seed Python's, NumPy's and PyTorch's global random generators (all devices).

    This changes global state on purpose (a lesson's first cell calls it); library functions
    that need seeded randomness use :func:`forked_rng` instead and leave the caller's streams alone.
    """
    check_int("seed", seed, 0)
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


# lrcourse's own forks of the global generators take turns: a panel's background run and the
# notebook must not interleave their save and restore.
_GLOBAL_RNG_LOCK = threading.RLock()


@contextmanager
def forked_rng(seed: int | None = None) -> Iterator[None]:
    """Run a block on a fork of the global generators (PyTorch's on the CPU and every CUDA device,
    NumPy's, Python's): seeded with ``seed`` if given, and restored when the block ends, however it
    ends. The caller's random streams continue afterwards as if the block had not run.

    Forks made by lrcourse hold one lock, so two threads (two panels) never interleave them; code
    outside lrcourse that draws from the global generators while another thread is inside a fork is
    not protected.

    Example::

        with forked_rng(0):
            model = MLP()        # the same initial weights every time, whatever ran before
    """
    if seed is not None:
        check_int("seed", seed, 0)
    with _GLOBAL_RNG_LOCK:
        cuda = torch.cuda.is_initialized()
        saved = (torch.get_rng_state(), torch.cuda.get_rng_state_all() if cuda else None,
                 np.random.get_state(), random.getstate())
        try:
            if seed is not None:
                seed_everything(seed)
            yield
        finally:
            with deferred_interrupts():
                torch.set_rng_state(saved[0])
                if saved[1] is not None:
                    torch.cuda.set_rng_state_all(saved[1])
                np.random.set_state(saved[2])
                random.setstate(saved[3])


def seeded(factory: Callable[[], torch.nn.Module], seed: int, device=None) -> torch.nn.Module:
    """``factory()`` built with the global generators seeded with ``seed`` (so the same seed gives the
    same initial weights), moved to ``device``; the caller's random streams are left as they were."""
    check_int("seed", seed, 0)
    if not callable(factory):
        raise ArgumentTypeError(f"model must be a callable that builds a torch.nn.Module (a class such as "
                                f"lrcourse.MLP, or a function); got {type(factory).__name__}")
    with forked_rng(seed):
        model = factory()
    if not isinstance(model, torch.nn.Module):
        raise ArgumentTypeError(f"model() must return a torch.nn.Module; it returned {type(model).__name__}")
    return model if device is None else model.to(device)


#: Where Linux exposes the container's CPU limits (cgroup v2 or v1).
CGROUP_ROOT = Path("/sys/fs/cgroup")


def cpu_quota() -> float | None:
    """The CPUs a container's quota allows this process (1.5 = one and a half), or None without a quota.

    Binder and other containers often cap CPU time with a cgroup quota while still showing every core of
    the host, so PyTorch starts one thread per host core and they fight over the few CPUs allowed.
    """
    try:
        quota, period = (CGROUP_ROOT / "cpu.max").read_text().split()[:2]  # cgroup v2: "max 100000" or "150000 100000"
        return None if quota == "max" else int(quota) / int(period)
    except (OSError, ValueError):
        pass
    try:
        quota = int((CGROUP_ROOT / "cpu" / "cpu.cfs_quota_us").read_text())  # cgroup v1: -1 means no quota
        period = int((CGROUP_ROOT / "cpu" / "cpu.cfs_period_us").read_text())
        return None if quota <= 0 or period <= 0 else quota / period
    except (OSError, ValueError):
        return None


def match_threads_to_cpu_quota() -> int:
    """Lower PyTorch's CPU threads to the container's CPU quota if it allows fewer CPUs than threads;
    returns the thread count now in use. ``%load_ext lrcourse`` calls it.

    The quota is rounded down (at least 1): threads that wait for each other at every operation all
    stall when one more of them runs than the quota can serve.
    """
    quota = cpu_quota()
    allowed = None if quota is None else max(1, math.floor(quota))
    if allowed is not None and allowed < torch.get_num_threads():
        torch.set_num_threads(allowed)
    return torch.get_num_threads()


@dataclass(frozen=True)
class EnvironmentReport:
    """What a lesson runs on. Displays itself in a notebook; ``str()`` gives one line per item."""

    torch_version: str
    python_version: str
    device: str
    device_name: str
    gpu_in_use: bool
    cpu_threads: int
    cpu_count: int
    cpu_quota: float | None = None

    def rows(self) -> list[tuple[str, str]]:
        return [
            ("device", f"{self.device} ({self.device_name})"),
            ("GPU in use", "yes" if self.gpu_in_use else "no: lessons are sized for a CPU, 1-2 minutes each"),
            ("CPU threads", f"{self.cpu_threads} of {self.cpu_count} cores"
                            + ("" if self.cpu_quota is None else f" (container quota: {self.cpu_quota:g} CPUs)")),
            ("torch", self.torch_version),
            ("python", self.python_version),
        ]

    def __str__(self) -> str:
        return "\n".join(f"{key:>12}: {value}" for key, value in self.rows())

    def _repr_html_(self) -> str:
        cells = "".join(f"<tr><th style='text-align:right'>{k}</th><td style='text-align:left'>{v}</td></tr>"
                        for k, v in self.rows())
        return f"<table>{cells}</table>"


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def environment_report(device: str | torch.device | None = None) -> EnvironmentReport:
    """Torch version, the device lessons will use, and the CPU threads torch runs on."""
    device = resolve_device(device)
    if device.type == "cuda":
        name = torch.cuda.get_device_name(device)
    elif device.type == "mps":
        name = "Apple GPU (Metal)"
    else:
        name = _cpu_name()
    return EnvironmentReport(
        torch_version=torch.__version__,
        python_version=platform.python_version(),
        device=str(device),
        device_name=name,
        gpu_in_use=device.type in ("cuda", "mps"),
        cpu_threads=torch.get_num_threads(),
        cpu_count=os.cpu_count() or 1,
        cpu_quota=cpu_quota(),
    )
