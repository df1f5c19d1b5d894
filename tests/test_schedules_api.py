"""The schedules as objects (picklable, immutable, checked when built) and their adapters."""

import dataclasses
import doctest
import io
import pickle

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from torch.optim.lr_scheduler import OneCycleLR  # noqa: E402

import lrcourse.schedules as S  # noqa: E402

ONE_OF_EACH = {
    "constant": S.constant(base_lr=0.1),
    "step_decay": S.step_decay(base_lr=0.1, step_size=30, gamma=0.1),
    "multistep": S.multistep(base_lr=0.1, milestones=[30, 80], gamma=0.1),
    "exponential": S.exponential(base_lr=0.1, gamma=0.96),
    "inverse_time": S.inverse_time(base_lr=0.1, k=0.01),
    "polynomial": S.polynomial(base_lr=0.1, total_steps=100, power=0.9),
    "cosine": S.cosine(base_lr=0.1, total_steps=100, eta_min=0.001),
    "linear_decay": S.linear_decay(base_lr=0.1, total_steps=100),
    "inverse_sqrt": S.inverse_sqrt(base_lr=0.001, warmup_steps=10),
    "linear_warmup": S.linear_warmup(warmup_steps=10, then=S.cosine(base_lr=0.1, total_steps=90)),
    "triangular": S.triangular(base_lr=0.001, max_lr=0.006, step_size=20),
    "triangular2": S.triangular2(base_lr=0.001, max_lr=0.006, step_size=20),
    "triangular2-uneven": S.triangular2(base_lr=0.001, max_lr=0.006, step_size_up=5, step_size_down=15),
    "exp_range": S.exp_range(base_lr=0.001, max_lr=0.006, step_size=20, gamma=0.999),
    "exp_range.momentum": S.exp_range(base_lr=0.001, max_lr=0.006, step_size_up=20, gamma=0.999,
                                      base_momentum=0.85, max_momentum=0.95).momentum,
    "one_cycle": S.one_cycle(max_lr=0.1, total_steps=100),
    "one_cycle-epochs": S.one_cycle(max_lr=0.1, epochs=4, steps_per_epoch=25, anneal="linear"),
    "one_cycle.momentum": S.one_cycle(max_lr=0.1, total_steps=100, three_phase=True).momentum,
    "cosine_restarts": S.cosine_restarts(base_lr=0.1, T_0=10, T_mult=2),
    "combine": S.combine([0.3, 0.7], [S.lin_anneal(0.01, 0.1), S.exp_anneal(0.1, 1e-4)], 100),
}


@pytest.mark.parametrize("name", sorted(ONE_OF_EACH))
def test_pickle_round_trip(name):
    schedule = ONE_OF_EACH[name]
    copy = pickle.loads(pickle.dumps(schedule))
    assert copy == schedule and copy is not schedule
    np.testing.assert_array_equal(S.sample(copy, 101), S.sample(schedule, 101))


@pytest.mark.parametrize("name", sorted(ONE_OF_EACH))
def test_calling_changes_nothing_and_fields_are_frozen(name):
    schedule = ONE_OF_EACH[name]
    state = pickle.dumps(schedule)
    first = S.sample(schedule, 101)
    np.testing.assert_array_equal(S.sample(schedule, 101), first)
    assert pickle.dumps(schedule) == state
    field = dataclasses.fields(schedule)[0].name
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(schedule, field, 1.0)


SCHEDULE_CLASSES = [S.Constant, S.StepDecay, S.MultiStep, S.Exponential, S.InverseTime, S.Polynomial, S.Cosine,
                    S.LinearDecay, S.InverseSqrt, S.LinearWarmup, S.Triangular, S.Triangular2, S.ExpRange,
                    S.CyclicalMomentum, S.OneCycle, S.CosineRestarts, S.Combine]


