"""The panel pattern: controls, a pure function of their values, and a plot of its result.

Every panel follows one pattern::

    controls (ipywidgets) -> compute(**values) -> result -> draw(result, figure) -> Output

``compute`` and the plot functions are ordinary library functions, so everything a panel
shows can also be computed and tested without it. A panel is itself a widget; tests set
``panel.controls[name].value``, call ``panel.run_button.click()`` and read
``panel.result`` and ``panel.figure`` without a browser.

A *live* panel recomputes whenever a control changes (for results that take milliseconds).
Otherwise the panel has Run and Stop buttons and a progress bar; the run happens in a
background thread so the kernel stays free to receive the Stop click, and the
computation reports through a :class:`RunControl`.
"""

from __future__ import annotations

import threading
import time
from typing import Any, Callable

import ipywidgets as widgets
from IPython.display import Image, Markdown
from matplotlib.figure import Figure

from ..callbacks import Callback, FitState
from ..plots import figure_png

FIGURE_DPI = 80


class RunControl:
    """What a long computation gets from its panel: progress, the Stop button, live plots."""

    def __init__(self, panel: Panel):
        self._panel = panel
        self._next_draw = 0.0

    @property
    def stop_requested(self) -> bool:
        return self._panel._stop_requested.is_set()

    def report(self, fraction: float, partial: Any = None) -> None:
        """Move the progress bar; draw ``partial`` for a live plot, at most twice a second and
        never more than a quarter of the time (a slow machine draws less often, not slower)."""
        self._panel.progress.value = min(max(fraction, 0.0), 1.0)
        if partial is not None and time.monotonic() >= self._next_draw:
            started = time.monotonic()
            self._panel._draw(partial)
            took = time.monotonic() - started
            self._next_draw = started + took + max(0.5, 3 * took)

    def fit_callback(self, every: int = 10) -> Callback:
        """A ``fit`` callback that reports progress and stops training on Stop."""
        return _FitControl(self, every)


class _FitControl(Callback):
    def __init__(self, control: RunControl, every: int):
        self.control, self.every = control, every

    def on_batch_end(self, state: FitState) -> None:
        if self.control.stop_requested:
            state.stop("stopped from the panel")
        if state.step % self.every == 0:
            self._report(state)

    def on_train_end(self, state: FitState) -> None:
        self._report(state)

    def _report(self, state: FitState) -> None:
        self.control.report((state.step + 1) / max(state.epochs * state.history.steps_per_epoch, 1))


class Panel(widgets.VBox):
    """Controls, a figure and, for long runs, Run / Stop buttons and a progress bar.

    A live panel calls ``compute(**values)``, with one keyword per control, whenever a
    control changes. Otherwise the Run button calls ``compute(**values, control=RunControl)``
    in a background thread; each entry of ``actions`` adds a button that calls
    ``action(previous_result, **values, control=...)`` the same way. ``draw(result, figure)``
    fills a fresh matplotlib ``Figure``; ``caption(result)``, if given, returns Markdown shown
    under it.
    """

    def __init__(self, controls: dict[str, widgets.ValueWidget], compute: Callable[..., Any],
                 draw: Callable[[Any, Figure], None], *, live: bool = True,
                 actions: dict[str, Callable[..., Any]] | None = None,
                 caption: Callable[[Any], str] | None = None, figsize=(9.0, 3.4)):
        self.controls, self.compute, self.draw, self.live, self.figsize = controls, compute, draw, live, figsize
        self.caption = caption
        self.result: Any = None
        self.figure: Figure | None = None
        self.error: str | None = None
        self.output = widgets.Output()
        self.run_button = widgets.Button(description="Run", button_style="primary", icon="play")
        self.stop_button = widgets.Button(description="Stop", icon="stop", disabled=True)
        self.action_buttons = {name: widgets.Button(description=name, disabled=True,
                                                    layout=widgets.Layout(width="auto"))
                               for name in actions or {}}
        self.progress = widgets.FloatProgress(min=0.0, max=1.0, layout=widgets.Layout(width="200px"))
        self._stop_requested = threading.Event()
        self._thread: threading.Thread | None = None
        rows = [widgets.HBox(list(controls.values()), layout=widgets.Layout(flex_flow="row wrap"))]
        if live:
            for control in controls.values():
                control.observe(lambda _: self.update(), names="value")
        else:
            self.run_button.on_click(lambda _: self.start())
            self.stop_button.on_click(lambda _: self._stop_requested.set())
            for name, action in (actions or {}).items():
                self.action_buttons[name].on_click(lambda _, action=action: self.start(action))
            rows.append(widgets.HBox([self.run_button, *self.action_buttons.values(), self.stop_button,
                                      self.progress]))
        super().__init__(rows + [self.output])
        if live:
            self.update()

    def values(self) -> dict[str, Any]:
        return {name: control.value for name, control in self.controls.items()}

    def update(self) -> None:
        """Compute and draw now, in this thread."""
        self._show(lambda: self.compute(**self.values()))

    def start(self, action: Callable[..., Any] | None = None) -> None:
        """Run ``compute`` (or ``action`` on the current result) in a background thread.
        A click while a run is going does nothing."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop_requested.clear()
        self.progress.value = 0.0
        self._set_running(True)
        control = RunControl(self)
        if action is None:
            work = lambda: self.compute(**self.values(), control=control)  # noqa: E731
        else:
            previous = self.result
            work = lambda: action(previous, **self.values(), control=control)  # noqa: E731
        self._thread = threading.Thread(target=self._run, args=(work,), daemon=True)
        self._thread.start()

    def wait(self, timeout: float | None = None) -> None:
        """Block until the current run finishes (for tests and scripts)."""
        if self._thread is not None:
            self._thread.join(timeout)

    def _set_running(self, running: bool) -> None:
        self.run_button.disabled, self.stop_button.disabled = running, not running
        for button in self.action_buttons.values():
            button.disabled = running or self.result is None

    def _run(self, work: Callable[[], Any]) -> None:
        try:
            self._show(work)
        finally:
            self._set_running(False)

    def _show(self, compute: Callable[[], Any]) -> None:
        # Errors go into the panel: raised in a widget callback they would be lost in the log.
        try:
            result = compute()
            figure = self._draw(result)
        except Exception as error:  # noqa: BLE001 - any failure is shown to the learner
            self.error = f"{type(error).__name__}: {error}"
            self.output.outputs = ()
            self.output.append_stderr(self.error + "\n")
            return
        self.result, self.figure, self.error = result, figure, None

    def _draw(self, result: Any) -> Figure:
        figure = Figure(figsize=self.figsize, layout="constrained")
        self.draw(result, figure)
        # Replacing the outputs trait works with or without a front end, from any thread.
        self.output.outputs = ()
        self.output.append_display_data(Image(figure_png(figure, dpi=FIGURE_DPI, tight=False)))
        if self.caption is not None:
            self.output.append_display_data(Markdown(self.caption(result)))
        return figure


