"""The report of a home experiment (:func:`lrcourse.experiments.home_experiment`): plain data.

A :class:`Report` holds what was measured, nothing derived: the range tests (one per seed, each
a :class:`~lrcourse.range_test.RangeTest`, and whether the model was restored after it) and every
training run (its name, seed, LR and :class:`~lrcourse.callbacks.History`). The summaries are
computed from them on demand, so a report read back from JSON gives the same table.

The runs, each trained from the same initial weights and batch order for a given seed:

- ``"default"``: a constant LR, PyTorch's default for the optimizer (:func:`default_lr`);
- ``"found"``: a constant LR found by the range tests (or given);
- ``"cosine"``: cosine annealing from the found LR to 0 (not run by default);
- ``"one_cycle"``: 1-cycle with its peak at ``max_lr`` from the range tests, momentum cycling.

Two runs of the same seed are *paired*: the difference of their final validation accuracies is
measured with the seed's noise shared. :meth:`Report.difference` gives the mean of the paired
differences and their spread (lowest and highest over seeds); a run *beats* another when it wins
on every seed (:meth:`Report.beats`), else the difference is within the seed spread.
"""

from __future__ import annotations

import dataclasses
import html
import json
import math
from dataclasses import dataclass, field

import numpy as np

from ..callbacks import History
from ..range_test import RangeTest
from ..seeds import Paired

#: The runs of a home experiment, by name, as they are labelled in the table and the plots.
RUN_LABELS = {"default": "default LR, constant", "found": "found LR, constant", "cosine": "found LR, cosine",
              "one_cycle": "1-cycle"}
#: Bumped when the JSON layout changes; :meth:`Report.from_json` refuses other versions.
FORMAT = 1


@dataclass
class SeedRun:
    """One training run: ``name`` (a key of :data:`RUN_LABELS`), its ``seed``, its ``lr`` (the
    constant LR, or 1-cycle's peak) and its :class:`~lrcourse.callbacks.History`."""

    name: str
    seed: int
    lr: float
    history: History

    @property
    def final_accuracy(self) -> float:
        """The validation accuracy after the last epoch; NaN if the run diverged or trained no epoch."""
        history = self.history
        return float(history.val_accuracy[-1]) if history.val_accuracy and not history.diverged else math.nan


def paired_difference(first: dict[int, float], second: dict[int, float], a: str = "a", b: str = "b") -> Paired:
    """The :class:`~lrcourse.seeds.Paired` difference ``first - second`` of two ``{seed: value}`` dicts (two runs, or the
    same run of two reports), over the seeds both hold, in ``first``'s order."""
    seeds = [seed for seed in first if seed in second]
    if not seeds:
        raise ValueError(f"{a!r} and {b!r} share no seed")
    return Paired(a, b, tuple(first[seed] - second[seed] for seed in seeds))


