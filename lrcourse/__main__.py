"""Command line.

``python -m lrcourse data`` makes sure FashionMNIST is on this machine.
``python -m lrcourse gpu-check`` runs the unit tests and every lesson on a CUDA GPU, then the throughput
and range-test benchmarks (from a clone of the course, with the ``test`` and ``bench`` extras installed);
with no CUDA device it says so and exits with status 1 at once.
``python -m lrcourse grade NOTEBOOK_OR_FOLDER...`` runs learners' saved notebooks headless and
prints, per notebook, the questions passed (``--json`` for the details).
"""

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from .data import DataNotFoundError, cache_dir, find_fashion_mnist

#: A clone of the course: the package's parent folder holds these.
REPO = Path(__file__).resolve().parents[1]
#: What gpu-check runs, in order: (name, command run in REPO). The unit tests run first: they are quick.
GPU_STAGES = (
    ("unit tests", ["-m", "pytest", "tests"]),
    ("lessons", ["-m", "pytest", "notebooks"]),
    ("throughput benchmark", ["benchmarks/throughput.py", "--device", "cuda"]),
    ("range-test benchmark", ["benchmarks/range_test.py", "--device", "cuda"]),
)
#: Imports the stages need, and where they come from.
GPU_NEEDS = {"pytest": "test", "nbval": "test", "torch_lr_finder": "bench"}


def _data(args) -> None:
    try:
        folder = find_fashion_mnist(args.root)
    except (DataNotFoundError, ValueError) as error:
        raise SystemExit(str(error)) from None
    # The cache is torchvision's root; a folder of your own (root, LRCOURSE_DATA) holds the files.
    where = folder / "FashionMNIST" / "raw" if folder == cache_dir() else folder
    print(f"FashionMNIST is ready in {where}")


def _no_cuda_reason() -> str | None:
    """Why this machine cannot run the GPU check, or None when it can."""
    import torch

    if torch.cuda.is_available():
        return None
    build = f"a CUDA {torch.version.cuda} build" if torch.version.cuda else "a CPU-only build"
    return (f"gpu-check: no CUDA device here (torch {torch.__version__}, {build}, sees none); "
            "it needs a machine with an NVIDIA GPU. Nothing was run.")


def _gpu_check(args) -> None:
    reason = _no_cuda_reason()
    if reason:
        raise SystemExit(reason)
    from .device import environment_report

    print(environment_report("cuda"), flush=True)
    if args.probe:
        return
    missing = [repo_dir for repo_dir in ("tests", "notebooks", "benchmarks") if not (REPO / repo_dir).is_dir()]
    if missing:
        raise SystemExit(f"gpu-check runs the course's own tests, lessons and benchmarks: {REPO} has no "
                         f"{', '.join(missing)} (run it from a clone of the course)")
    absent = sorted({extra for module, extra in GPU_NEEDS.items() if importlib.util.find_spec(module) is None})
    if absent:
        raise SystemExit(f"gpu-check needs the {' and '.join(absent)} extras: "
                         f"pip install -e '.[{','.join(absent)}]' (`make gpu-check` installs them)")
    if not _run_stages(GPU_STAGES, dict(os.environ, TQDM_DISABLE="1")):
        raise SystemExit(1)


def _run_stages(stages, env) -> bool:
    """Run each ``(name, python arguments)`` in REPO, every one even after a failure, print a summary;
    True when all passed."""
    results = []
    for name, command in stages:
        print(f"\n== {name}: python {' '.join(command)}", flush=True)
        start = time.perf_counter()
        code = subprocess.run([sys.executable, *command], cwd=REPO, env=env).returncode
        results.append((name, code, time.perf_counter() - start))
    print("\n== gpu-check summary")
    for name, code, seconds in results:
        print(f"{name:<22} {'passed' if code == 0 else f'FAILED (exit {code})':<18} {seconds:8.1f} s")
    return not any(code for _, code, _ in results)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m lrcourse", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    data = commands.add_parser("data", help="find FashionMNIST, or download it, check its files and say where")
    data.add_argument("--root", help="a folder holding the four raw files (default: search, then download)")
    data.set_defaults(run=_data)
    gpu = commands.add_parser("gpu-check", help="run the tests, every lesson and the benchmarks on a CUDA GPU")
    gpu.add_argument("--probe", action="store_true", help="only say whether there is a CUDA device (exit 0) or not")
    gpu.set_defaults(run=_gpu_check)
    grade = commands.add_parser("grade", help="run learners' notebooks headless; print the questions each passed")
    grade.add_argument("notebooks", nargs="+", help="notebook files, or folders searched for *.ipynb")
    grade.add_argument("--timeout", type=float, default=600.0, help="seconds one notebook may run in all "
                       "(default: 600)")
    grade.add_argument("--kernel", default=None, help="Jupyter kernel name (default: the notebook's own)")
    grade.add_argument("--json", action="store_true", help="print the results as JSON, with every message")
    grade.set_defaults(run=_grade)
    args = parser.parse_args(argv)
    args.run(args)


def _grade(args) -> None:
    try:
        import nbclient  # noqa: F401 - only checked here, for a clear message
    except ImportError:
        raise SystemExit("grading needs nbclient: pip install 'nbclient>=0.9' (or the test extras: "
                         "pip install -e '.[test]')") from None
    from .exercises.submissions import format_table, grade_notebook, notebooks_in

    if not args.timeout > 0:
        raise SystemExit(f"--timeout must be > 0 seconds; got {args.timeout:g}")
    paths = notebooks_in(args.notebooks)
    if not paths:
        raise SystemExit(f"no notebook found in {' '.join(args.notebooks)}")
    grades = []
    for path in paths:
        grades.append(grade_notebook(path, timeout=args.timeout, kernel_name=args.kernel))
        if not args.json:
            print(f"graded {path}", file=sys.stderr)
    print(json.dumps([grade.to_dict() for grade in grades], indent=1) if args.json else format_table(grades))


if __name__ == "__main__":
    main()
