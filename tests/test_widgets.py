"""Panels driven as a learner would, without a browser: set controls, click buttons."""

import ipywidgets as widgets
import pytest

from lrcourse.surfaces import Descent
from lrcourse.surfaces import curvatures
from lrcourse.widgets import Panel, descent_panel, snapshot_panel, training_panel


def shown_png(panel):
    (output,) = panel.output.outputs
    return output["data"]["image/png"]


def test_descent_panel_draws_at_once_and_follows_the_controls():
    panel = descent_panel(surface="valley", lr=0.05)
    assert isinstance(panel.result, Descent) and not panel.result.diverged
    assert shown_png(panel)
    panel.controls["lr"].value = 0.2
    assert panel.result.lr == pytest.approx(0.2, rel=1e-3) and panel.result.diverged
    panel.controls["surface"].value = "quadratic"
    assert panel.result.surface.dim == 1 and len(panel.figure.axes) == 2


def test_sliders_clamp_out_of_range_values():
    panel = descent_panel()
    panel.controls["lr"].value = 1e6
    panel.controls["steps"].value = -5
    assert panel.result.lr == pytest.approx(10.0) and len(panel.result.loss) >= 2


def test_descent_panel_momentum_moves_the_stability_limit():
    # The quadratic's curvature c: plain GD diverges above 2/c, heavy ball with beta below 2(1+beta)/c.
    panel = descent_panel(surface="quadratic", start=(1.0,), steps=200)
    c = float(max(curvatures(panel.result.surface, (0.0,))))
    panel.controls["lr"].value = 1.5 * 2 / c
    assert panel.result.momentum == 0.0 and panel.result.diverged
    panel.controls["momentum"].value = 0.9
    assert panel.result.momentum == pytest.approx(0.9) and not panel.result.diverged
    panel.controls["lr"].value = 1.05 * 2 * 1.9 / c
    assert panel.result.diverged


@pytest.mark.parametrize("momentum, error", [(-0.1, ValueError), (1.0, ValueError), ("0.9", TypeError)])
def test_descent_panel_rejects_bad_momentum(momentum, error):
    with pytest.raises(error, match="momentum must be"):
        descent_panel(momentum=momentum)


def test_descent_panel_rejects_unknown_surface():
    with pytest.raises(ValueError, match="surface must be one of"):
        descent_panel(surface="bowl")


def test_training_panel_runs_in_background_and_reports(fmnist):
    panel = training_panel(fmnist.train[:2000], fmnist.val[:500], epochs=1, batch_size=64)
    assert panel.result is None and not panel.output.outputs  # nothing runs until Run is pressed
    panel.run_button.click()
    panel.wait(60)
    history = panel.result.history
    assert history.steps == 32 and len(history.val_accuracy) == 1
    assert panel.progress.value == pytest.approx(1.0) and not panel.run_button.disabled
    assert shown_png(panel)


def test_stop_button_ends_the_run_and_keeps_what_was_recorded(fmnist):
    panel = training_panel(fmnist.train[:20_000], epochs=10, batch_size=16)
    panel.run_button.click()
    panel.stop_button.click()
    panel.wait(60)
    history = panel.result.history
    assert history.stop_reason == "stopped from the panel"
    assert 1 <= history.steps < 100 and len(history.loss) == history.steps
    assert panel.stop_button.disabled and not panel.run_button.disabled


def test_errors_are_shown_in_the_panel_not_raised():
    def compute(x):
        raise RuntimeError(f"bad value {x}")

    panel = Panel({"x": widgets.IntSlider(value=3)}, compute=compute, draw=lambda result, figure: None)
    assert panel.error == "RuntimeError: bad value 3"
    assert "bad value 3" in panel.output.outputs[0]["text"]


