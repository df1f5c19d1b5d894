"""The home-experiment panel, driven as a learner would: every control, Run, Stop, errors shown in the panel."""

import functools

import pytest

import lrcourse
import lrcourse.data
from lrcourse.experiments import OPTIMIZERS, Report
from lrcourse.widgets import home_panel, run_home_experiment
from lrcourse.widgets.home import BATCH_SIZES, MODELS

pytestmark = pytest.mark.skipif(not hasattr(lrcourse.data, "write_sample_folder"),
                                reason="needs lrcourse.data.write_sample_folder and from_image_folder")


@pytest.fixture(scope="module")
def folders(fmnist, tmp_path_factory):
    """The sample folder, and a second copy of it standing for a learner's own folder; image cache in tmp."""
    root = tmp_path_factory.mktemp("home")
    raw = lrcourse.data.find_fashion_mnist() / "FashionMNIST" / "raw"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LRCOURSE_DATA", str(raw))
        patch.setenv("XDG_CACHE_HOME", str(root / "cache"))
        sample = lrcourse.data.write_sample_folder(root / "sample")
        own = lrcourse.data.write_sample_folder(root / "own", classes=4, per_class=15)
        yield sample, own


def run(panel, timeout=300):
    panel.run_button.click()
    panel.wait(timeout)
    assert panel.error is None, panel.error
    return panel.result


def test_the_panel_runs_the_sample_and_shows_the_report(folders):
    sample, _ = folders
    panel = home_panel(epochs=2, seeds=2, max_per_class=40, sample_path=str(sample))
    assert panel.controls["source"].value == "sample" and panel.result is None
    report = run(panel)
    assert isinstance(report, Report) and report.seeds == [0, 1] and report.epochs == 2
    assert report.data["classes"] == ["0-t-shirt-top", "1-trouser", "2-pullover"] and report.data["train"] == 96
    assert report.model == "MLP(in_features=784, num_classes=3)" and report.stop_reason is None
    assert panel.progress.value == pytest.approx(1.0) and len(panel.figure.axes) == 3
    image, caption = panel.output.outputs
    assert image["data"]["image/png"] and "found LR, constant" in caption["data"]["text/markdown"]


def test_every_control_reaches_the_experiment(folders):
    _, own = folders
    mine = functools.partial(lrcourse.MLP, hidden=8, num_classes=4)
    panel = home_panel(folder=str(own), models={"tiny": mine})
    assert panel.controls["source"].value == "folder"
    values = dict(model="tiny", optimizer="adam", epochs=2, batch_size=16, seeds=3, max_per_class=10)
    for name, value in values.items():
        panel.controls[name].value = value
    report = run(panel)
    assert report.model == "MLP(hidden=8, num_classes=4)" and report.optimizer == "adam" and report.epochs == 2
    assert report.batch_size == 16 and report.seeds == [0, 1, 2] and report.data["train"] + report.data["val"] == 40
    assert list(panel.controls["model"].options) == ["MLP", "SmallCNN", "tiny"]


@pytest.mark.parametrize("model", list(MODELS))
def test_each_model_of_the_menu_fits_the_folder(folders, model):
    _, own = folders
    report = run_home_experiment("folder", str(own), model, epochs=2, batch_size=16, seeds=1)
    assert report.model.startswith(model) and "num_classes=4" in report.model and len(report.runs) == 3


@pytest.mark.parametrize("optimizer", list(OPTIMIZERS))
def test_each_optimizer_of_the_menu_runs(folders, optimizer):
    sample, _ = folders
    report = run_home_experiment("sample", "", "MLP", epochs=4, batch_size=BATCH_SIZES[-1], seeds=1,
                                 optimizer=optimizer, max_per_class=10, sample_path=str(sample))
    assert report.optimizer == optimizer and report.batch_size == 256 and all(report.restored)


def test_stop_ends_the_experiment_and_shows_what_it_has(folders):
    sample, _ = folders
    panel = home_panel(epochs=50, seeds=5, batch_size=16, sample_path=str(sample))
    panel.run_button.click()
    panel.stop_button.click()
    panel.wait(300)
    assert panel.error is None and panel.result.stop_reason.startswith("stopped during")
    assert len(panel.result.runs) < 15 and not panel.run_button.disabled and panel.stop_button.disabled


def test_a_missing_folder_is_shown_in_the_panel(folders, tmp_path):
    panel = home_panel(folder=str(tmp_path / "nowhere"))
    panel.run_button.click()
    panel.wait(60)
    assert panel.result is None and "does not exist" in panel.error
    panel.controls["folder"].value = "  "
    panel.run_button.click()
    panel.wait(60)
    assert "folder must name your image folder" in panel.error


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(model="ResNet"), ValueError, "model must be one of"),
    (dict(epochs=0), ValueError, "epochs must be an int in \\[1, 50\\]"),
    (dict(batch_size=48), ValueError, "batch_size must be one of"),
    (dict(seeds=6), ValueError, "seeds must be an int in \\[1, 5\\]"),
    (dict(optimizer="lbfgs"), ValueError, "optimizer must be one of"),
    (dict(max_per_class=-1), ValueError, "max_per_class must be an int >= 0"),
    (dict(folder=3), TypeError, "folder must be a path"),
    (dict(models={"mine": "MLP"}), TypeError, "models\\['mine'\\] must be callable"),
    (dict(models={"MLP": lrcourse.MLP}), ValueError, "models must not reuse the names"),
])
def test_home_panel_bad_inputs(kwargs, error, match):
    with pytest.raises(error, match=match):
        home_panel(**kwargs)


@pytest.mark.parametrize("kwargs, match", [
    (dict(source="web"), "source must be one of"),
    (dict(model="VGG"), "model must be one of"),
    (dict(seeds=0), "seeds must be an int >= 1"),
    (dict(max_per_class=1.5), "max_per_class must be an int >= 0"),
])
def test_run_home_experiment_bad_inputs(kwargs, match):
    args = dict(source="sample", folder="", model="MLP", epochs=1, batch_size=32, seeds=1) | kwargs
    with pytest.raises(ValueError, match=match):
        run_home_experiment(**args)
