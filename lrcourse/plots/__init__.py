"""Every plot of the course, in one place. Each takes ``ax=None`` (or ``axes=None``): a new
figure when none is given; and returns the axes it drew on.

- runs: :func:`plot_loss`, :func:`plot_metrics`, :func:`plot_seeds` (a run over seeds, with its band), :func:`plot_budgets` (final score against the budget), :func:`plot_timeline`, :func:`plot_effective_lrs`,
  :func:`plot_parameter_histograms`, :func:`show_images` (:mod:`.training`);
- the range test: :func:`plot_range_test`, :func:`plot_accuracy_range_test` (Smith's original) (:mod:`.range_test`);
- a home experiment's report: :func:`plot_report` (:mod:`.report`);
- schedules: :func:`plot_schedule`, :func:`plot_snapshot_plan` (:mod:`.schedules`);
- gradient descent on small surfaces: :func:`plot_descent`, :func:`plot_descent_loss` (:mod:`.descent`);
- searches for an LR: :func:`plot_search`, :func:`plot_trials` (:mod:`.search`);
- the loss landscape of a network: :func:`plot_sharpness`, :func:`plot_interpolation`, :func:`plot_loss_plane`,
  :func:`plot_landscape` (:mod:`.landscape`).
"""

from .core import axes_or_new, figure_png
from .descent import plot_descent, plot_descent_loss
from .landscape import plot_interpolation, plot_landscape, plot_loss_plane, plot_sharpness
from .range_test import plot_accuracy_range_test, plot_range_test
from .report import plot_report
from .schedules import plot_schedule, plot_snapshot_plan
from .search import plot_search, plot_trials
from .training import (plot_budgets, plot_effective_lrs, plot_loss, plot_metrics, plot_parameter_histograms, plot_seeds,
                       plot_timeline, show_images)

__all__ = ["axes_or_new", "figure_png", "plot_accuracy_range_test", "plot_budgets", "plot_descent", "plot_descent_loss",
           "plot_effective_lrs", "plot_interpolation", "plot_landscape", "plot_loss", "plot_loss_plane", "plot_metrics",
           "plot_parameter_histograms", "plot_range_test", "plot_report", "plot_schedule", "plot_search",
           "plot_seeds", "plot_sharpness", "plot_snapshot_plan", "plot_timeline", "plot_trials", "show_images"]
