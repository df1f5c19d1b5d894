"""Interactive panels, each a thin view over library functions (see :mod:`lrcourse.widgets.panel`)."""

from .home import home_panel, run_home_experiment
from .landscape import landscape_panel
from .panel import Panel, RunControl
from .schedules import schedule_panel
from .search import search_panel
from .snapshots import snapshot_panel
from .training import RangeTestComparison, descent_panel, range_test_panel, training_panel

__all__ = ["Panel", "RangeTestComparison", "RunControl", "descent_panel", "home_panel", "landscape_panel",
           "range_test_panel", "run_home_experiment", "schedule_panel", "search_panel", "snapshot_panel",
           "training_panel"]
