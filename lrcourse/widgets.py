"""Interactive panels: controls, a pure function of their values, and a plot of its result.

Every panel follows one pattern::

    controls (ipywidgets) -> compute(**values) -> result -> draw(result, figure) -> Output

``compute`` and the plot functions are ordinary library functions, so everything a panel
shows can also be computed and tested without it. A panel is itself a widget; tests set
``panel.controls[name].value``, call ``panel.run_button.click()`` and read
``panel.result`` and ``panel.figure`` without a browser.

A *live* panel recomputes whenever a control changes (for results that take milliseconds).
Otherwise the panel has Run and Stop buttons and a progress bar; the run happens in a
background thread so the kernel stays free to receive the Stop click.
"""

from __future__ import annotations

import threading
from typing import Any, Callable

import ipywidgets as widgets
import numpy as np
from IPython.display import Image
from matplotlib.figure import Figure

from .callbacks import Callback, FitState
from .data import TensorData
from .experiments import OPTIMIZERS, train_at_lr
from .plots import figure_png, plot_descent, plot_descent_loss, plot_loss, plot_metrics
from .surfaces import SURFACES, gradient_descent

FIGURE_DPI = 80


class StopButtonMonitor(Callback):
    """Moves the panel's progress bar during ``fit`` and stops training when asked."""

    def __init__(self, bar: widgets.FloatProgress, stop_requested: threading.Event, every: int = 10):
        self.bar, self.stop_requested, self.every = bar, stop_requested, every

    def on_batch_end(self, state: FitState) -> None:
        if self.stop_requested.is_set():
            state.stop("stopped from the panel")
        if state.step % self.every == 0:
            self._show(state)

    def on_train_end(self, state: FitState) -> None:
        self._show(state)

    def _show(self, state: FitState) -> None:
        self.bar.value = (state.step + 1) / max(state.epochs * state.history.steps_per_epoch, 1)


