"""Graded exercises: a question checks an answer passed to it and says what is wrong.

A :class:`Question` has ``check(answer)``, ``hint(n)`` and ``solution()``. Its grader is a
function that returns quietly for a correct answer and raises :class:`Incorrect` with a message
naming the first failing case, without giving the expected answer away. Graders call the
learner's functions through :func:`.grading.call` (or a table of cases through
:func:`.grading.grade_cases`), which turns their exceptions, endless loops and empty stubs into
feedback.

The whole grading of an answer (every call of the learner's code and every comparison on what
it returns) runs in a forked child process (:mod:`.sandbox`): a learner's code can loop, swallow
``KeyboardInterrupt``, block in C, call ``sys.exit``/``os._exit``, print without end or fill the
memory, and the check still ends with feedback. The limits: :data:`.grading.TIME_LIMIT_SECONDS` per call
(and for checking what a call returned), :data:`MEMORY_LIMIT_BYTES` of extra memory,
:data:`OUTPUT_LIMIT_CHARS` of printed output shown back. Where ``os.fork`` does not exist
(Windows), or with ``SANDBOX = False``, grading runs in-process: then only pure-Python code in
the main thread of a Unix process is stopped at the time limit (by SIGALRM), nothing else.

Correct answers are recorded by the notebook's process only (:mod:`.records`).
"""

from __future__ import annotations

import dataclasses
import html
import re
import signal
import sys
import warnings
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, Callable

from IPython.display import display

from . import grading, sandbox
from .grading import CORRECT, ERROR, INCORRECT, MESSAGE_LIMIT, NOT_ATTEMPTED, grade_answer, is_stub
from ..checks import check_int
from .records import record_correct

MEMORY_LIMIT_BYTES = 1 << 30
OUTPUT_LIMIT_CHARS = 4000
#: Grade in a child process (where ``os.fork`` exists); False grades in-process.
SANDBOX = sandbox.AVAILABLE

_STYLE = {  # outcome: (heading, colour)
    CORRECT: ("Correct", "#2e7d32"),
    INCORRECT: ("Not yet", "#c62828"),
    ERROR: ("Your code raised an error", "#c62828"),
    NOT_ATTEMPTED: ("Not attempted yet", "#546e7a"),
}


#: The MIME type under which a check's feedback is also shown, as data: what
#: :mod:`lrcourse.exercises.submissions` reads from an executed notebook.
FEEDBACK_MIME = "application/vnd.lrcourse.feedback+json"


@dataclass(frozen=True)
class Feedback:
    """The outcome of a check, the message shown for it and what the learner's code printed
    (capped), and the question it is for (``lesson``, ``question``: ``"lesson01"``, ``"q1"``; not
    compared: the same outcome and message are equal feedback). ``bool(feedback)`` is "correct"."""

    outcome: str
    message: str
    output: str = ""
    lesson: str = field(default="", compare=False)
    question: str = field(default="", compare=False)

    def __bool__(self) -> bool:
        return self.outcome == CORRECT

    def __str__(self) -> str:
        printed = f"\nYour code printed:\n{self.output}" if self.output else ""
        return f"{_STYLE[self.outcome][0]}: {self.message}{printed}"

    def _repr_pretty_(self, printer, cycle) -> None:
        # IPython's text form (a terminal, a text-only view) is the message, as print() shows it, not the repr.
        printer.text(str(self))

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict:
        # Beside the HTML and text: the outcome as data, for graders of executed notebooks.
        return {FEEDBACK_MIME: {"lesson": self.lesson, "question": self.question, "outcome": self.outcome,
                                "message": self.message}}

    def _repr_html_(self) -> str:
        heading, colour = _STYLE[self.outcome]
        printed = f"<br>Your code printed:<pre>{html.escape(self.output)}</pre>" if self.output else ""
        # Escaped: messages quote learners' values, such as "<class 'str'>".
        return (f'<div style="border-left: 4px solid {colour}; padding: 0.3em 0.8em; margin: 0.3em 0">'
                f'<b style="color: {colour}">{heading}</b>: {html.escape(self.message)}{printed}</div>')


@dataclass(frozen=True)
class _Markdown:
    """Markdown in a notebook, the same text as is in a terminal."""

    text: str

    def __repr__(self) -> str:
        return self.text

    def _repr_markdown_(self) -> str:
        return self.text


def _stopped_feedback(result: sandbox.Result, answer_name: str) -> Feedback:
    """The feedback for a child process that did not return an outcome."""
    case = result.stage
    if result.stopped == "time" and result.in_stage:
        message = f"{case}, your function was still running after {result.limit:g} s (an endless loop?)"
    elif result.stopped == "time":
        what = f"{case}, checking what your function returned" if case else f"checking {answer_name}"
        message = (f"{what} took more than {result.limit:g} s: it does not behave like a plain number, list, dict "
                   "or tensor")
    else:
        where = f"{case}, your code" if case else f"while checking {answer_name}, your code"
        if result.stopped == "exit":
            message = f"{where} ended the process that checks it (exit status {result.code}); return the result instead"
        elif result.stopped == "signal":
            try:
                name = signal.Signals(result.code).name
            except ValueError:
                name = str(result.code)
            why = " (out of memory?)" if result.code == signal.SIGKILL else ""
            message = f"{where} was stopped by signal {name}{why}"
        else:
            message = f"{where} raised {result.error}"
    return Feedback(ERROR, message[:MESSAGE_LIMIT], _shown_output(result))


