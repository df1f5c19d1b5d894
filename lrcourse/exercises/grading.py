"""What a grader uses: the learner's function called safely, tables of cases, answers read as numbers.

A grader is a function of the learner's answer that returns quietly when it is right and raises
:class:`Incorrect` (or :class:`NotAttempted`, :class:`LearnerError`) with a message naming the
first failing case, without giving the expected answer away.
"""

from __future__ import annotations

import math
import signal
import threading
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Callable, Iterable

from . import sandbox

#: Seconds a call of the learner's function may run (and checking what it returned may take).
TIME_LIMIT_SECONDS = 5.0

CORRECT, INCORRECT, ERROR, NOT_ATTEMPTED = "correct", "incorrect", "error", "not attempted"
MESSAGE_LIMIT = 2000  # characters; messages quote learners' values, whose repr can be huge


class Incorrect(Exception):
    """Raised by a grader: the message says which case failed and how."""


class NotAttempted(Exception):
    """The answer is still the stub (``None``, ``...``, ``NotImplementedError``)."""


class LearnerError(Exception):
    """The learner's code raised or ran past the time limit; the message says which case."""


class _TimeUp(BaseException):
    # A BaseException, so a learner's ``except Exception`` cannot swallow it.
    pass


def is_stub(answer: Any) -> bool:
    """An answer left as the notebook's placeholder."""
    return answer is None or answer is Ellipsis


# The case whose result is being checked, named in the feedback if checking it raises.
_checking: ContextVar[str | None] = ContextVar("lrcourse_checking", default=None)


def call(function: Callable, *args, case: str, time_limit: float | None = None):
    """Call the learner's ``function(*args)``; ``case`` describes the arguments in words.

    Raises :class:`NotAttempted` for an unfilled stub and :class:`LearnerError` when the
    function raises, exits or runs longer than ``time_limit`` seconds (``TIME_LIMIT_SECONDS``
    by default).
    """
    time_limit = TIME_LIMIT_SECONDS if time_limit is None else time_limit
    if not callable(function):
        raise Incorrect(f"expected a function; got {_describe_type(function)}")
    try:
        with sandbox.stage(case, time_limit), _time_limit(time_limit):
            result = function(*args)
    except NotImplementedError as error:
        raise NotAttempted("your function still raises NotImplementedError: fill in its body") from error
    except _TimeUp:
        raise LearnerError(f"{case}, your function was still running after {time_limit:g} s "
                           f"(an endless loop?)") from None
    except SystemExit as error:
        raise LearnerError(f"{case}, your function called sys.exit({error.code!r}); return the result "
                           "instead") from None
    except Exception as error:  # noqa: BLE001 - any exception is the learner's, and becomes feedback
        raise LearnerError(f"{case}, your function raised {_describe_error(error)}") from None
    _checking.set(case)
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


@dataclass(frozen=True)
class Case:
    """One case of a table: ``args`` for the learner's function, ``description`` in words
    (``"for step=3, base_lr=0.1"``) and whatever ``expected`` the case's checker needs."""

    description: str
    args: tuple
    expected: Any = None


class Wrong(Exception):
    """Why a case's result is wrong, raised by the helpers of a :func:`grade_cases` check; the
    message is completed with the case's description."""


def grade_cases(function: Callable, cases: Iterable[Case], check: Callable[[Any, Case], str | None]) -> None:
    """Call ``function(*case.args)`` for each case in turn; ``check(result, case)`` returns None
    when the result is right, else the reason (or raises :class:`Wrong` with it), and the first
    reason becomes ``Incorrect(f"{case.description}, {reason}")``. ``check`` may also raise
    :class:`Incorrect` with a message of its own."""
    for case in cases:
        result = call(function, *case.args, case=case.description)
        try:
            reason = check(result, case)
        except Wrong as wrong:
            reason = str(wrong)
        if reason is not None:
            raise Incorrect(f"{case.description}, {reason}")


def as_number(answer: Any, what: str = "your answer") -> float:
    """``answer`` as a finite float, or :class:`Incorrect` saying why it is not one."""
    if isinstance(answer, bool) or not isinstance(answer, (int, float)) and not _is_scalar_tensor(answer):
        raise Incorrect(f"{what} should be a single number; got {_describe_type(answer)}")
    value = float(answer.item() if _is_scalar_tensor(answer) else answer)
    if not math.isfinite(value):
        raise Incorrect(f"{what} is {value}; expected a finite number")
    return value


def per_seed(value: Any, what: str, minimum: int = 3) -> dict:
    """``value`` checked as ``{seed: result}`` with at least ``minimum`` seeds, each an int >= 0;
    else :class:`Wrong` naming ``what`` (an experiment question's per-seed table)."""
    if not isinstance(value, dict) or len(value) < minimum:
        raise Wrong(f"{what} must map at least {minimum} seeds to their results: one seed cannot tell a difference "
                    "from noise")
    if not all(isinstance(seed, int) and not isinstance(seed, bool) and seed >= 0 for seed in value):
        raise Wrong(f"the seeds of {what} must be ints >= 0")
    return value


def as_int_list(answer: Any, what: str, case: str) -> list[int]:
    """``answer`` as a list of ints, or :class:`Incorrect` saying that ``case`` expected a list of ``what``."""
    try:
        return [int(value) for value in answer]
    except (TypeError, ValueError):
        raise Incorrect(f"{case}, expected a list of {what}; got {_describe_type(answer)}") from None


def _is_scalar_tensor(value: Any) -> bool:
    return hasattr(value, "ndim") and getattr(value, "ndim") == 0 and hasattr(value, "item")


def _describe_error(error: BaseException) -> str:
    try:
        text = str(error)
    except Exception:  # noqa: BLE001 - an exception of the learner's whose __str__ raises
        text = "(a message that cannot be shown)"
    return f"{type(error).__name__}: {text}"


def _describe_type(value: Any) -> str:
    text = repr(value)
    return f"{type(value).__name__} {text if len(text) <= 40 else text[:37] + '...'}"


def grade_answer(grade: Callable[[Any], None], answer: Any, answer_name: str) -> tuple[str, str]:
    """``(outcome, message)`` of ``grade(answer)``, whatever it raises: plain data, which a child process
    can send back. ``answer_name`` names the answer in messages."""
    _checking.set(None)
    try:
        grade(answer)
    except NotAttempted as reason:
        return NOT_ATTEMPTED, str(reason)[:MESSAGE_LIMIT]
    except LearnerError as reason:
        return ERROR, str(reason)[:MESSAGE_LIMIT]
    except Incorrect as reason:
        return INCORRECT, str(reason)[:MESSAGE_LIMIT]
    except (Exception, SystemExit) as error:  # noqa: BLE001 - a returned value that misbehaves when compared
        case = _checking.get()
        where = f"{case}, checking what your function returned" if case else f"checking {answer_name}"
        return ERROR, f"{where} raised {_describe_error(error)}"[:MESSAGE_LIMIT]
    return CORRECT, "well done."
