"""Every plot of the course, in one place. Each takes ``ax=None`` (or ``axes=None``): a new
figure when none is given; and returns the axes it drew on.

- runs: :func:`plot_loss`, :func:`plot_metrics`, :func:`plot_seeds` (a run over seeds, with its band), :func:`plot_timeline`, :func:`plot_effective_lrs`,
  :func:`plot_parameter_histograms`, :func:`show_images` (:mod:`.training`);
- the range test: :func:`plot_range_test` (:mod:`.range_test`);
- schedules: :func:`plot_schedule`, :func:`plot_snapshot_plan` (:mod:`.schedules`);
- gradient descent on small surfaces: :func:`plot_descent`, :func:`plot_descent_loss` (:mod:`.descent`).
"""

from .core import axes_or_new, figure_png
from .descent import plot_descent, plot_descent_loss
from .range_test import plot_range_test
from .schedules import plot_schedule, plot_snapshot_plan
from .training import (plot_effective_lrs, plot_loss, plot_metrics, plot_parameter_histograms, plot_seeds,
                       plot_timeline, show_images)

__all__ = ["axes_or_new", "figure_png", "plot_descent", "plot_descent_loss", "plot_effective_lrs", "plot_loss",
           "plot_metrics", "plot_parameter_histograms", "plot_range_test", "plot_seeds", "plot_schedule", "plot_snapshot_plan",
           "plot_timeline", "show_images"]
