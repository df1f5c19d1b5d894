"""binder/install_lab_settings.py: the course's JupyterLab defaults, merged into JupyterLab's overrides."""

import importlib.util
import json
import stat
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("install_lab_settings", REPO / "binder" / "install_lab_settings.py")
lab_settings = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(lab_settings)
NOTIFICATION = "@jupyterlab/apputils-extension:notification"


def test_course_defaults_turn_the_news_and_update_checks_off():
    course = json.loads(lab_settings.COURSE_OVERRIDES.read_text())
    assert course[NOTIFICATION] == {"fetchNews": "false", "checkForUpdates": False}


def test_installs_into_an_empty_settings_dir_readable_by_all(tmp_path):
    path = lab_settings.install(tmp_path / "settings")
    assert path == tmp_path / "settings" / "overrides.json"
    assert json.loads(path.read_text()) == json.loads(lab_settings.COURSE_OVERRIDES.read_text())
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert [p.name for p in path.parent.iterdir()] == ["overrides.json"]  # no temp file left


def test_keeps_overrides_already_there(tmp_path):
    existing = {NOTIFICATION: {"fetchNews": "true", "doNotDisturbMode": True},
                "@jupyterlab/apputils-extension:themes": {"theme": "JupyterLab Dark"}}
    (tmp_path / "overrides.json").write_text(json.dumps(existing))
    merged = json.loads(lab_settings.install(tmp_path).read_text())
    assert merged == {NOTIFICATION: {"fetchNews": "false", "doNotDisturbMode": True, "checkForUpdates": False},
                      "@jupyterlab/apputils-extension:themes": {"theme": "JupyterLab Dark"}}
