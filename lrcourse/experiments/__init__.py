"""Experiments the lessons run, built on :func:`lrcourse.fit` and the range test.

- :mod:`.runs`: one run at an LR or a schedule (:func:`train_at_lr`, :func:`train_with_schedule`),
  the range test against the default LR, snapshot ensembles, LR bands, gradient noise;
- :mod:`.home`: the home experiment on your own data (:func:`home_experiment`), reported as a
  :class:`Report` (:mod:`.report`).
"""

from .home import CYCLED_MOMENTUM, Split, home_experiment, train_val_split
from .report import RUN_LABELS, Report, SeedRun, paired_difference
from .runs import (MODELS, OPTIMIZERS, LRBand, MomentumStepper, RangeTestComparison, Run, compare_with_default,
                   default_lr, good_lr_band, gradient_noise, lrs_applied, train_at_lr, train_snapshot_ensemble,
                   train_with_schedule)

__all__ = ["CYCLED_MOMENTUM", "LRBand", "MODELS", "MomentumStepper", "OPTIMIZERS", "RUN_LABELS",
           "RangeTestComparison", "Report", "Run", "SeedRun", "Split", "compare_with_default", "default_lr",
           "good_lr_band", "gradient_noise", "home_experiment", "lrs_applied", "paired_difference", "train_at_lr",
           "train_snapshot_ensemble", "train_val_split", "train_with_schedule"]
