import copy
import math
import random

import numpy as np
import pytest
import torch

import lrcourse
from lrcourse import lr_rules
from lrcourse.range_result import FALLBACK_RULE
from lrcourse.range_test import DEFAULT_RULE, RangeTest, lr_range_test


def setup(model_class=lrcourse.MLP, optimizer="sgd"):
    lrcourse.seed_everything(0)
    model = model_class()
    if optimizer == "sgd":
        return model, torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    return model, getattr(torch.optim, optimizer)(model.parameters(), lr=1e-3)


def trained_a_little(model, optimizer, data):
    """Give the optimizer state (momentum buffers, Adam moments) and BN running stats."""
    lrcourse.fit(model, data[:256], optimizer, epochs=1, batch_size=64, progress=False)


def state_of(model, optimizer):
    return {
        "model": {k: v.clone() for k, v in model.state_dict().items()},
        "optimizer": copy.deepcopy(optimizer.state_dict()),  # state_dict() returns the live tensors
        "training": model.training,
        "rng": (torch.get_rng_state(), np.random.get_state()[1].copy(), random.getstate()),
    }


def assert_bitwise_equal(before, after):
    assert before["model"].keys() == after["model"].keys()
    for key, tensor in before["model"].items():
        assert torch.equal(tensor, after["model"][key]), key
    b, a = before["optimizer"], after["optimizer"]
    assert b["param_groups"] == a["param_groups"]
    assert b["state"].keys() == a["state"].keys()
    for index, state in b["state"].items():
        for name, value in state.items():
            other = a["state"][index][name]
            assert torch.equal(value, other) if torch.is_tensor(value) else value == other, (index, name)
    assert before["training"] == after["training"]
    assert torch.equal(before["rng"][0], after["rng"][0])
    assert np.array_equal(before["rng"][1], after["rng"][1]) and before["rng"][2] == after["rng"][2]


@pytest.mark.parametrize("model_class, optimizer", [
    (lrcourse.MLP, "sgd"), (lrcourse.MLP, "Adam"), (lrcourse.MLP, "AdamW"), (lrcourse.SmallCNN, "sgd")])
def test_state_is_restored_exactly_after_a_completed_or_diverged_test(fmnist, model_class, optimizer):
    model, opt = setup(model_class, optimizer)
    trained_a_little(model, opt, fmnist.train)
    model.eval()
    before = state_of(model, opt)
    result = lr_range_test(model, fmnist.train[:2000], opt, num_iter=30, end_lr=100.0, progress=False)
    assert result.steps >= 2
    assert_bitwise_equal(before, state_of(model, opt))


class Interrupt:
    def __init__(self, at, error):
        self.at, self.error = at, error

    def __call__(self, result):
        if result.steps == self.at:
            raise self.error


@pytest.mark.parametrize("error", [KeyboardInterrupt(), RuntimeError("boom")])
def test_state_is_restored_after_an_interrupt_or_exception(fmnist, error):
    model, opt = setup(lrcourse.SmallCNN)
    trained_a_little(model, opt, fmnist.train)
    before = state_of(model, opt)
    with pytest.raises(type(error)):
        lr_range_test(model, fmnist.train[:2000], opt, num_iter=50, progress=False, on_step=Interrupt(5, error))
    assert_bitwise_equal(before, state_of(model, opt))


def test_loss_fn_that_raises_leaves_state_untouched(fmnist):
    model, opt = setup()
    before = state_of(model, opt)
    calls = []

    def flaky_loss(out, y):
        calls.append(1)
        if len(calls) == 3:
            raise ValueError("bad batch")
        return torch.nn.functional.cross_entropy(out, y)

    with pytest.raises(ValueError, match="bad batch"):
        lr_range_test(model, fmnist.train[:1000], opt, loss_fn=flaky_loss, num_iter=10, progress=False)
    assert_bitwise_equal(before, state_of(model, opt))


