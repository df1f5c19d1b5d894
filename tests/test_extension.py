import io
import os
import subprocess
import sys

import matplotlib as mpl
import torch
from IPython.core.formatters import DisplayFormatter
from matplotlib.figure import Figure

from lrcourse.extension import STYLE, load_ipython_extension
from lrcourse.plots import figure_png


class RecordingShell:
    """The two things the extension uses from IPython: line magics and the display formatter."""

    def __init__(self):
        self.magics = []
        self.display_formatter = DisplayFormatter()

    def run_line_magic(self, name, line):
        self.magics.append((name, line))


def test_extension_sets_inline_style_seed_and_compact_png(capsys):
    shell = RecordingShell()
    with mpl.rc_context():
        torch.manual_seed(123)
        load_ipython_extension(shell)
        styled = {key: mpl.rcParams[key] for key in STYLE}
    assert shell.magics == [("matplotlib", "inline")]
    assert styled == {key: list(v) if isinstance(v, tuple) else v for key, v in STYLE.items()}
    first = torch.rand(3)
    torch.manual_seed(0)
    assert torch.equal(torch.rand(3), first)  # seeded with 0
    assert shell.display_formatter.formatters["image/png"].lookup(Figure()) is figure_png
    assert "GPU in use:" in capsys.readouterr().out


def test_compact_png_is_much_smaller_than_matplotlibs():
    torch.manual_seed(0)
    figure = Figure(figsize=(6, 3))
    ax = figure.subplots()
    for _ in range(5):
        ax.plot(torch.randn(300).cumsum(0))
    full = io.BytesIO()
    figure.savefig(full, format="png", bbox_inches="tight")
    assert len(figure_png(figure)) < 0.6 * len(full.getvalue())


def _lesson_kernel_threads():
    """PyTorch's threads in a kernel started as nbval starts the lessons' (--nbval-current-env), after
    ``%load_ext lrcourse``."""
    from nbval.kernel import CURRENT_ENV_KERNEL_NAME, start_new_kernel

    manager, client = start_new_kernel(startup_timeout=120, kernel_name=CURRENT_ENV_KERNEL_NAME)
    printed = []

    def collect(message):
        if message["msg_type"] == "stream" and message["content"]["name"] == "stdout":
            printed.append(message["content"]["text"])

    try:
        reply = client.execute_interactive("%load_ext lrcourse\nimport torch\nprint(torch.get_num_threads())",
                                           output_hook=collect, timeout=120)
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
    assert reply["content"]["status"] == "ok", reply["content"]
    return int("".join(printed).split()[-1])


def test_lessons_run_on_the_threads_the_test_run_sets():
    # `make test-binder` sets OMP_NUM_THREADS=1 to run the lessons on one thread, as %load_ext lrcourse
    # does on Binder's one CPU: the kernels must inherit it (and the extension must not raise it).
    script = "import lrcourse.device as d; print(d.match_threads_to_cpu_quota())"
    expected = int(subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                                  check=True).stdout)
    threads = _lesson_kernel_threads()
    assert threads == expected
    if os.environ.get("OMP_NUM_THREADS"):
        assert threads == int(os.environ["OMP_NUM_THREADS"])
