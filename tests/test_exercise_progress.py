"""The progress file: never lost, never silently overwritten, and shared safely by two notebooks."""

import json
import os
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import pytest

import lrcourse.exercises as exercises
from lrcourse.exercises import lesson01, records

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def progress_file(tmp_path, monkeypatch):
    path = tmp_path / "progress.json"
    monkeypatch.setenv("LRCOURSE_PROGRESS", str(path))
    monkeypatch.setattr(records, "_warned", set())
    return path


def set_aside(path: Path) -> list[Path]:
    return sorted(path.parent.glob(f"{path.name}.unreadable-*"))


@pytest.mark.parametrize("content, problem", [
    ('{"lesson01": {"q1": "2024-05-01T10:00:00+00:00"}, "lesson0', "Unterminated string"),  # cut short
    ("", "Expecting value"),
    ("[1, 2]", "not in the expected format"),
    ('{"lesson01": ["q1"]}', "not in the expected format"),
    ('{"lesson01": {"q1": 3}}', "not in the expected format"),
])
def test_unreadable_file_is_moved_aside_never_overwritten(progress_file, content, problem):
    progress_file.write_text(content)
    with pytest.warns(UserWarning) as caught:
        lesson01.q2.check(0.04)
    (aside,) = set_aside(progress_file)
    assert aside.read_text() == content
    message = " ".join(str(w.message) for w in caught)
    assert f"it was moved to {aside}" in message and problem in message
    assert list(json.loads(progress_file.read_text())) == ["lesson01"]
    progress_file.write_text(content)  # broken again: the first copy set aside stays as it is
    with pytest.warns(UserWarning, match="moved to"):
        lesson01.q2.check(0.04)
    assert len(set_aside(progress_file)) == 2 and aside.read_text() == content


def test_reading_an_unreadable_file_warns_once_and_leaves_it(progress_file):
    progress_file.write_text("{not json")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert exercises.progress().done == 0
        exercises.progress()
    assert len(caught) == 1 and "could not read your exercise progress" in str(caught[0].message)
    assert progress_file.read_text() == "{not json" and set_aside(progress_file) == []


def test_new_answers_are_merged_with_what_is_there(progress_file):
    progress_file.write_text(json.dumps({"lesson01": {"q1": "then"}, "lesson07": {"q2": "then"}}))
    lesson01.q2.check(0.04)
    lesson01.q2.check(0.04)  # answered again: the first time is kept
    recorded = json.loads(progress_file.read_text())
    assert recorded["lesson01"]["q1"] == "then" and recorded["lesson07"] == {"q2": "then"}
    assert set(recorded["lesson01"]) == {"q1", "q2"}
    assert [p.name for p in progress_file.parent.iterdir() if p.suffix == ".tmp"] == []


def test_the_file_reaches_the_disk_before_it_replaces_the_old_one(progress_file, monkeypatch):
    calls = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(os, "fsync", lambda fd: (calls.append("fsync"), real_fsync(fd))[1])
    monkeypatch.setattr(os, "replace", lambda *args: (calls.append("replace"), real_replace(*args))[1])
    records.record_correct("lesson01", "q1")
    assert calls[:2] == ["fsync", "replace"]


def test_unwritable_progress_file_never_breaks_a_check(tmp_path, monkeypatch, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv("LRCOURSE_PROGRESS", str(blocker / "progress.json"))  # its folder is a file
    with pytest.warns(UserWarning, match="could not save your exercise progress"):
        lesson01.q2.check(0.04)
    assert capsys.readouterr().out == "Correct: well done.\n"


def test_two_processes_saving_at_once_lose_nothing(progress_file):
    writer = textwrap.dedent("""
        import sys
        from lrcourse.exercises.records import record_correct
        for i in range(150):
            record_correct(f"writer{sys.argv[1]}", f"q{i}")
    """)
    environment = {**os.environ, "PYTHONPATH": str(REPO), "LRCOURSE_PROGRESS": str(progress_file)}
    writers = [subprocess.Popen([sys.executable, "-c", writer, str(n)], env=environment, stderr=subprocess.PIPE)
               for n in (1, 2)]
    errors = [process.communicate(timeout=300)[1].decode() for process in writers]
    assert [process.returncode for process in writers] == [0, 0], errors
    recorded = json.loads(progress_file.read_text())
    assert {lesson: len(answers) for lesson, answers in recorded.items()} == {"writer1": 150, "writer2": 150}
    assert set_aside(progress_file) == []
