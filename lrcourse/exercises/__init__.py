"""Graded exercises, one module per lesson: ``from lrcourse.exercises import lesson01 as ex``.

Each question ``ex.q1, ex.q2, ...`` has ``.check(answer)``, ``.hint(n)`` and ``.solution()``.
:func:`progress` shows which questions you have answered correctly so far.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from dataclasses import dataclass

from .core import Feedback, Question, questions
from .records import load_progress, progress_path


def _lessons() -> tuple[str, ...]:
    """The lesson modules of this package (``lesson01``, ``lesson02``, ...), in course order."""
    return tuple(sorted(info.name for info in pkgutil.iter_modules(__path__) if re.fullmatch(r"lesson\d+", info.name)))


#: Lesson modules in course order, found in the package.
LESSONS = _lessons()


@dataclass(frozen=True)
class Progress:
    """Per lesson: its title, the questions answered correctly, and how many there are."""

    rows: tuple[tuple[str, str, tuple[str, ...], int], ...]

    @property
    def done(self) -> int:
        return sum(len(correct) for _, _, correct, _ in self.rows)

    @property
    def total(self) -> int:
        return sum(count for *_, count in self.rows)

    def __str__(self) -> str:
        lines = [f"{lesson}  {len(correct)}/{count}  {title}" for lesson, title, correct, count in self.rows]
        return "\n".join(lines + [f"total  {self.done}/{self.total}"])

    def _repr_html_(self) -> str:
        cells = "".join(
            f"<tr><td>{lesson}</td><td style='text-align:left'>{title}</td>"
            f"<td>{len(correct)} / {count}</td><td>{', '.join(correct) or '-'}</td></tr>"
            for lesson, title, correct, count in self.rows)
        return ("<table><tr><th>lesson</th><th>title</th><th>correct</th><th>questions</th></tr>"
                f"{cells}<tr><td></td><td><b>total</b></td><td><b>{self.done} / {self.total}</b></td>"
                "<td></td></tr></table>")


def progress() -> Progress:
    """Your exercise progress, read from :func:`~lrcourse.exercises.records.progress_path`."""
    recorded = load_progress()
    rows = []
    for key in LESSONS:
        lesson = importlib.import_module(f"{__name__}.{key}")
        names = [question.name for question in questions(lesson)]
        correct = tuple(name for name in names if name in recorded.get(key, {}))
        rows.append((key, lesson.TITLE, correct, len(names)))
    return Progress(tuple(rows))


__all__ = ["Feedback", "LESSONS", "Progress", "Question", "progress", "progress_path", "questions"]
