import io

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
