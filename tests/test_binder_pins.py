"""The version policy: Binder's pins, pyproject.toml's lower bounds and environment.yml's agree, and CI
installs exactly the pins (binder/pins.py)."""

import importlib.util
import re
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("binder_pins", REPO / "binder" / "pins.py")
pins = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(pins)


def _normalized(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def _lower_bounds(requirements):
    """``{name: version}`` from ``name>=version`` requirements; anything else is an error."""
    bounds = {}
    for requirement in requirements:
        match = re.fullmatch(r"([A-Za-z0-9_.-]+)\s*>=\s*([0-9][^,;\s]*)", requirement.strip())
        assert match, f"not a plain lower bound: {requirement!r}"
        bounds[_normalized(match.group(1))] = match.group(2)
    return bounds


@pytest.fixture(scope="module")
def binder():
    python, pip_pins = pins.python_and_pip_pins(pins.ENVIRONMENT.read_text())
    return python, {_normalized(name): version for name, version in pip_pins.items()}


def test_pins_are_read_from_binders_environment(binder):
    python, pip_pins = binder
    assert python == "3.11"
    assert {"torch", "torchvision", "numpy", "matplotlib", "ipywidgets", "tqdm"} <= set(pip_pins)
    assert all(re.fullmatch(r"\d+(\.\d+)+", version) for version in pip_pins.values())


def test_pyprojects_lower_bounds_are_the_binder_pins(binder):
    python, pip_pins = binder
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    bounds = _lower_bounds(project["dependencies"])
    # Every dependency is pinned for Binder (so its lower bound is tested), at exactly its lower bound.
    assert bounds == {name: pip_pins[name] for name in bounds if name in pip_pins}
    assert set(bounds) <= set(pip_pins), f"not pinned in binder/environment.yml: {set(bounds) - set(pip_pins)}"
    assert project["requires-python"] == f">={python}"


def test_conda_users_lower_bounds_are_the_binder_pins(binder):
    python, pip_pins = binder
    conda_to_pypi = {**pins.PYPI_NAMES, "pytorch": "torch"}
    text = (REPO / "environment.yml").read_text()
    bounds = {}
    for name, version in re.findall(r"^\s*-\s+([A-Za-z0-9_.-]+)>=(\S+)\s*$", text, flags=re.M):
        bounds[name if name == "python" else _normalized(conda_to_pypi.get(name, name))] = version
    assert bounds.pop("python") == python
    assert bounds.pop("jupyterlab")  # the lab itself is Binder's (repo2docker's), not pinned
    assert bounds == {name: pip_pins[name] for name in bounds}


BAD_ENVIRONMENTS = [
    ("dependencies:\n  - python=3.11\n  - numpy>=2\n", "not a 'name=version' pin: 'numpy>=2'"),
    ("dependencies:\n  - python=3.11\n  - numpy\n", "not a 'name=version' pin: 'numpy'"),
    ("dependencies:\n  - numpy=2.1.3\n", "must pin python"),
    ("dependencies:\n  - python=3.11\n  - scipy=1.14.1\n", r"no PyPI name known for \['scipy'\]"),
]


@pytest.mark.parametrize("text, message", BAD_ENVIRONMENTS)
def test_unreadable_pins_are_named(text, message):
    with pytest.raises(ValueError, match=message):
        pins.python_and_pip_pins(text)


def test_pins_skip_comments_and_keep_build_strings_out():
    text = "# a comment\nname: x\nchannels:\n  - conda-forge\ndependencies:\n  # why\n" \
           "  - python=3.11\n  - torchvision=0.20.1=cpu*\n  - tqdm=4.67.1  # progress bars\n"
    assert pins.python_and_pip_pins(text) == ("3.11", {"torchvision": "0.20.1", "tqdm": "4.67.1"})


def test_check_names_every_package_not_at_its_pin():
    installed_pytest = pytest.__version__
    problems = pins.check_installed("2.7", {"pytest": installed_pytest, "numpy": "0.0.1",
                                            "no-such-package-here": "1.0"})
    assert problems[0].startswith("python 3.") and problems[0].endswith(", pinned 2.7")
    assert problems[1:] == [f"numpy {__import__('numpy').__version__}, pinned 0.0.1",
                            "no-such-package-here None, pinned 1.0"]
