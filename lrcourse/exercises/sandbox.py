"""Run a learner's code where it can be stopped for sure: in a forked child process.

:func:`run` forks. The child calls ``function()`` and sends back, through a pipe, only plain
data: what the function returned (JSON), what it printed (capped) and the stages it announced
with :func:`stage`. The parent waits with a deadline, and whatever happens ends the child and
everything it started (its process group) with SIGKILL before returning.

The child gets, before anything else runs in it:

- one PyTorch thread (an OpenMP pool forked from a busy parent hangs; one thread never uses it);
- its own process group, SIGINT ignored (Ctrl-C is the parent's business) and the highest
  OOM-killer score, so that the kernel kills it, not the notebook, when memory runs out;
- an address-space limit of ``memory_limit`` bytes above its size at the fork (Linux);
- ``/dev/null`` for file descriptors 0-2 and every other inherited descriptor closed, so that
  nothing it does can reach the notebook's sockets (Jupyter's ZMQ streams are not fork-safe);
  ``sys.stdout``/``sys.stderr`` write into the capped capture instead, ``input()`` refuses,
  IPython's ``display`` prints its text form into the capture, and ipykernel's own route from a
  forked process to the notebook is shut (output through it is dropped);
- and it leaves by ``os._exit``: no exit handler of the parent runs twice.

Unix only (:data:`AVAILABLE`); the caller falls back to running in-process elsewhere.
"""

from __future__ import annotations

import builtins
import contextlib
import io
import json
import os
import selectors
import signal
import sys
import threading
import time
import warnings
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Callable

import torch

from .isolation import cut_off_the_kernel, isolate_descriptors, limit_resources

AVAILABLE = hasattr(os, "fork")

#: Seconds past a stage's limit before the parent kills: the child's own timer stops
#: pure-Python loops first, with a cleaner message; the kill is for what it cannot stop.
GRACE_SECONDS = 1.0

_channel: ContextVar[_Channel | None] = ContextVar("lrcourse_sandbox_channel", default=None)


@dataclass(frozen=True)
class Result:
    """How a :func:`run` ended.

    ``finished``: the function returned, and ``value`` is what it returned. Otherwise ``stopped``
    says why: ``"time"`` (killed at the deadline), ``"exit"`` (the child exited by itself, ``code``
    its status), ``"signal"`` (``code`` the signal's number) or ``"raised"`` (the function raised,
    ``code`` None, ``error`` the exception's type and message). ``stage`` is the last stage the
    child announced, ``in_stage`` whether it was still inside it, ``limit`` the time limit then.
    """

    finished: bool
    value: Any = None
    output: str = ""
    output_truncated: bool = False
    stopped: str | None = None
    code: int | None = None
    error: str | None = None
    stage: str | None = None
    in_stage: bool = False
    limit: float = 0.0


@contextlib.contextmanager
def stage(description: str, time_limit: float):
    """In a child: tell the parent that ``description`` starts and may take ``time_limit`` s.

    The parent's deadline restarts at each stage and at its end. Outside a child, nothing.
    """
    channel = _channel.get()
    if channel is None:
        yield
        return
    channel.send({"stage": description, "limit": time_limit})
    try:
        yield
    finally:
        channel.send({"after": description})


def run(function: Callable[[], Any], *, time_limit: float, output_limit: int, memory_limit: int | None) -> Result:
    """Call ``function()`` in a forked child and return how it ended (see :class:`Result`).

    ``time_limit``: seconds allowed between two announcements of the child (its start, each
    :func:`stage` and its end). ``output_limit``: characters of printed output kept.
    ``memory_limit``: bytes of address space the child may add (None: no limit). Ctrl-C while
    waiting kills the child and re-raises ``KeyboardInterrupt``. Raises ``OSError`` if the
    fork fails.
    """
    read_fd, write_fd = os.pipe()
    try:
        with warnings.catch_warnings():
            # Python 3.12+ warns of forking a process with threads: a lock one of them held at the
            # fork stays held in the child. The child runs Python and single-threaded PyTorch; a
            # lock it meets held would at worst hang it until the deadline kills it.
            warnings.filterwarnings("ignore", r".*fork\(\) may lead to deadlocks", DeprecationWarning)
            pid = os.fork()
    except BaseException:
        os.close(read_fd)
        os.close(write_fd)
        raise
    if pid == 0:
        _child(function, write_fd, output_limit, memory_limit)  # never returns
    watch, open_fds = _Watch(time_limit, output_limit), [read_fd, write_fd]
    try:
        os.close(open_fds.pop())  # the write end is the child's
        with contextlib.suppress(OSError):
            os.setpgid(pid, pid)  # the child does the same; whichever runs first wins the race
        watch.read(read_fd)
    finally:  # whatever happened, Ctrl-C included: nothing of the child is left running
        for fd in open_fds:
            os.close(fd)
        status = _stop(pid)
    return watch.result(status)


