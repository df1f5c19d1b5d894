"""Training one model on several processes (data parallelism over ``torch.distributed``).

Nothing here is needed on one process. Under ``torchrun`` (or :func:`spawn`), ``lrcourse.fit``
and ``lrcourse.range_test.lr_range_test`` notice the process group and train one model across
the processes: ``batch_size`` is the global batch, each process takes its slice of every batch,
and the gradients are averaged exactly (:mod:`.group`). :func:`init` joins the processes torchrun
started; :func:`spawn` starts them from Python (:mod:`.launch`). ``python -m lrcourse.distributed``
runs a small experiment (:mod:`.experiment`).
"""

from .group import DistributedError, Group, current, is_main_process, sampler_of
from .launch import Outcome, init, shutdown, spawn

__all__ = ["DistributedError", "Group", "Outcome", "current", "init", "is_main_process", "sampler_of", "shutdown", "spawn"]
