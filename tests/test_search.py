"""lrcourse.search on tiny objectives: spaces, plans, pruning, storage, refusals, recovery."""

import math
import re
import time

import numpy as np
import optuna
import pytest

from lrcourse.search import (Race, Search, TrainingObjective, bayes_search, grid_points, grid_search, load_search,
                             parse_space, race, race_table, random_search, range_test_search, run_method,
                             sample_points)
from lrcourse.search import study as study_module
from lrcourse.search.space import check_objective

optuna.logging.set_verbosity(optuna.logging.WARNING)
LR = {"lr": (1e-4, 1.0, "log")}


def peak(lr):
    """Highest at lr = 10**-1.5, one unit lower per decade away."""
    return -abs(math.log10(lr) + 1.5)


def reporting(lr, report):
    """Three epochs of 100 examples each; the value rises a little every epoch."""
    value = peak(lr)
    for epoch in range(3):
        value = peak(lr) + 0.1 * epoch
        if report(value, 100 * (epoch + 1)):
            break
    return value


@pytest.fixture(scope="module")
def database(tmp_path_factory):
    """One SQLite file for the module's stored searches (its tables are made once)."""
    return f"sqlite:///{tmp_path_factory.mktemp('db')}/lr.db"


@pytest.fixture
def stored(database, request):
    """The database, and a study name of this test's own."""
    return database, re.sub(r"\W", "_", request.node.name)


class Counting:
    """An objective that counts its calls."""

    def __init__(self):
        self.calls = []

    def __call__(self, lr):
        self.calls.append(lr)
        return peak(lr)


# --- spaces ---------------------------------------------------------------------------------------

def test_grid_is_geometric_on_a_log_range_and_even_on_a_linear_one():
    points = grid_points(parse_space({"lr": (1e-4, 1.0, "log"), "m": (0.8, 0.9)}), {"lr": 5, "m": 3})
    assert len(points) == 15
    np.testing.assert_allclose(sorted({p["lr"] for p in points}), [1e-4, 1e-3, 1e-2, 1e-1, 1.0], rtol=1e-12)
    np.testing.assert_allclose(sorted({p["m"] for p in points}), [0.8, 0.85, 0.9], rtol=1e-12)
    assert [p["m"] for p in points[:3]] == pytest.approx([0.8, 0.85, 0.9])  # the last name varies fastest


def test_log_uniform_samples_give_every_decade_the_same_share():
    lrs = np.array([p["lr"] for p in sample_points(parse_space(LR), 4000, seed=3)])
    assert lrs.min() >= 1e-4 and lrs.max() <= 1.0
    shares = np.histogram(np.log10(lrs), bins=[-4, -3, -2, -1, 0])[0] / len(lrs)
    np.testing.assert_allclose(shares, 0.25, atol=0.03)
    uniform = np.array([p["m"] for p in sample_points(parse_space({"m": (0.0, 1.0)}), 4000, seed=3)])
    assert abs(np.mean(uniform < 0.5) - 0.5) < 0.03


def test_samples_repeat_with_the_seed_and_a_longer_draw_starts_with_a_shorter_one():
    space = parse_space({"lr": (1e-4, 1.0, "log"), "m": (0.8, 0.99)})
    assert sample_points(space, 5, 1) == sample_points(space, 5, 1) == sample_points(space, 9, 1)[:5]
    assert sample_points(space, 5, 1) != sample_points(space, 5, 2)


def test_the_objective_s_signature_decides_whether_it_gets_a_reporter():
    space = parse_space(LR)
    assert check_objective(reporting, space) is True
    assert check_objective(peak, space) is False
    assert check_objective(lambda **kwargs: 0.0, space) is False


# --- searches -------------------------------------------------------------------------------------

def test_grid_search_tries_every_point_once_and_reports_the_best():
    objective = Counting()
    search = grid_search(objective, LR, points=9)
    assert sorted(objective.calls) == pytest.approx(sorted(p["lr"] for p in grid_points(parse_space(LR), 9)))
    assert search.count("complete") == 9 and search.pending == 0
    assert search.best.value == max(peak(lr) for lr in objective.calls)
    assert search.best.params["lr"] == pytest.approx(10 ** -1.5)


def test_a_seeded_grid_runs_the_same_points_in_a_shuffled_order():
    ordered, shuffled = Counting(), Counting()
    grid_search(ordered, LR, points=6)
    grid_search(shuffled, LR, points=6, seed=1)
    assert sorted(shuffled.calls) == ordered.calls and shuffled.calls != ordered.calls