@pytest.mark.parametrize("cls", SCHEDULE_CLASSES, ids=lambda cls: cls.__name__)
def test_docstrings_give_formula_symbols_args_an_example_and_a_reference(cls):
    for part in (".. math::", "where", "Args:", "Example:", "Reference"):
        assert part in cls.__doc__
    # The example shows where the scheduler steps: after the optimizer, inside the loop over batches.
    example = cls.__doc__[cls.__doc__.index("Example:"):]
    assert "for x, y in batches:" in example
    assert example.index("optimizer.step()") < example.index("scheduler.step()")


def example_globals():
    torch.manual_seed(0)
    model = torch.nn.Linear(4, 3)
    return {"S": S, "torch": torch, "model": model, "loss_fn": torch.nn.functional.cross_entropy,
            "optimizer": torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9),
            "batches": [(torch.randn(8, 4), torch.randint(0, 3, (8,))) for _ in range(3)]}


DOCUMENTED = [*SCHEDULE_CLASSES, S.CosAnneal, S.LinAnneal, S.ExpAnneal, S.LRMultiplier, S.MomentumScheduler,
              S.Preset, S.to_lambda_lr]


@pytest.mark.parametrize("obj", DOCUMENTED, ids=lambda obj: obj.__name__)
def test_examples_run_and_print_what_they_show(obj):
    [test] = doctest.DocTestFinder(recurse=False).find(obj, obj.__name__, globs=example_globals())
    assert len(test.examples) >= 2
    runner = doctest.DocTestRunner()
    runner.run(test, out=lambda text: None)
    assert runner.failures == 0, f"{obj.__name__}'s example fails; run it with doctest to see"


def test_lowercase_names_are_the_classes():
    assert S.step_decay is S.StepDecay and S.one_cycle is S.OneCycle and S.combine is S.Combine
    assert isinstance(ONE_OF_EACH["one_cycle"].momentum, S.Combine)
    assert isinstance(ONE_OF_EACH["triangular"].momentum, S.CyclicalMomentum)


def test_even_and_uneven_cycles_are_one_kind_of_schedule():
    even = S.triangular(base_lr=0.001, max_lr=0.006, step_size=20)
    assert even == S.triangular(base_lr=0.001, max_lr=0.006, step_size_up=20)
    assert even == S.triangular(base_lr=0.001, max_lr=0.006, step_size_up=20, step_size_down=20)
    assert (even.step_size_up, even.step_size_down) == (20, 20)
    assert repr(even) == ("Triangular(base_lr=0.001, max_lr=0.006, step_size_up=20, step_size_down=20, "
                          "base_momentum=0.8, max_momentum=0.9)")
    assert eval(repr(even), {"Triangular": S.Triangular}) == even
    assert dataclasses.replace(even, step_size_down=60)(40) == S.triangular(
        base_lr=0.001, max_lr=0.006, step_size_up=20, step_size_down=60)(40)
    uneven = ONE_OF_EACH["triangular2-uneven"]
    assert [uneven(t) for t in (0, 5, 20, 25)] == pytest.approx([0.001, 0.006, 0.001, 0.0035], rel=1e-12)


def test_one_cycle_takes_epochs_and_steps_per_epoch_as_total_steps():
    by_epochs = S.one_cycle(max_lr=0.1, epochs=4, steps_per_epoch=25)
    assert by_epochs == S.one_cycle(max_lr=0.1, total_steps=100) and by_epochs.total_steps == 100
    np.testing.assert_array_equal(S.sample(by_epochs, 101), S.sample(S.one_cycle(max_lr=0.1, total_steps=100), 101))
    assert dataclasses.replace(by_epochs, max_lr=0.2).total_steps == 100


