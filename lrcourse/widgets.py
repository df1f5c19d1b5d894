"""Interactive panels: controls, a pure function of their values, and a plot of its result.

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
from dataclasses import dataclass, field
from typing import Any, Callable

import ipywidgets as widgets
import numpy as np
from IPython.display import Image
from matplotlib.figure import Figure

from .callbacks import Callback, FitState
from .data import TensorData
from .experiments import MODELS, OPTIMIZERS, Run, train_at_lr
from .plots import figure_png, plot_descent, plot_descent_loss, plot_loss, plot_metrics, plot_range_test
from .range_test import RangeTest, lr_range_test
from .device import seed_everything
from .surfaces import SURFACES, gradient_descent

FIGURE_DPI = 80


class RunControl:
    """What a long computation gets from its panel: progress, the Stop button, live plots."""

    def __init__(self, panel: Panel):
        self._panel = panel
        self._last_draw = 0.0

    @property
    def stop_requested(self) -> bool:
        return self._panel._stop_requested.is_set()

    def report(self, fraction: float, partial: Any = None) -> None:
        """Move the progress bar; draw ``partial`` (at most twice a second) for a live plot."""
        self._panel.progress.value = min(max(fraction, 0.0), 1.0)
        if partial is not None and time.monotonic() - self._last_draw > 0.5:
            self._last_draw = time.monotonic()
            self._panel._draw(partial)

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
    fills a fresh matplotlib ``Figure``.
    """

    def __init__(self, controls: dict[str, widgets.ValueWidget], compute: Callable[..., Any],
                 draw: Callable[[Any, Figure], None], *, live: bool = True,
                 actions: dict[str, Callable[..., Any]] | None = None, figsize=(9.0, 3.4)):
        self.controls, self.compute, self.draw, self.live, self.figsize = controls, compute, draw, live, figsize
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
        self.output.append_display_data(Image(figure_png(figure, dpi=FIGURE_DPI)))
        return figure


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

    def compute(lr, optimizer, batch_size, epochs, control):
        return train_at_lr(train, lr, val=val, optimizer=optimizer, epochs=epochs, batch_size=batch_size,
                           callbacks=[control.fit_callback()])

    return Panel(controls, compute=compute, draw=_draw_training, live=False)


def _draw_training(run, figure: Figure) -> None:
    loss_ax, accuracy_ax = figure.subplots(1, 2)
    plot_loss(run.history, ax=loss_ax, label=run.label)
    if run.history.epochs:
        plot_metrics(run.history, "accuracy", ax=accuracy_ax)
    stopped = f" ({run.history.stop_reason})" if run.history.stop_reason else ""
    figure.suptitle(f"{run.label}, batch {run.batch_size}: {run.history.steps} steps in "
                    f"{run.history.seconds:.1f} s{stopped}", fontsize=9)


@dataclass
class RangeTestComparison:
    """A range test and, once requested, one-epoch runs at its suggestion and at a default LR."""

    test: RangeTest
    runs: dict[str, Run] = field(default_factory=dict)


#: PyTorch's default LR for each optimizer: the "default LR" a range test is compared with.
DEFAULT_LRS = {"sgd": 1e-3, "momentum": 1e-3, "adam": 1e-3, "adamw": 1e-3}


def range_test_panel(train: TensorData, val: TensorData | None = None, model: str = "mlp",
                     optimizer: str = "momentum", batch_size: int = 64, num_iter: int = 100) -> Panel:
    """Run the LR range test with the chosen model, optimizer and ramp; then train one epoch
    at its suggestion and at the optimizer's default LR, and compare."""
    if model not in MODELS:
        raise ValueError(f"model must be one of {sorted(MODELS)}; got {model!r}")
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {sorted(OPTIMIZERS)}; got {optimizer!r}")
    controls = {
        "model": widgets.Dropdown(options=list(MODELS), value=model, description="model"),
        "optimizer": widgets.Dropdown(options=list(OPTIMIZERS), value=optimizer, description="optimizer"),
        "batch_size": widgets.Dropdown(options=[16, 32, 64, 128, 256, 512], value=batch_size, description="batch"),
        "start_lr": widgets.FloatLogSlider(value=1e-7, base=10, min=-9, max=-3, step=0.5, description="start lr",
                                           readout_format=".0e"),
        "end_lr": widgets.FloatLogSlider(value=10.0, base=10, min=-2, max=2, step=0.5, description="end lr",
                                         readout_format=".0e"),
        "num_iter": widgets.IntSlider(value=num_iter, min=10, max=500, step=10, description="steps"),
    }

    def run_test(model, optimizer, batch_size, start_lr, end_lr, num_iter, control):
        seed_everything(0)
        net = MODELS[model]().to(train.device)
        opt = OPTIMIZERS[optimizer](net.parameters(), lr=DEFAULT_LRS[optimizer])

        def on_step(partial: RangeTest) -> bool:
            control.report(partial.steps / num_iter, RangeTestComparison(partial))
            return control.stop_requested

        return RangeTestComparison(lr_range_test(net, train, opt, start_lr=start_lr, end_lr=end_lr,
                                                 num_iter=num_iter, batch_size=batch_size, progress=False,
                                                 on_step=on_step))

    def compare(previous, model, optimizer, batch_size, control, **_):
        lrs = {f"suggestion, lr={previous.test.suggestion:.2g}": previous.test.suggestion,
               f"default, lr={DEFAULT_LRS[optimizer]:g}": DEFAULT_LRS[optimizer]}
        runs = {label: train_at_lr(train, lr, val=val, optimizer=optimizer, model=MODELS[model], epochs=1,
                                   batch_size=batch_size, callbacks=[control.fit_callback()])
                for label, lr in lrs.items()}
        return RangeTestComparison(previous.test, runs)

    return Panel(controls, compute=run_test, draw=_draw_range_test, live=False,
                 actions={"Train 1 epoch at the suggestion": compare})


def _draw_range_test(result: RangeTestComparison, figure: Figure) -> None:
    test_ax, runs_ax = figure.subplots(1, 2)
    plot_range_test(result.test, ax=test_ax)
    test_ax.set_title(f"{result.test.steps} steps, {result.test.stop_reason}", fontsize=9)
    for label, run in result.runs.items():
        accuracy = f", val. accuracy {run.history.val_accuracy[-1]:.1%}" if run.history.val_accuracy else ""
        plot_loss(run.history, ax=runs_ax, label=label + accuracy)
    runs_ax.set_title("one epoch at each LR" if result.runs else "press 'Train 1 epoch at the suggestion'",
                      fontsize=9)