class Panel(widgets.VBox):
    """Controls, a figure and, for long runs, Run / Stop buttons and a progress bar.

    ``compute(**values)`` gets one keyword per control (plus ``callbacks=[monitor]`` for a
    non-live panel, to pass on to ``fit``) and returns the result; ``draw(result, figure)``
    fills a fresh matplotlib ``Figure``.
    """

    def __init__(self, controls: dict[str, widgets.ValueWidget], compute: Callable[..., Any],
                 draw: Callable[[Any, Figure], None], *, live: bool = True, figsize=(9.0, 3.4)):
        self.controls, self.compute, self.draw, self.live, self.figsize = controls, compute, draw, live, figsize
        self.result: Any = None
        self.figure: Figure | None = None
        self.error: str | None = None
        self.output = widgets.Output()
        self.run_button = widgets.Button(description="Run", button_style="primary", icon="play")
        self.stop_button = widgets.Button(description="Stop", icon="stop", disabled=True)
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
            rows.append(widgets.HBox([self.run_button, self.stop_button, self.progress]))
        super().__init__(rows + [self.output])
        if live:
            self.update()

    def values(self) -> dict[str, Any]:
        return {name: control.value for name, control in self.controls.items()}

    def update(self) -> None:
        """Compute and draw now, in this thread."""
        self._show(lambda: self.compute(**self.values()))

    def start(self) -> None:
        """Start a run in a background thread (the Run button); a second click while it runs does nothing."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop_requested.clear()
        self.progress.value = 0.0
        self.run_button.disabled, self.stop_button.disabled = True, False
        monitor = StopButtonMonitor(self.progress, self._stop_requested)
        self._thread = threading.Thread(target=self._run, args=(monitor,), daemon=True)
        self._thread.start()

    def wait(self, timeout: float | None = None) -> None:
        """Block until the current run finishes (for tests and scripts)."""
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self, monitor: StopButtonMonitor) -> None:
        try:
            self._show(lambda: self.compute(**self.values(), callbacks=[monitor]))
        finally:
            self.run_button.disabled, self.stop_button.disabled = False, True

    def _show(self, compute: Callable[[], Any]) -> None:
        # Errors go into the panel: raised in a widget callback they would be lost in the log.
        try:
            result = compute()
            figure = Figure(figsize=self.figsize, layout="constrained")
            self.draw(result, figure)
        except Exception as error:  # noqa: BLE001 - any failure is shown to the learner
            self.error = f"{type(error).__name__}: {error}"
            self.output.outputs = ()
            self.output.append_stderr(self.error + "\n")
            return
        self.result, self.figure, self.error = result, figure, None
        # Replacing the outputs trait works with or without a front end, from any thread.
        self.output.outputs = ()
        self.output.append_display_data(Image(figure_png(figure, dpi=FIGURE_DPI)))


def descent_panel(surface: str = "valley", lr: float = 0.05, start=(-2.0, 1.0), steps: int = 30) -> Panel:
    """Gradient descent on a small surface: pick the surface, LR, start point and steps."""
    if surface not in SURFACES:
        raise ValueError(f"surface must be one of {sorted(SURFACES)}; got {surface!r}")
    start = np.atleast_1d(np.asarray(start, dtype=float))
    controls = {
        "surface": widgets.Dropdown(options=list(SURFACES), value=surface, description="surface"),
        "lr": widgets.FloatLogSlider(value=lr, base=10, min=-3, max=1, step=0.01, description="lr",
                                     readout_format=".3g"),
        "x0": widgets.FloatSlider(value=start[0], min=-2.0, max=2.0, step=0.05, description="start w[0]"),
        "y0": widgets.FloatSlider(value=start[1] if len(start) > 1 else 1.0, min=-1.4, max=1.4, step=0.05,
                                  description="start w[1]"),
        "steps": widgets.IntSlider(value=steps, min=1, max=200, description="steps"),
    }
    return Panel(controls, compute=_descend, draw=_draw_descent)


def _descend(surface: str, lr: float, x0: float, y0: float, steps: int):
    chosen = SURFACES[surface]()
    return gradient_descent(chosen, (x0, y0)[: chosen.dim], lr, steps)


def _draw_descent(descent, figure: Figure) -> None:
    path_ax, loss_ax = figure.subplots(1, 2)
    plot_descent(descent, ax=path_ax)
    plot_descent_loss(descent, ax=loss_ax)


def training_panel(train: TensorData, val: TensorData | None = None, lr: float = 0.1,
                   optimizer: str = "sgd", epochs: int = 2, batch_size: int = 64) -> Panel:
    """Train the MLP on ``train`` at the chosen LR, optimizer, batch size and epochs."""
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {sorted(OPTIMIZERS)}; got {optimizer!r}")
    controls = {
        "lr": widgets.FloatLogSlider(value=lr, base=10, min=-5, max=1, step=0.1, description="lr",
                                     readout_format=".0e"),
        "optimizer": widgets.Dropdown(options=list(OPTIMIZERS), value=optimizer, description="optimizer"),
        "batch_size": widgets.Dropdown(options=[16, 32, 64, 128, 256], value=batch_size, description="batch"),
        "epochs": widgets.IntSlider(value=epochs, min=1, max=10, description="epochs"),
    }

    def compute(lr, optimizer, batch_size, epochs, callbacks):
        return train_at_lr(train, lr, val=val, optimizer=optimizer, epochs=epochs, batch_size=batch_size,
                           callbacks=callbacks)

    return Panel(controls, compute=compute, draw=_draw_training, live=False)


def _draw_training(run, figure: Figure) -> None:
    loss_ax, accuracy_ax = figure.subplots(1, 2)
    plot_loss(run.history, ax=loss_ax, label=run.label)
    if run.history.epochs:
        plot_metrics(run.history, "accuracy", ax=accuracy_ax)
    stopped = f" ({run.history.stop_reason})" if run.history.stop_reason else ""
    figure.suptitle(f"{run.label}, batch {run.batch_size}: {run.history.steps} steps in "
                    f"{run.history.seconds:.1f} s{stopped}", fontsize=9)