def test_random_search_runs_the_seeded_log_uniform_points():
    objective = Counting()
    search = random_search(objective, LR, n_trials=7, seed=4)
    assert objective.calls == [p["lr"] for p in sample_points(parse_space(LR), 7, 4)]
    assert [t.params["lr"] for t in search.trials] == objective.calls


def test_tpe_starts_with_random_search_s_points_and_repeats_with_its_seed():
    first, second, rand = Counting(), Counting(), Counting()
    bayes_search(first, LR, n_trials=10, seed=2, n_startup=3)
    bayes_search(second, LR, n_trials=10, seed=2, n_startup=3)
    random_search(rand, LR, n_trials=3, seed=2)
    assert first.calls[:3] == rand.calls and first.calls == second.calls
    # After its start, TPE moves towards the peak at 10**-1.5.
    assert np.median(np.abs(np.log10(first.calls[3:]) + 1.5)) < np.median(np.abs(np.log10(rand.calls) + 1.5))


def test_results_are_plain_data_and_round_trip_through_json():
    search = random_search(reporting, LR, n_trials=5, seed=0)
    again = Search.from_json(search.to_json())
    assert again == search and again.best == search.best
    spent, best = search.curve()
    assert list(spent) == [100 * 3 * (i + 1) for i in range(5)] and np.all(np.diff(best) >= 0)
    assert search.examples == 1500 and search.best_within(600) == max(t.value for t in search.trials[:2])
    assert search.best_within(100) is None


def test_pruned_trials_are_recorded_as_pruned_with_what_they_cost():
    search = bayes_search(reporting, LR, n_trials=12, seed=0,
                          pruner=optuna.pruners.MedianPruner(n_startup_trials=2, n_warmup_steps=0))
    pruned = [t for t in search.trials if t.state == "pruned"]
    assert pruned and search.count("complete") + len(pruned) == 12
    for trial in pruned:
        assert trial.examples == 100 * len(trial.values) < 300 and trial.value == trial.values[-1]
    assert search.examples == sum(t.examples for t in search.trials) < 12 * 300
    assert search.method == "tpe + MedianPruner"


def test_an_objective_may_raise_trial_pruned_itself():
    def objective(lr):
        if lr > 0.5:
            raise optuna.TrialPruned()
        return peak(lr)

    search = grid_search(objective, LR, points=5)
    assert [t.state for t in search.trials].count("pruned") == 1


def test_a_nan_value_fails_that_trial_and_the_search_goes_on():
    search = grid_search(lambda lr: math.nan if lr > 0.5 else peak(lr), LR, points=5)
    assert search.count("failed") == 1 and search.count("complete") == 4 and search.best is not None


def test_a_value_that_is_not_a_number_is_an_error_and_its_trial_is_queued_again(stored):
    url, name = stored
    with pytest.raises(TypeError, match="objective must return a number"):
        grid_search(lambda lr: "good" if lr > 0.5 else peak(lr), LR, points=3, storage=url, study_name=name)
    stored = load_search(url, name)
    assert stored.count("failed") == 1 and stored.count("waiting") == 1 and stored.count("complete") == 2


def test_an_interrupted_search_resumes_without_losing_or_repeating_a_trial(stored):
    (url, name), calls = stored, []

    def objective(lr):
        calls.append(lr)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return peak(lr)

    with pytest.raises(KeyboardInterrupt):
        grid_search(objective, LR, points=5, storage=url, study_name=name)
    search = grid_search(objective, LR, points=5, storage=url, study_name=name)
    grid = [p["lr"] for p in grid_points(parse_space(LR), 5)]
    assert calls == grid[:3] + grid[2:]  # the interrupted point once more, no other twice
    assert sorted(t.params["lr"] for t in search.trials if t.state == "complete") == pytest.approx(grid)
    assert search.count("failed") == 1 and search.pending == 0


def test_on_trial_stops_this_worker_and_the_next_run_finishes(stored):
    url, name = stored
    first = random_search(peak, LR, 6, seed=1, storage=url, study_name=name, on_trial=lambda s: len(s.ended) >= 2)
    assert first.count("complete") == 2 and first.pending == 4
    again = random_search(peak, LR, 6, seed=1, storage=url, study_name=name)
    assert again.study_name == first.study_name and again.count("complete") == 6 and again.pending == 0
    assert [t.params for t in again.trials] == sample_points(parse_space(LR), 6, 1)