def test_range_test_panel_runs_then_compares(fmnist):
    from lrcourse.widgets import range_test_panel

    panel = range_test_panel(fmnist.train[:3000], fmnist.val[:500], num_iter=30)
    (compare,) = panel.action_buttons.values()
    assert compare.disabled  # nothing to compare before a test has run
    panel.run_button.click()
    panel.wait(60)
    assert panel.error is None and panel.result.test.steps >= 2 and not panel.result.runs
    assert not compare.disabled
    compare.click()
    panel.wait(120)
    runs = panel.result.runs
    assert len(runs) == 2 and all(run.history.epochs == 1 for run in runs.values())
    assert runs[next(iter(runs))].lr == panel.result.test.suggestion
    assert shown_png(panel)


def test_range_test_panel_stop(fmnist):
    from lrcourse.widgets import range_test_panel

    panel = range_test_panel(fmnist.train[:3000], num_iter=500)
    panel.controls["end_lr"].value = 0.01  # no early divergence
    panel.run_button.click()
    panel.stop_button.click()
    panel.wait(60)
    assert panel.result.test.stop_reason == "stopped" and panel.result.test.steps < 500


def test_snapshot_panel_follows_the_sliders():
    panel = snapshot_panel(T_0=2, T_mult=1, M=4)
    assert panel.result.epochs == 8 and len(panel.result.snapshot_steps) == 4
    panel.controls["T_mult"].value = 2
    assert panel.result.epochs == 2 + 4 + 8 + 16
    captions = [o["data"].get("text/markdown", "") for o in panel.output.outputs if "data" in o]
    assert any("4 snapshots in 30 epochs, taken at the end of epochs 2, 6, 14, 30" in text for text in captions)
    markers = [line for line in panel.figure.axes[0].lines if line.get_marker() == "o"]
    assert len(markers[0].get_xdata()) == 4
    with pytest.raises(ValueError, match="M must be an int >= 1"):
        snapshot_panel(M=0)


def dropdowns(panel):
    return {name: list(control.options) for name, control in panel.controls.items()
            if isinstance(control, widgets.Dropdown)}


def test_every_option_of_the_range_test_panel_runs(fmnist):
    from lrcourse.widgets import range_test_panel

    panel = range_test_panel(fmnist.train[:1000], fmnist.val[:200], num_iter=10)
    options = dropdowns(panel)
    assert set(options) == {"model", "optimizer", "batch_size"}
    for name, values in options.items():
        for value in values:
            panel.controls[name].value = value
            panel.run_button.click()
            panel.wait(120)
            assert panel.error is None, (name, value, panel.error)
            panel.controls[name].value = values[0]
    panel.controls["optimizer"].value = "adagrad"
    panel.run_button.click()
    panel.wait(60)
    next(iter(panel.action_buttons.values())).click()
    panel.wait(120)
    assert panel.error is None and any("default, lr=0.01" in label for label in panel.result.runs)


def test_every_option_of_the_training_panel_runs(fmnist):
    panel = training_panel(fmnist.train[:256], fmnist.val[:100], epochs=1)
    for name, values in dropdowns(panel).items():
        for value in values:
            panel.controls[name].value = value
            panel.run_button.click()
            panel.wait(120)
            assert panel.error is None, (name, value, panel.error)


def test_every_option_of_the_descent_panel_draws():
    panel = descent_panel()
    for surface in panel.controls["surface"].options:
        panel.controls["surface"].value = surface
        assert panel.error is None and panel.result.surface.name


def test_two_panels_running_at_once_get_the_results_each_gets_alone(fmnist):
    from lrcourse.widgets import range_test_panel

    def make(batch):
        panel = range_test_panel(fmnist.train[:2000], num_iter=40)
        panel.controls["batch_size"].value = batch
        return panel

    alone = []
    for batch in (32, 128):
        panel = make(batch)
        panel.run_button.click()
        panel.wait(60)
        alone.append(panel.result.test.losses)
    panels = [make(batch) for batch in (32, 128)]
    for panel in panels:
        panel.run_button.click()
    for panel in panels:
        panel.wait(60)
    assert [panel.result.test.losses for panel in panels] == alone
