"""Command line.

``python -m lrcourse data`` makes sure FashionMNIST is on this machine.
``python -m lrcourse grade NOTEBOOK_OR_FOLDER...`` runs learners' saved notebooks headless and
prints, per notebook, the questions passed (``--json`` for the details).
"""

import argparse
import json
import sys

from .data import DataNotFoundError, find_fashion_mnist


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m lrcourse", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    data = commands.add_parser("data", help="find FashionMNIST, or download it, and say where it is")
    data.add_argument("--root", help="a folder holding the four raw files (default: search, then download)")
    grade = commands.add_parser("grade", help="run learners' notebooks headless; print the questions each passed")
    grade.add_argument("notebooks", nargs="+", help="notebook files, or folders searched for *.ipynb")
    grade.add_argument("--timeout", type=float, default=600.0, help="seconds one notebook may run in all "
                       "(default: 600)")
    grade.add_argument("--kernel", default=None, help="Jupyter kernel name (default: the notebook's own)")
    grade.add_argument("--json", action="store_true", help="print the results as JSON, with every message")
    args = parser.parse_args(argv)
    if args.command == "grade":
        _grade(args)
        return
    try:
        folder = find_fashion_mnist(args.root)
    except (DataNotFoundError, ValueError) as error:
        raise SystemExit(str(error)) from None
    print(f"FashionMNIST is ready in {folder / 'FashionMNIST' / 'raw'}")


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