def test_a_finished_study_is_loaded_not_run_again(stored):
    (url, name), objective = stored, Counting()
    random_search(objective, LR, 4, seed=0, storage=url, study_name=name)
    again = random_search(objective, LR, 4, seed=0, storage=url, study_name=name)
    assert len(objective.calls) == 4 and again.count("complete") == 4


@pytest.mark.parametrize("change", ["objective", "space", "seed", "method", "trials", "pruner"])
def test_a_study_created_by_another_search_is_refused_and_left_as_it_was(stored, change):
    url, name = stored
    random_search(peak, LR, 3, seed=0, storage=url, study_name=name)
    before = load_search(url, name)
    other = Counting()
    call = {
        "objective": lambda: random_search(other, LR, 3, seed=0, storage=url, study_name=name),
        "space": lambda: random_search(peak, {"lr": (1e-5, 1.0, "log")}, 3, seed=0, storage=url, study_name=name),
        "seed": lambda: random_search(peak, LR, 3, seed=1, storage=url, study_name=name),
        "method": lambda: bayes_search(peak, LR, 3, seed=0, storage=url, study_name=name),
        "trials": lambda: random_search(peak, LR, 4, seed=0, storage=url, study_name=name),
        "pruner": lambda: random_search(peak, LR, 3, seed=0, storage=url, study_name=name,
                                        pruner=optuna.pruners.MedianPruner()),
    }[change]
    with pytest.raises(ValueError, match="was created by another search") as raised:
        call()
    assert "left as it was" in str(raised.value) and not other.calls
    assert load_search(url, name) == before


def test_a_study_not_created_by_lrcourse_is_refused(stored):
    url, name = stored
    study = optuna.create_study(storage=url, study_name=name, direction="maximize")
    study.optimize(lambda trial: trial.suggest_float("lr", 0, 1), n_trials=2)
    with pytest.raises(ValueError, match="not created by lrcourse.search"):
        random_search(peak, LR, 3, storage=url, study_name=name)
    assert len(optuna.load_study(study_name=name, storage=url).trials) == 2


def run_dead_worker_case(stored, worker, beat_age):
    """A study whose second trial was claimed by ``worker`` ``beat_age`` seconds ago and never ended."""
    url, name = stored
    random_search(peak, LR, 3, seed=0, storage=url, study_name=name, on_trial=lambda s: True)
    storage = optuna.storages.RDBStorage(url)
    study_id = storage.get_study_id_from_name(name)
    waiting = [t for t in storage.get_all_trials(study_id) if t.state == optuna.trial.TrialState.WAITING][0]
    trial_id = storage.get_trial_id_from_study_id_trial_number(study_id, waiting.number)
    storage.set_trial_state_values(trial_id, optuna.trial.TrialState.RUNNING)
    storage.set_trial_user_attr(trial_id, study_module.WORKER, {"id": worker, "beat": time.time() - beat_age})
    return random_search(peak, LR, 3, seed=0, storage=url, study_name=name)


def test_a_dead_process_s_trial_on_this_machine_is_queued_again_at_once(stored):
    search = run_dead_worker_case(stored, f"{study_module._HOST}:{2 ** 22 + 7}", beat_age=0)
    assert search.count("complete") == 3 and search.count("failed") == 1 and search.pending == 0


def test_a_silent_worker_elsewhere_is_taken_as_dead_after_the_grace_period(stored):
    search = run_dead_worker_case(stored, "elsewhere:1", beat_age=study_module.GRACE_SECONDS + 5)
    assert search.count("complete") == 3 and search.count("failed") == 1


def test_a_live_worker_elsewhere_keeps_its_trial(stored):
    search = run_dead_worker_case(stored, "elsewhere:1", beat_age=1)
    assert search.count("complete") == 2 and search.count("running") == 1 and search.pending == 1


# --- bad inputs -----------------------------------------------------------------------------------

def _db(folder):
    return f"sqlite:///{folder}/lr.db"


def _blocked(folder):
    (folder / "a-file").write_text("not a folder")
    return f"sqlite:///{folder}/a-file/lr.db"


