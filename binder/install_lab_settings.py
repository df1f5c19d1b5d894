"""Install the course's JupyterLab defaults (binder/overrides.json) into this interpreter's JupyterLab.

They go into JupyterLab's application settings (``<app dir>/settings/overrides.json``), merged with any
overrides already there, so they change the defaults only: a learner can still turn a setting back on.
The course turns off the "Would you like to get notified about official Jupyter news?" pop-up (which
covers the lesson) and the check for JupyterLab updates (Binder's JupyterLab is pinned by its image).

    python binder/install_lab_settings.py     # `make lab` and binder/postBuild run it
"""

import json
import os
import sys
import tempfile
from pathlib import Path

COURSE_OVERRIDES = Path(__file__).with_name("overrides.json")


def install(settings_dir: Path) -> Path:
    """Merge the course's overrides into ``settings_dir/overrides.json`` (written atomically); its path."""
    target = settings_dir / "overrides.json"
    merged = json.loads(target.read_text()) if target.exists() else {}
    for plugin, values in json.loads(COURSE_OVERRIDES.read_text()).items():
        merged.setdefault(plugin, {}).update(values)
    settings_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=settings_dir, suffix=".tmp", delete=False) as tmp:
        json.dump(merged, tmp, indent=2)
        tmp.flush()
        os.fsync(tmp.fileno())
    os.chmod(tmp.name, 0o644)  # not the temp file's 0600: whoever runs JupyterLab reads it
    os.replace(tmp.name, target)
    return target


if __name__ == "__main__":
    from jupyterlab.commands import get_app_dir  # here: install() is tested where JupyterLab is not installed

    path = install(Path(get_app_dir()) / "settings")
    print(f"JupyterLab defaults for the course: {path}", file=sys.stderr)
