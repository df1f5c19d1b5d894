"""``%load_ext lrcourse``: the first line of every lesson.

It draws plots inline with the course's style (as compact palette PNGs), keeps PyTorch's CPU threads within a
container's CPU quota (Binder's), seeds every random generator, and shows the environment report (so the learner
sees at once whether a GPU is in use). IPython loads an extension once; ``%reload_ext lrcourse`` runs it again.
"""

from __future__ import annotations

import matplotlib as mpl
from IPython.display import display
from matplotlib.figure import Figure

from .device import environment_report, match_threads_to_cpu_quota, seed_everything
from .plots import figure_png

#: Small, readable figures; a low DPI keeps the committed notebooks small.
STYLE = {
    "figure.figsize": (7.0, 3.5),
    "figure.dpi": 80,
    "font.size": 9,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "legend.frameon": False,
}


def load_ipython_extension(ipython) -> None:
    ipython.run_line_magic("matplotlib", "inline")
    # After the backend, which sets its own defaults.
    mpl.rcParams.update(STYLE)
    # Inline figures as palette PNGs: the committed notebooks stay a few times smaller.
    ipython.display_formatter.formatters["image/png"].for_type(Figure, figure_png)
    match_threads_to_cpu_quota()
    seed_everything(0)
    display(environment_report())
