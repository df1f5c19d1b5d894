"""The LR range test: speed against torch-lr-finder, and the quality of its suggestions.

Speed: ``lrcourse.lr_range_test`` and torch-lr-finder's ``LRFinder.range_test`` (plus its
``reset()``, which lrcourse does by itself) on the same MLP, optimizer and iterations, with
torch-lr-finder fed (a) the same device tensors and (b) its usual torchvision ``DataLoader``.
Both run all iterations (divergence stop off, end_lr=1 so nothing turns NaN), and the table
reports time per step, best of ``--repeats``.

Quality: for three set-ups, train one epoch from the same initial weights at each LR of a
grid and at each rule's suggestion, and report suggested / best LR and the accuracy gap.

Run:  python benchmarks/range_test.py [--repeats 3] [--device cpu] [--skip-quality]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from torch.utils.data import DataLoader
from torch_lr_finder import LRFinder, TrainDataLoaderIter
from torchvision import datasets, transforms

import lrcourse
from lrcourse.data import TensorData, batches, find_fashion_mnist
from lrcourse.range_test import DEFAULT_RULE, lr_range_test

NUM_ITER, BATCH_SIZE = 100, 64
GRID = np.logspace(-5, 0, 11)
SETUPS = {
    "MLP + SGD(momentum 0.9)": (lrcourse.MLP, lambda params, lr: torch.optim.SGD(params, lr=lr, momentum=0.9)),
    "MLP + Adam": (lrcourse.MLP, lambda params, lr: torch.optim.Adam(params, lr=lr)),
    "SmallCNN + SGD(momentum 0.9)": (lrcourse.SmallCNN, lambda params, lr: torch.optim.SGD(params, lr=lr, momentum=0.9)),
}


class DeviceBatches:
    """An iterable of shuffled device batches, new order each pass, for torch-lr-finder."""

    def __init__(self, data: TensorData, batch_size: int):
        self.data, self.batch_size = data, batch_size
        self.generator = torch.Generator().manual_seed(0)

    def __iter__(self):
        return batches(self.data, self.batch_size, shuffle=True, generator=self.generator)


def fresh(setup: str, device, lr: float = 1e-7):
    make_model, make_optimizer = SETUPS[setup]
    lrcourse.seed_everything(0)
    model = make_model().to(device)
    return model, make_optimizer(model.parameters(), lr)


def time_lrcourse(train, device) -> float:
    model, optimizer = fresh("MLP + SGD(momentum 0.9)", device)
    result = lr_range_test(model, train, optimizer, end_lr=1.0, num_iter=NUM_ITER, batch_size=BATCH_SIZE,
                           diverge_factor=1e30, progress=False)
    assert result.steps == NUM_ITER, result.stop_reason
    return result.seconds / result.steps


def time_torch_lr_finder(loader, device) -> float:
    model, optimizer = fresh("MLP + SGD(momentum 0.9)", device)
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


def one_epoch_accuracy(setup: str, lr: float, train, val, device) -> float:
    model, optimizer = fresh(setup, device, lr)
    history = lrcourse.fit(model, train, optimizer, epochs=1, batch_size=BATCH_SIZE, val=val, progress=False)
    return history.val_accuracy[-1] if history.val_accuracy else 0.0


def quality(train, val, device) -> None:
    print(f"Suggestion quality: one epoch (batch {BATCH_SIZE}) at each of {len(GRID)} grid LRs "
          f"({GRID[0]:g}..{GRID[-1]:g}) and at each suggestion, same initial weights")
    print(f"{'set-up':<30} {'rule':<12} {'LR':>9} {'LR / best':>9} {'accuracy':>9} {'gap (points)':>13}")
    all_within = {}
    for setup in SETUPS:
        grid = {lr: one_epoch_accuracy(setup, lr, train, val, device) for lr in GRID}
        best_lr = max(grid, key=grid.get)
        model, optimizer = fresh(setup, device)
        test = lr_range_test(model, train, optimizer, num_iter=NUM_ITER, batch_size=BATCH_SIZE, progress=False)
        print(f"{setup:<30} {'grid best':<12} {best_lr:>9.2g} {1.0:>9.2f} {grid[best_lr]:>9.1%}")
        for rule, lr in test.suggestions.items():
            accuracy = one_epoch_accuracy(setup, lr, train, val, device)
            gap = 100 * (grid[best_lr] - accuracy)
            all_within.setdefault(rule, []).append(gap <= 1.0)
            print(f"{'':<30} {rule:<12} {lr:>9.2g} {lr / best_lr:>9.2f} {accuracy:>9.1%} {gap:>13.1f}")
    for rule, within in all_within.items():
        default = " (the default, RangeTest.suggestion)" if rule == DEFAULT_RULE else ""
        print(f"{rule}{default}: within 1 point of the grid's best on {sum(within)} of {len(within)} set-ups")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per configuration; the best is kept")
    parser.add_argument("--device", default=None, help="cpu, cuda, mps (default: the best available)")
    parser.add_argument("--skip-quality", action="store_true", help="only the speed comparison")
    args = parser.parse_args()
    if args.repeats < 1:
        parser.error("--repeats must be >= 1")
    data = lrcourse.load_fashion_mnist(device=args.device)
    device = data.train.device
    print(f"device: {device}, torch {torch.__version__}, {torch.get_num_threads()} CPU threads\n")
    speed(data.train, device, args.repeats)
    if not args.skip_quality:
        quality(data.train, data.val, device)


if __name__ == "__main__":
    main()
