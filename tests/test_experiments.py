import pytest
import torch

import lrcourse

import lrcourse.schedules as S
from lrcourse.experiments import good_lr_band, gradient_noise, train_at_lr, train_with_schedule
from lrcourse.plots import plot_descent, plot_descent_loss, plot_parameter_histograms
from lrcourse.surfaces import gradient_descent, quadratic, valley


def test_runs_at_different_lrs_start_from_the_same_weights(fmnist):
    runs = [train_at_lr(fmnist.train[:640], lr, epochs=1, batch_size=64, optimizer="adam") for lr in (1e-3, 1e-5)]
    assert runs[0].history.loss[0] == runs[1].history.loss[0]  # same init, same first batch
    assert runs[0].history.loss[-1] < runs[1].history.loss[-1]
    assert runs[0].label == "adam lr=0.001" and runs[0].history.steps == 10


@pytest.mark.parametrize("kwargs, match", [
    (dict(lr=0.1, optimizer="lbfgs"), "optimizer must be one of"),
    (dict(lr=0.0), "lr must be a finite number > 0"),
    (dict(lr=True), "lr must be a number > 0; got bool True"),
])
def test_bad_arguments(fmnist, kwargs, match):
    with pytest.raises(ValueError, match=match):
        train_at_lr(fmnist.train[:64], **kwargs)


def test_descent_plots_return_their_axes():
    for surface, start in ((quadratic(), 1.5), (valley(), (-2.0, 1.0))):
        descent = gradient_descent(surface, start, 0.05, 10)
        ax = plot_descent(descent)
        assert ax.get_title().startswith(surface.name) and ax.lines
        assert plot_descent_loss(descent).get_yscale() == "log"


def test_parameter_histograms_one_panel_per_tensor():
    models = {"a": torch.nn.Linear(3, 2), "b": torch.nn.Linear(3, 2)}
    axes = plot_parameter_histograms(models)
    assert [ax.get_title() for ax in axes] == ["weight", "bias"] and len(axes[0].patches) == 2


def test_train_with_schedule_follows_lr_and_momentum(fmnist):
    cycle = S.one_cycle(max_lr=0.1, total_steps=20)
    seen = []

    class Record(lrcourse.Callback):
        def on_batch_end(self, state):
            group = state.optimizer.param_groups[0]
            seen.append((group["lr"], group["momentum"]))

    run = train_with_schedule(fmnist.train[:640], cycle, epochs=2, batch_size=64, cycle_momentum=True,
                              callbacks=[Record()])
    assert run.history.lr == pytest.approx(S.sample(cycle, 20).tolist(), rel=1e-12)
    # Callbacks see the settings for the next step: LR and momentum both moved on after each step.
    assert [m for _, m in seen][:-1] == pytest.approx([cycle.momentum(t) for t in range(1, 20)], rel=1e-12)
    assert run.schedule is cycle and "OneCycle" in run.label


def test_train_with_schedule_rejects_momentum_without_a_momentum_schedule(fmnist):
    with pytest.raises(ValueError, match="cycle_momentum=True needs"):
        train_with_schedule(fmnist.train[:64], S.constant(base_lr=0.1), cycle_momentum=True)


def test_good_lr_band():
    band = good_lr_band([1e-3, 1e-2, 1e-1, 1.0], [0.70, 0.845, 0.85, 0.10], tolerance=0.01)
    assert (band.best, band.low, band.high) == (0.1, 0.01, 0.1)
    assert band.center == pytest.approx(10 ** -1.5) and band.decades == pytest.approx(1.0)
    with pytest.raises(ValueError, match="same length"):
        good_lr_band([0.1], [0.5, 0.6])
    with pytest.raises(ValueError, match="tolerance must be >= 0"):
        good_lr_band([0.1], [0.5], tolerance=-1)


def test_gradient_noise_falls_as_one_over_batch_size(fmnist):
    lrcourse.seed_everything(0)
    model = lrcourse.MLP(hidden=32)
    data = fmnist.val[:2000]
    small, large = (gradient_noise(model, data, size, batches=60) for size in (16, 256))
    expected = (256 / 16) * (2000 - 16) / (2000 - 256)  # sigma^2 / B, times the finite-population factor
    assert 0.7 * expected < small / large < 1.3 * expected
    assert all(p.grad is None for p in model.parameters())
    with pytest.raises(ValueError, match="batch_size must be an int in \\[1, "):
        gradient_noise(model, data, 0)


def test_gradient_noise_leaves_batchnorm_buffers_alone(fmnist):
    model = lrcourse.SmallCNN()
    before = {name: b.clone() for name, b in model.named_buffers()}
    gradient_noise(model, fmnist.val[:200], 50, batches=2)
    assert all(torch.equal(b, before[name]) for name, b in model.named_buffers())


def test_a_constant_lr_run_takes_a_plateau_callback(fmnist):
    from lrcourse import ReduceLROnPlateau
    from lrcourse.experiments import train_at_lr

    plateau = ReduceLROnPlateau(monitor="train_loss", patience=0, threshold=10.0)  # nothing counts as better
    run = train_at_lr(fmnist.train[:320], 0.1, epochs=3, batch_size=160, callbacks=[plateau])
    assert run.history.lr == pytest.approx([0.1, 0.1, 0.01, 0.01, 0.001, 0.001])
    assert run.schedule is None and run.label == "sgd lr=0.1"