@pytest.mark.parametrize("mode", ["exp", "linear"])
def test_lr_ramp_runs_from_start_to_end(fmnist, mode):
    model, opt = setup()
    result = lr_range_test(model, fmnist.train[:640], opt, start_lr=1e-4, end_lr=1e-1, num_iter=20, mode=mode,
                           diverge_factor=1e9, progress=False)
    assert result.steps == 20 and result.stop_reason == "completed" and result.stopped_at is None
    assert result.lrs[0] == pytest.approx(1e-4) and result.lrs[-1] == pytest.approx(1e-1)
    expected = np.geomspace(1e-4, 1e-1, 20) if mode == "exp" else np.linspace(1e-4, 1e-1, 20)
    np.testing.assert_allclose(result.lrs, expected, rtol=1e-12)


def test_smoothing_is_bias_corrected_ema(fmnist):
    model, opt = setup()
    result = lr_range_test(model, fmnist.train[:640], opt, num_iter=15, smooth=0.9, progress=False)
    average, expected = 0.0, []
    for i, loss in enumerate(result.losses):
        average = 0.9 * average + 0.1 * loss
        expected.append(average / (1 - 0.9 ** (i + 1)))
    np.testing.assert_allclose(result.smoothed, expected, rtol=1e-12)
    assert result.smoothed[0] == pytest.approx(result.losses[0])


def test_keeps_drawing_batches_when_data_runs_out(fmnist):
    model, opt = setup()
    result = lr_range_test(model, fmnist.train[:100], opt, num_iter=12, batch_size=32, end_lr=1e-2, progress=False)
    assert result.steps == 12  # 100 examples give 4 batches per pass


def test_param_group_ratios_are_kept(fmnist):
    lrcourse.seed_everything(0)
    model = lrcourse.MLP()
    opt = torch.optim.SGD([{"params": model[1].parameters(), "lr": 0.1},
                           {"params": model[3].parameters(), "lr": 0.01}])
    seen = []
    lr_range_test(model, fmnist.train[:640], opt, num_iter=10, progress=False,
                  on_step=lambda r: seen.append([g["lr"] for g in opt.param_groups]) and False)
    assert all(second == pytest.approx(first / 10) for first, second in seen)
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.01]  # restored


def test_divergence_stops_the_test(fmnist):
    model, opt = setup()
    result = lr_range_test(model, fmnist.train, opt, start_lr=1e-3, end_lr=1e4, num_iter=100, progress=False)
    assert result.stop_reason in ("diverged", "non-finite loss") and result.stopped_at == result.steps - 1 < 99
    last = result.smoothed[-1]
    assert not math.isfinite(result.losses[-1]) or last > 4 * min(result.smoothed)


def test_validation_loss_mode(fmnist):
    model, opt = setup()
    result = lr_range_test(model, fmnist.train[:640], opt, val=fmnist.val[:300], num_iter=5, end_lr=1e-2,
                           progress=False)
    model_copy, opt_copy = setup()
    with torch.no_grad():
        model_copy.eval()
        start_loss = torch.nn.functional.cross_entropy(model_copy(fmnist.val[:300].x), fmnist.val[:300].y).item()
    assert result.losses[0] == pytest.approx(start_loss, rel=0.05)  # one tiny step from the same weights


def test_accumulation_averages_gradients(fmnist):
    results = []
    for accumulation_steps, batch_size in ((1, 64), (2, 32)):
        model, opt = setup()
        results.append(lr_range_test(model, fmnist.train[:64], opt, num_iter=2, batch_size=batch_size,
                                     accumulation_steps=accumulation_steps, smooth=0.0, progress=False, seed=0))
    assert results[0].losses[0] == pytest.approx(results[1].losses[0], rel=1e-5)


def curve(losses):
    lrs = np.geomspace(1e-6, 1, len(losses))
    return RangeTest(start_lr=1e-6, end_lr=1.0, num_iter=len(losses), mode="exp", lrs=list(lrs),
                     losses=list(losses), smoothed=list(losses))