BAD = [  # (call, error, words)
    (lambda o, d: grid_search(o, {}, 3, storage=_db(d)), ValueError, "at least one parameter"),
    (lambda o, d: random_search(o, {"lr": (1.0, 0.1, "log")}, 3, storage=_db(d)), ValueError, "low < high"),
    (lambda o, d: random_search(o, {"lr": (0.1, 0.1)}, 3, storage=_db(d)), ValueError, "empty or inverted"),
    (lambda o, d: random_search(o, {"lr": (0.0, 1.0, "log")}, 3, storage=_db(d)), ValueError,
     "log range, so low must be > 0"),
    (lambda o, d: random_search(o, {"lr": (-1.0, 1.0, "log")}, 3, storage=_db(d)), ValueError, "low must be > 0"),
    (lambda o, d: random_search(o, {"lr": (1e-3, math.inf)}, 3, storage=_db(d)), ValueError, "finite number"),
    (lambda o, d: random_search(o, {"lr": (1e-3, 1.0, "cubic")}, 3, storage=_db(d)), ValueError, "scale"),
    (lambda o, d: random_search(o, {"lr": 0.1}, 3, storage=_db(d)), TypeError, "(low, high)"),
    (lambda o, d: random_search(o, [("lr", 1e-3, 1.0)], 3, storage=_db(d)), TypeError, "space must be a dict"),
    (lambda o, d: random_search(o, {"lr": (1e-3, 1.0), "momentum": (0.8, 0.99)}, 3, storage=_db(d)), ValueError,
     "does not take: ['momentum']"),
    (lambda o, d: random_search(lambda lr, momentum: 0.0, {"lr": (1e-3, 1.0)}, 3, storage=_db(d)), ValueError,
     "requires ['momentum']"),
    (lambda o, d: random_search("objective", LR, 3, storage=_db(d)), TypeError, "objective must be a function"),
    (lambda o, d: random_search(o, LR, 0, storage=_db(d)), ValueError, "n_trials must be an int >= 1"),
    (lambda o, d: bayes_search(o, LR, -2, storage=_db(d)), ValueError, "n_trials must be an int >= 1"),
    (lambda o, d: random_search(o, LR, 2.5, storage=_db(d)), ValueError, "n_trials must be an int"),
    (lambda o, d: bayes_search(o, LR, 4, n_startup=5, storage=_db(d)), ValueError, "n_startup must be an int"),
    (lambda o, d: grid_search(o, LR, 1, storage=_db(d)), ValueError, "points must be an int >= 2"),
    (lambda o, d: grid_search(o, LR, {"momentum": 3}, storage=_db(d)), ValueError, "unknown ['momentum']"),
    (lambda o, d: random_search(o, LR, 3, seed=-1, storage=_db(d)), ValueError, "seed must be an int >= 0"),
    (lambda o, d: random_search(o, LR, 3, pruner="median", storage=_db(d)), TypeError, "pruner must be an Optuna"),
    (lambda o, d: random_search(o, LR, 3, on_trial=3, storage=_db(d)), TypeError, "on_trial must be callable"),
    (lambda o, d: random_search(o, LR, 3, study_name="", storage=_db(d)), TypeError, "study_name must be"),
    (lambda o, d: random_search(o, LR, 3, storage="sqlite:////no/such/folder/lr.db"), ValueError, "not writable"),
    (lambda o, d: random_search(o, LR, 3, storage=_blocked(d)), ValueError, "not writable"),
    (lambda o, d: random_search(o, LR, 3, storage="lr.db"), ValueError, "database URL"),
    (lambda o, d: random_search(o, LR, 3, storage="sqlite:///:memory:"), ValueError, "in-memory SQLite"),
    (lambda o, d: random_search(o, LR, 3, storage=42), TypeError, "storage must be None, a database URL"),
]


@pytest.mark.parametrize("call, error, words", BAD, ids=[words for _, _, words in BAD])
def test_bad_inputs_are_refused_before_anything_runs_or_is_written(tmp_path, call, error, words):
    objective, database = Counting(), tmp_path / "lr.db"
    with pytest.raises(error) as raised:
        call(objective, tmp_path)
    assert words in str(raised.value)
    assert not objective.calls and not database.exists()


# --- the lesson's objective, the range test, races ------------------------------------------------

@pytest.fixture(scope="module")
def tiny(fmnist):
    return fmnist.train[:600], fmnist.val[:300]