@dataclass
class Report:
    """Everything a home experiment measured; see the module docstring for the runs.

    ``run_names`` are the runs asked for (keys of :data:`RUN_LABELS`).
    ``data`` describes the data (``{"train": examples or batches, "val": ..., "classes": [...]}``);
    ``model`` names the model function; ``lr_source`` is ``"range test"`` (``found_lr`` is the
    geometric median of the tests' picks) or ``"given"``. ``stop_reason`` is None for a complete
    experiment, else why it ended early (its runs so far are kept). ``seconds``: wall-clock time.
    """

    optimizer: str
    model: str
    epochs: int
    batch_size: int | None
    seeds: list[int]
    data: dict
    default_lr: float
    found_lr: float
    max_lr: float
    lr_source: str
    run_names: list[str] = field(default_factory=lambda: ["default", "found", "one_cycle"])
    range_tests: list[RangeTest] = field(default_factory=list)
    restored: list[bool] = field(default_factory=list)
    runs: list[SeedRun] = field(default_factory=list)
    stop_reason: str | None = None
    seconds: float = 0.0

    # --- the measurements, summarised -------------------------------------------------------

    @property
    def names(self) -> list[str]:
        """The run names that were trained, in :data:`RUN_LABELS` order."""
        trained = {run.name for run in self.runs}
        return [name for name in RUN_LABELS if name in trained]

    @property
    def picks(self) -> list[float]:
        """Each range test's suggestion (:attr:`RangeTest.suggestion`: its pick by
        its :attr:`~lrcourse.range_result.RangeTest.rule`), in seed order."""
        return [test.suggestion for test in self.range_tests]

    @property
    def learning_region(self) -> tuple[float, float]:
        """Where the loss of the range tests falls: from where it starts falling
        (``cyclical_range[0]``) to its lowest point (``lowest``), each the median over the tests.
        A curve whose loss never falls gives a region whose low end is not below its high end."""
        if not self.range_tests:
            raise ValueError("the report has no range test")
        return (float(np.median([test.cyclical_range[0] for test in self.range_tests])),
                float(np.median([test.lowest for test in self.range_tests])))

    def final_accuracies(self, name: str) -> dict[int, float]:
        """``{seed: final validation accuracy}`` of the run ``name``."""
        if name not in RUN_LABELS:
            raise ValueError(f"name must be one of {tuple(RUN_LABELS)}; got {name!r}")
        return {run.seed: run.final_accuracy for run in self.runs if run.name == name}

    def mean(self, name: str) -> float:
        """The mean over seeds of the run's final validation accuracy."""
        values = list(self.final_accuracies(name).values())
        return float(np.mean(values)) if values else math.nan

    def spread(self, name: str) -> float:
        """Highest minus lowest final validation accuracy of the run over seeds."""
        values = list(self.final_accuracies(name).values())
        return float(np.ptp(values)) if values else math.nan

    def difference(self, a: str, b: str) -> Paired:
        """The paired difference of final validation accuracy, ``a - b``, over the seeds both ran."""
        return paired_difference(self.final_accuracies(a), self.final_accuracies(b), a, b)

    def beats(self, a: str, b: str) -> bool:
        """Whether ``a`` ended with a higher validation accuracy than ``b`` on every seed."""
        return self.difference(a, b).verdict == "a"

    @property
    def best(self) -> str:
        """The run with the highest mean final validation accuracy (NaN counts as lowest)."""
        return max(self.names, key=lambda name: -math.inf if math.isnan(self.mean(name)) else self.mean(name))

    def table(self) -> list[dict]:
        """One row per run: its name, label, LR, mean and spread over seeds, and the per-seed accuracies."""
        rows = []
        for name in self.names:
            lrs = sorted({run.lr for run in self.runs if run.name == name})
            rows.append({"run": name, "label": RUN_LABELS[name], "lr": lrs[0] if len(lrs) == 1 else lrs,
                         "mean": self.mean(name), "spread": self.spread(name),
                         "per_seed": self.final_accuracies(name)})
        return rows

    def __str__(self) -> str:
        lines = [f"{self.model}, {self.optimizer}, {self.epochs} epochs, batch {self.batch_size}, seeds {self.seeds}"
                 f"{'' if self.stop_reason is None else f' ({self.stop_reason})'}"]
        if self.range_tests:
            low, high = self.learning_region
            lines.append(f"range tests: picks {', '.join(f'{lr:.2g}' for lr in self.picks)}; learning region "
                         f"{low:.2g} to {high:.2g}; model restored after each: {all(self.restored)}")
        else:
            lines.append("range tests: none finished")
        for row in self.table():
            seeds = ", ".join(f"{value:.2%}" for value in row["per_seed"].values())
            lines.append(f"{row['label']:>20} (lr {format_lr(row['lr'])}): {row['mean']:.2%}, spread "
                         f"{row['spread']:.2%} ({seeds})")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        cells = "".join(
            f"<tr><td style='text-align:left'>{row['label']}</td><td>{format_lr(row['lr'])}</td>"
            f"<td>{row['mean']:.2%}</td><td>{row['spread']:.2%}</td>"
            f"<td>{', '.join(f'{v:.2%}' for v in row['per_seed'].values())}</td></tr>" for row in self.table())
        heading, tests = html.escape(str(self).splitlines()[0]), html.escape(str(self).splitlines()[1])
        return (f"<p>{heading}<br>{tests}</p><table><tr><th>run</th><th>LR</th><th>mean val. accuracy</th>"
                f"<th>spread (max - min)</th><th>per seed</th></tr>{cells}</table>")

    def plot(self, axes=None):
        """One page: the range-test curves, the validation curves with seed bands, and the table
        (:func:`lrcourse.plots.plot_report`). Returns the axes."""
        from ..plots.report import plot_report  # plotting pulls in matplotlib; the data does not need it

        return plot_report(self, axes=axes)

    # --- JSON -------------------------------------------------------------------------------

    def to_json(self) -> str:
        """The report as JSON text (NaN and infinities as JSON's extensions ``NaN``/``Infinity``)."""
        return json.dumps({"format": FORMAT, **dataclasses.asdict(self)})

    @classmethod
    def from_json(cls, text: str) -> Report:
        """The report :meth:`to_json` wrote."""
        data = json.loads(text)
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            got = f"format {data.get('format')!r}" if isinstance(data, dict) else type(data).__name__
            raise ValueError(f"text must be a home-experiment report of format {FORMAT} (Report.to_json); got {got}")
        del data["format"]
        data["range_tests"] = [RangeTest(**test) for test in data["range_tests"]]
        data["runs"] = [SeedRun(run["name"], run["seed"], run["lr"], History(**run["history"]))
                        for run in data["runs"]]
        return cls(**data)


def format_lr(lr) -> str:
    """An LR, or a list of LRs, as short text."""
    return f"{lr:.3g}" if isinstance(lr, float) else ", ".join(f"{value:.3g}" for value in lr)
