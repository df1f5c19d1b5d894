"""The exercise sandbox: whatever a learner's code does, a check ends with feedback, and nothing is left running.

Each case is one thing a learner's code can do to a check run in the notebook's own process: loop while
swallowing the time limit or Ctrl-C, block in C, run from a widget's thread, leave a thread or a process
spinning, exit, return an object that raises or loops when compared, print without end, fill the memory.
"""

import json
import os
import signal
import sys
import threading
import time

import pytest
import torch

from lrcourse.exercises import core, grading, lesson01, sandbox

pytestmark = pytest.mark.skipif(not sandbox.AVAILABLE, reason="no os.fork here: grading runs in-process")

FIRST_CASE = "for w = 1, grad = 0.5, lr = 0.1"


@pytest.fixture(autouse=True)
def progress_file(tmp_path, monkeypatch):
    path = tmp_path / "progress.json"
    monkeypatch.setenv("LRCOURSE_PROGRESS", str(path))
    return path


@pytest.fixture
def short_limit(monkeypatch):
    monkeypatch.setattr(grading, "TIME_LIMIT_SECONDS", 0.3)


def running(pid: int) -> bool:
    """Whether process ``pid`` exists and is not a zombie (Linux's /proc; elsewhere, whether it can be signalled)."""
    try:
        with open(f"/proc/{pid}/stat") as file:
            return file.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except FileNotFoundError:
        return False
    except OSError:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True