def test_the_training_objective_reports_each_epoch_and_is_pruned_with_its_cost(tiny):
    objective = TrainingObjective(*tiny, epochs=2, batch_size=100, seed=1)
    search = random_search(objective, {"lr": (1e-3, 3.0, "log")}, 6, seed=0,
                           pruner=optuna.pruners.MedianPruner(n_startup_trials=1))
    for trial in search.trials:
        assert 0.0 <= trial.value <= 1.0 and len(trial.values) == (2 if trial.state == "complete" else 1)
        assert trial.examples == 600 * len(trial.values)
    assert objective(lr=search.best.params["lr"]) == search.best.value  # the same seed, the same run


def test_the_training_objective_sets_body_multiplier_and_momentum(tiny):
    objective = TrainingObjective(*tiny, epochs=1, batch_size=100)
    assert objective(0.1, body_multiplier=0.01) != objective(0.1)
    assert objective(0.1, momentum=0.5) != objective(0.1)
    with pytest.raises(ValueError, match="momentum can be searched with the optimizers"):
        TrainingObjective(*tiny, optimizer="adam")(1e-3, momentum=0.9)
    with pytest.raises(ValueError, match="optimizer must be one of"):
        TrainingObjective(*tiny, optimizer="lion")


def test_the_range_test_costs_its_steps_and_one_trial(tiny):
    objective = TrainingObjective(*tiny, epochs=1, batch_size=50)
    search = range_test_search(objective, num_iter=30)
    (trial,) = search.trials
    assert 0 < search.extra_examples <= 30 * 50 and search.extra_examples % 50 == 0  # it may stop at divergence
    assert search.examples == search.extra_examples + 600 and trial.value == objective(trial.params["lr"])
    assert search.best_within(search.extra_examples + 599) is None


def test_the_range_test_trains_at_its_suggestion_or_at_the_named_rule(tiny):
    from lrcourse.device import seeded
    from lrcourse.experiments import OPTIMIZERS
    from lrcourse.range_test import lr_range_test

    objective = TrainingObjective(*tiny, epochs=1, batch_size=50)
    net = seeded(objective.model, objective.seed, objective.train.device)
    test = lr_range_test(net, objective.train, OPTIMIZERS[objective.optimizer](net.parameters(), lr=1e-5),
                         start_lr=1e-5, num_iter=30, batch_size=50, progress=False, seed=objective.seed)
    for rule, expected in ((None, test.suggestion), ("steepest", test.steepest), ("valley", test.valley)):
        search = range_test_search(objective, num_iter=30, **({} if rule is None else {"rule": rule}))
        assert search.trials[0].params["lr"] == pytest.approx(expected, rel=1e-12)


def test_a_race_runs_every_method_on_each_seed_s_objective_and_tables_it():
    made = []

    def make(seed):
        made.append(seed)
        return reporting

    result = race(make, LR, n_trials=6, seeds=(0, 1, 2), methods=("grid", "random", "tpe + median"))
    assert made == [0, 1, 2] and all(len(runs) == 3 for runs in result.searches.values())
    assert Race.from_json(result.to_json()) == result
    rows = {row.method: row for row in race_table(result)}
    assert rows["grid"].examples == (1800.0,) * 3
    assert rows["tpe + median"].examples_mean < 1800
    overall = [max(runs[i].best.value for runs in result.searches.values()) for i in range(3)]
    for row in rows.values():
        runs = result.searches[row.method]
        assert row.best == tuple(run.best.value for run in runs)
        assert row.reach == tuple(run.cost_to_reach(top - 0.01) for run, top in zip(runs, overall))
        assert row.reached == sum(run.best.value >= top - 0.01 for run, top in zip(runs, overall))
    within = race_table(result, budget=600)
    assert all(b == run.best_within(600) for row in within for b, run in zip(row.best, result.searches[row.method]))


class FakeTrial:
    """What a Reporter needs of an Optuna trial."""

    def __init__(self, prune_after=None):
        self.reported, self.attrs, self.prune_after = [], {}, prune_after

    def report(self, value, step):
        self.reported.append((step, value))

    def should_prune(self):
        return self.prune_after is not None and len(self.reported) >= self.prune_after

    def set_user_attr(self, key, value):
        self.attrs[key] = value


def test_a_reporter_numbers_its_reports_and_keeps_the_cost():
    from lrcourse.search import Reporter

    trial = FakeTrial(prune_after=2)
    report = Reporter(trial)
    assert report(0.5, 100) is False and report(0.6, 200) is True and report.pruned
    assert trial.reported == [(1, 0.5), (2, 0.6)] and trial.attrs["cost"]["examples"] == 200


