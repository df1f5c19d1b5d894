"""What every plot shares: a new axes when none is given, and compact PNGs for notebooks."""

from __future__ import annotations

import io

import matplotlib.pyplot as plt
from PIL import Image


def axes_or_new(ax, figsize: tuple[float, float]):
    """``ax`` itself, or the axes of a new figure of ``figsize`` inches when ``ax`` is None."""
    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
    return ax


def figure_png(figure, dpi: float | None = None, colors: int = 64, tight: bool = True) -> bytes:
    """``figure`` as a PNG with a palette of ``colors`` colours: a few times smaller than
    matplotlib's full-colour PNG, which keeps notebooks (and panels' saved state) small.
    ``tight`` crops to the drawn area as the inline backend does (it draws the figure twice; a
    figure with a constrained layout does not need it)."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight" if tight else None)
    image = Image.open(buffer).convert("RGB").quantize(colors=colors, method=Image.Quantize.FASTOCTREE)
    compact = io.BytesIO()
    image.save(compact, format="png", optimize=True)
    return compact.getvalue()
