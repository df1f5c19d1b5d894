"""What a forked child does to itself before a learner's code runs in it (:mod:`.sandbox`): cut off
from the notebook's descriptors and kernel, and limited in what it may take from the machine."""

from __future__ import annotations

import contextlib
import os
import sys


def isolate_descriptors(keep: int) -> None:
    """Point descriptors 0-2 at /dev/null and close every other one but ``keep`` (the pipe to the parent)."""
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    top = os.sysconf("SC_OPEN_MAX") if hasattr(os, "sysconf") else 65536
    os.closerange(3, keep)
    os.closerange(keep + 1, max(top, keep + 2))


def limit_resources(memory_limit: int | None) -> None:
    """No core dumps, first in line for the OOM killer, and at most ``memory_limit`` more bytes of address
    space than now (Linux; where a limit cannot be set, it is skipped)."""
    try:
        import resource
    except ImportError:  # not Unix: no limits
        return
    with contextlib.suppress(OSError, ValueError):
        resource.setrlimit(resource.RLIMIT_CORE, (0, resource.getrlimit(resource.RLIMIT_CORE)[1]))
    with contextlib.suppress(OSError):
        with open("/proc/self/oom_score_adj", "w") as file:
            file.write("1000")
    if memory_limit is None:
        return
    try:
        with open("/proc/self/statm") as file:  # Linux: the address space's size, in pages
            size = int(file.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):  # macOS does not enforce RLIMIT_AS anyway
        return
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = size + memory_limit if hard == resource.RLIM_INFINITY else min(size + memory_limit, hard)
    with contextlib.suppress(OSError, ValueError):
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def cut_off_the_kernel(streams) -> None:
    """In a Jupyter kernel: ``display()`` (and inline ``plt.show()``) print their text form into
    the capture, and ipykernel's IOPub thread, which a forked process would use to reach the
    notebook (through the kernel's output ``streams``, a logging handler holding one, a widget),
    is marked closed in this process, so that everything sent through it is dropped."""
    module = sys.modules.get("IPython.core.interactiveshell")
    if module is None or not module.InteractiveShell.initialized():
        return
    from IPython.core.displaypub import DisplayPublisher

    shell = module.InteractiveShell.instance()
    shell.display_pub = DisplayPublisher(shell=shell)
    kernel = getattr(shell, "kernel", None)
    threads = [getattr(kernel, "iopub_thread", None), getattr(getattr(kernel, "iopub_socket", None), "io_thread", None)]
    for thread in threads + [getattr(stream, "pub_thread", None) for stream in streams]:
        if thread is not None and hasattr(thread, "socket"):
            thread.socket = None  # ipykernel's IOPubThread sends nothing once its socket is None
