"""The result of an LR range test (:class:`RangeTest`) and how several are combined (:func:`combine`).

:func:`lrcourse.range_test.lr_range_test` runs the test; this module is what it returns: plain
data (per step the LR, the raw and the smoothed loss, the batch accuracy) and the rules of
:mod:`lrcourse.lr_rules` read from it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from . import lr_rules

#: The rule each test's pick is made by; ``RangeTest.suggestion`` is the median of the picks.
DEFAULT_RULE = "loss_and_accuracy"
#: The rule for a test that recorded no accuracy (a model whose outputs are not class scores).
FALLBACK_RULE = "midway"
#: Every rule :attr:`RangeTest.suggestions` may hold: those of :mod:`lrcourse.lr_rules`, and their combination.
RULE_NAMES = (*lr_rules.RULES, "loss_and_accuracy")


@dataclass
class RangeTest:
    """The record of a range test: per step the LR, the raw loss and the smoothed loss, and, for a
    classifier (outputs ``(N, C)``, integer targets), the accuracy on the step's batch (on ``val``
    when the test evaluated it); ``accuracies`` is empty otherwise.

    ``stop_reason`` is ``"completed"`` (all ``num_iter`` steps), ``"diverged"``, ``"non-finite
    loss"`` or ``"stopped"`` (by ``on_step``). Suggestions are computed from the smoothed loss,
    without the first 10% of the steps (the average still settling) and the last 5% (the
    blow-up), as fastai trims before applying its rules.

    A result of several tests (:func:`combine`) keeps them in ``tests``; its curve is their mean
    and ``seconds`` their total. A single test has ``tests == []``.
    """

    start_lr: float
    end_lr: float
    num_iter: int
    mode: str
    lrs: list[float] = field(default_factory=list)
    losses: list[float] = field(default_factory=list)
    smoothed: list[float] = field(default_factory=list)
    accuracies: list[float] = field(default_factory=list)
    stop_reason: str = "completed"
    seconds: float = 0.0
    batch_size: int | None = None
    accumulation_steps: int = 1
    seed: int = 0
    tests: list[RangeTest] = field(default_factory=list)

    @property
    def steps(self) -> int:
        return len(self.lrs)

    @property
    def examples(self) -> int | None:
        """The training examples the test(s) trained on, the cost: ``steps * batch_size *
        accumulation_steps`` per test (a pass's last, short batch counted as full). None when a
        test read a DataLoader, whose batches are not counted."""
        if self.tests:
            counts = [test.examples for test in self.tests]
            return None if None in counts else sum(counts)
        return None if self.batch_size is None else self.steps * self.batch_size * self.accumulation_steps

    @property
    def stopped_at(self) -> int | None:
        """The last step taken, when the test ended before ``num_iter`` steps."""
        return None if self.stop_reason == "completed" else self.steps - 1

    def curve(self) -> tuple[np.ndarray, np.ndarray]:
        """``(lrs, smoothed)`` the rules read: finite points only, trimmed as fastai trims."""
        return lr_rules.trimmed(*lr_rules.finite(self.lrs, self.smoothed))

    @property
    def steepest(self) -> float:
        """:func:`lrcourse.lr_rules.steepest` of the curve."""
        return lr_rules.steepest(*self.curve())

    @property
    def valley(self) -> float:
        """:func:`lrcourse.lr_rules.valley` (fastai's rule) of the curve."""
        return lr_rules.valley(*self.curve())

    @property
    def lowest(self) -> float:
        """The LR of the lowest smoothed loss: past it, the loss turns up."""
        return lr_rules.lowest(*lr_rules.finite(self.lrs, self.smoothed))

    @property
    def min_over_10(self) -> float:
        """The LR of the lowest smoothed loss, divided by 10 (fastai's original rule)."""
        return self.lowest / 10

    @property
    def midway(self) -> float:
        """:func:`lrcourse.lr_rules.midway` of the curve: halfway (log scale) between ``steepest`` and
        ``min_over_10``."""
        return lr_rules.midway(*self.curve())

    @property
    def accuracy_plateau(self) -> float | None:
        """:func:`lrcourse.lr_rules.accuracy_plateau` of the accuracy curve; None without one."""
        if not self.accuracies:
            return None
        return lr_rules.accuracy_plateau(*lr_rules.finite(self.lrs[:len(self.accuracies)], self.accuracies))

    @property
    def loss_and_accuracy(self) -> float | None:
        """The geometric mean of :attr:`midway` (read off the loss) and :attr:`accuracy_plateau` (off
        the accuracy), :math:`\\sqrt{\\eta_{midway}\\,\\eta_{plateau}}`; None without an accuracy curve.

        Each misses in its own way. The loss rules pick a decade or more too low where the loss
        starts far too high and falls before the network learns anything (raw 0..255 pixels); the
        accuracy's plateau picks too high for runs of several epochs on a few thousand images, and
        far too high where it runs on to where training diverges.
        Halfway between, on a log scale, neither miss is whole: in ``benchmarks/range_test.py`` it
        had a smaller worst gap and mean gap than ``midway`` over all set-ups (the README gives the
        table and where it does worse)."""
        plateau = self.accuracy_plateau
        return None if plateau is None else float(np.sqrt(self.midway * plateau))

    @property
    def rule(self) -> str:
        """The rule :attr:`picks` are made by: :data:`DEFAULT_RULE`, or :data:`FALLBACK_RULE`
        for a test without an accuracy curve."""
        return DEFAULT_RULE if self.accuracies else FALLBACK_RULE

    @property
    def cyclical_range(self) -> tuple[float, float]:
        """:func:`lrcourse.lr_rules.cyclical_range` of the curve: ``(base_lr, max_lr)``."""
        return lr_rules.cyclical_range(*self.curve())

    @property
    def suggestions(self) -> dict[str, float]:
        """Each rule's pick on this curve (for several tests: on their mean curves); ``accuracy_plateau``
        and ``loss_and_accuracy`` only where the test recorded accuracies."""
        picks = {"valley": self.valley, "steepest": self.steepest, "min_over_10": self.min_over_10,
                 "midway": self.midway}
        if self.accuracies:
            picks["accuracy_plateau"] = self.accuracy_plateau
            picks["loss_and_accuracy"] = self.loss_and_accuracy
        return picks

    @property
    def picks(self) -> list[float]:
        """Each test's pick by its :attr:`rule`: their spread shows how far one test can be trusted."""
        return [test.suggestions[test.rule] for test in self.tests] or [self.suggestions[self.rule]]

    @property
    def suggestion(self) -> float:
        """The recommended LR: the median of :attr:`picks` (for an even number of tests, the
        geometric mean of the middle two); for one test, its pick by :attr:`rule`."""
        return lr_rules.median_lr(self.picks)



def combine(tests: Sequence[RangeTest]) -> RangeTest:
    """One result from several tests of the same ramp: per step the mean of their raw and of their
    smoothed losses (the moving average is linear, so the latter is the smoothed mean) and of
    their accuracies (where every test recorded them), up to the
    last step all of them reached; ``tests`` keeps them, ``seconds`` is their total and
    ``stop_reason`` the shortest test's."""
    tests = list(tests) if isinstance(tests, (list, tuple)) else []
    if not tests or not all(isinstance(t, RangeTest) for t in tests):
        raise ValueError("tests must be a non-empty list of RangeTest")
    ramps = {(t.start_lr, t.end_lr, t.num_iter, t.mode) for t in tests}
    if len(ramps) > 1:
        raise ValueError(f"tests must share one ramp (start_lr, end_lr, num_iter, mode); got {sorted(ramps)}")
    if any(t.tests for t in tests) or min(t.steps for t in tests) == 0:
        raise ValueError("tests must be single tests with at least one step each")
    shortest = min(tests, key=lambda t: t.steps)
    n, first = shortest.steps, tests[0]
    return RangeTest(start_lr=first.start_lr, end_lr=first.end_lr, num_iter=first.num_iter, mode=first.mode,
                     lrs=list(first.lrs[:n]), losses=np.mean([t.losses[:n] for t in tests], axis=0).tolist(),
                     smoothed=np.mean([t.smoothed[:n] for t in tests], axis=0).tolist(),
                     accuracies=(np.mean([t.accuracies[:n] for t in tests], axis=0).tolist()
                                 if all(len(t.accuracies) >= n for t in tests) else []),
                     stop_reason=shortest.stop_reason, seconds=sum(t.seconds for t in tests),
                     batch_size=first.batch_size, accumulation_steps=first.accumulation_steps, seed=first.seed,
                     tests=tests)
