"""Smith's original range test: a linear ramp over epochs, read off the validation accuracy."""

import copy

import numpy as np
import pytest
import torch

import lrcourse
from lrcourse.accuracy_range_test import AccuracyRangeTest, accuracy_range_test
from lrcourse.device import seeded


def setup():
    model = seeded(lrcourse.MLP, 0)
    return model, torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)


def snapshot(model, optimizer):
    return copy.deepcopy(model.state_dict()), copy.deepcopy(optimizer.state_dict()), torch.get_rng_state()


def test_the_lr_rises_linearly_and_the_model_is_left_untouched(fmnist):
    model, opt = setup()
    lrcourse.fit(model, fmnist.train[:256], opt, epochs=1, batch_size=64, progress=False)  # momentum buffers
    before = snapshot(model, opt)
    train, val = fmnist.train[:640], fmnist.val[:200]  # 10 steps per epoch
    result = accuracy_range_test(model, train, opt, val, start_lr=1e-3, end_lr=0.1, epochs=2, batch_size=64,
                                 evaluations=4)
    # before the first step, then after steps 5, 10, 15, 20 of 20
    assert result.steps == [0, 5, 10, 15, 20]
    ramp = np.linspace(1e-3, 0.1, 20)  # lr_t = start + (end - start) t / (T - 1)
    np.testing.assert_allclose(result.lrs, [1e-3, ramp[4], ramp[9], ramp[14], ramp[19]], rtol=1e-12)
    assert result.examples == 2 * 640 and result.evaluated == 5 * 200 and result.stop_reason == "completed"
    assert all(0 <= a <= 1 for a in result.accuracies) and len(result.val_losses) == 5
    after = snapshot(model, opt)
    for key, tensor in before[0].items():
        assert torch.equal(tensor, after[0][key]), key
    assert before[1]["param_groups"] == after[1]["param_groups"]
    for index, state in before[1]["state"].items():
        assert torch.equal(state["momentum_buffer"], after[1]["state"][index]["momentum_buffer"])
    assert torch.equal(before[2], after[2])


def test_the_first_evaluation_is_the_untrained_model_and_accuracy_rises(fmnist):
    model, opt = setup()
    val = fmnist.val[:500]
    result = accuracy_range_test(model, fmnist.train[:3000], opt, val, start_lr=1e-3, end_lr=0.05, epochs=1,
                                 evaluations=5)
    assert result.accuracies[0] == pytest.approx(lrcourse.evaluate(model, val)["accuracy"])
    assert result.accuracies[-1] > result.accuracies[0] + 0.3


def test_bounds_read_the_accuracy_curve_as_smith_does():
    lrs = list(np.linspace(0.01, 1.0, 11))
    accuracies = [0.1, 0.15, 0.5, 0.7, 0.78, 0.8, 0.82, 0.81, 0.6, 0.3, 0.1]
    result = AccuracyRangeTest(start_lr=0.01, end_lr=1.0, epochs=1, lrs=lrs, accuracies=accuracies)
    base, top = result.bounds
    # 10% of the rise (0.1 -> 0.82) is passed at 0.15 < 0.172 < 0.5; 90% (0.748) at 0.78
    assert base == lrs[2] and top == lrs[4] and result.peak == lrs[6]


def test_divergence_ends_the_test(fmnist):
    model, opt = setup()
    calls = []

    def loss_turning_nan(out, y):
        calls.append(out.requires_grad)  # a training step, not an evaluation
        loss = torch.nn.functional.cross_entropy(out, y)
        return loss * float("nan") if sum(calls) == 7 else loss  # the 7th training step's loss

    result = accuracy_range_test(model, fmnist.train[:1280], opt, fmnist.val[:200], start_lr=1e-3, end_lr=0.1,
                                 epochs=1, evaluations=20, loss_fn=loss_turning_nan)
    assert result.stop_reason == "diverged" and result.steps == [0, 1, 2, 3, 4, 5, 6] and result.examples == 6 * 64


@pytest.mark.parametrize("kwargs, match", [
    (dict(start_lr=0.0), "start_lr must be"), (dict(end_lr=1e-4), "end_lr must be"),
    (dict(start_lr="a"), "start_lr must be"), (dict(epochs=0), "epochs must be"),
    (dict(evaluations=0), "evaluations must be"), (dict(evaluations=100), "evaluations must be"),
    (dict(batch_size=0), "batch_size must be"), (dict(seed=-1), "seed must be"),
    (dict(val="data"), "val must be a lrcourse.data.TensorData"),
])
def test_bad_arguments_raise_before_anything_runs(fmnist, kwargs, match):
    model, opt = setup()
    args = dict(start_lr=1e-3, end_lr=0.1, epochs=1, evaluations=5, val=fmnist.val[:100])
    args.update(kwargs)
    val = args.pop("val")
    before = snapshot(model, opt)
    with pytest.raises(ValueError, match=match):
        accuracy_range_test(model, fmnist.train[:640], opt, val, **args)
    after = snapshot(model, opt)
    assert all(torch.equal(t, after[0][k]) for k, t in before[0].items())


def test_a_foreign_optimizer_is_refused(fmnist):
    model, _ = setup()
    _, other = setup()
    with pytest.raises(ValueError, match="optimizer must optimize this model's parameters"):
        accuracy_range_test(model, fmnist.train[:64], other, fmnist.val[:10], start_lr=1e-3, end_lr=0.1)


def test_the_plot_marks_the_bounds_and_refuses_bad_arguments():
    import matplotlib

    matplotlib.use("Agg")
    from lrcourse.plots import plot_accuracy_range_test

    result = AccuracyRangeTest(start_lr=0.01, end_lr=1.0, epochs=1, lrs=list(np.linspace(0.01, 1.0, 5)),
                               accuracies=[0.1, 0.5, 0.8, 0.7, 0.2])
    ax = plot_accuracy_range_test(result)
    assert list(ax.lines[0].get_ydata()) == result.accuracies
    # 10% of the rise (0.17) is passed at the second LR, 90% (0.73) at the third
    assert result.bounds == (result.lrs[1], result.lrs[2])
    assert any("base_lr 0.26, max_lr 0.5" in text.get_text() for text in ax.get_legend().get_texts())
    with pytest.raises(ValueError, match="result must be an AccuracyRangeTest"):
        plot_accuracy_range_test("curve")
    with pytest.raises(TypeError, match="annotate must be True or False"):
        plot_accuracy_range_test(result, annotate="yes")