@pytest.mark.parametrize("call, error, words", [
    (lambda r: r(math.nan, 10), ValueError, "report's value must be a finite number"),
    (lambda r: r("0.5", 10), ValueError, "report's value must be a finite number"),
    (lambda r: r(0.5, 5), ValueError, "never decreasing (last 10)"),
    (lambda r: r(0.5, 12.5), ValueError, "examples must be the int count"),
    (lambda r: r.fit_callback(0, 64), ValueError, "examples_per_epoch must be an int >= 1"),
    (lambda r: r.fit_callback(100, 0), ValueError, "batch_size must be an int >= 1"),
    (lambda r: r.fit_callback(100, 10).check(has_val=False), ValueError, "fit needs val"),
])
def test_reporter_bad_inputs(call, error, words):
    from lrcourse.search import Reporter

    report = Reporter(FakeTrial())
    report.spent(10)
    with pytest.raises(error) as raised:
        call(report)
    assert words in str(raised.value)


@pytest.mark.parametrize("change, error, words", [
    ({"train": "images"}, TypeError, "train must be a TensorData"),
    ({"val": None}, TypeError, "val must be a TensorData"),
    ({"epochs": 0}, ValueError, "epochs must be an int >= 1"),
    ({"batch_size": 2.0}, ValueError, "batch_size must be an int"),
    ({"optimizer": "lion"}, ValueError, "optimizer must be one of"),
    ({"seed": -1}, ValueError, "seed must be an int >= 0"),
    ({"model": "mlp"}, TypeError, "model must be a callable"),
])
def test_training_objective_bad_inputs(tiny, change, error, words):
    with pytest.raises(error) as raised:
        TrainingObjective(**{"train": tiny[0], "val": tiny[1], **change})
    assert words in str(raised.value)


@pytest.mark.parametrize("call, error, words", [
    (lambda o: o(0.0), ValueError, "lr must be a finite number > 0"),
    (lambda o: o(0.1, body_multiplier=-1.0), ValueError, "body_multiplier must be a finite number > 0"),
    (lambda o: range_test_search(peak), TypeError, "objective must be a TrainingObjective"),
    (lambda o: range_test_search(o, rule="lowest"), ValueError, "rule must be one of"),
])
def test_training_objective_and_range_test_bad_inputs(tiny, call, error, words):
    with pytest.raises(error) as raised:
        call(TrainingObjective(*tiny))
    assert words in str(raised.value)


@pytest.mark.parametrize("call, error, words", [
    (lambda: race("objective", LR, 4), TypeError, "make_objective must be callable"),
    (lambda: race(lambda s: peak, LR, 0), ValueError, "n_trials must be an int >= 1"),
    (lambda: race(lambda s: peak, LR, 4, seeds=()), ValueError, "seeds must hold at least one seed"),
    (lambda: race(lambda s: peak, LR, 4, seeds=(-1,)), ValueError, "seeds[] must be an int >= 0"),
    (lambda: race(lambda s: peak, LR, 4, methods=("grid", "hyperband")), TypeError, "methods must be a non-empty"),
    (lambda: race(lambda s: peak, {}, 4), ValueError, "at least one parameter"),
    (lambda: run_method("annealing", peak, LR, 4, 0), ValueError, "method must be one of"),
    (lambda: run_method("range test", peak, {"lr": (1e-4, 1.0, "log"), "m": (0.8, 0.9)}, 4, 0), ValueError,
     "the range test finds an LR alone"),
    (lambda: race_table({"grid": []}), TypeError, "result must be a Race"),
    (lambda: race_table(Race(4, [0], {}), tolerance=-0.1), ValueError, "tolerance must be >= 0"),
])
def test_race_bad_inputs(call, error, words):
    with pytest.raises(error) as raised:
        call()
    assert words in str(raised.value)


def test_load_search_bad_inputs(stored):
    url, name = stored
    with pytest.raises(ValueError, match="holds no study named 'missing'"):
        load_search(url, "missing")
    with pytest.raises(TypeError, match="study_name must be a non-empty str"):
        load_search(url, "")
    optuna.create_study(storage=url, study_name=name)
    with pytest.raises(ValueError, match="not created by lrcourse.search"):
        load_search(url, name)