BAD = [
    (S.constant, dict(base_lr=0), "base_lr"),
    (S.constant, dict(base_lr=-0.1), "base_lr"),
    (S.constant, dict(base_lr=float("nan")), "base_lr"),
    (S.step_decay, dict(base_lr=0.1, step_size=0), "step_size"),
    (S.step_decay, dict(base_lr=0.1, step_size=2.5), "step_size"),
    (S.step_decay, dict(base_lr=0.1, step_size=30, gamma=0), "gamma"),
    (S.multistep, dict(base_lr=0.1, milestones=[30, 20]), "milestones"),
    (S.multistep, dict(base_lr=0.1, milestones=[30, 30]), "milestones"),
    (S.multistep, dict(base_lr=0.1, milestones=[0, 30]), "milestones"),
    (S.multistep, dict(base_lr=0.1, milestones=[30], gamma=-0.1), "gamma"),
    (S.exponential, dict(base_lr=0.1, gamma=0), "gamma"),
    (S.exponential, dict(base_lr=0, gamma=0.9), "base_lr"),
    (S.inverse_time, dict(base_lr=0.1, k=-1), "k"),
    (S.polynomial, dict(base_lr=0.1, total_steps=0), "total_steps"),
    (S.polynomial, dict(base_lr=0.1, total_steps=10, power=0), "power"),
    (S.cosine, dict(base_lr=0.1, total_steps=0), "total_steps"),
    (S.cosine, dict(base_lr=0.1, total_steps=10, eta_min=-0.01), "eta_min"),
    (S.cosine, dict(base_lr=0.1, total_steps=10, eta_min=0.2), "eta_min"),
    (S.linear_decay, dict(base_lr=0.1, total_steps=0), "total_steps"),
    (S.inverse_sqrt, dict(base_lr=0.1, warmup_steps=0), "warmup_steps"),
    (S.linear_warmup, dict(warmup_steps=0, then=S.constant(base_lr=0.1)), "warmup_steps"),
    (S.linear_warmup, dict(warmup_steps=5, then=0.1), "then"),
    (S.linear_warmup, dict(warmup_steps=5, then=S.constant(base_lr=0.1), start_factor=0), "start_factor"),
    (S.linear_warmup, dict(warmup_steps=5, then=S.constant(base_lr=0.1), start_factor=1.5), "start_factor"),
    (S.multistep, dict(base_lr=0.1, milestones=[10, 20], gamma=1e200), "gamma"),  # 1e399 after two milestones
    (S.triangular, dict(base_lr=0.01, max_lr=0.001, step_size=10), "max_lr"),
    (S.triangular, dict(base_lr=0, max_lr=0.001, step_size=10), "base_lr"),
    (S.triangular2, dict(base_lr=0.001, max_lr=0.01, step_size=0), "step_size"),
    (S.triangular, dict(base_lr=0.001, max_lr=0.01), "step_size"),
    (S.triangular, dict(base_lr=0.001, max_lr=0.01, step_size=10, step_size_up=10), "step_size"),
    (S.triangular, dict(base_lr=0.001, max_lr=0.01, step_size=10, step_size_down=30), "step_size_down"),
    (S.triangular, dict(base_lr=0.001, max_lr=0.01, step_size_up=0), "step_size_up"),
    (S.triangular, dict(base_lr=0.001, max_lr=0.01, step_size_up=2.5), "step_size_up"),
    (S.triangular2, dict(base_lr=0.001, max_lr=0.01, step_size_up=10, step_size_down=0), "step_size_down"),
    (S.triangular2, dict(base_lr=0.001, max_lr=0.01, step_size_down=10), "step_size_up"),
    (S.triangular, dict(base_lr=0.001, max_lr=0.01, step_size=10, base_momentum=-0.1), "base_momentum"),
    (S.triangular2, dict(base_lr=0.001, max_lr=0.01, step_size=10, base_momentum=0.95), "max_momentum"),
    (S.exp_range, dict(base_lr=0.001, max_lr=0.01, step_size=10, gamma=0.99, max_momentum=1.0), "max_momentum"),
    (S.exp_range, dict(base_lr=0.001, max_lr=0.01, step_size=10, gamma=0), "gamma"),
    (S.exp_range, dict(base_lr=0.001, max_lr=0.01, step_size=10, gamma=1.01), "gamma"),
    (S.CyclicalMomentum, dict(schedule=S.cosine(base_lr=0.1, total_steps=10)), "schedule"),
    (S.one_cycle, dict(max_lr=0, total_steps=100), "max_lr"),
    (S.one_cycle, dict(max_lr=0.1, total_steps=0), "total_steps"),
    (S.one_cycle, dict(max_lr=0.1), "total_steps"),
    (S.one_cycle, dict(max_lr=0.1, epochs=10), "steps_per_epoch"),
    (S.one_cycle, dict(max_lr=0.1, steps_per_epoch=10), "epochs"),
    (S.one_cycle, dict(max_lr=0.1, total_steps=100, epochs=10, steps_per_epoch=10), "total_steps"),
    (S.one_cycle, dict(max_lr=0.1, epochs=0, steps_per_epoch=10), "epochs"),
    (S.one_cycle, dict(max_lr=0.1, epochs=10, steps_per_epoch=2.5), "steps_per_epoch"),
    (S.one_cycle, dict(max_lr=0.1, total_steps=100, pct_start=0), "pct_start"),
    (S.one_cycle, dict(max_lr=0.1, total_steps=100, pct_start=1), "pct_start"),
    (S.one_cycle, dict(max_lr=0.1, total_steps=10, pct_start=0.1), "pct_start"),  # PyTorch: ZeroDivisionError
    (S.one_cycle, dict(max_lr=0.1, total_steps=100, pct_start=0.6, three_phase=True), "pct_start"),
    (S.one_cycle, dict(max_lr=0.1, total_steps=100, anneal="cosine"), "anneal"),
    (S.one_cycle, dict(max_lr=0.1, total_steps=100, div_factor=0.5), "div_factor"),
    (S.one_cycle, dict(max_lr=0.1, total_steps=100, final_div_factor=0), "final_div_factor"),
    (S.one_cycle, dict(max_lr=0.1, total_steps=100, three_phase="yes"), "three_phase"),
    (S.one_cycle, dict(max_lr=0.1, total_steps=100, base_momentum=-0.1), "base_momentum"),
    (S.one_cycle, dict(max_lr=0.1, total_steps=100, base_momentum=0.96), "max_momentum"),
    (S.one_cycle, dict(max_lr=0.1, total_steps=100, max_momentum=1.0), "max_momentum"),
    (S.cosine_restarts, dict(base_lr=0.1, T_0=0), "T_0"),
    (S.cosine_restarts, dict(base_lr=0.1, T_0=10, T_mult=0), "T_mult"),
    (S.cosine_restarts, dict(base_lr=0.1, T_0=10, T_mult=1.5), "T_mult"),
    (S.cosine_restarts, dict(base_lr=0.1, T_0=10, eta_min=-1), "eta_min"),
    (S.combine, dict(pcts=[0.5, 0.6], phases=[S.lin_anneal(1, 0)] * 2, total_steps=10), "pcts"),
    (S.combine, dict(pcts=[1.0, 0.0], phases=[S.lin_anneal(1, 0)] * 2, total_steps=10), "pcts"),
    (S.combine, dict(pcts=[1e-12, 1 - 1e-12], phases=[S.lin_anneal(1, 0)] * 2, total_steps=10), "pcts"),
    (S.combine, dict(pcts=[0.5, 0.5], phases=[S.lin_anneal(1, 0)], total_steps=10), "phases"),
    (S.combine, dict(pcts=[1.0], phases=[0.1], total_steps=10), "phases"),
    (S.combine, dict(pcts=[1.0], phases=[S.lin_anneal(1, 0)], total_steps=0), "total_steps"),
    (S.cos_anneal, dict(start=float("inf"), end=0), "start"),
    (S.exp_anneal, dict(start=0.1, end=0), "end"),
    (S.exp_anneal, dict(start=1e-200, end=1e200), "end"),  # end / start overflows
    (S.exp_anneal, dict(start=1e200, end=1e-200), "end"),  # ... or underflows
]