def test_suggestions_on_a_synthetic_curve():
    # Flat, then falling fastest around 1e-3, bottoming out near 3e-2, then exploding.
    log_lr = np.linspace(-6, 0, 100)
    losses = 2.3 - 1.5 / (1 + np.exp(-(log_lr + 3) * 3)) + np.where(log_lr > -1.5, (log_lr + 1.5) ** 2 * 3, 0)
    result = curve(losses)
    assert 5e-4 < result.steepest < 2e-3
    lowest = result.lrs[int(np.argmin(losses))]
    assert result.min_over_10 == pytest.approx(lowest / 10)
    base, top = result.cyclical_range
    assert base < result.steepest < top <= lowest * 1.01
    assert base <= result.valley <= top
    assert result.midway == pytest.approx(np.sqrt(result.steepest * result.min_over_10))
    # No accuracy curve (the test of a model that is not a classifier): the fallback rule picks.
    assert result.accuracies == [] and result.accuracy_plateau is None and result.loss_and_accuracy is None
    assert set(result.suggestions) == {"valley", "steepest", "min_over_10", "midway"}
    assert result.rule == FALLBACK_RULE and result.suggestion == result.midway


def plateau_reference(lrs, accuracies):
    """accuracy_plateau written another way: the contiguous group of near-peak points that holds the peak."""
    smoothed = lr_rules.smooth(accuracies, lr_rules.ACCURACY_SMOOTH)
    near = smoothed >= smoothed.max() - lr_rules.PLATEAU_DROP
    groups = np.split(np.arange(len(near)), np.flatnonzero(np.diff(near.astype(int))) + 1)
    group = next(g for g in groups if int(np.argmax(smoothed)) in g)
    return np.sqrt(lrs[group[0]] * lrs[group[-1]]) / 2


def test_accuracy_plateau_is_half_the_middle_of_the_run_of_near_peak_accuracies():
    lrs = np.geomspace(1e-4, 1, 12)
    # Flat at 0.8 from lrs[4] to lrs[8]; the smoothed curve (beta 0.7) lags the rise and peaks at lrs[8]
    # (0.707), and only lrs[7] (0.664) is within 0.1 of that: the plateau is lrs[7]..lrs[8].
    accuracies = [0.1, 0.1, 0.1, 0.1, 0.8, 0.8, 0.8, 0.8, 0.8, 0.1, 0.1, 0.1]
    smoothed = lr_rules.smooth(accuracies, lr_rules.ACCURACY_SMOOTH)
    assert int(np.argmax(smoothed)) == 8 and smoothed[6] < smoothed[8] - 0.1 < smoothed[7] and smoothed[9] < smoothed[8] - 0.1
    assert lr_rules.accuracy_plateau(lrs, accuracies) == pytest.approx(np.sqrt(lrs[7] * lrs[8]) / 2)
    # A second high stretch, cut off from the peak's by a dip, is not part of the plateau.
    two = [0.1, 0.7, 0.7, 0.7, 0.1, 0.1, 0.1, 0.8, 0.8, 0.8, 0.1, 0.1]
    assert lr_rules.accuracy_plateau(lrs, two) == pytest.approx(plateau_reference(lrs, two))
    assert lr_rules.accuracy_plateau(lrs, two) > lrs[6] / 2
    rng = np.random.default_rng(0)
    for _ in range(200):  # against the reference on random curves, of every shape
        curve = np.clip(np.cumsum(rng.normal(0, 0.1, 12)) + 0.5, 0, 1)
        assert lr_rules.accuracy_plateau(lrs, curve) == pytest.approx(plateau_reference(lrs, curve))
    result = RangeTest(start_lr=1e-4, end_lr=1.0, num_iter=12, mode="exp", lrs=list(lrs), losses=[2.0] * 12,
                       smoothed=[2.0] * 12, accuracies=accuracies)
    assert result.rule == DEFAULT_RULE == "loss_and_accuracy"
    assert result.accuracy_plateau == result.suggestions["accuracy_plateau"]
    # The default: halfway, on a log scale, between the loss's pick (midway) and the accuracy's.
    assert result.suggestion == result.loss_and_accuracy == result.suggestions["loss_and_accuracy"]
    assert result.loss_and_accuracy == pytest.approx(np.sqrt(result.midway * result.accuracy_plateau))
    with pytest.raises(ValueError, match="same length"):
        lr_rules.accuracy_plateau(lrs, accuracies[:-1])


