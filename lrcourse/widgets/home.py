"""The home-experiment panel: your image folder (or the sample), a model, a budget; Run, Stop, the report.

A thin view over :func:`lrcourse.experiments.home_experiment`: what the panel runs is
:func:`run_home_experiment`, which a notebook can call too, with the same arguments.
"""

from __future__ import annotations

import functools
import os
from typing import Callable

import ipywidgets as widgets
import torch
from matplotlib.figure import Figure

from .. import data as lrdata  # from_image_folder, write_sample_folder: looked up when a run starts
from ..checks import ArgumentTypeError, check_callable, check_choice, check_int
from ..experiments import OPTIMIZERS, Report, home_experiment
from ..models import MLP, SmallCNN
from ..plots import plot_report
from .panel import Panel, RunControl

#: The models the panel offers, each a function of the data's input shape (C, H, W) and its classes.
MODELS: dict[str, Callable[[tuple[int, ...], int], Callable[[], torch.nn.Module]]] = {
    "MLP": lambda shape, classes: functools.partial(MLP, in_features=int(torch.Size(shape).numel()),
                                                    num_classes=classes),
    "SmallCNN": lambda shape, classes: functools.partial(SmallCNN, num_classes=classes),
}
SOURCES = ("sample", "folder")
BATCH_SIZES = (16, 32, 64, 128, 256)


def run_home_experiment(source: str, folder: str, model: str, epochs: int, batch_size: int, seeds: int,
                        optimizer: str = "momentum", max_per_class: int = 0, sample_path: str = "fashion-sample",
                        models: dict[str, Callable[[], torch.nn.Module]] | None = None,
                        on_progress=None) -> Report:
    """What the panel's Run button does. The data: the sample folder (FashionMNIST, 3 classes of
    200 images, written once to ``sample_path``) or the image folder ``folder``
    (:func:`lrcourse.data.from_image_folder`, 28 x 28 grayscale, at most ``max_per_class`` images
    per class; 0 means all). ``model``: ``"MLP"``, ``"SmallCNN"`` (both sized to the data's
    classes), or a name in ``models`` (your functions, each building a fresh model for this
    data). Then :func:`home_experiment` with seeds ``0 .. seeds - 1``."""
    check_choice("source", source, SOURCES)
    choices = {**MODELS, **(models or {})}
    check_choice("model", model, choices)
    check_int("max_per_class", max_per_class, 0)
    check_int("seeds", seeds, 1)
    if source == "folder" and not str(folder).strip():
        raise ValueError("folder must name your image folder (one sub-folder per class) when source='folder'")
    path = lrdata.write_sample_folder(sample_path) if source == "sample" else os.path.expanduser(str(folder).strip())
    data = lrdata.from_image_folder(path, max_per_class=max_per_class or None)
    model_fn = MODELS[model](tuple(data.x.shape[1:]), len(data.classes)) if model in MODELS else choices[model]
    return home_experiment(model_fn, data, epochs, batch_size, seeds=tuple(range(seeds)), optimizer=optimizer,
                           on_progress=on_progress)


def home_panel(folder: str = "", model: str = "MLP", epochs: int = 5, batch_size: int = 32, seeds: int = 2,
               optimizer: str = "momentum", max_per_class: int = 0, sample_path: str = "fashion-sample",
               models: dict[str, Callable[[], torch.nn.Module]] | None = None) -> Panel:
    """The home experiment as a panel. ``folder`` (if given, the data source starts on it, else on
    the sample) and the other arguments set the controls' first values; ``models`` adds your own
    model functions to the model menu. ``panel.result`` is the :class:`Report` once a run ends."""
    models = dict(models or {})
    for name, function in models.items():
        check_callable(f"models[{name!r}]", function)
        if name in MODELS:
            raise ValueError(f"models must not reuse the names {tuple(MODELS)}; got {name!r}")
    if not isinstance(folder, (str, os.PathLike)):
        raise ArgumentTypeError(f"folder must be a path (str); got {type(folder).__name__}")
    check_choice("model", model, (*MODELS, *models))
    check_int("epochs", epochs, 1, 50)
    check_choice("batch_size", batch_size, BATCH_SIZES)
    check_int("seeds", seeds, 1, 5)
    check_choice("optimizer", optimizer, OPTIMIZERS)
    check_int("max_per_class", max_per_class, 0)
    controls = {
        "source": widgets.ToggleButtons(options=SOURCES, value="folder" if str(folder) else "sample",
                                        description="data"),
        "folder": widgets.Text(value=str(folder), placeholder="path/to/images (one sub-folder per class)",
                               description="folder"),
        "model": widgets.Dropdown(options=[*MODELS, *models], value=model, description="model"),
        "optimizer": widgets.Dropdown(options=list(OPTIMIZERS), value=optimizer, description="optimizer"),
        "epochs": widgets.IntSlider(value=epochs, min=1, max=50, description="epochs"),
        "batch_size": widgets.Dropdown(options=BATCH_SIZES, value=batch_size, description="batch"),
        "seeds": widgets.IntSlider(value=seeds, min=1, max=5, description="seeds"),
        "max_per_class": widgets.IntText(value=max_per_class, description="per class",
                                         tooltip="at most this many images per class; 0: all"),
    }

    def compute(source, folder, model, optimizer, epochs, batch_size, seeds, max_per_class, control: RunControl):
        def on_progress(fraction: float, partial: Report) -> bool:
            control.report(fraction, partial if partial.range_tests else None)
            return control.stop_requested

        return run_home_experiment(source, folder, model, epochs, batch_size, seeds, optimizer=optimizer,
                                   max_per_class=max_per_class, sample_path=sample_path, models=models,
                                   on_progress=on_progress)

    return Panel(controls, compute=compute, draw=_draw, live=False, caption=_caption, figsize=(14.0, 3.8))


def _draw(report: Report, figure: Figure) -> None:
    plot_report(report, axes=figure.subplots(1, 3, gridspec_kw={"width_ratios": [1.1, 1.0, 0.9]}))


def _caption(report: Report) -> str:
    return "```\n" + str(report) + "\n```"
