"""Graded exercises: a question checks an answer passed to it and says what is wrong.

A :class:`Question` has ``check(answer)``, ``hint(n)`` and ``solution()``. Its grader is
a function that returns quietly for a correct answer and raises :class:`Incorrect` with a
message naming the first failing case, without giving the expected answer away. The
learner's own functions are called through :func:`call`, which turns their exceptions,
endless loops and empty stubs into feedback.

Correct answers are recorded in a small JSON file (``~/.cache/lrcourse/progress.json``, or
``$LRCOURSE_PROGRESS``); a file that cannot be read or written never breaks a check.
"""

from __future__ import annotations

import html
import json
import math
import os
import signal
import threading
import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

from IPython.display import display

from ..data import cache_dir

TIME_LIMIT_SECONDS = 5.0

CORRECT, INCORRECT, ERROR, NOT_ATTEMPTED = "correct", "incorrect", "error", "not attempted"
_STYLE = {  # outcome: (heading, colour)
    CORRECT: ("Correct", "#2e7d32"),
    INCORRECT: ("Not yet", "#c62828"),
    ERROR: ("Your code raised an error", "#c62828"),
    NOT_ATTEMPTED: ("Not attempted yet", "#546e7a"),
}


class Incorrect(Exception):
    """Raised by a grader: the message says which case failed and how."""


class NotAttempted(Exception):
    """The answer is still the stub (``None``, ``...``, ``NotImplementedError``)."""


class LearnerError(Exception):
    """The learner's code raised or ran past the time limit; the message says which case."""


class _TimeUp(BaseException):
    # A BaseException, so a learner's ``except Exception`` cannot swallow it.
    pass


@dataclass(frozen=True)
class Feedback:
    """The outcome of a check and the message shown for it. ``bool(feedback)`` is "correct"."""

    outcome: str
    message: str

    def __bool__(self) -> bool:
        return self.outcome == CORRECT

    def __str__(self) -> str:
        return f"{_STYLE[self.outcome][0]}: {self.message}"

    def _repr_html_(self) -> str:
        heading, colour = _STYLE[self.outcome]
        # Escaped: messages quote learners' values, such as "<class 'str'>".
        return (f'<div style="border-left: 4px solid {colour}; padding: 0.3em 0.8em; margin: 0.3em 0">'
                f'<b style="color: {colour}">{heading}</b>: {html.escape(self.message)}</div>')


@dataclass(frozen=True)
class _Markdown:
    """Markdown in a notebook, the same text as is in a terminal."""

    text: str

    def __repr__(self) -> str:
        return self.text

    def _repr_markdown_(self) -> str:
        return self.text


def is_stub(answer: Any) -> bool:
    """An answer left as the notebook's placeholder."""
    return answer is None or answer is Ellipsis


def call(function: Callable, *args, case: str, time_limit: float | None = None):
    """Call the learner's ``function(*args)``; ``case`` describes the arguments in words.

    Raises :class:`NotAttempted` for an unfilled stub and :class:`LearnerError` when the
    function raises or runs longer than ``time_limit`` seconds (``TIME_LIMIT_SECONDS`` by default).
    """
    time_limit = TIME_LIMIT_SECONDS if time_limit is None else time_limit
    if not callable(function):
        raise Incorrect(f"expected a function; got {_describe_type(function)}")
    try:
        with _time_limit(time_limit):
            result = function(*args)
    except NotImplementedError as error:
        raise NotAttempted("your function still raises NotImplementedError: fill in its body") from error
    except _TimeUp:
        raise LearnerError(f"{case}, your function was still running after {time_limit:g} s "
                           f"(an endless loop?)") from None
    except Exception as error:  # noqa: BLE001 - any exception is the learner's, and becomes feedback
        raise LearnerError(f"{case}, your function raised {type(error).__name__}: {error}") from None
    if is_stub(result):
        raise NotAttempted(f"your function returns {result!r}: fill in its body and return the result")
    return result