def test_a_classifier_records_each_batchs_accuracy(fmnist):
    model, opt = setup()
    data = fmnist.train[:2000]
    seen = []

    def loss_fn(outputs, y):  # records what the test should record, independently
        if torch.is_grad_enabled():
            seen.append((outputs.argmax(1) == y).float().mean().item())
        return torch.nn.functional.cross_entropy(outputs, y)

    result = lr_range_test(model, data, opt, num_iter=40, loss_fn=loss_fn, progress=False)
    assert len(result.accuracies) == result.steps
    np.testing.assert_allclose(result.accuracies, seen[-result.steps:], rtol=1e-6)
    assert result.rule == "loss_and_accuracy" and result.picks == [result.loss_and_accuracy]
    model, opt = setup()
    with_val = lr_range_test(model, data, opt, num_iter=3, end_lr=1e-2, val=fmnist.val[:300], progress=False)
    model_copy, _ = setup()
    model_copy.eval()
    with torch.no_grad():
        start = (model_copy(fmnist.val[:300].x).argmax(1) == fmnist.val[:300].y).float().mean().item()
    assert with_val.accuracies[0] == pytest.approx(start, abs=0.02)  # one tiny step from the same weights


def test_a_regression_records_no_accuracy_and_falls_back_to_midway(fmnist):
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(784, 1))
    opt = torch.optim.SGD(model.parameters(), lr=1e-3)
    data = lrcourse.data.TensorData(fmnist.train.x[:640], fmnist.train.y[:640].float().unsqueeze(1))
    result = lr_range_test(model, data, opt, loss_fn=torch.nn.functional.mse_loss, num_iter=30, progress=False)
    assert result.accuracies == [] and result.rule == "midway" and result.suggestion == result.midway


@pytest.mark.parametrize("kwargs, match", [
    (dict(start_lr=0.0), "start_lr must be"), (dict(start_lr=float("nan")), "start_lr must be"),
    (dict(start_lr=1.0, end_lr=0.5), "end_lr must be"), (dict(num_iter=1), "num_iter must be"),
    (dict(smooth=1.0), "smooth must be"), (dict(diverge_factor=1.0), "diverge_factor must be"),
    (dict(accumulation_steps=0), "accumulation_steps must be"), (dict(mode="cosine"), "mode must be one of"),
    (dict(batch_size=0), "batch_size must be"),
])
def test_bad_arguments_raise_before_anything_changes(fmnist, kwargs, match):
    model, opt = setup()
    before = state_of(model, opt)
    with pytest.raises(ValueError, match=match):
        lr_range_test(model, fmnist.train[:64], opt, progress=False, **kwargs)
    assert_bitwise_equal(before, state_of(model, opt))


def test_empty_data_and_foreign_optimizer(fmnist):
    model, opt = setup()
    with pytest.raises(ValueError, match="train must hold at least one example"):
        lr_range_test(model, fmnist.train[:0], opt, progress=False)
    other = lrcourse.MLP()
    with pytest.raises(ValueError, match="optimizer must optimize this model's parameters"):
        lr_range_test(other, fmnist.train[:64], opt, progress=False)


def grads_of(model):
    return [None if p.grad is None else p.grad.clone() for p in model.parameters()]


def test_pending_gradients_are_restored_and_none_stays_none(fmnist):
    model, opt = setup()
    assert all(g is None for g in grads_of(model))
    lr_range_test(model, fmnist.train[:640], opt, num_iter=10, progress=False)
    assert all(g is None for g in grads_of(model))  # no leftover gradient for a later optimizer.step()
    torch.nn.functional.cross_entropy(model(fmnist.train[:32].x), fmnist.train[:32].y).backward()
    pending = grads_of(model)
    with pytest.raises(RuntimeError):
        lr_range_test(model, fmnist.train[:640], opt, num_iter=10, progress=False,
                      on_step=Interrupt(3, RuntimeError("boom")))
    for before, after in zip(pending, grads_of(model)):
        assert torch.equal(before, after)