class _Watch:
    """The parent's view of the child: its announcements, its output and the deadline."""

    def __init__(self, time_limit: float, output_limit: int):
        self.default_limit, self.output_limit = time_limit, output_limit
        self.limit, self.deadline = time_limit, time.monotonic() + time_limit + GRACE_SECONDS
        self.stage, self.in_stage, self.timed_out = None, False, False
        self.message: dict | None = None
        self.output: list[str] = []
        self.kept = 0

    def read(self, fd: int) -> None:
        """Read announcements until the child's result, its end (EOF) or the deadline."""
        pending = b""
        with selectors.DefaultSelector() as selector:
            selector.register(fd, selectors.EVENT_READ)
            while self.message is None:
                remaining = self.deadline - time.monotonic()
                if remaining <= 0:
                    self.timed_out = True
                    return
                if not selector.select(remaining):
                    continue
                chunk = os.read(fd, 1 << 16)
                if not chunk:
                    return
                *lines, pending = (pending + chunk).split(b"\n")
                for line in lines:
                    self._take(line)

    def _take(self, line: bytes) -> None:
        try:
            event = json.loads(line)
        except ValueError:
            return
        if "out" in event:
            text = str(event["out"])[:self.output_limit - self.kept]
            self.output.append(text)
            self.kept += len(text)
            return
        if "stage" in event:
            self.stage, self.in_stage, self.limit = event["stage"], True, float(event["limit"])
        elif "after" in event:
            self.stage, self.in_stage, self.limit = event["after"], False, self.default_limit
        else:
            self.message = event
        self.deadline = time.monotonic() + self.limit + GRACE_SECONDS

    def result(self, status: int | None) -> Result:
        message = self.message or {}
        # The child counts what it dropped; a child that died could not say, so a full capture counts as cut.
        truncated = message["dropped"] > 0 if "dropped" in message else self.kept >= self.output_limit
        common = dict(output="".join(self.output), output_truncated=truncated, stage=self.stage,
                      in_stage=self.in_stage, limit=self.limit)
        if "value" in message:
            return Result(True, message["value"], **common)
        if "error" in message:
            return Result(False, stopped="raised", error=str(message["error"]), **common)
        if self.timed_out or status is None:
            return Result(False, stopped="time", **common)
        if os.WIFSIGNALED(status):
            return Result(False, stopped="signal", code=os.WTERMSIG(status), **common)
        return Result(False, stopped="exit", code=os.waitstatus_to_exitcode(status), **common)


def _stop(pid: int) -> int | None:
    """SIGKILL the child's process group and reap the child; its wait status (None if unknown).

    The group is killed before the child is reaped, while the child (a zombie at worst) still
    holds the group's id. A second Ctrl-C cannot leave a zombie behind: it is re-raised after.
    """
    for kill in (os.killpg, os.kill):
        with contextlib.suppress(OSError):
            kill(pid, signal.SIGKILL)
    interrupted, status = False, None
    while True:
        try:
            _, status = os.waitpid(pid, 0)
            break
        except KeyboardInterrupt:
            interrupted = True
        except ChildProcessError:
            break
    if interrupted:
        raise KeyboardInterrupt
    return status


class _Channel:
    """The child's end of the pipe: one JSON object per line."""

    def __init__(self, fd: int):
        self.fd, self.lock = fd, threading.Lock()

    def send(self, event: dict) -> None:
        data = (json.dumps(event) + "\n").encode()
        with self.lock:  # a line longer than PIPE_BUF is written in pieces: keep other threads' lines out
            while data:
                data = data[os.write(self.fd, data):]


class _CappedOutput(io.TextIOBase):
    """``sys.stdout``/``sys.stderr`` in the child: the first ``limit`` characters go to the parent."""

    def __init__(self, channel: _Channel, limit: int):
        self.channel, self.limit, self.kept, self.dropped = channel, limit, 0, 0

    def writable(self) -> bool:
        return True

    @property
    def encoding(self) -> str:
        return "utf-8"

    def write(self, text: str) -> int:
        if not isinstance(text, str):
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        room = max(self.limit - self.kept, 0)
        if room and text:
            self.channel.send({"out": text[:room]})
            self.kept += min(len(text), room)
        self.dropped += max(len(text) - room, 0)
        return len(text)


def _no_input(*args, **kwargs):
    raise RuntimeError("input() is not available while your code is checked")


def _child(function: Callable[[], Any], write_fd: int, output_limit: int, memory_limit: int | None) -> None:
    """The child's whole life; it ends by ``os._exit`` whatever happens, never returning into the caller."""
    status = 70
    try:
        torch.set_num_threads(1)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        with contextlib.suppress(OSError):
            os.setpgid(0, 0)
        isolate_descriptors(write_fd)
        limit_resources(memory_limit)
        channel = _Channel(write_fd)
        output = _CappedOutput(channel, output_limit)
        kernel_streams = (sys.stdout, sys.stderr)
        sys.stdout = sys.stderr = output
        sys.stdin = io.StringIO()
        builtins.input = _no_input
        cut_off_the_kernel(kernel_streams)
        _channel.set(channel)
        try:
            value = function()
        except BaseException as error:  # noqa: BLE001 - reported to the parent, whatever it is
            channel.send({"error": f"{type(error).__name__}: {error}"[:2000]})
            status = 1
        else:
            channel.send({"value": value, "dropped": output.dropped})
            status = 0
    finally:
        os._exit(status)
