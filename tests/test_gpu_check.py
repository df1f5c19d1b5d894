"""`python -m lrcourse gpu-check`: without CUDA it says so and runs nothing; its stages all run and are summed up."""

import subprocess
import sys

import pytest
import torch

import lrcourse.__main__ as cli

no_cuda = pytest.mark.skipif(torch.cuda.is_available(), reason="checks the no-GPU path")


@no_cuda
@pytest.mark.parametrize("argv", [["gpu-check"], ["gpu-check", "--probe"]])
def test_without_cuda_it_says_so_and_runs_nothing(argv, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError(f"ran {args} without a GPU")

    monkeypatch.setattr(cli.subprocess, "run", refuse)
    with pytest.raises(SystemExit) as stop:
        cli.main(argv)
    message = str(stop.value.code)
    assert message.startswith("gpu-check: no CUDA device here") and "Nothing was run" in message
    assert f"torch {torch.__version__}" in message


@no_cuda
def test_command_line_exits_nonzero_without_cuda():
    done = subprocess.run([sys.executable, "-m", "lrcourse", "gpu-check"], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 1
    assert "no CUDA device here" in done.stderr and done.stdout == ""


def test_stages_all_run_and_a_failure_is_summarized(capsys):
    stages = [("fails", ["-c", "import sys; sys.exit(3)"]), ("passes", ["-c", "print('ran')"])]
    assert cli._run_stages(stages, env=None) is False
    out = capsys.readouterr().out
    assert "fails" in out and "FAILED (exit 3)" in out
    assert cli._run_stages(stages[1:], env=None) is True
    assert "passes                 passed" in capsys.readouterr().out