@pytest.mark.parametrize("make, kwargs, parameter", BAD,
                         ids=[f"{make.__name__}-{parameter}-{i}" for i, (make, _, parameter) in enumerate(BAD)])
def test_bad_arguments_are_refused_when_built(make, kwargs, parameter):
    with pytest.raises(ValueError, match=parameter):
        make(**kwargs)


def test_schedules_take_keyword_arguments_only():
    with pytest.raises(TypeError):
        S.step_decay(0.1, 30, 0.1)


@pytest.mark.parametrize("step", [-1, 2.5, "3", None])
def test_bad_steps_are_refused(step):
    with pytest.raises(ValueError, match="step"):
        S.constant(base_lr=0.1)(step)


def test_steps_past_the_end_are_refused_where_undefined_and_held_where_pytorch_holds():
    with pytest.raises(ValueError, match="step must be <= total_steps=100"):
        S.one_cycle(max_lr=0.1, total_steps=100)(101)
    with pytest.raises(ValueError, match="step"):
        S.combine([1.0], [S.lin_anneal(1, 0)], 10)(11)
    assert S.polynomial(base_lr=0.1, total_steps=10)(10_000) == 0.0
    assert S.cosine(base_lr=0.1, total_steps=10)(20) == pytest.approx(0.1)  # PyTorch's cosine goes on
    assert S.step_decay(base_lr=0.1, step_size=30)(np.int64(45)) == 0.01  # NumPy steps are fine


