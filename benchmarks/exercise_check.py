"""What grading in a child process costs per check: ``q.feedback(solution)`` sandboxed and in-process.

The notebook's process holds FashionMNIST (``load_fashion_mnist()``), as a lesson's kernel does,
so the fork copies the page tables of a realistically sized process. Each question's shown
solution is checked ``--repeats`` times both ways (alternating, after one untimed warm-up); the
table gives the median time per check and the difference, which is the sandbox's overhead
(fork, the child's set-up, the pipe, the kill and the wait). For scale, the same run times a
bare ``os.fork`` of the same process whose child exits at once: the floor any forking check pays.
Wall-clock times grow with whatever else runs on the machine; the CPU time (this process and
its children) of the same checks does much less, so it is printed too.

Run:  python benchmarks/exercise_check.py [--repeats 20]
"""

from __future__ import annotations

import argparse
import importlib
import os
import resource
import statistics
import time

import torch

import lrcourse
from lrcourse.exercises import LESSONS, core, questions


def solution(question):
    namespace = {"ex": importlib.import_module(f"lrcourse.exercises.{question.lesson}")}
    exec(question.solution_code, namespace)
    return namespace[question.answer_name]


def cpu_seconds() -> float:
    """CPU time of this process and of its children that have been waited for, user and system."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def seconds(question, answer, sandboxed: bool) -> tuple[float, float]:
    """Wall-clock and CPU seconds of one check."""
    core.SANDBOX = sandboxed
    start, cpu = time.perf_counter(), cpu_seconds()
    feedback = question.feedback(answer)
    elapsed = time.perf_counter() - start, cpu_seconds() - cpu
    assert feedback.outcome == core.CORRECT, feedback
    return elapsed


def bare_fork() -> tuple[float, float]:
    start, cpu = time.perf_counter(), cpu_seconds()
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
    return time.perf_counter() - start, cpu_seconds() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    torch.set_num_threads(1)
    data = lrcourse.load_fashion_mnist()
    with open("/proc/self/status") as file:
        rss = next(line.split()[1] for line in file if line.startswith("VmRSS"))
    print(f"parent: FashionMNIST on {data.train.x.device}, VmRSS {int(rss) / 1024:.0f} MiB, "
          f"torch {torch.__version__}\n")
    print(f"{'question':<42} {'in-process':>11} {'sandboxed':>10} {'overhead':>9} {'CPU overhead':>13}  (median ms)")
    overheads, cpu_overheads = [], []
    for key in LESSONS:
        for question in questions(importlib.import_module(f"lrcourse.exercises.{key}")):
            answer = solution(question)
            times = {True: [], False: []}
            for sandboxed in (True, False):
                seconds(question, answer, sandboxed)  # warm-up
            for _ in range(args.repeats):
                for sandboxed in (True, False):
                    times[sandboxed].append(seconds(question, answer, sandboxed))
            (inside, inside_cpu), (outside, outside_cpu) = (
                [1e3 * statistics.median(column) for column in zip(*times[flag])] for flag in (False, True))
            overheads.append(outside - inside)
            cpu_overheads.append(outside_cpu - inside_cpu)
            print(f"{repr(question)[:42]:<42} {inside:>11.1f} {outside:>10.1f} {outside - inside:>9.1f} "
                  f"{outside_cpu - inside_cpu:>13.1f}")
    floor, floor_cpu = (1e3 * statistics.median(column) for column in zip(*(bare_fork() for _ in range(args.repeats))))
    print(f"\noverhead per check over {len(overheads)} questions: wall-clock median {statistics.median(overheads):.1f} ms "
          f"(range {min(overheads):.1f} to {max(overheads):.1f}), CPU median {statistics.median(cpu_overheads):.1f} ms; "
          f"a bare fork and wait: {floor:.1f} ms wall-clock, {floor_cpu:.1f} ms CPU")


if __name__ == "__main__":
    main()
