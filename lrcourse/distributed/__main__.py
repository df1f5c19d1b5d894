"""``torchrun --standalone --nproc_per_node=N -m lrcourse.distributed``: the linear scaling rule on N processes.

Every process trains its slice of each global batch; rank 0 prints what was run and how it
ended, and writes the result with ``--out``. Without torchrun it runs on one process.
"""

from __future__ import annotations

import argparse
import dataclasses
import faulthandler
import os
import sys

import torch

from .experiment import Experiment, load_data, run, save
from .group import current, is_main_process
from .launch import init, shutdown


def parse(argv: list[str]) -> tuple[Experiment, argparse.Namespace]:
    parser = argparse.ArgumentParser(prog="python -m lrcourse.distributed", description=__doc__.splitlines()[0])
    for field in dataclasses.fields(Experiment):
        parser.add_argument(f"--{field.name.replace('_', '-')}", type=type(field.default), default=field.default,
                            help=f"default {field.default}")
    parser.add_argument("--out", help="write rank 0's result here (torch.save of a dict)")
    parser.add_argument("--data", help="train on this file's data (experiment.save_data) instead of FashionMNIST's "
                                       "first --train-size and --val-size images")
    parser.add_argument("--device", default=None, help="cpu, or cuda (one GPU per process); default: cuda if any")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds a process waits for the others")
    parser.add_argument("--quiet", action="store_true", help="print nothing")
    parser.add_argument("--deadline", type=float, default=None,
                        help="a guard against hangs: after this many seconds, print every thread's stack and exit 1")
    args = parser.parse_args(argv)
    if args.deadline is not None and not args.deadline > 0:
        parser.error(f"--deadline must be a positive number of seconds; got {args.deadline:g}")
    values = {field.name: getattr(args, field.name) for field in dataclasses.fields(Experiment)}
    try:
        return Experiment(**values), args
    except (TypeError, ValueError) as error:
        parser.error(str(error))


def main(argv: list[str] | None = None) -> int:
    experiment, args = parse(sys.argv[1:] if argv is None else argv)
    if args.deadline is not None:
        # faulthandler's own thread: it fires even while Python is stuck in C++ holding the GIL.
        faulthandler.dump_traceback_later(args.deadline, exit=True)
    device = torch.device("cpu")
    if "RANK" in os.environ:  # started by torchrun
        device = init(backend="gloo" if args.device == "cpu" else None, timeout=args.timeout)
    elif args.device is not None:
        device = torch.device(args.device)
    group = current()
    processes = 1 if group is None else group.world_size
    train, val = load_data(args.data) if args.data else (None, None)
    result = run(experiment, device=device, train=train, val=val)
    if args.out:
        save(result, args.out)
    if is_main_process() and not args.quiet:
        history = result.history
        print(f"{processes} process(es) x {experiment.per_process_batch} examples = global batch {result.batch}; "
              f"LR {experiment.base_lr:g} at batch {experiment.base_batch} -> {result.lr:.4g} ({experiment.rule} "
              f"rule), warm-up {experiment.warmup_epochs} epoch(s)")
        print(f"{len(history['train_loss'])} epochs, "
              f"{len(history['loss'])} steps, {result.seconds:.1f} s: validation accuracy "
              f"{history['val_accuracy'][-1]:.2%}, loss {history['val_loss'][-1]:.4f}")
    shutdown()
    faulthandler.cancel_dump_traceback_later()
    return 0


if __name__ == "__main__":
    sys.exit(main())
