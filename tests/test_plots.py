import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from lrcourse.plots import plot_loss, plot_metrics, plot_timeline, show_images  # noqa: E402
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


def test_plot_timeline_marks_reductions_best_and_stop():
    history = History(steps_per_epoch=2, lr=[0.1, 0.1, 0.1, 0.1, 0.01, 0.01], loss=[1.0] * 6,
                      train_loss=[1.0] * 3, train_accuracy=[0.5] * 3, val_loss=[0.9, 0.8, 0.85],
                      val_accuracy=[0.5] * 3)
    ax = plot_timeline(history, reductions=[(2, 0.1, 0.01)], stopped_epoch=3, best_epoch=2)
    labels = [text.get_text() for text in ax.get_legend().get_texts()]
    assert labels == ["val loss", "LR reduced", "best", "stopped at 3"]
    lr_axis = [other for other in ax.figure.axes if other is not ax][0]
    assert list(lr_axis.lines[0].get_ydata()) == [0.1, 0.1, 0.01]
    with pytest.raises(ValueError, match="no val_loss"):
        plot_timeline(History(steps_per_epoch=1))
