"""Panels for gradient descent on small surfaces, training runs and the LR range test."""

from __future__ import annotations

import ipywidgets as widgets
import numpy as np
from matplotlib.figure import Figure

from ..checks import check_number
from ..data import TensorData
from ..device import seeded
from ..experiments import MODELS, OPTIMIZERS, RangeTestComparison, compare_with_default, default_lr, train_at_lr
from ..plots import plot_descent, plot_descent_loss, plot_loss, plot_metrics, plot_range_test
from ..range_test import RangeTest, lr_range_test
from ..surfaces import SURFACES, gradient_descent
from .panel import Panel


def descent_panel(surface: str = "valley", lr: float = 0.05, start=(-2.0, 1.0), steps: int = 30,
                  momentum: float = 0.0) -> Panel:
    """Gradient descent on a small surface: pick the surface, LR, start point, steps and heavy-ball
    momentum (0: plain gradient descent)."""
    if surface not in SURFACES:
        raise ValueError(f"surface must be one of {sorted(SURFACES)}; got {surface!r}")
    momentum = check_number("momentum", momentum, 0, 0.99)
    start = np.atleast_1d(np.asarray(start, dtype=float))
    controls = {
        "surface": widgets.Dropdown(options=list(SURFACES), value=surface, description="surface"),
        "lr": widgets.FloatLogSlider(value=lr, base=10, min=-3, max=1, step=0.01, description="lr",
                                     readout_format=".3g"),
        "x0": widgets.FloatSlider(value=start[0], min=-2.0, max=2.0, step=0.05, description="start w[0]"),
        "y0": widgets.FloatSlider(value=start[1] if len(start) > 1 else 1.0, min=-1.4, max=1.4, step=0.05,
                                  description="start w[1]"),
        "steps": widgets.IntSlider(value=steps, min=1, max=200, description="steps"),
        "momentum": widgets.FloatSlider(value=momentum, min=0.0, max=0.99, step=0.01, description="momentum"),
    }
    return Panel(controls, compute=_descend, draw=_draw_descent)


def _descend(surface: str, lr: float, x0: float, y0: float, steps: int, momentum: float = 0.0):
    chosen = SURFACES[surface]()
    return gradient_descent(chosen, (x0, y0)[: chosen.dim], lr, steps, momentum=momentum)


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


def range_test_panel(train: TensorData, val: TensorData | None = None, model: str = "mlp",
                     optimizer: str = "momentum", batch_size: int = 64, num_iter: int = 100) -> Panel:
    """Run the LR range test with the chosen model, optimizer and ramp; then train one epoch
    at its suggestion and at the optimizer's default LR, and compare
    (:func:`lrcourse.experiments.compare_with_default`)."""
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
        net = seeded(MODELS[model], 0, train.device)
        opt = OPTIMIZERS[optimizer](net.parameters(), lr=default_lr(optimizer))

        def on_step(partial: RangeTest) -> bool:
            control.report(partial.steps / num_iter, RangeTestComparison(partial))
            return control.stop_requested

        return RangeTestComparison(lr_range_test(net, train, opt, start_lr=start_lr, end_lr=end_lr,
                                                 num_iter=num_iter, batch_size=batch_size, progress=False,
                                                 on_step=on_step))

    def compare(previous, model, optimizer, batch_size, control, **_):
        return compare_with_default(previous.test, train, val=val, optimizer=optimizer, model=MODELS[model],
                                    epochs=1, batch_size=batch_size, callbacks=[control.fit_callback()])

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
