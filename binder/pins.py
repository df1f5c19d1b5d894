"""The pip requirements that reproduce binder/environment.yml's pins, read from that file.

CI (`make test-binder`) installs these from PyPI into `.venv-binder/`, so it tests what Binder ships:
conda-forge's `pytorch-cpu` and PyPI's `torch` are built from the same source release.

    python binder/pins.py            # print the pins as pip requirements (torch==2.5.1 ...)
    python binder/pins.py --check    # exit 1 unless this interpreter has exactly those versions installed
    python binder/pins.py --python   # the pinned Python version (3.11)

Standard library only: it runs before anything is installed.
"""

from __future__ import annotations

import argparse
import re
import sys
from importlib import metadata
from pathlib import Path

ENVIRONMENT = Path(__file__).with_name("environment.yml")
#: conda-forge name -> PyPI name, for every package the Binder environment pins.
PYPI_NAMES = {
    "pytorch-cpu": "torch",
    "torchvision": "torchvision",
    "numpy": "numpy",
    "matplotlib-base": "matplotlib",
    "ipywidgets": "ipywidgets",
    "jupyterlab_widgets": "jupyterlab_widgets",
    "tqdm": "tqdm",
    "pillow": "pillow",
    "filelock": "filelock",
    "optuna": "optuna",
}
# "  - name=version" or "  - name=version=build" (the build, e.g. torchvision's cpu*, has no pip equivalent).
_PIN = re.compile(r"^\s*-\s+([A-Za-z0-9_.-]+)\s*=\s*([0-9][^=\s]*)(?:=\S+)?\s*(?:#.*)?$")


def conda_pins(text: str) -> dict[str, str]:
    """``{conda name: version}`` of every ``name=version`` line under ``dependencies:``."""
    pins, in_dependencies = {}, False
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if not line[0].isspace():
            in_dependencies = line.startswith("dependencies:")
            continue
        if in_dependencies:
            match = _PIN.match(line)
            if not match:
                raise ValueError(f"{ENVIRONMENT.name}: not a 'name=version' pin: {line.strip().lstrip('- ')!r}")
            pins[match.group(1)] = match.group(2)
    return pins


def python_and_pip_pins(text: str) -> tuple[str, dict[str, str]]:
    """The pinned Python ('3.11') and ``{PyPI name: version}`` for everything else."""
    pins = conda_pins(text)
    if "python" not in pins:
        raise ValueError(f"{ENVIRONMENT.name} must pin python")
    python = pins.pop("python")
    unknown = sorted(set(pins) - set(PYPI_NAMES))
    if unknown:
        raise ValueError(f"no PyPI name known for {unknown}: add them to PYPI_NAMES in {Path(__file__).name}")
    return python, {PYPI_NAMES[name]: version for name, version in pins.items()}


def check_installed(python: str, pins: dict[str, str]) -> list[str]:
    """What differs between this interpreter's packages and the pins (empty when they agree)."""
    problems = []
    running = ".".join(map(str, sys.version_info[: python.count(".") + 1]))
    if running != python:
        problems.append(f"python {running}, pinned {python}")
    for name, version in pins.items():
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            installed = None
        # PyPI's torch reports local versions such as 2.5.1+cu124: the release is what is pinned.
        if installed is None or installed.split("+")[0] != version:
            problems.append(f"{name} {installed}, pinned {version}")
    return problems


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="compare this interpreter's packages with the pins")
    parser.add_argument("--python", action="store_true", help="print the pinned Python version (3.11) only")
    args = parser.parse_args(argv)
    python, pins = python_and_pip_pins(ENVIRONMENT.read_text())
    if args.python:
        print(python)
        return 0
    if not args.check:
        print("\n".join(f"{name}=={version}" for name, version in pins.items()))
        return 0
    problems = check_installed(python, pins)
    for problem in problems:
        print(f"not the Binder pins: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