@contextmanager
def _time_limit(seconds: float):
    """Interrupt pure-Python code after ``seconds`` (main thread on Unix; elsewhere no limit)."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        yield
        return

    def time_up(signum, frame):
        raise _TimeUp

    previous = signal.signal(signal.SIGALRM, time_up)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def as_number(answer: Any, what: str = "your answer") -> float:
    """``answer`` as a finite float, or :class:`Incorrect` saying why it is not one."""
    if isinstance(answer, bool) or not isinstance(answer, (int, float)) and not _is_scalar_tensor(answer):
        raise Incorrect(f"{what} should be a single number; got {_describe_type(answer)}")
    value = float(answer.item() if _is_scalar_tensor(answer) else answer)
    if not math.isfinite(value):
        raise Incorrect(f"{what} is {value}; expected a finite number")
    return value


def as_int_list(answer: Any, what: str, case: str) -> list[int]:
    """``answer`` as a list of ints, or :class:`Incorrect` saying that ``case`` expected a list of ``what``."""
    try:
        return [int(value) for value in answer]
    except (TypeError, ValueError):
        raise Incorrect(f"{case}, expected a list of {what}; got {_describe_type(answer)}") from None


def _is_scalar_tensor(value: Any) -> bool:
    return hasattr(value, "ndim") and getattr(value, "ndim") == 0 and hasattr(value, "item")


def _describe_type(value: Any) -> str:
    text = repr(value)
    return f"{type(value).__name__} {text if len(text) <= 40 else text[:37] + '...'}"


class Question:
    """One graded question.

    Args:
        lesson: the lesson's key, e.g. ``"lesson01"``; ``name``: e.g. ``"q1"``.
        title: a short name shown in the progress table.
        grade: ``grade(answer)`` returns for a correct answer, else raises
            :class:`Incorrect`, :class:`NotAttempted` or :class:`LearnerError`.
        hints: from gentle to specific.
        solution: code that defines ``answer_name``; shown by :meth:`solution` and run by the tests.
    """

    def __init__(self, lesson: str, name: str, title: str, grade: Callable[[Any], None],
                 hints: tuple[str, ...], solution: str, answer_name: str):
        if not hints:
            raise ValueError("hints must hold at least one hint")
        self.lesson, self.name, self.title = lesson, name, title
        self.grade, self.hints, self.solution_code, self.answer_name = grade, hints, solution.strip(), answer_name

    def __repr__(self) -> str:
        return f"<{self.lesson}.{self.name}: {self.title}>"

    def feedback(self, answer: Any) -> Feedback:
        """Grade ``answer`` and return the :class:`Feedback`, without showing or recording it."""
        if is_stub(answer):
            return Feedback(NOT_ATTEMPTED, f"set {self.answer_name} above, then run this cell again")
        try:
            self.grade(answer)
        except NotAttempted as reason:
            return Feedback(NOT_ATTEMPTED, str(reason))
        except LearnerError as reason:
            return Feedback(ERROR, str(reason))
        except Incorrect as reason:
            return Feedback(INCORRECT, str(reason))
        return Feedback(CORRECT, "well done.")

    def check(self, answer: Any) -> bool:
        """Show the feedback for ``answer``, record it if correct, and return whether it was."""
        result = self.feedback(answer)
        if result:
            record_correct(self.lesson, self.name)
        display(result)
        return bool(result)

    def hint(self, n: int = 1) -> None:
        """Show hint ``n`` (1 is the gentlest)."""
        if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= len(self.hints):
            raise ValueError(f"n must be an int from 1 to {len(self.hints)}; got {n!r}")
        more = f" (hint {n + 1} goes further: `.hint({n + 1})`)" if n < len(self.hints) else ""
        display(_Markdown(f"**Hint {n} of {len(self.hints)}**{more}: {self.hints[n - 1]}"))

    def solution(self) -> None:
        """Show a solution."""
        display(_Markdown(f"**Solution**:\n```python\n{self.solution_code}\n```"))


_warned: set[str] = set()


def _warn_once(message: str) -> None:
    if message not in _warned:
        _warned.add(message)
        warnings.warn(message, stacklevel=3)


def progress_path() -> Path:
    """``$LRCOURSE_PROGRESS`` if set, else ``progress.json`` in the lrcourse cache folder."""
    return Path(os.environ.get("LRCOURSE_PROGRESS") or cache_dir() / "progress.json")


def load_progress() -> dict[str, dict[str, str]]:
    """``{lesson: {question: when it was first answered correctly}}``; empty if unreadable."""
    path = progress_path()
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as error:
        _warn_once(f"could not read your exercise progress from {path} ({error}); starting from empty")
        return {}
    if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
        _warn_once(f"your exercise progress file {path} is not in the expected format; starting from empty")
        return {}
    return data


def record_correct(lesson: str, question: str) -> None:
    """Add a correct answer to the progress file (atomically); warn once if that fails."""
    path = progress_path()
    data = load_progress()
    data.setdefault(lesson, {}).setdefault(question, datetime.now(timezone.utc).isoformat(timespec="seconds"))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + ".partial")
        partial.write_text(json.dumps(data, indent=1, sort_keys=True))
        partial.replace(path)
    except OSError as error:
        _warn_once(f"could not save your exercise progress to {path} ({error}); checks still work")
