import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from lrcourse.plots import plot_loss, plot_metrics, show_images  # noqa: E402
from lrcourse.train import History  # noqa: E402


@pytest.fixture
def history():
    return History(steps_per_epoch=3, lr=[0.1] * 6, loss=[2.3, 2.0, 1.5, 1.2, 1.0, 0.9],
                   train_loss=[1.9, 1.0], train_accuracy=[0.5, 0.7], val_loss=[1.5, 1.1], val_accuracy=[0.6, 0.65])


def test_plot_loss_draws_raw_and_smoothed_losses_on_the_given_axes(history):
    _, ax = plt.subplots()
    assert plot_loss(history, ax=ax) is ax
    raw, smoothed = ax.lines[:2]
    assert list(raw.get_ydata()) == history.loss
    assert smoothed.get_ydata()[0] == pytest.approx(2.3)  # bias correction: no pull towards 0
    with pytest.raises(ValueError, match="smooth"):
        plot_loss(history, smooth=1.0)
    plt.close("all")


def test_plot_metrics_shows_train_and_validation(history):
    ax = plot_metrics(history, "accuracy")
    assert [list(line.get_ydata()) for line in ax.lines] == [[0.5, 0.7], [0.6, 0.65]]
    with pytest.raises(ValueError, match="metric"):
        plot_metrics(history, "f1")
    plt.close("all")


def test_show_images_titles_each_image_with_its_class(fmnist):
    axes = show_images(fmnist.test, fmnist.classes, n=10, ncols=5)
    assert len(axes) == 10
    assert [ax.get_title() for ax in axes] == [fmnist.classes[int(y)] for y in fmnist.test.y[:10]]
    with pytest.raises(ValueError, match="n must"):
        show_images(fmnist.test, fmnist.classes, n=0)
    plt.close("all")