class SelfInterruptingMLP(lrcourse.MLP):
    """Sends itself a Ctrl-C in the middle of the range test's restore (its load_state_dict)."""

    def load_state_dict(self, *args, **kwargs):
        import os
        import signal
        os.kill(os.getpid(), signal.SIGINT)
        return super().load_state_dict(*args, **kwargs)


def test_a_second_ctrl_c_during_the_restore_waits_until_everything_is_back(fmnist):
    lrcourse.seed_everything(0)
    model = SelfInterruptingMLP()
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    trained_a_little(model, opt, fmnist.train)
    before = state_of(model, opt)
    with pytest.raises(KeyboardInterrupt):
        lr_range_test(model, fmnist.train[:2000], opt, num_iter=50, progress=False,
                      on_step=Interrupt(5, KeyboardInterrupt()))
    assert_bitwise_equal(before, state_of(model, opt))
    assert opt.param_groups[0]["lr"] == 0.1


@pytest.mark.parametrize("start_lr", [np.float32(1e-5), np.float64(1e-5), torch.tensor(1e-5)])
def test_numbers_of_any_numeric_type_are_accepted(fmnist, start_lr):
    model, opt = setup()
    result = lr_range_test(model, fmnist.train[:320], opt, start_lr=start_lr, end_lr=np.float32(1.0), num_iter=5,
                           progress=False)
    assert result.lrs[0] == pytest.approx(1e-5) and isinstance(result.start_lr, float)


def test_a_dataloader_with_workers_is_a_source_and_everything_is_restored(fmnist):
    model, opt = setup()
    trained_a_little(model, opt, fmnist.train)
    before = state_of(model, opt)
    data = fmnist.train[:640]
    generator = torch.Generator().manual_seed(5)
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(data.x, data.y), batch_size=64,
                                         shuffle=True, num_workers=2, generator=generator)
    own = generator.get_state()
    result = lr_range_test(model, loader, opt, num_iter=25, end_lr=1.0, progress=False)
    assert result.steps == 25  # 10 batches per pass: the loader was iterated again
    assert_bitwise_equal(before, state_of(model, opt))
    assert torch.equal(own, generator.get_state())  # the loader shuffles next as it would have


def test_two_range_tests_in_two_threads_give_their_own_results(fmnist):
    import threading

    from lrcourse.device import seeded

    def one(seed, out):
        model = seeded(lrcourse.MLP, 0)  # lrcourse's forks of the global generators take turns
        opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        out[seed] = lr_range_test(model, fmnist.train[:640], opt, num_iter=30, seed=seed, progress=False).losses

    alone = {}
    one(0, alone)
    one(1, alone)
    together = {}
    threads = [threading.Thread(target=one, args=(seed, together)) for seed in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert together == alone


# ------------------------------------------------------------------ several tests: repeats, combine, picks

def test_repeats_runs_one_test_per_seed_and_combines_them(fmnist):
    data = fmnist.train[:2000]
    singles = []
    for seed in (4, 5, 6):
        model, opt = setup()
        singles.append(lr_range_test(model, data, opt, num_iter=40, seed=seed, progress=False))
    model, opt = setup()
    result = lr_range_test(model, data, opt, num_iter=40, seed=4, repeats=3, progress=False)
    assert [t.seed for t in result.tests] == [4, 5, 6]
    for single, test in zip(singles, result.tests):
        assert test.losses == single.losses  # the same test as a single call with that seed
    n = min(t.steps for t in singles)
    assert result.steps == n
    np.testing.assert_allclose(result.losses, np.mean([t.losses[:n] for t in singles], axis=0), rtol=1e-12)
    np.testing.assert_allclose(result.smoothed, np.mean([t.smoothed[:n] for t in singles], axis=0), rtol=1e-12)
    np.testing.assert_allclose(result.accuracies, np.mean([t.accuracies[:n] for t in singles], axis=0), rtol=1e-12)
    assert result.picks == [t.loss_and_accuracy for t in singles]  # DEFAULT_RULE
    assert result.suggestion == sorted(result.picks)[1]  # the median of three
    assert result.examples == sum(t.steps for t in singles) * 64
    assert result.seconds == pytest.approx(sum(t.seconds for t in result.tests))


def test_a_single_test_suggests_its_own_pick_and_counts_its_examples(fmnist):
    model, opt = setup()
    result = lr_range_test(model, fmnist.train[:2000], opt, num_iter=30, batch_size=32, accumulation_steps=2,
                           progress=False)
    assert result.tests == [] and result.picks == [result.loss_and_accuracy] and result.suggestion == result.loss_and_accuracy
    assert result.examples == result.steps * 32 * 2


def test_a_loader_is_not_counted_in_examples(fmnist):
    model, opt = setup()
    data = fmnist.train[:640]
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(data.x, data.y), batch_size=64)
    result = lr_range_test(model, loader, opt, num_iter=10, repeats=2, progress=False)
    assert result.examples is None and len(result.tests) == 2


