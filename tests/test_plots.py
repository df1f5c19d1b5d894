import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import lrcourse.schedules as S  # noqa: E402
from lrcourse import EarlyStopping, History, ReduceLROnPlateau  # noqa: E402
from lrcourse.plots import plot_budgets, plot_loss, plot_metrics, plot_schedule, plot_seeds, plot_timeline, show_images  # noqa: E402


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
    plateau, stopping = ReduceLROnPlateau(), EarlyStopping()
    plateau.reductions = [(2, 0.1, 0.01)]
    stopping.best_epoch, stopping.stopped_epoch = 2, 3
    ax = plot_timeline(history, [plateau, stopping])
    labels = [text.get_text() for text in ax.get_legend().get_texts()]
    assert labels == ["val loss", "LR reduced", "best", "stopped at 3"]
    lr_axis = [other for other in ax.figure.axes if other is not ax][0]
    assert list(lr_axis.lines[0].get_ydata()) == [0.1, 0.1, 0.01]
    # A history cut short by replay_early_stopping: the plateau callback's later reductions are not drawn.
    plateau.reductions = [(2, 0.1, 0.01), (5, 0.01, 0.001)]
    ax = plot_timeline(history, [plateau, stopping])
    assert [line.get_xdata()[0] for line in ax.lines if line.get_linestyle() == ":"] == [2.5]
    with pytest.raises(ValueError, match="no val_loss"):
        plot_timeline(History(steps_per_epoch=1))


def test_plot_schedule_draws_lr_and_momentum_where_there_is_one():
    _, ax = plt.subplots()
    schedule = S.one_cycle(max_lr=0.1, total_steps=100)
    assert plot_schedule(schedule, 100, ax=ax, label="1-cycle") is ax
    np.testing.assert_array_equal(ax.lines[0].get_ydata(), S.sample(schedule, 100))
    assert ax.lines[0].get_label() == "1-cycle"
    assert len(ax.figure.axes) == 2  # the momentum's twin axis
    momentum_ax = next(other for other in ax.figure.axes if other is not ax)
    np.testing.assert_array_equal(momentum_ax.lines[0].get_ydata(), S.sample(schedule.momentum, 100))
    lone = plot_schedule(S.cosine(base_lr=0.1, total_steps=100), 100)
    assert len(lone.figure.axes) == 1 and lone.get_ylabel() == "learning rate"
    assert lone.lines[0].get_label() == "Cosine"
    plt.close("all")


def test_plot_seeds_draws_the_mean_and_a_band_from_the_lowest_to_the_highest_seed():
    runs = [History(val_accuracy=[0.5, 0.7]), History(val_accuracy=[0.7, 0.8]), History(val_accuracy=[0.6, 0.9])]
    _, ax = plt.subplots()
    assert plot_seeds(runs, ax=ax, label="cosine") is ax
    np.testing.assert_allclose(ax.lines[0].get_ydata(), [0.6, 0.8])
    assert ax.lines[0].get_label() == "cosine (3 seeds)"
    band = ax.collections[0].get_paths()[0].vertices
    for epoch, (low, high) in ((1, (0.5, 0.7)), (2, (0.7, 0.9))):
        np.testing.assert_allclose(sorted({round(y, 6) for x, y in band if x == epoch}), [low, high])
    plt.close("all")


@pytest.mark.parametrize("histories, metric, words", [
    ([], "val_accuracy", "non-empty list of History"),
    ([[0.5]], "val_accuracy", "non-empty list of History"),
    ([History(val_accuracy=[0.5]), History(val_accuracy=[0.5, 0.6])], "val_accuracy", "same, non-zero number"),
    ([History()], "val_accuracy", "same, non-zero number"),
    ([History(val_accuracy=[0.5])], "accuracy", "metric must be one of"),
])
def test_plot_seeds_refuses_bad_input(histories, metric, words):
    with pytest.raises(ValueError, match=words):
        plot_seeds(histories, metric)


def test_plot_budgets_draws_the_mean_per_budget_a_seed_band_and_the_target():
    _, ax = plt.subplots()
    runs = {4: [0.84, 0.86, 0.85], 2: [0.80, 0.82, 0.81]}        # budgets out of order: drawn sorted
    assert plot_budgets(runs, ax=ax, label="step", target=0.83) is ax
    curve, target = ax.lines
    np.testing.assert_allclose(curve.get_xdata(), [2, 4])
    np.testing.assert_allclose(curve.get_ydata(), [0.81, 0.85])
    assert curve.get_label() == "step (3 seeds)"
    np.testing.assert_allclose(target.get_ydata(), [0.83, 0.83])
    band = ax.collections[0].get_paths()[0].vertices
    for budget, (low, high) in ((2, (0.80, 0.82)), (4, (0.84, 0.86))):
        np.testing.assert_allclose(sorted({round(y, 6) for x, y in band if x == budget}), [low, high])
    assert len(plot_budgets({1: (score for score in [0.5, 0.7])}).lines) == 1   # a generator of scores; no target
    plt.close("all")


@pytest.mark.parametrize("budgets, kwargs, error, words", [
    ({}, {}, TypeError, "non-empty dict"),
    ([0.8, 0.9], {}, TypeError, "non-empty dict"),
    ({0: [0.8]}, {}, ValueError, "budget \\(key\\) of budgets"),
    ({"2": [0.8]}, {}, TypeError, "budget \\(key\\) of budgets"),
    ({2: []}, {}, ValueError, "at least one score"),
    ({2: 0.8}, {}, TypeError, "sequence of scores"),
    ({2: [0.8, float("nan")]}, {}, ValueError, "a score in budgets"),
    ({2: [0.8]}, {"target": "high"}, TypeError, "target"),
])
def test_plot_budgets_refuses_bad_input(budgets, kwargs, error, words):
    with pytest.raises(error, match=words):
        plot_budgets(budgets, **kwargs)
    assert not plt.get_fignums()        # refused before any figure was made


def test_plot_range_test_draws_the_accuracy_on_a_second_axis_when_there_is_one():
    from lrcourse.plots import plot_range_test
    from lrcourse.range_test import RangeTest
    lrs = np.geomspace(1e-5, 1, 30).tolist()
    losses = np.linspace(2.3, 0.5, 30).tolist()
    accuracies = np.linspace(0.1, 0.8, 30).tolist()
    test = RangeTest(start_lr=1e-5, end_lr=1.0, num_iter=30, mode="exp", lrs=lrs, losses=losses, smoothed=losses,
                     accuracies=accuracies)
    fig, ax = plt.subplots()
    assert plot_range_test(test, ax=ax) is ax
    assert len(fig.axes) == 2 and fig.axes[1].get_ylim() == (0, 1)
    assert "batch accuracy (right axis)" in [t.get_text() for t in ax.get_legend().get_texts()]
    plt.close(fig)
    fig, ax = plt.subplots()
    plot_range_test(test, ax=ax, accuracy=False)
    without = RangeTest(start_lr=1e-5, end_lr=1.0, num_iter=30, mode="exp", lrs=lrs, losses=losses, smoothed=losses)
    plot_range_test(without, ax=ax)
    assert len(fig.axes) == 1
    with pytest.raises(TypeError, match="accuracy"):
        plot_range_test(test, accuracy="yes")
    plt.close("all")
