"""The landscape run behind the panel, its plot, and the panel driven without a browser."""

from functools import partial

import numpy as np
import pytest

import lrcourse
from lrcourse.experiments import train_at_lr
from lrcourse.landscape.path import descend
from lrcourse.plots import plot_landscape
from lrcourse.widgets import landscape_panel

SMALL = partial(lrcourse.MLP, hidden=16)


def test_descend_records_the_path_in_its_own_plane(fmnist):
    train = fmnist.train[:200]
    result = descend(train, 0.2, steps=30, model=SMALL, every=5, grid=5)
    plain = train_at_lr(train, 0.2, optimizer="sgd", epochs=30, batch_size=200, model=SMALL)
    assert result.run.history.loss == pytest.approx(plain.history.loss, rel=1e-6)  # measuring changes nothing
    assert result.monitor.steps == [0, 5, 10, 15, 20, 25, 30]
    np.testing.assert_allclose(result.coordinates[-1], 0.0, atol=1e-5)  # the plane is centred on the end
    assert result.plane.loss.shape == (5, 5) and 0 < result.explained.sum() <= 1 + 1e-9
    assert result.plane.xs[0] < result.coordinates[:, 0].min() and result.plane.xs[-1] > result.coordinates[:, 0].max()
    assert result.edge == pytest.approx(10.0)
    axes = plot_landscape(result)
    assert len(axes) == 3 and axes[2].get_lines()[-1].get_ydata()[0] == pytest.approx(10.0)


@pytest.mark.parametrize("kwargs, match", [
    (dict(lr=0.0), "lr must be"), (dict(steps=2), "steps must be"), (dict(grid=1), "grid must be"),
    (dict(margin=-1.0), "margin must be"),
])
def test_descend_bad_arguments(fmnist, kwargs, match):
    arguments = dict(train=fmnist.train[:20], lr=0.1, steps=10, model=SMALL)
    arguments.update(kwargs)
    with pytest.raises(ValueError, match=match):
        descend(**arguments)


def test_landscape_panel_runs_and_shows_the_three_views(fmnist):
    panel = landscape_panel(fmnist.train[:200], lr=0.3, steps=50, model=SMALL)
    assert panel.result is None
    panel.run_button.click()
    panel.wait(120)
    assert panel.error is None, panel.error
    assert panel.result.run.history.steps == 50 and len(panel.result.monitor.values) == 6
    image, caption = panel.output.outputs
    assert image["data"]["image/png"] and "2 / lr = 6.7" in caption["data"]["text/markdown"]
    with pytest.raises(ValueError, match="train must be a lrcourse.TensorData"):
        landscape_panel([1, 2, 3])
