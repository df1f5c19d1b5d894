"""What searches return: their trials and their cost, and races of methods, as plain data (JSON round trips).

The cost of a search is what its trials trained (examples, as the objective reported them) and
the seconds they took, plus whatever was spent outside the trials (the range test's steps). The
best value found *within a budget* is the best completed trial among those that finished before
the cumulative cost passed it, in the order the trials finished.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field

import numpy as np

from ..checks import ArgumentTypeError, check_choice

COMPLETE, PRUNED, FAILED, RUNNING, WAITING = "complete", "pruned", "failed", "running", "waiting"
#: The states of a trial that has spent all it will spend.
ENDED = (COMPLETE, PRUNED, FAILED)
COSTS = ("examples", "seconds")


@dataclass
class TrialRecord:
    """One trial: its ``params``, ``state`` (complete, pruned, failed, running, waiting), its
    ``value`` (pruned: the last value it reported; failed: None), the ``examples`` it trained and
    the wall-clock ``seconds`` it took, the ``values`` it reported along the way, its ``slot`` in
    the search's plan, and ``ended``, when it ended (seconds since the epoch; None while not ended)."""

    number: int
    params: dict[str, float]
    state: str
    value: float | None = None
    examples: int = 0
    seconds: float = 0.0
    values: list[float] = field(default_factory=list)
    slot: int | None = None
    ended: float | None = None


@dataclass(frozen=True)
class Best:
    params: dict[str, float]
    value: float


@dataclass
class Search:
    """A search's record: ``method``, the ``space`` searched (as JSON: ``{name: [low, high, scale]}``),
    its ``trials`` (ended ones first, in the order they ended), the ``study_name`` it is stored
    under, and ``extra_examples`` / ``extra_seconds`` spent outside the trials."""

    method: str
    space: dict[str, list]
    trials: list[TrialRecord] = field(default_factory=list)
    study_name: str | None = None
    extra_examples: int = 0
    extra_seconds: float = 0.0

    def count(self, state: str) -> int:
        return sum(trial.state == state for trial in self.trials)

    @property
    def ended(self) -> list[TrialRecord]:
        return [trial for trial in self.trials if trial.state in ENDED]

    @property
    def pending(self) -> int:
        """Trials still waiting or running (another worker's, or left by a stopped search)."""
        return self.count(WAITING) + self.count(RUNNING)

    @property
    def best(self) -> Best | None:
        """The completed trial with the highest value (None before one completes)."""
        done = [trial for trial in self.trials if trial.state == COMPLETE]
        if not done:
            return None
        top = max(done, key=lambda trial: trial.value)
        return Best(dict(top.params), top.value)

    @property
    def examples(self) -> int:
        """Examples trained in all: every trial's, ended or not, and the extra."""
        return self.extra_examples + sum(trial.examples for trial in self.trials)

    @property
    def seconds(self) -> float:
        return self.extra_seconds + sum(trial.seconds for trial in self.trials)

    def curve(self, cost: str = "examples") -> tuple[np.ndarray, np.ndarray]:
        """``(spent, best)``: after each ended trial, the cost spent so far (extra included) and the
        best completed value so far (NaN until one completes)."""
        check_choice("cost", cost, COSTS)
        spent, best, total, top = [], [], float(getattr(self, f"extra_{cost}")), -math.inf
        for trial in self.ended:
            total += getattr(trial, cost)
            if trial.state == COMPLETE:
                top = max(top, trial.value)
            spent.append(total)
            best.append(top if top > -math.inf else math.nan)
        return np.asarray(spent, dtype=float), np.asarray(best, dtype=float)

    def best_within(self, budget: float, cost: str = "examples") -> float | None:
        """The best value completed before the cost passed ``budget`` (None if none had)."""
        spent, best = self.curve(cost)
        inside = best[(spent <= budget) & ~np.isnan(best)]
        return float(inside[-1]) if len(inside) else None

    def cost_to_reach(self, value: float, cost: str = "examples") -> float | None:
        """The cost spent when a completed trial first reached ``value`` (None if none did)."""
        spent, best = self.curve(cost)
        reached = np.flatnonzero(best >= value)
        return float(spent[reached[0]]) if len(reached) else None

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> Search:
        data = json.loads(text)
        data["trials"] = [TrialRecord(**trial) for trial in data["trials"]]
        return cls(**data)


@dataclass
class Race:
    """The searches of a race: ``searches[method]`` holds one :class:`~.result.Search` per seed of ``seeds``."""

    n_trials: int
    seeds: list[int]
    searches: dict[str, list[Search]] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> Race:
        data = json.loads(text)
        data["searches"] = {method: [Search.from_json(json.dumps(s)) for s in runs]
                            for method, runs in data["searches"].items()}
        return cls(**data)


@dataclass(frozen=True)
class RaceRow:
    """One method of a race, per seed: the ``best`` value found within the budget, the ``examples``
    it spent there, and ``reach``: the examples it had spent when it first came within the
    tolerance of the best any method found for that seed (None if it never did)."""

    method: str
    best: tuple
    examples: tuple
    reach: tuple

    @property
    def best_mean(self) -> float:
        return _mean(self.best)

    @property
    def best_sd(self) -> float:
        found = [b for b in self.best if b is not None]
        return float(np.std(found, ddof=1)) if len(found) > 1 else 0.0

    @property
    def examples_mean(self) -> float:
        return float(np.mean(self.examples))

    @property
    def reached(self) -> int:
        return sum(r is not None for r in self.reach)

    @property
    def reach_mean(self) -> float:
        """Mean examples to come within the tolerance, over the seeds where it did (NaN if none)."""
        return _mean(self.reach)


def race_table(result: Race, budget: float | None = None, tolerance: float = 0.01) -> list[RaceRow]:
    """Per method, what it found within ``budget`` examples (None: all it ran), and what it cost
    to come within ``tolerance`` of the best value any method found for the same seed."""
    if not isinstance(result, Race):
        raise ArgumentTypeError(f"result must be a Race; got {type(result).__name__}")
    if not tolerance >= 0:
        raise ValueError(f"tolerance must be >= 0; got {tolerance!r}")
    targets = []
    for i in range(len(result.seeds)):
        found = [runs[i].best.value for runs in result.searches.values() if i < len(runs) and runs[i].best]
        targets.append(max(found) - tolerance if found else math.inf)
    rows = []
    for method, runs in result.searches.items():
        limit = math.inf if budget is None else budget
        best = tuple(run.best_within(limit) for run in runs)
        spent = tuple(float(min(run.examples, limit)) for run in runs)
        reach = tuple(run.cost_to_reach(target) for run, target in zip(runs, targets))
        rows.append(RaceRow(method, best, spent, reach))
    return rows


def _mean(values) -> float:
    found = [v for v in values if v is not None]
    return float(np.mean(found)) if found else math.nan