def test_phases_refuse_positions_outside_0_1():
    with pytest.raises(ValueError, match="pos"):
        S.cos_anneal(1.0, 0.0)(1.5)


def make_optimizer(groups=(0.1,), optimizer=torch.optim.SGD, **kwargs):
    params = [{"params": [torch.nn.Parameter(torch.zeros(1))], "lr": lr} for lr in groups]
    return optimizer(params, **kwargs)


def test_to_lambda_lr_sets_group_0_to_the_schedule_and_keeps_group_ratios():
    schedule = S.one_cycle(max_lr=0.5, total_steps=50)
    optimizer = make_optimizer(groups=(123.0, 12.3))  # any LR: the schedule's are absolute
    scheduler = S.to_lambda_lr(optimizer, schedule)
    assert isinstance(scheduler, torch.optim.lr_scheduler.LambdaLR)
    for t in range(50):
        first, second = (group["lr"] for group in optimizer.param_groups)
        assert first == pytest.approx(schedule(t), rel=1e-14)
        assert second == pytest.approx(first / 10, rel=1e-14)
        optimizer.step()
        scheduler.step()


def test_lambda_lr_state_dict_round_trip_resumes_at_the_same_lr():
    schedule = S.triangular2(base_lr=0.001, max_lr=0.006, step_size=7)
    optimizer = make_optimizer(groups=(0.1, 0.01), momentum=0.9)
    scheduler = S.to_lambda_lr(optimizer, schedule)
    for _ in range(37):
        optimizer.step()
        scheduler.step()
    buffer = io.BytesIO()
    torch.save({"optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict()}, buffer)
    buffer.seek(0)
    saved = torch.load(buffer, weights_only=False)

    # A fresh run, built with a placeholder schedule and other LRs, picks up where it left off.
    resumed_optimizer = make_optimizer(groups=(1.0, 1.0), momentum=0.9)
    resumed = S.to_lambda_lr(resumed_optimizer, S.constant(base_lr=1.0))
    resumed_optimizer.load_state_dict(saved["optimizer"])
    resumed.load_state_dict(saved["scheduler"])
    for _ in range(30):
        optimizer.step(), scheduler.step()
        resumed_optimizer.step(), resumed.step()
        assert [g["lr"] for g in resumed_optimizer.param_groups] == [g["lr"] for g in optimizer.param_groups]
    assert resumed.lr_lambdas[0].schedule == schedule


CONSTANT = S.constant(base_lr=0.1)
ONE_CYCLE_20 = S.one_cycle(max_lr=0.1, total_steps=20)
BAD_ADAPTER_ARGUMENTS = [
    (S.to_lambda_lr, lambda: ("sgd", CONSTANT), {}, "optimizer"),
    (S.to_lambda_lr, lambda: (make_optimizer(), 0.1), {}, "schedule"),
    (S.to_lambda_lr, lambda: (make_optimizer(groups=(0.0,)), CONSTANT), {}, "lr > 0"),
    (S.to_lambda_lr, lambda: (make_optimizer(groups=(0.1, 0.0)), [CONSTANT, CONSTANT]), {}, "group 1"),
    (S.to_lambda_lr, lambda: (make_optimizer(groups=(0.1, 0.1)), [CONSTANT]), {}, "one per param group"),
    (S.to_lambda_lr, lambda: (make_optimizer(groups=(0.1, 0.1)), [CONSTANT, 0.1]), {}, "schedule"),
    (S.to_lambda_lr, lambda: (make_optimizer(), CONSTANT), {"last_step": -1}, "last_step"),
    (S.to_lambda_lr, lambda: (make_optimizer(), CONSTANT), {"last_step": 2.0}, "last_step"),
    (S.to_lambda_lr, lambda: (make_optimizer(), ONE_CYCLE_20), {"last_step": 21}, "step must be <= total_steps"),
    (S.to_lambda_lr, lambda: (make_optimizer(), lambda step: float("inf")), {}, "step=0"),
    (S.to_lambda_lr, lambda: (make_optimizer(), lambda step: -0.1), {}, "step=0"),
    (S.to_lambda_lr, lambda: (make_optimizer(groups=(1e-300,)), S.constant(base_lr=1e10)), {}, "reference_lr"),
    (S.MomentumScheduler, lambda: ("sgd", ONE_CYCLE_20.momentum), {}, "optimizer"),
    (S.MomentumScheduler, lambda: (make_optimizer(momentum=0.9), 0.9), {}, "schedule"),
    (S.MomentumScheduler, lambda: (make_optimizer(optimizer=torch.optim.Adagrad), ONE_CYCLE_20.momentum), {},
     "momentum or betas"),
    (S.MomentumScheduler, lambda: (make_optimizer(groups=(0.1, 0.1), momentum=0.9), [ONE_CYCLE_20.momentum]), {},
     "one per param group"),
    (S.MomentumScheduler, lambda: (make_optimizer(momentum=0.9), ONE_CYCLE_20.momentum), {"last_step": -1},
     "last_step"),
    (S.MomentumScheduler, lambda: (make_optimizer(momentum=0.9), lambda step: 1.5), {}, "momentum"),
    (S.sample, lambda: (CONSTANT, 0), {}, "steps"),
    (S.sample, lambda: (0.1, 10), {}, "schedule"),
]


@pytest.mark.parametrize("make, args, kwargs, message", BAD_ADAPTER_ARGUMENTS,
                         ids=[f"{make.__name__}-{i}" for i, (make, *_) in enumerate(BAD_ADAPTER_ARGUMENTS)])
def test_adapters_refuse_bad_arguments_before_changing_the_optimizer(make, args, kwargs, message):
    args = args()
    optimizer = args[0] if isinstance(args[0], torch.optim.Optimizer) else None
    before = None if optimizer is None else pickle.dumps(optimizer.state_dict())
    with pytest.raises(ValueError, match=message):
        make(*args, **kwargs)
    if optimizer is not None:
        assert pickle.dumps(optimizer.state_dict()) == before


@pytest.mark.parametrize("optimizer, kwargs", [(torch.optim.SGD, {"momentum": 0.9}), (torch.optim.Adam, {})])
def test_momentum_scheduler_matches_one_cycle_lr(optimizer, kwargs):
    schedule = S.one_cycle(max_lr=0.1, total_steps=60, three_phase=True)
    ours, theirs = make_optimizer(optimizer=optimizer, **kwargs), make_optimizer(optimizer=optimizer, **kwargs)
    lr_scheduler, momentum_scheduler = S.to_lambda_lr(ours, schedule), S.MomentumScheduler(ours, schedule.momentum)
    reference = OneCycleLR(theirs, max_lr=0.1, total_steps=60, three_phase=True)
    key = "betas" if optimizer is torch.optim.Adam else "momentum"
    for _ in range(60):
        mine, pytorch = ours.param_groups[0], theirs.param_groups[0]
        assert mine["lr"] == pytest.approx(pytorch["lr"], rel=1e-9)
        assert mine[key] == pytest.approx(pytorch[key], rel=1e-9)
        assert momentum_scheduler.get_last_momentum() == [mine["betas"][0] if key == "betas" else mine["momentum"]]
        for opt, *schedulers in ((ours, lr_scheduler, momentum_scheduler), (theirs, reference)):
            opt.step()
            for scheduler in schedulers:
                scheduler.step()
    if key == "betas":
        assert ours.param_groups[0]["betas"][1] == 0.999  # beta2 untouched


def test_momentum_scheduler_state_dict_round_trip():
    schedule = S.one_cycle(max_lr=0.1, total_steps=40).momentum
    optimizer = make_optimizer(momentum=0.9)
    scheduler = S.MomentumScheduler(optimizer, schedule)
    for _ in range(13):
        scheduler.step()
    resumed = S.MomentumScheduler(make_optimizer(momentum=0.5), schedule)
    resumed.load_state_dict(pickle.loads(pickle.dumps(scheduler.state_dict())))
    assert resumed.get_last_momentum() == scheduler.get_last_momentum() == [schedule(13)]
    with pytest.raises(ValueError, match="momentum or betas"):
        S.MomentumScheduler(make_optimizer(optimizer=torch.optim.Adagrad), schedule)


def test_sample_is_the_schedule_at_each_step():
    schedule = ONE_OF_EACH["triangular"]
    lrs = S.sample(schedule, 95)
    assert lrs.dtype == np.float64 and lrs.shape == (95,)
    assert list(lrs) == [schedule(t) for t in range(95)]
    with pytest.raises(ValueError, match="steps"):
        S.sample(schedule, 0)


def test_importing_the_schedules_does_not_import_matplotlib():
    import subprocess
    import sys

    code = "import sys, lrcourse.schedules; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_safe_globals_hold_every_schedule_class():
    classes = {getattr(S, name) for name in S.__all__ if dataclasses.is_dataclass(getattr(S, name))}
    assert classes - {S.Preset} == set(S.SAFE_GLOBALS)  # Preset holds a function: not weights-only data


@pytest.mark.parametrize("name", sorted(ONE_OF_EACH))
def test_scheduler_state_loads_with_weights_only(name):
    schedule = ONE_OF_EACH[name]
    state = S.to_lambda_lr(make_optimizer(), schedule).state_dict()
    buffer = io.BytesIO()
    torch.save(state, buffer)
    buffer.seek(0)
    with torch.serialization.safe_globals(list(S.SAFE_GLOBALS)):
        assert torch.load(buffer, weights_only=True) == state


def test_a_step_past_the_schedule_changes_nothing():
    schedule = S.one_cycle(max_lr=0.1, total_steps=5)
    optimizer = make_optimizer(momentum=0.9)
    momentum = S.MomentumScheduler(optimizer, schedule.momentum, last_step=5)
    with pytest.raises(ValueError, match="step must be <= total_steps=5"):
        momentum.step()
    assert momentum.last_epoch == 5 and momentum.get_last_momentum() == [schedule.momentum(5)]
