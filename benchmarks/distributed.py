"""What training on two processes costs: ``lrcourse.fit`` on 2 CPU processes (gloo) against 1.

Every configuration trains ``lrcourse.MLP`` (784-1000-10, 795k parameters) with SGD and momentum
on random inputs of FashionMNIST's shape, one PyTorch thread per process (as torchrun sets it),
for ``--steps`` steps after a short untimed run; the best of ``--repeats`` timed runs is kept.

- 1 process, batch B/2:  the work one process does per step on 2 processes (the reference);
- 2 processes, batch B:  each process computes on B/2 examples, then one all-reduce of the
                         gradients (3.2 MB) per step;
- 1 process, batch B:    the same global batch on one process.

The overhead ratio (2 processes / 1 process at the same per-process work) is what the all-reduce
and the waiting for the slower process cost per step; 1.0 would be free. The speed-up is one
process at batch B against two. On a machine with fewer idle cores than processes, both suffer.

Run:  python benchmarks/distributed.py [--batch 256] [--steps 200] [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import time

import torch

import lrcourse
from lrcourse.data import TensorData
from lrcourse.distributed import spawn

WARMUP_STEPS = 5


def seconds_per_step(batch: int, steps: int, repeats: int) -> float:
    """The best wall-clock seconds per step of ``fit`` at (global) ``batch``, on this process or group."""
    generator = torch.Generator().manual_seed(0)
    data = TensorData(torch.rand(batch * steps, 1, 28, 28, generator=generator),
                      torch.randint(0, 10, (batch * steps,), generator=generator))
    best = float("inf")
    for _ in range(repeats):
        torch.manual_seed(0)
        model = lrcourse.MLP()
        optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
        lrcourse.fit(model, data[:batch * WARMUP_STEPS], optimizer, epochs=1, batch_size=batch, progress=False)
        if torch.distributed.is_initialized():
            torch.distributed.barrier()  # start the clock together
        started = time.perf_counter()
        history = lrcourse.fit(model, data, optimizer, epochs=1, batch_size=batch, progress=False)
        assert history.steps == steps
        best = min(best, (time.perf_counter() - started) / steps)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batch", type=int, default=256, help="global batch B (even)")
    parser.add_argument("--steps", type=int, default=200, help="steps per timed run")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per configuration; the best is kept")
    args = parser.parse_args()
    if args.batch < 2 or args.batch % 2 or args.steps < 1 or args.repeats < 1:
        parser.error("--batch must be even and >= 2; --steps and --repeats >= 1")
    torch.set_num_threads(1)

    half = seconds_per_step(args.batch // 2, args.steps, args.repeats)
    outcomes = spawn(seconds_per_step, 2, (args.batch, args.steps, args.repeats), timeout=1800, threads=1)
    for outcome in outcomes:
        if not outcome.ok:
            raise SystemExit(f"rank {outcome.rank} failed: {outcome.error}\n{outcome.traceback}")
    two = max(outcome.value for outcome in outcomes)  # a step ends when the slower process ends it
    whole = seconds_per_step(args.batch, args.steps, args.repeats)

    print(f"lrcourse.fit, MLP (795k parameters), SGD with momentum, 1 thread per process, {args.steps} steps, "
          f"best of {args.repeats}")
    print(f"torch {torch.__version__}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at the end\n")
    print(f"{'configuration':<26} {'ms/step':>8}")
    print(f"{'1 process,   batch ' + str(args.batch // 2):<26} {1e3 * half:>8.2f}")
    print(f"{'2 processes, batch ' + str(args.batch):<26} {1e3 * two:>8.2f}")
    print(f"{'1 process,   batch ' + str(args.batch):<26} {1e3 * whole:>8.2f}\n")
    print(f"overhead of the second process (2 processes / 1 process, same work per process): {two / half:.2f}x")
    print(f"speed-up of 2 processes over 1 at batch {args.batch}: {whole / two:.2f}x (2.00x would be perfect)")


if __name__ == "__main__":
    main()