def gone_soon(pid: int, seconds: float = 10.0) -> bool:
    """Whether ``pid`` has stopped running, waiting up to ``seconds`` for the kernel to deliver a SIGKILL."""
    deadline = time.monotonic() + seconds
    while running(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def gd_step(w, grad, lr):
    return w - lr * grad


def loop_swallowing_the_time_limit(w, grad, lr):
    while True:
        try:
            while True:
                pass
        except BaseException:  # noqa: BLE001 - what a learner may write
            pass


def test_correct_answer_passes_and_is_recorded_by_the_notebook_process(progress_file, capsys):
    assert lesson01.q1.feedback(gd_step) == core.Feedback(core.CORRECT, "well done.")
    assert lesson01.q1.check(gd_step) is None
    assert capsys.readouterr().out == "Correct: well done.\n"
    assert list(json.loads(progress_file.read_text())) == ["lesson01"]


def test_loop_that_swallows_the_time_limit_is_killed(short_limit):
    feedback = lesson01.q1.feedback(loop_swallowing_the_time_limit)
    assert feedback.outcome == core.ERROR
    assert feedback.message == f"{FIRST_CASE}, your function was still running after 0.3 s (an endless loop?)"


def test_ctrl_c_stops_a_check_that_swallows_it_and_ends_its_process(tmp_path, monkeypatch):
    monkeypatch.setattr(grading, "TIME_LIMIT_SECONDS", 60.0)  # so that only the Ctrl-C can end it
    pid_file = tmp_path / "pid"

    def swallows_keyboard_interrupt(w, grad, lr):
        written = tmp_path / "pid.partial"
        written.write_text(str(os.getpid()))
        os.replace(written, pid_file)  # the presser must never find the file before the PID is in it
        while True:
            try:
                time.sleep(0.01)
            except BaseException:  # noqa: BLE001
                pass

    def press_ctrl_c():
        while not pid_file.exists():
            time.sleep(0.01)
        os.kill(os.getpid(), signal.SIGINT)

    # Ctrl-C raises KeyboardInterrupt here, as in a terminal or a Jupyter kernel, also when pytest was started
    # with SIGINT ignored (a shell's background job, nohup), where Python installs no handler for it.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        presser = threading.Thread(target=press_ctrl_c)
        presser.start()
        with pytest.raises(KeyboardInterrupt):
            lesson01.q1.feedback(swallows_keyboard_interrupt)
        presser.join()
    finally:
        signal.signal(signal.SIGINT, previous)
    assert not running(int(pid_file.read_text()))  # killed and reaped before the KeyboardInterrupt came out


@pytest.mark.parametrize("work", ["sum(range(10**13))", "torch.ones(6000, 6000) @ torch.ones(6000, 6000)"])
def test_long_work_in_c_is_cut_short(work, tmp_path, short_limit):
    finished = tmp_path / "finished"

    def long_work_in_c(w, grad, lr):
        eval(work)  # one call into C: no Python signal handler runs until it returns
        finished.write_text("the work ran to its end")
        return w - lr * grad

    feedback = lesson01.q1.feedback(long_work_in_c)
    assert feedback.outcome == core.ERROR and "still running after 0.3 s" in feedback.message
    assert not finished.exists()


def test_check_from_another_thread_is_stopped_too(short_limit):
    results = {}

    def widget_callback():
        results["loop"] = lesson01.q1.feedback(loop_swallowing_the_time_limit)
        results["right"] = lesson01.q1.feedback(gd_step)

    thread = threading.Thread(target=widget_callback)
    thread.start()
    thread.join(timeout=120)
    assert not thread.is_alive()
    assert results["loop"].outcome == core.ERROR and "still running after 0.3 s" in results["loop"].message
    assert results["right"].outcome == core.CORRECT


def test_threads_and_processes_the_learner_leaves_spinning_are_ended(tmp_path):
    pids = tmp_path / "pids"

    def spin():
        while True:
            pass

    def leaves_a_thread_and_a_process(w, grad, lr):
        threading.Thread(target=spin).start()
        grandchild = os.fork()
        if grandchild == 0:
            while True:
                pass
        with open(pids, "a") as file:
            file.write(f"{os.getpid()} {grandchild}\n")
        return w - lr * grad

    try:
        assert lesson01.q1.feedback(leaves_a_thread_and_a_process).outcome == core.CORRECT
    finally:
        started = [tuple(map(int, line.split())) for line in pids.read_text().splitlines()]
        left = [grandchild for _, grandchild in started if not gone_soon(grandchild)]
        for grandchild in left:
            os.kill(grandchild, signal.SIGKILL)
    assert len(started) == 4  # one thread and one process for each of q1's cases
    (child,) = {child for child, _ in started}
    assert not running(child)  # its threads went with it
    assert left == []


def test_sys_exit_is_feedback():
    def exits(w, grad, lr):
        sys.exit(3)

    feedback = lesson01.q1.feedback(exits)
    assert feedback.outcome == core.ERROR
    assert feedback.message == f"{FIRST_CASE}, your function called sys.exit(3); return the result instead"


def test_os_exit_is_feedback():
    def exits_at_once(w, grad, lr):
        os._exit(7)

    feedback = lesson01.q1.feedback(exits_at_once)
    assert feedback.outcome == core.ERROR
    assert feedback.message == (f"{FIRST_CASE}, your code ended the process that checks it (exit status 7); "
                                "return the result instead")


@pytest.mark.parametrize("signal_name, why", [("SIGSEGV", ""), ("SIGKILL", " (out of memory?)")])
def test_a_crash_or_a_kill_is_feedback(signal_name, why):
    def crashes(w, grad, lr):
        os.kill(os.getpid(), getattr(signal, signal_name))

    feedback = lesson01.q1.feedback(crashes)
    assert feedback.outcome == core.ERROR
    assert feedback.message == f"{FIRST_CASE}, your code was stopped by signal {signal_name}{why}"


class RaisingArray:
    def __array__(self, *args, **kwargs):
        raise RuntimeError("no array here")


class LoopingArray:
    def __array__(self, *args, **kwargs):
        while True:
            pass


class RaisingEquality:
    def __eq__(self, other):
        raise RuntimeError("cannot compare")

    __hash__ = object.__hash__


class LoopingEquality:
    def __eq__(self, other):
        while True:
            pass

    __hash__ = object.__hash__


class ExitingEquality:
    def __eq__(self, other):
        sys.exit(0)

    __hash__ = object.__hash__


def test_returned_object_whose_array_raises():
    feedback = lesson01.q1.feedback(lambda w, grad, lr: RaisingArray())
    assert feedback.outcome == core.ERROR
    assert feedback.message == f"{FIRST_CASE}, checking what your function returned raised RuntimeError: no array here"


def test_returned_object_whose_array_loops(short_limit):
    feedback = lesson01.q1.feedback(lambda w, grad, lr: LoopingArray())
    assert feedback.outcome == core.ERROR
    assert feedback.message.startswith(f"{FIRST_CASE}, checking what your function returned took more than 0.3 s")


@pytest.mark.parametrize("value, words", [
    (RaisingEquality(), "checking labels raised RuntimeError: cannot compare"),
    (LoopingEquality(), "checking labels took more than 0.3 s"),
    (ExitingEquality(), "checking labels raised SystemExit"),
])
def test_answer_whose_equality_raises_loops_or_exits(value, words, short_limit):
    feedback = lesson01.q3.feedback({"A": value, "B": "too high", "C": "too low"})
    assert feedback.outcome == core.ERROR and words in feedback.message, feedback.message


def test_200_mb_of_output_is_capped_and_the_answer_still_counts(progress_file):
    def prints_200_mb(w, grad, lr):
        line = "x" * (1 << 20)
        for _ in range(100):
            print(line)
            print(line, file=sys.stderr)
        os.write(1, line.encode() * 10)  # straight to the file descriptor: discarded
        return w - lr * grad

    lesson01.q1.check(prints_200_mb)
    feedback = lesson01.q1.feedback(prints_200_mb)
    assert feedback.outcome == core.CORRECT
    assert feedback.output == "x" * core.OUTPUT_LIMIT_CHARS + "\n... output truncated"
    assert "Your code printed:" in str(feedback) and "<pre>" in feedback._repr_html_()
    assert "q1" in json.loads(progress_file.read_text())["lesson01"]


def test_output_before_an_endless_loop_is_shown(short_limit):
    def prints_then_loops(w, grad, lr):
        print("started", w)
        while True:
            pass

    feedback = lesson01.q1.feedback(prints_then_loops)
    assert feedback.outcome == core.ERROR and feedback.output == "started 1.0\n"


@pytest.mark.parametrize("hog", ["python", "torch"])
def test_memory_hog_is_stopped(hog, monkeypatch):
    monkeypatch.setattr(core, "MEMORY_LIMIT_BYTES", 256 << 20)

    def fills_the_memory(w, grad, lr):
        if hog == "torch":
            return torch.ones(1 << 30)  # 4 GB
        hoard = []
        while True:
            hoard.append(bytearray(32 << 20))

    feedback = lesson01.q1.feedback(fills_the_memory)
    assert feedback.outcome == core.ERROR
    error = "RuntimeError" if hog == "torch" else "MemoryError"
    assert feedback.message.startswith(f"{FIRST_CASE}, your function raised {error}")


def test_input_refuses_instead_of_waiting_for_the_kernel():
    def asks(w, grad, lr):
        return float(input("lr? "))

    feedback = lesson01.q1.feedback(asks)
    assert feedback.outcome == core.ERROR and "input() is not available" in feedback.message


def test_in_process_fallback_still_stops_loops_and_exits(monkeypatch):
    monkeypatch.setattr(core, "SANDBOX", False)
    monkeypatch.setattr(grading, "TIME_LIMIT_SECONDS", 0.3)
    assert lesson01.q1.feedback(gd_step).outcome == core.CORRECT
    looping = lesson01.q1.feedback(lambda w, grad, lr: [None for _ in iter(int, 1)])
    assert looping.message == f"{FIRST_CASE}, your function was still running after 0.3 s (an endless loop?)"
    assert "called sys.exit(3)" in lesson01.q1.feedback(lambda w, grad, lr: sys.exit(3)).message
