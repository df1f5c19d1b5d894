"""`python -m lrcourse grade`: learners' saved notebooks run headless; questions passed, broken cells, timeouts."""

import json
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from lrcourse.__main__ import main
from lrcourse.exercises.submissions import (CellError, NotebookGrade, format_table, grade_notebook, lesson_questions,
                                            notebooks_in)

pytest.importorskip("nbclient")


def write(path: Path, *sources: str) -> Path:
    cells = [new_markdown_cell("# a learner's notebook")] + [new_code_cell(source) for source in sources]
    notebook = new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, path)
    return path


@pytest.fixture(scope="module")
def submissions(tmp_path_factory):
    """A folder of submissions: one passes a question, fails another and has a broken cell in between; one never
    checks anything; one is not a notebook at all."""
    root = tmp_path_factory.mktemp("submissions")
    write(root / "alice" / "11_the_whole_recipe.ipynb",
          "from lrcourse.exercises import lesson11 as ex\nimport math\n\n"
          "def total_steps(n, batch_size, epochs, drop_last):\n"
          "    return epochs * (n // batch_size if drop_last else math.ceil(n / batch_size))",
          "ex.q1.check(total_steps)",
          "print(undefined_name)",
          "max_lr_pick = 0.5\nex.q2.check(max_lr_pick)",
          "max_lr_pick = 0.2\nex.q2.check(max_lr_pick)")  # checked twice: the last check counts
    write(root / "bob" / "11_the_whole_recipe.ipynb", "from lrcourse.exercises import lesson11 as ex")
    (root / "carol").mkdir()
    (root / "carol" / "11_the_whole_recipe.ipynb").write_text("{not json")
    write(root / "alice" / ".ipynb_checkpoints" / "11_the_whole_recipe-checkpoint.ipynb", "1 / 0")
    return root


def test_cli_grades_a_folder_of_submissions(submissions, tmp_path, monkeypatch, capsys):
    progress = tmp_path / "progress.json"
    monkeypatch.setenv("LRCOURSE_PROGRESS", str(progress))
    main(["grade", str(submissions), "--json", "--timeout", "120"])
    grades = {Path(grade["path"]).parent.name: grade for grade in json.loads(capsys.readouterr().out)}
    assert set(grades) == {"alice", "bob", "carol"}  # the checkpoint copy is not graded

    # A passing answer, a failing one (checked twice: the last check counts) and a broken cell in between.
    alice = grades["alice"]
    assert alice["questions"] == lesson_questions("lesson11") == ["lesson11.q1", "lesson11.q2", "lesson11.q3"]
    assert alice["passed"] == ["lesson11.q1"]
    assert alice["results"]["lesson11.q2"]["outcome"] == "incorrect"
    assert "past the lowest point" in alice["results"]["lesson11.q2"]["message"]
    assert "lesson11.q3" not in alice["results"]
    assert alice["errors"] == [{"cell": 3, "name": "NameError", "message": "name 'undefined_name' is not defined"}]
    assert not alice["timed_out"] and alice["failure"] is None

    # A notebook that checks nothing, and one that is not a notebook.
    assert grades["bob"]["passed"] == [] and len(grades["bob"]["questions"]) == 3 and not grades["bob"]["errors"]
    assert grades["carol"]["failure"].startswith("could not read the notebook") and grades["carol"]["questions"] == []
    assert not progress.exists()  # the kernels wrote their progress elsewhere


def test_a_notebook_that_runs_too_long_is_stopped_and_what_it_reached_is_kept(tmp_path):
    path = write(tmp_path / "slow.ipynb",
                 "from lrcourse.exercises import lesson11 as ex\n"
                 "ex.q1.check(lambda n, b, e, d: e * -(-n // b) if not d else e * (n // b))",
                 "import time\ntime.sleep(600)",
                 "print('never')")
    grade = grade_notebook(path, timeout=40)
    assert grade.timed_out and grade.seconds < 120
    assert grade.passed == ["lesson11.q1"] and grade.errors == []  # the grader's interrupt is not the learner's


def test_table_lists_passed_questions_and_problems():
    grades = [NotebookGrade("alice.ipynb", {"lesson11.q1": {"outcome": "correct", "message": "well done."}},
                            ["lesson11.q1", "lesson11.q2"], [CellError(3, "NameError", "name 'x' is not defined")],
                            seconds=12.34),
              NotebookGrade("bob.ipynb", {}, ["lesson11.q1"], timed_out=True, seconds=600.0),
              NotebookGrade("carol.ipynb", failure="could not read the notebook: bad JSON")]
    lines = format_table(grades).splitlines()
    assert lines[0].split() == ["notebook", "passed", "time", "problems"]
    assert lines[1].split()[:3] == ["alice.ipynb", "1/2", "12.3s"] and "cell 3: NameError: name 'x'" in lines[1]
    assert "0/1" in lines[2] and "stopped: ran out of time" in lines[2]
    assert "0/0" in lines[3] and "could not read the notebook" in lines[3]


def test_lessons_found_in_imports():
    from lrcourse.exercises.submissions import _lessons_in

    assert _lessons_in("from lrcourse.exercises import lesson03 as ex, lesson11\n"
                       "import lrcourse.exercises.lesson05") == {"lesson03", "lesson05", "lesson11"}
    assert _lessons_in("from lrcourse.exercises import (lesson01,\n    lesson02)\nx = 1") == {"lesson01", "lesson02"}
    assert lesson_questions("lesson99") == []


def test_folders_are_searched_and_files_kept(tmp_path):
    write(tmp_path / "a" / "x.ipynb", "1")
    write(tmp_path / "a" / ".ipynb_checkpoints" / "x-checkpoint.ipynb", "1")
    assert notebooks_in([str(tmp_path / "a"), "given.ipynb"]) == [tmp_path / "a" / "x.ipynb", Path("given.ipynb")]


@pytest.mark.parametrize("argv, match", [
    (["grade", "nowhere/"], "no notebook found"),
    (["grade", "x.ipynb", "--timeout", "0"], "--timeout must be > 0"),
])
def test_cli_bad_inputs(tmp_path, monkeypatch, argv, match):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "nowhere").mkdir()
    with pytest.raises(SystemExit, match=match):
        main(argv)


def test_grade_notebook_bad_timeout(tmp_path):
    with pytest.raises(ValueError, match="timeout must be a number of seconds > 0"):
        grade_notebook(tmp_path / "x.ipynb", timeout=-1)
