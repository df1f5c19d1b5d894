"""The LR range test: speed against torch-lr-finder, and how far each rule's pick lands from a grid's best.

Speed: ``lrcourse.lr_range_test`` and torch-lr-finder's ``LRFinder.range_test`` (plus its
``reset()``, which lrcourse does by itself) on the same MLP, optimizer and iterations, with
torch-lr-finder fed (a) the same device tensors and (b) its usual torchvision ``DataLoader``.
Both run all iterations (divergence stop off, end_lr=1 so nothing turns NaN), and the table
reports time per step, best of ``--repeats``.

Quality (``--skip-speed``): how far each rule's pick lands from a grid's best, on three axes
(one epoch on 20,000 images; four on 5,000; four on 5,000 with a cosine): see
``benchmarks/suggestion_quality.py``, which this script runs.

Run:  python benchmarks/range_test.py [--repeats 3] [--device cpu] [--skip-speed] [--skip-quality]
                                       [--axis one-epoch|small-data|small-data-cosine] [--recompute]
                                       [--only NAME ...]
"""

from __future__ import annotations

import argparse
import time

import torch

import lrcourse
from lrcourse.data import TensorData, batches, find_fashion_mnist
from lrcourse.device import seeded
from lrcourse.range_test import lr_range_test
from suggestion_quality import AXES, SETUPS, Accuracies, quality

NUM_ITER, BATCH_SIZE = 100, 64


class DeviceBatches:
    """An iterable of shuffled device batches, new order each pass, for torch-lr-finder."""

    def __init__(self, data: TensorData, batch_size: int):
        self.data, self.batch_size = data, batch_size
        self.generator = torch.Generator().manual_seed(0)

    def __iter__(self):
        return batches(self.data, self.batch_size, shuffle=True, generator=self.generator)


def fresh_mlp(device, lr: float = 1e-7):
    model = seeded(lrcourse.MLP, 0, device)
    return model, torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)


def time_lrcourse(train, device) -> float:
    model, optimizer = fresh_mlp(device)
    result = lr_range_test(model, train, optimizer, end_lr=1.0, num_iter=NUM_ITER, batch_size=BATCH_SIZE,
                           diverge_factor=1e30, progress=False)
    assert result.steps == NUM_ITER, result.stop_reason
    return result.seconds / result.steps


def time_torch_lr_finder(loader, device) -> float:
    from torch_lr_finder import LRFinder

    model, optimizer = fresh_mlp(device)
    finder = LRFinder(model, optimizer, torch.nn.CrossEntropyLoss(), device=device)
    start = time.perf_counter()
    finder.range_test(loader, end_lr=1.0, num_iter=NUM_ITER, diverge_th=1e30)
    finder.reset()
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    seconds = time.perf_counter() - start
    assert len(finder.history["lr"]) == NUM_ITER
    return seconds / NUM_ITER


def speed(train, device, repeats: int) -> None:
    # Imported here: the quality comparison runs without torch-lr-finder.
    from torch.utils.data import DataLoader
    from torch_lr_finder import TrainDataLoaderIter
    from torchvision import datasets, transforms

    textbook = datasets.FashionMNIST(str(find_fashion_mnist()), train=True, transform=transforms.ToTensor())
    runs = {
        "lrcourse.lr_range_test (device tensors)": lambda: time_lrcourse(train, device),
        "torch-lr-finder (same device tensors)": lambda: time_torch_lr_finder(
            TrainDataLoaderIter(DeviceBatches(train, BATCH_SIZE)), device),
        "torch-lr-finder (DataLoader + ToTensor)": lambda: time_torch_lr_finder(
            DataLoader(textbook, batch_size=BATCH_SIZE, shuffle=True), device),
    }
    best = {name: float("inf") for name in runs}
    for _ in range(repeats):  # round-robin, so a slow spell of the machine hits every configuration
        for name, run in runs.items():
            best[name] = min(best[name], run())
    baseline = best["torch-lr-finder (same device tensors)"]
    print(f"Speed: MLP + SGD(momentum 0.9), {NUM_ITER} steps of batch {BATCH_SIZE}, best of {repeats}")
    print(f"{'configuration':<42} {'ms/step':>8} {'vs torch-lr-finder, same data':>30}")
    for name, seconds in best.items():
        print(f"{name:<42} {1e3 * seconds:>8.2f} {baseline / seconds:>29.2f}x")
    ratio = baseline / best["lrcourse.lr_range_test (device tensors)"]
    print(f"lrcourse / torch-lr-finder speed on the same data path: {ratio:.2f}x (target >= 1) "
          f"{'PASS' if ratio >= 0.98 else 'FAIL'}\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per configuration; the best is kept")
    parser.add_argument("--device", default=None, help="cpu, cuda, mps (default: the best available)")
    parser.add_argument("--skip-speed", action="store_true", help="only the quality comparison")
    parser.add_argument("--skip-quality", action="store_true", help="only the speed comparison")
    parser.add_argument("--axis", choices=list(AXES), default="one-epoch",
                        help="what a training run is: one epoch on 20,000 images, four on 5,000, or four on "
                             "5,000 with a cosine")
    parser.add_argument("--recompute", action="store_true", help="retrain everything instead of reading the cache")
    parser.add_argument("--only", nargs="+", metavar="NAME", help="set-ups whose name contains one of these")
    args = parser.parse_args()
    if args.repeats < 1:
        parser.error("--repeats must be >= 1")
    axis = AXES[args.axis]
    setups = [s for s in SETUPS if s.name in axis.setups and (not args.only or any(part in s.name for part in args.only))]
    if not setups:
        parser.error(f"--only matches no set-up; the set-ups are: {', '.join(axis.setups)}")
    data = lrcourse.load_fashion_mnist(device=args.device)
    device = data.train.device
    print(f"device: {device}, torch {torch.__version__}, {torch.get_num_threads()} CPU threads\n")
    if not args.skip_speed:
        speed(data.train, device, args.repeats)
    if not args.skip_quality:
        quality(setups, Accuracies(axis, args.recompute), device)


if __name__ == "__main__":
    main()