def _shown_output(result: sandbox.Result) -> str:
    return result.output + ("\n... output truncated" if result.output_truncated else "")


class Question:
    """One graded question.

    Its lesson is the module its grader is defined in (``"lesson01"``), its name the module
    attribute that holds it (``q1``, ``q2``, ...): neither is typed by hand.

    Args:
        title: a short name shown in the progress table.
        grade: ``grade(answer)`` returns for a correct answer, else raises
            :class:`Incorrect`, :class:`NotAttempted` or :class:`LearnerError`.
        hints: from gentle to specific.
        solution: code that defines ``answer_name``; shown by :meth:`solution` and run by the tests.
    """

    def __init__(self, title: str, grade: Callable[[Any], None], *, hints: tuple[str, ...], solution: str,
                 answer_name: str):
        if not callable(grade):
            raise TypeError(f"grade must be a function of the answer; got {type(grade).__name__}")
        if not hints:
            raise ValueError("hints must hold at least one hint")
        self.title, self.grade, self.hints = title, grade, hints
        self.solution_code, self.answer_name = solution.strip(), answer_name

    @property
    def lesson(self) -> str:
        """The lesson's key, the last part of the grader's module name, e.g. ``"lesson01"``."""
        return self.grade.__module__.rpartition(".")[2]

    @property
    def name(self) -> str:
        """The module attribute that holds this question, e.g. ``"q1"``."""
        module = sys.modules.get(self.grade.__module__)
        for attribute, value in vars(module or ModuleType("_")).items():
            if value is self and _QUESTION_NAME.fullmatch(attribute):
                return attribute
        raise LookupError(f"no attribute q1, q2, ... of {self.grade.__module__} holds the question {self.title!r}")

    def __repr__(self) -> str:
        return f"<{self.lesson}.{self.name}: {self.title}>"

    def feedback(self, answer: Any) -> Feedback:
        """Grade ``answer`` and return the :class:`Feedback`, without showing or recording it.

        Ctrl-C while the check runs stops it and raises ``KeyboardInterrupt``.
        """
        return dataclasses.replace(self._feedback(answer), lesson=self.lesson, question=self.name)

    def _feedback(self, answer: Any) -> Feedback:
        if is_stub(answer):
            return Feedback(NOT_ATTEMPTED, f"set {self.answer_name} above, then run this cell again")
        if not SANDBOX:
            return Feedback(*grade_answer(self.grade, answer, self.answer_name))
        try:
            result = sandbox.run(lambda: grade_answer(self.grade, answer, self.answer_name),
                                 time_limit=grading.TIME_LIMIT_SECONDS, output_limit=OUTPUT_LIMIT_CHARS,
                                 memory_limit=MEMORY_LIMIT_BYTES)
        except OSError as error:  # no process to spare: grade here rather than not at all
            warnings.warn(f"could not start a process to check your answer in ({error}); checking it in this "
                          "one, where an endless loop can only be stopped by interrupting the kernel", stacklevel=2)
            return Feedback(*grade_answer(self.grade, answer, self.answer_name))
        if not result.finished:
            return _stopped_feedback(result, self.answer_name)
        outcome, message = result.value
        return Feedback(outcome, message, _shown_output(result))

    def check(self, answer: Any) -> None:
        """Show the feedback for ``answer`` and record it if correct (:meth:`feedback` returns it)."""
        result = self.feedback(answer)
        if result:
            record_correct(self.lesson, self.name)
        display(result)

    def hint(self, n: int = 1) -> None:
        """Show hint ``n`` (1 is the gentlest)."""
        check_int("n", n, 1, len(self.hints))
        more = f" (hint {n + 1} goes further: `.hint({n + 1})`)" if n < len(self.hints) else ""
        display(_Markdown(f"**Hint {n} of {len(self.hints)}**{more}: {self.hints[n - 1]}"))

    def solution(self) -> None:
        """Show a solution."""
        display(_Markdown(f"**Solution**:\n```python\n{self.solution_code}\n```"))


_QUESTION_NAME = re.compile(r"q([1-9][0-9]*)")


def questions(lesson: ModuleType) -> tuple[Question, ...]:
    """The questions of a lesson module: its attributes ``q1``, ``q2``, ..., in that order."""
    found = [(int(match[1]), value) for name, value in vars(lesson).items()
             if (match := _QUESTION_NAME.fullmatch(name)) and isinstance(value, Question)]
    return tuple(question for _, question in sorted(found, key=lambda pair: pair[0]))