def test_state_is_restored_exactly_after_repeated_tests_and_an_interrupt_in_the_second(fmnist):
    model, opt = setup(lrcourse.SmallCNN)
    trained_a_little(model, opt, fmnist.train)
    before = state_of(model, opt)
    lr_range_test(model, fmnist.train[:1000], opt, num_iter=15, end_lr=100.0, repeats=3, progress=False)
    assert_bitwise_equal(before, state_of(model, opt))
    started = []

    def second_test_interrupts(result):
        if result.steps == 1:
            started.append(result)  # a new test begins
        if len(started) == 2 and result.steps == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        lr_range_test(model, fmnist.train[:1000], opt, num_iter=10, repeats=3, progress=False,
                      on_step=second_test_interrupts)
    assert_bitwise_equal(before, state_of(model, opt))


def test_stopping_one_test_stops_the_tests_still_to_come(fmnist):
    model, opt = setup()
    result = lr_range_test(model, fmnist.train[:640], opt, num_iter=20, repeats=3, progress=False,
                           on_step=lambda partial: partial.steps == 5)
    assert len(result.tests) == 1 and result.stop_reason == "stopped" and result.steps == 5


def test_combine_takes_the_mean_up_to_the_shortest_test():
    from lrcourse.range_test import combine

    def single(losses, reason, seed):
        lrs = list(np.geomspace(1e-3, 1.0, 5)[: len(losses)])
        return RangeTest(start_lr=1e-3, end_lr=1.0, num_iter=5, mode="exp", lrs=lrs, losses=list(losses),
                         smoothed=list(losses), stop_reason=reason, seconds=1.0, seed=seed)

    result = combine([single([3.0, 2.0, 1.0, 4.0], "diverged", 0), single([1.0, 2.0, 3.0], "non-finite loss", 1),
                      single([2.0, 2.0, 2.0, 2.0, 2.0], "completed", 2)])
    assert result.steps == 3 and result.losses == [2.0, 2.0, 2.0] and result.smoothed == [2.0, 2.0, 2.0]
    assert result.stop_reason == "non-finite loss" and result.seconds == 3.0 and len(result.tests) == 3


@pytest.mark.parametrize("tests, match", [
    ([], "non-empty list of RangeTest"),
    ("not tests", "non-empty list of RangeTest"),
    ([RangeTest(1e-3, 1.0, 5, "exp", [1e-3], [1.0], [1.0]), RangeTest(1e-3, 1.0, 6, "exp", [1e-3], [1.0], [1.0])],
     "share one ramp"),
    ([RangeTest(1e-3, 1.0, 5, "exp")], "at least one step"),
])
def test_combine_refuses_bad_tests(tests, match):
    from lrcourse.range_test import combine

    with pytest.raises(ValueError, match=match):
        combine(tests)


@pytest.mark.parametrize("repeats", [0, 2.0, True, "3"])
def test_bad_repeats_raise_before_anything_changes(fmnist, repeats):
    model, opt = setup()
    before = state_of(model, opt)
    with pytest.raises(ValueError, match="repeats must be an int >= 1"):
        lr_range_test(model, fmnist.train[:64], opt, progress=False, repeats=repeats)
    assert_bitwise_equal(before, state_of(model, opt))
