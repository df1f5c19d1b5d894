"""Real-browser check: JupyterLab in headless Chromium runs a lesson, and its panel renders.

`make test-browser`, or `pytest -m browser tests/browser [--notebook PATH ...]` (the `browser` marker is
deselected by default). Needs Debian's chromium (`apt-get install chromium`) and the `browser` extra.
"""

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import NamedTuple

import pytest

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"
# Playwright cannot download its own browser here, so it drives Debian's.
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"]
RUN_TIMEOUT_MS = 240_000  # lessons may train for a minute or two
SLIDER = ".jupyter-widgets.widget-slider"
PLOT = ".jupyter-widgets.widget-output .jp-OutputArea-output img"
# The user settings of the test's own JupyterLab. The news check is not turned off here: the course's
# defaults (binder/overrides.json, installed by `make lab` and binder/postBuild) must do it.
SETTINGS = {
    # Lay out every cell: with the default (content-visibility) offscreen cells have guessed heights,
    # and scrolling to the panel lands elsewhere.
    "notebook-extension/tracker": {"windowingMode": "none"},
}
TRACEBACK = '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]'
NEWS_QUESTION = "Would you like to get notified about official Jupyter news?"


class Lab(NamedTuple):
    url: str
    token: str
    root: Path


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_until_up(server, status_url, log, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"JupyterLab exited with {server.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(status_url, timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"JupyterLab did not answer within {timeout} s:\n{log.read_text()}")


@pytest.fixture
def lab(tmp_path):
    """JupyterLab on a free localhost port, serving an empty temp dir; stopped with its kernels at the end.

    One per notebook: a shared one would reopen the previous notebooks (and their kernels) in each new page.
    """
    root, settings = tmp_path / "root", tmp_path / "settings"
    root.mkdir()
    for name, values in SETTINGS.items():
        path = settings / f"@jupyterlab/{name}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    # Own settings and workspaces: the user's layout is neither restored nor overwritten.
    env = dict(os.environ, JUPYTERLAB_SETTINGS_DIR=str(settings),
               JUPYTERLAB_WORKSPACES_DIR=str(tmp_path / "workspaces"))
    port, token = _free_port(), secrets.token_hex(16)
    url, log = f"http://127.0.0.1:{port}", tmp_path / "server.log"
    cmd = [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
           f"--ServerApp.token={token}", f"--ServerApp.root_dir={root}"]
    if os.getuid() == 0:
        cmd.append("--allow-root")
    with open(log, "w") as out:
        server = subprocess.Popen(cmd, cwd=root, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        _wait_until_up(server, f"{url}/api/status?token={token}", log)
        yield Lab(url, token, root)
    finally:
        server.terminate()  # SIGTERM: the server shuts its kernels down before exiting
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


@pytest.fixture
def page():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} not found: install Debian's browser with `apt-get install chromium`")
    # Imported here so that `make test`, which deselects this file, does not need the browser extra.
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            yield browser.new_page(viewport={"width": 1280, "height": 1024})
        finally:
            browser.close()


def _menu(page, menu, command):
    page.locator(".lm-MenuBar-item").get_by_text(menu, exact=True).click()
    page.locator(f'.lm-Menu-item[data-command="{command}"]').click()


def _run_all_cells(page):
    # The status bar says Idle only once the kernel is connected; the toolbar indicator can say it earlier.
    page.locator("#jp-main-statusbar", has_text="| Idle").wait_for(timeout=60_000)
    # Stored outputs (numbered prompts, widget views without a model) must not pass for fresh ones.
    _menu(page, "Edit", "editmenu:clear-all")
    _menu(page, "Run", "runmenu:run-all")
    # Run All marks every queued cell [*] in one go, so a numbered prompt and no [*] means it is over
    # (after an error the kernel aborts the rest and their prompts go back to [ ]).
    page.wait_for_function(
        """() => {
            const prompts = [...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')].map(p => p.textContent);
            return prompts.some(p => /\\d/.test(p)) && !prompts.some(p => p.includes('*'));
        }""",
        timeout=RUN_TIMEOUT_MS,
    )


def test_lesson_panel_renders(page, lab, notebook):
    from playwright.sync_api import expect

    source = REPO / notebook
    assert source.is_file(), f"{source} not found"
    # JupyterLab saves what it opens: give it a copy so notebooks/ stays as committed.
    shutil.copy(source, lab.root / source.name)
    page.goto(f"{lab.url}/lab/tree/{source.name}?token={lab.token}")
    sliders, plots = page.locator(SLIDER), page.locator(PLOT)
    panel = page.locator(f".jp-OutputArea-child:has({SLIDER})")
    try:
        _run_all_cells(page)
        # Widget views render after their cell has finished, and say "Loading widget..." until then.
        expect(page.get_by_text("Loading widget..."), "widgets still loading").to_have_count(0, timeout=30_000)
        errors = page.locator(TRACEBACK, has_text="Traceback").all_inner_texts()
        errors += page.get_by_text("Error displaying widget").all_inner_texts()
        assert not errors, "the notebook failed in the browser:\n" + "\n\n".join(errors)
        expect(sliders.first, "no ipywidgets slider rendered").to_be_visible()
        expect(plots.first, "no image in a widget Output").to_be_visible(timeout=30_000)
        assert plots.first.evaluate("img => img.complete && img.naturalWidth > 0"), "the plot image is empty"
        # JupyterLab asks once the app is restored, long before the lesson has run.
        expect(page.get_by_text(NEWS_QUESTION), "the Jupyter news pop-up covers the lesson: install the "
               "course's JupyterLab defaults (python binder/install_lab_settings.py; make lab does)"
               ).to_have_count(0)
    finally:
        if panel.count():
            panel.first.evaluate("el => el.scrollIntoView({block: 'start'})")
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=ARTIFACTS / f"{source.stem}.png", full_page=True)
