"""Grading learners' saved notebooks: run each headless, collect the feedback of every check.

:func:`grade_notebook` executes a notebook top to bottom in a fresh kernel (nbclient), in the
notebook's own folder, with its progress file pointed at a temporary file (the instructor's own
is left alone). A cell that raises is recorded and execution goes on, as a learner running
every cell would see; a notebook that runs longer than ``timeout`` seconds in all is stopped
there. Every ``ex.qN.check(...)`` shows its feedback also as data (:data:`.core.FEEDBACK_MIME`);
the last check of each question in the notebook is its result. The questions counted are those
of every lesson the notebook imports (``from lrcourse.exercises import lesson11``) or checks.

The notebook's code runs with the grader's rights: run submissions in an account or container
that holds nothing else (as nbgrader advises).
"""

from __future__ import annotations

import importlib
import json
import os
import re
import subprocess
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .core import FEEDBACK_MIME, questions

#: Seconds one notebook may run in all, by default.
TIMEOUT_SECONDS = 600
_IMPORTED_LESSON = re.compile(r"lrcourse\.exercises\.(lesson\d+)"
                              r"|from\s+lrcourse\.exercises\s+import\s+(\([^)]*\)|[\w \t,]+)")


@dataclass
class CellError:
    """A cell that raised: its index among the notebook's cells, the exception's name and message."""

    cell: int
    name: str
    message: str


@dataclass
class NotebookGrade:
    """What running one notebook gave: per question (``"lesson11.q1"``) the outcome and message of
    its last check, the questions of its lessons, the cells that raised, and whether it ran out of
    time (``timed_out``) or could not run at all (``failure``)."""

    path: str
    results: dict[str, dict[str, str]] = field(default_factory=dict)
    questions: list[str] = field(default_factory=list)
    errors: list[CellError] = field(default_factory=list)
    timed_out: bool = False
    failure: str | None = None
    seconds: float = 0.0

    @property
    def passed(self) -> list[str]:
        return [name for name in self.questions if self.results.get(name, {}).get("outcome") == "correct"]

    def to_dict(self) -> dict:
        return {**asdict(self), "passed": self.passed}


def lesson_questions(lesson: str) -> list[str]:
    """``["lesson11.q1", ...]``: the questions of the lesson module ``lesson``; empty if there is none."""
    try:
        module = importlib.import_module(f"{__package__}.{lesson}")
    except ImportError:
        return []
    return [f"{lesson}.{question.name}" for question in questions(module)]


def _lessons_in(source: str) -> set[str]:
    found = set()
    for dotted, imported in _IMPORTED_LESSON.findall(source):
        if dotted:
            found.add(dotted)
        else:
            found.update(re.findall(r"lesson\d+", imported))
    return found


def grade_notebook(path: str | os.PathLike, timeout: float = TIMEOUT_SECONDS,
                   kernel_name: str | None = None) -> NotebookGrade:
    """Execute the notebook at ``path`` and return its :class:`NotebookGrade` (see the module
    docstring). ``kernel_name``: the Jupyter kernel to run it with (default: the notebook's own,
    else ``python3``)."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    if not (isinstance(timeout, (int, float)) and not isinstance(timeout, bool) and timeout > 0):
        raise ValueError(f"timeout must be a number of seconds > 0; got {timeout!r}")
    path = Path(path)
    grade = NotebookGrade(str(path))
    started = time.monotonic()
    try:
        notebook = nbformat.read(path, as_version=4)
    except (OSError, ValueError, json.JSONDecodeError) as error:
        grade.failure = f"could not read the notebook: {error}"
        return grade
    deadline = started + timeout
    name = kernel_name or notebook.metadata.get("kernelspec", {}).get("name") or "python3"
    client = NotebookClient(notebook, kernel_name=name, allow_errors=True, interrupt_on_timeout=False,
                            timeout_func=lambda cell: max(1, int(deadline - time.monotonic())),
                            resources={"metadata": {"path": str(path.parent.resolve())}})
    with tempfile.TemporaryDirectory(prefix="lrcourse-grade-") as scratch:
        env = {**os.environ, "LRCOURSE_PROGRESS": str(Path(scratch) / "progress.json")}
        try:
            # The kernel's own log (not the notebook's output, which comes through Jupyter) stays out of ours.
            client.execute(env=env, stderr=subprocess.DEVNULL)
        except CellTimeoutError:
            grade.timed_out = True
        except DeadKernelError as error:
            grade.failure = f"the kernel died: {error}"
        except Exception as error:  # noqa: BLE001 - no kernel, a bad kernel name: reported for this notebook
            grade.failure = f"could not run the notebook: {type(error).__name__}: {error}"
    grade.seconds = time.monotonic() - started
    _collect(notebook, grade)
    if grade.timed_out:  # the interrupt that stopped the last cell is the grader's, not the learner's
        grade.errors = [error for error in grade.errors if error.name != "KeyboardInterrupt"]
    return grade


def _collect(notebook, grade: NotebookGrade) -> None:
    lessons = set()
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code":
            continue
        lessons |= _lessons_in(cell.source)
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                grade.errors.append(CellError(index, output.get("ename", ""), output.get("evalue", "")))
            record = output.get("data", {}).get(FEEDBACK_MIME) if "data" in output else None
            if isinstance(record, dict) and record.get("lesson") and record.get("question"):
                lessons.add(record["lesson"])
                grade.results[f"{record['lesson']}.{record['question']}"] = {
                    "outcome": str(record.get("outcome")), "message": str(record.get("message"))}
    grade.questions = [name for lesson in sorted(lessons) for name in lesson_questions(lesson)]


def format_table(grades: list[NotebookGrade]) -> str:
    """One line per notebook: questions passed of those of its lessons, the cells that raised, the time."""
    width = max([len("notebook")] + [len(grade.path) for grade in grades])
    lines = [f"{'notebook':<{width}}  passed  {'time':>7}  problems"]
    for grade in grades:
        problems = [f"cell {e.cell}: {e.name}" + (f": {e.message}" if e.message else "") for e in grade.errors]
        if grade.timed_out:
            problems.append("stopped: ran out of time")
        if grade.failure:
            problems.append(grade.failure)
        passed = f"{len(grade.passed)}/{len(grade.questions)}"
        shown = "; ".join(problem if len(problem) <= 80 else problem[:77] + "..." for problem in problems)
        lines.append(f"{grade.path:<{width}}  {passed:>6}  {grade.seconds:>6.1f}s  {shown or '-'}")
    return "\n".join(lines)


def notebooks_in(paths: list[str]) -> list[Path]:
    """The notebooks named in ``paths``: files as given, folders searched (checkpoints skipped)."""
    found = []
    for given in map(Path, paths):
        if given.is_dir():
            found += sorted(p for p in given.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
        else:
            found.append(given)
    return found
